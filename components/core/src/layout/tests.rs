use super::heartbeats::chain_order;
use super::*;
use crate::clock::ManualClock;
use crate::model::LogEntry;
use crate::model::{Event, Status};
use crate::state::Policy;
use crate::store::{MemoryStore, Store};

const POLICY: Policy = Policy {
    cooldown_ms: 0,
    quiet: false,
};

#[test]
fn transitions_in_one_millisecond_are_kept_as_a_chain_whatever_order_they_arrive_in() {
    use crate::model::Transition as T;
    let t = |at, from, to| T::by_heartbeat(at, from, to);
    let mut transitions = vec![
        t(5, Status::Up, Status::Down),
        t(9, Status::Degraded, Status::Up),
        t(9, Status::Down, Status::Degraded),
        t(1, Status::Unknown, Status::Up),
        t(9, Status::Up, Status::Down),
    ];
    chain_order(&mut transitions);
    let statuses: Vec<_> = transitions.iter().map(|t| (t.at, t.from, t.to)).collect();
    assert_eq!(
        statuses,
        [
            (1, Status::Unknown, Status::Up),
            (5, Status::Up, Status::Down),
            (9, Status::Down, Status::Degraded),
            (9, Status::Degraded, Status::Up),
            (9, Status::Up, Status::Down),
        ]
    );
}

/// Regression: two transitions with the same statuses in one millisecond were taken for
/// one — the second was dropped from the history and settled with the first.
#[test]
fn repeated_transitions_in_one_millisecond_are_all_kept_in_claim_order() {
    let layout = Layout {
        max_log_entries: 10,
    };
    let store = MemoryStore::default();
    let clock = ManualClock::at(0);
    for status in [Status::Up, Status::Degraded, Status::Up, Status::Degraded] {
        let recorded = beat(&layout, &store, &clock, 7, status);
        assert!(recorded.change.is_some());
    }
    let transitions = &layout.histories(&store, &["svc"]).unwrap()[0];
    let chain: Vec<_> = transitions.iter().map(|t| (t.seq, t.from, t.to)).collect();
    assert_eq!(
        chain,
        [
            (1, Status::Unknown, Status::Up),
            (2, Status::Up, Status::Degraded),
            (3, Status::Degraded, Status::Up),
            (4, Status::Up, Status::Degraded),
        ]
    );
}

static SIXTY: crate::schedule::Schedule = crate::schedule::Schedule {
    kind: crate::schedule::Kind::Period { period_ms: 60_000 },
    grace_ms: 0,
    confirmations: 1,
};
const RULES: Rules<'static> = Rules {
    schedule: &SIXTY,
    policy: POLICY,
    wanted: &|_| true,
};

fn entry(at: i64, status: Status, message: &str) -> LogEntry {
    LogEntry::new(at, status, Some(message.into()), None)
}

fn beat(
    layout: &Layout,
    store: &MemoryStore,
    clock: &ManualClock,
    at: i64,
    status: Status,
) -> Recorded {
    layout
        .record_heartbeat(
            store,
            clock,
            "svc",
            entry(at, status, &format!("m{at}")),
            &RULES,
        )
        .unwrap()
}

#[test]
fn a_steady_heartbeat_costs_three_writes_and_a_transition_four() {
    let layout = Layout {
        max_log_entries: 100,
    };
    let store = MemoryStore::default();
    let clock = ManualClock::at(0);
    beat(&layout, &store, &clock, 1, Status::Up);
    store.writes.set(0);
    beat(&layout, &store, &clock, 2, Status::Up);
    assert_eq!(store.writes.get(), 3);
    store.writes.set(0);
    beat(&layout, &store, &clock, 3, Status::Down);
    assert_eq!(store.writes.get(), 4);
}

#[test]
fn log_keeps_the_newest_entries_in_few_keys() {
    let layout = Layout {
        max_log_entries: 10,
    };
    let store = MemoryStore::default();
    let clock = ManualClock::at(0);
    for at in 1..=57 {
        beat(&layout, &store, &clock, at, Status::Up);
    }
    let log = layout.log(&store, "svc").unwrap();
    assert_eq!(log.len(), 10);
    assert_eq!(log[0].at, 57);
    assert_eq!(log[9].at, 48);
    assert!(store.keys().len() <= 3 + LOG_SLOTS as usize);
}

#[test]
fn silence_is_claimed_once() {
    let layout = Layout {
        max_log_entries: 10,
    };
    let store = MemoryStore::default();
    let clock = ManualClock::at(0);
    beat(&layout, &store, &clock, 0, Status::Up);
    let first = layout
        .record_silence(&store, &clock, "svc", 61_000, &RULES)
        .unwrap();
    assert_eq!(first.unwrap().notify, Some(Event::Down));
    let second = layout
        .record_silence(&store, &clock, "svc", 62_000, &RULES)
        .unwrap();
    assert_eq!(second, None);
    let transitions = layout.histories(&store, &["svc"]).unwrap();
    assert_eq!(transitions[0].len(), 2);
}

