//! heartbeat-core's own cost of the fleet-wide routes — `GET /api/status`, `GET /`,
//! `GET /metrics` and the sweep — at 8, 1,000 and 10,000 services on the in-memory store, next to
//! a heartbeat's: what every host pays before its store, wasm and HTTP costs. On a fresh fleet
//! every service has beaten twice and one in ten has been down and back; on a lived-in one every
//! service has also been down and back 20 times and has a full delivery log. Prints figures
//! (mean of `BENCH_ROUNDS`, default 20; `BENCH_SIZES=1000` for one size);
//! `cargo bench -p heartbeat-core --bench reads`.

use heartbeat_core::api::fleet::Fleet;
use heartbeat_core::api::Request;
use heartbeat_core::layout::MAX_DELIVERY_RECORDS;
use heartbeat_core::store::MemoryStore;
use std::time::Instant;

const START: i64 = 1_764_000_000_000;

fn main() {
    let rounds: u32 = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let routes = [
        "heartbeat",
        "GET /api/status",
        "GET /",
        "GET /metrics",
        "sweep",
    ];
    println!(
        "heartbeat-core alone, in-memory store, release build (ms per request, mean of {rounds})"
    );
    println!();
    println!("| fleet | services | {} |", routes.join(" | "));
    println!("|---|---|{}", "---|".repeat(routes.len()));
    // BENCH_SIZES=1000 for one fleet size.
    let sizes: Vec<usize> = std::env::var("BENCH_SIZES")
        .ok()
        .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![8, 1_000, 10_000]);
    for (history, flaps) in [("fresh", 0), ("lived-in", 20)] {
        for &n in &sizes {
            measure(n, history, flaps, rounds);
        }
    }
}

fn measure(n: usize, history: &str, flaps: usize, rounds: u32) {
    let fleet = Fleet::swept_on_demand(n);
    let store = MemoryStore::default();
    let call = |at: i64, req: &Request| fleet.ok(&store, at, req);
    for i in 0..n {
        call(START, &Fleet::beat(i));
    }
    for i in (0..n).step_by(10) {
        call(START + 60_000, &Fleet::beat_status(i, "down"));
        call(START + 120_000, &Fleet::beat(i));
    }
    let mut now = START + 180_000;
    if flaps > 0 {
        now += 2 * 60_000 * flaps as i64;
        fleet.live_in(&store, flaps, MAX_DELIVERY_RECORDS, now);
    }
    let time = |req: &dyn Fn(u32) -> Request| {
        let started = Instant::now();
        for r in 0..rounds {
            call(now, &req(r));
        }
        started.elapsed().as_secs_f64() * 1e3 / f64::from(rounds)
    };
    let cells = [
        time(&|r| Fleet::beat(r as usize % n)),
        time(&|_| Fleet::get("/api/status")),
        time(&|_| Fleet::get("/")),
        time(&|_| Fleet::get("/metrics")),
        time(&|_| Fleet::sweep()),
    ];
    let cells: Vec<String> = cells.iter().map(|ms| format!("{ms:.2}")).collect();
    println!("| {history} | {n} | {} |", cells.join(" | "));
}
