//! How services live in the key-value store, and the only code that writes there.
//!
//! Keys, per service (a handful, whatever the history length — Spin's default store documents
//! 1,024 keys in all):
//!
//! | key | value | written |
//! |---|---|---|
//! | `svc/{id}/seq` | 8-byte LE counter | `increment`, every heartbeat |
//! | `svc/{id}/log/{0..5}` | [`LogChunk`] JSON | CAS, every heartbeat |
//! | `svc/{id}/state` | [`ServiceState`] JSON | CAS, every heartbeat and each silence |
//! | `svc/{id}/flips` | [`FlipLog`] JSON (90 days) | CAS, only on a transition |
//! | `sweep/last` | [`SweepMark`] JSON | CAS, once per sweep |
//!
//! So a heartbeat costs three writes (five when it changes the status: the history, and the
//! state once more to settle the change — see [`Layout::settle`]), touches nothing shared with
//! other services, and never rewrites a growing value.
//!
//! Ordering comes from `increment`, which is exact on every store. Compare-and-swap is exact
//! only on keys that exist: on Spin's default store a swap against an absent key is an
//! unconditional upsert, so two "first" writers can erase each other. Each key therefore has
//! one designated creator — the writer holding the first sequence number that lands in it —
//! and everyone else waits briefly for it to appear instead of creating it.

use crate::clock::Clock;
use crate::model::{LogEntry, Note, ServiceState, Transition, Unsent};
use crate::state::{self, Beat, Change, Policy};
use crate::store::{Store, StoreError};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Log slots per service; each holds a chunk of `chunk_size` consecutive entries.
pub const LOG_SLOTS: i64 = 5;
/// How long transitions are kept.
pub const HISTORY_MS: i64 = 90 * 24 * 3600 * 1000;
/// Upper bound on kept transitions, so a flapping service cannot grow its value without limit.
pub const MAX_FLIPS: usize = 2000;
/// Attempts while a designated creator has not written a key yet (~3 s in all).
const CREATE_WAIT_ATTEMPTS: u32 = 40;
/// CAS attempts before giving up under extreme contention.
const CAS_ATTEMPTS: u32 = 500;
/// Unsent changes kept per service; older ones are dropped (only a long store outage piles
/// them up).
pub const MAX_UNSENT: usize = 16;

/// A run of consecutive log entries.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LogChunk {
    pub chunk: i64,
    pub entries: Vec<LogEntry>,
}

/// A service's transitions, oldest first, and the newest delivery attempts they caused. They
/// share a key because both change only on a transition: no extra key, no creation race.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FlipLog {
    pub flips: Vec<Transition>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deliveries: Vec<DeliveryRecord>,
    /// Every delivery ever recorded, per channel name: `/metrics` serves these as counters, so
    /// they must only grow, unlike the capped log above.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub delivered: BTreeMap<String, DeliveryCount>,
}

/// Deliveries to one channel, by outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryCount {
    pub ok: u64,
    pub failed: u64,
}

/// Delivery records kept per service.
pub const MAX_DELIVERY_RECORDS: usize = 100;

/// One channel's delivery of one event, as kept in the delivery log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryRecord {
    /// When the delivery finished.
    pub at: i64,
    pub event: crate::model::Event,
    /// The transition it announced.
    pub transition_at: i64,
    pub channel: String,
    pub channel_type: String,
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    pub latency_ms: u32,
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Each request's outcome.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tries: Vec<crate::notify::Try>,
}

/// When the last sweep ran.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SweepMark {
    pub at: i64,
}

pub fn seq_key(id: &str) -> String {
    format!("svc/{id}/seq")
}
pub fn state_key(id: &str) -> String {
    format!("svc/{id}/state")
}
pub fn flips_key(id: &str) -> String {
    format!("svc/{id}/flips")
}
pub fn log_key(id: &str, slot: i64) -> String {
    format!("svc/{id}/log/{slot}")
}
/// The newest notes (`/start`, `/log` pings) of a service: they change no state, so they live
/// beside the numbered log rather than in it.
pub fn notes_key(id: &str) -> String {
    format!("svc/{id}/notes")
}
/// Numbers notes, so that exactly one writer creates the notes key.
pub fn notes_seq_key(id: &str) -> String {
    format!("svc/{id}/notes-seq")
}

