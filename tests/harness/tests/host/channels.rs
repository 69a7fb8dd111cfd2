//! Every channel type through the real components: vendor calls go to the loopback receiver,
//! which can answer slowly, with errors or with rate limits. The app is the repository's
//! spin.toml plus variables for the test channels (Spin serves only declared variables).

use super::support::{host_with, root, TestHost};
use heartbeat_conformance::fixture_key;
use heartbeat_conformance::receiver::Reply;
use heartbeat_host::kv::AbsentCas;
use heartbeat_host::manifest::ManifestSource;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use heartbeat_conformance::channels::{requests, requests_per_event, Spec};

fn channels() -> Vec<Spec> {
    heartbeat_conformance::channels::channels()
}

fn secret_values() -> Vec<&'static str> {
    channels()
        .into_iter()
        .flat_map(|(_, _, _, secrets, _)| secrets.into_iter().map(|(_, v)| v))
        .filter(|v| v.contains("secret"))
        .collect()
}

fn var(channel: &str, key: &str) -> String {
    format!(
        "notification_{}_{}",
        channel.replace('-', "_"),
        key.to_ascii_lowercase()
    )
}

/// spin.toml with every test channel's variables declared, and a config dir using them.
fn app(tag: &str, alpha_notifications: Option<Value>) -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("hb-channels-{tag}-{}", std::process::id()));
    let config = dir.join("config");
    std::fs::create_dir_all(&config).unwrap();
    let mut manifest: toml::Table =
        toml::from_str(&std::fs::read_to_string(root().join("spin.toml")).unwrap()).unwrap();
    let specs = channels();
    for (name, _, _, secrets, _) in &specs {
        for (key, _) in secrets {
            let v = var(name, key);
            manifest["variables"].as_table_mut().unwrap().insert(
                v.clone(),
                toml::Value::Table(toml::toml! { default = "" secret = true }),
            );
            for component in ["ingest", "sweep", "dashboard"] {
                manifest["component"][component]["variables"]
                    .as_table_mut()
                    .unwrap()
                    .insert(v.clone(), toml::Value::String(format!("{{{{ {v} }}}}")));
            }
        }
    }
    std::fs::write(dir.join("spin.toml"), toml::to_string(&manifest).unwrap()).unwrap();
    let mut services: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/config/services.json")).unwrap(),
    )
    .unwrap();
    if let Some(n) = alpha_notifications {
        services["services"][0]["notifications"] = n;
    }
    std::fs::write(config.join("services.json"), services.to_string()).unwrap();
    let list: Vec<Value> = specs
        .iter()
        .map(|(name, kind, opts, _, _)| json!({"type": kind, "name": name, "config": opts}))
        .collect();
    std::fs::write(
        config.join("notifications.json"),
        json!({"channels": list, "settings": {"cooldownMinutes": 0}}).to_string(),
    )
    .unwrap();
    (dir.join("spin.toml"), config)
}

fn host(tag: &str, timeout_ms: u64) -> TestHost {
    host_filtered(tag, timeout_ms, None)
}

fn host_filtered(tag: &str, timeout_ms: u64, alpha_notifications: Option<Value>) -> TestHost {
    let (manifest, config) = app(tag, alpha_notifications);
    host_with(AbsentCas::Exact, |o| {
        o.manifest = ManifestSource::File(manifest);
        o.config_dir = Some(config);
        o.variables
            .insert("request_timeout".into(), timeout_ms.to_string());
        for (name, _, _, secrets, _) in channels() {
            for (key, value) in secrets {
                o.variables.insert(var(name, key), value.into());
            }
        }
    })
}

fn go_down(h: &TestHost) -> Value {
    h.beat("alpha", "up");
    h.advance(61);
    h.sweep()
}

fn deliveries(h: &TestHost) -> Vec<Value> {
    let r = h.client.get("/api/deliveries?serviceId=alpha").unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["entries"].as_array().cloned().unwrap()
}

fn delivery<'a>(log: &'a [Value], channel: &str) -> &'a Value {
    log.iter()
        .find(|d| d["channel"] == channel)
        .unwrap_or_else(|| panic!("no delivery for {channel} in {log:?}"))
}

fn assert_no_secrets(h: &TestHost) {
    for body in h.client.bodies() {
        for s in secret_values() {
            assert!(!body.contains(s), "a response contains the secret {s:?}");
        }
    }
}

