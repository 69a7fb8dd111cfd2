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

/// Bytes read by `/api/status`, the overview and `/metrics` over `services` that have flapped
/// and recorded `deliveries` delivery records each.
fn fleet_read_bytes(services: usize, deliveries: usize) -> Vec<u64> {
    let vars = [("SWEEP_OVERDUE_SECONDS".to_string(), "0".to_string())].into();
    let fleet = Fleet::new(services, vars);
    let store = Counted::default();
    let now = 1_764_000_000_000;
    fleet.live_in(&store, 3, deliveries, now);
    ["/api/status", "/", "/metrics"]
        .iter()
        .map(|path| {
            store.reset();
            fleet.ok(&store, now, &Fleet::get(path));
            store.bytes_read.get()
        })
        .collect()
}

#[test]
fn whole_fleet_reads_do_not_read_the_delivery_logs() {
    use heartbeat_core::layout::MAX_DELIVERY_RECORDS;
    let services = 20;
    let few = fleet_read_bytes(services, 2);
    let full = fleet_read_bytes(services, MAX_DELIVERY_RECORDS);
    println!("bytes read (status, overview, metrics): {few:?} with 2 deliveries each, {full:?} with {MAX_DELIVERY_RECORDS}");
    for (few, full) in few.iter().zip(&full) {
        // Only the per-channel counters' digits may grow.
        assert!(
            full - few <= 16 * services as u64,
            "the delivery log is read: {few} bytes with 2 records, {full} with a full log"
        );
    }
}