/// Present while a service is paused (`POST /api/services/{id}/pause`); its value says since
/// when. Plain set and delete: pausing twice or resuming twice changes nothing.
pub fn pause_key(id: &str) -> String {
    format!("svc/{id}/paused")
}

/// A pause, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Pause {
    pub since: i64,
}

/// Notes kept per service.
pub const MAX_NOTES: usize = 50;

/// A service's newest notes, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NoteLog {
    pub notes: Vec<Note>,
}

pub const SWEEP_KEY: &str = "sweep/last";
/// Recently fired external alerts, for their cooldown.
pub const ALERTS_KEY: &str = "alerts/recent";
/// Alerts remembered for cooldown at most.
const MAX_RECENT_ALERTS: usize = 1000;

/// Received external alerts, newest last.
pub const ALERT_LOG_KEY: &str = "alerts/log";
/// Alert log entries kept.
pub const MAX_ALERT_RECORDS: usize = 200;

/// One received external alert and what was done with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertRecord {
    pub at: i64,
    pub format: String,
    pub title: String,
    pub status: String,
    pub severity: String,
    pub dedup_key: String,
    pub suppressed: bool,
    #[serde(default)]
    pub deliveries: Vec<DeliveryRecord>,
}

/// The alert log.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AlertLog {
    pub entries: Vec<AlertRecord>,
}

/// When each recently fired alert (by dedup key) was last relayed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RecentAlerts {
    pub fired: std::collections::BTreeMap<String, i64>,
}

/// Entries per log chunk: `LOG_SLOTS - 1` chunks always cover the newest `max` entries.
pub fn chunk_size(max_log_entries: usize) -> i64 {
    ((max_log_entries as i64 + LOG_SLOTS - 2) / (LOG_SLOTS - 1)).max(1)
}

/// How a service is judged: its silence threshold, the notification policy, and whether any
/// channel takes an event (an event nobody receives is not recorded as told).
pub struct Rules<'a> {
    pub schedule: &'a crate::schedule::Schedule,
    pub policy: Policy,
    pub wanted: &'a dyn Fn(crate::model::Event) -> bool,
}

/// What happened to one accepted heartbeat.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    pub seq: i64,
    /// Set when this heartbeat changed the state (it won the claim).
    pub change: Option<Change>,
}

/// What a CAS update closure decided.
enum Step<T, R> {
    Write(T, R),
    Done(R),
}

/// What to do when the key does not exist yet.
#[derive(Clone, Copy, PartialEq)]
enum Absent {
    /// This writer is the key's designated creator.
    Create,
    /// Someone else creates it; wait, then create anyway if they never do.
    Wait,
    /// Nothing to update.
    Skip,
}

fn decode<T: DeserializeOwned>(bytes: Option<Vec<u8>>) -> Option<T> {
    // A value we cannot read is treated as absent-but-existing: overwriting it beats wedging
    // the service forever.
    bytes.and_then(|b| serde_json::from_slice(&b).ok())
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("plain data serializes")
}

