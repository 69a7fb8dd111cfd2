//! The notifiers component: exports `heartbeat:monitor/notifier`. heartbeat-core decides which
//! channels get an event and builds each vendor request; this component drives every channel's
//! delivery plan at once over `wasi:http`, so a slow vendor delays only itself. Ingest, sweep
//! and dashboard import it — linked by heartbeat-host, composed by Spin as a dependency.
#![expect(unsafe_code, reason = "wit-bindgen generates the notifier export glue")]

mod exchange;
mod outbound;

use exports::heartbeat::monitor::notifier::{Guest, Notification};
use heartbeat::monitor::types::{Attempt, Delivery, EventKind, ServiceStatus};
use heartbeat_core::config::{Secrets, Settings};
use heartbeat_core::model::{Event, Reason, Status, Transition};
use heartbeat_core::notify;

wit_bindgen::generate!({
    path: "../../wit",
    world: "heartbeat:monitor/notifiers",
    generate_all,
});

/// Secrets from `wasi:config` (lower-case Spin variable names).
struct Variables;

impl Secrets for Variables {
    fn get(&self, name: &str) -> Option<String> {
        wasi::config::store::get(&name.to_ascii_lowercase())
            .ok()
            .flatten()
    }
}

fn status(s: ServiceStatus) -> Status {
    match s {
        ServiceStatus::Unknown => Status::Unknown,
        ServiceStatus::Up => Status::Up,
        ServiceStatus::Degraded => Status::Degraded,
        ServiceStatus::Down => Status::Down,
    }
}

fn failed(error: String) -> Vec<Delivery> {
    vec![Delivery {
        channel: "(configuration)".into(),
        channel_type: String::new(),
        ok: false,
        http_status: None,
        latency_ms: 0,
        error: Some(error),
        attempts: 0,
        tries: Vec::new(),
    }]
}

fn notification(n: Notification) -> notify::Notification {
    notify::Notification {
        event: match n.event {
            EventKind::Down => Event::Down,
            EventKind::Up => Event::Up,
            EventKind::Degraded => Event::Degraded,
        },
        service_id: n.transition.service_id.clone(),
        service_name: n.service_name,
        transition: Transition {
            at: n.transition.at_ms,
            from: status(n.transition.from),
            to: status(n.transition.to),
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
        alert: n.alert.map(|a| heartbeat_core::alert::Alert {
            format: heartbeat_core::alert::Format::parse(&a.format)
                .unwrap_or(heartbeat_core::alert::Format::Generic),
            state: if a.firing {
                heartbeat_core::alert::State::Firing
            } else {
                heartbeat_core::alert::State::Resolved
            },
            severity: heartbeat_core::alert::Severity::parse(&a.severity)
                .unwrap_or(heartbeat_core::alert::Severity::Warning),
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

fn setup() -> Result<(heartbeat_core::config::Config, Settings), Vec<Delivery>> {
    let config = heartbeat_guest::files::load_config().map_err(failed)?;
    let settings = Settings::from_secrets(&Variables).map_err(|e| failed(e.to_string()))?;
    Ok((config, settings))
}

fn wit(deliveries: Vec<notify::Delivery>) -> Vec<Delivery> {
    deliveries
        .into_iter()
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
                .map(|t| Attempt {
                    http_status: t.http_status,
                    latency_ms: t.latency_ms,
                    error: t.error,
                })
                .collect(),
        })
        .collect()
}

struct Notifiers;

impl Guest for Notifiers {
    fn deliver(n: Notification) -> Vec<Delivery> {
        let (config, settings) = match setup() {
            Ok(s) => s,
            Err(d) => return d,
        };
        let plans = notify::plans(
            &config,
            &Variables,
            settings.request_timeout_ms,
            &notification(n),
        );
        wit(outbound::drive_all(plans))
    }

    fn deliver_to(channel: String, n: Notification) -> Vec<Delivery> {
        let (config, settings) = match setup() {
            Ok(s) => s,
            Err(d) => return d,
        };
        let plan = notify::plan_for(
            &config,
            &Variables,
            settings.request_timeout_ms,
            &channel,
            &notification(n),
        );
        wit(outbound::drive_all(plan.into_iter().collect()))
    }
}

export!(Notifiers);
