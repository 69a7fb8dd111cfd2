//! The Worker as users run it: built by worker-build with the fixture configuration, served by
//! `wrangler dev` (workerd from npm) on loopback with a persisted Durable Object, checked over
//! real HTTP — the conformance suite every host passes, the cron trigger's sweep, notifications
//! to a loopback receiver, a restart, and a bad configuration failing the build.
//!
//! Needs worker-build, the wasm-bindgen CLI matching Cargo.lock and `npm ci` in this crate;
//! `.ci/run` installs them. Where one is missing the tests are ignored with the reason (decided
//! by build.rs); in CI a missing one fails the build.

use heartbeat_conformance::channels::{channels, requests, requests_per_event};
use heartbeat_conformance::receiver::Receiver;
use heartbeat_conformance::{fixture_api_keys, fixture_key, Client, SCENARIOS};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use support::*;

mod support;

/// The Worker built once with the fixture configuration.
fn built() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| build("fixture-build", &root().join("tests/fixtures/config")))
}

/// `API_KEY_SECRET` beside the fixture's `API_KEYS`: both kinds of key work.
const KEY_SECRET: &str = "c0ffee00c0ffee00c0ffee00c0ffee00";

fn secrets(receiver: Option<&Receiver>) -> Vec<(&'static str, String)> {
    let mut vars = vec![
        ("API_KEYS", fixture_api_keys()),
        ("API_KEY_SECRET", KEY_SECRET.to_string()),
    ];
    if let Some(r) = receiver {
        vars.push((
            "NOTIFICATION_OPS_WEBHOOK_URL",
            format!("http://{}/hook", r.addr),
        ));
    }
    vars
}

fn beat(c: &Client, service: &str, status: &str) {
    let reply = c
        .beat(
            &fixture_key(service),
            &json!({"serviceId": service, "status": status}),
        )
        .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
}

#[test]
#[cfg_attr(
    missing_worker_tools,
    ignore = "needs worker-build 0.8.7, the wasm-bindgen CLI of Cargo.lock and `npm ci --prefix components/cloudflare` (bash .ci/run installs them)"
)]
fn the_conformance_suite_passes_against_wrangler_dev() {
    let w = Wrangler::start_build(built(), &state_dir("conformance"), &secrets(None));
    let failures: Vec<String> = SCENARIOS
        .iter()
        .filter_map(|s| {
            let started = Instant::now();
            let outcome = (s.run)(&w.client());
            eprintln!("{}: {:.1} s", s.name, started.elapsed().as_secs_f64());
            outcome.err().map(|e| format!("{}: {e:#}", s.name))
        })
        .collect();
    assert!(failures.is_empty(), "{failures:#?}\n{}", w.log_text());
}

