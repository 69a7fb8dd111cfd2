//! The answer of `/api/status`, written by hand: the same bytes as serializing the map of
//! each row that earlier releases built (keys in alphabetical order, floats as serde_json
//! writes them), without escaping every key, formatting floats and allocating each row's
//! uptime map and timestamps. That was a fifth of the answer at 1,000 services (perf).

use crate::time::push_iso;
use crate::uptime::WINDOWS;
use crate::views::format::{decimal, thousandths};
use crate::views::{Board, Row};
use serde_json::Value;

/// Room for one service: a row takes about 450 bytes, more with a message.
const ROW_BYTES: usize = 512;

/// The uptime windows in the order of their labels (`24h`, `30d`, `7d`, `90d`), as a map
/// with sorted keys writes them: indices into [`WINDOWS`].
const WINDOWS_BY_LABEL: [usize; 4] = [0, 2, 1, 3];

/// The whole answer. `page` is written when given, the rows unless `summary`.
pub(super) fn body(board: &Board<'_>, page: Option<Value>, summary: bool) -> Vec<u8> {
    let c = board.counts;
    let mut out = Vec::with_capacity(512 + board.rows.len() * ROW_BYTES);
    out.extend_from_slice(b"{\"counts\":{\"degraded\":");
    number(&mut out, c.degraded as i64);
    out.extend_from_slice(b",\"down\":");
    number(&mut out, c.down as i64);
    out.extend_from_slice(b",\"total\":");
    number(&mut out, c.total as i64);
    out.extend_from_slice(b",\"unknown\":");
    number(&mut out, c.unknown as i64);
    out.extend_from_slice(b",\"up\":");
    number(&mut out, c.up as i64);
    out.extend_from_slice(b"},\"generatedAt\":");
    time(&mut out, Some(board.now));
    out.extend_from_slice(b",\"headline\":");
    string(&mut out, Some(&c.headline()));
    out.extend_from_slice(b",\"overall\":\"");
    out.extend_from_slice(c.overall().as_str().as_bytes());
    out.push(b'"');
    if let Some(page) = page {
        out.extend_from_slice(b",\"page\":");
        serde_json::to_writer(&mut out, &page).expect("a value serializes");
    }
    if !summary {
        out.extend_from_slice(b",\"services\":[");
        for (i, row) in board.rows.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_row(&mut out, row, board.now);
        }
        out.push(b']');
    }
    out.push(b'}');
    out
}

/// One service.
fn write_row(out: &mut Vec<u8>, r: &Row<'_>, now: i64) {
    let last = r.last_heartbeat();
    out.extend_from_slice(b"{\"enabled\":");
    boolean(out, r.service.enabled);
    out.extend_from_slice(b",\"flapping\":");
    boolean(out, r.flapping);
    out.extend_from_slice(b",\"id\":");
    string(out, Some(&r.service.id));
    out.extend_from_slice(b",\"lastDurationMs\":");
    optional(out, r.state.as_ref().and_then(|s| s.last_duration_ms));
    out.extend_from_slice(b",\"lastHeartbeat\":");
    time(out, last);
    out.extend_from_slice(b",\"lastMessage\":");
    string(out, r.last_message());
    out.extend_from_slice(b",\"late\":");
    boolean(out, r.late(now));
    out.extend_from_slice(b",\"maintenance\":");
    boolean(out, r.maintenance);
    out.extend_from_slice(b",\"name\":");
    string(out, Some(&r.service.name));
    out.extend_from_slice(b",\"nextDueAt\":");
    time(out, r.next_due().filter(|d| *d < i64::MAX));
    out.extend_from_slice(b",\"paused\":");
    boolean(out, r.paused.is_some());
    out.extend_from_slice(b",\"schedule\":");
    string(out, Some(&r.service.schedule.describe()));
    out.extend_from_slice(b",\"secondsSinceLastHeartbeat\":");
    optional(out, last.map(|at| (now - at).max(0) / 1000));
    out.extend_from_slice(b",\"stalenessThreshold\":");
    out.extend_from_slice(
        itoa::Buffer::new()
            .format(r.service.staleness_threshold_secs)
            .as_bytes(),
    );
    out.extend_from_slice(b",\"status\":\"");
    out.extend_from_slice(r.status.as_str().as_bytes());
    out.extend_from_slice(b"\",\"statusSince\":");
    time(out, r.since);
    out.extend_from_slice(b",\"uptime\":{");
    for (k, &w) in WINDOWS_BY_LABEL.iter().enumerate() {
        if k > 0 {
            out.push(b',');
        }
        out.push(b'"');
        out.extend_from_slice(WINDOWS[w].0.as_bytes());
        out.extend_from_slice(b"\":");
        percent(out, r.uptime[w]);
    }
    out.extend_from_slice(b"}}");
}

