//! The Free-plan budget table in docs/DEPLOYMENT.md, computed rather than estimated: a day of
//! heartbeats every two minutes and the five-minute cron sweep, run through heartbeat-core's
//! API exactly as the Durable Object runs it (a write-back store flushed per request), with
//! the settings of the repository's wrangler.toml, counting requests, rows written and rows
//! read. The same traffic on a store with one key per row gives the Workers KV column.
//!
//! `UPDATE_DOCS=1 cargo test -p heartbeat-worker --test costs` rewrites the table.

use heartbeat_core::api::fleet::Fleet;
use heartbeat_core::api::Request;
use heartbeat_core::store::rows::{Grouped, MemoryRows};
use heartbeat_core::store::{MemoryStore, Store};
use std::collections::BTreeMap;

/// The Workers Free plan's daily limits (developers.cloudflare.com: Workers and Durable
/// Objects pricing; Workers KV limits).
const WORKER_REQUESTS: u64 = 100_000;
const DO_REQUESTS: u64 = 100_000;
const ROWS_WRITTEN: u64 = 100_000;
const ROWS_READ: u64 = 5_000_000;
const KV_WRITES: u64 = 1_000;

const BEAT_EVERY_MS: i64 = 120_000;
const CRON_EVERY_MS: i64 = 300_000;
/// Settling time, then the measured window; a whole number of both periods, scaled to a day.
const SETTLE_MS: i64 = 600_000;
const WINDOW_MS: i64 = 1_800_000;
const WINDOWS_PER_DAY: u64 = 48;
const START: i64 = 1_764_000_000_000;

/// `[vars]` of wrangler.toml.
fn wrangler_vars() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../wrangler.toml"))
        .unwrap();
    let manifest: toml::Value = toml::from_str(&text).unwrap();
    manifest["vars"]
        .as_table()
        .expect("[vars]")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().expect("string vars").to_string()))
        .collect()
}

/// What one day costs.
#[derive(Debug, Default, Clone, Copy)]
struct Day {
    requests: u64,
    rows_written: u64,
    rows_read: u64,
    key_writes: u64,
}

/// Requests in time order during `[from, to)`: every service beats every two minutes (spread
/// evenly) and the cron sweeps every five.
fn traffic(n: usize, from: i64, to: i64) -> Vec<(i64, Request)> {
    let mut events = Vec::new();
    for i in 0..n {
        let offset = BEAT_EVERY_MS * i as i64 / n as i64;
        let mut at = from + offset;
        while at < to {
            events.push((at, Fleet::beat(i)));
            at += BEAT_EVERY_MS;
        }
    }
    let mut at = from + CRON_EVERY_MS - 1;
    while at < to {
        events.push((at, Fleet::sweep()));
        at += CRON_EVERY_MS;
    }
    events.sort_by_key(|(at, _)| *at);
    events
}

/// Run `events` against `store`, flushing after each request as the Durable Object does.
fn run<S: Store>(fleet: &Fleet, events: Vec<(i64, Request)>, store: &S, flush: impl Fn()) {
    for (at, req) in events {
        let response = fleet.answer(store, at, &req);
        assert_eq!(
            response.status,
            200,
            "{} services: {:?}",
            fleet.config.services.len(),
            String::from_utf8_lossy(&response.body)
        );
        flush();
    }
}

/// One day for `n` services: ten minutes to settle, then half an hour measured, times 48.
fn day(n: usize) -> Day {
    let fleet = Fleet::new(n, wrangler_vars());
    let rows = MemoryRows::default();
    let keyed = MemoryStore::default();
    let settle = traffic(n, START, START + SETTLE_MS);
    let measured = traffic(n, START + SETTLE_MS, START + SETTLE_MS + WINDOW_MS);
    let requests = measured.len() as u64;

    let store = Grouped::new(&rows);
    run(&fleet, settle.clone(), &store, || store.flush().unwrap());
    let (written, read) = (rows.rows_written.get(), rows.rows_read.get());
    run(&fleet, measured.clone(), &store, || store.flush().unwrap());

    run(&fleet, settle, &keyed, || {});
    let key_writes = keyed.writes.get() as u64;
    run(&fleet, measured, &keyed, || {});

    Day {
        requests: requests * WINDOWS_PER_DAY,
        rows_written: (rows.rows_written.get() - written) * WINDOWS_PER_DAY,
        rows_read: (rows.rows_read.get() - read) * WINDOWS_PER_DAY,
        key_writes: (keyed.writes.get() as u64 - key_writes) * WINDOWS_PER_DAY,
    }
}

