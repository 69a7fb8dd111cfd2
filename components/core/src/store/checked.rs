//! A `wasi:keyvalue` store whose compare-and-swap was checked before anything rests on it.
//!
//! The components cannot see which backend a Spin app runs on, and one in use — Spin 4.0.2's
//! Redis store — answers swaps wrongly in both directions. So the first request that needs a
//! swap or a batch read checks the host: two compare-and-swap handles on one fresh key, both
//! taken before either swaps. An exact store lets the first write and refuses the second, and
//! the key then holds the first value; anything else is a store whose swap answer means
//! nothing. The verdict is kept in the store (`meta/cas`) and checked again hourly, so it costs
//! one read per request. Where the swap cannot be trusted, swaps run under a ticket lock built
//! on `increment` ([`TicketLocked`]) and batch reads go key by key; elsewhere the host's own
//! exact swap is used as it is.

use super::ticket::{Seen, TicketLocked};
use super::{Store, StoreError};
use crate::clock::Clock;
use serde::{Deserialize, Serialize};
use std::cell::Cell;

/// Where the verdict is kept.
pub const VERDICT_KEY: &str = "meta/cas";
/// Numbers probes, so concurrent ones use keys of their own.
const PROBE_SEQ_KEY: &str = "meta/cas-probe";
/// How old a verdict may be before it is checked again (a store moved to another backend).
const RECHECK_MS: i64 = 3_600_000;

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Verdict {
    exact: bool,
    at: i64,
}

/// Whether `store`'s compare-and-swap is exact on an existing key: of two handles taken on the
/// same value, the first swap must land and say so, the second must fail and say so.
pub fn swap_is_exact<S: Store>(store: &S) -> Result<bool, StoreError> {
    let n = store.increment(PROBE_SEQ_KEY, 1)?;
    let key = format!("meta/cas-probe/{n}");
    store.set(&key, b"0")?;
    let (first, _) = store.cas(&key)?;
    let (second, _) = store.cas(&key)?;
    let first_wrote = store.swap(first, b"1")?;
    let second_wrote = store.swap(second, b"2")?;
    let holds = store.get(&key)?;
    store.delete(&key)?;
    Ok(first_wrote && !second_wrote && holds.as_deref() == Some(&b"1"[..]))
}

/// A host's store, with compare-and-swap and batch reads it can rely on.
pub struct Checked<'a, S: Store> {
    locked: TicketLocked<'a, S>,
    exact: Cell<Option<bool>>,
}

/// A compare-and-swap handle: the host's own, or the value read for the ticket lock.
#[derive(Debug)]
pub enum CheckedCas<C> {
    Host(C),
    Locked(Seen),
}

impl<'a, S: Store> Checked<'a, S> {
    pub fn new(inner: S, clock: &'a dyn Clock) -> Self {
        Checked {
            locked: TicketLocked { inner, clock },
            exact: Cell::new(None),
        }
    }

    fn inner(&self) -> &S {
        &self.locked.inner
    }

    /// Whether the host's own swap is exact: the kept verdict, or a fresh check.
    pub fn swap_is_exact(&self) -> Result<bool, StoreError> {
        if let Some(exact) = self.exact.get() {
            return Ok(exact);
        }
        let now = self.locked.clock.now_ms();
        let kept = self
            .inner()
            .get(VERDICT_KEY)?
            .and_then(|b| serde_json::from_slice::<Verdict>(&b).ok())
            .filter(|v| (0..RECHECK_MS).contains(&(now - v.at)));
        let exact = match kept {
            Some(v) => v.exact,
            None => {
                let exact = swap_is_exact(self.inner())?;
                let verdict =
                    serde_json::to_vec(&Verdict { exact, at: now }).expect("plain data serializes");
                self.inner().set(VERDICT_KEY, &verdict)?;
                exact
            }
        };
        self.exact.set(Some(exact));
        Ok(exact)
    }
}

impl<S: Store> Store for Checked<'_, S> {
    type Cas = CheckedCas<S::Cas>;

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner().get(key)
    }

    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        if self.swap_is_exact()? {
            self.inner().get_many(keys)
        } else {
            self.locked.get_many(keys)
        }
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.inner().set(key, value)
    }

    fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.inner().delete(key)
    }

    fn increment(&self, key: &str, delta: i64) -> Result<i64, StoreError> {
        self.inner().increment(key, delta)
    }

    fn cas(&self, key: &str) -> Result<(Self::Cas, Option<Vec<u8>>), StoreError> {
        if self.swap_is_exact()? {
            let (cas, value) = self.inner().cas(key)?;
            Ok((CheckedCas::Host(cas), value))
        } else {
            let (seen, value) = self.locked.cas(key)?;
            Ok((CheckedCas::Locked(seen), value))
        }
    }

    fn swap(&self, cas: Self::Cas, value: &[u8]) -> Result<bool, StoreError> {
        match cas {
            CheckedCas::Host(cas) => self.inner().swap(cas, value),
            CheckedCas::Locked(seen) => self.locked.swap(seen, value),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::store::{AbsentCas, MemoryStore, SwapAnswer};

    fn store(answer: SwapAnswer) -> MemoryStore {
        MemoryStore {
            swap_answer: answer,
            ..Default::default()
        }
    }

    #[test]
    fn an_exact_swap_is_recognised_and_used() {
        let clock = ManualClock::at(1_000);
        for absent_cas in [AbsentCas::Exact, AbsentCas::Upsert] {
            let inner = MemoryStore {
                absent_cas,
                ..Default::default()
            };
            let checked = Checked::new(inner, &clock);
            assert!(checked.swap_is_exact().unwrap());
            let (cas, _) = checked.cas("k").unwrap();
            assert!(matches!(cas, CheckedCas::Host(_)));
            assert!(checked.swap(cas, b"v").unwrap());
        }
    }

    #[test]
    fn spin_redis_swaps_are_recognised_as_untrustworthy_either_way() {
        let clock = ManualClock::at(1_000);
        for answer in [
            SwapAnswer::FailsEvenWhenWritten,
            SwapAnswer::SucceedsEvenWhenAborted,
        ] {
            let checked = Checked::new(store(answer), &clock);
            assert!(!checked.swap_is_exact().unwrap(), "{answer:?}");
            let (first, _) = checked.cas("k").unwrap();
            let (second, _) = checked.cas("k").unwrap();
            assert!(checked.swap(first, b"a").unwrap(), "{answer:?}");
            assert!(!checked.swap(second, b"b").unwrap(), "{answer:?}");
            assert_eq!(checked.get("k").unwrap().as_deref(), Some(&b"a"[..]));
        }
    }

    #[test]
    fn the_verdict_is_kept_and_checked_again_after_an_hour() {
        let clock = ManualClock::at(1_000);
        let inner = store(SwapAnswer::FailsEvenWhenWritten);
        assert!(!Checked::new(&inner, &clock).swap_is_exact().unwrap());
        let probes = || inner.get(PROBE_SEQ_KEY).unwrap();
        let after_first = probes();
        assert!(!Checked::new(&inner, &clock).swap_is_exact().unwrap());
        assert_eq!(probes(), after_first, "a kept verdict is not checked again");
        clock.advance_secs(3_600);
        assert!(!Checked::new(&inner, &clock).swap_is_exact().unwrap());
        assert_ne!(
            probes(),
            after_first,
            "an hour-old verdict is checked again"
        );
        assert!(
            inner
                .keys()
                .iter()
                .all(|k| !k.starts_with("meta/cas-probe/")),
            "probe keys are removed: {:?}",
            inner.keys()
        );
    }
}
