//! The example clients in `examples/` against a running heartbeat-host: a beat lands, a wrong
//! key is a non-zero exit with a readable message, and wrapper mode reports a failing command.

use super::support::{host, root};
use heartbeat_conformance::fixture_key;
use heartbeat_host::kv::AbsentCas;
use std::process::{Command, Output};

const CLIENTS: [(&str, &str); 3] = [
    ("bash", "examples/heartbeat-client.sh"),
    ("python3", "examples/heartbeat-client.py"),
    ("node", "examples/heartbeat-client.js"),
];

fn run(
    interpreter: &str,
    script: &str,
    url: &str,
    key: &str,
    message: &str,
    args: &[&str],
) -> Output {
    Command::new(interpreter)
        .current_dir(root())
        .arg(script)
        .args(args)
        .env("HEARTBEAT_URL", url)
        .env("SERVICE_ID", "charlie")
        .env("API_KEY", key)
        .env("MESSAGE", message)
        .env("ATTEMPTS", "2")
        .output()
        .unwrap_or_else(|e| panic!("{interpreter} is needed for the client tests: {e}"))
}

#[test]
fn every_example_client_delivers_a_heartbeat() {
    let h = host(AbsentCas::Exact);
    for (interpreter, script) in CLIENTS {
        let message = format!("from {interpreter} \"quoted\" \\ back\tslash");
        let out = run(
            interpreter,
            script,
            &h.running.url(),
            &fixture_key("charlie"),
            &message,
            &[],
        );
        assert!(
            out.status.success(),
            "{script}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let logs = h.client.logs("charlie").unwrap();
        assert_eq!(
            logs[0]["message"],
            message.as_str(),
            "{script} sent the message intact"
        );
        assert_eq!(logs[0]["status"], "up");
    }
}

#[test]
fn a_wrong_key_is_a_readable_failure() {
    let h = host(AbsentCas::Exact);
    for (interpreter, script) in CLIENTS {
        let out = run(interpreter, script, &h.running.url(), "wrong-key", "", &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{script}: {stderr}");
        assert!(
            stderr.contains("not delivered (HTTP 401)") && stderr.contains("invalid API key"),
            "{script}: {stderr}"
        );
    }
    assert!(h.client.logs("charlie").unwrap().is_empty());
}

#[test]
fn wrapper_mode_reports_a_failing_command_as_down() {
    let h = host(AbsentCas::Exact);
    for (interpreter, script) in CLIENTS {
        let out = run(
            interpreter,
            script,
            &h.running.url(),
            &fixture_key("charlie"),
            "",
            &["--", "sh", "-c", "echo disk full; exit 3"],
        );
        assert_eq!(
            out.status.code(),
            Some(3),
            "{script} passes the command's exit code on"
        );
        let entry = &h.client.logs("charlie").unwrap()[0];
        assert_eq!(entry["status"], "down", "{script}");
        let m = entry["message"].as_str().unwrap();
        assert!(
            m.contains("exit code 3") && m.contains("disk full"),
            "{script}: {m}"
        );
    }
}
