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
    // A second heartbeat-host on the same store is refused: the first keeps what it read.
    let refused = Process::refused(
        &data,
        &root().join(FIXTURE_CONFIG_DIR),
        &[("api_keys", fixture_api_keys())],
    );
    assert!(
        refused.contains("is in use by another heartbeat-host"),
        "{refused}"
    );
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

/// Acknowledged means on disk, not only handed to the system: before each heartbeat's answer
/// leaves, a flush of the store's log (`heartbeat.db-wal`) that began after the heartbeat's write
/// has returned. Seen from outside, in the host's system calls.
#[test]
#[cfg_attr(missing_strace, ignore = "needs strace: apt-get install strace")]
fn each_acknowledged_heartbeat_is_flushed_to_disk_before_its_answer() {
    let data = std::env::temp_dir().join(format!("hb-flushed-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data).unwrap();
    let trace = data.join("strace.log");
    let host = Process::spawn_traced(
        &data.join("state"),
        &root().join(FIXTURE_CONFIG_DIR),
        &[("api_keys", fixture_api_keys())],
        "fdatasync,fsync,write,writev,sendto,sendmsg",
        &trace,
    );
    let client = Client::new(&host.url);
    let beats = 12;
    for i in 0..beats {
        let service = heartbeat_conformance::FIXTURE_SERVICES[i % 3];
        let body = serde_json::json!({"serviceId": service, "message": format!("flushed-{i}")});
        let r = client.beat(&fixture_key(service), &body).unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
    }
    drop(host);
    let text = std::fs::read_to_string(&trace).unwrap();

    // strace -f: `PID call(fd<path>, …) = 0`, or a call split in two around another thread's
    // (`… <unfinished ...>`, then `PID <... call resumed>…`).
    let flush = |call: &str| call.starts_with("fdatasync(") || call.starts_with("fsync(");
    let mut unfinished = std::collections::HashSet::new();
    let mut flushed = false;
    let mut answers = 0;
    for line in text.lines() {
        let Some((pid, call)) = line.split_once(' ') else {
            continue;
        };
        let call = call.trim_start();
        if flush(call) && call.contains(".db-wal>") {
            if call.ends_with("<unfinished ...>") {
                unfinished.insert(pid);
            } else {
                flushed |= call.ends_with("= 0");
            }
        } else if call.starts_with("<... fdatasync resumed>")
            || call.starts_with("<... fsync resumed>")
        {
            flushed |= unfinished.remove(pid) && call.ends_with("= 0");
        } else if call.contains("TCP:[") && call.contains("\"HTTP/1.1 200") {
            assert!(
                flushed,
                "answer {answers} left before a flush of its write:\n{text}"
            );
            answers += 1;
            flushed = false;
        }
    }
    assert_eq!(answers, beats, "every answer is in the trace:\n{text}");
    let _ = std::fs::remove_dir_all(&data);
}
