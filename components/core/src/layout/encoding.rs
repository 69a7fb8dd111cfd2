//! How each value is written in the store: JSON, except a service's transitions. Every
//! whole-fleet read decodes those for every listed service, and a service that has flapped
//! carries dozens of them, so they are kept compact (postcard), about ten times quicker to
//! decode than the JSON earlier releases wrote, which is still read.

use super::values::*;
use crate::model::{Notified, Reason, ServiceState, Status, Transition};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A value as the store keeps it. `None` from `from_bytes`: not a value of this kind.
pub trait Stored: Sized {
    fn from_bytes(bytes: &[u8]) -> Option<Self>;
    fn to_bytes(&self) -> Vec<u8>;
}

macro_rules! stored_as_json {
    ($($value:ty),*) => {$(
        impl Stored for $value {
            fn from_bytes(bytes: &[u8]) -> Option<Self> {
                serde_json::from_slice(bytes).ok()
            }

            fn to_bytes(&self) -> Vec<u8> {
                serde_json::to_vec(self).expect("plain data serializes")
            }
        }
    )*};
}

stored_as_json!(
    ServiceState,
    LogChunk,
    DeliveryLog,
    NoteLog,
    Pause,
    SweepMark,
    AlertLog,
    RecentAlerts
);

/// A service's state as the whole-fleet views read it: all of it but the newest heartbeat's
/// metadata (up to 4 KiB each), which none of them shows, skipped without being parsed. The
/// attributes are [`ServiceState`]'s.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Shown {
    status: Status,
    since: i64,
    seq: i64,
    last_heartbeat: i64,
    #[serde(default)]
    last_message: Option<String>,
    #[serde(default)]
    notified: Notified,
    #[serde(default)]
    last_duration_ms: Option<i64>,
    #[serde(default)]
    started: Option<i64>,
    #[serde(default)]
    failures: u32,
}

/// A stored state without its metadata (`last_metadata` is `None`); `None`: not a state.
pub(super) fn shown_state(bytes: &[u8]) -> Option<ServiceState> {
    let s: Shown = serde_json::from_slice(bytes).ok()?;
    Some(ServiceState {
        status: s.status,
        since: s.since,
        seq: s.seq,
        last_heartbeat: s.last_heartbeat,
        last_message: s.last_message,
        last_metadata: None,
        notified: s.notified,
        last_duration_ms: s.last_duration_ms,
        started: s.started,
        failures: s.failures,
    })
}

/// The first byte of a transition log in its compact form; JSON starts with `{`.
const COMPACT: u8 = 1;

/// A transition as a tuple: postcard writes no field names. The statuses and the reason are
/// written as their variant's index, so those enums only ever gain variants at their end.
type CompactTransition = (i64, Status, Status, Reason, i64);

#[derive(Serialize, Deserialize)]
struct Compact {
    transitions: Vec<CompactTransition>,
    delivered: BTreeMap<String, DeliveryCount>,
    unmoved: Option<String>,
}

/// The JSON earlier releases wrote, with the delivery log they kept here left unparsed.
#[derive(Deserialize)]
struct Json {
    flips: Vec<Transition>,
    #[serde(default)]
    delivered: BTreeMap<String, DeliveryCount>,
    #[serde(default)]
    deliveries: Option<Box<serde_json::value::RawValue>>,
}

