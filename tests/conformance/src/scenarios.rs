//! The scenarios. Each takes a fresh client on a host loaded with the fixture configuration and
//! returns an error describing the first broken expectation. They are written to hold on a
//! fresh store and on one that earlier scenarios already used.

use crate::client::Client;
use crate::{fixture_key, FIXTURE_SERVICES};
use anyhow::{ensure, Context, Result};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Barrier};

pub struct Scenario {
    pub name: &'static str,
    pub run: fn(&Client) -> Result<()>,
}

pub const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "heartbeats_are_reflected_in_status_and_logs",
        run: heartbeats_are_reflected_in_status_and_logs,
    },
    Scenario {
        name: "bad_input_is_rejected_and_changes_nothing",
        run: bad_input_is_rejected_and_changes_nothing,
    },
    Scenario {
        name: "concurrent_heartbeats_over_eight_services_lose_nothing",
        run: concurrent_heartbeats_over_eight_services_lose_nothing,
    },
    Scenario {
        name: "concurrent_heartbeats_onto_one_service_lose_nothing",
        run: concurrent_heartbeats_onto_one_service_lose_nothing,
    },
    Scenario {
        name: "read_endpoints_answer_the_documented_shapes",
        run: read_endpoints_answer_the_documented_shapes,
    },
    Scenario {
        name: "dashboard_pages_badges_and_metrics_answer",
        run: dashboard_pages_badges_and_metrics_answer,
    },
];

fn expect_status(reply: &crate::Reply, status: u16, what: &str) -> Result<()> {
    ensure!(
        reply.status == status,
        "{what}: expected HTTP {status}, got {} with body {}",
        reply.status,
        reply.body
    );
    Ok(())
}

/// Heartbeat → status and logs; default `up`; `degraded` and `down` are reported as sent.
pub fn heartbeats_are_reflected_in_status_and_logs(c: &Client) -> Result<()> {
    let key = fixture_key("alpha");
    let before = c.logs("alpha")?.len();
    let r = c.beat(
        &key,
        &json!({"serviceId": "alpha", "message": "first", "metadata": {"run": 1}}),
    )?;
    expect_status(&r, 200, "plain heartbeat")?;
    let body = r.json();
    ensure!(
        body["ok"] == true && body["serviceId"] == "alpha",
        "unexpected body {body}"
    );
    ensure!(
        body["status"] == "up",
        "default status must be up, got {}",
        body["status"]
    );
    let received_at = body["receivedAt"]
        .as_str()
        .context("receivedAt")?
        .to_string();
    ensure!(
        received_at.ends_with('Z') && received_at.contains('T'),
        "receivedAt not RFC 3339: {received_at}"
    );

    let s = c.service_status("alpha")?;
    ensure!(s["status"] == "up", "status after beat: {s}");
    ensure!(
        s["lastHeartbeat"] == received_at.as_str(),
        "lastHeartbeat {} != {received_at}",
        s["lastHeartbeat"]
    );
    ensure!(
        s["lastMessage"] == "first",
        "lastMessage: {}",
        s["lastMessage"]
    );

    let logs = c.logs("alpha")?;
    ensure!(
        logs.len() == (before + 1).min(100),
        "log length {} after one beat on {before}",
        logs.len()
    );
    ensure!(
        logs[0]["message"] == "first" && logs[0]["metadata"]["run"] == 1,
        "newest log entry: {}",
        logs[0]
    );

    for status in ["degraded", "down", "up"] {
        let r = c.beat(
            &key,
            &json!({"serviceId": "alpha", "status": status, "message": status}),
        )?;
        expect_status(&r, 200, status)?;
        ensure!(
            r.json()["status"] == status,
            "echoed status {}",
            r.json()["status"]
        );
        let s = c.service_status("alpha")?;
        ensure!(
            s["status"] == status,
            "status after a {status} beat: {}",
            s["status"]
        );
        ensure!(
            c.logs("alpha")?[0]["status"] == status,
            "newest log entry is not the {status} beat"
        );
    }
    Ok(())
}

