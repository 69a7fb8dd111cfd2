//! Properties of the state machine and storage layout, over any sequence of heartbeats, sweeps
//! and clock steps: every transition that means an event is told exactly once (no more when a
//! sweep is repeated) — except a silence first noticed by the heartbeat that ends it, which is
//! recorded but not told (its recovery says how long it lasted) — history is ordered, and uptime
//! stays within 0–100 %.

use heartbeat_core::clock::ManualClock;
use heartbeat_core::layout::{Layout, Rules};
use heartbeat_core::model::{Event, LogEntry, Status};
use heartbeat_core::schedule::Schedule;
use heartbeat_core::state::Policy;
use heartbeat_core::store::MemoryStore;
use heartbeat_core::uptime::{Timeline, WINDOWS};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Beat(Status),
    Wait(i64),
    Sweep,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => prop_oneof![Just(Status::Up), Just(Status::Down), Just(Status::Degraded)].prop_map(Op::Beat),
        3 => (0i64..200_000).prop_map(Op::Wait),
        2 => Just(Op::Sweep),
    ]
}

const ID: &str = "svc";

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn every_transition_is_told_exactly_once_and_uptime_stays_in_range(
        ops in proptest::collection::vec(op(), 1..60),
        spin_like in any::<bool>(),
        confirmations in 1u32..3,
    ) {
        let store = if spin_like { MemoryStore::spin_like() } else { MemoryStore::default() };
        let layout = Layout { max_log_entries: 100 };
        let schedule = Schedule::threshold(60).confirmed(confirmations);
        let rules = Rules {
            schedule: &schedule,
            policy: Policy { cooldown_ms: 0, quiet: false },
            wanted: &|_| true,
        };
        let mut now = 1_000_000i64;
        let mut told: Vec<Event> = Vec::new();
        // The events each claimed change should tell, from its own transitions.
        let mut expected: Vec<Event> = Vec::new();
        for op in &ops {
            let clock = ManualClock::at(now);
            match op {
                Op::Beat(status) => {
                    let entry = LogEntry::new(now, *status, None, None);
                    let recorded = layout.record_heartbeat(&store, &clock, ID, entry, &rules).unwrap();
                    if let Some(change) = recorded.change {
                        expected.extend(
                            change
                                .transitions
                                .iter()
                                .filter(|t| t.reason != heartbeat_core::model::Reason::Silence)
                                .filter_map(|t| t.event()),
                        );
                        told.extend(change.notify);
                    }
                }
                Op::Wait(ms) => now += ms,
                Op::Sweep => {
                    for _ in 0..2 {
                        if let Some(change) = layout.record_silence(&store, &clock, ID, now, &rules).unwrap() {
                            expected.extend(change.transitions.iter().filter_map(|t| t.event()));
                            told.extend(change.notify);
                        }
                    }
                }
            }
            now += 1;
        }
        let history = layout.histories(&store, &[ID]).unwrap().remove(0);
        prop_assert!(history.windows(2).all(|w| w[0].at <= w[1].at), "history is ordered");
        prop_assert!(history.windows(2).all(|w| w[0].to == w[1].from), "each transition starts where the last ended");
        prop_assert_eq!(&told, &expected, "told exactly once, in order");
        let recorded: usize = history.iter().filter(|t| t.event().is_some()).count();
        prop_assert!(told.len() <= recorded, "never more than the history holds");

        let state = layout.states(&store, &[ID]).unwrap().remove(0);
        let timeline = Timeline::new(&history, state.as_ref(), &schedule, now);
        for (_, window) in WINDOWS {
            if let Some(p) = timeline.percent(window) {
                prop_assert!((0.0..=100.0).contains(&p), "uptime {} out of range", p);
            }
        }
        for day in timeline.days(90) {
            if let Some(p) = day.tally.percent() {
                prop_assert!((0.0..=100.0).contains(&p));
            }
        }
    }
}
