//! The vocabulary: Service status, Heartbeat, Transition (a "transition"), Event.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// What the monitor believes about a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Unknown,
    Up,
    Degraded,
    Down,
}

impl Status {
    /// The worst status present: any `down` makes it down, then `degraded`, then `up`;
    /// `unknown` when none is.
    pub fn worst_present(down: bool, degraded: bool, up: bool) -> Status {
        if down {
            Status::Down
        } else if degraded {
            Status::Degraded
        } else if up {
            Status::Up
        } else {
            Status::Unknown
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Unknown => "unknown",
            Status::Up => "up",
            Status::Degraded => "degraded",
            Status::Down => "down",
        }
    }

    /// The statuses a heartbeat may report.
    pub fn reported(s: &str) -> Option<Status> {
        match s {
            "up" => Some(Status::Up),
            "degraded" => Some(Status::Degraded),
            "down" => Some(Status::Down),
            _ => None,
        }
    }
}

/// What people are told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Event {
    Down,
    Up,
    Degraded,
}

impl Event {
    pub const ALL: [Event; 3] = [Event::Down, Event::Up, Event::Degraded];

    pub fn as_str(self) -> &'static str {
        match self {
            Event::Down => "down",
            Event::Up => "up",
            Event::Degraded => "degraded",
        }
    }

    pub fn parse(s: &str) -> Option<Event> {
        Event::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// Why a transition happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reason {
    /// A heartbeat reported a new status.
    Heartbeat,
    /// No heartbeat arrived within the staleness threshold.
    Silence,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Heartbeat => "heartbeat",
            Reason::Silence => "silence",
        }
    }
}

/// One change of status, as stored in a service's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    pub at: i64,
    pub from: Status,
    pub to: Status,
    pub reason: Reason,
    /// The heartbeat sequence number it follows: the beat that caused it, or for a silence the
    /// last beat before it. Several transitions can share a millisecond (and even their
    /// statuses) when beats race; this tells them apart and orders them. Histories written
    /// before it existed read 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub seq: i64,
}

impl Transition {
    /// A transition a heartbeat caused; tests build histories from these.
    #[cfg(test)]
    pub fn by_heartbeat(at: i64, from: Status, to: Status) -> Transition {
        Transition {
            at,
            from,
            to,
            reason: Reason::Heartbeat,
            seq: 0,
        }
    }

    /// The event this transition tells people about, if any: entering down or degraded, and
    /// recovering to up from down or degraded (not the first heartbeat of a new service).
    pub fn event(&self) -> Option<Event> {
        match (self.from, self.to) {
            (from, to) if from == to => None,
            (_, Status::Down) => Some(Event::Down),
            (_, Status::Degraded) => Some(Event::Degraded),
            (Status::Down | Status::Degraded, Status::Up) => Some(Event::Up),
            _ => None,
        }
    }
}

/// One accepted heartbeat, as kept in the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogEntry {
    /// Arrival order within the service, from the store's atomic counter.
    pub seq: i64,
    pub at: i64,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
    /// How long the run this heartbeat finished took, from its `/start` ping.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<i64>,
    /// Latency the client measured and reported (Uptime Kuma's `ping`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// Run id (`?rid=`) pairing a `/start` with its finish.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rid: Option<String>,
}

impl LogEntry {
    /// A heartbeat with nothing but a status, message and metadata.
    pub fn new(
        at: i64,
        status: Status,
        message: Option<String>,
        metadata: Option<Map<String, Value>>,
    ) -> LogEntry {
        LogEntry {
            seq: 0,
            at,
            status,
            message,
            metadata,
            duration_ms: None,
            latency_ms: None,
            rid: None,
        }
    }
}

/// A ping that reports no status: `/start` (a run began) or `/log` (a message). Notes never
/// change a service's state or count as a sign of life; they are kept beside the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Note {
    pub at: i64,
    pub kind: NoteKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rid: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NoteKind {
    Start,
    Log,
}

impl NoteKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NoteKind::Start => "start",
            NoteKind::Log => "log",
        }
    }
}

/// When each event was last handed to the notifier, for cooldown.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Notified {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub down: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub up: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub degraded: Option<i64>,
    /// The current down/degraded episode was notified, so its recovery must be.
    #[serde(default)]
    pub episode: bool,
    /// When each channel was last reminded that the service is still down, this episode.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub reminded: std::collections::BTreeMap<String, i64>,
    /// The current episode began while notifications were held (paused, maintenance), so its
    /// recovery is not told either.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub held: bool,
    /// Claimed changes whose history and notification are not confirmed yet. The claim and
    /// this record are one write, so a crash between the claim and the delivery leaves the
    /// change here for the sweep to finish (see [`crate::layout::Layout::claim_unsent`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unsent: Vec<Unsent>,
}

/// A claimed change still to be written to the history and told.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Unsent {
    pub transitions: Vec<Transition>,
    /// The event to tell, if the claim decided to tell one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<Event>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_since: Option<i64>,
    /// When its current owner took it on; another may take over once that is long past.
    pub claimed: i64,
}

impl Unsent {
    /// Identifies the change among a service's unsent ones: its last transition.
    pub fn last(&self) -> Option<&Transition> {
        self.transitions.last()
    }
}

impl Notified {
    pub fn last(&self, event: Event) -> Option<i64> {
        match event {
            Event::Down => self.down,
            Event::Up => self.up,
            Event::Degraded => self.degraded,
        }
    }

    pub fn record(&mut self, event: Event, at: i64) {
        let slot = match event {
            Event::Down => &mut self.down,
            Event::Up => &mut self.up,
            Event::Degraded => &mut self.degraded,
        };
        *slot = Some(at);
    }
}

/// The per-service record every status change is claimed on (compare-and-swap).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceState {
    /// Stored status; read-time staleness may still make it `down`.
    pub status: Status,
    /// When `status` began.
    pub since: i64,
    /// Newest heartbeat applied, ordered by (`last_heartbeat`, `seq`).
    pub seq: i64,
    pub last_heartbeat: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message: Option<String>,
    /// The newest heartbeat's metadata (≤ 4 KiB), for notification templates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_metadata: Option<Map<String, Value>>,
    #[serde(default)]
    pub notified: Notified,
    /// Duration of the last measured run (`/start` … finish), in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_duration_ms: Option<i64>,
    /// When a run began (`/start`) that has not finished yet; it must finish within grace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<i64>,
    /// Consecutive `down` heartbeats not yet confirmed by the flap guard.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub failures: u32,
}

fn is_zero<N: Default + PartialEq>(n: &N) -> bool {
    *n == N::default()
}