#[test]
fn delivery_counters_keep_growing_after_the_log_is_capped() {
    let layout = Layout {
        max_log_entries: 10,
    };
    let store = MemoryStore::default();
    let clock = ManualClock::at(0);
    beat(&layout, &store, &clock, 0, Status::Up);
    let record = |ok: bool| DeliveryRecord {
        at: 1,
        event: Event::Down,
        transition_at: 1,
        channel: "ops".into(),
        channel_type: "webhook".into(),
        ok,
        http_status: None,
        latency_ms: 1,
        attempts: 1,
        error: None,
        tries: Vec::new(),
    };
    let batch: Vec<DeliveryRecord> = (0..MAX_DELIVERY_RECORDS)
        .map(|i| record(i % 4 != 0))
        .collect();
    layout
        .record_deliveries(&store, &clock, "svc", &batch)
        .unwrap();
    layout
        .record_deliveries(&store, &clock, "svc", &batch)
        .unwrap();
    let log = &layout.transition_logs(&store, &["svc"]).unwrap()[0];
    assert_eq!(
        layout.deliveries(&store, "svc").unwrap().len(),
        MAX_DELIVERY_RECORDS
    );
    assert_eq!(
        log.delivered["ops"],
        DeliveryCount {
            ok: 150,
            failed: 50
        }
    );
}

#[test]
fn silence_on_a_never_seen_service_writes_nothing() {
    let layout = Layout {
        max_log_entries: 10,
    };
    let store = MemoryStore::default();
    let clock = ManualClock::at(0);
    assert_eq!(
        layout
            .record_silence(&store, &clock, "new", 1_000_000, &RULES)
            .unwrap(),
        None
    );
    assert!(store.keys().is_empty());
}

#[test]
fn sweep_claim_is_granted_once_per_interval() {
    let layout = Layout {
        max_log_entries: 10,
    };
    let store = MemoryStore::default();
    assert!(layout.claim_sweep(&store, 0, 60_000).unwrap());
    assert!(!layout.claim_sweep(&store, 30_000, 60_000).unwrap());
    assert!(layout.claim_sweep(&store, 60_000, 60_000).unwrap());
}

/// Releases before the deliveries key kept the delivery log among the transitions. Such a log
/// is still shown, survives rewrites of the transitions, and moves to its own key with the
/// service's next delivery.
#[test]
fn a_delivery_log_kept_among_the_transitions_is_shown_kept_and_moved() {
    let layout = Layout {
        max_log_entries: 10,
    };
    let store = MemoryStore::default();
    let clock = ManualClock::at(0);
    let record = |at: i64| DeliveryRecord {
        at,
        event: Event::Down,
        transition_at: at,
        channel: "ops".into(),
        channel_type: "webhook".into(),
        ok: true,
        http_status: Some(200),
        latency_ms: 1,
        attempts: 1,
        error: None,
        tries: Vec::new(),
    };
    let transitions = |store: &MemoryStore| {
        TransitionLog::from_bytes(&store.get(&transitions_key("svc")).unwrap().unwrap()).unwrap()
    };
    beat(&layout, &store, &clock, 1, Status::Up);
    let old = serde_json::json!({
        "flips": transitions(&store).transitions,
        "deliveries": [record(2)],
        "delivered": {"ops": {"ok": 1, "failed": 0}},
    });
    store
        .set(&transitions_key("svc"), old.to_string().as_bytes())
        .unwrap();
    let shown = |store: &MemoryStore| -> Vec<i64> {
        let records = layout.deliveries(store, "svc").unwrap();
        records.iter().map(|r| r.at).collect()
    };
    assert_eq!(shown(&store), [2]);

    beat(&layout, &store, &clock, 3, Status::Down);
    assert_eq!(transitions(&store).transitions.len(), 2);
    assert_eq!(shown(&store), [2], "a transition keeps the old log");

    layout
        .record_deliveries(&store, &clock, "svc", &[record(4)])
        .unwrap();
    assert_eq!(shown(&store), [4, 2]);
    let moved = transitions(&store);
    assert_eq!(moved.unmoved, None);
    assert_eq!(moved.delivered["ops"].ok, 2);
    let log = store.get(&deliveries_key("svc")).unwrap().unwrap();
    assert_eq!(DeliveryLog::from_bytes(&log).unwrap().deliveries.len(), 2);
}
