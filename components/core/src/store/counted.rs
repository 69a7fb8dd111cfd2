//! Test scaffolding (`testing` feature): a memory store that counts what is asked of it, for
//! tests that a request's store work does not grow with the fleet or the history.

use super::{MemoryStore, Store, StoreError};
use std::cell::Cell;

/// Counts each kind of operation, and the bytes read.
#[derive(Default)]
pub struct Counted {
    pub inner: MemoryStore,
    pub reads: Cell<u64>,
    pub writes: Cell<u64>,
    pub swaps: Cell<u64>,
    pub bytes_read: Cell<u64>,
}

impl Counted {
    pub fn reset(&self) {
        for c in [&self.reads, &self.writes, &self.swaps, &self.bytes_read] {
            c.set(0);
        }
    }

    fn bump(c: &Cell<u64>, by: u64) {
        c.set(c.get() + by);
    }

    fn read(&self, value: &Option<Vec<u8>>) {
        Counted::bump(&self.reads, 1);
        Counted::bump(
            &self.bytes_read,
            value.as_ref().map_or(0, |v| v.len() as u64),
        );
    }
}

impl Store for Counted {
    type Cas = <MemoryStore as Store>::Cas;

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let value = self.inner.get(key)?;
        self.read(&value);
        Ok(value)
    }

    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        keys.iter().map(|k| self.get(k)).collect()
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        Counted::bump(&self.writes, 1);
        self.inner.set(key, value)
    }

    fn delete(&self, key: &str) -> Result<(), StoreError> {
        Counted::bump(&self.writes, 1);
        self.inner.delete(key)
    }

    fn increment(&self, key: &str, delta: i64) -> Result<i64, StoreError> {
        Counted::bump(&self.writes, 1);
        self.inner.increment(key, delta)
    }

    fn cas(&self, key: &str) -> Result<(Self::Cas, Option<Vec<u8>>), StoreError> {
        let (cas, value) = self.inner.cas(key)?;
        self.read(&value);
        Ok((cas, value))
    }

    fn swap(&self, cas: Self::Cas, value: &[u8]) -> Result<bool, StoreError> {
        Counted::bump(&self.swaps, 1);
        Counted::bump(&self.writes, 1);
        self.inner.swap(cas, value)
    }
}