/// A request the API must refuse, and how.
struct BadRequest {
    what: &'static str,
    method: &'static str,
    path: &'static str,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    status: u16,
    /// A word the error sentence must contain.
    needle: &'static str,
}

fn post(
    what: &'static str,
    auth: &str,
    body: Vec<u8>,
    status: u16,
    needle: &'static str,
) -> BadRequest {
    let mut headers = vec![("content-type", "application/json".to_string())];
    if !auth.is_empty() {
        headers.push(("authorization", auth.to_string()));
    }
    BadRequest {
        what,
        method: "POST",
        path: "/api/heartbeat",
        headers,
        body,
        status,
        needle,
    }
}

fn other_request(
    what: &'static str,
    method: &'static str,
    path: &'static str,
    status: u16,
    needle: &'static str,
) -> BadRequest {
    BadRequest {
        what,
        method,
        path,
        headers: Vec::new(),
        body: Vec::new(),
        status,
        needle,
    }
}

/// Each bad request gets the documented status and a JSON error naming the problem, and
/// nothing stored changes.
pub fn bad_input_is_rejected_and_changes_nothing(c: &Client) -> Result<()> {
    let key = fixture_key("bravo");
    let ok = c.beat(&key, &json!({"serviceId": "bravo", "message": "baseline"}))?;
    expect_status(&ok, 200, "baseline beat")?;
    let snapshot = |c: &Client| -> Result<(Value, usize)> {
        let s = c.service_status("bravo")?;
        Ok((
            json!([s["status"], s["lastHeartbeat"], s["lastMessage"]]),
            c.logs("bravo")?.len(),
        ))
    };
    let before = snapshot(c)?;

    let auth = format!("Bearer {key}");
    let other = format!("Bearer {}", fixture_key("charlie"));
    let big_meta =
        json!({"serviceId": "bravo", "metadata": {"blob": "x".repeat(5000)}}).to_string();
    let huge = json!({"serviceId": "bravo", "message": "y".repeat(70 * 1024)}).to_string();
    let cases = vec![
        post(
            "malformed JSON",
            &auth,
            b"{\"serviceId\": ".to_vec(),
            400,
            "JSON",
        ),
        post(
            "JSON that is not an object",
            &auth,
            b"[1,2]".to_vec(),
            400,
            "object",
        ),
        post(
            "body over 64 KiB",
            &auth,
            huge.into_bytes(),
            413,
            "larger than",
        ),
        post(
            "missing serviceId",
            &auth,
            br#"{"status":"up"}"#.to_vec(),
            400,
            "serviceId",
        ),
        post(
            "unknown serviceId",
            &auth,
            br#"{"serviceId":"nope"}"#.to_vec(),
            404,
            "unknown service",
        ),
        post(
            "invalid status",
            &auth,
            br#"{"serviceId":"bravo","status":"sideways"}"#.to_vec(),
            400,
            "status",
        ),
        post(
            "non-object metadata",
            &auth,
            br#"{"serviceId":"bravo","metadata":[1]}"#.to_vec(),
            400,
            "metadata",
        ),
        post(
            "metadata over 4 KiB",
            &auth,
            big_meta.into_bytes(),
            400,
            "metadata",
        ),
        post(
            "non-string message",
            &auth,
            br#"{"serviceId":"bravo","message":5}"#.to_vec(),
            400,
            "message",
        ),
        post(
            "missing Authorization",
            "",
            br#"{"serviceId":"bravo"}"#.to_vec(),
            401,
            "Authorization",
        ),
        post(
            "wrong key",
            "Bearer not-the-key",
            br#"{"serviceId":"bravo"}"#.to_vec(),
            401,
            "API key",
        ),
        post(
            "another service's key",
            &other,
            br#"{"serviceId":"bravo"}"#.to_vec(),
            401,
            "API key",
        ),
        post(
            "non-UTF-8 body",
            &auth,
            vec![0xff, 0xfe, b'{', 0x80],
            400,
            "UTF-8",
        ),
        other_request("wrong method", "GET", "/api/heartbeat", 405, "method"),
        other_request(
            "wrong method on a read endpoint",
            "DELETE",
            "/api/status",
            405,
            "method",
        ),
        other_request(
            "unknown route",
            "GET",
            "/api/nothing-here",
            404,
            "no such route",
        ),
        other_request(
            "logs without serviceId",
            "GET",
            "/api/logs",
            400,
            "serviceId",
        ),
        other_request(
            "logs of an unknown service",
            "GET",
            "/api/logs?serviceId=nope",
            404,
            "unknown service",
        ),
    ];
    for BadRequest {
        what,
        method,
        path,
        headers,
        body,
        status,
        needle,
    } in cases
    {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = c.request(method, path, &headers, &body)?;
        expect_status(&r, status, what)?;
        ensure!(
            r.header("content-type")
                .is_some_and(|t| t.starts_with("application/json")),
            "{what}: error is not JSON ({:?})",
            r.header("content-type")
        );
        let error = r.error();
        ensure!(
            error.to_lowercase().contains(&needle.to_lowercase()),
            "{what}: error {error:?} does not name the problem ({needle})"
        );
        if status == 405 {
            ensure!(
                r.header("allow").is_some(),
                "{what}: 405 without Allow header"
            );
        }
    }
    let after = snapshot(c)?;
    ensure!(
        before == after,
        "rejected requests changed state: {before:?} -> {after:?}"
    );
    Ok(())
}

