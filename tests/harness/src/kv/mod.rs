//! Key-value backends behind `wasi:keyvalue`: SQLite on disk (the default; writes are committed
//! in groups, before anything depending on them leaves the host — see [`Backend::sync`]),
//! Redis/Valkey (several instances sharing one state; [`RedisBackend`]) and memory (tests).
//!
//! Two modes reproduce real hosts' stores, so the tests prove the components survive them:
//! [`AbsentCas::Upsert`] is Spin's default store, where compare-and-swap against a key that
//! does not exist yet writes unconditionally; [`SpinRedis`] is Spin 4.0.2's Redis store, whose
//! batch read and swap are broken (it sends the same commands to the real server).

mod redis;

pub use redis::{without_credentials, RedisBackend, SpinRedis};

use anyhow::{Context, Result};
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

pub use heartbeat_core::store::AbsentCas;

/// One key-value backend, shared by every component instance.
pub trait Backend: Send + Sync {
    fn get(&self, store: &str, key: &str) -> Result<Option<Vec<u8>>>;
    fn set(&self, store: &str, key: &str, value: &[u8]) -> Result<()>;
    fn delete(&self, store: &str, key: &str) -> Result<()>;
    fn keys(&self, store: &str) -> Result<Vec<String>>;
    /// Add `delta` to the 8-byte little-endian value (absent = 0) and return the sum.
    fn increment(&self, store: &str, key: &str, delta: i64) -> Result<i64>;
    /// Write `value` if the key holds `expected` (`None`: absent). Returns whether it wrote.
    fn cas(&self, store: &str, key: &str, expected: Option<&[u8]>, value: &[u8]) -> Result<bool>;
    /// Values of `keys` (`wasi:keyvalue/batch.get-many`), as pairs.
    fn get_many(&self, store: &str, keys: Vec<String>) -> Result<Vec<(String, Option<Vec<u8>>)>> {
        get_each(self, store, keys)
    }
    /// A compare-and-swap handle of the backend's own making, for a backend that reproduces a
    /// host's handles; `None`: the host's generic handle (the value read when it is made,
    /// swapped with [`Backend::cas`]).
    fn watch(&self, _store: &str, _key: &str) -> Result<Option<Box<dyn Watch>>> {
        Ok(None)
    }
    /// Make every write so far durable. The host calls it before anything that depends on the
    /// writes leaves it — an HTTP response, a vendor call — so whatever was acknowledged or
    /// told survives a crash. Backends that make each write durable on its own do nothing.
    fn sync(&self) -> Result<()> {
        Ok(())
    }
    /// [`Backend::sync`] would wait for the disk now (it has a commit or a flush to make), so
    /// the host calls it off its async threads.
    fn sync_would_wait(&self) -> bool {
        false
    }
}

/// [`Backend::sync`], off the async threads when it would wait for the disk: they keep running
/// other requests meanwhile.
pub async fn sync(backend: &Arc<dyn Backend>) -> Result<()> {
    if !backend.sync_would_wait() {
        return backend.sync();
    }
    let backend = backend.clone();
    tokio::task::spawn_blocking(move || backend.sync()).await?
}

/// A compare-and-swap handle that keeps state of its own (a Redis connection with a `WATCH`).
pub trait Watch: Send {
    /// The key's value now (`wasi:keyvalue/atomics.cas.current`).
    fn current(&mut self) -> Result<Option<Vec<u8>>>;
    /// Write `value`; the answer says whether the swap succeeded — as the host says it.
    fn swap(&mut self, value: &[u8]) -> Result<bool>;
}

/// A batch read as one `get` per key.
fn get_each<B: Backend + ?Sized>(
    backend: &B,
    store: &str,
    keys: Vec<String>,
) -> Result<Vec<(String, Option<Vec<u8>>)>> {
    keys.into_iter()
        .map(|k| backend.get(store, &k).map(|v| (k, v)))
        .collect()
}

fn counter(bytes: Option<&[u8]>) -> i64 {
    bytes
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(i64::from_le_bytes)
        .unwrap_or(0)
}

/// Everything in memory, lost at exit. Keyed by store, then key, so a read borrows the names it
/// is given (a whole-fleet read looks up thousands).
#[derive(Default)]
pub struct MemoryBackend {
    data: Mutex<HashMap<String, HashMap<String, Vec<u8>>>>,
}

