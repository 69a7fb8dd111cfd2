//! A generated fleet for the load and crash tests: `n` services `svc-NN` with keys `key-NN`,
//! one webhook channel for every event and no cooldown, so each transition is one delivery.

use super::support::config_dir;
use heartbeat_conformance::receiver::Receiver;
use heartbeat_core::layout::{state_key, transitions_key, Stored, TransitionLog};
use heartbeat_core::model::{ServiceState, Status};
use heartbeat_host::kv::Backend;
use serde_json::{json, Value};
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

/// A told transition: service, event, when, and the status it left (two transitions in one
/// millisecond may share the rest).
pub type Told = (String, String, i64, String);

/// Read every service's state and history straight from the store and check them: each
/// decodes, nothing is left unsent, each history is one unbroken chain ending in the state's
/// status, and services from `steady` on (which only ever said up) have one transition.
/// Returns the transitions a channel for every event must have been told, once each.
pub fn check_histories(store: &dyn Backend, services: usize, steady: usize) -> Vec<Told> {
    let mut expected = Vec::new();
    for i in 0..services {
        let raw = store.get("default", &state_key(&id(i))).unwrap();
        let Some(raw) = raw else { continue };
        let state: ServiceState = serde_json::from_slice(&raw).expect("state decodes");
        assert!(
            state.notified.unsent.is_empty(),
            "{}: changes left unsent: {:?}",
            id(i),
            state.notified.unsent
        );
        let transitions = TransitionLog::from_bytes(
            &store
                .get("default", &transitions_key(&id(i)))
                .unwrap()
                .expect("a service with a state has a history"),
        )
        .expect("history decodes");
        let mut previous = Status::Unknown;
        for (n, t) in transitions.transitions.iter().enumerate() {
            assert!(
                t.from == previous,
                "{}: history breaks at {n}: {:?}",
                id(i),
                transitions.transitions
            );
            previous = t.to;
            if let Some(event) = t.event() {
                expected.push((
                    id(i),
                    event.as_str().to_string(),
                    t.at,
                    t.from.as_str().to_string(),
                ));
            }
        }
        if i >= steady {
            assert_eq!(transitions.transitions.len(), 1, "{}: only ever up", id(i));
        }
        assert_eq!(state.status, previous, "{}: state and history agree", id(i));
    }
    expected
}

/// What the webhook receiver was told, in order. A request cut off mid-body (by a kill) is no
/// delivery, as a vendor would reject it too; the second value counts those.
pub fn told(receiver: &Receiver) -> (Vec<Told>, usize) {
    let received = receiver.received();
    let told: Vec<Told> = received
        .iter()
        .map(|r| r.json())
        .filter(|b: &Value| !b.is_null())
        .map(|b| told_of(&b))
        .collect();
    let cut_off = received.len() - told.len();
    (told, cut_off)
}

/// Each whole delivery's event id, with what it told.
pub fn event_ids(receiver: &Receiver) -> Vec<(String, Told)> {
    receiver
        .received()
        .iter()
        .map(|r| r.json())
        .filter(|b: &Value| !b.is_null())
        .map(|b| (b["eventId"].as_str().unwrap().to_string(), told_of(&b)))
        .collect()
}

fn told_of(b: &Value) -> Told {
    let at = chrono::DateTime::parse_from_rfc3339(b["at"].as_str().unwrap())
        .unwrap()
        .timestamp_millis();
    (
        b["service"]["id"].as_str().unwrap().to_string(),
        b["event"].as_str().unwrap().to_string(),
        at,
        b["previousStatus"].as_str().unwrap().to_string(),
    )
}

/// Every transition in `expected` was told at least as often as it occurs there, and nothing
/// else was told. Returns how many messages were repeats.
pub fn assert_told_all(told: &[Told], expected: &[Told]) -> usize {
    let count = |list: &[Told]| {
        let mut counts: BTreeMap<Told, usize> = BTreeMap::new();
        for t in list {
            *counts.entry(t.clone()).or_default() += 1;
        }
        counts
    };
    let (told_counts, expected_counts) = (count(told), count(expected));
    let missed: Vec<_> = expected_counts
        .iter()
        .filter(|(t, n)| told_counts.get(*t).copied().unwrap_or(0) < **n)
        .collect();
    let invented: Vec<_> = told_counts
        .keys()
        .filter(|t| !expected_counts.contains_key(*t))
        .collect();
    assert!(missed.is_empty(), "transitions never told: {missed:?}");
    assert!(
        invented.is_empty(),
        "told but not in any history: {invented:?}"
    );
    told.len() - expected.len()
}

impl Drop for Fleet {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.config);
    }
}
