//! A real Prometheus Alertmanager (Debian's `prometheus-alertmanager`, installed by `.ci/run`)
//! on loopback, with a webhook receiver pointing at heartbeat-host: an alert posted to its API
//! fires, then resolves, and both arrive at the loopback vendor receiver as notifications.

use super::support::host;
use heartbeat_conformance::free_port;
use heartbeat_host::kv::AbsentCas;
use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BINARY: &str = "/usr/bin/prometheus-alertmanager";

struct Alertmanager(Child);

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn post_alert(api: &str, ends_at: Option<&str>) {
    let mut alert = json!({
        "labels": {"alertname": "DiskFull", "severity": "critical", "instance": "db-1"},
        "annotations": {"summary": "Disk almost full on db-1"},
        "generatorURL": "http://prometheus.invalid/graph"
    });
    if let Some(end) = ends_at {
        alert["endsAt"] = json!(end);
    }
    let r = ureq::post(&format!("{api}/api/v2/alerts"))
        .timeout(Duration::from_secs(5))
        .send_json(json!([alert]));
    assert!(r.is_ok(), "posting to Alertmanager: {r:?}");
}

#[test]
#[cfg_attr(
    missing_alertmanager,
    ignore = "needs prometheus-alertmanager: apt-get install prometheus-alertmanager"
)]
fn a_real_alertmanager_fires_then_resolves_through_the_monitor() {
    let h = host(AbsentCas::Exact);
    let dir = std::env::temp_dir().join(format!("hb-alertmanager-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = format!(
        "route:\n  receiver: monitor\n  group_by: [alertname]\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\n\
         receivers:\n  - name: monitor\n    webhook_configs:\n      - url: {}/api/alert\n        send_resolved: true\n",
        h.running.url()
    );
    std::fs::write(dir.join("alertmanager.yml"), config).unwrap();
    let port = free_port();
    let api = format!("http://127.0.0.1:{port}");
    let _am = Alertmanager(
        Command::new(BINARY)
            .arg(format!(
                "--config.file={}",
                dir.join("alertmanager.yml").display()
            ))
            .arg(format!("--storage.path={}", dir.join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            // No cluster gossip: it would listen on every interface.
            .arg("--cluster.listen-address=")
            .arg("--log.level=warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let ready = Instant::now();
    while ureq::get(&format!("{api}/-/ready")).call().is_err() {
        assert!(
            ready.elapsed() < Duration::from_secs(20),
            "Alertmanager did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    post_alert(&api, None);
    let got = h.receiver.wait_for(1, Duration::from_secs(30));
    assert_eq!(got.len(), 1, "the firing alert reached the channel");
    let fired = got[0].json();
    assert_eq!(
        (fired["type"].clone(), fired["status"].clone()),
        (json!("alert"), json!("firing"))
    );
    assert_eq!(fired["format"], "alertmanager");
    assert_eq!(fired["severity"], "critical");
    assert_eq!(fired["title"], "Disk almost full on db-1");

    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    post_alert(&api, Some(&heartbeat_core::time::iso(now_ms - 1000)));
    let got = h.receiver.wait_for(2, Duration::from_secs(30));
    assert_eq!(got.len(), 2, "the resolution reached the channel");
    let resolved = got[1].json();
    assert_eq!(resolved["status"], "resolved");
    assert_eq!(
        resolved["dedupKey"], fired["dedupKey"],
        "one key from firing to resolved"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
