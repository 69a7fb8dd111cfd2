//! Per-request cost of the components in heartbeat-host: a fresh instance per request
//! (pooling allocator + pre-instantiation), measured in-process without TCP so the figure is
//! instantiate + handle. Prints figures; asserts nothing (run with `cargo bench`).

mod support;
use support::answer;

use heartbeat_conformance::{fixture_api_keys, fixture_key, FIXTURE_CONFIG_DIR};
use heartbeat_host::{prepare, HostOptions, StoreChoice};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Runs itself a second time with the on-demand allocator (the engine is chosen once per
/// process), so one command prints both.
fn main() -> anyhow::Result<()> {
    let on_demand = std::env::var(heartbeat_host::runtime::ALLOCATOR_ENV).is_ok();
    measure(if on_demand {
        "on-demand allocator"
    } else {
        "pooling allocator"
    })?;
    if !on_demand {
        start_up()?;
        let status = std::process::Command::new(std::env::current_exe()?)
            .args(std::env::args().skip(1))
            .env(heartbeat_host::runtime::ALLOCATOR_ENV, "on-demand")
            .status()?;
        anyhow::ensure!(status.success(), "the on-demand run failed");
    }
    Ok(())
}

fn measure(allocator: &str) -> anyhow::Result<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut o = HostOptions::new(root.join("spin.toml"));
    o.store = StoreChoice::Memory;
    o.sweep_every = None;
    o.config_dir = Some(root.join(FIXTURE_CONFIG_DIR));
    o.variables.insert("api_keys".into(), fixture_api_keys());
    o.variables
        .insert("sweep_overdue_seconds".into(), "0".into());
    let compile = Instant::now();
    let prepared = prepare(&o)?;
    let compile = compile.elapsed();
    let rt = prepared.runtime;
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let auth = format!("Bearer {}", fixture_key("alpha"));
    let beat = r#"{"serviceId":"alpha","message":"bench"}"#;

    let run = |method: &str,
               path: &str,
               auth: Option<&str>,
               body: &str,
               n: u32|
     -> anyhow::Result<Duration> {
        tokio.block_on(async {
            for _ in 0..50 {
                answer(&rt, method, path, auth, body.to_string()).await?;
            }
            let started = Instant::now();
            for _ in 0..n {
                let (status, _) = answer(&rt, method, path, auth, body.to_string()).await?;
                assert!(status.is_success(), "{method} {path}: {status}");
            }
            Ok(started.elapsed() / n)
        })
    };
    let n = 2000;
    let instantiate = tokio.block_on(async {
        for _ in 0..50 {
            rt.instantiate("dashboard").await?;
        }
        let started = Instant::now();
        for _ in 0..n {
            rt.instantiate("dashboard").await?;
        }
        anyhow::Ok(started.elapsed() / n)
    })?;
    let root_cost = run("GET", "/api", None, "", n)?;
    let dashboard = run("GET", "/", None, "", n)?;
    let services = run("GET", "/api/services", None, "", n)?;
    let heartbeat = run("POST", "/api/heartbeat", Some(&auth), beat, n)?;
    let status = run("GET", "/api/status", None, "", n)?;
    let logs = run("GET", "/api/logs?serviceId=alpha", None, "", n)?;

    println!("heartbeat-host per-request cost, {allocator} (instantiate + handle, in-process, {n} sequential requests each)");
    println!("  compile + pre-instantiate 4 components: {compile:?}");
    println!(
        "  instantiate only (store + WASI context + instance)  {:>8.1} µs",
        instantiate.as_secs_f64() * 1e6
    );
    for (name, d) in [
        ("GET /api  (index; ~instantiate cost)", root_cost),
        ("GET /  (dashboard page, 8 services)", dashboard),
        ("GET /api/services", services),
        ("POST /api/heartbeat (in-memory store)", heartbeat),
        ("GET /api/status (8 services)", status),
        ("GET /api/logs (100 entries)", logs),
    ] {
        println!(
            "  {name:<42} {:>8.1} µs   {:>5.2}x GET /api",
            d.as_secs_f64() * 1e6,
            d.as_secs_f64() / root_cost.as_secs_f64()
        );
    }
    Ok(())
}

/// A start of heartbeat-host as a process (`check`: load and validate, then exit) without the
/// compile cache, with an empty one, and with the entries that start wrote.
fn start_up() -> anyhow::Result<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cache = std::env::temp_dir().join(format!("hb-bench-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache);
    let start = |cache: &std::path::Path| -> anyhow::Result<Duration> {
        let started = Instant::now();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_heartbeat-host"))
            .current_dir(&root)
            .args(["check", "--config", FIXTURE_CONFIG_DIR])
            .env(heartbeat_host::compile_cache::ENV, cache)
            .output()?;
        let took = started.elapsed();
        anyhow::ensure!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(took)
    };
    let off = start(std::path::Path::new("off"))?;
    let empty = start(&cache)?;
    let mut filled = Vec::new();
    for _ in 0..5 {
        filled.push(start(&cache)?);
    }
    filled.sort();
    let _ = std::fs::remove_dir_all(&cache);
    println!("heartbeat-host start-up (`heartbeat-host check`, a process, wall time)");
    for (name, d) in [
        ("compile cache off", off),
        ("compile cache empty (compiles, writes)", empty),
        ("compile cache filled (median of 5)", filled[2]),
    ] {
        println!("  {name:<42} {:>8.1} ms", d.as_secs_f64() * 1e3);
    }
    Ok(())
}
