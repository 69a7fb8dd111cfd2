//! Heartbeat keys derived from one secret (`API_KEY_SECRET`): each service's key is accepted for
//! that service only, `API_KEYS` keeps working beside it, a rotation accepts both secrets' keys
//! until the old one is removed, a bad secret stops start-up, and `heartbeat-host key` and the
//! documented `openssl` one-liner print the key the ingest component accepts.

use super::support::{host_with, options, root, TestHost};
use heartbeat_conformance::receiver::Receiver;
use heartbeat_conformance::{fixture_key, FIXTURE_CONFIG_DIR};
use heartbeat_core::auth::derived_key;
use heartbeat_host::kv::AbsentCas;
use std::process::Command;

const OLD: &str = "6f1d0c8e2b7a4d3f9e5c1a0b8d7f6e5d";
const NEW: &str = "a3c5e7f9b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1";

fn host(current: &str, previous: &str) -> TestHost {
    host_with(AbsentCas::Exact, |o| {
        o.variables.insert("api_key_secret".into(), current.into());
        o.variables
            .insert("api_key_secret_previous".into(), previous.into());
    })
}

/// The status `POST /api/heartbeat` answers for `service` with `key`.
fn beat(h: &TestHost, service: &str, key: &str) -> u16 {
    let body = serde_json::json!({ "serviceId": service });
    h.client.beat(key, &body).unwrap().status
}

#[test]
fn a_derived_key_is_accepted_for_its_service_only() {
    let h = host(OLD, "");
    assert_eq!(beat(&h, "alpha", &derived_key(OLD, "alpha")), 200);
    assert_eq!(
        beat(&h, "alpha", &derived_key(OLD, "bravo")),
        401,
        "bravo's key is not alpha's"
    );
    assert_eq!(beat(&h, "alpha", &derived_key(NEW, "alpha")), 401);
    assert_eq!(
        beat(&h, "alpha", &fixture_key("alpha")),
        200,
        "API_KEYS too"
    );
    assert_eq!(h.client.logs("alpha").unwrap().len(), 2);
}

#[test]
fn a_rotation_accepts_both_secrets_until_the_old_one_is_removed() {
    let rotating = host(NEW, OLD);
    for secret in [OLD, NEW] {
        assert_eq!(beat(&rotating, "alpha", &derived_key(secret, "alpha")), 200);
    }
    let rotated = host(NEW, "");
    assert_eq!(beat(&rotated, "alpha", &derived_key(OLD, "alpha")), 401);
    assert_eq!(beat(&rotated, "alpha", &derived_key(NEW, "alpha")), 200);
}

#[test]
fn a_bad_key_secret_stops_start_up_and_names_it() {
    let receiver = Receiver::start().unwrap();
    for (current, previous, problem) in [
        (
            "too-short",
            "",
            "API_KEY_SECRET: must be at least 32 characters",
        ),
        (
            "",
            OLD,
            "API_KEY_SECRET_PREVIOUS: is set without API_KEY_SECRET",
        ),
    ] {
        let mut o = options(AbsentCas::Exact, &receiver);
        o.variables.insert("api_key_secret".into(), current.into());
        o.variables
            .insert("api_key_secret_previous".into(), previous.into());
        let e = heartbeat_host::start(o).err().expect("refused").to_string();
        assert!(e.contains(problem), "{e}");
        assert!(!e.contains(OLD), "the secret is never shown: {e}");
    }
}

fn key_command(service: &str, secret: &str) -> std::process::Output {
    super::support::heartbeat_host()
        .current_dir(root())
        .args(["key", service, "--config", FIXTURE_CONFIG_DIR])
        .env("SPIN_VARIABLE_API_KEY_SECRET", secret)
        .output()
        .unwrap()
}

#[test]
#[cfg_attr(missing_openssl, ignore = "needs openssl: apt-get install openssl")]
fn the_key_command_and_the_documented_one_liner_print_the_accepted_key() {
    let out = key_command("alpha", OLD);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert_eq!(printed, derived_key(OLD, "alpha"));

    // docs/CONFIGURATION.md gives this for machines without heartbeat-host.
    let shell = Command::new("sh")
        .args([
            "-c",
            r#"printf %s "$ID" | openssl dgst -sha256 -hmac "$API_KEY_SECRET" -r | cut -c1-64"#,
        ])
        .env("ID", "alpha")
        .env("API_KEY_SECRET", OLD)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&shell.stdout).trim(), printed);

    let h = host(OLD, "");
    assert_eq!(beat(&h, "alpha", &printed), 200);

    let unknown = key_command("no-such-service", OLD);
    assert!(!unknown.status.success());
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        stderr.contains("no service \"no-such-service\""),
        "{stderr}"
    );
    let unset = key_command("alpha", "");
    assert!(String::from_utf8_lossy(&unset.stderr).contains("API_KEY_SECRET is not set"));
}

#[test]
fn a_derived_push_token_reports_for_its_service_and_rotates_like_keys() {
    use heartbeat_core::auth::derived_push_token;
    let push = |h: &TestHost, token: &str| {
        let r = h
            .client
            .get(&format!("/api/push/{token}?status=down&msg=disk%20full"))
            .unwrap();
        r.status
    };
    let rotating = host(NEW, OLD);
    assert_eq!(push(&rotating, &derived_push_token(OLD, "bravo")), 200);
    assert_eq!(push(&rotating, &derived_push_token(NEW, "bravo")), 200);
    let entry = &rotating.client.logs("bravo").unwrap()[0];
    assert_eq!(
        (entry["status"].as_str(), entry["message"].as_str()),
        (Some("down"), Some("disk full"))
    );
    // Another service's token with this id in front, or a heartbeat key, is not a push token.
    let forged = format!(
        "alpha.{}",
        derived_push_token(NEW, "bravo").rsplit_once('.').unwrap().1
    );
    for token in [forged, derived_key(NEW, "alpha")] {
        assert_eq!(push(&rotating, &token), 404, "{token}");
    }
    assert!(rotating.client.logs("alpha").unwrap().is_empty());

    let out = super::support::heartbeat_host()
        .current_dir(root())
        .args(["key", "bravo", "--push", "--config", FIXTURE_CONFIG_DIR])
        .env("SPIN_VARIABLE_API_KEY_SECRET", NEW)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        derived_push_token(NEW, "bravo")
    );
}
