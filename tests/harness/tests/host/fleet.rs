//! A generated fleet for the load and crash tests: `n` services `svc-NN` with keys `key-NN`,
//! one webhook channel for every event and no cooldown, so each transition is one delivery.

use super::support::config_dir;
use serde_json::json;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

pub fn id(i: usize) -> String {
    format!("svc-{i:02}")
}

pub fn key(i: usize) -> String {
    format!("key-{i:02}")
}

/// A test's knob from the environment (`CRASH_ROUNDS`, `LOAD_SECONDS`, …), or its default.
pub fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub struct Fleet {
    /// Configuration directory; `data/` inside it holds the store.
    pub config: PathBuf,
    pub keys: BTreeMap<String, String>,
}

impl Fleet {
    pub fn new(name: &str, n: usize) -> Fleet {
        let services: Vec<_> = (0..n)
            .map(
                |i| json!({"id": id(i), "name": format!("Service {i}"), "stalenessThreshold": 300}),
            )
            .collect();
        let config = config_dir(
            name,
            &json!({ "services": services }),
            &json!({
                "enabled": true,
                "channels": [{"type": "webhook", "name": "ops-webhook", "enabled": true, "config": {}}],
                "settings": {"cooldownMinutes": 0}
            }),
        );
        Fleet {
            config,
            keys: (0..n).map(|i| (id(i), key(i))).collect(),
        }
    }

    pub fn data(&self) -> PathBuf {
        self.config.join("data")
    }

    /// Settings for a host whose webhook goes to `receiver` and whose vendor calls time out
    /// after `timeout_ms`; a log long enough to check every beat; no sweeps unless asked.
    pub fn variables(&self, receiver: SocketAddr, timeout_ms: u64) -> Vec<(&'static str, String)> {
        vec![
            ("api_keys", serde_json::to_string(&self.keys).unwrap()),
            (
                "notification_ops_webhook_url",
                format!("http://{receiver}/hook"),
            ),
            ("request_timeout", timeout_ms.to_string()),
            ("max_log_entries", "1000".to_string()),
            ("sweep_overdue_seconds", "0".to_string()),
        ]
    }

    /// Every acknowledged message is in its service's log, and nothing else is: `acked` holds
    /// (service index, message) pairs.
    pub fn check_logs(
        &self,
        client: &heartbeat_conformance::Client,
        acked: &[(usize, String)],
        exact: bool,
    ) {
        let mut by_service: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
        for (i, m) in acked {
            by_service.entry(*i).or_default().push(m);
        }
        for (i, messages) in by_service {
            let logged: Vec<String> = client
                .logs(&id(i))
                .unwrap()
                .iter()
                .filter(|e| e["kind"] == "heartbeat")
                .filter_map(|e| e["message"].as_str().map(str::to_string))
                .collect();
            assert!(
                logged.len() < 1000,
                "{}: the log is full, so the check would be partial; use more services",
                id(i)
            );
            let set: std::collections::BTreeSet<&str> = logged.iter().map(String::as_str).collect();
            for m in &messages {
                assert!(set.contains(m), "{}: acknowledged beat {m} lost", id(i));
            }
            if exact {
                assert_eq!(
                    logged.len(),
                    messages.len(),
                    "{}: the log holds beats nobody acknowledged, or one twice",
                    id(i)
                );
            }
        }
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.config);
    }
}