/// Fire `beats` (service, message) all at once; returns the accepted replies' JSON.
fn fire(c: &Client, beats: Vec<(String, String)>) -> Result<Vec<(String, String, Value)>> {
    let barrier = Arc::new(Barrier::new(beats.len()));
    let handles: Vec<_> = beats
        .into_iter()
        .map(|(service, message)| {
            let (c, barrier) = (c.clone(), barrier.clone());
            std::thread::spawn(move || -> Result<(String, String, Value)> {
                barrier.wait();
                let r = c.beat(
                    &fixture_key(&service),
                    &json!({"serviceId": service, "message": message}),
                )?;
                ensure!(
                    r.status == 200,
                    "concurrent beat {message}: HTTP {} {}",
                    r.status,
                    r.body
                );
                Ok((service, message, r.json()))
            })
        })
        .collect();
    handles
        .into_iter()
        .map(|h| {
            h.join()
                .map_err(|_| anyhow::anyhow!("client thread panicked"))?
        })
        .collect()
}

/// Every service's last-seen equals its newest accepted beat and its log grew by exactly the
/// number of accepted beats.
fn check_nothing_lost(
    c: &Client,
    before: &BTreeMap<String, usize>,
    accepted: &[(String, String, Value)],
) -> Result<()> {
    let mut per_service: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::new();
    for (service, message, body) in accepted {
        let at = body["receivedAt"].as_str().context("receivedAt")?;
        per_service.entry(service).or_default().push((at, message));
    }
    for (service, beats) in per_service {
        let newest = beats.iter().map(|(at, _)| *at).max().context("no beats")?;
        let s = c.service_status(service)?;
        ensure!(
            s["lastHeartbeat"] == newest,
            "{service}: lastHeartbeat {} but newest accepted beat was {newest}",
            s["lastHeartbeat"]
        );
        let message = s["lastMessage"].as_str().unwrap_or_default();
        ensure!(
            beats.iter().any(|(at, m)| *at == newest && *m == message),
            "{service}: lastMessage {message:?} is not from a beat received at {newest}"
        );
        let logs = c.logs(service)?;
        let expected = (before[service] + beats.len()).min(100);
        ensure!(
            logs.len() == expected,
            "{service}: {} log entries, expected {expected} ({} before + {} accepted)",
            logs.len(),
            before[service],
            beats.len()
        );
        for (_, m) in &beats {
            ensure!(
                logs.iter().any(|e| e["message"] == *m) || expected == 100,
                "{service}: accepted beat {m} missing from the log"
            );
        }
    }
    Ok(())
}

