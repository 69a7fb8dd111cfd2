//! Key-value backends behind `wasi:keyvalue`: SQLite on disk (the default; writes are committed
//! in groups, before anything depending on them leaves the host — see [`Backend::sync`]),
//! Redis/Valkey (several instances sharing one state; [`RedisBackend`]) and memory (tests).
//!
//! Two modes reproduce real hosts' stores, so the tests prove the components survive them:
//! [`AbsentCas::Upsert`] is Spin's default store, where compare-and-swap against a key that
//! does not exist yet writes unconditionally; [`SpinRedis`] is Spin 4.0.2's Redis store, whose
//! batch read and swap are broken (it sends the same commands to the real server).

mod flusher;
mod redis;
mod sqlite;

pub use redis::{without_credentials, RedisBackend, SpinRedis};
pub use sqlite::SqliteBackend;

use anyhow::Result;
use std::collections::HashMap;
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
    /// [`Backend::sync`] for the async threads, from a backend whose sync waits for the disk:
    /// the wait, as a future that holds no thread. `None`: `sync` does not wait.
    fn sync_async(&self) -> Option<Synced> {
        None
    }
}

/// What [`Backend::sync_async`] returns.
pub type Synced = std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + Send>>;

/// [`Backend::sync`], without holding one of the async threads while the disk works.
pub async fn sync(backend: &Arc<dyn Backend>) -> Result<()> {
    match backend.sync_async() {
        Some(synced) => synced.await,
        None => backend.sync(),
    }
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

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(in crate::kv) fn exercise(b: &dyn Backend) {
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
}
