//! Every route's cost by fleet size, on the in-memory and the SQLite store: heartbeat, ping and
//! push (which must not grow with the fleet) next to `/api/status`, the overview, `/metrics`
//! and the sweep (which show or check every service). In-process through heartbeat-host's
//! runtime, a fresh component instance per request, no TCP; keys derived from
//! `API_KEY_SECRET`. Every service has beaten and one in ten has been down and back; on a
//! lived-in fleet (up to 1,000 services) every service has also been down and back 20 times,
//! as months of flapping leave it. Prints a table of ms per request (mean); asserts nothing.
//! `cargo bench -p heartbeat-host --bench fleet`; `BENCH_SIZES=1000` for one size.
//!
//! `BENCH_COMPARE=DIR,DIR…` compares builds of the components instead (each directory holds
//! one build's `.wasm` files): one runtime per build over identical fleets, the whole-fleet
//! reads and the sweep alternated build by build, request by request, so that the machine's
//! drift falls on all alike; prints the median of each. `BENCH_SIZES` (first size only),
//! `BENCH_FLAPS` (default 20), `BENCH_METADATA` (fields of metadata per heartbeat, default 0),
//! `BENCH_ROUNDS` (default 60) and `BENCH_STORE` (`memory`, the default, or `sqlite`) shape it.

#[path = "support/fleet_dir.rs"]
mod fleet_dir;
mod support;

use heartbeat_core::auth::{derived_key, derived_push_token};
use heartbeat_host::runtime::{Components, Runtime};
use heartbeat_host::{prepare, StoreChoice};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SECRET: &str = "5e1f0b9c8d7a6f5e4d3c2b1a09f8e7d6";
const PING_KEY: &str = "bench-ping-key-0123456789";

/// Times each service of a lived-in fleet has been down and back.
const LIVED_IN_FLAPS: usize = 20;

/// The whole-fleet reads.
const READS: [&str; 3] = ["/api/status", "/", "/metrics"];

fn id(i: usize) -> String {
    format!("svc-{i}")
}

fn env_number(name: &str) -> Option<usize> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

fn main() -> anyhow::Result<()> {
    let sizes: Vec<usize> = std::env::var("BENCH_SIZES")
        .ok()
        .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![8, 1_000, 10_000]);
    let scratch = std::env::temp_dir().join(format!("hb-bench-fleet-{}", std::process::id()));
    let result = match std::env::var("BENCH_COMPARE") {
        Ok(dirs) => compare(&scratch, &dirs, sizes.first().copied().unwrap_or(1_000)),
        Err(_) => by_size(&scratch, &sizes),
    };
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

fn by_size(scratch: &Path, sizes: &[usize]) -> anyhow::Result<()> {
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
    for sqlite in [false, true] {
        for (history, flaps) in [("fresh", 0), ("lived-in", LIVED_IN_FLAPS)] {
            for &n in sizes.iter().filter(|&&n| flaps == 0 || n <= 1_000) {
                let dir = scratch.join(format!("{n}-{sqlite}-{flaps}"));
                let fleet = Fleet {
                    n,
                    sqlite,
                    flaps,
                    metadata: 0,
                    components: None,
                }
                .build(&dir)?;
                let cells: Vec<String> = fleet
                    .measure()?
                    .iter()
                    .map(|ms| format!("{ms:.2}"))
                    .collect();
                let store = if sqlite { "sqlite" } else { "memory" };
                println!("| {store} | {history} | {n} | {} |", cells.join(" | "));
            }
        }
    }
    Ok(())
}

fn compare(scratch: &Path, dirs: &str, n: usize) -> anyhow::Result<()> {
    let flaps = env_number("BENCH_FLAPS").unwrap_or(LIVED_IN_FLAPS);
    let metadata = env_number("BENCH_METADATA").unwrap_or(0);
    let rounds = env_number("BENCH_ROUNDS").unwrap_or(60).max(1);
    let store = std::env::var("BENCH_STORE").unwrap_or_else(|_| "memory".into());
    let sqlite = match store.as_str() {
        "memory" => false,
        "sqlite" => true,
        other => anyhow::bail!("BENCH_STORE is memory or sqlite, not {other:?}"),
    };
    let dirs: Vec<PathBuf> = dirs.split(',').map(PathBuf::from).collect();
    let built: Vec<Built> = dirs
        .iter()
        .enumerate()
        .map(|(k, components)| {
            Fleet {
                n,
                sqlite,
                flaps,
                metadata,
                components: Some(components.clone()),
            }
            .build(&scratch.join(k.to_string()))
        })
        .collect::<anyhow::Result<_>>()?;
    println!(
        "heartbeat-host, in-process, {store} store, {n} services, {flaps} flaps, {metadata} metadata fields (ms per request, median of {rounds})"
    );
    println!();
    let names: Vec<String> = dirs.iter().map(|d| format!("`{}`", d.display())).collect();
    println!("| route | {} |", names.join(" | "));
    println!("|---|{}", "---|".repeat(dirs.len()));
    let requests = READS.map(|path| ("GET", path)).into_iter();
    for (method, route) in requests.chain([("POST", "/api/sweep")]) {
        let mut times = vec![Vec::with_capacity(rounds); built.len()];
        // Three untimed rounds first: the first request over a fleet keeps its configuration.
        for round in 0..rounds + 3 {
            for (fleet, times) in built.iter().zip(&mut times) {
                let started = Instant::now();
                fleet.send(method, route, None, String::new())?;
                if round >= 3 {
                    times.push(started.elapsed().as_secs_f64() * 1e3);
                }
            }
        }
        let medians: Vec<String> = times
            .iter_mut()
            .map(|t| {
                t.sort_by(f64::total_cmp);
                format!("{:.2}", t[t.len() / 2])
            })
            .collect();
        let route = if method == "POST" {
            "sweep".to_string()
        } else {
            format!("`{route}`")
        };
        println!("| {route} | {} |", medians.join(" | "));
    }
    Ok(())
}

