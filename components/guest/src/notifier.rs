//! heartbeat-core's `Notifier` over the `heartbeat:monitor/notifier` import.

use crate::bindings::heartbeat::monitor::{notifier, types};
use heartbeat_core::model::{Event, Reason, Status};
use heartbeat_core::notify::{Deliveries, Delivery, Notification, Notifier, Try};

/// Calls the notifiers component (linked by the host, or composed by Spin).
#[derive(Debug, Clone, Copy)]
pub struct NotifierImport;

fn status(s: Status) -> types::ServiceStatus {
    match s {
        Status::Unknown => types::ServiceStatus::Unknown,
        Status::Up => types::ServiceStatus::Up,
        Status::Degraded => types::ServiceStatus::Degraded,
        Status::Down => types::ServiceStatus::Down,
    }
}

/// The notification as the WIT interface carries it.
fn wit(n: &Notification) -> notifier::Notification {
    let event = match n.event {
        Event::Down => types::EventKind::Down,
        Event::Up => types::EventKind::Up,
        Event::Degraded => types::EventKind::Degraded,
    };
    notifier::Notification {
        event,
        service_name: n.service_name.clone(),
        transition: types::Transition {
            service_id: n.service_id.clone(),
            from: status(n.transition.from),
            to: status(n.transition.to),
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
        alert: n.alert.as_ref().map(|a| notifier::AlertInfo {
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
fn deliveries(list: Vec<notifier::Delivery>) -> Vec<Delivery> {
    list.into_iter()
        .map(|d| Delivery {
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
                .map(|t| Try {
                    http_status: t.http_status,
                    latency_ms: t.latency_ms,
                    error: t.error,
                })
                .collect(),
        })
        .collect()
}

/// The import blocks until the notifiers component is done, so each answer is a finished future.
impl Notifier for NotifierImport {
    fn deliver<'a>(&'a self, n: &'a Notification) -> Deliveries<'a> {
        Box::pin(std::future::ready(deliveries(notifier::deliver(&wit(n)))))
    }

    fn deliver_to<'a>(&'a self, channel: &'a str, n: &'a Notification) -> Deliveries<'a> {
        let answer = deliveries(notifier::deliver_to(channel, &wit(n)));
        Box::pin(std::future::ready(answer))
    }
}
