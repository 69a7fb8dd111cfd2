//! The values stored under those keys, and the limits that keep each one small.

use crate::model::{LogEntry, Note, Transition};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How long transitions are kept.
pub const HISTORY_MS: i64 = 90 * 24 * 3600 * 1000;
/// Upper bound on kept transitions, so a flapping service cannot grow its value without limit.
pub const MAX_TRANSITIONS: usize = 2000;
/// Unsent changes kept per service; older ones are dropped (only a long store outage piles
/// them up).
pub const MAX_UNSENT: usize = 16;

/// A run of consecutive log entries.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LogChunk {
    pub chunk: i64,
    pub entries: Vec<LogEntry>,
}

/// A service's transitions, oldest first, and how many deliveries they caused. Both change
/// only on a transition or its notification, so they share a key: no extra key, no creation
/// race. Every whole-fleet read decodes this for each service, so the delivery records
/// themselves live apart, in a [`DeliveryLog`], and it is stored compact (`encoding`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TransitionLog {
    pub transitions: Vec<Transition>,
    /// Every delivery ever recorded, per channel name: `/metrics` serves these as counters, so
    /// they must only grow, unlike the capped log.
    pub delivered: BTreeMap<String, DeliveryCount>,
    /// The delivery log (JSON) as earlier releases kept it, here: carried unparsed through
    /// rewrites of the transitions until the next delivery moves it to its own key.
    pub(super) unmoved: Option<String>,
}

impl TransitionLog {
    /// The delivery log an earlier release kept here, taken out (empty if none, or unreadable).
    pub(super) fn take_unmoved(&mut self) -> Vec<DeliveryRecord> {
        self.unmoved
            .take()
            .and_then(|json| serde_json::from_str(&json).ok())
            .unwrap_or_default()
    }
}

/// A service's [`TransitionLog`] as the whole-fleet views read it: when each status began,
/// oldest first, and the delivery counts — not what caused each change, which none of them
/// shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ShownHistory {
    pub changes: Vec<(i64, crate::model::Status)>,
    pub delivered: BTreeMap<String, DeliveryCount>,
}

impl From<TransitionLog> for ShownHistory {
    fn from(log: TransitionLog) -> ShownHistory {
        ShownHistory {
            changes: log.transitions.iter().map(|t| (t.at, t.to)).collect(),
            delivered: log.delivered,
        }
    }
}

/// A service's newest delivery records, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeliveryLog {
    pub deliveries: Vec<DeliveryRecord>,
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
    pub tries: Vec<crate::notification::Try>,
}

/// When the last sweep ran.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SweepMark {
    pub at: i64,
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

/// Alerts remembered for cooldown at most.
pub(super) const MAX_RECENT_ALERTS: usize = 1000;
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