/// A fleet to build: its size, store and history, and which build of the components serves
/// it (`None`: heartbeat-host's own).
struct Fleet {
    n: usize,
    sqlite: bool,
    flaps: usize,
    /// Fields of metadata each heartbeat carries.
    metadata: usize,
    components: Option<PathBuf>,
}

/// A fleet built and beaten, ready for requests.
struct Built {
    n: usize,
    rt: Arc<Runtime>,
    tokio: tokio::runtime::Runtime,
    keys: Vec<String>,
    metadata: serde_json::Map<String, serde_json::Value>,
}

impl Fleet {
    fn build(self, dir: &Path) -> anyhow::Result<Built> {
        let services: Vec<_> = (0..self.n)
            .map(|i| json!({ "id": id(i), "name": format!("Service {i}"), "stalenessThreshold": 86_400 }))
            .collect();
        let mut o = fleet_dir::options(dir, services)?;
        if self.sqlite {
            o.store = StoreChoice::Sqlite(dir.join("store.db"));
        }
        if let Some(components) = self.components {
            o.components = Components::Dir(components);
        }
        o.variables.insert("api_key_secret".into(), SECRET.into());
        o.variables.insert("ping_key".into(), PING_KEY.into());
        let prepared = prepare(&o)?;
        let clock = prepared.clock;
        let built = Built {
            n: self.n,
            rt: prepared.runtime,
            tokio: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?,
            keys: (0..self.n).map(|i| derived_key(SECRET, &id(i))).collect(),
            metadata: (0..self.metadata)
                .map(|k| {
                    (
                        format!("field{k}"),
                        json!(format!("value {k} of a heartbeat")),
                    )
                })
                .collect(),
        };
        for i in 0..self.n {
            built.beat(i, "up")?;
        }
        clock.advance(Duration::from_secs(60));
        for i in (0..self.n).step_by(10) {
            built.beat(i, "down")?;
        }
        clock.advance(Duration::from_secs(60));
        for i in (0..self.n).step_by(10) {
            built.beat(i, "up")?;
        }
        for _ in 0..self.flaps {
            for status in ["down", "up"] {
                clock.advance(Duration::from_secs(60));
                for i in 0..self.n {
                    built.beat(i, status)?;
                }
            }
        }
        Ok(built)
    }
}

impl Built {
    fn send(
        &self,
        method: &str,
        path: &str,
        auth: Option<&str>,
        body: String,
    ) -> anyhow::Result<()> {
        let (status, _) = self
            .tokio
            .block_on(support::answer(&self.rt, method, path, auth, body))?;
        anyhow::ensure!(status.is_success(), "{method} {path}: {status}");
        Ok(())
    }

    fn beat(&self, i: usize, status: &str) -> anyhow::Result<()> {
        let mut body = json!({ "serviceId": id(i), "status": status });
        if !self.metadata.is_empty() {
            body["metadata"] = self.metadata.clone().into();
        }
        let auth = format!("Bearer {}", self.keys[i]);
        self.send("POST", "/api/heartbeat", Some(&auth), body.to_string())
    }

    /// ms per request (mean) of each route, in the table's order.
    fn measure(&self) -> anyhow::Result<Vec<f64>> {
        let n = self.n;
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
        let get = |path: &str| self.send("GET", path, None, String::new());
        let fleet_rounds = if n > 1_000 { 5 } else { 20 };
        let mut cells = vec![
            time(200, &|r| self.beat(r % n, "up"))?,
            time(200, &|r| get(&format!("/ping/{PING_KEY}/{}", id(r % n))))?,
            time(200, &|r| {
                get(&format!(
                    "/api/push/{}",
                    derived_push_token(SECRET, &id(r % n))
                ))
            })?,
        ];
        for route in READS {
            cells.push(time(fleet_rounds, &|_| get(route))?);
        }
        cells.push(time(fleet_rounds, &|_| {
            self.send("POST", "/api/sweep", None, String::new())
        })?);
        Ok(cells)
    }
}
