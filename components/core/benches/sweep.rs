//! The sweep over 10,000 services through `POST /api/sweep`: time, and what it writes — only
//! what changed (each newly silent service, plus the sweep mark). Prints figures; asserts
//! only the write count, which is exact. `cargo bench -p heartbeat-core --bench sweep`.

use heartbeat_core::api::{self, Context, Request};
use heartbeat_core::clock::ManualClock;
use heartbeat_core::config::{Config, Settings};
use heartbeat_core::notify::Nobody;
use heartbeat_core::ready::resolve;
use heartbeat_core::store::MemoryStore;
use std::collections::BTreeMap;
use std::time::Instant;

const SERVICES: usize = 10_000;
/// Services that stop beating before the second sweep.
const SILENT: usize = 100;
const START: i64 = 1_764_000_000_000;

fn main() {
    let list: Vec<_> = (0..SERVICES)
        .map(|i| format!(r#"{{"id": "svc-{i}", "stalenessThreshold": 300}}"#))
        .collect();
    let config = Config::parse(
        &format!(r#"{{"services": [{}]}}"#, list.join(",")),
        r#"{"enabled": true, "channels": []}"#,
    )
    .unwrap();
    let keys: BTreeMap<_, _> = (0..SERVICES)
        .map(|i| (format!("svc-{i}"), format!("k{i}")))
        .collect();
    let secrets: BTreeMap<String, String> = [
        (
            "API_KEYS".to_string(),
            serde_json::to_string(&keys).unwrap(),
        ),
        ("SWEEP_OVERDUE_SECONDS".to_string(), "0".to_string()),
    ]
    .into();
    let settings = Settings::from_secrets(&secrets).unwrap();
    let store = MemoryStore::default();
    let call = |at: i64, req: &Request| {
        let clock = ManualClock::at(at);
        let ctx = Context {
            store: &store,
            clock: &clock,
            notifier: &Nobody,
            config: &config,
            settings: &settings,
            secrets: &secrets,
        };
        let res = if req.path == "/api/sweep" {
            resolve(api::sweep::handle(&ctx, req))
        } else {
            resolve(api::ingest::handle(&ctx, req))
        };
        assert_eq!(res.status, 200, "{}", String::from_utf8_lossy(&res.body));
    };
    let beat = |i: usize, at: i64| {
        let req = Request {
            method: "POST".into(),
            path: "/api/heartbeat".into(),
            headers: vec![("authorization".into(), format!("Bearer k{i}"))],
            body: format!(r#"{{"serviceId": "svc-{i}"}}"#).into_bytes(),
            ..Default::default()
        };
        call(at, &req);
    };
    let sweep = Request {
        method: "POST".into(),
        path: "/api/sweep".into(),
        ..Default::default()
    };
    for i in 0..SERVICES {
        beat(i, START);
    }
    // Everyone but the silent ones beats again four minutes later.
    for i in SILENT..SERVICES {
        beat(i, START + 240_000);
    }
    println!("sweep of {SERVICES} services (in-memory store, release build)");
    for (what, at, changed) in [
        ("nothing changed", START + 250_000, 0),
        ("100 newly silent", START + 301_000, SILENT),
        ("again, nothing new", START + 302_000, 0),
    ] {
        let writes = store.writes.get();
        let started = Instant::now();
        call(at, &sweep);
        let took = started.elapsed();
        let written = store.writes.get() - writes;
        println!(
            "  {what:<20} {:>8.1} ms   {written:>5} writes",
            took.as_secs_f64() * 1e3
        );
        // A newly silent service writes its state and its transitions; then the sweep mark.
        assert_eq!(written, 2 * changed + 1, "{what}: only changes are written");
    }
}
