//! The event handed to the channels, what each delivery returns, and the port that carries
//! one to the other ([`Notifier`], the `heartbeat:monitor/notifier` interface). Plain data,
//! below the channels and everything that notifies.

use crate::model::{Event, Transition};

/// Everything a channel needs to describe one event.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub event: Event,
    pub service_id: String,
    pub service_name: String,
    pub transition: Transition,
    pub last_heartbeat: Option<i64>,
    pub message: Option<String>,
    /// The newest heartbeat's metadata.
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
    /// The service's silence threshold.
    pub threshold_secs: u64,
    /// When the status the transition left began, if known.
    pub previous_since: Option<i64>,
    /// Set when this notification relays an external alert rather than a service transition.
    pub alert: Option<crate::alert::Alert>,
    /// A reminder that the service is still down; the transition was told before.
    pub reminder: bool,
    /// On a `down`: the services that depend on this one (their `down` is held meanwhile).
    pub dependents: Vec<String>,
    /// Names this event: the same on every delivery of it, a redelivery after a crash
    /// included, so a receiver can drop repeats (the webhook's `eventId` and
    /// `Idempotency-Key`).
    pub event_id: String,
}

impl Notification {
    /// The notification that relays `alert` at `now`. Channels see a firing critical or error
    /// alert as `down`, a firing warning or info as `degraded`, a resolution as `up`, so colours,
    /// priorities and PagerDuty actions follow without per-channel alert code.
    pub fn for_alert(alert: &crate::alert::Alert, now: i64) -> Notification {
        use crate::alert::{Severity, State as AlertState};
        use crate::model::{Reason, Status, Transition};
        let (event, from, to) = match (alert.state, alert.severity) {
            (AlertState::Resolved, _) => (Event::Up, Status::Down, Status::Up),
            (AlertState::Firing, Severity::Critical | Severity::Error) => {
                (Event::Down, Status::Up, Status::Down)
            }
            (AlertState::Firing, _) => (Event::Degraded, Status::Up, Status::Degraded),
        };
        Notification {
            event,
            service_id: alert.source.clone(),
            service_name: alert.source.clone(),
            transition: Transition {
                at: now,
                from,
                to,
                reason: Reason::Heartbeat,
                seq: 0,
            },
            last_heartbeat: None,
            message: None,
            metadata: None,
            threshold_secs: 0,
            previous_since: None,
            alert: Some(alert.clone()),
            reminder: false,
            dependents: Vec::new(),
            event_id: format!(
                "alert:{}:{}:{now}",
                alert.dedup_key,
                match alert.state {
                    AlertState::Firing => "firing",
                    AlertState::Resolved => "resolved",
                }
            ),
        }
    }
}

/// The outcome of one channel's attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub channel: String,
    pub channel_type: String,
    pub ok: bool,
    pub http_status: Option<u16>,
    pub latency_ms: u32,
    pub error: Option<String>,
    /// Requests sent (0 when the request could not even be built).
    pub attempts: u32,
    /// Each request's outcome, in order.
    pub tries: Vec<Try>,
}

impl Delivery {
    /// A delivery that could not be attempted, and why.
    pub fn failed(channel: &str, channel_type: &str, error: String) -> Delivery {
        Delivery {
            channel: channel.into(),
            channel_type: channel_type.into(),
            ok: false,
            http_status: None,
            latency_ms: 0,
            error: Some(error),
            attempts: 0,
            tries: Vec::new(),
        }
    }
}