#[test]
#[cfg_attr(
    missing_worker_tools,
    ignore = "needs worker-build 0.8.7, the wasm-bindgen CLI of Cargo.lock and `npm ci --prefix components/cloudflare` (bash .ci/run installs them)"
)]
fn heartbeats_notify_at_once_and_the_cron_sweep_notices_silence() {
    let receiver = Receiver::start().unwrap();
    let w = Wrangler::start_build(built(), &state_dir("notify"), &secrets(Some(&receiver)));
    let c = w.client();
    beat(&c, "alpha", "up");
    // bravo reports with the key derived from API_KEY_SECRET, which is bravo's alone.
    let derived = heartbeat_core::auth::derived_key(KEY_SECRET, "bravo");
    for (service, expected) in [("bravo", 200), ("alpha", 401)] {
        let reply = c.beat(&derived, &json!({"serviceId": service})).unwrap();
        assert_eq!(reply.status, expected, "{service}: {}", reply.body);
    }
    let silent_from = Instant::now();
    beat(&c, "alpha", "down");
    let hooks = receiver.wait_for(1, Duration::from_secs(10));
    assert_eq!(hooks.len(), 1, "one down notification: {hooks:?}");
    assert_eq!(hooks[0].json()["event"], "down");
    assert_eq!(hooks[0].json()["service"]["id"], "alpha");
    beat(&c, "alpha", "up");
    let hooks = receiver.wait_for(2, Duration::from_secs(10));
    assert_eq!(hooks.len(), 2, "and its recovery: {hooks:?}");
    assert_eq!(hooks[1].json()["event"], "up");
    let deliveries = c.get("/api/deliveries?serviceId=alpha").unwrap().json();
    let entries = deliveries["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 2, "{deliveries}");
    assert!(
        entries
            .iter()
            .all(|e| e["ok"] == true && e["httpStatus"] == 200),
        "{deliveries}"
    );

    // bravo's threshold is 60 s: keep alpha alive, fire the cron trigger until bravo is down.
    let deadline = silent_from + Duration::from_secs(150);
    loop {
        assert!(
            Instant::now() < deadline,
            "no down for bravo:\n{}",
            w.log_text()
        );
        std::thread::sleep(Duration::from_secs(5));
        // A fresh client: workerd closes idle keep-alive connections within these 5 s.
        let c = w.client();
        beat(&c, "alpha", "up");
        w.cron();
        let bravo = receiver
            .received()
            .into_iter()
            .filter(|r| r.json()["service"]["id"] == "bravo")
            .count();
        if bravo > 0 {
            break;
        }
    }
    assert!(
        silent_from.elapsed() >= Duration::from_secs(60),
        "down only after the threshold"
    );
    w.cron();
    w.cron();
    let bravo: Vec<_> = receiver
        .received()
        .into_iter()
        .filter(|r| r.json()["service"]["id"] == "bravo")
        .collect();
    assert_eq!(
        bravo.len(),
        1,
        "told once, however often the sweep runs: {bravo:?}"
    );
    assert_eq!(bravo[0].json()["reason"], "silence");
    assert_eq!(c.service_status("bravo").unwrap()["status"], "down");
}

#[test]
#[cfg_attr(
    missing_worker_tools,
    ignore = "needs worker-build 0.8.7, the wasm-bindgen CLI of Cargo.lock and `npm ci --prefix components/cloudflare` (bash .ci/run installs them)"
)]
fn state_survives_a_restart_of_wrangler_dev() {
    let state = state_dir("restart");
    let (logs, status) = {
        let w = Wrangler::start_build(built(), &state, &secrets(None));
        let c = w.client();
        for status in ["up", "degraded", "up"] {
            beat(&c, "charlie", status);
        }
        (
            c.logs("charlie").unwrap(),
            c.service_status("charlie").unwrap(),
        )
    };
    assert_eq!(logs.len(), 3);
    let w = Wrangler::start_build(built(), &state, &secrets(None));
    let c = w.client();
    assert_eq!(c.logs("charlie").unwrap(), logs, "the log survived");
    let after = c.service_status("charlie").unwrap();
    assert_eq!(after["status"], "up");
    assert_eq!(after["lastHeartbeat"], status["lastHeartbeat"]);
}

/// The CPU benchmark runs the Worker as wrangler dev does, minus the DevTools inspector: its
/// secrets, persistence and cron route must work there too, or the figures measure errors.
#[test]
#[cfg_attr(
    missing_worker_tools,
    ignore = "needs worker-build 0.8.7, the wasm-bindgen CLI of Cargo.lock and `npm ci --prefix components/cloudflare` (bash .ci/run installs them)"
)]
fn the_benchmarks_server_runs_the_worker_with_no_inspector_attached() {
    let state = state_dir("detached");
    let w = Wrangler::start_cold(built(), &state, &secrets(None), Inspector::Detached);
    let pids = w.workerd_pids();
    assert!(!pids.is_empty(), "no workerd process found");
    for pid in pids {
        let args = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
        assert!(
            !String::from_utf8_lossy(&args).contains("--inspector-addr"),
            "workerd {pid} has an inspector"
        );
    }
    let c = w.client();
    beat(&c, "charlie", "up");
    w.cron();
    assert_eq!(c.service_status("charlie").unwrap()["status"], "up");
    drop(w);
    let w = Wrangler::start_cold(built(), &state, &secrets(None), Inspector::Detached);
    assert_eq!(w.client().logs("charlie").unwrap().len(), 1, "persisted");
}