/// Read-modify-write `key` with compare-and-swap until the swap lands.
fn update<S: Store, T: Serialize + DeserializeOwned, R>(
    store: &S,
    clock: &dyn Clock,
    key: &str,
    absent: Absent,
    mut f: impl FnMut(Option<T>) -> Step<T, R>,
) -> Result<R, StoreError> {
    let mut waited = 0;
    for _ in 0..CAS_ATTEMPTS {
        let (cas, bytes) = store.cas(key)?;
        if bytes.is_none() {
            match absent {
                Absent::Skip => {
                    if let Step::Done(r) = f(None) {
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
            Step::Done(r) => return Ok(r),
            Step::Write(value, r) => {
                if store.swap(cas, &encode(&value))? {
                    return Ok(r);
                }
            }
        }
    }
    Err(StoreError(format!("{key}: too much contention")))
}

/// Sort a history in the order its transitions were claimed. Writers append their transitions
/// independently, so two changes claimed in the same millisecond may arrive in either order;
/// the heartbeat number each follows orders them (the state only ever moves forward in time
/// and number). Transitions stored before they carried a number, and so equal in both, are
/// ordered so that each starts where the one before it ended.
fn chain_order(flips: &mut [Transition]) {
    flips.sort_by_key(|t| (t.at, t.seq));
    let mut start = 0;
    while start < flips.len() {
        let key = (flips[start].at, flips[start].seq);
        let end = start + flips[start..].partition_point(|t| (t.at, t.seq) == key);
        // A history that has not aged out starts from `unknown`.
        let mut current = match start {
            0 => crate::model::Status::Unknown,
            _ => flips[start - 1].to,
        };
        for i in start..end {
            let next = (i..end).find(|&j| flips[j].from == current).unwrap_or(i);
            flips.swap(i, next);
            current = flips[i].to;
        }
        start = end;
    }
}

/// The state to write for a claimed change: its new state, with the change remembered as
/// unsent when it makes transitions, until [`Layout::settle`] confirms it.
fn remember(change: &Change, now: i64) -> ServiceState {
    let mut state = change.state.clone();
    if !change.transitions.is_empty() {
        keep_unsent(
            &mut state,
            Unsent {
                transitions: change.transitions.clone(),
                event: change.notify,
                previous_since: change.previous_since,
                claimed: now,
            },
        );
    }
    state
}

/// Add a claimed change to the state's unsent list, dropping the oldest beyond [`MAX_UNSENT`].
fn keep_unsent(state: &mut ServiceState, unsent: Unsent) {
    let list = &mut state.notified.unsent;
    list.push(unsent);
    let excess = list.len().saturating_sub(MAX_UNSENT);
    list.drain(..excess);
}

/// Edit a service's existing state: `edit` changes it and says what to report, or returns
/// `None` to leave it as it was. A service with no state yet is left to its first heartbeat.
fn edit_state<S: Store, R>(
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
                return Step::Done(None);
            };
            match edit(&mut s) {
                Some(r) => Step::Write(s, Some(r)),
                None => Step::Done(None),
            }
        },
    )
}

/// The storage layout with its one setting.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    pub max_log_entries: usize,
}

impl Layout {
    fn chunk_size(&self) -> i64 {
        chunk_size(self.max_log_entries)
    }

    /// Record one validated heartbeat: number it, log it, then claim any state change.
    pub fn record_heartbeat<S: Store>(
        &self,
        store: &S,
        clock: &dyn Clock,
        id: &str,
        mut entry: LogEntry,
        rules: &Rules<'_>,
    ) -> Result<Recorded, StoreError> {
        let seq = store.increment(&seq_key(id), 1)?;
        entry.seq = seq;
        let beat = Beat {
            seq,
            at: entry.at,
            status: entry.status,
            message: entry.message.clone(),
            metadata: entry.metadata.clone(),
            duration_ms: entry.duration_ms,
        };
        self.append_log(store, clock, id, entry)?;

        let creator = if seq == 1 {
            Absent::Create
        } else {
            Absent::Wait
        };
        let change = update(
            store,
            clock,
            &state_key(id),
            creator,
            |cur: Option<ServiceState>| match state::apply_heartbeat(
                cur.as_ref(),
                &beat,
                rules.schedule,
                rules.policy,
                rules.wanted,
            ) {
                Some(change) => Step::Write(remember(&change, beat.at), Some(change)),
                None => Step::Done(None),
            },
        )?;
        if let Some(change) = change.as_ref().filter(|c| !c.transitions.is_empty()) {
            // Whoever created the state created the service's history with it.
            let flips_creator = if change.transitions.first().map(|t| t.from)
                == Some(crate::model::Status::Unknown)
            {
                Absent::Create
            } else {
                Absent::Wait
            };
            self.append_flips(
                store,
                clock,
                id,
                &change.transitions,
                beat.at,
                flips_creator,
            )?;
        }
        Ok(Recorded { seq, change })
    }

