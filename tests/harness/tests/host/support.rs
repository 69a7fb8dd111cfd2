//! Starting a host on the fixture configuration, with a receiver for its outgoing calls.

use heartbeat_conformance::receiver::Receiver;
use heartbeat_conformance::{fixture_api_keys, Client, FIXTURE_CONFIG_DIR};
use heartbeat_host::kv::AbsentCas;
use heartbeat_host::{start, HostOptions, Running, StoreChoice};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The webhook URL the fixture host is given; it must never be echoed anywhere.
pub const WEBHOOK_URL: &str = "https://hooks.example.invalid/T000/secret-webhook-token";
/// A header value the receiver must get and nobody else may see.
pub const WEBHOOK_HEADER_SECRET: &str = "receiver-secret-7f3a";

/// `heartbeat-host` as a command, sharing one compile cache with every process of the test
/// run (under the target directory, not the user's), so only the first start compiles.
pub fn heartbeat_host() -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_heartbeat-host"));
    with_compile_cache(&mut command);
    command
}

/// Point a command that starts heartbeat-host (itself, or a tracer) at the test run's cache.
pub fn with_compile_cache(command: &mut std::process::Command) -> &mut std::process::Command {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("compile-cache");
    command.env(heartbeat_host::compile_cache::ENV, dir)
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The repository's `spin.toml` with loopback added to every component's
/// `allowed_outbound_hosts`, for tests whose channels post to a receiver on 127.0.0.1 (the
/// shipped manifest allows only `https://*:443`, and heartbeat-host enforces it as Spin does).
/// Written once per test process; its relative paths are never used (tests give the config
/// directory and the built components).
pub fn loopback_manifest() -> PathBuf {
    static PATH: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    PATH.get_or_init(|| {
        let shipped = std::fs::read_to_string(root().join("spin.toml")).unwrap();
        let rule = r#"allowed_outbound_hosts = ["https://*:443"]"#;
        assert!(shipped.contains(rule), "spin.toml no longer has {rule}");
        let manifest = shipped.replace(
            rule,
            r#"allowed_outbound_hosts = ["https://*:443", "http://127.0.0.1:*"]"#,
        );
        let dir = std::env::temp_dir().join(format!("hb-loopback-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("spin.toml");
        std::fs::write(&path, manifest).unwrap();
        path
    })
    .clone()
}

/// Every secret value a fixture host knows.
pub fn secrets() -> Vec<String> {
    let mut s: Vec<String> = heartbeat_conformance::FIXTURE_SERVICES
        .iter()
        .map(|id| heartbeat_conformance::fixture_key(id))
        .collect();
    s.push(WEBHOOK_URL.into());
    s.push("secret-webhook-token".into());
    s.push(WEBHOOK_HEADER_SECRET.into());
    s
}

/// The fixture configuration as JSON: `file` is `services.json` or `notifications.json`.
pub fn fixture_config(file: &str) -> serde_json::Value {
    let path = root().join(FIXTURE_CONFIG_DIR).join(file);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A configuration directory of its own (tests run in parallel) holding `services` and
/// `notifications` as the two config files.
pub fn config_dir(
    name: &str,
    services: &serde_json::Value,
    notifications: &serde_json::Value,
) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("hb-{name}-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("services.json"), services.to_string()).unwrap();
    std::fs::write(dir.join("notifications.json"), notifications.to_string()).unwrap();
    dir
}

pub struct TestHost {
    pub running: Running,
    pub receiver: Receiver,
    pub client: Client,
}

impl TestHost {
    pub fn advance(&self, secs: u64) {
        self.running.clock.advance(Duration::from_secs(secs));
    }

    /// Webhook deliveries so far, as JSON bodies.
    pub fn deliveries(&self) -> Vec<serde_json::Value> {
        self.receiver.received().iter().map(|r| r.json()).collect()
    }

    pub fn sweep(&self) -> serde_json::Value {
        let r = self.client.request("POST", "/api/sweep", &[], &[]).unwrap();
        assert_eq!(r.status, 200, "sweep: {}", r.body);
        r.json()
    }

    /// A heartbeat with the fixture's key; it must be accepted.
    pub fn beat(&self, service: &str, status: &str) {
        self.beat_with(
            &heartbeat_conformance::fixture_key(service),
            service,
            status,
        );
    }

    /// A heartbeat with `key`; it must be accepted.
    pub fn beat_with(&self, key: &str, service: &str, status: &str) {
        let r = self
            .client
            .beat(
                key,
                &serde_json::json!({"serviceId": service, "status": status}),
            )
            .unwrap();
        assert_eq!(r.status, 200, "beat {service} {status}: {}", r.body);
    }

    /// The (service, event) of each webhook delivery so far.
    pub fn told(&self) -> Vec<(String, String)> {
        self.deliveries()
            .iter()
            .map(|d| {
                let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
                (text(&d["service"]["id"]), text(&d["event"]))
            })
            .collect()
    }
}

/// Options for a host on the fixture config with an in-memory store.
pub fn options(absent_cas: AbsentCas, receiver: &Receiver) -> HostOptions {
    let mut o = HostOptions::new(root().join("spin.toml"));
    o.listen = "127.0.0.1:0".parse().unwrap();
    o.store = StoreChoice::Memory;
    o.absent_cas = absent_cas;
    o.sweep_every = None;
    o.redirect_outbound = Some(receiver.addr);
    o.config_dir = Some(root().join(FIXTURE_CONFIG_DIR));
    for (k, v) in [
        ("api_keys", fixture_api_keys()),
        ("notification_ops_webhook_url", WEBHOOK_URL.to_string()),
        (
            "notification_ops_webhook_headers",
            format!(r#"{{"X-Receiver-Token": "{WEBHOOK_HEADER_SECRET}"}}"#),
        ),
        // Tests sweep explicitly unless they test the safety net.
        ("sweep_overdue_seconds", "0".to_string()),
    ] {
        o.variables.insert(k.to_string(), v);
    }
    o
}

pub fn host_with(absent_cas: AbsentCas, tweak: impl FnOnce(&mut HostOptions)) -> TestHost {
    let receiver = Receiver::start().unwrap();
    let mut o = options(absent_cas, &receiver);
    tweak(&mut o);
    let running = start(o).unwrap();
    let client = Client::new(&running.url());
    TestHost {
        running,
        receiver,
        client,
    }
}

pub fn host(absent_cas: AbsentCas) -> TestHost {
    host_with(absent_cas, |_| {})
}
