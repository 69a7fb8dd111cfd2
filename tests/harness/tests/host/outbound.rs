//! `allowed_outbound_hosts`, enforced as Spin enforces it: a channel whose destination the
//! manifest does not allow is refused at start-up with the line to add, and a request that is
//! denied at run time fails once, permanently, without retries.

use super::support::{options, root};
use heartbeat_conformance::receiver::Receiver;
use heartbeat_conformance::{Client, FIXTURE_CONFIG_DIR};
use heartbeat_host::kv::AbsentCas;
use std::time::Duration;

/// `heartbeat-host check` with the shipped manifest and the webhook channel posting to `url`:
/// whether it passed, and what it printed.
fn check_with_webhook(url: &str) -> (bool, String) {
    let out = super::support::heartbeat_host()
        .current_dir(root())
        .args(["check", "--config", FIXTURE_CONFIG_DIR])
        .env("SPIN_VARIABLE_NOTIFICATION_OPS_WEBHOOK_URL", url)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    heartbeat_conformance::capture::keep("host-output", &stderr);
    (out.status.success(), stderr)
}

#[test]
fn check_names_a_channel_the_manifest_would_deny_with_the_line_to_add() {
    let (ok, stderr) = check_with_webhook("http://10.0.0.5:8080/secret-hook-path");
    assert!(!ok, "{stderr}");
    assert!(
        stderr.contains(
            "channel \"ops-webhook\" (webhook) sends to http://10.0.0.5:8080, which Spin would deny: \
             add \"http://10.0.0.5:8080\" to allowed_outbound_hosts in [component.dashboard], \
             [component.ingest], [component.sweep]"
        ),
        "{stderr}"
    );
    assert!(
        !stderr.contains("secret-hook-path"),
        "the URL's path (a secret) is not printed: {stderr}"
    );
}

#[test]
fn check_accepts_a_destination_the_manifest_allows() {
    let (ok, stderr) = check_with_webhook("https://hooks.example.com/T0/secret");
    assert!(ok, "{stderr}");
}

#[test]
fn a_denied_destination_fails_once_without_retries_and_nothing_leaves() {
    // The shipped manifest (https only) and a plain-HTTP webhook, loaded without the start-up
    // check that would refuse it: the rule itself must hold at run time.
    let receiver = Receiver::start().unwrap();
    let mut o = options(AbsentCas::Exact, &receiver);
    o.redirect_outbound = None;
    o.variables.insert(
        "notification_ops_webhook_url".into(),
        format!("http://{}/hook", receiver.addr),
    );
    let prepared = heartbeat_host::load(&o).unwrap();
    let clock = prepared.clock.clone();
    let running = heartbeat_host::start_prepared(prepared, o).unwrap();
    let client = Client::new(&running.url());

    let key = heartbeat_conformance::fixture_key("alpha");
    let r = client
        .beat(&key, &serde_json::json!({"serviceId": "alpha"}))
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    clock.advance(Duration::from_secs(61));
    let r = client.request("POST", "/api/sweep", &[], &[]).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.json()["transitions"].as_array().unwrap().len(),
        1,
        "{}",
        r.body
    );
    let log = client
        .get("/api/deliveries?serviceId=alpha")
        .unwrap()
        .json();
    let delivery = &log["entries"][0];
    assert_eq!(delivery["channel"], "ops-webhook", "{log}");
    assert_eq!(delivery["ok"], false, "{log}");
    assert_eq!(
        delivery["attempts"], 1,
        "no retry of a denied request: {log}"
    );
    let error = delivery["error"].as_str().unwrap();
    assert!(
        error.contains("allowed_outbound_hosts") && error.contains("permanent"),
        "{error}"
    );
    assert!(receiver.received().is_empty(), "nothing left the host");
}
