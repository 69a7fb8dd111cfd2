//! `GET /metrics` in the Prometheus text exposition format (version 0.0.4), so the monitor can
//! itself be scraped and alerted on: an alert on `heartbeat_up == 0` pages people even if every
//! notification channel is broken. Only enabled services are listed, as in the counts.

use super::Board;
use crate::model::Status;
use crate::uptime::WINDOWS;
use std::borrow::Cow;
use std::fmt::Write;

/// The `content-type` Prometheus expects for this format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A label value with `\`, `"` and newlines escaped as the format requires; borrowed when
/// there is nothing to escape (every service's id is written a dozen times).
fn label(value: &str) -> Cow<'_, str> {
    if !value.contains(['\\', '"', '\n']) {
        return Cow::Borrowed(value);
    }
    Cow::Owned(
        value
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n"),
    )
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

pub fn render(board: &Board<'_>) -> String {
    let rows: Vec<_> = board.rows.iter().filter(|r| r.service.enabled).collect();
    let mut out = String::with_capacity(512 + rows.len() * 1024);

    family(
        &mut out,
        "heartbeat_services",
        "gauge",
        "Enabled services by current status.",
    );
    for (status, n) in [
        ("up", board.counts.up),
        ("degraded", board.counts.degraded),
        ("down", board.counts.down),
        ("unknown", board.counts.unknown),
    ] {
        let _ = writeln!(out, "heartbeat_services{{status=\"{status}\"}} {n}");
    }

    family(
        &mut out,
        "heartbeat_service_info",
        "gauge",
        "Always 1; carries each service's display name.",
    );
    for r in &rows {
        let _ = writeln!(
            out,
            "heartbeat_service_info{{service=\"{}\",name=\"{}\"}} 1",
            label(&r.service.id),
            label(&r.service.name)
        );
    }

    family(
        &mut out,
        "heartbeat_up",
        "gauge",
        "1 when the service is up or degraded, 0 when down or never heard from.",
    );
    for r in &rows {
        let up = matches!(r.status, Status::Up | Status::Degraded) as u8;
        let _ = writeln!(
            out,
            "heartbeat_up{{service=\"{}\"}} {up}",
            label(&r.service.id)
        );
    }

    family(
        &mut out,
        "heartbeat_status",
        "gauge",
        "1 for the service's current status, 0 for the others.",
    );
    for r in &rows {
        for status in [Status::Up, Status::Degraded, Status::Down, Status::Unknown] {
            let _ = writeln!(
                out,
                "heartbeat_status{{service=\"{}\",status=\"{}\"}} {}",
                label(&r.service.id),
                status.as_str(),
                (r.status == status) as u8
            );
        }
    }

    family(
        &mut out,
        "heartbeat_last_seen_timestamp_seconds",
        "gauge",
        "Unix time of the last accepted heartbeat; absent until the first.",
    );
    for r in &rows {
        if let Some(at) = r.last_heartbeat() {
            let _ = writeln!(
                out,
                "heartbeat_last_seen_timestamp_seconds{{service=\"{}\"}} {}.{:03}",
                label(&r.service.id),
                at.div_euclid(1000),
                at.rem_euclid(1000)
            );
        }
    }

    family(
        &mut out,
        "heartbeat_staleness_threshold_seconds",
        "gauge",
        "Silence after which the service counts as down.",
    );
    for r in &rows {
        let _ = writeln!(
            out,
            "heartbeat_staleness_threshold_seconds{{service=\"{}\"}} {}",
            label(&r.service.id),
            r.service.staleness_threshold_secs
        );
    }

    family(
        &mut out,
        "heartbeat_last_run_duration_seconds",
        "gauge",
        "How long the last measured run (/start to finish) took; absent until one is measured.",
    );
    for r in &rows {
        if let Some(ms) = r.state.as_ref().and_then(|s| s.last_duration_ms) {
            let _ = writeln!(
                out,
                "heartbeat_last_run_duration_seconds{{service=\"{}\"}} {}",
                label(&r.service.id),
                ms as f64 / 1000.0
            );
        }
    }

    family(
        &mut out,
        "heartbeat_uptime_ratio",
        "gauge",
        "Share of known time the service was up or degraded, per window; absent without data.",
    );
    for r in &rows {
        for ((window, _), p) in WINDOWS.iter().zip(&r.uptime) {
            if let Some(p) = p {
                let _ = writeln!(
                    out,
                    "heartbeat_uptime_ratio{{service=\"{}\",window=\"{window}\"}} {}",
                    label(&r.service.id),
                    p / 100.0
                );
            }
        }
    }

    family(
        &mut out,
        "heartbeat_notifications_total",
        "counter",
        "Notification deliveries per channel and outcome.",
    );
    for r in &rows {
        for (channel, count) in &r.delivered {
            for (outcome, n) in [("delivered", count.ok), ("failed", count.failed)] {
                let _ = writeln!(
                    out,
                    "heartbeat_notifications_total{{service=\"{}\",channel=\"{}\",outcome=\"{outcome}\"}} {n}",
                    label(&r.service.id),
                    label(channel)
                );
            }
        }
    }
    out
}