fn boolean(out: &mut Vec<u8>, b: bool) {
    out.extend_from_slice(if b { b"true" } else { b"false" });
}

fn number(out: &mut Vec<u8>, n: i64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

fn optional(out: &mut Vec<u8>, n: Option<i64>) {
    match n {
        Some(n) => number(out, n),
        None => out.extend_from_slice(b"null"),
    }
}

/// A string escaped as serde_json escapes it.
fn string(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => serde_json::to_writer(&mut *out, s).expect("a string serializes"),
        None => out.extend_from_slice(b"null"),
    }
}

/// A timestamp as [`crate::time::iso`] writes it (nothing in it needs escaping).
fn time(out: &mut Vec<u8>, ms: Option<i64>) {
    let Some(ms) = ms else {
        out.extend_from_slice(b"null");
        return;
    };
    out.push(b'"');
    push_iso(out, ms);
    out.push(b'"');
}

/// An uptime percentage as serde_json writes that float.
fn percent(out: &mut Vec<u8>, p: Option<f64>) {
    match p {
        None => out.extend_from_slice(b"null"),
        Some(p) => match thousandths(p) {
            Some(t) => out.extend_from_slice(decimal(t, 3, 1).as_bytes()),
            // Not whole thousandths: nothing this is given, but never written wrong.
            None => serde_json::to_writer(&mut *out, &p).expect("a float serializes"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::layout::Layout;
    use crate::model::Status;
    use crate::store::MemoryStore;
    use crate::time::iso;
    use serde_json::json;

    const NOW: i64 = 1_764_000_000_000;
    const LAYOUT: Layout = Layout {
        max_log_entries: 100,
    };

    /// A row as earlier releases built it: a map, whose keys serde_json sorts.
    fn map_of(r: &Row<'_>, now: i64) -> Value {
        json!({
            "enabled": r.service.enabled,
            "flapping": r.flapping,
            "id": r.service.id,
            "lastDurationMs": r.state.as_ref().and_then(|s| s.last_duration_ms),
            "lastHeartbeat": r.last_heartbeat().map(iso),
            "lastMessage": r.last_message(),
            "late": r.late(now),
            "maintenance": r.maintenance,
            "name": r.service.name,
            "nextDueAt": r.next_due().filter(|d| *d < i64::MAX).map(iso),
            "paused": r.paused.is_some(),
            "schedule": r.service.schedule.describe(),
            "secondsSinceLastHeartbeat": r.last_heartbeat().map(|at| (now - at).max(0) / 1000),
            "stalenessThreshold": r.service.staleness_threshold_secs,
            "status": r.status.as_str(),
            "statusSince": r.since.map(iso),
            "uptime": WINDOWS
                .iter()
                .zip(r.uptime)
                .map(|((label, _), p)| (label.to_string(), json!(p)))
                .collect::<serde_json::Map<_, _>>(),
        })
    }

    fn beat(store: &MemoryStore, id: &str, at: i64, status: Status, message: &str) {
        crate::views::tests::beat_within(300, store, id, at, status, message, Value::Null);
    }

    /// Every kind of row (beaten or not, each status, silent, paused, disabled, on a cron
    /// schedule, with text that must be escaped) written as the map was.
    #[test]
    fn the_answer_is_the_bytes_the_maps_were() {
        let cfg = Config::parse(
            &json!({ "services": [
                { "id": "up", "name": "Quote \" \\ tab\t nl\n bell\u{7} é 🦀 </script>", "stalenessThreshold": 300 },
                { "id": "never", "stalenessThreshold": 300 },
                { "id": "silent", "stalenessThreshold": 300 },
                { "id": "flaps", "stalenessThreshold": 300 },
                { "id": "off", "enabled": false, "stalenessThreshold": 300 },
                { "id": "nightly", "schedule": { "kind": "cron", "expression": "0 3 * * *",
                    "timezone": "Europe/Berlin", "grace": 600 } },
            ]})
            .to_string(),
            r#"{"enabled": false, "channels": []}"#,
        )
        .unwrap();
        let store = MemoryStore::default();
        let min = 60_000;
        beat(&store, "up", NOW - 30 * 86_400_000, Status::Up, "first");
        beat(&store, "up", NOW - 2 * 86_400_000, Status::Down, "disk");
        beat(
            &store,
            "up",
            NOW - min,
            Status::Degraded,
            "\"slow\"\n\u{1}\u{7f}",
        );
        beat(&store, "silent", NOW - 20 * min, Status::Up, "");
        for k in 0..5 {
            let status = [Status::Up, Status::Down][k % 2];
            beat(&store, "flaps", NOW - (10 - k as i64) * min, status, "flap");
        }
        beat(&store, "off", NOW - min, Status::Up, "ok");
        beat(&store, "nightly", NOW - 3 * 3_600_000, Status::Up, "ran");
        LAYOUT.pause(&store, "flaps", NOW - min).unwrap();
        let board = Board::read(&store, &LAYOUT, &cfg.services, &cfg.maintenance, NOW).unwrap();
        let page = json!({ "offset": 0, "limit": 6, "services": 6, "next": null });
        for (page, summary) in [(None, false), (Some(page), false), (None, true)] {
            let mut expected = json!({
                "counts": {
                    "total": board.counts.total, "up": board.counts.up,
                    "down": board.counts.down, "degraded": board.counts.degraded,
                    "unknown": board.counts.unknown,
                },
                "generatedAt": iso(NOW),
                "headline": board.counts.headline(),
                "overall": board.counts.overall().as_str(),
            });
            if let Some(page) = &page {
                expected["page"] = page.clone();
            }
            if !summary {
                let rows: Vec<Value> = board.rows.iter().map(|r| map_of(r, NOW)).collect();
                expected["services"] = rows.into();
            }
            let written = body(&board, page, summary);
            assert_eq!(
                String::from_utf8(written).unwrap(),
                serde_json::to_string(&expected).unwrap()
            );
        }
        let rows = &board.rows;
        assert!(rows.iter().any(|r| r.flapping) && rows.iter().any(|r| r.paused.is_some()));
        assert!(rows.iter().any(|r| r.state.is_none()));
        let statuses: Vec<Status> = rows.iter().map(|r| r.status).collect();
        assert!(statuses.contains(&Status::Degraded) && statuses.contains(&Status::Down));
    }

    /// Every value an uptime can take, and some it cannot, read as serde_json writes them.
    #[test]
    fn percentages_read_as_serde_json_writes_them() {
        let mut out = Vec::new();
        let odd = [0.1 + 0.2, 1e-7, 99.9999, 1e20, -0.5, 12.5];
        for p in (0..=100_000u32).map(|t| f64::from(t) / 1000.0).chain(odd) {
            out.clear();
            percent(&mut out, Some(p));
            assert_eq!(
                std::str::from_utf8(&out).unwrap(),
                serde_json::to_string(&p).unwrap(),
                "{p}"
            );
        }
    }
}