impl MemoryBackend {
    fn with_store<T>(&self, store: &str, f: impl FnOnce(&mut HashMap<String, Vec<u8>>) -> T) -> T {
        let mut data = self.data.lock().unwrap();
        if !data.contains_key(store) {
            data.insert(store.to_string(), HashMap::new());
        }
        f(data.get_mut(store).expect("just inserted"))
    }
}

impl Backend for MemoryBackend {
    fn get(&self, store: &str, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.with_store(store, |s| s.get(key).cloned()))
    }

    fn get_many(&self, store: &str, keys: Vec<String>) -> Result<Vec<(String, Option<Vec<u8>>)>> {
        Ok(self.with_store(store, |s| {
            keys.into_iter()
                .map(|k| {
                    let value = s.get(&k).cloned();
                    (k, value)
                })
                .collect()
        }))
    }

    fn set(&self, store: &str, key: &str, value: &[u8]) -> Result<()> {
        self.with_store(store, |s| s.insert(key.to_string(), value.to_vec()));
        Ok(())
    }

    fn delete(&self, store: &str, key: &str) -> Result<()> {
        self.with_store(store, |s| s.remove(key));
        Ok(())
    }

    fn keys(&self, store: &str) -> Result<Vec<String>> {
        Ok(self.with_store(store, |s| s.keys().cloned().collect()))
    }

    fn increment(&self, store: &str, key: &str, delta: i64) -> Result<i64> {
        Ok(self.with_store(store, |s| {
            let slot = s.entry(key.to_string()).or_default();
            let next = counter(Some(slot)) + delta;
            *slot = next.to_le_bytes().to_vec();
            next
        }))
    }

    fn cas(&self, store: &str, key: &str, expected: Option<&[u8]>, value: &[u8]) -> Result<bool> {
        Ok(self.with_store(store, |s| {
            let matches = s.get(key).map(Vec::as_slice) == expected;
            if matches {
                s.insert(key.to_string(), value.to_vec());
            }
            matches
        }))
    }
}

/// A SQLite file. Writes go into one open transaction; [`Backend::sync`] commits it and
/// flushes the write-ahead log to disk before returning (a commit survives a crash of this
/// process or the machine). Every request syncs before it answers, and one commit — and one
/// flush — covers every request whose writes it holds: requests that arrive while a flush is
/// under way are covered by the next one (group commit). One connection behind a mutex keeps
/// compare-and-swap exact.
///
/// The flush is ours, not SQLite's: with `synchronous = FULL` the commit holds the connection
/// (and so every other request's reads and writes) for the whole disk flush. With `NORMAL`,
/// a WAL commit writes the log without flushing it; [`SqliteBackend::flush_through`] then
/// flushes the log file outside the connection's lock, and nothing is acknowledged before
/// the flush that covers it has returned — the same guarantee, while the next requests work.
/// (SQLite still flushes the log itself before each checkpoint copies it into the database.)
pub struct SqliteBackend {
    conn: Mutex<Connection>,
    /// The open transaction's number; each commit starts the next.
    open: AtomicU64,
    /// The open transaction holds writes.
    dirty: AtomicBool,
    /// The latest transactions whose commit failed (and were rolled back).
    rolled_back: Mutex<Vec<u64>>,
    /// The write-ahead log (`<file>-wal`), which every commit is written to.
    wal: std::fs::File,
    /// What is on disk; held while flushing, so requests that wait find their commit covered.
    flushed: Mutex<Flushed>,
}

#[derive(Default)]
struct Flushed {
    /// Every transaction up to this number is on disk.
    through: u64,
    /// A flush failed. After a failed flush the system may have dropped the written pages
    /// and a later flush can succeed without them, so no later write can be vouched for.
    failed: bool,
}

impl SqliteBackend {
    pub fn open(path: &Path) -> Result<SqliteBackend> {
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
        // The log's and the database's names must survive a crash too.
        let dir = dir.unwrap_or(Path::new("."));
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .with_context(|| format!("cannot flush data directory {}", dir.display()))?;
        Ok(SqliteBackend {
            conn: Mutex::new(conn),
            open: AtomicU64::new(1),
            dirty: AtomicBool::new(false),
            rolled_back: Mutex::default(),
            wal,
            flushed: Mutex::default(),
        })
    }

    fn read(conn: &Connection, store: &str, key: &str) -> Result<Option<Vec<u8>>> {
        // Cached statements: preparing one costs more than running it.
        Ok(conn
            .prepare_cached("SELECT value FROM kv WHERE store = ?1 AND key = ?2")?
            .query_row(params![store, key], |row| row.get(0))
            .optional()?)
    }