    fn append_log<S: Store>(
        &self,
        store: &S,
        clock: &dyn Clock,
        id: &str,
        entry: LogEntry,
    ) -> Result<(), StoreError> {
        let size = self.chunk_size();
        let chunk = (entry.seq - 1) / size;
        let slot = chunk % LOG_SLOTS;
        // The slot exists after its first round; in that round the chunk's first entry creates it.
        let absent = if chunk < LOG_SLOTS && (entry.seq - 1) % size == 0 {
            Absent::Create
        } else {
            Absent::Wait
        };
        update(
            store,
            clock,
            &log_key(id, slot),
            absent,
            |cur: Option<LogChunk>| {
                let mut c = cur.unwrap_or_default();
                if c.chunk > chunk {
                    // A much newer chunk already took the slot: this entry aged out of the log.
                    return Step::Done(());
                }
                if c.chunk < chunk || c.entries.is_empty() {
                    c = LogChunk {
                        chunk,
                        entries: Vec::new(),
                    };
                }
                if c.entries.iter().any(|e| e.seq == entry.seq) {
                    return Step::Done(());
                }
                c.entries.push(entry.clone());
                c.entries.sort_by_key(|e| e.seq);
                Step::Write(c, ())
            },
        )
    }

    fn append_flips<S: Store>(
        &self,
        store: &S,
        clock: &dyn Clock,
        id: &str,
        transitions: &[Transition],
        now: i64,
        absent: Absent,
    ) -> Result<(), StoreError> {
        update(
            store,
            clock,
            &flips_key(id),
            absent,
            |cur: Option<FlipLog>| {
                let mut log = cur.unwrap_or_default();
                let new: Vec<_> = transitions
                    .iter()
                    .filter(|t| !log.flips.contains(t))
                    .cloned()
                    .collect();
                if new.is_empty() {
                    // Already there: a recovery finishing a change its claimer had written.
                    return Step::Done(());
                }
                log.flips.extend(new);
                chain_order(&mut log.flips);
                log.flips.retain(|t| now - t.at <= HISTORY_MS);
                let excess = log.flips.len().saturating_sub(MAX_FLIPS);
                log.flips.drain(..excess);
                Step::Write(log, ())
            },
        )
    }

    /// Confirm that a claimed change (named by its last transition and its event) is in the
    /// history and was handed to the notifier: it leaves the state's unsent list. The event
    /// tells apart a held `down` and its later release, which share the transition.
    pub fn settle<S: Store>(
        &self,
        store: &S,
        clock: &dyn Clock,
        id: &str,
        last: &Transition,
        event: Option<crate::model::Event>,
    ) -> Result<(), StoreError> {
        edit_state(store, clock, id, |s| {
            let before = s.notified.unsent.len();
            s.notified
                .unsent
                .retain(|u| u.last() != Some(last) || u.event != event);
            (s.notified.unsent.len() < before).then_some(())
        })?;
        Ok(())
    }

    /// Take over the oldest unsent change of a service whose owner has had `lease_ms` to finish
    /// it and has not (it crashed, or its store failed): it is claimed afresh at `now`, so
    /// overlapping sweeps finish it once.
    pub fn claim_unsent<S: Store>(
        &self,
        store: &S,
        clock: &dyn Clock,
        id: &str,
        now: i64,
        lease_ms: i64,
    ) -> Result<Option<Unsent>, StoreError> {
        edit_state(store, clock, id, |s| {
            let u = s
                .notified
                .unsent
                .iter_mut()
                .find(|u| now - u.claimed >= lease_ms)?;
            u.claimed = now;
            Some(u.clone())
        })
    }

    /// Write transitions a recovered change claimed into the history, unless they are there.
    pub fn restore_flips<S: Store>(
        &self,
        store: &S,
        clock: &dyn Clock,
        id: &str,
        transitions: &[Transition],
        now: i64,
    ) -> Result<(), StoreError> {
        // Its claimer may have died before creating the history; nobody else will now.
        self.append_flips(store, clock, id, transitions, now, Absent::Create)
    }

    /// Mark a silent service down, if it still needs it. The CAS makes overlapping sweeps (and
    /// a racing heartbeat) agree on one winner.
    pub fn record_silence<S: Store>(
        &self,
        store: &S,
        clock: &dyn Clock,
        id: &str,
        now: i64,
        rules: &Rules<'_>,
    ) -> Result<Option<Change>, StoreError> {
        let change = update(
            store,
            clock,
            &state_key(id),
            Absent::Skip,
            |cur: Option<ServiceState>| match cur.and_then(|s| {
                state::apply_silence(&s, rules.schedule, now, rules.policy, rules.wanted)
            }) {
                Some(change) => Step::Write(remember(&change, now), Some(change)),
                None => Step::Done(None),
            },
        )?;
        if let Some(change) = &change {
            self.append_flips(store, clock, id, &change.transitions, now, Absent::Wait)?;
        }
        Ok(change)
    }

