//! Ingest throughput and latency over loopback HTTP, side by side with the ceiling: the same
//! heartbeat-host serving `POST /api/heartbeat` (the real ingest component) and `POST /ceiling`
//! (a component that only answers), in one run, loaded by wrk (`apt-get install wrk`) at 1, 16
//! and 64 connections. Once with the in-memory store (the components' own cost) and once with
//! the durable SQLite store `heartbeat-host up` uses (each heartbeat committed before the
//! answer). Then heartbeats to eight services of fleets of 8, 1,000 and 10,000 services at 1 and
//! 16 connections: a request reads only its own service's configuration, so the rate should
//! not fall with the fleet. Prints tables; asserts nothing.
//!
//! `cargo bench -p heartbeat-host --bench ingest` (`BENCH_SECONDS`, default 10 per cell).

use heartbeat_conformance::{fixture_api_keys, FIXTURE_CONFIG_DIR, FIXTURE_SERVICES};
use heartbeat_host::runtime::Components;
use heartbeat_host::{start, HostOptions, StoreChoice, COMPONENTS_DIR};
use std::path::{Path, PathBuf};
use std::process::Command;

/// One wrk run's figures.
#[derive(Debug, Clone, Copy)]
struct Load {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
}

/// `812.00us`, `1.23ms`, `1.02s` → milliseconds.
fn millis(text: &str) -> f64 {
    let split = text
        .find(|c: char| c.is_ascii_alphabetic())
        .unwrap_or(text.len());
    let (value, unit) = text.split_at(split);
    let value: f64 = value.parse().unwrap_or(f64::NAN);
    match unit {
        "us" => value / 1000.0,
        "ms" => value,
        "s" => value * 1000.0,
        "m" => value * 60_000.0,
        _ => f64::NAN,
    }
}

fn parse(out: &str) -> Load {
    let field = |prefix: &str| {
        out.lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(prefix))
            .map(|rest| rest.split_whitespace().next().unwrap_or("").to_string())
    };
    let count = |prefix: &str| -> u64 {
        out.lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(prefix))
            .map(|rest| {
                rest.split(|c: char| !c.is_ascii_digit())
                    .filter_map(|n| n.parse::<u64>().ok())
                    .sum()
            })
            .unwrap_or(0)
    };
    Load {
        rps: field("Requests/sec:")
            .and_then(|v| v.parse().ok())
            .unwrap_or(f64::NAN),
        p50_ms: field("50%").map(|v| millis(&v)).unwrap_or(f64::NAN),
        p99_ms: field("99%").map(|v| millis(&v)).unwrap_or(f64::NAN),
        errors: count("Non-2xx or 3xx responses:") + count("Socket errors:"),
    }
}

