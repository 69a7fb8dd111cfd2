//! What one heartbeat costs the key-value store, counted through the real API path
//! (`POST /api/heartbeat` → `api::ingest::handle`): the same whatever the number of services
//! and however long the history, and never more than three writes (DESIGN §4). Prints the
//! counts (`cargo test -p heartbeat-core --test store_ops -- --nocapture`).

use heartbeat_core::api::fleet::Fleet;
use heartbeat_core::store::counted::Counted;

/// (reads, writes, of which compare-and-swaps) of one steady heartbeat to `svc-0`, with
/// `services` configured and `history` heartbeats already recorded for it.
fn one_beat(services: usize, history: usize) -> (u64, u64, u64) {
    let vars = [("SWEEP_OVERDUE_SECONDS".to_string(), "0".to_string())].into();
    let fleet = Fleet::new(services, vars);
    let store = Counted::default();
    let beat = |at: i64| {
        let res = fleet.answer(&store, at, &Fleet::beat(0));
        assert_eq!(res.status, 200, "{}", String::from_utf8_lossy(&res.body));
    };
    let start = 1_764_000_000_000;
    for i in 0..history {
        beat(start + i as i64 * 1000);
    }
    store.reset();
    beat(start + history as i64 * 1000);
    (store.reads.get(), store.writes.get(), store.swaps.get())
}

#[test]
fn a_heartbeat_costs_the_same_store_work_for_any_fleet_or_history() {
    let cases = [(1, 10), (1_000, 10), (1, 10_000), (1_000, 10_000)];
    let counts: Vec<_> = cases.iter().map(|&(s, h)| one_beat(s, h)).collect();
    println!("| services | history | reads | writes | of which CAS |\n|---|---|---|---|---|");
    for ((services, history), (reads, writes, swaps)) in cases.iter().zip(&counts) {
        println!("| {services} | {history} | {reads} | {writes} | {swaps} |");
    }
    assert!(
        counts.iter().all(|c| *c == counts[0]),
        "the cost must not depend on fleet size or history: {counts:?}"
    );
    assert!(counts[0].1 <= 3, "at most three writes: {counts:?}");
}
