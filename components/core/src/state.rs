//! The service state machine, as pure functions over [`ServiceState`].
//!
//! `unknown` until the first heartbeat; then the status each heartbeat reports; `down` once the
//! service has been silent longer than its threshold. A change is a [`Transition`]; the storage
//! layout claims it with compare-and-swap, so whichever writer's swap lands is the one that
//! emits it — exactly once.

use crate::model::{Event, Notified, Reason, ServiceState, Status, Transition};
use crate::schedule::Schedule;

/// The incoming heartbeat, already validated and ordered.
#[derive(Debug, Clone, PartialEq)]
pub struct Beat {
    pub seq: i64,
    pub at: i64,
    pub status: Status,
    pub message: Option<String>,
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
    /// How long the run it finishes took (`/start` … finish), if measured.
    pub duration_ms: Option<i64>,
}

/// What to tell people about, decided when the change is claimed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub cooldown_ms: i64,
    /// Paused or in maintenance: transitions are recorded, nobody is told, and the recovery
    /// from a down that was held back is not told either.
    pub quiet: bool,
}

/// A state change ready to be claimed: the new record, the transitions it makes, and the
/// event to notify (already past cooldown and filters), if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub state: ServiceState,
    pub transitions: Vec<Transition>,
    pub notify: Option<Event>,
    /// When the status left by the last transition began (for "down for 12m").
    pub previous_since: Option<i64>,
}

/// Whether `state` has been silent past the threshold at `now`.
pub fn is_silent(state: &ServiceState, schedule: &Schedule, now: i64) -> bool {
    now > silent_at(state, schedule)
}

/// Shortest time a run started with `/start` may take before it counts as hung, when the
/// schedule gives no grace.
pub const MIN_RUN_GRACE_MS: i64 = 60_000;

/// When the service's silence makes it `down`: its schedule's deadline after the last
/// heartbeat — or sooner, if a run it started (`/start`) has not finished within grace.
pub fn silent_at(state: &ServiceState, schedule: &Schedule) -> i64 {
    let deadline = schedule.down_at(state.last_heartbeat);
    match state.started {
        Some(started) if started > state.last_heartbeat => {
            deadline.min(started + schedule.grace_ms().max(MIN_RUN_GRACE_MS))
        }
        _ => deadline,
    }
}

/// The status shown at `now`: staleness is applied at read time, so readers are right between
/// sweeps.
pub fn effective_status(state: Option<&ServiceState>, schedule: &Schedule, now: i64) -> Status {
    match state {
        None => Status::Unknown,
        Some(s) if is_silent(s, schedule, now) => Status::Down,
        Some(s) => s.status,
    }
}

/// Decide whether `event` may be sent now, and remember it if so. A recovery that ends a
/// notified down/degraded episode is always sent; otherwise a repeat of the same event inside
/// the cooldown is suppressed. `wanted` is false when no channel takes this event.
fn decide(notified: &mut Notified, event: Event, now: i64, policy: Policy, wanted: bool) -> bool {
    let allowed = (event == Event::Up && notified.episode)
        || notified
            .last(event)
            .is_none_or(|last| now - last >= policy.cooldown_ms);
    let held = wanted && policy.quiet;
    let send = wanted && allowed && !policy.quiet && !(event == Event::Up && notified.held);
    if send {
        notified.record(event, now);
    }
    match event {
        Event::Up => {
            notified.episode = false;
            notified.held = false;
            notified.reminded.clear();
        }
        Event::Down | Event::Degraded => {
            notified.episode |= send;
            notified.held = (notified.held || held) && !notified.episode;
        }
    }
    send
}