    /// Write with the connection held, so the transaction it lands in is the one `dirty` marks.
    fn write(&self, conn: &Connection, store: &str, key: &str, value: &[u8]) -> Result<()> {
        conn.prepare_cached(
            "INSERT INTO kv (store, key, value) VALUES (?1, ?2, ?3)
             ON CONFLICT (store, key) DO UPDATE SET value = excluded.value",
        )?
        .execute(params![store, key, value])?;
        self.dirty.store(true, Ordering::SeqCst);
        Ok(())
    }

    /// Commit the open transaction into the log and begin the next.
    fn commit(&self, conn: &Connection) -> Result<()> {
        let committed = conn.execute_batch("COMMIT");
        if committed.is_err() {
            // Nobody was answered on these writes yet: drop them, so every request that made
            // or saw them fails (its client retries) and the next start from a clean slate.
            let _ = conn.execute_batch("ROLLBACK");
            let mut failed = self.rolled_back.lock().unwrap();
            failed.push(self.open.load(Ordering::SeqCst));
            let excess = failed.len().saturating_sub(64);
            failed.drain(..excess);
        }
        let begun = conn.execute_batch("BEGIN");
        self.open.fetch_add(1, Ordering::SeqCst);
        self.dirty.store(false, Ordering::SeqCst);
        committed.context("cannot commit to the store")?;
        begun.context("cannot begin a transaction in the store")?;
        Ok(())
    }

    /// Return once every transaction up to `needed` is on disk: flush the log, unless a flush
    /// that began after that commit has already returned.
    fn flush_through(&self, needed: u64) -> Result<()> {
        let mut flushed = self.flushed.lock().unwrap();
        if flushed.failed {
            anyhow::bail!("the store could not flush its log to disk; restart heartbeat-host");
        }
        if flushed.through >= needed {
            return Ok(());
        }
        // Every transaction before the open one is written to the log already.
        let through = self.open.load(Ordering::SeqCst) - 1;
        if let Err(e) = self.wal.sync_data() {
            flushed.failed = true;
            tracing::error!(
                "store: flushing the log failed ({e}); every request fails until a restart"
            );
            return Err(e).context("cannot flush the store's log to disk");
        }
        flushed.through = through;
        Ok(())
    }
}

impl Backend for SqliteBackend {
    fn get(&self, store: &str, key: &str) -> Result<Option<Vec<u8>>> {
        Self::read(&self.conn.lock().unwrap(), store, key)
    }