#[test]
fn a_transition_reaches_every_channel_once_and_recovery_resolves_pagerduty() {
    let h = host("all", 5000);
    go_down(&h);
    for spec in channels() {
        let (name, kind, _, _, prefix) = &spec;
        let got = h.receiver.received_at(prefix);
        assert_eq!(
            got.len(),
            requests(&spec),
            "{name} ({kind}) received {} requests",
            got.len()
        );
    }
    let every = requests_per_event();
    assert_eq!(h.receiver.received().len(), every);
    let log = deliveries(&h);
    assert_eq!(log.len(), every, "{log:?}");
    assert!(
        log.iter()
            .all(|d| d["ok"] == true && d["attempts"] == 1 && d["event"] == "down"),
        "{log:?}"
    );

    let trigger = h.receiver.received_at("/v2/enqueue")[0].json();
    assert_eq!(trigger["event_action"], "trigger");
    assert_eq!(trigger["payload"]["severity"], "critical");
    let email = &h.receiver.received_at("/v3/")[0];
    assert!(email.header("authorization").unwrap().starts_with("Basic "));

    h.beat("alpha", "up");
    let pd = h.receiver.received_at("/v2/enqueue");
    assert_eq!(pd.len(), 2);
    assert_eq!(pd[1].json()["event_action"], "resolve");
    assert_eq!(
        pd[1].json()["dedup_key"],
        trigger["dedup_key"],
        "resolve closes the same incident"
    );
    assert_eq!(
        h.receiver.received().len(),
        2 * every,
        "the recovery reaches every channel once too"
    );
    for r in h.receiver.received() {
        assert_eq!(r.wire_faults(), Vec::<String>::new(), "{}", r.path);
    }
    assert_no_secrets(&h);
}

