//! A `wasi:keyvalue` store whose compare-and-swap was checked before anything rests on it.
//!
//! The components cannot see which backend a Spin app runs on, and one in use — Spin 4.0.2's
//! Redis store — answers swaps wrongly in both directions. So the first request that needs a
//! swap or a batch read checks the host: two compare-and-swap handles on one fresh key, both
//! taken before either swaps. An exact store lets the first write and refuses the second, and
//! the key then holds the first value; anything else is a store whose swap answer means
//! nothing. The verdict is kept in the store (`meta/cas`), so it costs one read per request.
//! Where the swap cannot be trusted, swaps run under a ticket lock built on `increment`
//! ([`TicketLocked`]) and batch reads go key by key; elsewhere the host's own exact swap is used
//! as it is.
//!
//! The verdict belongs to the host that made it, yet hosts can share a store (heartbeat-host and
//! Spin on one Redis), and every writer must then use the same protocol. So "not exact" is
//! final, and "exact" is checked again hourly and whenever a swap that reported failure left
//! the caller's own value behind — what Spin 4.0.2's Redis swap does on every write. A host
//! whose swap reports success for an aborted write cannot be caught that way: sharing a store
//! with one needs its verdict first (see docs/DEPLOYMENT.md).

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

/// A compare-and-swap handle: the host's own (and its key), or the value read for the ticket
/// lock.
#[derive(Debug)]
pub enum CheckedCas<C> {
    Host(C, String),
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
            .filter(|v| !v.exact || (0..RECHECK_MS).contains(&(now - v.at)));
        let exact = match kept {
            Some(v) => v.exact,
            None => self.check_again(now)?,
        };
        self.exact.set(Some(exact));
        Ok(exact)
    }

    /// Probe the host and keep the verdict; a "not exact" already kept stays.
    fn check_again(&self, now: i64) -> Result<bool, StoreError> {
        let mut exact = swap_is_exact(self.inner())?;
        if exact {
            let kept = self.inner().get(VERDICT_KEY)?;
            exact = kept
                .and_then(|b| serde_json::from_slice::<Verdict>(&b).ok())
                .is_none_or(|v| v.exact);
        }
        let verdict =
            serde_json::to_vec(&Verdict { exact, at: now }).expect("plain data serializes");
        self.inner().set(VERDICT_KEY, &verdict)?;
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
            Ok((CheckedCas::Host(cas, key.to_string()), value))
        } else {
            let (seen, value) = self.locked.cas(key)?;
            Ok((CheckedCas::Locked(seen), value))
        }
    }

    fn swap(&self, cas: Self::Cas, value: &[u8]) -> Result<bool, StoreError> {
        let key = match cas {
            CheckedCas::Locked(seen) => return self.locked.swap(seen, value),
            CheckedCas::Host(cas, key) => {
                if self.inner().swap(cas, value)? {
                    return Ok(true);
                }
                key
            }
        };
        // Failed, the host says. Usually another writer came first; but if the key holds this
        // very value, either a writer wrote the same bytes or the host's answer is wrong (Spin
        // 4.0.2's Redis swap fails every write it makes). A fresh check tells which; when it is
        // the host, the write landed, and from here on every swap takes the lock.
        if self.inner().get(&key)?.as_deref() != Some(value) {
            return Ok(false);
        }
        let exact = self.check_again(self.locked.clock.now_ms())?;
        self.exact.set(Some(exact));
        Ok(!exact)
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
            assert!(matches!(cas, CheckedCas::Host(..)));
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
    fn an_exact_verdict_is_checked_again_after_an_hour_and_a_wrong_one_is_final() {
        let clock = ManualClock::at(1_000);
        let probes = |store: &MemoryStore| store.get(PROBE_SEQ_KEY).unwrap();
        let exact = MemoryStore::default();
        assert!(Checked::new(&exact, &clock).swap_is_exact().unwrap());
        let lying = store(SwapAnswer::FailsEvenWhenWritten);
        assert!(!Checked::new(&lying, &clock).swap_is_exact().unwrap());
        let (after_exact, after_lying) = (probes(&exact), probes(&lying));
        assert!(Checked::new(&exact, &clock).swap_is_exact().unwrap());
        assert_eq!(
            probes(&exact),
            after_exact,
            "a kept verdict is not checked again"
        );
        clock.advance_secs(3_600);
        assert!(Checked::new(&exact, &clock).swap_is_exact().unwrap());
        assert_ne!(
            probes(&exact),
            after_exact,
            "an hour-old verdict is checked again"
        );
        assert!(!Checked::new(&lying, &clock).swap_is_exact().unwrap());
        assert_eq!(probes(&lying), after_lying, "\"not exact\" is final");
        for store in [&exact, &lying] {
            assert!(
                store
                    .keys()
                    .iter()
                    .all(|k| !k.starts_with("meta/cas-probe/")),
                "probe keys are removed: {:?}",
                store.keys()
            );
        }
    }

    /// Regression: heartbeat-host (exact) checked a shared Redis first, and Spin's instances
    /// then trusted their own swap, which reports every write as failed.
    #[test]
    fn a_host_that_fails_its_own_writes_is_caught_when_an_exact_verdict_is_kept() {
        let clock = ManualClock::at(1_000);
        let shared = store(SwapAnswer::FailsEvenWhenWritten);
        let verdict = serde_json::to_vec(&Verdict {
            exact: true,
            at: 1_000,
        })
        .unwrap();
        shared.set(VERDICT_KEY, &verdict).unwrap();
        let checked = Checked::new(&shared, &clock);
        let (cas, _) = checked.cas("k").unwrap();
        assert!(
            matches!(cas, CheckedCas::Host(..)),
            "the kept verdict is trusted at first"
        );
        assert!(checked.swap(cas, b"v").unwrap(), "the write landed");
        assert!(!checked.swap_is_exact().unwrap());
        assert!(
            !Checked::new(&shared, &clock).swap_is_exact().unwrap(),
            "for everyone"
        );
        let (first, _) = checked.cas("k").unwrap();
        let (second, _) = checked.cas("k").unwrap();
        assert!(checked.swap(first, b"w").unwrap());
        assert!(
            !checked.swap(second, b"x").unwrap(),
            "swaps are exact again, under the lock"
        );
    }

    #[test]
    fn an_exact_host_whose_swap_lost_to_the_same_bytes_stays_exact() {
        let clock = ManualClock::at(1_000);
        let exact = MemoryStore::default();
        let checked = Checked::new(&exact, &clock);
        let (first, _) = checked.cas("k").unwrap();
        let (second, _) = checked.cas("k").unwrap();
        assert!(checked.swap(first, b"same").unwrap());
        assert!(!checked.swap(second, b"same").unwrap());
        assert!(checked.swap_is_exact().unwrap());
    }
}
