//! docs/QUICKSTART.md, run: the monitor on the repository's own `config/` with the API keys the
//! guide sets, then every command of its "On one machine" section (curl and the bash client,
//! wrapper mode included) pointed at it. A newcomer's first ten minutes must work as written.

use super::support::root;
use heartbeat_conformance::receiver::Receiver;
use heartbeat_conformance::Client;
use heartbeat_host::kv::AbsentCas;
use std::process::Command;

const GUIDE_URL: &str = "http://127.0.0.1:3000";

/// The shell lines of the guide's local section, in order.
fn local_commands() -> Vec<String> {
    let guide = std::fs::read_to_string(root().join("docs/QUICKSTART.md")).unwrap();
    let local = guide
        .split("## On one machine")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("a section \"On one machine\"");
    let mut lines = Vec::new();
    let mut in_sh = false;
    for line in local.lines() {
        match line.trim() {
            "```sh" => in_sh = true,
            "```" => in_sh = false,
            l if in_sh && !l.is_empty() && !l.starts_with('#') => lines.push(l.to_string()),
            _ => {}
        }
    }
    lines
}

/// The `API_KEYS` the guide starts the monitor with.
fn guide_api_keys(commands: &[String]) -> String {
    let start = commands
        .iter()
        .find(|c| c.ends_with("cargo run -p heartbeat-host -- up"))
        .expect("the guide starts heartbeat-host");
    let keys = start
        .split("SPIN_VARIABLE_API_KEYS='")
        .nth(1)
        .and_then(|s| s.split('\'').next())
        .expect("with API_KEYS");
    keys.to_string()
}

#[test]
fn the_quickstart_commands_work_as_written() {
    let commands = local_commands();
    let receiver = Receiver::start().unwrap();
    let mut options = super::support::options(AbsentCas::Exact, &receiver);
    options.config_dir = Some(root().join("config"));
    options
        .variables
        .insert("api_keys".into(), guide_api_keys(&commands));
    let running = heartbeat_host::start(options).unwrap();
    let url = running.url();
    let mut ran = 0;
    for command in &commands {
        // Starting the monitor is what this test did above; the toolchain is there already.
        if command.starts_with("rustup ") || command.contains("cargo run -p heartbeat-host") {
            continue;
        }
        let command = command.replace(GUIDE_URL, url.trim_end_matches('/'));
        let out = Command::new("bash")
            .args(["-c", &command])
            .current_dir(root())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "`{command}` failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        ran += 1;
    }
    assert!(ran >= 6, "the guide's commands ran: {ran}");
    let client = Client::new(&url);
    let status = client.service_status("nightly-backup").unwrap();
    assert_eq!(status["status"], "up", "a green dashboard: {status}");
    let logs = client.logs("nightly-backup").unwrap();
    assert_eq!(
        logs.len(),
        4,
        "the curl beat and three client beats: {logs:?}"
    );
    assert_eq!(
        logs[0]["status"], "up",
        "wrapper mode reported the command's success"
    );
    assert_eq!(logs[1]["status"], "degraded");
}
