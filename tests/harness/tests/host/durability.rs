//! heartbeat-host as a child process on its SQLite store: every acknowledged heartbeat survives
//! `kill -9`, and nothing it prints ever contains a secret.

use super::process::Process;
use super::support::{root, secrets, WEBHOOK_URL};
use heartbeat_conformance::{fixture_api_keys, fixture_key, Client, FIXTURE_CONFIG_DIR, SCENARIOS};
use std::path::Path;
use std::time::{Duration, Instant};

fn spawn(data: &Path) -> Process {
    Process::spawn(
        data,
        &root().join(FIXTURE_CONFIG_DIR),
        &[
            ("api_keys", fixture_api_keys()),
            ("notification_ops_webhook_url", WEBHOOK_URL.to_string()),
        ],
    )
}

#[test]
fn acknowledged_heartbeats_survive_kill_9_and_logs_hold_no_secrets() {
    let data = std::env::temp_dir().join(format!("hb-durable-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);

    let mut first = spawn(&data);
    let client = Client::new(&first.url);
    // The whole black-box suite runs against the real binary too; its logs are checked below.
    for s in SCENARIOS {
        (s.run)(&client).unwrap_or_else(|e| panic!("{} against the binary: {e:#}", s.name));
    }
    let mut acked = Vec::new();
    let started = Instant::now();
    for i in 0..40 {
        let service = heartbeat_conformance::FIXTURE_SERVICES[i % 8];
        let message = format!("durable-{i}");
        let r = client
            .beat(
                &fixture_key(service),
                &serde_json::json!({"serviceId": service, "message": message}),
            )
            .unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
        acked.push((
            service,
            message,
            r.json()["receivedAt"].as_str().unwrap().to_string(),
        ));
    }
    let per_beat = started.elapsed() / 40;
    first.kill();

    let mut second = spawn(&data);
    let client = Client::new(&second.url);
    for (service, message, _) in &acked {
        let logs = client.logs(service).unwrap();
        assert!(
            logs.iter().any(|e| e["message"] == message.as_str()),
            "{service}: acknowledged beat {message} lost across kill -9"
        );
    }
    for service in heartbeat_conformance::FIXTURE_SERVICES {
        let newest = acked
            .iter()
            .filter(|(s, _, _)| *s == service)
            .map(|(_, _, at)| at)
            .max()
            .unwrap();
        assert_eq!(
            client.service_status(service).unwrap()["lastHeartbeat"],
            newest.as_str()
        );
    }
    second.kill();
    std::thread::sleep(Duration::from_millis(100));

    let logs = format!("{}{}", first.output(), second.output());
    assert!(
        logs.contains("/api/heartbeat"),
        "requests are logged: {logs}"
    );
    for secret in secrets() {
        assert!(
            !logs.contains(&secret),
            "the host's output contains a secret"
        );
    }
    for body in client.bodies() {
        for secret in secrets() {
            assert!(!body.contains(&secret), "a response contains a secret");
        }
    }
    eprintln!(
        "durable SQLite store: {per_beat:?} per acknowledged heartbeat (sequential, debug host)"
    );
    let _ = std::fs::remove_dir_all(&data);
}
