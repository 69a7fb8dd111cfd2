//! Drop-in compatibility: the exact requests that Healthchecks and Uptime Kuma document for their
//! clients — `curl` one-liners, `/start` + exit-code wrappers, `rid` — sent with the real `curl`
//! to heartbeat-host, and their effect read back through the API.

use super::support::{host_with, secrets, TestHost};
use heartbeat_host::kv::AbsentCas;
use heartbeat_host::HostOptions;
use std::process::Command;

pub(super) const PING_KEY: &str = "pk-0d5b2c7e9a";
pub(super) const ALPHA_TOKEN: &str = "kuma-token-alpha-91f2";

/// A host with ping URLs (`PING_KEY`) and push URLs (alpha's `ALPHA_TOKEN`, and bravo's) on.
pub(super) fn host_with_urls(tweak: impl FnOnce(&mut HostOptions)) -> TestHost {
    host_with(AbsentCas::Exact, |o| {
        o.variables.insert("ping_key".into(), PING_KEY.into());
        o.variables.insert(
            "push_tokens".into(),
            format!(r#"{{"alpha": "{ALPHA_TOKEN}", "bravo": "kuma-token-bravo"}}"#),
        );
        tweak(o);
    })
}

fn host() -> TestHost {
    host_with_urls(|o| {
        o.variables.insert("ping_body_limit".into(), "100".into());
    })
}

/// Run `sh -c script` with `$URL` set to the monitor's base URL; returns (exit code, stdout).
fn sh(h: &TestHost, script: &str) -> (i32, String) {
    let out = Command::new("sh")
        .args(["-c", script])
        .env("URL", h.running.url())
        .env("KEY", PING_KEY)
        .output()
        .expect("sh runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn logs(h: &TestHost, id: &str) -> Vec<serde_json::Value> {
    h.client.logs(id).unwrap()
}

fn status(h: &TestHost, id: &str) -> String {
    h.client.service_status(id).unwrap()["status"]
        .as_str()
        .unwrap()
        .to_string()
}

fn assert_no_secret_returned(h: &TestHost) {
    for body in h.client.bodies() {
        for secret in secrets()
            .iter()
            .map(String::as_str)
            .chain([PING_KEY, ALPHA_TOKEN])
        {
            assert!(!body.contains(secret), "a response contained a secret");
        }
    }
}

#[test]
fn the_healthchecks_curl_one_liner_works_unchanged() {
    let h = host();
    // https://healthchecks.io/docs/bash/ — the line people paste into crontab.
    let (code, out) = sh(&h, r#"curl -fsS -m 10 --retry 5 "$URL/ping/$KEY/alpha""#);
    assert_eq!((code, out.as_str()), (0, "OK"));
    assert_eq!(status(&h, "alpha"), "up");
    let (code, _) = sh(
        &h,
        r#"curl -fsS -m 10 --retry 5 -o /dev/null -I "$URL/ping/$KEY/alpha""#,
    );
    assert_eq!(code, 0, "HEAD is a ping too");
    assert_eq!(logs(&h, "alpha").len(), 2);
    // POST with the job's output as the body (the documented `--data-raw "$m"` form).
    let (code, _) = sh(
        &h,
        r#"m="backup done: 42 GB"; curl -fsS -m 10 --retry 5 --data-raw "$m" "$URL/ping/$KEY/alpha""#,
    );
    assert_eq!(code, 0);
    assert_eq!(logs(&h, "alpha")[0]["message"], "backup done: 42 GB");
    assert_no_secret_returned(&h);
}

#[test]
fn fail_and_exit_status_pings_report_down_and_notify() {
    let h = host();
    h.beat("bravo", "up");
    // The documented exit-code wrapper: ping /$? after the job.
    let (code, _) = sh(
        &h,
        r#"false; curl -fsS -m 10 --retry 5 "$URL/ping/$KEY/bravo/$?""#,
    );
    assert_eq!(code, 0);
    assert_eq!(status(&h, "bravo"), "down");
    let entry = &logs(&h, "bravo")[0];
    assert_eq!(entry["message"], "exit status 1");
    assert_eq!(entry["metadata"]["exitStatus"], 1);
    let events: Vec<String> = h
        .deliveries()
        .iter()
        .map(|d| d["event"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(events, ["down"], "the failure is notified like any down");

    sh(&h, r#"true; curl -fsS "$URL/ping/$KEY/bravo/$?""#);
    assert_eq!(status(&h, "bravo"), "up", "exit status 0 is a success");
    sh(
        &h,
        r#"curl -fsS --data-raw "disk full" "$URL/ping/$KEY/bravo/fail""#,
    );
    assert_eq!(status(&h, "bravo"), "down");
    assert_eq!(logs(&h, "bravo")[0]["message"], "disk full");
}

#[test]
fn start_then_finish_measures_the_run_and_rid_pairs_overlapping_runs() {
    let h = host();
    sh(&h, r#"curl -fsS "$URL/ping/$KEY/charlie/start""#);
    assert_eq!(
        status(&h, "charlie"),
        "unknown",
        "a start is not a sign of success"
    );
    h.advance(42);
    sh(&h, r#"curl -fsS "$URL/ping/$KEY/charlie""#);
    let finished = &logs(&h, "charlie")[0];
    assert_eq!(finished["kind"], "heartbeat");
    let ms = finished["durationMs"].as_i64().unwrap();
    assert!((42_000..43_000).contains(&ms), "duration {ms} ms");
    // The duration is shown: /api/status, /metrics and the service page.
    let st = h.client.service_status("charlie").unwrap();
    assert_eq!(st["lastDurationMs"].as_i64(), Some(ms));
    let metrics = h.client.get("/metrics").unwrap().body;
    let line = format!(
        "heartbeat_last_run_duration_seconds{{service=\"charlie\"}} {}",
        ms as f64 / 1000.0
    );
    assert!(metrics.contains(&line), "/metrics lacks {line}");
    let page = h.client.get("/services/charlie").unwrap().body;
    assert!(
        page.contains("<dt>Last run took</dt><dd>42 s</dd>"),
        "the page shows the run"
    );
    assert!(
        page.contains(r#"data-kind="start""#),
        "the page lists the start"
    );
    h.advance(5);
    sh(&h, r#"curl -fsS "$URL/ping/$KEY/charlie""#);
    assert!(
        logs(&h, "charlie")[0].get("durationMs").is_none(),
        "a finish without a start has no duration"
    );

    // Two overlapping runs, told apart by ?rid= (Healthchecks' run ids).
    let a = "6f1c2a4e-1b0b-4a57-9e3e-1a2b3c4d5e6f";
    let b = "0c9d8e7f-2a3b-4c5d-8e9f-aabbccddeeff";
    sh(
        &h,
        &format!(r#"curl -fsS "$URL/ping/$KEY/delta/start?rid={a}""#),
    );
    h.advance(10);
    sh(
        &h,
        &format!(r#"curl -fsS "$URL/ping/$KEY/delta/start?rid={b}""#),
    );
    h.advance(20);
    sh(&h, &format!(r#"curl -fsS "$URL/ping/$KEY/delta?rid={a}""#));
    h.advance(25);
    sh(
        &h,
        &format!(r#"curl -fsS "$URL/ping/$KEY/delta/1?rid={b}""#),
    );
    let entries = logs(&h, "delta");
    let finish_b = &entries[0];
    let finish_a = entries
        .iter()
        .find(|e| e["rid"] == a && e["kind"] == "heartbeat")
        .unwrap();
    assert_eq!(finish_a["durationMs"].as_i64().unwrap() / 1000, 30);
    assert_eq!(
        (finish_b["rid"].as_str(), finish_b["status"].as_str()),
        (Some(b), Some("down"))
    );
    assert_eq!(finish_b["durationMs"].as_i64().unwrap() / 1000, 45);
    let starts = entries.iter().filter(|e| e["kind"] == "start").count();
    assert_eq!(starts, 2, "starts are in the history: {entries:?}");
}

#[test]
fn log_pings_keep_a_message_and_change_nothing() {
    let h = host();
    h.beat("echo", "up");
    let before = h.client.service_status("echo").unwrap();
    h.advance(30);
    let (code, _) = sh(
        &h,
        r#"curl -fsS --data-raw "rotated 3 files" "$URL/ping/$KEY/echo/log""#,
    );
    assert_eq!(code, 0);
    let after = h.client.service_status("echo").unwrap();
    assert_eq!(
        after["lastHeartbeat"], before["lastHeartbeat"],
        "a log ping is no sign of life"
    );
    assert_eq!(after["status"], "up");
    let entry = &logs(&h, "echo")[0];
    assert_eq!(
        (entry["kind"].as_str(), entry["message"].as_str()),
        (Some("log"), Some("rotated 3 files"))
    );
}

#[test]
fn bad_ping_urls_fail_curl_with_a_clear_answer() {
    let h = host();
    let (code, _) = sh(&h, r#"curl -fsS "$URL/ping/wrong-key/alpha" 2>/dev/null"#);
    assert_eq!(code, 22, "curl -f fails on the 401");
    let r = h
        .client
        .get(&format!("/ping/{PING_KEY}/no-such-service"))
        .unwrap();
    assert_eq!(r.status, 404);
    assert!(r.error().contains("no-such-service"), "{}", r.body);
    let r = h
        .client
        .get(&format!("/ping/{PING_KEY}/new-job?create=1"))
        .unwrap();
    assert_eq!(r.status, 404, "pings never create services");
    assert!(r.error().contains("services.json"), "{}", r.body);
    let r = h
        .client
        .get(&format!("/ping/{PING_KEY}/alpha/256"))
        .unwrap();
    assert_eq!(r.status, 404, "exit statuses stop at 255");
    let r = h
        .client
        .request("PUT", &format!("/ping/{PING_KEY}/alpha"), &[], b"")
        .unwrap();
    assert_eq!(
        (r.status, r.header("allow")),
        (405, Some("GET, POST, HEAD"))
    );
    assert!(logs(&h, "alpha").is_empty(), "nothing was recorded");
    // A body over PING_BODY_LIMIT (100 here) is cut, not refused: the job already ran.
    let long = "x".repeat(300);
    let r = h
        .client
        .request(
            "POST",
            &format!("/ping/{PING_KEY}/alpha"),
            &[],
            long.as_bytes(),
        )
        .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(logs(&h, "alpha")[0]["message"].as_str().unwrap().len(), 100);
    assert_no_secret_returned(&h);
}

#[test]
fn ping_urls_are_off_until_a_ping_key_is_set() {
    let h = super::support::host(AbsentCas::Exact);
    let r = h.client.get("/ping/anything/alpha").unwrap();
    assert_eq!(r.status, 404);
    assert!(r.error().contains("PING_KEY"), "{}", r.body);
}

#[test]
fn the_uptime_kuma_push_url_works_unchanged() {
    let h = host();
    // Uptime Kuma's push monitor shows exactly this URL to copy.
    let (code, out) = sh(
        &h,
        &format!(r#"curl -fsS "$URL/api/push/{ALPHA_TOKEN}?status=up&msg=OK&ping=""#),
    );
    assert_eq!(code, 0);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&out).unwrap(),
        serde_json::json!({"ok": true})
    );
    assert_eq!(status(&h, "alpha"), "up");
    assert_eq!(logs(&h, "alpha")[0]["message"], "OK");

    sh(
        &h,
        &format!(
            r#"curl -fsS "$URL/api/push/{ALPHA_TOKEN}?status=down&msg=HTTP%20502&ping=123.4""#
        ),
    );
    let entry = &logs(&h, "alpha")[0];
    assert_eq!(
        (entry["status"].as_str(), entry["message"].as_str()),
        (Some("down"), Some("HTTP 502"))
    );
    assert_eq!(entry["latencyMs"], 123);
    assert_eq!(status(&h, "alpha"), "down");

    // A message over the limit POST /api/heartbeat enforces is kept at that limit, not over it.
    let long = "x".repeat(2000);
    sh(
        &h,
        &format!(r#"curl -fsS "$URL/api/push/{ALPHA_TOKEN}?status=up&msg={long}""#),
    );
    let kept = logs(&h, "alpha")[0]["message"]
        .as_str()
        .unwrap()
        .chars()
        .count();
    assert_eq!(kept, 1024, "the heartbeat API's MAX_MESSAGE_CHARS");

    let r = h.client.get("/api/push/not-a-token?status=up").unwrap();
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["ok"], false);
    let r = h
        .client
        .get(&format!("/api/push/{ALPHA_TOKEN}?ping=fast"))
        .unwrap();
    assert_eq!(r.status, 400);
    assert!(r.error().contains("ping"), "{}", r.body);
    assert_no_secret_returned(&h);
}
