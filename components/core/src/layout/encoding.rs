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

#[derive(Serialize)]
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

/// The transitions at the head of a compact log, each as `keep` makes it, and how many bytes
/// they took. Read by hand as postcard wrote them (a varint count, then per transition the
/// zigzag varint time, three variant indices and the zigzag varint sequence number): every
/// whole-fleet read decodes them for every service, and this is quicker in wasm than
/// postcard's generic reading (lived-in status at 1,000 services 3 % quicker, same process
/// alternating). Every field is checked whatever `keep` takes, so every reading accepts the
/// same logs.
#[inline(always)]
fn compact_log<T>(bytes: &[u8], keep: impl Fn(Transition) -> T) -> Option<(Vec<T>, usize)> {
    let mut at = 0;
    let count = usize::try_from(varint(bytes, &mut at)?).ok()?;
    // A transition takes at least five bytes: a damaged count cannot reserve more than is
    // there. One more: room for the silence a [`Timeline`](crate::uptime::Timeline) may add.
    let mut transitions = Vec::with_capacity(count.min(bytes.len() / 5) + 1);
    for _ in 0..count {
        transitions.push(keep(Transition {
            at: zigzag(varint(bytes, &mut at)?),
            from: *STATUSES.get(index(bytes, &mut at)?)?,
            to: *STATUSES.get(index(bytes, &mut at)?)?,
            reason: *REASONS.get(index(bytes, &mut at)?)?,
            seq: zigzag(varint(bytes, &mut at)?),
        }));
    }
    Some((transitions, at))
}

fn compact_transitions(bytes: &[u8]) -> Option<(Vec<Transition>, usize)> {
    compact_log(bytes, |t| t)
}

/// What follows the transitions in a compact log: the delivery counts, and the delivery log
/// an earlier release kept here. `None` if anything else follows.
fn compact_tail(bytes: &[u8]) -> Option<(BTreeMap<String, DeliveryCount>, Option<String>)> {
    let (tail, rest) = postcard::take_from_bytes(bytes).ok()?;
    rest.is_empty().then_some(tail)
}

/// The unsigned LEB128 varint at `bytes[*at..]` (at most ten bytes, as postcard writes a
/// `u64`); moves `at` past it.
#[inline(always)]
fn varint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let first = *bytes.get(*at)?;
    if first < 0x80 {
        *at += 1;
        return Some(u64::from(first));
    }
    // A time takes six bytes: read up to eight at once (the first byte without its high bit
    // ends the number) rather than byte by byte.
    if let Some(&word) = bytes.get(*at..).and_then(|b| b.first_chunk::<8>()) {
        let word = u64::from_le_bytes(word);
        let ends = !word & 0x8080_8080_8080_8080;
        if ends != 0 {
            let len = ends.trailing_zeros() / 8 + 1;
            let word = match len {
                8 => word,
                _ => word & ((1 << (len * 8)) - 1),
            };
            let mut value = 0;
            for group in 0..8 {
                value |= (word >> (group * 8) & 0x7f) << (group * 7);
            }
            *at += len as usize;
            return Some(value);
        }
    }
    *at += 1;
    let mut value = u64::from(first & 0x7f);
    let mut shift = 7;
    while shift <= 63 {
        let byte = *bytes.get(*at)?;
        *at += 1;
        // The tenth byte holds the top bit alone.
        if shift == 63 && byte > 1 {
            return None;
        }
        value |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return Some(value);
        }
        shift += 7;
    }
    None
}

/// A variant index (postcard writes a `u32` varint).
#[inline(always)]
fn index(bytes: &[u8], at: &mut usize) -> Option<usize> {
    usize::try_from(u32::try_from(varint(bytes, at)?).ok()?).ok()
}

/// A zigzag-encoded `i64`.
#[inline(always)]
fn zigzag(v: u64) -> i64 {
    (v >> 1) as i64 ^ -((v & 1) as i64)
}

