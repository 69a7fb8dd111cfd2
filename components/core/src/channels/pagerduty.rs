//! `pagerduty`: Events API v2 — `trigger` on down/degraded, `resolve` on recovery, with one
//! `dedup_key` per service so repeats update one incident and recovery closes it.
//!
//! Secret: `ROUTING_KEY` (integration key). Options: `severity` (`{"down": "critical",
//! "degraded": "warning"}` by default; critical, error, warning or info), `source` (default
//! `heartbeat-monitor`).
//! API: <https://developer.pagerduty.com/docs/events-api-v2/trigger-events/> (summary ≤ 1,024).

use super::prelude::*;

pub struct PagerDuty;

const URL: &str = "https://events.pagerduty.com/v2/enqueue";
const SUMMARY_MAX: usize = 1024;
const SEVERITIES: [&str; 4] = ["critical", "error", "warning", "info"];

/// Stable per service: a degraded then down updates one incident, and `resolve` finds it.
pub fn dedup_key(service_id: &str) -> String {
    format!("heartbeat-monitor:{service_id}")
}

fn severity(options: &Map<String, Value>, event: Event) -> String {
    options
        .get("severity")
        .and_then(|s| s.get(event.as_str()))
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| {
            if event == Event::Down {
                "critical"
            } else {
                "warning"
            }
            .into()
        })
}

impl Channel for PagerDuty {
    const SECRETS: &'static [SecretKey] = &[SecretKey::required("ROUTING_KEY")];

    const OPTIONS: &'static [&'static str] = &["severity", "source"];

    fn check_options(options: &Map<String, Value>) -> Result<(), OptionError> {
        per_event_option(options, "severity", "severity", |event, v| {
            if !matches!(event, "down" | "degraded") {
                Err("only down and degraded trigger incidents".into())
            } else if !v.as_str().is_some_and(|v| SEVERITIES.contains(&v)) {
                Err("must be critical, error, warning or info".into())
            } else {
                Ok(())
            }
        })?;
        string_option(options, "source")
    }

    fn build(ctx: &BuildInput<'_>) -> Result<OutboundRequest, BuildError> {
        let key = ctx.require("ROUTING_KEY")?;
        let n = ctx.notification;
        // PagerDuty keeps dedup keys up to 255 characters.
        let dedup = match &n.alert {
            Some(a) => shorten(&format!("heartbeat-monitor:alert:{}", a.dedup_key), 255),
            None => dedup_key(&n.service_id),
        };
        let body = if n.event == Event::Up {
            json!({ "routing_key": key, "event_action": "resolve", "dedup_key": dedup })
        } else {
            let first_line = ctx.message.text.lines().next().unwrap_or_default();
            let source = ctx
                .option("source")
                .and_then(Value::as_str)
                .unwrap_or("heartbeat-monitor");
            json!({
                "routing_key": key,
                "event_action": "trigger",
                "dedup_key": dedup,
                "payload": {
                    "summary": shorten(&format!("{}: {first_line}", ctx.message.title), SUMMARY_MAX),
                    "source": source,
                    "severity": match &n.alert {
                        // The sender's own severity wins over the per-event mapping.
                        Some(a) => a.severity.as_str().to_string(),
                        None => severity(&ctx.channel.options, n.event),
                    },
                    "timestamp": iso(n.transition.at),
                    "component": n.service_id,
                    "custom_details": {
                        "service": n.service_name,
                        "status": n.transition.to.as_str(),
                        "previousStatus": n.transition.from.as_str(),
                        "reason": n.transition.reason.as_str(),
                        "lastHeartbeat": n.last_heartbeat.map(iso),
                        "message": n.message,
                    },
                },
            })
        };
        Ok(OutboundRequest::json(URL.into(), &body))
    }

    // 202 accepted; 400 invalid event (permanent); 429 and 5xx retry with backoff:
    // <https://developer.pagerduty.com/docs/events-api-v2/overview/#response-codes--retry-logic>.
    // The common rule fits.
}
