//! The dashboard with 1,000 services, through the real dashboard component in heartbeat-host:
//! server-side render time and weight of `GET /`, and the cost of the other read routes at that
//! size. History is built through the API: 30 days of heartbeats every three days, a two-hour
//! outage for one service in ten, a few services down or degraded now and some never heard
//! from. Prints figures; asserts nothing (run with `cargo bench --bench dashboard`).

#[path = "support/fleet_dir.rs"]
mod fleet_dir;
mod support;

use heartbeat_host::prepare;
use serde_json::json;
use std::time::{Duration, Instant};

const SERVICES: usize = 1000;
const DAY: Duration = Duration::from_secs(86_400);

fn id(i: usize) -> String {
    format!("svc-{i:04}")
}

fn main() -> anyhow::Result<()> {
    let config = std::env::temp_dir().join(format!("hb-bench-dashboard-{}", std::process::id()));
    let services: Vec<_> = (0..SERVICES)
        .map(|i| json!({ "id": id(i), "name": format!("Service {i:04}"), "stalenessThreshold": 4 * 86_400 }))
        .collect();
    let mut o = fleet_dir::options(&config, services)?;
    let keys: serde_json::Map<String, serde_json::Value> = (0..SERVICES)
        .map(|i| (id(i), json!(format!("key-{i}"))))
        .collect();
    o.variables.insert(
        "api_keys".into(),
        serde_json::Value::Object(keys).to_string(),
    );
    let prepared = prepare(&o)?;
    let rt = prepared.runtime;
    let clock = prepared.clock;
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;

    let send = |method: &str, path: &str, auth: Option<&str>, body: String| {
        let (status, bytes) = tokio.block_on(support::answer(&rt, method, path, auth, body))?;
        anyhow::ensure!(status.is_success(), "{method} {path}: {status}");
        anyhow::Ok(bytes)
    };
    let beat = |i: usize, status: &str| {
        let auth = format!("Bearer key-{i}");
        let body =
            json!({ "serviceId": id(i), "status": status, "message": "nightly job finished" });
        send("POST", "/api/heartbeat", Some(&auth), body.to_string()).map(|_| ())
    };

    let seeding = Instant::now();
    let live = |i: usize| i % 50 != 49;
    let mut sent = 0;
    for day in (0..30).step_by(3) {
        for i in (0..SERVICES).filter(|i| live(*i)) {
            beat(i, "up")?;
        }
        sent += (0..SERVICES).filter(|i| live(*i)).count();
        if day == 21 {
            for i in (0..SERVICES).filter(|i| i % 10 == 5) {
                beat(i, "down")?;
            }
            clock.advance(Duration::from_secs(2 * 3600));
            for i in (0..SERVICES).filter(|i| i % 10 == 5) {
                beat(i, "up")?;
            }
            sent += SERVICES / 5;
        }
        clock.advance(3 * DAY);
    }
    for i in (0..SERVICES).filter(|i| live(*i)) {
        let status = match i % 100 {
            0 => "down",
            1 => "degraded",
            _ => "up",
        };
        beat(i, status)?;
        sent += 1;
    }
    let seeding = seeding.elapsed();

    let measure = |path: &str, n: u32| -> anyhow::Result<(Duration, usize)> {
        let mut size = 0;
        for _ in 0..3 {
            size = send("GET", path, None, String::new())?.len();
        }
        let started = Instant::now();
        for _ in 0..n {
            send("GET", path, None, String::new())?;
        }
        Ok((started.elapsed() / n, size))
    };
    let n = 30;
    let rows = [
        ("GET /  (the dashboard)", measure("/", n)?),
        ("GET /api/status", measure("/api/status", n)?),
        ("GET /metrics", measure("/metrics", n)?),
        (
            "GET /services/svc-0005 (detail)",
            measure("/services/svc-0005", n)?,
        ),
        (
            "GET /badge/svc-0005.svg",
            measure("/badge/svc-0005.svg", n)?,
        ),
    ];
    let _ = std::fs::remove_dir_all(&config);

    println!(
        "Dashboard with {SERVICES} services and 30 days of history (release build, dashboard component in heartbeat-host, in-process, mean of {n})"
    );
    println!("  seeding {sent} heartbeats took {seeding:.1?}");
    for (name, (time, bytes)) in rows {
        println!(
            "  {name:<34} {:>8.2} ms   {:>9} bytes ({:.0} KiB)",
            time.as_secs_f64() * 1e3,
            bytes,
            bytes as f64 / 1024.0
        );
    }
    Ok(())
}