/// Apply a heartbeat. `None` when a newer heartbeat is already applied (the older one is still
/// logged, but must not move the state backwards).
pub fn apply_heartbeat(
    current: Option<&ServiceState>,
    beat: &Beat,
    schedule: &Schedule,
    policy: Policy,
    wanted: impl Fn(Event) -> bool,
) -> Option<Change> {
    let mut transitions = Vec::new();
    let mut previous_since = current.map(|c| c.since);
    let (from, mut notified, since) = match current {
        None => (Status::Unknown, Notified::default(), beat.at),
        Some(cur) => {
            if (beat.at, beat.seq) < (cur.last_heartbeat, cur.seq) {
                return None;
            }
            let mut from = cur.status;
            if from != Status::Down && is_silent(cur, schedule, beat.at) {
                // The sweep has not recorded the silence yet; keep history exact.
                let at = silent_at(cur, schedule);
                transitions.push(Transition {
                    at,
                    from,
                    to: Status::Down,
                    reason: Reason::Silence,
                    seq: cur.seq,
                });
                previous_since = Some(at);
                from = Status::Down;
            }
            (from, cur.notified.clone(), cur.since)
        }
    };
    // Flap guard: a reported `down` counts only once `confirmations` of them arrive in a row;
    // until then the status stays what it was.
    let mut failures = 0;
    let mut status = beat.status;
    if beat.status == Status::Down && from != Status::Down {
        failures = current.map_or(0, |c| c.failures) + 1;
        if failures < schedule.confirmations {
            status = from;
        } else {
            failures = 0;
        }
    }
    let mut notify = None;
    let since = if from != status {
        let t = Transition {
            at: beat.at,
            from,
            to: status,
            reason: Reason::Heartbeat,
            seq: beat.seq,
        };
        if let Some(event) = t.event() {
            notify = decide(&mut notified, event, beat.at, policy, wanted(event)).then_some(event);
        }
        transitions.push(t);
        beat.at
    } else {
        since
    };
    Some(Change {
        state: ServiceState {
            status,
            since,
            seq: beat.seq,
            last_heartbeat: beat.at,
            last_message: beat.message.clone(),
            last_metadata: beat.metadata.clone(),
            last_duration_ms: beat
                .duration_ms
                .or(current.and_then(|c| c.last_duration_ms)),
            failures,
            started: None,
            notified,
        },
        transitions,
        notify,
        previous_since,
    })
}