    /// Append delivery outcomes to a service's delivery log (newest kept). The history key
    /// exists: a delivery always follows a recorded transition.
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
        update(
            store,
            clock,
            &flips_key(id),
            Absent::Wait,
            |cur: Option<FlipLog>| {
                let mut log = cur.unwrap_or_default();
                for r in records {
                    let count = log.delivered.entry(r.channel.clone()).or_default();
                    if r.ok {
                        count.ok += 1;
                    } else {
                        count.failed += 1;
                    }
                }
                log.deliveries.extend(records.iter().cloned());
                let excess = log.deliveries.len().saturating_sub(MAX_DELIVERY_RECORDS);
                log.deliveries.drain(..excess);
                Step::Write(log, ())
            },
        )
    }

    /// A service's delivery log, newest first.
    pub fn deliveries<S: Store>(
        &self,
        store: &S,
        id: &str,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        let mut records = decode::<FlipLog>(store.get(&flips_key(id))?)
            .unwrap_or_default()
            .deliveries;
        records.reverse();
        Ok(records)
    }

    /// States of many services in one batch read, in the order given.
    pub fn states<S: Store>(
        &self,
        store: &S,
        ids: &[&str],
    ) -> Result<Vec<Option<ServiceState>>, StoreError> {
        let keys: Vec<String> = ids.iter().map(|id| state_key(id)).collect();
        Ok(store.get_many(&keys)?.into_iter().map(decode).collect())
    }

    /// Histories of many services in one batch read, in the order given.
    pub fn histories<S: Store>(
        &self,
        store: &S,
        ids: &[&str],
    ) -> Result<Vec<Vec<Transition>>, StoreError> {
        Ok(self
            .flip_logs(store, ids)?
            .into_iter()
            .map(|log| log.flips)
            .collect())
    }

    /// Transitions and delivery records of many services in one batch read, in the order given.
    pub fn flip_logs<S: Store>(&self, store: &S, ids: &[&str]) -> Result<Vec<FlipLog>, StoreError> {
        let keys: Vec<String> = ids.iter().map(|id| flips_key(id)).collect();
        Ok(store
            .get_many(&keys)?
            .into_iter()
            .map(|b| decode::<FlipLog>(b).unwrap_or_default())
            .collect())
    }

    /// The newest `max_log_entries` heartbeats of a service, newest first.
    pub fn log<S: Store>(&self, store: &S, id: &str) -> Result<Vec<LogEntry>, StoreError> {
        let keys: Vec<String> = (0..LOG_SLOTS).map(|slot| log_key(id, slot)).collect();
        let mut entries: Vec<LogEntry> = store
            .get_many(&keys)?
            .into_iter()
            .filter_map(decode::<LogChunk>)
            .flat_map(|c| c.entries)
            .collect();
        entries.sort_by_key(|e| std::cmp::Reverse(e.seq));
        entries.truncate(self.max_log_entries);
        Ok(entries)
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
        let absent = if n == 1 { Absent::Create } else { Absent::Wait };
        update(
            store,
            clock,
            &notes_key(id),
            absent,
            |cur: Option<NoteLog>| {
                let mut log = cur.unwrap_or_default();
                log.notes.push(note.clone());
                log.notes.sort_by_key(|n| n.at);
                let excess = log.notes.len().saturating_sub(MAX_NOTES);
                log.notes.drain(..excess);
                Step::Write(log, ())
            },
        )
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

    /// The pauses of many services in one batch read, in the order given.
    pub fn pauses<S: Store>(
        &self,
        store: &S,
        ids: &[&str],
    ) -> Result<Vec<Option<Pause>>, StoreError> {
        let keys: Vec<String> = ids.iter().map(|id| pause_key(id)).collect();
        Ok(store.get_many(&keys)?.into_iter().map(decode).collect())
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

    /// A service's notes, oldest first.
    pub fn notes<S: Store>(&self, store: &S, id: &str) -> Result<Vec<Note>, StoreError> {
        Ok(decode::<NoteLog>(store.get(&notes_key(id))?)
            .unwrap_or_default()
            .notes)
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
                        Step::Write(recent, true)
                    } else {
                        Step::Done(true)
                    };
                }
                if recent.fired.contains_key(dedup_key) {
                    return Step::Done(false);
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
                Step::Write(recent, true)
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
                let excess = log.entries.len().saturating_sub(MAX_ALERT_RECORDS);
                log.entries.drain(..excess);
                Step::Write(log, ())
            },
        )
    }

    /// The alert log, newest first.
    pub fn alert_log<S: Store>(&self, store: &S) -> Result<Vec<AlertRecord>, StoreError> {
        let mut entries = decode::<AlertLog>(store.get(ALERT_LOG_KEY)?)
            .unwrap_or_default()
            .entries;
        entries.reverse();
        Ok(entries)
    }

    /// Note that a sweep ran (an explicit `POST /api/sweep`).
    pub fn mark_sweep<S: Store>(&self, store: &S, now: i64) -> Result<(), StoreError> {
        store.set(SWEEP_KEY, &encode(&SweepMark { at: now }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::model::{Event, Status};
    use crate::store::MemoryStore;

    const POLICY: Policy = Policy {
        cooldown_ms: 0,
        quiet: false,
    };

    #[test]
    fn transitions_in_one_millisecond_are_kept_as_a_chain_whatever_order_they_arrive_in() {
        use crate::model::Transition as T;
        let t = |at, from, to| T::by_heartbeat(at, from, to);
        let mut flips = vec![
            t(5, Status::Up, Status::Down),
            t(9, Status::Degraded, Status::Up),
            t(9, Status::Down, Status::Degraded),
            t(1, Status::Unknown, Status::Up),
            t(9, Status::Up, Status::Down),
        ];
        chain_order(&mut flips);
        let statuses: Vec<_> = flips.iter().map(|t| (t.at, t.from, t.to)).collect();
        assert_eq!(
            statuses,
            [
                (1, Status::Unknown, Status::Up),
                (5, Status::Up, Status::Down),
                (9, Status::Down, Status::Degraded),
                (9, Status::Degraded, Status::Up),
                (9, Status::Up, Status::Down),
            ]
        );
    }

    /// Regression: two transitions with the same statuses in one millisecond were taken for
    /// one — the second was dropped from the history and settled with the first.
    #[test]
    fn repeated_transitions_in_one_millisecond_are_all_kept_in_claim_order() {
        let layout = Layout {
            max_log_entries: 10,
        };
        let store = MemoryStore::default();
        let clock = ManualClock::at(0);
        for status in [Status::Up, Status::Degraded, Status::Up, Status::Degraded] {
            let recorded = beat(&layout, &store, &clock, 7, status);
            assert!(recorded.change.is_some());
        }
        let flips = &layout.histories(&store, &["svc"]).unwrap()[0];
        let chain: Vec<_> = flips.iter().map(|t| (t.seq, t.from, t.to)).collect();
        assert_eq!(
            chain,
            [
                (1, Status::Unknown, Status::Up),
                (2, Status::Up, Status::Degraded),
                (3, Status::Degraded, Status::Up),
                (4, Status::Up, Status::Degraded),
            ]
        );
    }

    static SIXTY: crate::schedule::Schedule = crate::schedule::Schedule {
        kind: crate::schedule::Kind::Period { period_ms: 60_000 },
        grace_ms: 0,
        confirmations: 1,
    };
    const RULES: Rules<'static> = Rules {
        schedule: &SIXTY,
        policy: POLICY,
        wanted: &|_| true,
    };

    fn entry(at: i64, status: Status, message: &str) -> LogEntry {
        LogEntry::new(at, status, Some(message.into()), None)
    }

    fn beat(
        layout: &Layout,
        store: &MemoryStore,
        clock: &ManualClock,
        at: i64,
        status: Status,
    ) -> Recorded {
        layout
            .record_heartbeat(
                store,
                clock,
                "svc",
                entry(at, status, &format!("m{at}")),
                &RULES,
            )
            .unwrap()
    }

    #[test]
    fn a_steady_heartbeat_costs_three_writes_and_a_transition_four() {
        let layout = Layout {
            max_log_entries: 100,
        };
        let store = MemoryStore::default();
        let clock = ManualClock::at(0);
        beat(&layout, &store, &clock, 1, Status::Up);
        store.writes.set(0);
        beat(&layout, &store, &clock, 2, Status::Up);
        assert_eq!(store.writes.get(), 3);
        store.writes.set(0);
        beat(&layout, &store, &clock, 3, Status::Down);
        assert_eq!(store.writes.get(), 4);
    }

    #[test]
    fn log_keeps_the_newest_entries_in_few_keys() {
        let layout = Layout {
            max_log_entries: 10,
        };
        let store = MemoryStore::default();
        let clock = ManualClock::at(0);
        for at in 1..=57 {
            beat(&layout, &store, &clock, at, Status::Up);
        }
        let log = layout.log(&store, "svc").unwrap();
        assert_eq!(log.len(), 10);
        assert_eq!(log[0].at, 57);
        assert_eq!(log[9].at, 48);
        assert!(store.keys().len() <= 3 + LOG_SLOTS as usize);
    }

    #[test]
    fn silence_is_claimed_once() {
        let layout = Layout {
            max_log_entries: 10,
        };
        let store = MemoryStore::default();
        let clock = ManualClock::at(0);
        beat(&layout, &store, &clock, 0, Status::Up);
        let first = layout
            .record_silence(&store, &clock, "svc", 61_000, &RULES)
            .unwrap();
        assert_eq!(first.unwrap().notify, Some(Event::Down));
        let second = layout
            .record_silence(&store, &clock, "svc", 62_000, &RULES)
            .unwrap();
        assert_eq!(second, None);
        let flips = layout.histories(&store, &["svc"]).unwrap();
        assert_eq!(flips[0].len(), 2);
    }

    #[test]
    fn delivery_counters_keep_growing_after_the_log_is_capped() {
        let layout = Layout {
            max_log_entries: 10,
        };
        let store = MemoryStore::default();
        let clock = ManualClock::at(0);
        beat(&layout, &store, &clock, 0, Status::Up);
        let record = |ok: bool| DeliveryRecord {
            at: 1,
            event: Event::Down,
            transition_at: 1,
            channel: "ops".into(),
            channel_type: "webhook".into(),
            ok,
            http_status: None,
            latency_ms: 1,
            attempts: 1,
            error: None,
            tries: Vec::new(),
        };
        let batch: Vec<DeliveryRecord> = (0..MAX_DELIVERY_RECORDS)
            .map(|i| record(i % 4 != 0))
            .collect();
        layout
            .record_deliveries(&store, &clock, "svc", &batch)
            .unwrap();
        layout
            .record_deliveries(&store, &clock, "svc", &batch)
            .unwrap();
        let log = &layout.flip_logs(&store, &["svc"]).unwrap()[0];
        assert_eq!(log.deliveries.len(), MAX_DELIVERY_RECORDS);
        assert_eq!(
            log.delivered["ops"],
            DeliveryCount {
                ok: 150,
                failed: 50
            }
        );
    }

    #[test]
    fn silence_on_a_never_seen_service_writes_nothing() {
        let layout = Layout {
            max_log_entries: 10,
        };
        let store = MemoryStore::default();
        let clock = ManualClock::at(0);
        assert_eq!(
            layout
                .record_silence(&store, &clock, "new", 1_000_000, &RULES)
                .unwrap(),
            None
        );
        assert!(store.keys().is_empty());
    }

    #[test]
    fn sweep_claim_is_granted_once_per_interval() {
        let layout = Layout {
            max_log_entries: 10,
        };
        let store = MemoryStore::default();
        assert!(layout.claim_sweep(&store, 0, 60_000).unwrap());
        assert!(!layout.claim_sweep(&store, 30_000, 60_000).unwrap());
        assert!(layout.claim_sweep(&store, 60_000, 60_000).unwrap());
    }
}
