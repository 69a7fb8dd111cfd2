//! The sweep over 10,000 services through `POST /api/sweep`: time, and what it writes — only
//! what changed (each newly silent service's state, history and settle, plus the sweep mark). Prints figures; asserts
//! only the write count, which is exact. `cargo bench -p heartbeat-core --bench sweep`.

use heartbeat_core::api::fleet::Fleet;
use heartbeat_core::api::Request;
use heartbeat_core::store::MemoryStore;
use std::time::Instant;

const SERVICES: usize = 10_000;
/// Services that stop beating before the second sweep.
const SILENT: usize = 100;
const START: i64 = 1_764_000_000_000;

fn main() {
    let fleet = Fleet::swept_on_demand(SERVICES);
    let store = MemoryStore::default();
    let call = |at: i64, req: &Request| fleet.ok(&store, at, req);
    for i in 0..SERVICES {
        call(START, &Fleet::beat(i));
    }
    // Everyone but the silent ones beats again four minutes later.
    for i in SILENT..SERVICES {
        call(START + 240_000, &Fleet::beat(i));
    }
    println!("sweep of {SERVICES} services (in-memory store, release build)");
    for (what, at, changed) in [
        ("nothing changed", START + 250_000, 0),
        ("100 newly silent", START + 301_000, SILENT),
        ("again, nothing new", START + 302_000, 0),
    ] {
        let writes = store.writes.get();
        let started = Instant::now();
        call(at, &Fleet::sweep());
        let took = started.elapsed();
        let written = store.writes.get() - writes;
        println!(
            "  {what:<20} {:>8.1} ms   {written:>5} writes",
            took.as_secs_f64() * 1e3
        );
        // A newly silent service writes its state and its transitions; then the sweep mark.
        // Per change: the claim, the history, the settle (see heartbeat_core::unsent).
        assert_eq!(written, 3 * changed + 1, "{what}: only changes are written");
    }
}
