//! Pausing through the API and maintenance windows from the config: transitions are still
//! recorded (history stays true), nobody is told, and the dashboard says why.

use super::support::{config_dir, fixture_config, host_with, TestHost};
use heartbeat_host::kv::AbsentCas;

const ADMIN: &str = "admin-key-5e1f";

fn host() -> TestHost {
    let mut services = fixture_config("services.json");
    // bravo is always in maintenance: a window starting every minute that lasts two.
    services["services"][1]["maintenance"] =
        serde_json::json!([{ "expression": "* * * * *", "timezone": "UTC", "duration": 120 }]);
    let dir = config_dir(
        "maintenance",
        &services,
        &fixture_config("notifications.json"),
    );
    host_with(AbsentCas::Exact, move |o| {
        o.config_dir = Some(dir);
        o.variables.insert("admin_api_key".into(), ADMIN.into());
    })
}

fn action(h: &TestHost, id: &str, what: &str, key: Option<&str>) -> heartbeat_conformance::Reply {
    let auth = key.map(|k| format!("Bearer {k}"));
    let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("authorization", a.as_str())).collect();
    h.client
        .request("POST", &format!("/api/services/{id}/{what}"), &headers, b"")
        .unwrap()
}

fn events(h: &TestHost, id: &str) -> Vec<String> {
    h.deliveries()
        .iter()
        .filter(|d| d["service"]["id"] == id)
        .map(|d| d["event"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_paused_service_goes_down_silently_and_is_told_again_after_resume() {
    let h = host();
    assert_eq!(action(&h, "alpha", "pause", None).status, 401);
    assert_eq!(action(&h, "alpha", "pause", Some("wrong")).status, 401);
    assert_eq!(action(&h, "nope", "pause", Some(ADMIN)).status, 404);
    let r = h.client.get("/api/services/alpha/pause").unwrap();
    assert_eq!((r.status, r.header("allow")), (405, Some("POST")));

    h.beat("alpha", "up");
    let r = action(&h, "alpha", "pause", Some(ADMIN));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["paused"], true);
    assert_eq!(h.client.service_status("alpha").unwrap()["paused"], true);

    h.advance(61);
    let sweep = h.sweep();
    assert_eq!(
        sweep["transitions"].as_array().unwrap().len(),
        1,
        "the silence is recorded: {sweep}"
    );
    assert_eq!(h.client.service_status("alpha").unwrap()["status"], "down");
    assert!(
        events(&h, "alpha").is_empty(),
        "nobody is told while paused"
    );
    assert!(h.client.get("/").unwrap().body.contains("<em>paused</em>"));
    assert!(h
        .client
        .get("/services/alpha")
        .unwrap()
        .body
        .contains("Notifications paused since"));

    let r = action(&h, "alpha", "resume", Some(ADMIN));
    assert_eq!((r.status, r.json()["paused"].as_bool()), (200, Some(false)));
    h.beat("alpha", "up");
    assert!(
        events(&h, "alpha").is_empty(),
        "no recovery for a down nobody was told about"
    );
    h.advance(61);
    h.sweep();
    assert_eq!(
        events(&h, "alpha"),
        ["down"],
        "after resume, silence is told again"
    );
    // The list of services still comes from the dashboard.
    assert_eq!(h.client.get("/api/services").unwrap().status, 200);
}

#[test]
fn pausing_is_off_without_an_admin_key() {
    let h = super::support::host(AbsentCas::Exact);
    let r = action(&h, "alpha", "pause", Some("anything"));
    assert_eq!(r.status, 403);
    assert!(r.error().contains("ADMIN_API_KEY"), "{}", r.body);
}

#[test]
fn a_service_in_a_maintenance_window_is_recorded_but_not_notified() {
    let h = host();
    h.beat("bravo", "up");
    h.beat("bravo", "down");
    h.advance(61);
    h.sweep();
    assert!(
        events(&h, "bravo").is_empty(),
        "maintenance holds the notifications"
    );
    let s = h.client.service_status("bravo").unwrap();
    assert_eq!(
        (s["status"].as_str(), s["maintenance"].as_bool()),
        (Some("down"), Some(true))
    );
    let transitions = h.client.get("/services/bravo").unwrap().body;
    assert!(
        transitions.contains("In a maintenance window"),
        "the page says why"
    );
    // Outside its window, charlie is told as usual.
    h.beat("charlie", "up");
    h.beat("charlie", "down");
    assert_eq!(events(&h, "charlie"), ["down"]);
}
