//! Read-modify-write with compare-and-swap, and who creates a key that does not exist yet.

use super::encoding::Stored;
use crate::clock::Clock;
use crate::keys::state_key;
use crate::model::ServiceState;
use crate::store::{Store, StoreError};

/// Attempts while a designated creator has not written a key yet (~3 s in all).
const CREATE_WAIT_ATTEMPTS: u32 = 40;
/// CAS attempts before giving up under extreme contention.
const CAS_ATTEMPTS: u32 = 500;

/// What a CAS update closure decided.
pub(super) enum UpdateStep<T, R> {
    Write(T, R),
    Done(R),
}

/// What to do when the key does not exist yet.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Absent {
    /// This writer is the key's designated creator.
    Create,
    /// Someone else creates it; wait, then create anyway if they never do.
    Wait,
    /// Nothing to update.
    Skip,
}

pub(super) fn decode<T: Stored>(bytes: Option<Vec<u8>>) -> Option<T> {
    // A value we cannot read is treated as absent-but-existing: overwriting it beats wedging
    // the service forever.
    bytes.and_then(|b| T::from_bytes(&b))
}

/// Keep the newest `max` of a list kept oldest first.
pub(super) fn keep_newest<T>(list: &mut Vec<T>, max: usize) {
    let excess = list.len().saturating_sub(max);
    list.drain(..excess);
}

/// One value per id in one batch read, in the order given (`None`: absent or unreadable).
pub(super) fn batch<S: Store, T: Stored>(
    store: &S,
    ids: &[&str],
    key: fn(&str) -> String,
) -> Result<Vec<Option<T>>, StoreError> {
    batch_read(store, ids, key, T::from_bytes)
}

/// [`batch`], each value read by `read` instead of its [`Stored`] form.
pub(super) fn batch_read<S: Store, T>(
    store: &S,
    ids: &[&str],
    key: fn(&str) -> String,
    read: fn(&[u8]) -> Option<T>,
) -> Result<Vec<Option<T>>, StoreError> {
    let keys: Vec<String> = ids.iter().map(|id| key(id)).collect();
    Ok(store
        .get_many(&keys)?
        .into_iter()
        .map(|bytes| bytes.and_then(|b| read(&b)))
        .collect())
}

pub(super) fn encode<T: Stored>(value: &T) -> Vec<u8> {
    value.to_bytes()
}

impl Absent {
    /// `Create` for the key's designated creator, else `Wait` for it.
    pub(super) fn create_if(designated: bool) -> Absent {
        if designated {
            Absent::Create
        } else {
            Absent::Wait
        }
    }
}

/// Read-modify-write `key` with compare-and-swap until the swap lands.
pub(super) fn update<S: Store, T: Stored, R>(
    store: &S,
    clock: &dyn Clock,
    key: &str,
    absent: Absent,
    mut f: impl FnMut(Option<T>) -> UpdateStep<T, R>,
) -> Result<R, StoreError> {
    let mut waited = 0;
    for _ in 0..CAS_ATTEMPTS {
        let (cas, bytes) = store.cas(key)?;
        if bytes.is_none() {
            match absent {
                Absent::Skip => {
                    if let UpdateStep::Done(r) = f(None) {
                        return Ok(r);
                    }
                    return Err(StoreError(format!("{key} vanished")));
                }
                Absent::Wait if waited < CREATE_WAIT_ATTEMPTS => {
                    waited += 1;
                    clock.pause(5 * u64::from(waited.min(20)));
                    continue;
                }
                _ => {}
            }
        }
        match f(decode(bytes)) {
            UpdateStep::Done(r) => return Ok(r),
            UpdateStep::Write(value, r) => {
                if store.swap(cas, &encode(&value))? {
                    return Ok(r);
                }
            }
        }
    }
    Err(StoreError(format!("{key}: too much contention")))
}

/// Edit a service's existing state: `edit` changes it and says what to report, or returns
/// `None` to leave it as it was. A service with no state yet is left to its first heartbeat.
pub(super) fn edit_state<S: Store, R>(
    store: &S,
    clock: &dyn Clock,
    id: &str,
    mut edit: impl FnMut(&mut ServiceState) -> Option<R>,
) -> Result<Option<R>, StoreError> {
    update(
        store,
        clock,
        &state_key(id),
        Absent::Skip,
        |cur: Option<ServiceState>| {
            let Some(mut s) = cur else {
                return UpdateStep::Done(None);
            };
            match edit(&mut s) {
                Some(r) => UpdateStep::Write(s, Some(r)),
                None => UpdateStep::Done(None),
            }
        },
    )
}
