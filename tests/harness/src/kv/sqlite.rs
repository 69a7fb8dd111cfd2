//! heartbeat-host's durable store: one SQLite file, with the values it has read or written kept
//! in memory.

use super::flusher::Flusher;
use super::{counter, Backend, Synced};
use anyhow::{Context, Result};
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

/// A SQLite file. Writes go into one open transaction; [`Backend::sync`] commits it and
/// flushes the write-ahead log to disk before returning (a commit survives a crash of this
/// process or the machine). Every request syncs before it answers, and one commit — and one
/// flush — covers every request whose writes it holds: requests that arrive while a flush is
/// under way are covered by the next one (group commit). Requests on the async threads do
/// not flush themselves: they ask one flusher thread and wait without holding a thread
/// ([`Backend::sync_async`]), so a burst costs one commit and one flush, not a thread switch
/// and a commit each. One connection behind a mutex keeps compare-and-swap exact.
///
/// Every value read or written is kept in memory ([`Known`]) and answered from there: this
/// process is the file's only writer, and every write goes through that memory and into the
/// open transaction together, so the memory never disagrees with what the connection sees. A
/// heartbeat's reads, and its compare-and-swaps' reads, then cost no SQLite work, and a
/// whole-fleet read none after the first.
///
/// The flush is ours, not SQLite's: with `synchronous = FULL` the commit holds the connection
/// (and so every other request's reads and writes) for the whole disk flush. With `NORMAL`,
/// a WAL commit writes the log without flushing it; [`SqliteBackend::flush`] then flushes
/// the log file outside the connection's lock, and nothing is acknowledged before
/// the flush that covers it has returned — the same guarantee, while the next requests work.
/// (SQLite still flushes the log itself before each checkpoint copies it into the database.)
pub struct SqliteBackend {
    conn: Mutex<Conn>,
    /// The open transaction's number; each commit starts the next.
    open: AtomicU64,
    /// The open transaction holds writes.
    dirty: AtomicBool,
    /// The latest transactions whose commit failed (and were rolled back).
    rolled_back: Arc<Mutex<Vec<u64>>>,
    /// The write-ahead log (`<file>-wal`), which every commit is written to.
    wal: std::fs::File,
    /// Held while committing and flushing, so one flush at a time covers everything before it.
    flushing: Mutex<()>,
    /// What is on disk, for the requests waiting on it.
    flushed: watch::Sender<Flushed>,
    /// The thread that commits and flushes for requests on the async threads.
    flusher: Flusher,
}

/// Every request's answer once a flush has failed.
const FLUSH_FAILED: &str = "the store could not flush its log to disk; restart heartbeat-host";

#[derive(Default, Clone, Copy)]
struct Flushed {
    /// Every transaction up to this number is settled: on disk, or rolled back.
    through: u64,
    /// A flush failed. After a failed flush the system may have dropped the written pages
    /// and a later flush can succeed without them, so no later write can be vouched for.
    failed: bool,
}

/// The connection and what is known of the file's values, changed together under one lock.
struct Conn {
    sql: Connection,
    known: Known,
}

impl Conn {
    fn read(&mut self, store: &str, key: &str) -> Result<Option<Vec<u8>>> {
        if let Some(value) = self.known.get(store, key) {
            return Ok(value.map(<[u8]>::to_vec));
        }
        // Cached statements: preparing one costs more than running it.
        let value: Option<Vec<u8>> = self
            .sql
            .prepare_cached("SELECT value FROM kv WHERE store = ?1 AND key = ?2")?
            .query_row(params![store, key], |row| row.get(0))
            .optional()?;
        self.known.keep(store, key, value.clone());
        Ok(value)
    }

