//! The one conversion between heartbeat-core's notification types and the WIT records that
//! `heartbeat:monitor/notifier` carries (Notification, AlertInfo, Delivery, Attempt). Each component
//! generates its own bindings — the callers import the interface, the notifiers component
//! exports it — so the Rust types differ while their shape is the same; these macros write the
//! conversions once for both.
//!
//! The caller names the generated module `heartbeat:monitor/types`, where all four records
//! live, `wit_types` in scope.

/// For a component that calls the notifier: `notification_to_wit` and `deliveries_from_wit`.
#[macro_export]
macro_rules! notifier_caller_conversions {
    () => {
        fn status_to_wit(s: heartbeat_core::model::Status) -> wit_types::ServiceStatus {
            use heartbeat_core::model::Status;
            match s {
                Status::Unknown => wit_types::ServiceStatus::Unknown,
                Status::Up => wit_types::ServiceStatus::Up,
                Status::Degraded => wit_types::ServiceStatus::Degraded,
                Status::Down => wit_types::ServiceStatus::Down,
            }
        }

        /// The notification as the WIT interface carries it.
        fn notification_to_wit(
            n: &heartbeat_core::notification::Notification,
        ) -> wit_types::Notification {
            use heartbeat_core::model::{Event, Reason};
            wit_types::Notification {
                event: match n.event {
                    Event::Down => wit_types::EventKind::Down,
                    Event::Up => wit_types::EventKind::Up,
                    Event::Degraded => wit_types::EventKind::Degraded,
                },
                service_name: n.service_name.clone(),
                transition: wit_types::Transition {
                    service_id: n.service_id.clone(),
                    from: status_to_wit(n.transition.from),
                    to: status_to_wit(n.transition.to),
                    reason: match n.transition.reason {
                        Reason::Heartbeat => "heartbeat".into(),
                        Reason::Silence => "silence".into(),
                    },
                    at_ms: n.transition.at,
                },
                last_heartbeat_ms: n.last_heartbeat,
                message: n.message.clone(),
                metadata_json: n
                    .metadata
                    .as_ref()
                    .map(|m| serde_json::to_string(m).unwrap_or_default()),
                threshold_secs: n.threshold_secs,
                previous_since_ms: n.previous_since,
                reminder: n.reminder,
                dependents: n.dependents.clone(),
                event_id: n.event_id.clone(),
                alert: n.alert.as_ref().map(|a| wit_types::AlertInfo {
                    format: a.format.as_str().into(),
                    severity: a.severity.as_str().into(),
                    firing: a.state == heartbeat_core::alert::State::Firing,
                    title: a.title.clone(),
                    text: a.text.clone(),
                    source: a.source.clone(),
                    dedup_key: a.dedup_key.clone(),
                    url: a.url.clone(),
                    labels: a.labels.clone().into_iter().collect(),
                }),
            }
        }

        /// The deliveries as heartbeat-core records them.
        fn deliveries_from_wit(
            list: Vec<wit_types::Delivery>,
        ) -> Vec<heartbeat_core::notification::Delivery> {
            $crate::move_deliveries!(list => heartbeat_core::notification::Delivery, heartbeat_core::notification::Try)
        }
    };
}

/// For the component that implements the notifier: `notification_from_wit` and
/// `deliveries_to_wit`.
#[macro_export]
macro_rules! notifier_export_conversions {
    () => {
        fn status_from_wit(s: wit_types::ServiceStatus) -> heartbeat_core::model::Status {
            use heartbeat_core::model::Status;
            match s {
                wit_types::ServiceStatus::Unknown => Status::Unknown,
                wit_types::ServiceStatus::Up => Status::Up,
                wit_types::ServiceStatus::Degraded => Status::Degraded,
                wit_types::ServiceStatus::Down => Status::Down,
            }
        }

        /// The notification as heartbeat-core's channels read it.
        fn notification_from_wit(
            n: wit_types::Notification,
        ) -> heartbeat_core::notification::Notification {
            use heartbeat_core::alert::{Alert, Format, Severity, State};
            use heartbeat_core::model::{Event, Reason, Transition};
            heartbeat_core::notification::Notification {
                event: match n.event {
                    wit_types::EventKind::Down => Event::Down,
                    wit_types::EventKind::Up => Event::Up,
                    wit_types::EventKind::Degraded => Event::Degraded,
                },
                service_id: n.transition.service_id.clone(),
                service_name: n.service_name,
                transition: Transition {
                    at: n.transition.at_ms,
                    from: status_from_wit(n.transition.from),
                    to: status_from_wit(n.transition.to),
                    reason: if n.transition.reason == "silence" {
                        Reason::Silence
                    } else {
                        Reason::Heartbeat
                    },
                    // Only the messages are made here; the stored transition keeps its number.
                    seq: 0,
                },
                last_heartbeat: n.last_heartbeat_ms,
                message: n.message,
                metadata: n.metadata_json.and_then(|m| serde_json::from_str(&m).ok()),
                threshold_secs: n.threshold_secs,
                previous_since: n.previous_since_ms,
                reminder: n.reminder,
                dependents: n.dependents,
                event_id: n.event_id,
                alert: n.alert.map(|a| Alert {
                    format: Format::parse(&a.format).unwrap_or(Format::Generic),
                    state: if a.firing {
                        State::Firing
                    } else {
                        State::Resolved
                    },
                    severity: Severity::parse(&a.severity).unwrap_or(Severity::Warning),
                    title: a.title,
                    text: a.text,
                    source: a.source,
                    dedup_key: a.dedup_key,
                    url: a.url,
                    labels: a.labels.into_iter().collect(),
                    items: Vec::new(),
                    not_listed: 0,
                }),
            }
        }

        /// The deliveries as the WIT interface carries them.
        fn deliveries_to_wit(
            deliveries: Vec<heartbeat_core::notification::Delivery>,
        ) -> Vec<wit_types::Delivery> {
            $crate::move_deliveries!(deliveries => wit_types::Delivery, wit_types::Attempt)
        }
    };
}

/// Moves a list of deliveries field by field into the other side's types, both ways alike.
#[doc(hidden)]
#[macro_export]
macro_rules! move_deliveries {
    ($list:expr => $($delivery:ident)::+, $($attempt:ident)::+) => {
        $list
            .into_iter()
            .map(|d| $($delivery)::+ {
                channel: d.channel,
                channel_type: d.channel_type,
                ok: d.ok,
                http_status: d.http_status,
                latency_ms: d.latency_ms,
                error: d.error,
                attempts: d.attempts,
                tries: d
                    .tries
                    .into_iter()
                    .map(|t| $($attempt)::+ {
                        http_status: t.http_status,
                        latency_ms: t.latency_ms,
                        error: t.error,
                    })
                    .collect(),
            })
            .collect()
    };
}
