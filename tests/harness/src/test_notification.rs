//! `heartbeat-host notify-test --channel NAME`: a synthetic event sent to one channel through
//! the real notifiers component, so credentials and formatting can be checked before an
//! incident does it.

use crate::bindings::heartbeat::monitor::types;
use crate::runtime::Runtime;
use anyhow::{bail, Result};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// One channel's answer, for printing.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub channel: String,
    pub channel_type: String,
    pub ok: bool,
    pub http_status: Option<u16>,
    pub attempts: u32,
    pub latency_ms: u32,
    pub error: Option<String>,
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let status = self
            .http_status
            .map(|s| format!("HTTP {s}, "))
            .unwrap_or_default();
        if self.ok {
            write!(
                f,
                "{} ({}): delivered ({status}{} attempt(s), {} ms)",
                self.channel, self.channel_type, self.attempts, self.latency_ms
            )
        } else {
            write!(
                f,
                "{} ({}): FAILED: {} ({status}{} attempt(s))",
                self.channel,
                self.channel_type,
                self.error.as_deref().unwrap_or("unknown error"),
                self.attempts
            )
        }
    }
}

/// Send a test `event` (`down`, `up` or `degraded`) to `channel`.
pub async fn send(rt: &Arc<Runtime>, channel: &str, event: &str) -> Result<Vec<Outcome>> {
    let (event, from, to) = match event {
        "down" => (
            types::EventKind::Down,
            types::ServiceStatus::Up,
            types::ServiceStatus::Down,
        ),
        "up" => (
            types::EventKind::Up,
            types::ServiceStatus::Down,
            types::ServiceStatus::Up,
        ),
        "degraded" => (
            types::EventKind::Degraded,
            types::ServiceStatus::Up,
            types::ServiceStatus::Degraded,
        ),
        other => bail!("unknown event {other:?}: use down, up or degraded"),
    };
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() as i64;
    let n = types::Notification {
        event,
        service_name: "heartbeat-monitor test".into(),
        transition: types::Transition {
            service_id: "notify-test".into(),
            from,
            to,
            reason: "heartbeat".into(),
            at_ms: now,
        },
        last_heartbeat_ms: Some(now),
        message: Some("This is a test notification sent by heartbeat-host notify-test.".into()),
        metadata_json: None,
        threshold_secs: 300,
        previous_since_ms: Some(now - 60_000),
        alert: None,
        reminder: false,
        dependents: Vec::new(),
        event_id: format!("notify-test:{now}"),
    };
    let deliveries = rt.deliver_to(None, channel, n).await?;
    if deliveries.is_empty() {
        bail!("no channel named {channel:?} in notifications.json");
    }
    Ok(deliveries
        .into_iter()
        .map(|d| Outcome {
            channel: d.channel,
            channel_type: d.channel_type,
            ok: d.ok,
            http_status: d.http_status,
            attempts: d.attempts,
            latency_ms: d.latency_ms,
            error: d.error,
        })
        .collect())
}
