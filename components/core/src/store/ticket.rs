//! Compare-and-swap built on `increment`, `get` and `set` alone, for stores whose own swap
//! cannot be trusted. Spin 4.0.2's Redis store is one: its swap reports failure even when it
//! wrote (it sends `UNWATCH <key>`, which Redis rejects), and with that mended it would report
//! success for an `EXEC` a concurrent writer aborted. `increment` (`INCRBY`), `get` and `set`
//! are sound there, so a swap here is: take a ticket, wait for its turn, compare, write, pass
//! the turn on.
//!
//! The lock is a ticket lock per key (`lock/{key}/tickets`, `lock/{key}/turn`): `increment`
//! hands out tickets in order, and ticket `t` may enter once `turn` reads `t - 1`. Leaving sets
//! `turn` to `t` — a plain set, so a late or repeated release writes the same value and cannot
//! let two waiters in at once. A holder that dies (a killed process, a store error mid-way)
//! leaves `turn` still; waiters that see it unchanged for [`LEASE_MS`] move it on by one, which
//! every one of them does with the same value. The guarantee therefore rests on one timing
//! assumption: no holder takes longer than the lease between its turn and its release (a
//! critical section is two store operations).

use super::{counter, Store, StoreError};
use crate::clock::Clock;

/// How long `turn` may stand still before waiters take it as abandoned.
pub const LEASE_MS: i64 = 3_000;

/// Longest pause between two looks at `turn`.
const MAX_POLL_MS: u64 = 20;

fn tickets_key(key: &str) -> String {
    format!("lock/{key}/tickets")
}

fn turn_key(key: &str) -> String {
    format!("lock/{key}/turn")
}

/// `inner` with compare-and-swap done under a ticket lock, and batch reads done one by one
/// (Spin's Redis `get-many` sends `KEYS` with the key list: an error, at times a panic).
pub struct TicketLocked<'a, S: Store> {
    pub inner: S,
    pub clock: &'a dyn Clock,
}

/// What a swap compares against: the value the caller read.
#[derive(Debug)]
pub struct Seen {
    key: String,
    value: Option<Vec<u8>>,
}

impl<S: Store> TicketLocked<'_, S> {
    /// Wait for this key's turn; returns the ticket to release with.
    fn acquire(&self, key: &str) -> Result<i64, StoreError> {
        let turn_key = turn_key(key);
        'ticket: loop {
            let ticket = self.inner.increment(&tickets_key(key), 1)?;
            let mut last = None;
            let mut still_since = self.clock.now_ms();
            loop {
                let turn = counter(self.inner.get(&turn_key)?.as_deref());
                if turn == ticket - 1 {
                    return Ok(ticket);
                }
                if turn >= ticket {
                    // Waiters moved past this ticket while it was slow to look: take another.
                    continue 'ticket;
                }
                let now = self.clock.now_ms();
                if last != Some(turn) {
                    last = Some(turn);
                    still_since = now;
                } else if now - still_since >= LEASE_MS {
                    // The holder of `turn + 1` is gone; every waiter that saw the same still
                    // turn writes the same next value.
                    self.inner.set(&turn_key, &(turn + 1).to_le_bytes())?;
                    last = None;
                    continue;
                }
                // Roughly one critical section per ticket ahead.
                let ahead = (ticket - 1 - turn).clamp(1, MAX_POLL_MS as i64);
                self.clock.pause(ahead as u64);
            }
        }
    }

    fn release(&self, key: &str, ticket: i64) -> Result<(), StoreError> {
        self.inner.set(&turn_key(key), &ticket.to_le_bytes())
    }
}

impl<S: Store> Store for TicketLocked<'_, S> {
    type Cas = Seen;

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get(key)
    }

    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        keys.iter().map(|k| self.inner.get(k)).collect()
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.inner.set(key, value)
    }

    fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.inner.delete(key)
    }

    fn increment(&self, key: &str, delta: i64) -> Result<i64, StoreError> {
        self.inner.increment(key, delta)
    }

    fn cas(&self, key: &str) -> Result<(Seen, Option<Vec<u8>>), StoreError> {
        let value = self.inner.get(key)?;
        let seen = Seen {
            key: key.to_string(),
            value: value.clone(),
        };
        Ok((seen, value))
    }

    fn swap(&self, seen: Seen, value: &[u8]) -> Result<bool, StoreError> {
        let ticket = self.acquire(&seen.key)?;
        // On an error the turn stays with this ticket; waiters move it on after the lease.
        let wrote = if self.inner.get(&seen.key)? == seen.value {
            self.inner.set(&seen.key, value)?;
            true
        } else {
            false
        };
        self.release(&seen.key, ticket)?;
        Ok(wrote)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::store::MemoryStore;

    #[test]
    fn a_swap_writes_only_over_the_value_it_saw() {
        let clock = ManualClock::at(0);
        let store = TicketLocked {
            inner: MemoryStore::default(),
            clock: &clock,
        };
        let (first, seen) = store.cas("k").unwrap();
        assert_eq!(seen, None);
        let (second, _) = store.cas("k").unwrap();
        assert!(store.swap(first, b"a").unwrap());
        assert!(
            !store.swap(second, b"b").unwrap(),
            "an absent key is exact too"
        );
        let (third, seen) = store.cas("k").unwrap();
        assert_eq!(seen.as_deref(), Some(&b"a"[..]));
        assert!(store.swap(third, b"c").unwrap());
        assert_eq!(store.get("k").unwrap().as_deref(), Some(&b"c"[..]));
        assert_eq!(clock.now_ms(), 0, "an uncontended swap never waits");
    }

    #[test]
    fn a_turn_abandoned_by_a_dead_holder_is_taken_over_after_the_lease() {
        let clock = ManualClock::at(0);
        let store = TicketLocked {
            inner: MemoryStore::default(),
            clock: &clock,
        };
        // A holder took ticket 1 and died before releasing it.
        assert_eq!(store.acquire("k").unwrap(), 1);
        let (seen, _) = store.cas("k").unwrap();
        assert!(store.swap(seen, b"v").unwrap());
        assert!(clock.now_ms() >= LEASE_MS, "waited {} ms", clock.now_ms());
        assert!(
            clock.now_ms() < 2 * LEASE_MS,
            "waited {} ms",
            clock.now_ms()
        );
        // The lock works normally afterwards.
        let before = clock.now_ms();
        let (seen, _) = store.cas("k").unwrap();
        assert!(store.swap(seen, b"w").unwrap());
        assert_eq!(clock.now_ms(), before);
    }

    #[test]
    fn batch_reads_go_one_key_at_a_time() {
        let clock = ManualClock::at(0);
        let store = TicketLocked {
            inner: MemoryStore::default(),
            clock: &clock,
        };
        store.set("a", b"1").unwrap();
        let got = store.get_many(&["a".into(), "b".into()]).unwrap();
        assert_eq!(got, vec![Some(b"1".to_vec()), None]);
    }
}
