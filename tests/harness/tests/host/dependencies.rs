//! Dependencies: while a parent is down its children's `down` is held and counted in the
//! parent's notification; a child still down once the parent is back is told on its own.

use super::support::{config_dir, fixture_config, host_with, TestHost};
use heartbeat_host::kv::AbsentCas;
use serde_json::json;

fn key(id: &str) -> String {
    format!("dep-key-{id}")
}

fn host() -> TestHost {
    let services = json!({ "services": [
        { "id": "db", "name": "Database", "stalenessThreshold": 600 },
        { "id": "api", "name": "API", "stalenessThreshold": 600, "dependsOn": ["db"] },
        { "id": "worker", "name": "Worker", "stalenessThreshold": 60, "dependsOn": ["db"] },
    ]});
    let dir = config_dir("deps", &services, &fixture_config("notifications.json"));
    let keys = json!({ "db": key("db"), "api": key("api"), "worker": key("worker") }).to_string();
    host_with(AbsentCas::Exact, move |o| {
        o.config_dir = Some(dir);
        o.variables.insert("api_keys".into(), keys);
    })
}

fn pair(id: &str, event: &str) -> (String, String) {
    (id.to_string(), event.to_string())
}

#[test]
fn a_parent_outage_holds_its_childrens_alerts_and_releases_those_still_down() {
    let h = host();
    for id in ["db", "api", "worker"] {
        h.beat_with(&key(id), id, "up");
    }
    h.beat_with(&key("db"), "db", "down");
    assert_eq!(h.told(), [pair("db", "down")]);
    let db_down = h.deliveries()[0].clone();
    assert_eq!(db_down["dependents"], json!(["API", "Worker"]), "{db_down}");

    // While the database is down, the API failing and the worker going silent are recorded
    // but held.
    h.beat_with(&key("api"), "api", "down");
    h.advance(61);
    h.sweep();
    assert_eq!(h.client.service_status("worker").unwrap()["status"], "down");
    assert_eq!(h.told(), [pair("db", "down")], "children's alerts are held");

    // The worker recovers before the database: nobody hears of its outage at all.
    h.beat_with(&key("worker"), "worker", "up");
    h.beat_with(&key("db"), "db", "up");
    assert_eq!(h.told(), [pair("db", "down"), pair("db", "up")]);

    // The API is still down on its own: the next sweep tells, once.
    h.sweep();
    h.sweep();
    assert_eq!(
        h.told(),
        [pair("db", "down"), pair("db", "up"), pair("api", "down")]
    );
    h.beat_with(&key("api"), "api", "up");
    assert_eq!(
        h.told().last(),
        Some(&pair("api", "up")),
        "its recovery is told too"
    );
}

#[test]
fn a_dependency_cycle_stops_start_up() {
    let services = json!({ "services": [
        { "id": "a", "dependsOn": ["b"] },
        { "id": "b", "dependsOn": ["a"] },
    ]});
    let dir = config_dir(
        "deps-cycle",
        &services,
        &fixture_config("notifications.json"),
    );
    let mut o = super::support::options(
        AbsentCas::Exact,
        &heartbeat_conformance::receiver::Receiver::start().unwrap(),
    );
    o.config_dir = Some(dir.clone());
    let e = heartbeat_host::prepare(&o)
        .err()
        .expect("a cycle is refused");
    assert!(
        format!("{e:#}").contains("dependsOn: depends on itself"),
        "{e:#}"
    );
    let _ = std::fs::remove_dir_all(dir);
}