/// One request of a delivery.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Try {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    pub latency_ms: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What is kept of the answer of a notifier component of the user's own (docs/EXTENDING.md),
/// which is not trusted to keep it small: each answer is stored in the delivery log of the
/// service, so at most [`FOREIGN_DELIVERIES`] deliveries of [`FOREIGN_TRIES`] tries each, and
/// names and errors shortened.
pub fn bounded_foreign(deliveries: Vec<Delivery>) -> Vec<Delivery> {
    use crate::text::shorten;
    deliveries
        .into_iter()
        .take(FOREIGN_DELIVERIES)
        .map(|d| Delivery {
            channel: match shorten(d.channel.trim(), 64) {
                name if name.is_empty() => "(unnamed)".into(),
                name => name,
            },
            channel_type: shorten(&d.channel_type, 32),
            error: d.error.map(|e| shorten(&e, FOREIGN_ERROR_CHARS)),
            tries: d
                .tries
                .into_iter()
                .take(FOREIGN_TRIES)
                .map(|t| Try {
                    error: t.error.map(|e| shorten(&e, FOREIGN_ERROR_CHARS)),
                    ..t
                })
                .collect(),
            ..d
        })
        .collect()
}

/// Deliveries kept from one answer of a notifier of the user's own.
pub const FOREIGN_DELIVERIES: usize = 8;
/// Tries kept per delivery of a notifier of the user's own.
pub const FOREIGN_TRIES: usize = 8;
/// Characters kept of an error a notifier of the user's own reports.
pub const FOREIGN_ERROR_CHARS: usize = 500;

/// Hands a notification to the channels (the `heartbeat:monitor/notifier` interface).
///
/// Its answers are futures because the Cloudflare Worker can only wait for vendors
/// asynchronously; the WASI components call a blocking import and hand back a finished one.
pub trait Notifier {
    /// Send to every channel that wants the event.
    fn deliver<'a>(&'a self, notification: &'a Notification) -> Deliveries<'a>;
    /// Send to the channel named `channel` only (reminders, test notifications).
    fn deliver_to<'a>(&'a self, channel: &'a str, notification: &'a Notification)
        -> Deliveries<'a>;
}

/// A [`Notifier`] that tells no one: for simulations and store-cost counts, where only what the
/// store sees matters.
#[cfg(any(test, feature = "testing"))]
#[derive(Debug, Clone, Copy, Default)]
pub struct Nobody;

#[cfg(any(test, feature = "testing"))]
impl Notifier for Nobody {
    fn deliver<'a>(&'a self, _: &'a Notification) -> Deliveries<'a> {
        Box::pin(std::future::ready(Vec::new()))
    }

    fn deliver_to<'a>(&'a self, _: &'a str, _: &'a Notification) -> Deliveries<'a> {
        Box::pin(std::future::ready(Vec::new()))
    }
}

/// What a [`Notifier`] answers: the deliveries, once the channels are done.
pub type Deliveries<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = Vec<Delivery>> + 'a>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_foreign_answer_is_kept_small() {
        let long = "x".repeat(10_000);
        let d = Delivery {
            channel: format!("  {long}"),
            channel_type: long.clone(),
            ok: false,
            http_status: Some(500),
            latency_ms: 3,
            error: Some(long.clone()),
            attempts: 100,
            tries: vec![
                Try {
                    http_status: None,
                    latency_ms: 1,
                    error: Some(long.clone()),
                };
                100
            ],
        };
        let kept = bounded_foreign(vec![d; 100]);
        assert_eq!(kept.len(), FOREIGN_DELIVERIES);
        let k = &kept[0];
        assert_eq!(k.channel.chars().count(), 64);
        assert!(!k.channel.starts_with(' '));
        assert_eq!(k.channel_type.chars().count(), 32);
        assert_eq!(
            k.error.as_ref().unwrap().chars().count(),
            FOREIGN_ERROR_CHARS
        );
        assert_eq!(k.tries.len(), FOREIGN_TRIES);
        assert_eq!(
            k.tries[0].error.as_ref().unwrap().chars().count(),
            FOREIGN_ERROR_CHARS
        );
        assert_eq!(
            (k.http_status, k.attempts),
            (Some(500), 100),
            "the rest as reported"
        );

        let unnamed = Delivery {
            channel: " ".into(),
            ..kept[0].clone()
        };
        assert_eq!(bounded_foreign(vec![unnamed])[0].channel, "(unnamed)");
    }
}
