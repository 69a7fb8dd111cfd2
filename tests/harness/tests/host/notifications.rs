//! Silence, sweeps and notifications with a movable clock: each transition is told exactly
//! once, cooldown holds back repeats but never a recovery from a notified down.

use super::support::{host, host_with, secrets, WEBHOOK_HEADER_SECRET};
use heartbeat_conformance::FIXTURE_SERVICES;
use heartbeat_host::kv::AbsentCas;
use std::sync::{Arc, Barrier};

#[test]
fn silence_is_down_at_read_time_and_after_a_sweep_and_notified_once() {
    let h = host(AbsentCas::Exact);
    h.beat("alpha", "up");
    h.advance(61);
    let s = h.client.service_status("alpha").unwrap();
    assert_eq!(s["status"], "down", "staleness applies at read time");
    assert!(
        h.deliveries().is_empty(),
        "reading the status notifies nobody"
    );

    let sweep = h.sweep();
    assert_eq!(sweep["transitions"].as_array().unwrap().len(), 1, "{sweep}");
    assert_eq!(sweep["transitions"][0]["serviceId"], "alpha");
    assert_eq!(
        sweep["transitions"][0]["deliveries"][0]["ok"], true,
        "{sweep}"
    );
    assert_eq!(h.told(), [("alpha".to_string(), "down".to_string())]);
    assert_eq!(h.client.service_status("alpha").unwrap()["status"], "down");

    let d = &h.receiver.received()[0];
    assert_eq!(d.method, "POST");
    assert_eq!(
        d.path, "/T000/secret-webhook-token",
        "the configured URL's path"
    );
    assert_eq!(d.header("host"), Some("hooks.example.invalid"));
    assert_eq!(d.header("x-receiver-token"), Some(WEBHOOK_HEADER_SECRET));
    assert_eq!(d.json()["previousStatus"], "up");
    assert_eq!(d.json()["reason"], "silence");

    h.sweep();
    h.advance(600);
    h.sweep();
    assert_eq!(
        h.told().len(),
        1,
        "a down is told once, however many sweeps follow"
    );

    h.beat("alpha", "up");
    assert_eq!(
        h.told(),
        [
            ("alpha".to_string(), "down".to_string()),
            ("alpha".to_string(), "up".to_string())
        ],
        "the recovery is noticed by the heartbeat itself"
    );
    h.beat("alpha", "up");
    assert_eq!(h.told().len(), 2, "an up while up is no event");
    assert_eq!(h.client.service_status("alpha").unwrap()["status"], "up");
}

#[test]
fn cooldown_suppresses_a_repeated_down_but_never_the_recovery_from_a_notified_one() {
    let h = host(AbsentCas::Exact);
    let alpha = |e: &str| ("alpha".to_string(), e.to_string());
    h.beat("alpha", "up");
    h.beat("alpha", "degraded");
    h.beat("alpha", "up");
    h.beat("alpha", "down");
    h.beat("alpha", "up");
    assert_eq!(
        h.told(),
        [alpha("degraded"), alpha("up"), alpha("down"), alpha("up")],
        "the second up falls inside the cooldown of the first, yet ends a notified down"
    );
    h.beat("alpha", "down");
    h.beat("alpha", "up");
    assert_eq!(
        h.told().len(),
        4,
        "a repeated down inside the cooldown is held back"
    );

    // Let the cooldown pass without ever going silent (threshold 60 s).
    for _ in 0..6 {
        h.advance(55);
        h.beat("alpha", "up");
    }
    h.beat("alpha", "down");
    assert_eq!(
        h.told().last(),
        Some(&alpha("down")),
        "after the cooldown a down is told again"
    );
    assert_eq!(h.told().len(), 5);
}

fn overlapping_sweeps(absent: AbsentCas) {
    let h = host(absent);
    for s in FIXTURE_SERVICES {
        h.beat(s, "up");
    }
    h.advance(61);
    let barrier = Arc::new(Barrier::new(8));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (c, b) = (h.client.clone(), barrier.clone());
            std::thread::spawn(move || {
                b.wait();
                let r = c.request("POST", "/api/sweep", &[], &[]).unwrap();
                assert_eq!(r.status, 200, "{}", r.body);
                r.json()["transitions"].as_array().unwrap().len()
            })
        })
        .collect();
    let claimed: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(claimed, 8, "the sweeps together claim each transition once");
    let mut got = h.told();
    got.sort();
    let want: Vec<_> = FIXTURE_SERVICES
        .iter()
        .map(|s| (s.to_string(), "down".to_string()))
        .collect();
    assert_eq!(got, want, "one down per service, no duplicates");
}

#[test]
fn overlapping_sweeps_notify_each_transition_once() {
    overlapping_sweeps(AbsentCas::Exact);
}

#[test]
fn overlapping_sweeps_notify_each_transition_once_on_a_spin_like_store() {
    overlapping_sweeps(AbsentCas::Upsert);
}

#[test]
fn an_overdue_sweep_runs_from_any_request() {
    let h = host_with(AbsentCas::Exact, |o| {
        o.variables
            .insert("sweep_overdue_seconds".into(), "120".into());
    });
    h.beat("alpha", "up");
    h.advance(200);
    assert!(h.deliveries().is_empty());
    let r = h.client.get("/api/status").unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(h.told(), [("alpha".to_string(), "down".to_string())]);
    h.client.get("/api/status").unwrap();
    assert_eq!(
        h.told().len(),
        1,
        "the claim keeps a second request from sweeping again"
    );
}

#[test]
fn a_failing_channel_is_reported_without_its_secrets() {
    let h = host(AbsentCas::Exact);
    h.receiver.respond_with(500);
    h.beat("alpha", "up");
    h.advance(61);
    let sweep = h.sweep();
    let d = &sweep["transitions"][0]["deliveries"][0];
    assert_eq!(d["ok"], false, "{sweep}");
    assert_eq!(d["httpStatus"], 500);
    assert!(d["error"].as_str().unwrap().contains("500"), "{d}");
    let text = sweep.to_string();
    for s in secrets() {
        assert!(!text.contains(&s), "sweep result leaked a secret");
    }
    assert_eq!(
        h.client.service_status("alpha").unwrap()["status"],
        "down",
        "state moves on"
    );
}
