//! The black-box suite against heartbeat-host: each scenario on a fresh store, with the exact
//! store and with the Spin-like one (CAS on an absent key is an upsert).

use super::support::{host, secrets};
use heartbeat_conformance::SCENARIOS;
use heartbeat_host::kv::AbsentCas;

fn run(name: &str, absent: AbsentCas) {
    let scenario = SCENARIOS
        .iter()
        .find(|s| s.name == name)
        .expect("scenario exists");
    let h = host(absent);
    if let Err(e) = (scenario.run)(&h.client) {
        panic!("{name} ({absent:?} store): {e:#}");
    }
    for body in h.client.bodies() {
        for secret in secrets() {
            assert!(
                !body.contains(&secret),
                "{name}: a response contained a secret"
            );
        }
    }
}

macro_rules! scenarios {
    ($($name:ident),* $(,)?) => {
        mod exact_store {
            $(#[test] fn $name() { super::run(stringify!($name), super::AbsentCas::Exact) })*
        }
        mod spin_like_store {
            $(#[test] fn $name() { super::run(stringify!($name), super::AbsentCas::Upsert) })*
        }
        /// Adding a scenario to the suite without listing it here is a test failure.
        #[test]
        fn every_scenario_runs_here() {
            let listed = [$(stringify!($name)),*];
            for s in SCENARIOS {
                assert!(listed.contains(&s.name), "scenario {} is not run against heartbeat-host", s.name);
            }
        }
    };
}

scenarios!(
    heartbeats_are_reflected_in_status_and_logs,
    bad_input_is_rejected_and_changes_nothing,
    concurrent_heartbeats_over_eight_services_lose_nothing,
    concurrent_heartbeats_onto_one_service_lose_nothing,
    read_endpoints_answer_the_documented_shapes,
    dashboard_pages_badges_and_metrics_answer,
);
