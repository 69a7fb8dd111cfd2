//! The heartbeat path: number and log a heartbeat, claim the change it makes, settle it once
//! told; and the sweep's silences.

use super::update::{edit_state, keep_newest, update, Absent, UpdateStep};
use super::values::*;
use super::Layout;
use crate::clock::Clock;
use crate::keys::*;
use crate::model::{LogEntry, ServiceState, Transition, Unsent};
use crate::state::{self, Beat, Change, Policy};
use crate::store::{Store, StoreError};

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

/// Sort a history in the order its transitions were claimed. Writers append their transitions
/// independently, so two changes claimed in the same millisecond may arrive in either order;
/// the heartbeat number each follows orders them (the state only ever moves forward in time
/// and number). Transitions stored before they carried a number, and so equal in both, are
/// ordered so that each starts where the one before it ended.
pub(super) fn chain_order(transitions: &mut [Transition]) {
    transitions.sort_by_key(|t| (t.at, t.seq));
    let mut start = 0;
    while start < transitions.len() {
        let key = (transitions[start].at, transitions[start].seq);
        let end = start + transitions[start..].partition_point(|t| (t.at, t.seq) == key);
        // A history that has not aged out starts from `unknown`.
        let mut current = match start {
            0 => crate::model::Status::Unknown,
            _ => transitions[start - 1].to,
        };
        for i in start..end {
            let next = (i..end)
                .find(|&j| transitions[j].from == current)
                .unwrap_or(i);
            transitions.swap(i, next);
            current = transitions[i].to;
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
pub(super) fn keep_unsent(state: &mut ServiceState, unsent: Unsent) {
    let list = &mut state.notified.unsent;
    list.push(unsent);
    keep_newest(list, MAX_UNSENT);
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

        let creator = Absent::create_if(seq == 1);
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
                Some(change) => UpdateStep::Write(remember(&change, beat.at), Some(change)),
                None => UpdateStep::Done(None),
            },
        )?;
        if let Some(change) = change.as_ref().filter(|c| !c.transitions.is_empty()) {
            // Whoever created the state created the service's history with it.
            let transitions_creator = Absent::create_if(
                change.transitions.first().map(|t| t.from) == Some(crate::model::Status::Unknown),
            );
            self.append_transitions(
                store,
                clock,
                id,
                &change.transitions,
                beat.at,
                transitions_creator,
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
        let absent = Absent::create_if(chunk < LOG_SLOTS && (entry.seq - 1) % size == 0);
        update(
            store,
            clock,
            &log_key(id, slot),
            absent,
            |cur: Option<LogChunk>| {
                let mut c = cur.unwrap_or_default();
                if c.chunk > chunk {
                    // A much newer chunk already took the slot: this entry aged out of the log.
                    return UpdateStep::Done(());
                }
                if c.chunk < chunk || c.entries.is_empty() {
                    c = LogChunk {
                        chunk,
                        entries: Vec::new(),
                    };
                }
                if c.entries.iter().any(|e| e.seq == entry.seq) {
                    return UpdateStep::Done(());
                }
                c.entries.push(entry.clone());
                c.entries.sort_by_key(|e| e.seq);
                UpdateStep::Write(c, ())
            },
        )
    }

    fn append_transitions<S: Store>(
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
            &transitions_key(id),
            absent,
            |cur: Option<TransitionLog>| {
                let mut log = cur.unwrap_or_default();
                let new: Vec<_> = transitions
                    .iter()
                    .filter(|t| !log.transitions.contains(t))
                    .cloned()
                    .collect();
                if new.is_empty() {
                    // Already there: a recovery finishing a change its claimer had written.
                    return UpdateStep::Done(());
                }
                log.transitions.extend(new);
                chain_order(&mut log.transitions);
                log.transitions.retain(|t| now - t.at <= HISTORY_MS);
                keep_newest(&mut log.transitions, MAX_TRANSITIONS);
                UpdateStep::Write(log, ())
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
    pub fn restore_transitions<S: Store>(
        &self,
        store: &S,
        clock: &dyn Clock,
        id: &str,
        now: i64,
        transitions: &[Transition],
    ) -> Result<(), StoreError> {
        // Its claimer may have died before creating the history; nobody else will now.
        self.append_transitions(store, clock, id, transitions, now, Absent::Create)
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
                Some(change) => UpdateStep::Write(remember(&change, now), Some(change)),
                None => UpdateStep::Done(None),
            },
        )?;
        if let Some(change) = &change {
            self.append_transitions(store, clock, id, &change.transitions, now, Absent::Wait)?;
        }
        Ok(change)
    }
}
