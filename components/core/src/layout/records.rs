//! Everything else written: deliveries, notes, pauses, the claims that make one writer tell
//! a release, a reminder, a sweep or an alert, and the alert log.

use super::heartbeats::keep_unsent;
use super::update::{decode, edit_state, encode, keep_newest, update, Absent, UpdateStep};
use super::values::*;
use super::Layout;
use crate::clock::Clock;
use crate::keys::*;
use crate::model::{Note, ServiceState, Transition, Unsent};
use crate::store::{Store, StoreError};

impl Layout {
    /// Count delivery outcomes in a service's transition log, and append them to its delivery
    /// log (newest kept). The transition log exists: a delivery always follows a recorded
    /// transition. Its swap, exact on an existing key, also names the delivery log's
    /// designated creator: the writer of the first deliveries ever counted, or the one that
    /// takes out a log an older release kept among the transitions (and moves it).
    pub fn record_deliveries<S: Store>(
        &self,
        store: &S,
        clock: &dyn Clock,
        id: &str,
        records: &[DeliveryRecord],
    ) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        let (creator, unmoved) = update(
            store,
            clock,
            &transitions_key(id),
            Absent::Wait,
            |cur: Option<TransitionLog>| {
                let mut log = cur.unwrap_or_default();
                let first = log.delivered.values().all(|c| c.ok + c.failed == 0);
                for r in records {
                    let count = log.delivered.entry(r.channel.clone()).or_default();
                    if r.ok {
                        count.ok += 1;
                    } else {
                        count.failed += 1;
                    }
                }
                let unmoved = log.take_unmoved();
                let creator = first || !unmoved.is_empty();
                UpdateStep::Write(log, (creator, unmoved))
            },
        )?;
        update(
            store,
            clock,
            &deliveries_key(id),
            Absent::create_if(creator),
            |cur: Option<DeliveryLog>| {
                let mut log = cur.unwrap_or_default();
                log.deliveries.extend(unmoved.iter().cloned());
                log.deliveries.extend(records.iter().cloned());
                // Writers racing for one service append in either order; the log reads by time.
                log.deliveries.sort_by_key(|r| r.at);
                keep_newest(&mut log.deliveries, MAX_DELIVERY_RECORDS);
                UpdateStep::Write(log, ())
            },
        )
    }

    /// Keep a note (`/start` or `/log`): two writes, and nothing else changes. The holder of
    /// the first note number creates the key (see the designated-creator rule above).
    pub fn record_note<S: Store>(
        &self,
        store: &S,
        clock: &dyn Clock,
        id: &str,
        note: Note,
    ) -> Result<(), StoreError> {
        let n = store.increment(&notes_seq_key(id), 1)?;
        let absent = Absent::create_if(n == 1);
        update(
            store,
            clock,
            &notes_key(id),
            absent,
            |cur: Option<NoteLog>| {
                let mut log = cur.unwrap_or_default();
                log.notes.push(note.clone());
                log.notes.sort_by_key(|n| n.at);
                keep_newest(&mut log.notes, MAX_NOTES);
                UpdateStep::Write(log, ())
            },
        )
    }

    /// Remember that a run started at `at`, so a run that never finishes makes the service
    /// `down` after grace. A service never heard from has no state yet and is left alone (its
    /// first heartbeat's writer creates the state).
    pub fn record_start<S: Store>(
        &self,
        store: &S,
        clock: &dyn Clock,
        id: &str,
        at: i64,
    ) -> Result<(), StoreError> {
        edit_state(store, clock, id, |s| {
            let later = at > s.last_heartbeat && s.started.is_none_or(|t| t < at);
            later.then(|| s.started = Some(at))
        })?;
        Ok(())
    }

    /// Pause a service's notifications from `now` (an existing pause keeps its start).
    pub fn pause<S: Store>(&self, store: &S, id: &str, now: i64) -> Result<Pause, StoreError> {
        if let Some(p) = decode::<Pause>(store.get(&pause_key(id))?) {
            return Ok(p);
        }
        let pause = Pause { since: now };
        store.set(&pause_key(id), &encode(&pause))?;
        Ok(pause)
    }

    pub fn resume<S: Store>(&self, store: &S, id: &str) -> Result<(), StoreError> {
        store.delete(&pause_key(id))
    }

    /// Claim the right to tell, at `now`, about a `down` that was held back: the service is still
    /// down and its episode was not told. `transition` is the down it tells about; like any
    /// claimed change it stays unsent until settled. Returns the new state to whoever wins.
    pub fn claim_release<S: Store>(
        &self,
        store: &S,
        clock: &dyn Clock,
        id: &str,
        now: i64,
        transition: &Transition,
    ) -> Result<Option<ServiceState>, StoreError> {
        edit_state(store, clock, id, |s| {
            if !s.notified.held || s.status != crate::model::Status::Down {
                return None;
            }
            s.notified.held = false;
            s.notified.episode = true;
            s.notified.record(crate::model::Event::Down, now);
            let unsent = Unsent {
                transitions: vec![transition.clone()],
                event: Some(crate::model::Event::Down),
                previous_since: Some(s.since),
                claimed: now,
            };
            keep_unsent(s, unsent);
            Some(s.clone())
        })
    }

    /// Claim the reminders due at `now` for a service that is still down and was told so:
    /// each of `channels` (name, interval in ms) whose last reminder — or the down notification
    /// itself — is at least its interval old. The compare-and-swap makes overlapping sweeps
    /// agree on who sends each reminder.
    pub fn claim_reminders<S: Store>(
        &self,
        store: &S,
        clock: &dyn Clock,
        id: &str,
        now: i64,
        channels: &[(String, i64)],
    ) -> Result<Option<(ServiceState, Vec<String>)>, StoreError> {
        edit_state(store, clock, id, |s| {
            let (Some(told), true) = (s.notified.down, s.notified.episode) else {
                return None;
            };
            if s.status != crate::model::Status::Down {
                return None;
            }
            let due: Vec<String> = channels
                .iter()
                .filter(|(name, every)| {
                    let last = s.notified.reminded.get(name).copied().unwrap_or(told);
                    now - last >= *every
                })
                .map(|(name, _)| name.clone())
                .collect();
            if due.is_empty() {
                return None;
            }
            for name in &due {
                s.notified.reminded.insert(name.clone(), now);
            }
            Some((s.clone(), due))
        })
    }

    /// Claim the right to run an overdue sweep. Two claimers may both win on a brand-new
    /// store (absent-key CAS); that only costs a duplicate sweep, which is idempotent.
    pub fn claim_sweep<S: Store>(
        &self,
        store: &S,
        now: i64,
        overdue_ms: i64,
    ) -> Result<bool, StoreError> {
        let (cas, bytes) = store.cas(SWEEP_KEY)?;
        if let Some(mark) = decode::<SweepMark>(bytes) {
            if now - mark.at < overdue_ms {
                return Ok(false);
            }
        }
        store.swap(cas, &encode(&SweepMark { at: now }))
    }

    /// Decide whether to relay an external alert: a firing alert seen within `cooldown_ms` is
    /// held back; a resolution always goes out and clears the entry. Alerts are not on the
    /// heartbeat path, so one shared key is fine; on Spin's store two very first alerts may
    /// both create it, which at worst lets one repeat through.
    pub fn claim_alert<S: Store>(
        &self,
        store: &S,
        clock: &dyn Clock,
        dedup_key: &str,
        firing: bool,
        now: i64,
        cooldown_ms: i64,
    ) -> Result<bool, StoreError> {
        if firing && cooldown_ms <= 0 {
            return Ok(true);
        }
        update(
            store,
            clock,
            ALERTS_KEY,
            Absent::Create,
            |cur: Option<RecentAlerts>| {
                let mut recent = cur.unwrap_or_default();
                recent.fired.retain(|_, at| now - *at < cooldown_ms);
                if !firing {
                    let had = recent.fired.remove(dedup_key).is_some();
                    return if had {
                        UpdateStep::Write(recent, true)
                    } else {
                        UpdateStep::Done(true)
                    };
                }
                if recent.fired.contains_key(dedup_key) {
                    return UpdateStep::Done(false);
                }
                recent.fired.insert(dedup_key.to_string(), now);
                while recent.fired.len() > MAX_RECENT_ALERTS {
                    let oldest = recent
                        .fired
                        .iter()
                        .min_by_key(|(_, at)| **at)
                        .map(|(k, _)| k.clone())
                        .expect("non-empty");
                    recent.fired.remove(&oldest);
                }
                UpdateStep::Write(recent, true)
            },
        )
    }

    /// Keep a received alert and its deliveries in the alert log (newest kept).
    pub fn record_alert<S: Store>(
        &self,
        store: &S,
        clock: &dyn Clock,
        record: AlertRecord,
    ) -> Result<(), StoreError> {
        update(
            store,
            clock,
            ALERT_LOG_KEY,
            Absent::Create,
            |cur: Option<AlertLog>| {
                let mut log = cur.unwrap_or_default();
                log.entries.push(record.clone());
                keep_newest(&mut log.entries, MAX_ALERT_RECORDS);
                UpdateStep::Write(log, ())
            },
        )
    }

    /// Note that a sweep ran (an explicit `POST /api/sweep`).
    pub fn mark_sweep<S: Store>(&self, store: &S, now: i64) -> Result<(), StoreError> {
        store.set(SWEEP_KEY, &encode(&SweepMark { at: now }))
    }
}
