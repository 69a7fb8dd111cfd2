//! `heartbeat-host notify-test`: a synthetic event to one channel through the real notifiers
//! component, with the channel's real credentials (here: a loopback receiver's URL).

use super::support::{loopback_manifest, root};
use heartbeat_conformance::receiver::{Receiver, Reply};
use heartbeat_conformance::FIXTURE_CONFIG_DIR;
use std::path::Path;
use std::process::Output;

fn notify_test(channel: &str, url: &str) -> Output {
    notify_test_with(
        &loopback_manifest(),
        channel,
        ("SPIN_VARIABLE_NOTIFICATION_OPS_WEBHOOK_URL", url),
    )
}

/// `heartbeat-host notify-test --channel CHANNEL` on the fixture config with `manifest` and
/// one variable from the environment; its output is kept for the secret scan.
pub fn notify_test_with(manifest: &Path, channel: &str, (var, value): (&str, &str)) -> Output {
    let out = super::support::heartbeat_host()
        .current_dir(root())
        .args([
            "notify-test",
            "--channel",
            channel,
            "--config",
            FIXTURE_CONFIG_DIR,
        ])
        .arg("--manifest")
        .arg(manifest)
        .env(var, value)
        .output()
        .unwrap();
    for stream in [&out.stdout, &out.stderr] {
        heartbeat_conformance::capture::keep("host-output", &String::from_utf8_lossy(stream));
    }
    out
}

/// The standard output of a run that must have succeeded.
pub fn succeeded(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn notify_test_sends_one_notification_through_the_real_path() {
    let receiver = Receiver::start().unwrap();
    let out = notify_test(
        "ops-webhook",
        &format!("http://{}/notify-test-hook", receiver.addr),
    );
    let stdout = succeeded(&out);
    assert!(
        stdout.contains("ops-webhook (webhook): delivered (HTTP 200, 1 attempt(s)"),
        "{stdout}"
    );
    let got = receiver.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].path, "/notify-test-hook");
    assert_eq!(got[0].json()["event"], "down");
    assert_eq!(got[0].json()["service"]["id"], "notify-test");
}

#[test]
fn notify_test_reports_a_failing_channel_and_exits_non_zero() {
    let receiver = Receiver::start().unwrap();
    receiver.script("/", vec![Reply::status(404)]);
    let out = notify_test("ops-webhook", &format!("http://{}/gone", receiver.addr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(
        stdout.contains("FAILED: HTTP 404 (permanent, not retried)"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("/gone"),
        "the URL (a secret) is not printed"
    );
}

#[test]
fn notify_test_names_an_unknown_channel() {
    let out = notify_test("nope", "http://127.0.0.1:9/unused");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("no channel named \"nope\""), "{stderr}");
}

fn check_for_cloudflare(api_keys: &str) -> Output {
    let out = super::support::heartbeat_host()
        .current_dir(root())
        .args(["check", "--cloudflare", "--config", FIXTURE_CONFIG_DIR])
        .env("SPIN_VARIABLE_API_KEYS", api_keys)
        .output()
        .unwrap();
    heartbeat_conformance::capture::keep("host-output", &String::from_utf8_lossy(&out.stderr));
    out
}

#[test]
fn check_for_cloudflare_refuses_a_secret_over_five_kilobytes_with_the_numbers() {
    // 200 services with 16-character ids and 32-character keys.
    let keys: serde_json::Map<String, serde_json::Value> = (0..200)
        .map(|i| {
            let key = format!("{i:032x}");
            (format!("service-id-{i:05}"), serde_json::json!(key))
        })
        .collect();
    let big = serde_json::Value::Object(keys).to_string();
    let out = check_for_cloudflare(&big);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "API_KEYS is {} bytes, over Cloudflare's 5120-byte limit for a Worker variable",
            big.len()
        )),
        "{stderr}"
    );
    assert!(
        !stderr.contains("000000000000000000000000000000c7"),
        "a key was printed"
    );

    let out = check_for_cloudflare(&heartbeat_conformance::fixture_api_keys());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn spins_redis_behaviour_needs_a_redis_store() {
    let out = super::support::heartbeat_host()
        .current_dir(root())
        .args(["up", "--memory", "--spin-redis", "as-released"])
        .args(["--config", FIXTURE_CONFIG_DIR])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("Spin's Redis behaviour needs a Redis store (--kv URL)"),
        "{stderr}"
    );
}
