//! Heartbeat throughput of 1 vs 3 heartbeat-host instances sharing one Redis (Debian's
//! `redis-server`, started here on loopback with AOF and `appendfsync always`). 32 client
//! threads send heartbeats round-robin to the instances for a fixed time. Prints figures; asserts
//! nothing (run with `cargo bench --bench redis`). On one small machine the instances and Redis
//! share the same cores, so this measures the cost of sharing a store, not the scaling that
//! separate machines give.
//!
//! It runs twice, each on a Redis of its own: on heartbeat-host's Redis store (the host's exact
//! compare-and-swap), and as Spin 4.0.2's Redis store (`SpinRedis::AsReleased`), where the
//! components swap under their ticket lock — the price of that store.

use heartbeat_conformance::{fixture_api_keys, fixture_key, FIXTURE_CONFIG_DIR, FIXTURE_SERVICES};
use heartbeat_host::kv::SpinRedis;
use heartbeat_host::{start, HostOptions, Running, StoreChoice};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const CLIENTS: usize = 32;
const RUN: Duration = Duration::from_secs(8);

fn instance(root: &std::path::Path, url: &str, spin: Option<SpinRedis>) -> anyhow::Result<Running> {
    let mut o = HostOptions::new(root.join("spin.toml"));
    o.listen = "127.0.0.1:0".parse()?;
    o.store = StoreChoice::Redis(url.to_string());
    o.spin_redis = spin;
    o.sweep_every = None;
    o.config_dir = Some(root.join(FIXTURE_CONFIG_DIR));
    o.variables.insert("api_keys".into(), fixture_api_keys());
    o.variables
        .insert("sweep_overdue_seconds".into(), "0".into());
    start(o)
}

/// Requests per second and latency percentiles against `urls`.
fn load(urls: &[String]) -> (f64, Duration, Duration, usize) {
    let stop = AtomicBool::new(false);
    let latencies = Mutex::new(Vec::new());
    let failures = Mutex::new(0usize);
    let started = Instant::now();
    std::thread::scope(|s| {
        for c in 0..CLIENTS {
            let (stop, latencies, failures) = (&stop, &latencies, &failures);
            let url = format!("{}/api/heartbeat", urls[c % urls.len()]);
            s.spawn(move || {
                let agent = ureq::AgentBuilder::new()
                    .timeout(Duration::from_secs(10))
                    .build();
                let mut mine = Vec::new();
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    let service = FIXTURE_SERVICES[(c + n) % FIXTURE_SERVICES.len()];
                    n += 1;
                    let t = Instant::now();
                    let r = agent
                        .post(&url)
                        .set("authorization", &format!("Bearer {}", fixture_key(service)))
                        .send_string(&format!(r#"{{"serviceId":"{service}"}}"#));
                    match r {
                        Ok(_) => mine.push(t.elapsed()),
                        Err(_) => *failures.lock().unwrap() += 1,
                    }
                }
                latencies.lock().unwrap().extend(mine);
            });
        }
        std::thread::sleep(RUN);
        stop.store(true, Ordering::Relaxed);
    });
    let elapsed = started.elapsed();
    let mut l = latencies.into_inner().unwrap();
    l.sort();
    let pct = |p: f64| {
        l.get(((l.len() as f64 * p) as usize).min(l.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    (
        l.len() as f64 / elapsed.as_secs_f64(),
        pct(0.5),
        pct(0.99),
        failures.into_inner().unwrap(),
    )
}

type Row = (usize, (f64, Duration, Duration, usize));

/// 1 and then 3 instances on a Redis of their own, behaving as `spin` says.
fn rows(root: &std::path::Path, spin: Option<SpinRedis>) -> anyhow::Result<Vec<Row>> {
    anyhow::ensure!(
        std::path::Path::new(heartbeat_conformance::redis::BINARY).exists(),
        "redis-server is needed (apt-get install redis-server)"
    );
    let redis = heartbeat_conformance::redis::Redis::start("bench");
    let url = redis.url();
    let mut rows = Vec::new();
    for n in [1, 3] {
        let hosts: Vec<Running> = (0..n)
            .map(|_| instance(root, &url, spin))
            .collect::<anyhow::Result<_>>()?;
        let urls: Vec<String> = hosts.iter().map(|h| h.url()).collect();
        load(&urls[..1]); // warm up
        rows.push((n, load(&urls)));
    }
    drop(redis);
    Ok(rows)
}

fn main() -> anyhow::Result<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    println!(
        "POST /api/heartbeat on one Redis (AOF, appendfsync always), {CLIENTS} client threads, {} s each, release build",
        RUN.as_secs()
    );
    let mut base = None;
    for (label, spin) in [
        ("heartbeat-host's Redis store (exact swap)", None),
        (
            "Spin 4.0.2's Redis store (ticket lock)",
            Some(SpinRedis::AsReleased),
        ),
    ] {
        println!("{label}");
        for (n, (rps, p50, p99, failures)) in rows(&root, spin)? {
            let base = *base.get_or_insert(rps);
            println!(
                "  {n} instance{}  {rps:>8.0} req/s ({:.2}x)   p50 {:>6.2} ms   p99 {:>6.2} ms   failures {failures}",
                if n == 1 { " " } else { "s" },
                rps / base,
                p50.as_secs_f64() * 1e3,
                p99.as_secs_f64() * 1e3,
            );
        }
    }
    Ok(())
}