fn log_counts(c: &Client) -> Result<BTreeMap<String, usize>> {
    FIXTURE_SERVICES
        .iter()
        .map(|s| Ok((s.to_string(), c.logs(s)?.len())))
        .collect()
}

/// 64 simultaneous heartbeats, eight to each of the eight services.
pub fn concurrent_heartbeats_over_eight_services_lose_nothing(c: &Client) -> Result<()> {
    let before = log_counts(c)?;
    let beats = (0..64)
        .map(|i| (FIXTURE_SERVICES[i % 8].to_string(), format!("spread-{i}")))
        .collect();
    let accepted = fire(c, beats)?;
    check_nothing_lost(c, &before, &accepted)
}

/// 64 simultaneous heartbeats onto one service.
pub fn concurrent_heartbeats_onto_one_service_lose_nothing(c: &Client) -> Result<()> {
    let before = log_counts(c)?;
    let beats = (0..64)
        .map(|i| ("hotel".to_string(), format!("pile-{i}")))
        .collect();
    let accepted = fire(c, beats)?;
    check_nothing_lost(c, &before, &accepted)
}

/// `/api/status`, `/api/services`, `/api/logs` and `/` answer the documented shapes.
pub fn read_endpoints_answer_the_documented_shapes(c: &Client) -> Result<()> {
    let status = c.get("/api/status")?;
    expect_status(&status, 200, "/api/status")?;
    let body = status.json();
    let counts = &body["counts"];
    ensure!(
        counts["total"] == FIXTURE_SERVICES.len(),
        "counts.total: {counts}"
    );
    let sum: u64 = ["up", "down", "degraded", "unknown"]
        .iter()
        .map(|k| counts[*k].as_u64().unwrap_or(0))
        .sum();
    ensure!(
        sum == FIXTURE_SERVICES.len() as u64,
        "counts do not add up: {counts}"
    );
    for s in body["services"].as_array().context("services")? {
        for field in [
            "id",
            "name",
            "status",
            "lastHeartbeat",
            "secondsSinceLastHeartbeat",
            "stalenessThreshold",
            "lastMessage",
            "uptime",
        ] {
            ensure!(s.get(field).is_some(), "status entry lacks {field}: {s}");
        }
        for window in ["24h", "7d", "30d", "90d"] {
            ensure!(
                s["uptime"].get(window).is_some(),
                "uptime lacks {window}: {s}"
            );
        }
    }
    let services = c.get("/api/services")?;
    expect_status(&services, 200, "/api/services")?;
    let list = services.json()["services"]
        .as_array()
        .cloned()
        .context("services list")?;
    ensure!(
        list.len() == FIXTURE_SERVICES.len(),
        "/api/services lists {} services",
        list.len()
    );
    ensure!(
        list.iter().all(|s| s["stalenessThreshold"].is_u64()),
        "stalenessThreshold missing"
    );

    let root = c.get("/")?;
    ensure!(root.status == 200, "GET / answered {}", root.status);
    Ok(())
}

