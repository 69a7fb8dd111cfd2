//! The Worker's CPU time per request under `wrangler dev`, at 10, 100 and 1,000 services: a
//! heartbeat, a ping, the cron sweep, `/api/status`, the dashboard and `/metrics`.
//!
//! Measured as the CPU that workerd's threads spend (`/proc/<pid>/task/*/schedstat`, in
//! nanoseconds) over `BENCH_REQUESTS` (default 40) sequential warm requests of one route, divided
//! by their number. It is an upper bound of what Cloudflare bills as a request's CPU time: it
//! includes workerd's own HTTP work and the Durable Object's SQLite (locally in one process).
//! A V8 CPU profile over the inspector (`wrangler dev --inspector-port`, CDP `Profiler`) was the
//! first choice, but workerd's sampler takes only a handful of samples a second here (seven over
//! 1.3 s at a 50 µs interval), too few to time a request.
//!
//! `cargo bench -p heartbeat-worker --bench cpu`; needs what the Worker's tests need
//! (worker-build, the wasm-bindgen CLI, `npm ci --prefix components/cloudflare`).

#[path = "../tests/support/mod.rs"]
mod support;

use heartbeat_core::auth::derived_key;
use serde_json::json;
use std::path::PathBuf;
use std::time::Duration;
use support::{build, state_dir, target_dir, Wrangler};

const SECRET: &str = "c0ffee00c0ffee00c0ffee00c0ffee00";
const PING_KEY: &str = "bench-ping-key";
/// The Workers Free plan's CPU time per request.
const FREE_PLAN_CPU_MS: f64 = 10.0;

fn id(i: usize) -> String {
    format!("service-{i:05}")
}

/// A configuration directory with `n` services and no channels (vendor calls are not CPU).
fn fleet(n: usize) -> PathBuf {
    let dir = target_dir().join(format!("cpu-config-{n}"));
    std::fs::create_dir_all(&dir).unwrap();
    let services: Vec<_> = (0..n)
        .map(|i| json!({"id": id(i), "name": format!("Service {i}"), "stalenessThreshold": 300}))
        .collect();
    std::fs::write(
        dir.join("services.json"),
        json!({ "services": services }).to_string(),
    )
    .unwrap();
    std::fs::write(
        dir.join("notifications.json"),
        json!({"channels": []}).to_string(),
    )
    .unwrap();
    dir
}

/// Nanoseconds of CPU all of workerd's threads have used so far.
fn workerd_cpu_ns(pids: &[u32]) -> u64 {
    let mut total = 0;
    for pid in pids {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            continue;
        };
        for task in tasks.flatten() {
            if let Ok(s) = std::fs::read_to_string(task.path().join("schedstat")) {
                total += s
                    .split_whitespace()
                    .next()
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0);
            }
        }
    }
    total
}

/// Method, path, headers, body.
type Call = (&'static str, String, Vec<(String, String)>, String);

struct Route {
    name: &'static str,
    /// The i-th request at a fleet of n.
    request: fn(usize, usize) -> Call,
}

fn routes() -> Vec<Route> {
    vec![
        Route {
            name: "heartbeat",
            request: |i, n| {
                let s = id(i % n);
                let key = derived_key(SECRET, &s);
                (
                    "POST",
                    "/api/heartbeat".into(),
                    vec![
                        ("authorization".into(), format!("Bearer {key}")),
                        ("content-type".into(), "application/json".into()),
                    ],
                    json!({"serviceId": s, "status": "up"}).to_string(),
                )
            },
        },
        Route {
            name: "ping",
            request: |i, n| {
                let path = format!("/ping/{PING_KEY}/{}", id(i % n));
                ("GET", path, Vec::new(), String::new())
            },
        },
        Route {
            name: "cron sweep",
            request: |_, _| {
                let path = "/__scheduled?cron=*/5+*+*+*+*".to_string();
                ("GET", path, Vec::new(), String::new())
            },
        },
        Route {
            name: "/api/status",
            request: |_, _| ("GET", "/api/status".into(), Vec::new(), String::new()),
        },
        // The same board as `/api/status` without the rows: what the fleet costs to read and
        // judge, apart from writing and carrying a 450 KB answer.
        Route {
            name: "status summary",
            request: |_, _| {
                let path = "/api/status?summary=1".to_string();
                ("GET", path, Vec::new(), String::new())
            },
        },
        Route {
            name: "/",
            request: |_, _| ("GET", "/".into(), Vec::new(), String::new()),
        },
        Route {
            name: "/metrics",
            request: |_, _| ("GET", "/metrics".into(), Vec::new(), String::new()),
        },
    ]
}

fn send(agent: &ureq::Agent, base: &str, (method, path, headers, body): Call) {
    let mut req = agent.request(method, &format!("{base}{path}"));
    for (k, v) in &headers {
        req = req.set(k, v);
    }
    let reply = if body.is_empty() {
        req.call()
    } else {
        req.send_string(&body)
    };
    match reply {
        Ok(r) => {
            let _ = r.into_string();
        }
        Err(e) => panic!("{method} {path}: {e}"),
    }
}

/// CPU ms per request of each route at `n` services.
fn measure(n: usize, requests: usize) -> Vec<f64> {
    let build = build(&format!("cpu-build-{n}"), &fleet(n));
    let vars = [
        ("API_KEY_SECRET", SECRET.to_string()),
        ("PING_KEY", PING_KEY.to_string()),
        // The sweep is measured on its own route, never inside another request.
        ("SWEEP_OVERDUE_SECONDS", "0".to_string()),
    ];
    let w = Wrangler::start_build(&build, &state_dir(&format!("cpu-{n}")), &vars);
    let pids = w.workerd_pids();
    assert!(!pids.is_empty(), "no workerd process found");
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(60))
        .build();
    // Every service has a heartbeat, so reads and sweeps see a whole fleet.
    let beat = &routes()[0];
    for i in 0..n {
        send(&agent, &w.base, (beat.request)(i, n));
    }
    routes()
        .iter()
        .map(|route| {
            for i in 0..3 {
                send(&agent, &w.base, (route.request)(i, n));
            }
            let before = workerd_cpu_ns(&pids);
            for i in 0..requests {
                send(&agent, &w.base, (route.request)(i, n));
            }
            (workerd_cpu_ns(&pids) - before) as f64 / requests as f64 / 1e6
        })
        .collect()
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is taken.
    let requests = std::env::var("BENCH_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    let names: Vec<&str> = routes().iter().map(|r| r.name).collect();
    println!("Worker CPU per request under wrangler dev (workerd's threads, {requests} warm requests each; ms)");
    println!();
    println!("| services | {} |", names.join(" | "));
    println!("|---|{}", "---|".repeat(names.len()));
    let mut over = Vec::new();
    // BENCH_SIZES=1000 for one fleet size.
    let sizes: Vec<usize> = std::env::var("BENCH_SIZES")
        .ok()
        .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10, 100, 1_000]);
    for n in sizes {
        let ms = measure(n, requests);
        let cells: Vec<String> = ms.iter().map(|m| format!("{m:.1}")).collect();
        println!("| {n} | {} |", cells.join(" | "));
        for (name, m) in names.iter().zip(&ms) {
            if *m > FREE_PLAN_CPU_MS {
                over.push(format!("{name} at {n} services ({m:.1} ms)"));
            }
        }
    }
    println!();
    match over.is_empty() {
        true => println!("every route within the Free plan's {FREE_PLAN_CPU_MS} ms"),
        false => println!(
            "over the Free plan's {FREE_PLAN_CPU_MS} ms: {}",
            over.join(", ")
        ),
    }
}
