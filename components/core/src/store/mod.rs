//! The key-value port, shaped like `wasi:keyvalue` draft2 (store + atomics + batch), and an
//! in-memory implementation for unit tests that can imitate Spin's default store.

use std::cell::RefCell;
use std::collections::HashMap;

/// A store failure worth a 500 (never shown to callers in detail).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("key-value store: {0}")]
pub struct StoreError(pub String);

/// What the storage layout needs from a key-value store.
pub trait Store {
    /// A compare-and-swap handle: the value as it was when the handle was taken.
    type Cas;

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Values for `keys`, in the same order.
    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError>;
    fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError>;
    /// Remove `key`; removing an absent key is not an error.
    fn delete(&self, key: &str) -> Result<(), StoreError>;
    /// Atomically add `delta` (a missing key counts as 0) and return the new value.
    fn increment(&self, key: &str, delta: i64) -> Result<i64, StoreError>;
    /// Take a CAS handle on `key` and the value it saw.
    fn cas(&self, key: &str) -> Result<(Self::Cas, Option<Vec<u8>>), StoreError>;
    /// Write `value` if the key still holds what the handle saw. `Ok(false)`: someone else
    /// wrote first; take a new handle and retry.
    fn swap(&self, cas: Self::Cas, value: &[u8]) -> Result<bool, StoreError>;
}

/// A counter as `increment` keeps it: 8 bytes, little-endian; absent or malformed reads as 0.
pub(crate) fn counter(bytes: Option<&[u8]>) -> i64 {
    bytes
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(i64::from_le_bytes)
        .unwrap_or(0)
}

/// How CAS behaves on a key that did not exist when the handle was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AbsentCas {
    /// The swap fails if someone created the key meanwhile.
    #[default]
    Exact,
    /// The swap always writes, as Spin's default store does (a known trap: first writers race).
    Upsert,
}

/// How a store answers a swap. Spin 4.0.2's Redis store gets it wrong both ways (see
/// [`checked`]); the unit tests imitate it with these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SwapAnswer {
    /// The answer says whether the swap wrote.
    #[default]
    Exact,
    /// Every swap reports failure, also when it wrote (Spin 4.0.2's `UNWATCH <key>`).
    FailsEvenWhenWritten,
    /// Every swap reports success, also when it did not write (an aborted `EXEC` read as OK).
    SucceedsEvenWhenAborted,
}

/// A single-threaded in-memory store for unit tests.
#[derive(Debug, Default)]
pub struct MemoryStore {
    data: RefCell<HashMap<String, Vec<u8>>>,
    pub absent_cas: AbsentCas,
    pub swap_answer: SwapAnswer,
    /// Counts `set`, `increment` and successful `swap` calls, to check the write budget.
    pub writes: std::cell::Cell<usize>,
}

/// The value a [`MemoryStore`] CAS handle saw.
#[derive(Debug)]
pub struct MemoryCas {
    key: String,
    seen: Option<Vec<u8>>,
}

impl MemoryStore {
    pub fn spin_like() -> Self {
        MemoryStore {
            absent_cas: AbsentCas::Upsert,
            ..Default::default()
        }
    }

    pub fn keys(&self) -> Vec<String> {
        let mut keys: Vec<_> = self.data.borrow().keys().cloned().collect();
        keys.sort();
        keys
    }
}

impl Store for MemoryStore {
    type Cas = MemoryCas;

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.data.borrow().get(key).cloned())
    }

    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        keys.iter().map(|k| self.get(k)).collect()
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.writes.set(self.writes.get() + 1);
        self.data.borrow_mut().insert(key.into(), value.into());
        Ok(())
    }

    fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.writes.set(self.writes.get() + 1);
        self.data.borrow_mut().remove(key);
        Ok(())
    }

    fn increment(&self, key: &str, delta: i64) -> Result<i64, StoreError> {
        self.writes.set(self.writes.get() + 1);
        let mut data = self.data.borrow_mut();
        let current = counter(data.get(key).map(Vec::as_slice));
        let next = current + delta;
        data.insert(key.into(), next.to_le_bytes().to_vec());
        Ok(next)
    }

    fn cas(&self, key: &str) -> Result<(MemoryCas, Option<Vec<u8>>), StoreError> {
        let seen = self.get(key)?;
        Ok((
            MemoryCas {
                key: key.into(),
                seen: seen.clone(),
            },
            seen,
        ))
    }

    fn swap(&self, cas: MemoryCas, value: &[u8]) -> Result<bool, StoreError> {
        let current = self.get(&cas.key)?;
        let unconditional = cas.seen.is_none() && self.absent_cas == AbsentCas::Upsert;
        let wrote = current == cas.seen || unconditional;
        if wrote {
            self.set(&cas.key, value)?;
        }
        Ok(match self.swap_answer {
            SwapAnswer::Exact => wrote,
            SwapAnswer::FailsEvenWhenWritten => false,
            SwapAnswer::SucceedsEvenWhenAborted => true,
        })
    }
}

/// A borrowed store is a store: wrappers such as [`Checked`] can sit on one the caller keeps.
impl<S: Store> Store for &S {
    type Cas = S::Cas;

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        (**self).get(key)
    }

    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        (**self).get_many(keys)
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        (**self).set(key, value)
    }

    fn delete(&self, key: &str) -> Result<(), StoreError> {
        (**self).delete(key)
    }

    fn increment(&self, key: &str, delta: i64) -> Result<i64, StoreError> {
        (**self).increment(key, delta)
    }

    fn cas(&self, key: &str) -> Result<(Self::Cas, Option<Vec<u8>>), StoreError> {
        (**self).cas(key)
    }

    fn swap(&self, cas: Self::Cas, value: &[u8]) -> Result<bool, StoreError> {
        (**self).swap(cas, value)
    }
}

pub mod checked;
#[cfg(feature = "testing")]
pub mod counted;
pub mod rows;
pub mod snapshot;
pub mod ticket;

pub use checked::Checked;
