//! Schedules through the real components: a period with grace, and a cron job in a time zone.
//! A service is late after its due time, down after grace, notified once by the sweep. And the
//! flap guard: `confirmations` downs in a row before a service is down; flapping is shown.

use super::support::{config_dir, fixture_config, host_with, TestHost};
use heartbeat_host::kv::AbsentCas;
use serde_json::json;

fn key(id: &str) -> String {
    format!("schedule-key-{id}")
}

fn host() -> TestHost {
    let services = json!({ "services": [
        { "id": "hourly", "schedule": { "kind": "period", "period": 3600, "grace": 600 } },
        { "id": "nightly", "schedule": { "kind": "cron", "expression": "30 2 * * *",
                                          "timezone": "Europe/Berlin", "grace": 900 } },
        { "id": "guarded", "stalenessThreshold": 600, "confirmations": 2 },
        { "id": "flaky", "stalenessThreshold": 600 },
    ]});
    let dir = config_dir(
        "schedules",
        &services,
        &fixture_config("notifications.json"),
    );
    let keys = json!({ "hourly": key("hourly"), "nightly": key("nightly"),
                       "guarded": key("guarded"), "flaky": key("flaky") })
    .to_string();
    host_with(AbsentCas::Exact, move |o| {
        o.config_dir = Some(dir);
        o.variables.insert("api_keys".into(), keys);
        o.variables.insert("ping_key".into(), "pk".into());
    })
}

fn status(h: &TestHost, id: &str) -> serde_json::Value {
    h.client.service_status(id).unwrap()
}

fn downs(h: &TestHost, id: &str) -> usize {
    h.deliveries()
        .iter()
        .filter(|d| d["service"]["id"] == id && d["event"] == "down")
        .count()
}

#[test]
fn a_period_with_grace_is_late_after_the_period_and_down_after_grace() {
    let h = host();
    h.beat_with(&key("hourly"), "hourly", "up");
    let s = status(&h, "hourly");
    assert_eq!(
        (s["schedule"].as_str(), s["stalenessThreshold"].as_u64()),
        (Some("every 1 h"), Some(4200))
    );
    h.advance(3590);
    assert_eq!(status(&h, "hourly")["late"], false);
    h.advance(20);
    let s = status(&h, "hourly");
    assert_eq!(
        (s["status"].as_str(), s["late"].as_bool()),
        (Some("up"), Some(true)),
        "late, not down"
    );
    h.sweep();
    assert_eq!(
        downs(&h, "hourly"),
        0,
        "nobody is told while it is only late"
    );
    let page = h.client.get("/").unwrap().body;
    assert!(
        page.contains("<em>late</em>"),
        "the dashboard shows it late"
    );
    h.advance(600);
    assert_eq!(status(&h, "hourly")["status"], "down");
    h.sweep();
    h.sweep();
    assert_eq!(downs(&h, "hourly"), 1);
}

#[test]
fn a_nightly_cron_job_is_due_at_0230_berlin_time_and_down_after_its_grace() {
    let h = host();
    h.beat_with(&key("nightly"), "nightly", "up");
    let s = status(&h, "nightly");
    assert_eq!(s["schedule"], "30 2 * * * (Europe/Berlin)");
    // 02:30 in Berlin is 00:30 UTC in summer and 01:30 UTC in winter.
    let due = s["nextDueAt"].as_str().unwrap().to_string();
    assert!(
        due.ends_with(":30:00.000Z") && (due.contains("T00:") || due.contains("T01:")),
        "{due}"
    );
    let due_ms = chrono_ms(&due);
    let now_ms = chrono_ms(s["lastHeartbeat"].as_str().unwrap());
    let until_due = (due_ms - now_ms) / 1000;
    assert!(
        (0..=25 * 3600).contains(&until_due),
        "due within a day: {until_due} s"
    );

    h.advance(until_due as u64 + 60);
    let s = status(&h, "nightly");
    assert_eq!(
        (s["status"].as_str(), s["late"].as_bool()),
        (Some("up"), Some(true))
    );
    h.advance(900);
    h.sweep();
    assert_eq!(status(&h, "nightly")["status"], "down");
    assert_eq!(downs(&h, "nightly"), 1, "notified when grace ran out");
    // The job runs again: up, and due at the next 02:30.
    h.beat_with(&key("nightly"), "nightly", "up");
    let s = status(&h, "nightly");
    assert_eq!(s["status"], "up");
    assert!(chrono_ms(s["nextDueAt"].as_str().unwrap()) > due_ms);
}

#[test]
fn a_run_that_starts_and_never_finishes_is_down_after_grace() {
    let h = host();
    h.beat_with(&key("hourly"), "hourly", "up");
    h.advance(100);
    assert_eq!(h.client.get("/ping/pk/hourly/start").unwrap().status, 200);
    h.advance(590);
    assert_eq!(
        status(&h, "hourly")["status"],
        "up",
        "the run may take its grace (10 min)"
    );
    h.advance(20);
    assert_eq!(
        status(&h, "hourly")["status"],
        "down",
        "hung: started 10 min ago, never finished"
    );
    h.sweep();
    assert_eq!(downs(&h, "hourly"), 1);
    // The run finally finishes: up again, and its duration is recorded.
    assert_eq!(h.client.get("/ping/pk/hourly").unwrap().status, 200);
    let s = status(&h, "hourly");
    assert_eq!(s["status"], "up");
    assert_eq!(s["lastDurationMs"].as_i64().map(|ms| ms / 1000), Some(610));
}

#[test]
fn the_flap_guard_waits_for_two_downs_in_a_row_and_flapping_is_shown() {
    let h = host();
    let guarded = |reported: &str| {
        h.beat_with(&key("guarded"), "guarded", reported);
        status(&h, "guarded")["status"].clone()
    };
    guarded("up");
    assert_eq!(guarded("down"), "up", "one down is not enough");
    assert_eq!(downs(&h, "guarded"), 0);
    guarded("up");
    assert_eq!(guarded("down"), "up", "the count restarted after the up");
    assert_eq!(guarded("down"), "down");
    assert_eq!(downs(&h, "guarded"), 1);
    assert_eq!(
        logs_statuses(&h, "guarded"),
        ["down", "down", "up", "down", "up"],
        "every report is logged"
    );

    for s in ["up", "down", "up", "down", "up"] {
        h.beat_with(&key("flaky"), "flaky", s);
    }
    assert_eq!(status(&h, "flaky")["flapping"], true);
    assert!(h
        .client
        .get("/")
        .unwrap()
        .body
        .contains("<em>flapping</em>"));
    assert_eq!(status(&h, "guarded")["flapping"], false);
}

fn logs_statuses(h: &TestHost, id: &str) -> Vec<String> {
    h.client
        .logs(id)
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap().to_string())
        .collect()
}

/// Milliseconds since the epoch of an API timestamp (`2026-11-25T00:30:00.000Z`).
fn chrono_ms(iso: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(iso)
        .unwrap()
        .timestamp_millis()
}
