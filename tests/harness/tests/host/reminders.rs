//! Reminders: a channel with `remindEvery` hears again, at that interval, about a service that
//! stays down — once per interval however many sweeps run — and stops when it recovers.

use super::support::{config_dir, fixture_config, host_with, TestHost};
use heartbeat_host::kv::AbsentCas;

fn host() -> TestHost {
    let mut notifications = fixture_config("notifications.json");
    notifications["channels"][0]["remindEvery"] = serde_json::json!(600);
    let dir = config_dir(
        "reminders",
        &fixture_config("services.json"),
        &notifications,
    );
    host_with(AbsentCas::Exact, move |o| o.config_dir = Some(dir))
}

/// (event, reminder?) of each webhook delivery about alpha, in order.
fn told(h: &TestHost) -> Vec<(String, bool)> {
    h.deliveries()
        .iter()
        .filter(|d| d["service"]["id"] == "alpha")
        .map(|d| {
            (
                d["event"].as_str().unwrap().to_string(),
                d["reminder"].as_bool().unwrap_or(false),
            )
        })
        .collect()
}

#[test]
fn a_service_that_stays_down_is_reminded_at_the_interval_until_it_recovers() {
    let h = host();
    h.beat("alpha", "up");
    h.advance(61);
    h.sweep();
    assert_eq!(told(&h), [("down".to_string(), false)]);

    h.advance(300);
    h.sweep();
    assert_eq!(told(&h).len(), 1, "not yet: 5 of 10 minutes");
    h.advance(301);
    let sweep = h.sweep();
    h.sweep();
    assert_eq!(sweep["reminders"].as_array().unwrap().len(), 1, "{sweep}");
    assert_eq!(
        told(&h),
        [("down".to_string(), false), ("down".to_string(), true)],
        "one reminder, however many sweeps"
    );
    let reminder = h.deliveries().last().cloned().unwrap();
    assert!(reminder["downSince"].is_string(), "{reminder}");

    h.advance(600);
    h.sweep();
    assert_eq!(told(&h).len(), 3, "and again ten minutes later");

    h.beat("alpha", "up");
    let events: Vec<String> = told(&h).into_iter().map(|(e, _)| e).collect();
    assert_eq!(events, ["down", "down", "down", "up"]);
    // Within the threshold (60 s) nothing more is due: no reminder after the recovery.
    h.advance(50);
    h.sweep();
    assert_eq!(told(&h).len(), 4);
}