impl Stored for TransitionLog {
    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let Some((&COMPACT, rest)) = bytes.split_first() else {
            let json: Json = serde_json::from_slice(bytes).ok()?;
            return Some(TransitionLog {
                transitions: json.flips,
                delivered: json.delivered,
                unmoved: json.deliveries.map(|raw| raw.get().to_string()),
            });
        };
        let (compact, rest) = postcard::take_from_bytes::<Compact>(rest).ok()?;
        if !rest.is_empty() {
            return None;
        }
        let transitions = compact
            .transitions
            .into_iter()
            .map(|(at, from, to, reason, seq)| Transition {
                at,
                from,
                to,
                reason,
                seq,
            })
            .collect();
        Some(TransitionLog {
            transitions,
            delivered: compact.delivered,
            unmoved: compact.unmoved,
        })
    }

    fn to_bytes(&self) -> Vec<u8> {
        let compact = Compact {
            transitions: self
                .transitions
                .iter()
                .map(|t| (t.at, t.from, t.to, t.reason, t.seq))
                .collect(),
            delivered: self.delivered.clone(),
            unmoved: self.unmoved.clone(),
        };
        let mut bytes = vec![COMPACT];
        bytes.extend(postcard::to_allocvec(&compact).expect("plain data serializes"));
        bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transition(at: i64, from: Status, to: Status, reason: Reason, seq: i64) -> Transition {
        Transition {
            at,
            from,
            to,
            reason,
            seq,
        }
    }

    fn sample() -> TransitionLog {
        TransitionLog {
            transitions: vec![
                transition(
                    1_764_000_000_000,
                    Status::Unknown,
                    Status::Up,
                    Reason::Heartbeat,
                    1,
                ),
                transition(
                    1_764_000_060_000,
                    Status::Up,
                    Status::Down,
                    Reason::Silence,
                    0,
                ),
            ],
            delivered: [("ops".to_string(), DeliveryCount { ok: 3, failed: 1 })].into(),
            unmoved: Some(r#"[{"at": 1}]"#.into()),
        }
    }

    #[test]
    fn a_transition_log_reads_back_as_written() {
        let bytes = sample().to_bytes();
        assert_eq!(bytes[0], COMPACT);
        assert_eq!(TransitionLog::from_bytes(&bytes).unwrap(), sample());
    }

    /// Written stores outlive builds: these bytes must keep their meaning, so the statuses
    /// and reasons keep their variant indices.
    #[test]
    fn the_compact_form_keeps_its_meaning() {
        let log = TransitionLog {
            transitions: vec![
                transition(5, Status::Unknown, Status::Up, Reason::Heartbeat, 1),
                transition(6, Status::Degraded, Status::Down, Reason::Silence, 2),
            ],
            ..TransitionLog::default()
        };
        let written = [1, 2, 10, 0, 1, 0, 2, 12, 2, 3, 1, 4, 0, 0];
        assert_eq!(log.to_bytes(), written);
        assert_eq!(TransitionLog::from_bytes(&written).unwrap(), log);
    }

    #[test]
    fn every_status_reason_and_extreme_time_reads_back() {
        let mut log = TransitionLog::default();
        let statuses = [Status::Unknown, Status::Up, Status::Degraded, Status::Down];
        for (i, (&from, &to)) in statuses.iter().zip(statuses.iter().rev()).enumerate() {
            for reason in [Reason::Heartbeat, Reason::Silence] {
                for at in [i64::MIN, -1, 0, 1, 1_764_000_000_000, i64::MAX] {
                    log.transitions.push(transition(
                        at,
                        from,
                        to,
                        reason,
                        at.wrapping_add(i as i64),
                    ));
                }
            }
        }
        assert_eq!(TransitionLog::from_bytes(&log.to_bytes()).unwrap(), log);
    }

    #[test]
    fn a_shown_state_is_the_state_without_its_metadata() {
        let state = ServiceState {
            status: Status::Degraded,
            since: 1_764_000_000_000,
            seq: 42,
            last_heartbeat: 1_764_000_060_000,
            last_message: Some("disk 91 %".into()),
            last_metadata: serde_json::json!({ "disk": { "used": 0.91 } })
                .as_object()
                .cloned(),
            notified: Notified {
                down: Some(1_764_000_001_000),
                ..Notified::default()
            },
            last_duration_ms: Some(5_300),
            started: Some(1_764_000_050_000),
            failures: 2,
        };
        let shown = shown_state(&state.to_bytes()).unwrap();
        assert_eq!(
            shown,
            ServiceState {
                last_metadata: None,
                ..state.clone()
            }
        );
        let bare = br#"{"status": "up", "since": 1, "seq": 1, "lastHeartbeat": 1}"#;
        assert_eq!(
            shown_state(bare),
            ServiceState::from_bytes(bare),
            "the defaults are the state's"
        );
        assert!(shown_state(b"{").is_none());
        assert!(shown_state(br#"{"status": "up"}"#).is_none());
    }

    #[test]
    fn the_json_of_earlier_releases_is_read() {
        let json = br#"{"flips": [{"at": 5, "from": "unknown", "to": "up", "reason": "heartbeat"}],
            "deliveries": [{"at": 7}], "delivered": {"ops": {"ok": 1, "failed": 0}}}"#;
        let log = TransitionLog::from_bytes(json).unwrap();
        assert_eq!(
            log.transitions,
            [transition(
                5,
                Status::Unknown,
                Status::Up,
                Reason::Heartbeat,
                0
            )]
        );
        assert_eq!(log.delivered["ops"], DeliveryCount { ok: 1, failed: 0 });
        assert_eq!(log.unmoved.as_deref(), Some(r#"[{"at": 7}]"#));
        let bare = TransitionLog::from_bytes(br#"{"flips": []}"#).unwrap();
        assert_eq!(bare, TransitionLog::default());
    }

    #[test]
    fn damaged_bytes_read_as_nothing() {
        let bytes = sample().to_bytes();
        for damaged in [
            &bytes[..bytes.len() - 1],
            &[bytes.as_slice(), &[0]].concat(),
            &[COMPACT],
            b"{",
        ] {
            assert!(TransitionLog::from_bytes(damaged).is_none(), "{damaged:?}");
        }
    }
}
