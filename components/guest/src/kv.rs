//! heartbeat-core's `Store` over `wasi:keyvalue` draft2.

use crate::bindings::wasi::keyvalue::{atomics, batch, store};
use heartbeat_core::store::{Store, StoreError};

/// An open bucket.
pub struct KvStore {
    bucket: store::Bucket,
}

fn err(e: store::Error) -> StoreError {
    StoreError(match e {
        store::Error::NoSuchStore => "no such store".into(),
        store::Error::AccessDenied => "access denied".into(),
        store::Error::Other(m) => m,
    })
}

impl KvStore {
    /// Open a store by its label; the error says how to grant it.
    pub fn open(label: &str) -> Result<KvStore, String> {
        store::open(label).map(|bucket| KvStore { bucket }).map_err(|e| {
            format!(
                "cannot open key-value store \"{label}\" ({}); list it in key_value_stores in spin.toml",
                err(e).0
            )
        })
    }
}

impl Store for KvStore {
    type Cas = atomics::Cas;

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.bucket.get(key).map_err(err)
    }

    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let pairs = batch::get_many(&self.bucket, keys).map_err(err)?;
        Ok(in_order(keys, pairs))
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.bucket.set(key, value).map_err(err)
    }

    fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.bucket.delete(key).map_err(err)
    }

    fn increment(&self, key: &str, delta: i64) -> Result<i64, StoreError> {
        atomics::increment(&self.bucket, key, delta).map_err(err)
    }

    fn cas(&self, key: &str) -> Result<(atomics::Cas, Option<Vec<u8>>), StoreError> {
        let cas = atomics::Cas::new(&self.bucket, key).map_err(err)?;
        let current = cas.current().map_err(err)?;
        Ok((cas, current))
    }

    fn swap(&self, cas: atomics::Cas, value: &[u8]) -> Result<bool, StoreError> {
        match atomics::swap(cas, value) {
            Ok(()) => Ok(true),
            Err(atomics::CasError::CasFailed(_)) => Ok(false),
            Err(atomics::CasError::StoreError(e)) => Err(err(e)),
        }
    }
}

/// The values of `keys`, in their order, from the pairs a batch read returned. Hosts leave out
/// missing keys and may return the rest in any order; they usually keep the asked order, which
/// is matched without hashing a thousand keys.
fn in_order(keys: &[String], pairs: Vec<(String, Option<Vec<u8>>)>) -> Vec<Option<Vec<u8>>> {
    let mut out = Vec::with_capacity(keys.len());
    let mut rest = pairs.into_iter().peekable();
    for key in keys {
        match rest.next_if(|(k, _)| k == key) {
            Some((_, value)) => out.push(value),
            None => out.push(None),
        }
    }
    if rest.peek().is_none() {
        return out;
    }
    // Out of order: some pairs were passed over as missing. Match them by key.
    let mut found: std::collections::HashMap<String, Option<Vec<u8>>> = rest.collect();
    for (key, value) in keys.iter().zip(out.iter_mut()) {
        if value.is_none() {
            *value = found.remove(key).flatten();
        }
    }
    out
}