/// The human- and scraper-facing routes: the HTML pages, badges, `/metrics` and the page's own
/// assets, with their content types, caching and security headers.
pub fn dashboard_pages_badges_and_metrics_answer(c: &Client) -> Result<()> {
    let reply = c.beat(&fixture_key("alpha"), &json!({"serviceId": "alpha"}))?;
    expect_status(&reply, 200, "heartbeat for alpha")?;

    let page = c.get("/")?;
    expect_status(&page, 200, "GET /")?;
    ensure!(
        page.header("content-type")
            .is_some_and(|t| t.starts_with("text/html")),
        "GET / is not HTML: {:?}",
        page.header("content-type")
    );
    let csp = page.header("content-security-policy").unwrap_or("");
    ensure!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "GET / lacks a strict Content-Security-Policy: {csp:?}"
    );
    ensure!(
        page.body
            .contains(r#"<tr data-status="up"><th><a href="/services/alpha">"#),
        "GET / does not show alpha as up"
    );
    for id in FIXTURE_SERVICES {
        ensure!(
            page.body.contains(&format!("/services/{id}\"")),
            "GET / does not link {id}"
        );
    }
    let filtered = c.get("/?q=bravo")?;
    ensure!(
        filtered.body.contains("/services/bravo") && !filtered.body.contains("/services/alpha"),
        "GET /?q=bravo does not filter server-side"
    );

    let detail = c.get("/services/alpha")?;
    expect_status(&detail, 200, "GET /services/alpha")?;
    ensure!(
        detail.body.contains("Alpha service"),
        "the detail page misses the name"
    );
    let missing = c.get("/services/no-such-service")?;
    expect_status(&missing, 404, "GET /services/no-such-service")?;
    ensure!(
        missing.error().contains("no-such-service"),
        "404 does not name the service"
    );

    let svg = c.get("/badge/alpha.svg")?;
    expect_status(&svg, 200, "GET /badge/alpha.svg")?;
    ensure!(
        svg.header("content-type") == Some("image/svg+xml"),
        "badge content type {:?}",
        svg.header("content-type")
    );
    ensure!(
        svg.header("cache-control")
            .is_some_and(|c| c.contains("max-age=")),
        "badge without a cache lifetime"
    );
    ensure!(
        svg.body.starts_with("<svg")
            && svg.body.contains(">Alpha service</text>")
            && svg.body.contains(">up</text>"),
        "badge does not say \"Alpha service: up\": {}",
        svg.body
    );
    let uptime = c.get("/badge/alpha.svg?metric=uptime30d&label=uptime")?;
    expect_status(&uptime, 200, "uptime badge")?;
    ensure!(
        uptime.body.contains(">uptime</text>") && uptime.body.contains("%</text>"),
        "uptime badge: {}",
        uptime.body
    );
    let shields = c.get("/badge/alpha.json")?;
    expect_status(&shields, 200, "GET /badge/alpha.json")?;
    let j = shields.json();
    ensure!(
        j["schemaVersion"] == 1
            && j["label"] == "Alpha service"
            && j["message"] == "up"
            && j["color"].is_string(),
        "shields endpoint JSON: {j}"
    );
    let bad = c.get("/badge/alpha.svg?metric=uptime1y")?;
    expect_status(&bad, 400, "badge with an unknown metric")?;
    ensure!(
        bad.error().contains("uptime30d"),
        "the 400 does not list the metrics"
    );
    expect_status(
        &c.get("/badge/nope.svg")?,
        404,
        "badge of an unknown service",
    )?;

    let metrics = c.get("/metrics")?;
    expect_status(&metrics, 200, "GET /metrics")?;
    ensure!(
        metrics
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/plain; version=0.0.4")),
        "metrics content type {:?}",
        metrics.header("content-type")
    );
    for line in [
        "# TYPE heartbeat_up gauge",
        "heartbeat_up{service=\"alpha\"} 1",
        "heartbeat_status{service=\"alpha\",status=\"up\"} 1",
        "heartbeat_staleness_threshold_seconds{service=\"alpha\"} ",
        "heartbeat_last_seen_timestamp_seconds{service=\"alpha\"} ",
    ] {
        ensure!(metrics.body.contains(line), "/metrics lacks {line:?}");
    }

    for (path, kind) in [
        ("/assets/app.css", "text/css"),
        ("/assets/app.js", "text/javascript"),
        ("/favicon.svg", "image/svg+xml"),
    ] {
        let r = c.get(path)?;
        expect_status(&r, 200, path)?;
        ensure!(
            r.header("content-type")
                .is_some_and(|t| t.starts_with(kind)),
            "{path} content type {:?}",
            r.header("content-type")
        );
    }
    let post = c.request("POST", "/", &[], b"{}")?;
    expect_status(&post, 405, "POST /")?;
    ensure!(
        post.header("allow") == Some("GET"),
        "405 without Allow: GET"
    );
    let index = c.get("/api")?;
    expect_status(&index, 200, "GET /api")?;
    ensure!(
        index.json()["api"]["status"].is_string(),
        "GET /api does not list the API"
    );
    Ok(())
}
