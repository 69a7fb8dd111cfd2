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
/// there is nothing to escape.
fn label(value: &str) -> Cow<'_, str> {
    if !value.bytes().any(|b| matches!(b, b'\\' | b'"' | b'\n')) {
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
    for (tag, text) in [("HELP", help), ("TYPE", kind)] {
        out.push_str("# ");
        out.push_str(tag);
        out.push(' ');
        out.push_str(name);
        out.push(' ');
        out.push_str(text);
        out.push('\n');
    }
}

/// Starts one sample line, `name{key="value",…} `, from label values already escaped
/// ([`label`]); its value follows. Pieces are pushed rather than formatted: a thousand
/// services make twelve thousand lines.
fn sample(out: &mut String, name: &str, labels: &[(&str, &str)]) {
    out.push_str(name);
    out.push('{');
    for (i, (key, value)) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(key);
        out.push_str("=\"");
        out.push_str(value);
        out.push('"');
    }
    out.push_str("} ");
}

/// Ends a sample with an integer value.
fn int(out: &mut String, n: impl itoa::Integer) {
    out.push_str(itoa::Buffer::new().format(n));
    out.push('\n');
}

/// Ends a sample with a fractional value.
fn float(out: &mut String, x: f64) {
    let _ = writeln!(out, "{x}");
}

pub fn render(board: &Board<'_>) -> String {
    // Each service's id escaped once: it labels a dozen lines.
    let rows: Vec<_> = board
        .rows
        .iter()
        .filter(|r| r.service.enabled)
        .map(|r| (r, label(&r.service.id)))
        .collect();
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
        sample(&mut out, "heartbeat_services", &[("status", status)]);
        int(&mut out, n);
    }

    family(
        &mut out,
        "heartbeat_service_info",
        "gauge",
        "Always 1; carries each service's display name.",
    );
    for (r, id) in &rows {
        let labels = [("service", id.as_ref()), ("name", &label(&r.service.name))];
        sample(&mut out, "heartbeat_service_info", &labels);
        int(&mut out, 1);
    }

    family(
        &mut out,
        "heartbeat_up",
        "gauge",
        "1 when the service is up or degraded, 0 when down or never heard from.",
    );
    for (r, id) in &rows {
        sample(&mut out, "heartbeat_up", &[("service", id.as_ref())]);
        int(
            &mut out,
            matches!(r.status, Status::Up | Status::Degraded) as u8,
        );
    }

    family(
        &mut out,
        "heartbeat_status",
        "gauge",
        "1 for the service's current status, 0 for the others.",
    );
    for (r, id) in &rows {
        for status in [Status::Up, Status::Degraded, Status::Down, Status::Unknown] {
            let labels = [("service", id.as_ref()), ("status", status.as_str())];
            sample(&mut out, "heartbeat_status", &labels);
            int(&mut out, (r.status == status) as u8);
        }
    }

    family(
        &mut out,
        "heartbeat_last_seen_timestamp_seconds",
        "gauge",
        "Unix time of the last accepted heartbeat; absent until the first.",
    );
    for (r, id) in &rows {
        if let Some(at) = r.last_heartbeat() {
            let labels = [("service", id.as_ref())];
            sample(&mut out, "heartbeat_last_seen_timestamp_seconds", &labels);
            // Seconds with three decimals: the milliseconds, zero-padded.
            out.push_str(itoa::Buffer::new().format(at.div_euclid(1000)));
            let ms = at.rem_euclid(1000);
            out.push('.');
            for digit in [ms / 100, ms / 10 % 10, ms % 10] {
                out.push(char::from(b'0' + digit as u8));
            }
            out.push('\n');
        }
    }

    family(
        &mut out,
        "heartbeat_staleness_threshold_seconds",
        "gauge",
        "Silence after which the service counts as down.",
    );
    for (r, id) in &rows {
        let labels = [("service", id.as_ref())];
        sample(&mut out, "heartbeat_staleness_threshold_seconds", &labels);
        int(&mut out, r.service.staleness_threshold_secs);
    }

    family(
        &mut out,
        "heartbeat_last_run_duration_seconds",
        "gauge",
        "How long the last measured run (/start to finish) took; absent until one is measured.",
    );
    for (r, id) in &rows {
        if let Some(ms) = r.state.as_ref().and_then(|s| s.last_duration_ms) {
            let labels = [("service", id.as_ref())];
            sample(&mut out, "heartbeat_last_run_duration_seconds", &labels);
            float(&mut out, ms as f64 / 1000.0);
        }
    }

    family(
        &mut out,
        "heartbeat_uptime_ratio",
        "gauge",
        "Share of known time the service was up or degraded, per window; absent without data.",
    );
    for (r, id) in &rows {
        for ((window, _), p) in WINDOWS.iter().zip(&r.uptime) {
            if let Some(p) = p {
                let labels = [("service", id.as_ref()), ("window", window)];
                sample(&mut out, "heartbeat_uptime_ratio", &labels);
                match super::format::thousandths(*p) {
                    Some(t) => {
                        out.push_str(super::format::decimal(t, 5, 0).as_str());
                        out.push('\n');
                    }
                    None => float(&mut out, p / 100.0),
                }
            }
        }
    }

    family(
        &mut out,
        "heartbeat_notifications_total",
        "counter",
        "Notification deliveries per channel and outcome.",
    );
    for (r, id) in &rows {
        for (channel, count) in &r.delivered {
            for (outcome, n) in [("delivered", count.ok), ("failed", count.failed)] {
                let labels = [
                    ("service", id.as_ref()),
                    ("channel", &label(channel)),
                    ("outcome", outcome),
                ];
                sample(&mut out, "heartbeat_notifications_total", &labels);
                int(&mut out, n);
            }
        }
    }
    out
}
