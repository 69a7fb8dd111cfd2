//! The black-box conformance suite: the API contract of DESIGN §3 checked over real HTTP
//! against any base URL, so heartbeat-host, `wrangler dev` and `spin up` run the very same
//! scenarios. The host under test must be started with the fixture configuration
//! (`tests/fixtures/config`) and `API_KEYS` set to [`fixture_api_keys`]; the suite assumes
//! nothing else, so it also holds on a store that earlier scenarios used.
//!
//! Scenarios that need a movable clock or `kill -9` live with heartbeat-host's own tests.

pub mod capture;
pub mod channels;
pub mod client;
pub mod receiver;
pub mod redis;
pub mod scenarios;

pub use client::{Client, Reply};
pub use scenarios::{Scenario, SCENARIOS};

use std::collections::BTreeMap;

/// The services of the fixture configuration, in order.
pub const FIXTURE_SERVICES: [&str; 8] = [
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
];

/// The heartbeat key of a fixture service (`key-<id>`).
pub fn fixture_key(service: &str) -> String {
    format!("key-{service}")
}

/// `API_KEYS` for the fixture services, as the host under test must be given it.
pub fn fixture_api_keys() -> String {
    let keys: BTreeMap<_, _> = FIXTURE_SERVICES
        .iter()
        .map(|s| (s.to_string(), fixture_key(s)))
        .collect();
    serde_json::to_string(&keys).expect("json")
}

/// Path of the fixture configuration directory, from the repository root.
pub const FIXTURE_CONFIG_DIR: &str = "tests/fixtures/config";

/// A `services.json` every host must refuse, and the error that names its bad field.
pub const INVALID_SERVICES: &str =
    r#"{"services": [{"id": "a"}, {"id": "b", "stalenessThreshold": -5}]}"#;
pub const INVALID_SERVICES_ERROR: &str =
    "services.json: services[1].stalenessThreshold: must be a positive integer";

/// Run every scenario against `base_url`; returns (name, outcome) per scenario.
pub fn run_all(base_url: &str) -> Vec<(&'static str, anyhow::Result<()>)> {
    SCENARIOS
        .iter()
        .map(|s| (s.name, (s.run)(&Client::new(base_url))))
        .collect()
}

/// A loopback port that nothing listens on right now, for a server a test starts itself.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}