#[test]
fn a_5xx_is_retried_once_and_then_delivered() {
    let h = host("retry", 5000);
    h.receiver.script(
        "/team-hook-secret",
        vec![Reply::status(500), Reply::status(200)],
    );
    go_down(&h);
    assert_eq!(h.receiver.received_at("/team-hook-secret").len(), 2);
    let log = deliveries(&h);
    let d = delivery(&log, "team-hook");
    assert_eq!(
        (d["ok"].clone(), d["attempts"].clone()),
        (json!(true), json!(2)),
        "{d}"
    );
    let tries: Vec<_> = d["tries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["httpStatus"].as_u64().unwrap())
        .collect();
    assert_eq!(
        tries,
        [500, 200],
        "every attempt is in the delivery log: {d}"
    );
}

#[test]
fn a_429_waits_for_retry_after_then_delivers() {
    let h = host("ratelimit", 5000);
    h.receiver.script(
        "/services/T1/",
        vec![
            Reply::status(429).header("Retry-After", "1"),
            Reply::status(200),
        ],
    );
    go_down(&h);
    let log = deliveries(&h);
    let d = delivery(&log, "team-slack");
    assert_eq!(d["ok"], true, "{d}");
    assert_eq!(d["attempts"], 2);
    assert!(
        d["latencyMs"].as_u64().unwrap() >= 1000,
        "Retry-After honoured: {d}"
    );
}

#[test]
fn a_hanging_channel_times_out_while_the_others_deliver_in_time() {
    let h = host("hang", 1000);
    h.receiver.script(
        "/api/webhooks/111/",
        vec![Reply::status(200).after(Duration::from_secs(4)); 3],
    );
    let started = Instant::now();
    go_down(&h);
    let elapsed = started.elapsed();
    let log = deliveries(&h);
    let d = delivery(&log, "team-discord");
    assert_eq!(d["ok"], false);
    let error = d["error"].as_str().unwrap();
    assert!(
        error.contains("no answer within") && error.contains("budget of 2000 ms"),
        "{d}"
    );
    for other in [
        "team-slack",
        "team-telegram",
        "team-email",
        "team-pushover",
        "team-pagerduty",
        "team-hook",
    ] {
        let o = delivery(&log, other);
        assert_eq!(o["ok"], true, "{o}");
        assert!(
            o["latencyMs"].as_u64().unwrap() < 1000,
            "{other} waited for the hanging channel: {o}"
        );
    }
    assert!(
        elapsed < Duration::from_secs(5),
        "the delivery budget (two timeouts) bounds the sweep: {elapsed:?}"
    );
}

#[test]
fn a_404_is_permanent_and_not_retried() {
    let h = host("gone", 5000);
    h.receiver.script("/bot999:", vec![Reply::status(404)]);
    go_down(&h);
    assert_eq!(h.receiver.received_at("/bot999:").len(), 1);
    let log = deliveries(&h);
    let d = delivery(&log, "team-telegram");
    assert_eq!(
        (
            d["ok"].clone(),
            d["attempts"].clone(),
            d["httpStatus"].clone()
        ),
        (json!(false), json!(1), json!(404))
    );
    assert!(d["error"].as_str().unwrap().contains("permanent"), "{d}");
    assert_no_secrets(&h);
}

#[test]
fn heartbeat_keys_never_reach_a_channel() {
    let h = host("keys", 5000);
    go_down(&h);
    for r in h.receiver.received() {
        let text = String::from_utf8_lossy(&r.body);
        assert!(
            !text.contains(&fixture_key("alpha")),
            "a heartbeat key reached {}",
            r.path
        );
    }
}

#[test]
fn service_filters_pick_channels_by_type_or_name_and_by_event() {
    let h = host_filtered(
        "filters",
        5000,
        Some(json!({"channels": ["pagerduty", "team-hook"], "events": ["down"]})),
    );
    go_down(&h);
    let paths: Vec<String> = h
        .receiver
        .received()
        .iter()
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(paths.len(), 2, "{paths:?}");
    assert_eq!(h.receiver.received_at("/v2/enqueue").len(), 1);
    assert_eq!(h.receiver.received_at("/team-hook-secret").len(), 1);
    h.beat("alpha", "up");
    assert_eq!(
        h.receiver.received().len(),
        2,
        "up is filtered out for this service"
    );
}

fn post_alert(h: &TestHost, fixture: &str) -> Value {
    let body = std::fs::read(root().join(format!(
        "components/core/tests/fixtures/alerts/{fixture}.json"
    )))
    .unwrap();
    let r = h
        .client
        .request(
            "POST",
            "/api/alert",
            &[("content-type", "application/json")],
            &body,
        )
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

#[test]
fn an_alertmanager_group_fires_then_resolves_on_every_channel() {
    let h = host("alerts", 5000);
    let fired = post_alert(&h, "alertmanager-firing");
    assert_eq!(fired["format"], "alertmanager");
    let every = requests_per_event();
    assert_eq!(
        fired["alerts"][0]["deliveries"].as_array().unwrap().len(),
        every,
        "{fired}"
    );
    assert_eq!(h.receiver.received().len(), every);
    let trigger = h.receiver.received_at("/v2/enqueue")[0].json();
    assert_eq!(
        (
            trigger["event_action"].clone(),
            trigger["payload"]["severity"].clone()
        ),
        (json!("trigger"), json!("critical"))
    );
    let discord = h.receiver.received_at("/api/webhooks/111/")[0].json();
    assert_eq!(discord["embeds"][0]["title"], "[FIRING] ProbeFailure");

    post_alert(&h, "alertmanager-resolved");
    assert_eq!(h.receiver.received().len(), 2 * every);
    let resolve = h.receiver.received_at("/v2/enqueue")[1].json();
    assert_eq!(resolve["event_action"], "resolve");
    assert_eq!(
        resolve["dedup_key"], trigger["dedup_key"],
        "the incident closes itself"
    );
    let discord = h.receiver.received_at("/api/webhooks/111/")[1].json();
    assert_eq!(discord["embeds"][0]["title"], "[RESOLVED] ProbeFailure");
    assert_ne!(
        discord["embeds"][0]["color"],
        json!(0xE7_4C_3C),
        "resolved is not red"
    );
    let slack = h.receiver.received_at("/services/T1/");
    assert_eq!(slack[0].json()["attachments"][0]["color"], "#E01E5A");
    assert_eq!(
        slack[1].json()["attachments"][0]["color"],
        "#2EB67D",
        "Slack shows the resolution green"
    );
    assert!(slack[1].json()["text"]
        .as_str()
        .unwrap()
        .starts_with("[RESOLVED]"));
    assert_no_secrets(&h);
}