    /// The values of those of `keys` that exist, in key order.
    fn read_many(&self, store: &str, keys: &[String]) -> Result<Vec<(String, Vec<u8>)>> {
        let keys: Vec<rusqlite::types::Value> = keys
            .iter()
            .map(|k| rusqlite::types::Value::from(k.clone()))
            .collect();
        let mut query = self.sql.prepare_cached(
            "SELECT key, value FROM kv WHERE store = ?1 AND key IN rarray(?2) ORDER BY key",
        )?;
        let rows = query.query_map(params![store, std::rc::Rc::new(keys)], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// Values read from or written to the file (`None`: known to be absent), up to `limit` bytes;
/// past it everything is dropped and read again as needed.
struct Known {
    stores: HashMap<String, HashMap<String, Option<Vec<u8>>>>,
    bytes: usize,
    limit: usize,
}

impl Default for Known {
    fn default() -> Known {
        Known {
            stores: HashMap::new(),
            bytes: 0,
            limit: Known::LIMIT,
        }
    }
}

impl Known {
    /// A whole-fleet read of 10,000 services touches about 30 MB.
    const LIMIT: usize = 64 << 20;
    /// What an entry costs beyond its key and value.
    const OVERHEAD: usize = 64;

    fn get(&self, store: &str, key: &str) -> Option<Option<&[u8]>> {
        self.stores.get(store)?.get(key).map(|v| v.as_deref())
    }

    fn keep(&mut self, store: &str, key: &str, value: Option<Vec<u8>>) {
        let size = Self::OVERHEAD + key.len() + value.as_ref().map_or(0, Vec::len);
        if self.bytes + size > self.limit {
            self.forget();
        }
        let values = match self.stores.get_mut(store) {
            Some(values) => values,
            None => self.stores.entry(store.to_string()).or_default(),
        };
        let replaced = match values.get_mut(key) {
            Some(slot) => {
                Self::OVERHEAD + key.len() + std::mem::replace(slot, value).map_or(0, |v| v.len())
            }
            None => {
                values.insert(key.to_string(), value);
                0
            }
        };
        self.bytes = self.bytes + size - replaced;
    }

    fn forget(&mut self) {
        self.stores.clear();
        self.bytes = 0;
    }
}

impl SqliteBackend {
    pub fn open(path: &Path) -> Result<Arc<SqliteBackend>> {
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
        if let Some(dir) = dir {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create data directory {}", dir.display()))?;
        }
        let conn = Connection::open(path)
            .with_context(|| format!("cannot open store {}", path.display()))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // Commits are written to the log, and flushed by `flush_through`.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        // 32 MiB of page cache (the default is 2): a whole-fleet read of 1,000 services walks
        // a few MB of state and history.
        conn.pragma_update(None, "cache_size", -32768)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // `rarray(?)`: a batch read binds its keys as one array, as Spin's store does.
        rusqlite::vtab::array::load_module(&conn)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS kv (
                store TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,
                PRIMARY KEY (store, key)) WITHOUT ROWID;
             BEGIN;",
        )?;
        // The connection has opened the log, and keeps it (same file) for as long as it lives.
        let mut wal_path = path.as_os_str().to_owned();
        wal_path.push("-wal");
        let wal = std::fs::OpenOptions::new()
            .write(true)
            .open(&wal_path)
            .with_context(|| {
                format!(
                    "cannot open the store's log {}",
                    Path::new(&wal_path).display()
                )
            })?;
        // What this process knows of the file's values is kept in memory: no other process may
        // write the file meanwhile. The lock goes with the process, however it ends.
        if let Err(e) = wal.try_lock() {
            return Err(match e {
                std::fs::TryLockError::WouldBlock => anyhow::anyhow!(
                    "store {} is in use by another heartbeat-host: stop that one, or give this \
                     one a --data directory of its own",
                    path.display()
                ),
                std::fs::TryLockError::Error(e) => {
                    anyhow::Error::new(e).context(format!("cannot lock store {}", path.display()))
                }
            });
        }
        // The log's and the database's names must survive a crash too.
        let dir = dir.unwrap_or(Path::new("."));
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .with_context(|| format!("cannot flush data directory {}", dir.display()))?;
        let backend = Arc::new(SqliteBackend {
            conn: Mutex::new(Conn {
                sql: conn,
                known: Known::default(),
            }),
            open: AtomicU64::new(1),
            dirty: AtomicBool::new(false),
            rolled_back: Arc::default(),
            wal,
            flushing: Mutex::new(()),
            flushed: watch::Sender::new(Flushed::default()),
            flusher: Flusher::default(),
        });
        let weak = Arc::downgrade(&backend);
        backend.flusher.start(move || match weak.upgrade() {
            Some(backend) => {
                // A failure reaches every waiter through `flushed`.
                let _ = backend.flush();
                true
            }
            None => false,
        })?;
        Ok(backend)
    }

    /// Write with the connection held, so the transaction it lands in is the one `dirty` marks.
    fn write(&self, conn: &mut Conn, store: &str, key: &str, value: &[u8]) -> Result<()> {
        conn.sql
            .prepare_cached(
                "INSERT INTO kv (store, key, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT (store, key) DO UPDATE SET value = excluded.value",
            )?
            .execute(params![store, key, value])?;
        self.dirty.store(true, Ordering::SeqCst);
        conn.known.keep(store, key, Some(value.to_vec()));
        Ok(())
    }

    /// Commit the open transaction into the log and begin the next.
    fn commit(&self, conn: &mut Conn) -> Result<()> {
        let committed = conn.sql.execute_batch("COMMIT");
        if committed.is_err() {
            // Nobody was answered on these writes yet: drop them, so every request that made
            // or saw them fails (its client retries) and the next start from a clean slate.
            let _ = conn.sql.execute_batch("ROLLBACK");
            // Some of what memory holds was never committed.
            conn.known.forget();
            let mut failed = self.rolled_back.lock().unwrap();
            failed.push(self.open.load(Ordering::SeqCst));
            let excess = failed.len().saturating_sub(64);
            failed.drain(..excess);
        }
        let begun = conn.sql.execute_batch("BEGIN");
        self.open.fetch_add(1, Ordering::SeqCst);
        self.dirty.store(false, Ordering::SeqCst);
        committed.context("cannot commit to the store")?;
        begun.context("cannot begin a transaction in the store")?;
        Ok(())
    }

    /// Commit the open transaction if it holds writes, and flush the log: every transaction
    /// committed so far is then on disk. A flush that finds nothing new to flush returns at
    /// once, so requests queued behind one flush share the next.
    fn flush(&self) -> Result<()> {
        let _flushing = self.flushing.lock().unwrap();
        let before = *self.flushed.borrow();
        if before.failed {
            anyhow::bail!(FLUSH_FAILED);
        }
        let committed = if self.dirty.load(Ordering::SeqCst) {
            // A failed commit is rolled back and listed; its waiters find it there.
            self.commit(&mut self.conn.lock().unwrap())
        } else {
            Ok(())
        };
        // Every transaction before the open one is written to the log already.
        let through = self.open.load(Ordering::SeqCst) - 1;
        if through > before.through {
            if let Err(e) = self.wal.sync_data() {
                tracing::error!(
                    "store: flushing the log failed ({e}); every request fails until a restart"
                );
                self.flushed.send_replace(Flushed {
                    failed: true,
                    ..before
                });
                return Err(e).context("cannot flush the store's log to disk");
            }
            self.flushed.send_replace(Flushed {
                through,
                failed: false,
            });
        }
        committed
    }

    /// The transaction a caller's reads and writes so far lie in (`mark`), and the last one
    /// that must be on disk before it may answer: `mark` itself if it holds writes or has been
    /// committed since, else the one before it.
    fn marks(&self) -> (u64, u64) {
        let mark = self.open.load(Ordering::SeqCst);
        let needed = if self.dirty.load(Ordering::SeqCst) || self.open.load(Ordering::SeqCst) > mark
        {
            mark
        } else {
            mark - 1
        };
        (mark, needed)
    }

    /// Whether the caller whose transaction was `mark` may answer, once `flushed` is what is
    /// on disk.
    fn settled(rolled_back: &Mutex<Vec<u64>>, flushed: Flushed, mark: u64) -> Result<()> {
        if flushed.failed {
            anyhow::bail!(FLUSH_FAILED);
        }
        if rolled_back.lock().unwrap().contains(&mark) {
            anyhow::bail!("the store could not commit these writes");
        }
        Ok(())
    }
}

impl Backend for SqliteBackend {
    fn get(&self, store: &str, key: &str) -> Result<Option<Vec<u8>>> {
        self.conn.lock().unwrap().read(store, key)
    }

    /// As Spin's default store answers (one `key IN rarray(:keys)` query over its
    /// `(store, key)` index): the keys that exist, in key order, not in the order asked.
    fn get_many(&self, store: &str, keys: Vec<String>) -> Result<Vec<(String, Option<Vec<u8>>)>> {
        let mut conn = self.conn.lock().unwrap();
        let mut found = Vec::with_capacity(keys.len());
        let mut unknown = Vec::new();
        for key in keys {
            match conn.known.get(store, &key) {
                Some(Some(value)) => found.push((key, Some(value.to_vec()))),
                Some(None) => {}
                None => unknown.push(key),
            }
        }
        if !unknown.is_empty() {
            let read = conn.read_many(store, &unknown)?;
            let mut read = read.into_iter().peekable();
            unknown.sort_unstable();
            unknown.dedup();
            for key in unknown {
                let value = read.next_if(|(k, _)| *k == key).map(|(_, v)| v);
                conn.known.keep(store, &key, value.clone());
                if value.is_some() {
                    found.push((key, value));
                }
            }
        }
        // Each key once, as the query answers.
        found.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        found.dedup_by(|a, b| a.0 == b.0);
        Ok(found)
    }

    fn set(&self, store: &str, key: &str, value: &[u8]) -> Result<()> {
        self.write(&mut self.conn.lock().unwrap(), store, key, value)
    }

    fn delete(&self, store: &str, key: &str) -> Result<()> {
        let mut conn = self.conn.lock().unwrap();
        conn.sql.execute(
            "DELETE FROM kv WHERE store = ?1 AND key = ?2",
            params![store, key],
        )?;
        self.dirty.store(true, Ordering::SeqCst);
        conn.known.keep(store, key, None);
        Ok(())
    }

    fn keys(&self, store: &str) -> Result<Vec<String>> {
        let conn = self.conn.lock().unwrap();
        let mut stmt = conn
            .sql
            .prepare("SELECT key FROM kv WHERE store = ?1 ORDER BY key")?;
        let keys = stmt
            .query_map(params![store], |row| row.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(keys)
    }

    fn increment(&self, store: &str, key: &str, delta: i64) -> Result<i64> {
        let mut conn = self.conn.lock().unwrap();
        let next = counter(conn.read(store, key)?.as_deref()) + delta;
        self.write(&mut conn, store, key, &next.to_le_bytes())?;
        Ok(next)
    }

    fn cas(&self, store: &str, key: &str, expected: Option<&[u8]>, value: &[u8]) -> Result<bool> {
        let mut conn = self.conn.lock().unwrap();
        if conn.read(store, key)?.as_deref() != expected {
            return Ok(false);
        }
        self.write(&mut conn, store, key, value)?;
        Ok(true)
    }

    fn sync(&self) -> Result<()> {
        let (mark, needed) = self.marks();
        if self.flushed.borrow().through < needed {
            self.flush()?;
        }
        Self::settled(&self.rolled_back, *self.flushed.borrow(), mark)
    }

    fn sync_async(&self) -> Option<Synced> {
        let (mark, needed) = self.marks();
        let mut flushed = self.flushed.subscribe();
        let rolled_back = self.rolled_back.clone();
        if flushed.borrow().through < needed {
            self.flusher.wake();
        }
        Some(Box::pin(async move {
            let now = *flushed
                .wait_for(|f| f.failed || f.through >= needed)
                .await
                .context("the store has closed")?;
            Self::settled(&rolled_back, now, mark)
        }))
    }
}

impl Drop for SqliteBackend {
    fn drop(&mut self) {
        self.flusher.stop();
        if let Err(e) = self.sync() {
            tracing::error!("store: last writes not committed: {e:#}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kv::tests::exercise;
    use std::path::PathBuf;
    use std::sync::Arc;

    /// An empty directory for one test's store, and the store's path in it.
    fn scratch(test: &str) -> (PathBuf, PathBuf) {
        let dir = std::env::temp_dir().join(format!("hb-kv-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("store.db");
        (dir, path)
    }

    #[test]
    fn sqlite_backend_compares_and_swaps_exactly_and_persists() {
        let (dir, path) = scratch("persist");
        let first = SqliteBackend::open(&path).unwrap();
        exercise(&*first);
        first.sync().unwrap();
        let refused = SqliteBackend::open(&path)
            .err()
            .expect("one user at a time");
        assert!(
            refused
                .to_string()
                .contains("in use by another heartbeat-host"),
            "{refused:#}"
        );
        drop(first);
        let reopened = SqliteBackend::open(&path).unwrap();
        assert_eq!(reopened.increment("s", "n", 0).unwrap(), 3);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn sqlite_backend_syncs_concurrent_writers_and_waits_only_with_work_to_do() {
        let (dir, path) = scratch("group");
        let store = SqliteBackend::open(&path).unwrap();
        let to_wait_for = |s: &SqliteBackend| s.marks().1 > s.flushed.borrow().through;
        assert!(!to_wait_for(&store), "nothing written yet");
        store.set("s", "first", b"1").unwrap();
        assert!(to_wait_for(&store), "a write to commit");
        let tokio = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let dynamic: Arc<dyn Backend> = store.clone();
        tokio.block_on(crate::kv::sync(&dynamic)).unwrap();
        assert!(!to_wait_for(&store), "committed and flushed by the flusher");
        // Writers that each sync before going on, as requests do before they answer: most on
        // the async threads, two on threads of their own.
        let blocking: Vec<_> = (0..2)
            .map(|w| {
                let store = store.clone();
                std::thread::spawn(move || {
                    for i in 0..50 {
                        store.set("s", &format!("b{w}-{i}"), b"x").unwrap();
                        store.sync().unwrap();
                    }
                })
            })
            .collect();
        tokio.block_on(async {
            let writers: Vec<_> = (0..8)
                .map(|w| {
                    let store = dynamic.clone();
                    tokio::spawn(async move {
                        for i in 0..50 {
                            store.set("s", &format!("a{w}-{i}"), b"x").unwrap();
                            crate::kv::sync(&store).await.unwrap();
                        }
                    })
                })
                .collect();
            for w in writers {
                w.await.unwrap();
            }
        });
        for w in blocking {
            w.join().unwrap();
        }
        assert!(!to_wait_for(&store));
        drop((store, dynamic));
        let reopened = SqliteBackend::open(&path).unwrap();
        assert_eq!(reopened.keys("s").unwrap().len(), 1 + 8 * 50 + 2 * 50);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn sqlite_backend_answers_batch_reads_alike_from_memory_and_from_the_file() {
        let (dir, path) = scratch("batch");
        let first = SqliteBackend::open(&path).unwrap();
        for k in ["b", "d", "a"] {
            first.set("s", k, k.as_bytes()).unwrap();
        }
        first.set("other", "c", b"elsewhere").unwrap();
        let asked = || ["d", "c", "a", "b", "e", "a"].map(String::from).to_vec();
        let expected: Vec<(String, Option<Vec<u8>>)> = ["a", "b", "d"]
            .map(|k| (k.to_string(), Some(k.as_bytes().to_vec())))
            .to_vec();
        // Everything known from the writes.
        assert_eq!(first.get_many("s", asked()).unwrap(), expected);
        first.sync().unwrap();
        drop(first);
        // Nothing known: all from the file; then partly known (one present, one absent key).
        let reopened = SqliteBackend::open(&path).unwrap();
        assert_eq!(reopened.get("s", "d").unwrap().as_deref(), Some(&b"d"[..]));
        assert_eq!(reopened.get("s", "e").unwrap(), None);
        assert_eq!(reopened.get_many("s", asked()).unwrap(), expected);
        assert_eq!(reopened.get_many("s", asked()).unwrap(), expected);
        // A value deleted while known is absent in both.
        reopened.delete("s", "b").unwrap();
        assert_eq!(reopened.get_many("s", asked()).unwrap().len(), 2);
        assert_eq!(reopened.keys("s").unwrap(), ["a", "d"]);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn known_values_are_counted_and_dropped_past_the_limit() {
        let mut known = Known {
            limit: 1_000,
            ..Known::default()
        };
        known.keep("s", "a", Some(vec![0; 100]));
        known.keep("s", "b", None);
        assert_eq!(known.bytes, 2 * Known::OVERHEAD + 2 + 100);
        // Replacing an entry counts only the new value.
        known.keep("s", "a", Some(vec![0; 10]));
        known.keep("s", "b", Some(vec![0; 5]));
        assert_eq!(known.bytes, 2 * Known::OVERHEAD + 2 + 15);
        assert_eq!(known.get("s", "a"), Some(Some(&[0u8; 10][..])));
        // Past the limit everything goes, and the new value stays.
        known.keep("s", "c", Some(vec![1; 900]));
        assert_eq!(known.get("s", "a"), None);
        assert_eq!(known.get("s", "c"), Some(Some(&[1u8; 900][..])));
        assert_eq!(known.bytes, Known::OVERHEAD + 1 + 900);
    }
}
