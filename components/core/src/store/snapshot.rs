//! The [`Store`] port for a store that can only be reached asynchronously (Workers KV): a
//! request runs against values fetched beforehand, and a key it had not fetched is recorded as
//! a miss and reads as absent. The host then fetches the misses and runs the request again
//! from the start, discarding what the earlier round wrote, until a round misses nothing; only
//! that round's writes are stored. Each round sees the same snapshot, so the last one decides
//! exactly as if the store had answered directly.

use super::{Store, StoreError};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Values fetched so far, this round's writes, and the keys it missed.
#[derive(Debug, Default)]
pub struct Snapshot {
    fetched: RefCell<HashMap<String, Option<Vec<u8>>>>,
    writes: RefCell<BTreeMap<String, Option<Vec<u8>>>>,
    misses: RefCell<BTreeSet<String>>,
}

/// A CAS handle: the key and the value it held.
#[derive(Debug)]
pub struct SnapshotCas {
    key: String,
    seen: Option<Vec<u8>>,
}

impl Snapshot {
    /// Record what the store holds for `key` (`None`: nothing).
    pub fn fill(&self, key: String, value: Option<Vec<u8>>) {
        self.fetched.borrow_mut().insert(key, value);
    }

    /// Keys this round read without having them.
    pub fn misses(&self) -> Vec<String> {
        self.misses.borrow().iter().cloned().collect()
    }

    pub fn missed(&self) -> bool {
        !self.misses.borrow().is_empty()
    }

    /// Forget this round's writes and misses before running the request again.
    pub fn next_round(&self) {
        self.writes.borrow_mut().clear();
        self.misses.borrow_mut().clear();
    }

    /// This round's writes (`None`: delete), to store.
    pub fn writes(&self) -> Vec<(String, Option<Vec<u8>>)> {
        self.writes
            .borrow()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

impl Store for Snapshot {
    type Cas = SnapshotCas;

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        if let Some(written) = self.writes.borrow().get(key) {
            return Ok(written.clone());
        }
        match self.fetched.borrow().get(key) {
            Some(value) => Ok(value.clone()),
            None => {
                self.misses.borrow_mut().insert(key.to_string());
                Ok(None)
            }
        }
    }

    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        keys.iter().map(|k| self.get(k)).collect()
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.writes
            .borrow_mut()
            .insert(key.to_string(), Some(value.to_vec()));
        Ok(())
    }

    fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.writes.borrow_mut().insert(key.to_string(), None);
        Ok(())
    }

    fn increment(&self, key: &str, delta: i64) -> Result<i64, StoreError> {
        let current = super::counter(self.get(key)?.as_deref());
        self.set(key, &(current + delta).to_le_bytes())?;
        Ok(current + delta)
    }

    fn cas(&self, key: &str) -> Result<(SnapshotCas, Option<Vec<u8>>), StoreError> {
        let seen = self.get(key)?;
        let cas = SnapshotCas {
            key: key.to_string(),
            seen: seen.clone(),
        };
        Ok((cas, seen))
    }

    fn swap(&self, cas: SnapshotCas, value: &[u8]) -> Result<bool, StoreError> {
        if self.get(&cas.key)? != cas.seen {
            return Ok(false);
        }
        self.set(&cas.key, value)?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::layout::Layout;
    use crate::model::{LogEntry, Status};
    use crate::store::MemoryStore;

    /// Run one heartbeat the way the Worker's KV backend does: rounds until nothing is missed,
    /// then store the last round's writes.
    fn beat_in_rounds(backing: &MemoryStore, at: i64) -> usize {
        let snapshot = Snapshot::default();
        let layout = Layout {
            max_log_entries: 10,
        };
        let clock = ManualClock::at(at);
        let schedule = crate::schedule::Schedule::period(60, 0);
        let wanted = |_| false;
        let rules = crate::layout::Rules {
            schedule: &schedule,
            policy: crate::state::Policy {
                cooldown_ms: 0,
                quiet: false,
            },
            wanted: &wanted,
        };
        for round in 1..=10 {
            let entry = LogEntry::new(at, Status::Up, None, None);
            layout
                .record_heartbeat(&snapshot, &clock, "a", entry, &rules)
                .unwrap();
            if !snapshot.missed() {
                for (key, value) in snapshot.writes() {
                    match value {
                        Some(v) => backing.set(&key, &v).unwrap(),
                        None => backing.delete(&key).unwrap(),
                    }
                }
                return round;
            }
            for key in snapshot.misses() {
                snapshot.fill(key.clone(), backing.get(&key).unwrap());
            }
            snapshot.next_round();
        }
        panic!("no round without a miss");
    }

    #[test]
    fn rounds_end_once_every_key_read_was_fetched_and_store_only_the_last() {
        let backing = MemoryStore::default();
        let rounds = beat_in_rounds(&backing, 1_000);
        assert!(rounds > 1, "the first round knows nothing");
        beat_in_rounds(&backing, 2_000);
        let layout = Layout {
            max_log_entries: 10,
        };
        let log = layout.log(&backing, "a").unwrap();
        assert_eq!(log.len(), 2, "each heartbeat stored once: {log:?}");
        assert_eq!(
            layout.states(&backing, &["a"]).unwrap()[0]
                .as_ref()
                .map(|s| s.status),
            Some(Status::Up)
        );
    }
}
