//! The dashboard in a real headless Chromium (Debian's `chromium`, driven by playwright-core
//! from npm; both installed by `.ci/run`). This test seeds heartbeat-host through its API, then
//! runs `tests/browser/dashboard.mjs`, which checks what a person sees: counts and statuses as
//! in `/api/status`, a service going down within one refresh, the dark-mode toggle, the
//! delivery log, hostile strings rendered as text, and the page without JavaScript. Screenshots
//! land in `target/screenshots/`.

use super::support::{config_dir, fixture_config, host_with, root};
use heartbeat_host::kv::AbsentCas;
use serde_json::json;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Debian's Chromium, or the browser named by `CHROMIUM`.
fn chromium() -> String {
    std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
}
const HOSTILE: &str =
    r#"<img src=x onerror="window.__xss=true"></script><script>window.__xss=true</script>"#;

fn key(id: &str) -> String {
    format!("browser-key-{id}")
}

#[test]
#[cfg_attr(
    missing_browser,
    ignore = "needs Chromium and playwright-core: apt-get install chromium; npm ci --prefix tests/browser"
)]
fn the_dashboard_works_in_a_real_browser() {
    let services = json!({ "services": [
        { "id": "api", "name": "API gateway", "stalenessThreshold": 3600 },
        { "id": "db", "name": "Primary database", "stalenessThreshold": 3600 },
        { "id": "backup", "name": "Nightly backup", "stalenessThreshold": 93600 },
        { "id": "never", "name": "New worker", "stalenessThreshold": 600 },
        { "id": "evil", "name": HOSTILE, "stalenessThreshold": 600 },
        { "id": "batch", "name": "Retired batch job", "enabled": false },
    ]});
    let config = config_dir("browser", &services, &fixture_config("notifications.json"));
    let ids = ["api", "db", "backup", "never", "evil", "batch"];
    let keys: serde_json::Map<String, serde_json::Value> = ids
        .iter()
        .map(|id| (id.to_string(), json!(key(id))))
        .collect();

    let h = host_with(AbsentCas::Exact, |o| {
        o.config_dir = Some(config.clone());
        o.variables.insert(
            "api_keys".into(),
            serde_json::Value::Object(keys).to_string(),
        );
    });
    let beat = |id: &str, body: serde_json::Value| {
        let r = h.client.beat(&key(id), &body).unwrap();
        assert_eq!(r.status, 200, "{id}: {}", r.body);
    };
    // Three weeks of history on the host's clock, a beat every 30 minutes: an API outage of
    // three hours, a degraded database for six, and a day the backup never ran.
    for half_hour in 0..(21 * 48) {
        let (day, hour) = (half_hour / 48, half_hour % 48 / 2);
        let api = if day == 12 && (9..12).contains(&hour) {
            "down"
        } else {
            "up"
        };
        let db = if day == 17 && (2..8).contains(&hour) {
            "degraded"
        } else {
            "up"
        };
        beat("api", json!({ "serviceId": "api", "status": api }));
        beat("db", json!({ "serviceId": "db", "status": db }));
        if half_hour % 48 == 6 && day != 8 {
            beat(
                "backup",
                json!({ "serviceId": "backup", "message": "42 GB copied" }),
            );
        }
        h.advance(1800);
    }
    beat(
        "api",
        json!({ "serviceId": "api", "message": "serving 1.2k req/s" }),
    );
    beat(
        "db",
        json!({ "serviceId": "db", "status": "degraded", "message": "replica lag 45 s" }),
    );
    beat(
        "backup",
        json!({ "serviceId": "backup", "message": "42 GB copied", "metadata": { "bytes": 45097156608u64 } }),
    );
    // Failing after success: a transition, notified to the loopback receiver.
    beat(
        "backup",
        json!({ "serviceId": "backup", "status": "down", "message": "tar: /srv: Cannot open" }),
    );
    beat(
        "evil",
        json!({ "serviceId": "evil", "message": HOSTILE, "metadata": { HOSTILE: HOSTILE } }),
    );
    assert!(
        !h.deliveries().is_empty(),
        "the down transition was delivered"
    );

    let out = root().join("target/screenshots");
    let mut child = Command::new("node")
        .arg(root().join("tests/browser/dashboard.mjs"))
        .env("HB_URL", h.running.url())
        .env("HB_OUT", &out)
        .env("HB_DOWN_ID", "api")
        .env("HB_DOWN_KEY", key("api"))
        .env("HB_DETAIL_ID", "backup")
        .env("HB_HOSTILE", HOSTILE)
        .env("CHROMIUM", chromium())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node is installed");
    let deadline = Instant::now() + Duration::from_secs(180);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the browser test did not finish within 180 s");
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let _ = std::fs::remove_dir_all(&config);
    assert!(
        status.success(),
        "the browser checks failed (see the output above)"
    );
    for shot in [
        "dashboard-light.png",
        "dashboard-dark.png",
        "service-detail.png",
    ] {
        assert!(out.join(shot).exists(), "{shot} was saved");
    }
}
