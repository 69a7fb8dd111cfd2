//! The Worker's CPU time per request under `wrangler dev`, at 10, 100 and 1,000 services: a
//! heartbeat, a ping, the cron sweep, `/api/status`, the dashboard and `/metrics` warm, and the
//! first request of an isolate (a heartbeat on a fresh start, and `/api/status` on a restart
//! over the whole fleet's state).
//!
//! Measured as the CPU that the Worker's workerd process spends (`/proc/<pid>/task/*/schedstat`,
//! in nanoseconds) over `BENCH_REQUESTS` (default 40) sequential warm requests of one route,
//! divided by their number. wrangler's second workerd, its dev proxy in front of the Worker, is
//! left out: Cloudflare has no such hop. So is wrangler's DevTools inspector: the Worker runs
//! with none attached (`tests/support/dev-detached.mjs`), because an attached one makes workerd
//! copy every answer into a DevTools event, a third of the CPU of a 450 KB answer that
//! Cloudflare never spends (`BENCH_INSPECTOR=attached` measures it as the CLI runs). It is
//! still an upper bound of what Cloudflare bills as a request's CPU time: it includes workerd's
//! own HTTP work, wrangler's entry worker, the Worker→Durable Object hop and the object's
//! SQLite (locally all in one process).
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
use support::{build, cpu_ns, state_dir, target_dir, Inspector, Wrangler};

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

/// CPU ms per request of `calls` to `w`, sent one after another.
fn cpu_of(agent: &ureq::Agent, w: &Wrangler, calls: Vec<Call>) -> f64 {
    let (pids, count) = (w.workerd_pids(), calls.len());
    let before = cpu_ns(&pids);
    for call in calls {
        send(agent, &w.base, call);
    }
    (cpu_ns(&pids) - before) as f64 / count as f64 / 1e6
}

/// CPU ms of: the first request of an isolate (a heartbeat, on an empty store), each route
/// warm, and the first read of an isolate over a whole fleet's state (`/api/status`).
fn measure(n: usize, requests: usize, inspector: Inspector) -> Vec<f64> {
    let build = build(&format!("cpu-build-{n}"), &fleet(n));
    let vars = [
        ("API_KEY_SECRET", SECRET.to_string()),
        ("PING_KEY", PING_KEY.to_string()),
        // The sweep is measured on its own route, never inside another request.
        ("SWEEP_OVERDUE_SECONDS", "0".to_string()),
    ];
    let state = state_dir(&format!("cpu-{n}"));
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(60))
        .build();
    let beat = &routes()[0];
    let w = Wrangler::start_cold(&build, &state, &vars, inspector);
    assert!(!w.workerd_pids().is_empty(), "no workerd process found");
    let mut ms = vec![cpu_of(&agent, &w, vec![(beat.request)(0, n)])];
    // Every service has a heartbeat, so reads and sweeps see a whole fleet.
    for i in 1..n {
        send(&agent, &w.base, (beat.request)(i, n));
    }
    for route in routes() {
        for i in 0..3 {
            send(&agent, &w.base, (route.request)(i, n));
        }
        let calls = (0..requests).map(|i| (route.request)(i, n)).collect();
        ms.push(cpu_of(&agent, &w, calls));
    }
    drop(w);
    let w = Wrangler::start_cold(&build, &state, &vars, inspector);
    let status = ("GET", "/api/status".into(), Vec::new(), String::new());
    ms.push(cpu_of(&agent, &w, vec![status]));
    ms
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is taken.
    let requests = std::env::var("BENCH_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    // BENCH_INSPECTOR=attached: as `wrangler dev` runs, DevTools inspector and all.
    let inspector = match std::env::var("BENCH_INSPECTOR").as_deref() {
        Ok("attached") => Inspector::Attached,
        Ok("detached") | Err(_) => Inspector::Detached,
        Ok(other) => panic!("BENCH_INSPECTOR is \"attached\" or \"detached\", not {other:?}"),
    };
    let mut names = vec!["first request"];
    names.extend(routes().iter().map(|r| r.name));
    names.push("first /api/status");
    println!(
        "Worker CPU per request under wrangler dev, inspector {} (the Worker's workerd; warm: mean of {requests}; ms)",
        match inspector {
            Inspector::Attached => "attached",
            Inspector::Detached => "detached",
        }
    );
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
        let ms = measure(n, requests, inspector);
        let cells: Vec<String> = ms.iter().map(|m| format!("{m:.1}")).collect();
        println!("| {n} | {} |", cells.join(" | "));
        for (name, m) in names.iter().zip(&ms) {
            // An isolate's first requests draw on its initial allowance (see PERFORMANCE.md).
            if *m > FREE_PLAN_CPU_MS && !name.starts_with("first") {
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