#[test]
#[cfg_attr(
    missing_worker_tools,
    ignore = "needs worker-build 0.8.7, the wasm-bindgen CLI of Cargo.lock and `npm ci --prefix components/cloudflare` (bash .ci/run installs them)"
)]
fn a_bad_configuration_fails_the_build_naming_the_field() {
    let dir = state_dir("bad-config");
    std::fs::create_dir_all(&dir).unwrap();
    let fixtures = root().join("tests/fixtures/config");
    std::fs::copy(
        fixtures.join("notifications.json"),
        dir.join("notifications.json"),
    )
    .unwrap();
    std::fs::write(
        dir.join("services.json"),
        heartbeat_conformance::INVALID_SERVICES,
    )
    .unwrap();
    let stderr = failed_check("HEARTBEAT_CONFIG_DIR", &dir);
    assert!(
        stderr.contains(heartbeat_conformance::INVALID_SERVICES_ERROR),
        "{stderr}"
    );
}

/// `cargo check` of the Worker with `var` set to `value`, which must fail; its stderr.
fn failed_check(var: &str, value: &Path) -> String {
    built();
    let out = offline(Command::new(env!("CARGO")).current_dir(crate_dir()))
        .args([
            "check",
            "--release",
            "--lib",
            "--target",
            "wasm32-unknown-unknown",
        ])
        .env(var, value)
        .output()
        .unwrap();
    assert!(!out.status.success(), "the build must fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
#[cfg_attr(
    missing_worker_tools,
    ignore = "needs worker-build 0.8.7, the wasm-bindgen CLI of Cargo.lock and `npm ci --prefix components/cloudflare` (bash .ci/run installs them)"
)]
fn an_api_keys_secret_over_five_kilobytes_fails_the_build_with_the_numbers() {
    let dir = state_dir("big-secret");
    std::fs::create_dir_all(&dir).unwrap();
    // 200 services with 16-character ids and 32-character keys: 10,801 bytes of JSON.
    let keys: serde_json::Map<String, serde_json::Value> = (0..200)
        .map(|i| (format!("service-id-{i:05}"), json!(format!("{i:032x}"))))
        .collect();
    let api_keys = serde_json::Value::Object(keys).to_string();
    let vars = dir.join(".dev.vars");
    std::fs::write(&vars, format!("API_KEYS={api_keys}\n")).unwrap();
    let stderr = failed_check("HEARTBEAT_WORKER_VARS", &vars);
    assert!(
        stderr.contains(&format!(
            "API_KEYS is {} bytes, over Cloudflare's 5120-byte limit",
            api_keys.len()
        )),
        "{stderr}"
    );
    assert!(
        !stderr.contains("0000000000000000000000000000000a"),
        "a key was printed"
    );
}

