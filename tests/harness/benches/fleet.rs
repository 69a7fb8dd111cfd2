//! Every route's cost by fleet size, on the in-memory and the SQLite store: heartbeat, ping and
//! push (which must not grow with the fleet) next to `/api/status`, the overview, `/metrics`
//! and the sweep (which show or check every service). In-process through heartbeat-host's
//! runtime, a fresh component instance per request, no TCP; keys derived from
//! `API_KEY_SECRET`. Every service has beaten and one in ten has been down and back; on a
//! lived-in fleet (up to 1,000 services) every service has also been down and back 20 times,
//! as months of flapping leave it. Prints a table of ms per request (mean); asserts nothing. `cargo bench -p heartbeat-host --bench
//! fleet`; `BENCH_SIZES=1000` for one size.

#[path = "support/fleet_dir.rs"]
mod fleet_dir;
mod support;

use heartbeat_core::auth::{derived_key, derived_push_token};
use heartbeat_host::{prepare, StoreChoice};
use serde_json::json;
use std::path::Path;
use std::time::{Duration, Instant};

const SECRET: &str = "5e1f0b9c8d7a6f5e4d3c2b1a09f8e7d6";
const PING_KEY: &str = "bench-ping-key-0123456789";

fn id(i: usize) -> String {
    format!("svc-{i}")
}

fn main() -> anyhow::Result<()> {
    let sizes: Vec<usize> = std::env::var("BENCH_SIZES")
        .ok()
        .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![8, 1_000, 10_000]);
    let routes = [
        "heartbeat",
        "ping",
        "push",
        "`/api/status`",
        "`/`",
        "`/metrics`",
        "sweep",
    ];
    println!("heartbeat-host, in-process, release build (ms per request, mean)");
    println!();
    println!("| store | fleet | services | {} |", routes.join(" | "));
    println!("|---|---|---|{}", "---|".repeat(routes.len()));
    let scratch = std::env::temp_dir().join(format!("hb-bench-fleet-{}", std::process::id()));
    for sqlite in [false, true] {
        for (history, flaps) in [("fresh", 0), ("lived-in", LIVED_IN_FLAPS)] {
            for &n in sizes.iter().filter(|&&n| flaps == 0 || n <= 1_000) {
                let dir = scratch.join(format!("{n}-{sqlite}-{flaps}"));
                let cells = measure(&dir, n, sqlite, flaps)?;
                let cells: Vec<String> = cells.iter().map(|ms| format!("{ms:.2}")).collect();
                let store = if sqlite { "sqlite" } else { "memory" };
                println!("| {store} | {history} | {n} | {} |", cells.join(" | "));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(())
}

/// Times each service of a lived-in fleet has been down and back.
const LIVED_IN_FLAPS: usize = 20;

fn measure(dir: &Path, n: usize, sqlite: bool, flaps: usize) -> anyhow::Result<Vec<f64>> {
    let services: Vec<_> = (0..n)
        .map(|i| json!({ "id": id(i), "name": format!("Service {i}"), "stalenessThreshold": 86_400 }))
        .collect();
    let mut o = fleet_dir::options(dir, services)?;
    if sqlite {
        o.store = StoreChoice::Sqlite(dir.join("store.db"));
    }
    o.variables.insert("api_key_secret".into(), SECRET.into());
    o.variables.insert("ping_key".into(), PING_KEY.into());
    let prepared = prepare(&o)?;
    let (rt, clock) = (prepared.runtime, prepared.clock);
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let send = |method: &str, path: &str, auth: Option<&str>, body: String| {
        let (status, _) = tokio.block_on(support::answer(&rt, method, path, auth, body))?;
        anyhow::ensure!(status.is_success(), "{method} {path}: {status}");
        anyhow::Ok(())
    };
    let keys: Vec<String> = (0..n).map(|i| derived_key(SECRET, &id(i))).collect();
    let beat = |i: usize, status: &str| {
        let body = json!({ "serviceId": id(i), "status": status }).to_string();
        send(
            "POST",
            "/api/heartbeat",
            Some(&format!("Bearer {}", keys[i])),
            body,
        )
    };
    for i in 0..n {
        beat(i, "up")?;
    }
    clock.advance(Duration::from_secs(60));
    for i in (0..n).step_by(10) {
        beat(i, "down")?;
    }
    clock.advance(Duration::from_secs(60));
    for i in (0..n).step_by(10) {
        beat(i, "up")?;
    }
    for _ in 0..flaps {
        for status in ["down", "up"] {
            clock.advance(Duration::from_secs(60));
            for i in 0..n {
                beat(i, status)?;
            }
        }
    }

    // Each route: three untimed requests (the first over the fleet keeps the validated
    // configuration), then `rounds` timed ones.
    let time = |rounds: usize, call: &dyn Fn(usize) -> anyhow::Result<()>| {
        for r in 0..3 {
            call(r)?;
        }
        let started = Instant::now();
        for r in 0..rounds {
            call(r)?;
        }
        anyhow::Ok(started.elapsed().as_secs_f64() * 1e3 / rounds as f64)
    };
    let get = |path: &str| send("GET", path, None, String::new());
    let fleet_rounds = if n > 1_000 { 5 } else { 20 };
    Ok(vec![
        time(200, &|r| beat(r % n, "up"))?,
        time(200, &|r| get(&format!("/ping/{PING_KEY}/{}", id(r % n))))?,
        time(200, &|r| {
            get(&format!(
                "/api/push/{}",
                derived_push_token(SECRET, &id(r % n))
            ))
        })?,
        time(fleet_rounds, &|_| get("/api/status"))?,
        time(fleet_rounds, &|_| get("/"))?,
        time(fleet_rounds, &|_| get("/metrics"))?,
        time(fleet_rounds, &|_| {
            send("POST", "/api/sweep", None, String::new())
        })?,
    ])
}