    /// As Spin's default store answers (one `key IN rarray(:keys)` query over its
    /// `(store, key)` index): the keys that exist, in key order, not in the order asked.
    fn get_many(&self, store: &str, keys: Vec<String>) -> Result<Vec<(String, Option<Vec<u8>>)>> {
        let keys: Vec<rusqlite::types::Value> =
            keys.into_iter().map(rusqlite::types::Value::from).collect();
        let conn = self.conn.lock().unwrap();
        let mut query = conn.prepare_cached(
            "SELECT key, value FROM kv WHERE store = ?1 AND key IN rarray(?2) ORDER BY key",
        )?;
        let rows = query.query_map(params![store, std::rc::Rc::new(keys)], |row| {
            Ok((row.get(0)?, Some(row.get(1)?)))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn set(&self, store: &str, key: &str, value: &[u8]) -> Result<()> {
        self.write(&self.conn.lock().unwrap(), store, key, value)
    }

    fn delete(&self, store: &str, key: &str) -> Result<()> {
        let conn = self.conn.lock().unwrap();
        conn.execute(
            "DELETE FROM kv WHERE store = ?1 AND key = ?2",
            params![store, key],
        )?;
        self.dirty.store(true, Ordering::SeqCst);
        Ok(())
    }

    fn keys(&self, store: &str) -> Result<Vec<String>> {
        let conn = self.conn.lock().unwrap();
        let mut stmt = conn.prepare("SELECT key FROM kv WHERE store = ?1 ORDER BY key")?;
        let keys = stmt
            .query_map(params![store], |row| row.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(keys)
    }

    fn increment(&self, store: &str, key: &str, delta: i64) -> Result<i64> {
        let conn = self.conn.lock().unwrap();
        let next = counter(Self::read(&conn, store, key)?.as_deref()) + delta;
        self.write(&conn, store, key, &next.to_le_bytes())?;
        Ok(next)
    }

    fn cas(&self, store: &str, key: &str, expected: Option<&[u8]>, value: &[u8]) -> Result<bool> {
        let conn = self.conn.lock().unwrap();
        if Self::read(&conn, store, key)?.as_deref() != expected {
            return Ok(false);
        }
        self.write(&conn, store, key, value)?;
        Ok(true)
    }

    fn sync(&self) -> Result<()> {
        // Whatever the caller wrote or read lies in the open transaction or an earlier one.
        // Note which before waiting: a commit that lands meanwhile covers it.
        let mark = self.open.load(Ordering::SeqCst);
        if self.dirty.load(Ordering::SeqCst) {
            let conn = self.conn.lock().unwrap();
            if self.open.load(Ordering::SeqCst) == mark && self.dirty.load(Ordering::SeqCst) {
                self.commit(&conn)?;
            }
        }
        if self.rolled_back.lock().unwrap().contains(&mark) {
            anyhow::bail!("the store could not commit these writes");
        }
        // Transaction `mark` is committed if a later one is open; if not, it held no writes,
        // and the caller saw no more than what the one before it committed.
        let committed = if self.open.load(Ordering::SeqCst) > mark {
            mark
        } else {
            mark - 1
        };
        self.flush_through(committed)
    }

    fn sync_would_wait(&self) -> bool {
        if self.dirty.load(Ordering::SeqCst) {
            return true;
        }
        let committed = self.open.load(Ordering::SeqCst) - 1;
        match self.flushed.try_lock() {
            Ok(flushed) => flushed.through < committed || flushed.failed,
            // A flush is under way.
            Err(_) => true,
        }
    }
}

impl Drop for SqliteBackend {
    fn drop(&mut self) {
        if let Err(e) = self.sync() {
            tracing::error!("store: last writes not committed: {e:#}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exercise(b: &dyn Backend) {
        assert_eq!(b.get("s", "k").unwrap(), None);
        assert_eq!(b.increment("s", "n", 1).unwrap(), 1);
        assert_eq!(b.increment("s", "n", 2).unwrap(), 3);
        assert!(b.cas("s", "k", None, b"a").unwrap());
        assert!(!b.cas("s", "k", None, b"b").unwrap());
        assert!(b.cas("s", "k", Some(b"a"), b"c").unwrap());
        assert_eq!(b.get("s", "k").unwrap().as_deref(), Some(&b"c"[..]));
        assert_eq!(b.get("other", "k").unwrap(), None);
        b.delete("s", "k").unwrap();
        assert_eq!(b.keys("s").unwrap(), vec!["n".to_string()]);
    }

    #[test]
    fn memory_backend_compares_and_swaps_exactly() {
        exercise(&MemoryBackend::default());
    }

    #[test]
    fn sqlite_backend_compares_and_swaps_exactly_and_persists() {
        let dir = std::env::temp_dir().join(format!("hb-kv-{}", std::process::id()));
        let path = dir.join("store.db");
        let _ = std::fs::remove_file(&path);
        let first = SqliteBackend::open(&path).unwrap();
        exercise(&first);
        first.sync().unwrap();
        let reopened = SqliteBackend::open(&path).unwrap();
        assert_eq!(reopened.increment("s", "n", 0).unwrap(), 3);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn sqlite_backend_syncs_concurrent_writers_and_waits_only_with_work_to_do() {
        let dir = std::env::temp_dir().join(format!("hb-kv-group-{}", std::process::id()));
        let path = dir.join("store.db");
        let _ = std::fs::remove_dir_all(&dir);
        let store = Arc::new(SqliteBackend::open(&path).unwrap());
        assert!(!store.sync_would_wait(), "nothing written yet");
        store.set("s", "first", b"1").unwrap();
        assert!(store.sync_would_wait(), "a write to commit");
        store.sync().unwrap();
        assert!(!store.sync_would_wait(), "committed and flushed");
        // Writers that each sync before going on, as requests do before they answer.
        let writers: Vec<_> = (0..8)
            .map(|w| {
                let store = store.clone();
                std::thread::spawn(move || {
                    for i in 0..50 {
                        store.set("s", &format!("{w}-{i}"), b"x").unwrap();
                        store.sync().unwrap();
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        assert!(!store.sync_would_wait());
        drop(store);
        let reopened = SqliteBackend::open(&path).unwrap();
        assert_eq!(reopened.keys("s").unwrap().len(), 1 + 8 * 50);
        let _ = std::fs::remove_dir_all(dir);
    }
}