/// The events the receiver was told about `service`.
fn about(receiver: &Receiver, service: &str) -> Vec<String> {
    receiver
        .received()
        .iter()
        .map(|r| r.json())
        .filter(|j| j["service"]["id"] == service)
        .map(|j| j["event"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
#[cfg_attr(
    missing_worker_tools,
    ignore = "needs worker-build 0.8.7, the wasm-bindgen CLI of Cargo.lock and `npm ci --prefix components/cloudflare` (bash .ci/run installs them)"
)]
fn the_opt_in_workers_kv_backend_serves_the_same_api() {
    let receiver = Receiver::start().unwrap();
    let mut vars = secrets(Some(&receiver));
    vars.push(("STORE", "kv".into()));
    let state = state_dir("kv");
    // KV has no compare-and-swap: the concurrency scenarios are this backend's documented limit.
    let sequential = [
        "heartbeats_are_reflected_in_status_and_logs",
        "bad_input_is_rejected_and_changes_nothing",
        "read_endpoints_answer_the_documented_shapes",
        "dashboard_pages_badges_and_metrics_answer",
    ];
    let told = {
        let w = Wrangler::start_build(built(), &state, &vars);
        let failures: Vec<String> = SCENARIOS
            .iter()
            .filter(|s| sequential.contains(&s.name))
            .filter_map(|s| {
                (s.run)(&w.client())
                    .err()
                    .map(|e| format!("{}: {e:#}", s.name))
            })
            .collect();
        assert!(failures.is_empty(), "{failures:#?}\n{}", w.log_text());
        let c = w.client();
        beat(&c, "delta", "up");
        beat(&c, "delta", "down");
        let told = receiver.wait_for(4, Duration::from_secs(10)).len();
        assert_eq!(about(&receiver, "delta"), ["down"], "one down notification");
        w.cron();
        told
    };
    // The state is in the KV namespace, not in the Durable Object.
    let w = Wrangler::start_build(built(), &state, &secrets(None));
    assert_eq!(
        w.client().logs("delta").unwrap().len(),
        0,
        "the object never saw it"
    );
    drop(w);
    let w = Wrangler::start_build(built(), &state, &vars);
    let logs = w.client().logs("delta").unwrap();
    assert_eq!(logs.len(), 2, "{logs:?}");
    assert_eq!(
        w.client().service_status("delta").unwrap()["status"],
        "down"
    );
    assert_eq!(receiver.received().len(), told, "nothing told twice");
}

/// A configuration with one channel of every type, secrets for each, and vendor calls
/// redirected to `receiver`.
fn every_channel(receiver: &Receiver) -> (PathBuf, Vec<(String, String)>) {
    let dir = target_dir().join("channels-config");
    std::fs::create_dir_all(&dir).unwrap();
    let fixtures = root().join("tests/fixtures/config");
    std::fs::copy(fixtures.join("services.json"), dir.join("services.json")).unwrap();
    let specs = channels();
    let list: Vec<_> = specs
        .iter()
        .map(|(name, kind, options, _, _)| json!({"type": kind, "name": name, "config": options}))
        .collect();
    let notifications = json!({"channels": list, "settings": {"cooldownMinutes": 0}});
    std::fs::write(dir.join("notifications.json"), notifications.to_string()).unwrap();
    let mut vars: Vec<(String, String)> = secrets(None)
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    for (name, _, _, keys, _) in &specs {
        for (key, value) in keys {
            let var = format!(
                "NOTIFICATION_{}_{key}",
                name.to_ascii_uppercase().replace('-', "_")
            );
            vars.push((var, value.to_string()));
        }
    }
    vars.push((
        "OUTBOUND_REDIRECT".into(),
        format!("http://{}", receiver.addr),
    ));
    (dir, vars)
}

#[test]
#[cfg_attr(
    missing_worker_tools,
    ignore = "needs worker-build 0.8.7, the wasm-bindgen CLI of Cargo.lock and `npm ci --prefix components/cloudflare` (bash .ci/run installs them)"
)]
fn every_channel_is_reached_from_the_worker() {
    let receiver = Receiver::start().unwrap();
    let (config, vars) = every_channel(&receiver);
    let build = build_unoptimised("channels-build", &config);
    let w = Wrangler::start_build(&build, &state_dir("channels"), &vars);
    let c = w.client();
    beat(&c, "alpha", "up");
    beat(&c, "alpha", "down");
    let specs = channels();
    let every = requests_per_event();
    receiver.wait_for(every, Duration::from_secs(20));
    for spec in &specs {
        let (name, kind, _, _, prefix) = spec;
        let got = receiver.received_at(prefix);
        assert_eq!(
            got.len(),
            requests(spec),
            "{name} ({kind}) received {} requests",
            got.len()
        );
    }
    let trigger = receiver.received_at("/v2/enqueue")[0].json();
    assert_eq!(trigger["event_action"], "trigger");
    let email = &receiver.received_at("/v3/")[0];
    assert!(email.header("authorization").unwrap().starts_with("Basic "));
    let log = c.get("/api/deliveries?serviceId=alpha").unwrap().json();
    let entries = log["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), every, "{log}");
    assert!(
        entries
            .iter()
            .all(|e| e["ok"] == true && e["attempts"] == 1),
        "{log}"
    );

    beat(&c, "alpha", "up");
    receiver.wait_for(2 * every, Duration::from_secs(20));
    let pd = receiver.received_at("/v2/enqueue");
    assert_eq!(pd.len(), 2, "the recovery reaches PagerDuty too");
    assert_eq!(pd[1].json()["event_action"], "resolve");
    assert_eq!(pd[1].json()["dedup_key"], trigger["dedup_key"]);
    assert_eq!(receiver.received().len(), 2 * every);
    for r in receiver.received() {
        assert_eq!(r.wire_faults(), Vec::<String>::new(), "{}", r.path);
    }
    for body in c.bodies() {
        for (_, _, _, keys, _) in &specs {
            for (_, value) in keys {
                assert!(
                    !value.contains("secret") || !body.contains(value),
                    "a secret leaked: {body}"
                );
            }
        }
    }
}

#[test]
#[cfg_attr(
    missing_worker_tools,
    ignore = "needs worker-build 0.8.7, the wasm-bindgen CLI of Cargo.lock and `npm ci --prefix components/cloudflare` (bash .ci/run installs them)"
)]
fn ten_thousand_services_beat_sweep_and_show_on_the_worker() {
    use heartbeat_core::auth::derived_key;
    let dir = target_dir().join("ten-thousand-config");
    std::fs::create_dir_all(&dir).unwrap();
    let services: Vec<_> = (0..10_000)
        .map(|i| json!({ "id": format!("svc-{i:05}"), "stalenessThreshold": 600 }))
        .collect();
    std::fs::write(
        dir.join("services.json"),
        json!({ "services": services }).to_string(),
    )
    .unwrap();
    std::fs::write(dir.join("notifications.json"), r#"{"channels": []}"#).unwrap();
    let build = build_unoptimised("ten-thousand-build", &dir);
    let vars = [("API_KEY_SECRET", KEY_SECRET.to_string())];
    let w = Wrangler::start_build(&build, &state_dir("ten-thousand"), &vars);
    let c = w.client();
    for (i, status) in [(0, "up"), (4_999, "down"), (9_999, "degraded")] {
        let id = format!("svc-{i:05}");
        let r = c
            .beat(
                &derived_key(KEY_SECRET, &id),
                &json!({ "serviceId": id, "status": status }),
            )
            .unwrap();
        assert_eq!(r.status, 200, "{id}: {}", r.body);
    }
    // The cron sweep reads every service's state.
    w.cron();
    let summary = c.get("/api/status?summary=1").unwrap().json();
    assert_eq!(summary["counts"]["total"], 10_000, "{summary}");
    assert_eq!(
        (
            summary["counts"]["up"].clone(),
            summary["counts"]["down"].clone(),
            summary["counts"]["degraded"].clone()
        ),
        (json!(1), json!(1), json!(1)),
        "{summary}"
    );
    let page = c.get("/api/status?limit=100&offset=9950").unwrap().json();
    assert_eq!(page["services"].as_array().unwrap().len(), 50, "{page}");
    let overview = c.get("/").unwrap();
    assert_eq!(overview.status, 200);
    assert!(
        overview.body.len() < 1024 * 1024,
        "the overview weighs {} bytes",
        overview.body.len()
    );
    assert!(overview.body.contains("page 1 of 20"), "paged");
    for path in ["/services/svc-04999", "/badge/svc-04999.svg", "/metrics"] {
        assert_eq!(c.get(path).unwrap().status, 200, "{path}");
    }
}