/// The variants by the index serde gives them (their order of declaration).
const STATUSES: [Status; 4] = [Status::Unknown, Status::Up, Status::Degraded, Status::Down];
const REASONS: [Reason; 2] = [Reason::Heartbeat, Reason::Silence];

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
        let (transitions, used) = compact_transitions(rest)?;
        let (delivered, unmoved) = compact_tail(&rest[used..])?;
        Some(TransitionLog {
            transitions,
            delivered,
            unmoved,
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

/// A stored transition log as the whole-fleet views read it ([`ShownHistory`]); `None`: not a
/// transition log.
pub(super) fn shown_history(bytes: &[u8]) -> Option<ShownHistory> {
    let Some((&COMPACT, rest)) = bytes.split_first() else {
        return TransitionLog::from_bytes(bytes).map(ShownHistory::from);
    };
    // The time and new status of each transition: all that uptime needs.
    let (changes, used) = compact_log(rest, |t| (t.at, t.to))?;
    let (delivered, _unmoved) = compact_tail(&rest[used..])?;
    Some(ShownHistory { changes, delivered })
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
        for (i, (&from, &to)) in STATUSES.iter().zip(STATUSES.iter().rev()).enumerate() {
            for reason in REASONS {
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

    /// An `i64` of any magnitude, so its varint takes anywhere from one to ten bytes.
    fn any_size() -> impl proptest::strategy::Strategy<Value = i64> {
        use proptest::strategy::Strategy;
        (proptest::num::i64::ANY, 0u32..64).prop_map(|(v, shift)| v >> shift)
    }

    /// `bytes` followed by `more`, with the byte at `change` (wrapped) replaced, cut to `cut`.
    fn damaged(
        mut bytes: Vec<u8>,
        more: Vec<u8>,
        change: Option<(usize, u8)>,
        cut: Option<usize>,
    ) -> Vec<u8> {
        bytes.extend(more);
        if let Some((i, byte)) = change {
            let i = i % bytes.len();
            bytes[i] = byte;
        }
        if let Some(cut) = cut {
            bytes.truncate(cut);
        }
        bytes
    }

    proptest::proptest! {
        /// Whatever postcard reads as transitions, the hand-written reader reads the same
        /// (and it never panics): over transitions postcard wrote, cut short, with a byte
        /// changed, or followed by more.
        #[test]
        fn transitions_read_as_postcard_reads_them(
            written in proptest::collection::vec(
                (any_size(), 0usize..4, 0usize..4, 0usize..2, any_size()),
                0..8,
            ),
            cut in proptest::option::of(0usize..200),
            change in proptest::option::of((0usize..200, proptest::num::u8::ANY)),
            more in proptest::collection::vec(proptest::num::u8::ANY, 0..4),
        ) {
            let written: Vec<CompactTransition> = written
                .into_iter()
                .map(|(at, from, to, reason, seq)| (at, STATUSES[from], STATUSES[to], REASONS[reason], seq))
                .collect();
            let bytes = damaged(postcard::to_allocvec(&written).unwrap(), more, change, cut);
            let by_hand = compact_transitions(&bytes);
            if let Ok((ts, rest)) = postcard::take_from_bytes::<Vec<CompactTransition>>(&bytes) {
                let ts: Vec<Transition> = ts
                    .into_iter()
                    .map(|(at, from, to, reason, seq)| transition(at, from, to, reason, seq))
                    .collect();
                proptest::prop_assert_eq!(by_hand, Some((ts, bytes.len() - rest.len())));
            }
        }

        /// The whole-fleet views' reading of a log is the whole reading's times, statuses and
        /// counts, and it reads exactly the logs that one reads: whole, cut short, with a byte
        /// changed, or followed by more.
        #[test]
        fn a_shown_history_is_the_log_without_what_caused_each_change(
            written in proptest::collection::vec(
                (any_size(), 0usize..4, 0usize..4, 0usize..2, any_size()),
                0..8,
            ),
            delivered in proptest::collection::btree_map("[a-z]{1,6}", (0u64..5, 0u64..5), 0..3),
            unmoved in proptest::option::of("[a-z\\[\\]{}]{0,8}"),
            cut in proptest::option::of(0usize..200),
            change in proptest::option::of((0usize..200, proptest::num::u8::ANY)),
            more in proptest::collection::vec(proptest::num::u8::ANY, 0..4),
        ) {
            let log = TransitionLog {
                transitions: written
                    .into_iter()
                    .map(|(at, from, to, reason, seq)| {
                        transition(at, STATUSES[from], STATUSES[to], REASONS[reason], seq)
                    })
                    .collect(),
                delivered: delivered
                    .into_iter()
                    .map(|(channel, (ok, failed))| (channel, DeliveryCount { ok, failed }))
                    .collect(),
                unmoved,
            };
            let bytes = damaged(log.to_bytes(), more, change, cut);
            let whole = TransitionLog::from_bytes(&bytes).map(ShownHistory::from);
            proptest::prop_assert_eq!(shown_history(&bytes), whole);
        }
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
        let shown = shown_history(json).unwrap();
        assert_eq!(shown.changes, [(5, Status::Up)]);
        assert_eq!(shown.delivered, log.delivered);
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