/// Mark a silent service down. `None` when there is nothing to change.
pub fn apply_silence(
    current: &ServiceState,
    schedule: &Schedule,
    now: i64,
    policy: Policy,
    wanted: impl Fn(Event) -> bool,
) -> Option<Change> {
    if current.status == Status::Down || !is_silent(current, schedule, now) {
        return None;
    }
    let t = Transition {
        at: silent_at(current, schedule),
        from: current.status,
        to: Status::Down,
        reason: Reason::Silence,
        seq: current.seq,
    };
    let previous_since = Some(current.since);
    let mut state = current.clone();
    let notify = decide(
        &mut state.notified,
        Event::Down,
        now,
        policy,
        wanted(Event::Down),
    )
    .then_some(Event::Down);
    state.status = Status::Down;
    state.since = t.at;
    Some(Change {
        state,
        transitions: vec![t],
        notify,
        previous_since,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    static HOUR: Schedule = Schedule {
        kind: crate::schedule::Kind::Period {
            period_ms: 3_600_000,
        },
        grace_ms: 0,
        confirmations: 1,
    };
    static SIXTY: Schedule = Schedule {
        kind: crate::schedule::Kind::Period { period_ms: 60_000 },
        grace_ms: 0,
        confirmations: 1,
    };

    const MIN: i64 = 60_000;
    const POLICY: Policy = Policy {
        cooldown_ms: 5 * MIN,
        quiet: false,
    };

    fn beat(seq: i64, at: i64, status: Status) -> Beat {
        Beat {
            seq,
            at,
            status,
            message: None,
            metadata: None,
            duration_ms: None,
        }
    }

    fn all(_: Event) -> bool {
        true
    }

    #[test]
    fn the_flap_guard_needs_three_downs_in_a_row() {
        let guarded = Schedule::threshold(3600).confirmed(3);
        let mut state = apply_heartbeat(None, &beat(1, 0, Status::Up), &guarded, POLICY, all)
            .unwrap()
            .state;
        let mut seq = 1;
        let mut send = |state: &ServiceState, status: Status| {
            seq += 1;
            apply_heartbeat(
                Some(state),
                &beat(seq, seq * MIN, status),
                &guarded,
                POLICY,
                all,
            )
            .unwrap()
        };
        for expected_failures in [1, 2] {
            let c = send(&state, Status::Down);
            assert_eq!(
                (c.state.status, c.state.failures),
                (Status::Up, expected_failures)
            );
            assert!(c.transitions.is_empty() && c.notify.is_none());
            state = c.state;
        }
        // An up in between starts the count again.
        state = send(&state, Status::Up).state;
        assert_eq!(state.failures, 0);
        for _ in 0..2 {
            state = send(&state, Status::Down).state;
        }
        let third = send(&state, Status::Down);
        assert_eq!(third.state.status, Status::Down);
        assert_eq!(third.notify, Some(Event::Down));
        assert_eq!(third.state.failures, 0);
    }

    #[test]
    fn a_down_held_back_while_quiet_has_no_recovery_message_either() {
        let quiet = Policy {
            quiet: true,
            ..POLICY
        };
        let up = apply_heartbeat(None, &beat(1, 0, Status::Up), &HOUR, POLICY, all).unwrap();
        let down = apply_heartbeat(
            Some(&up.state),
            &beat(2, MIN, Status::Down),
            &HOUR,
            quiet,
            all,
        )
        .unwrap();
        assert_eq!(down.transitions.len(), 1, "the transition is recorded");
        assert_eq!(down.notify, None, "but nobody is told");
        let back = apply_heartbeat(
            Some(&down.state),
            &beat(3, 20 * MIN, Status::Up),
            &HOUR,
            POLICY,
            all,
        )
        .unwrap();
        assert_eq!(back.notify, None, "no recovery for a down nobody heard of");
        let again = apply_heartbeat(
            Some(&back.state),
            &beat(4, 40 * MIN, Status::Down),
            &HOUR,
            POLICY,
            all,
        )
        .unwrap();
        assert_eq!(
            again.notify,
            Some(Event::Down),
            "the next episode is told as usual"
        );
        let over = apply_heartbeat(
            Some(&again.state),
            &beat(5, 41 * MIN, Status::Up),
            &HOUR,
            POLICY,
            all,
        )
        .unwrap();
        assert_eq!(over.notify, Some(Event::Up));
    }

    #[test]
    fn first_heartbeat_moves_unknown_to_up_without_an_event() {
        let c = apply_heartbeat(None, &beat(1, 0, Status::Up), &SIXTY, POLICY, all).unwrap();
        assert_eq!(c.state.status, Status::Up);
        assert_eq!(c.transitions.len(), 1);
        assert_eq!(
            (c.transitions[0].from, c.transitions[0].to),
            (Status::Unknown, Status::Up)
        );
        assert_eq!(c.notify, None);
    }

    #[test]
    fn first_heartbeat_reporting_down_notifies_down() {
        let c = apply_heartbeat(None, &beat(1, 0, Status::Down), &SIXTY, POLICY, all).unwrap();
        assert_eq!(c.notify, Some(Event::Down));
    }

    #[test]
    fn older_heartbeat_never_moves_state_backwards() {
        let s = apply_heartbeat(None, &beat(2, 1000, Status::Up), &SIXTY, POLICY, all)
            .unwrap()
            .state;
        assert_eq!(
            apply_heartbeat(Some(&s), &beat(1, 900, Status::Down), &SIXTY, POLICY, all),
            None
        );
    }

    #[test]
    fn silence_marks_down_once_and_recovery_notifies_up() {
        let s = apply_heartbeat(None, &beat(1, 0, Status::Up), &SIXTY, POLICY, all)
            .unwrap()
            .state;
        assert_eq!(
            apply_silence(&s, &SIXTY, 60_000, POLICY, all),
            None,
            "exactly at threshold is not silent"
        );
        let down = apply_silence(&s, &SIXTY, 61_000, POLICY, all).unwrap();
        assert_eq!(down.notify, Some(Event::Down));
        assert_eq!(down.transitions[0].at, 60_000);
        assert_eq!(
            apply_silence(&down.state, &SIXTY, 120_000, POLICY, all),
            None
        );
        let up = apply_heartbeat(
            Some(&down.state),
            &beat(2, 90_000, Status::Up),
            &SIXTY,
            POLICY,
            all,
        )
        .unwrap();
        assert_eq!(up.notify, Some(Event::Up));
    }

    #[test]
    fn sends_recovery_even_inside_cooldown_but_suppresses_repeated_down() {
        let s = apply_heartbeat(None, &beat(1, 0, Status::Up), &HOUR, POLICY, all)
            .unwrap()
            .state;
        let d1 = apply_silence(&s, &SIXTY, 61_000, POLICY, all).unwrap();
        let u1 = apply_heartbeat(
            Some(&d1.state),
            &beat(2, 62_000, Status::Up),
            &HOUR,
            POLICY,
            all,
        )
        .unwrap();
        let d2 = apply_heartbeat(
            Some(&u1.state),
            &beat(3, 63_000, Status::Down),
            &HOUR,
            POLICY,
            all,
        )
        .unwrap();
        assert_eq!(d2.notify, None, "second down inside cooldown is suppressed");
        let u2 = apply_heartbeat(
            Some(&d2.state),
            &beat(4, 64_000, Status::Up),
            &HOUR,
            POLICY,
            all,
        )
        .unwrap();
        assert_eq!(
            u2.notify, None,
            "its recovery follows an un-notified down, so cooldown applies"
        );
        let d3 = apply_heartbeat(
            Some(&u2.state),
            &beat(5, 64_000 + 5 * MIN, Status::Down),
            &HOUR,
            POLICY,
            all,
        )
        .unwrap();
        assert_eq!(d3.notify, Some(Event::Down), "cooldown over");
        let u3 = apply_heartbeat(
            Some(&d3.state),
            &beat(6, 64_001 + 5 * MIN, Status::Up),
            &HOUR,
            POLICY,
            all,
        )
        .unwrap();
        assert_eq!(
            u3.notify,
            Some(Event::Up),
            "recovery after a notified down is always sent"
        );
    }

    #[test]
    fn heartbeat_after_unrecorded_silence_records_the_down_and_recovers() {
        let s = apply_heartbeat(None, &beat(1, 0, Status::Up), &SIXTY, POLICY, all)
            .unwrap()
            .state;
        let c =
            apply_heartbeat(Some(&s), &beat(2, 600_000, Status::Up), &SIXTY, POLICY, all).unwrap();
        let kinds: Vec<_> = c
            .transitions
            .iter()
            .map(|t| (t.from, t.to, t.reason))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (Status::Up, Status::Down, Reason::Silence),
                (Status::Down, Status::Up, Reason::Heartbeat)
            ]
        );
        assert_eq!(c.notify, Some(Event::Up));
    }

    #[test]
    fn unwanted_events_are_not_counted_as_notified() {
        let s = apply_heartbeat(None, &beat(1, 0, Status::Up), &SIXTY, POLICY, all)
            .unwrap()
            .state;
        let d = apply_silence(&s, &SIXTY, 61_000, POLICY, |_| false).unwrap();
        assert_eq!(d.notify, None);
        assert_eq!(d.state.notified.down, None);
    }

    #[test]
    fn degraded_is_an_event_and_effective_status_applies_staleness() {
        let s = apply_heartbeat(None, &beat(1, 0, Status::Up), &SIXTY, POLICY, all)
            .unwrap()
            .state;
        let d = apply_heartbeat(
            Some(&s),
            &beat(2, 1000, Status::Degraded),
            &SIXTY,
            POLICY,
            all,
        )
        .unwrap();
        assert_eq!(d.notify, Some(Event::Degraded));
        assert_eq!(
            effective_status(Some(&d.state), &SIXTY, 61_000),
            Status::Degraded
        );
        assert_eq!(
            effective_status(Some(&d.state), &SIXTY, 61_001),
            Status::Down
        );
        assert_eq!(effective_status(None, &SIXTY, 0), Status::Unknown);
    }
}