fn thousands(v: u64) -> String {
    let s = v.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn verdict(used: u64, limit: u64) -> String {
    let share = used as f64 * 100.0 / limit as f64;
    let mark = if used <= limit { "" } else { " ✗" };
    format!(
        "{} ({} %){mark}",
        thousands(used),
        thousands(share.round() as u64)
    )
}

/// The largest service count within every limit, and the limit that binds, from the linear
/// cost model `cost(n) = fixed + n · per_service` fitted to two simulated days.
fn largest(a: (usize, Day), b: (usize, Day)) -> (u64, &'static str) {
    let fit = |f: fn(&Day) -> u64, limit: u64| {
        let per = (f(&b.1) - f(&a.1)) as f64 / (b.0 - a.0) as f64;
        let fixed = f(&a.1) as f64 - per * a.0 as f64;
        ((limit as f64 - fixed) / per).floor() as u64
    };
    [
        (
            fit(|d| d.requests, WORKER_REQUESTS),
            "Worker and Durable Object requests",
        ),
        (fit(|d| d.rows_written, ROWS_WRITTEN), "rows written"),
        (fit(|d| d.rows_read, ROWS_READ), "rows read"),
    ]
    .into_iter()
    .min_by_key(|(n, _)| *n)
    .unwrap()
}

/// The most services whose keys fit one `API_KEYS` secret (a Worker variable holds 5 KB), with
/// 16-character service ids and the 32-character keys docs/SECURITY.md suggests.
fn api_keys_bound() -> u64 {
    let fits = |n: usize| {
        let keys: serde_json::Map<String, serde_json::Value> = (0..n)
            .map(|i| (format!("service-id-{i:05}"), format!("{i:032x}").into()))
            .collect();
        serde_json::Value::Object(keys).to_string().len()
            <= heartbeat_core::worker_limits::MAX_VARIABLE_BYTES
    };
    (1..).take_while(|n| fits(*n)).last().unwrap_or(0) as u64
}

/// Simulated days for 10, 100 and 1,000 services, computed once for all tests.
fn days() -> &'static [(usize, Day)] {
    static DAYS: std::sync::OnceLock<Vec<(usize, Day)>> = std::sync::OnceLock::new();
    DAYS.get_or_init(|| {
        std::thread::scope(|s| {
            let runs: Vec<_> = [10, 100, 1000]
                .into_iter()
                .map(|n| s.spawn(move || (n, day(n))))
                .collect();
            runs.into_iter().map(|r| r.join().unwrap()).collect()
        })
    })
}

fn table() -> String {
    let days = days();
    let mut out = String::from(
        "| services | Worker requests | Durable Object requests | rows written | rows read | \
         Workers KV writes (`STORE = \"kv\"`) |\n|---|---|---|---|---|---|\n",
    );
    for (n, d) in days {
        out += &format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            thousands(*n as u64),
            verdict(d.requests, WORKER_REQUESTS),
            verdict(d.requests, DO_REQUESTS),
            verdict(d.rows_written, ROWS_WRITTEN),
            verdict(d.rows_read, ROWS_READ),
            verdict(d.key_writes, KV_WRITES),
        );
    }
    let (max, bound) = largest(days[1], days[2]);
    let listed = api_keys_bound();
    out += &format!(
        "| **Free plan limit** | {} | {} | {} | {} | {} |\n\nPer day, heartbeats every 2 minutes \
         and the cron sweep every 5; percentages are of the Free plan's daily limit, ✗ marks \
         an excess. The largest count that fits the Free plan is **{max} services**, bound by \
         {bound}, with keys derived from `API_KEY_SECRET`; with the keys listed in one 5 KB \
         `API_KEYS` secret instead, {} (16-character ids, 32-character keys).\n",
        thousands(WORKER_REQUESTS),
        thousands(DO_REQUESTS),
        thousands(ROWS_WRITTEN),
        thousands(ROWS_READ),
        thousands(KV_WRITES),
        listed.min(max),
    );
    out
}

const START_MARK: &str = "<!-- cost table: generated by components/cloudflare/tests/costs.rs -->\n";
const END_MARK: &str = "<!-- end of cost table -->";

#[test]
fn an_ordinary_heartbeat_writes_one_row() {
    let (n, d) = days()[0];
    let beats = (n as u64) * 720;
    let sweeps = 288;
    assert_eq!(d.requests, beats + sweeps);
    assert!(
        d.rows_written <= beats + sweeps,
        "{} rows for {beats} beats and {sweeps} sweeps",
        d.rows_written
    );
    assert!(
        d.key_writes >= 3 * beats,
        "one key per row would write three per beat"
    );
}

#[test]
fn the_free_plan_fits_a_hundred_services_at_two_minute_beats() {
    let (_, d) = days()[1];
    assert!(
        d.requests <= WORKER_REQUESTS && d.requests <= DO_REQUESTS,
        "{d:?}"
    );
    assert!(d.rows_written <= ROWS_WRITTEN, "{d:?}");
    assert!(d.rows_read <= ROWS_READ, "{d:?}");
}

#[test]
fn the_deployment_guide_shows_the_computed_table() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/DEPLOYMENT.md");
    let doc = std::fs::read_to_string(path).unwrap();
    let table = table();
    let (Some(start), Some(end)) = (doc.find(START_MARK), doc.find(END_MARK)) else {
        panic!("docs/DEPLOYMENT.md lacks the cost table markers");
    };
    let current = &doc[start + START_MARK.len()..end];
    if std::env::var("UPDATE_DOCS").is_ok() {
        let updated = format!("{}{START_MARK}{table}{}", &doc[..start], &doc[end..]);
        std::fs::write(path, updated).unwrap();
        return;
    }
    assert_eq!(
        current, table,
        "the cost table is out of date: UPDATE_DOCS=1 cargo test -p heartbeat-worker --test costs"
    );
}