/// A wrk script posting heartbeats to `path`, round-robin over the fixture services.
fn script(dir: &Path, path: &str) -> PathBuf {
    let services: Vec<String> = FIXTURE_SERVICES
        .iter()
        .map(|s| format!("\"{s}\""))
        .collect();
    let lua = format!(
        r#"local services = {{{}}}
local i = 0
request = function()
  i = i + 1
  local s = services[(i % #services) + 1]
  return wrk.format("POST", "{path}", {{["Authorization"] = "Bearer key-" .. s,
    ["Content-Type"] = "application/json"}}, '{{"serviceId":"' .. s .. '","message":"bench"}}')
end
"#,
        services.join(", ")
    );
    let file = dir.join(format!(
        "{}.lua",
        path.trim_start_matches('/').replace('/', "-")
    ));
    std::fs::write(&file, lua).unwrap();
    file
}

fn wrk(url: &str, script: &Path, connections: u32, seconds: u32) -> Load {
    let out = Command::new("wrk")
        .args(["--latency", "-t1"])
        .arg(format!("-c{connections}"))
        .arg(format!("-d{seconds}s"))
        .arg("-s")
        .arg(script)
        .arg(url)
        .output()
        .expect("wrk runs");
    parse(&String::from_utf8_lossy(&out.stdout))
}

/// spin.toml plus the ceiling component, routed at `/ceiling`.
fn manifest(root: &Path, dir: &Path) -> PathBuf {
    let mut m: toml::Table =
        toml::from_str(&std::fs::read_to_string(root.join("spin.toml")).unwrap()).unwrap();
    let trigger = toml::toml! { route = "/ceiling" component = "ceiling" };
    m["trigger"]["http"]
        .as_array_mut()
        .unwrap()
        .insert(0, toml::Value::Table(trigger));
    let component = toml::toml! { source = "ceiling.wasm" };
    m["component"]
        .as_table_mut()
        .unwrap()
        .insert("ceiling".into(), toml::Value::Table(component));
    let path = dir.join("spin.toml");
    std::fs::write(&path, toml::to_string(&m).unwrap()).unwrap();
    path
}

fn main() -> anyhow::Result<()> {
    if Command::new("wrk").arg("--version").output().is_err() {
        anyhow::bail!("wrk is needed: apt-get install wrk");
    }
    let seconds: u32 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = std::env::temp_dir().join(format!("hb-bench-ingest-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let manifest = manifest(&root, &dir);
    let beat = script(&dir, "/api/heartbeat");
    let ceiling = script(&dir, "/ceiling");

    println!("ingest vs ceiling, wrk -t1 --latency, {seconds} s per cell, release build");
    println!(
        "| store | connections | ceiling req/s | ingest req/s | ratio | ceiling p50 / p99 ms | ingest p50 / p99 ms | p99 ratio | errors |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for (name, store) in [
        ("memory", StoreChoice::Memory),
        ("sqlite", StoreChoice::Sqlite(dir.join("bench.db"))),
    ] {
        let mut o = HostOptions::new(&manifest);
        // The ceiling is not built into the binary: all five from where build.rs put them.
        o.components = Components::Dir(COMPONENTS_DIR.into());
        o.listen = "127.0.0.1:0".parse()?;
        o.store = store;
        o.sweep_every = None;
        o.config_dir = Some(root.join(FIXTURE_CONFIG_DIR));
        o.variables.insert("api_keys".into(), fixture_api_keys());
        o.variables
            .insert("sweep_overdue_seconds".into(), "0".into());
        let host = start(o)?;
        // Warm up both paths (compilation caches, first-write key creation).
        wrk(&format!("{}/ceiling", host.url()), &ceiling, 4, 2);
        wrk(&format!("{}/api/heartbeat", host.url()), &beat, 4, 2);
        for connections in [1, 16, 64] {
            let c = wrk(
                &format!("{}/ceiling", host.url()),
                &ceiling,
                connections,
                seconds,
            );
            let i = wrk(
                &format!("{}/api/heartbeat", host.url()),
                &beat,
                connections,
                seconds,
            );
            println!(
                "| {name} | {connections} | {:.0} | {:.0} | {:.0} % | {:.2} / {:.2} | {:.2} / {:.2} | {:.2}× | {} |",
                c.rps,
                i.rps,
                i.rps * 100.0 / c.rps,
                c.p50_ms,
                c.p99_ms,
                i.p50_ms,
                i.p99_ms,
                i.p99_ms / c.p99_ms,
                c.errors + i.errors
            );
        }
    }
    fleet_sizes(&root, &dir, seconds)?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Heartbeats to the same eight services of fleets of 8, 1,000 and 10,000 services, keys
/// derived from `API_KEY_SECRET`: the store work is the same whatever the fleet, so any
/// difference is what a request pays for the fleet's configuration.
fn fleet_sizes(root: &Path, dir: &Path, seconds: u32) -> anyhow::Result<()> {
    const SECRET: &str = "bench-secret-0123456789abcdef0123456789";
    println!();
    println!("heartbeats to 8 services of a larger fleet, keys from API_KEY_SECRET");
    println!("| store | services | connections | req/s | vs 8 services | p50 / p99 ms | errors |");
    println!("|---|---|---|---|---|---|---|");
    let keys: Vec<String> = (0..8)
        .map(|i| {
            let key = heartbeat_core::auth::derived_key(SECRET, &format!("svc-{i}"));
            format!("\"{key}\"")
        })
        .collect();
    let lua = dir.join("fleet.lua");
    std::fs::write(
        &lua,
        format!(
            r#"local keys = {{{}}}
local n = 0
request = function()
  n = n + 1
  local s = n % 8
  return wrk.format("POST", "/api/heartbeat", {{["Authorization"] = "Bearer " .. keys[s + 1],
    ["Content-Type"] = "application/json"}}, '{{"serviceId":"svc-' .. s .. '","message":"bench"}}')
end
"#,
            keys.join(", ")
        ),
    )?;
    for store in ["memory", "sqlite"] {
        let mut at_eight = std::collections::BTreeMap::new();
        for n in [8usize, 1000, 10_000] {
            let config = dir.join(format!("fleet-{store}-{n}"));
            std::fs::create_dir_all(&config)?;
            let services: Vec<_> = (0..n)
                .map(|i| serde_json::json!({"id": format!("svc-{i}"), "name": format!("Service {i}"), "stalenessThreshold": 300}))
                .collect();
            std::fs::write(
                config.join("services.json"),
                serde_json::json!({ "services": services }).to_string(),
            )?;
            std::fs::write(
                config.join("notifications.json"),
                r#"{"enabled": true, "channels": []}"#,
            )?;
            let mut o = HostOptions::new(root.join("spin.toml"));
            o.listen = "127.0.0.1:0".parse()?;
            o.store = match store {
                "memory" => StoreChoice::Memory,
                _ => StoreChoice::Sqlite(config.join("bench.db")),
            };
            o.sweep_every = None;
            o.config_dir = Some(config.clone());
            o.variables.insert("api_key_secret".into(), SECRET.into());
            o.variables
                .insert("sweep_overdue_seconds".into(), "0".into());
            let host = start(o)?;
            let url = format!("{}/api/heartbeat", host.url());
            // Warm up: compilation caches, and the first request writes every service's cut.
            wrk(&url, &lua, 4, 2);
            for connections in [1, 16] {
                let l = wrk(&url, &lua, connections, seconds);
                let base = *at_eight.entry(connections).or_insert(l.rps);
                println!(
                    "| {store} | {n} | {connections} | {:.0} | {:.0} % | {:.2} / {:.2} | {} |",
                    l.rps,
                    l.rps * 100.0 / base,
                    l.p50_ms,
                    l.p99_ms,
                    l.errors
                );
            }
        }
    }
    Ok(())
}
