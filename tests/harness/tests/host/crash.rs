//! `kill -9` under load, over and over, on the durable SQLite store (`heartbeat-host up`).
//! After the last restart and one sweep: every acknowledged heartbeat is there, every stored
//! state and history reads back whole and consistent, and every transition in the history was
//! told — none missed, none invented. A transition may be told twice only when a kill lands
//! between the vendor's answer and the store write that settles it; the repeat is the same
//! message (service, event, `at`), and the count is printed.

use super::fleet::{
    assert_told_all, check_histories, event_ids, id, key, setting, told, Fleet, Told,
};
use super::process::Process;
use heartbeat_conformance::receiver::Receiver;
use heartbeat_conformance::Client;
use heartbeat_host::kv::SqliteBackend;
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SERVICES: usize = 48;
/// The first half flap between up, down and degraded; the rest only ever say up.
const FLAPPERS: usize = SERVICES / 2;
const WORKERS: usize = 8;
/// REQUEST_TIMEOUT (ms) given to the host: a crashed claim is taken over after three of them.
const TIMEOUT_MS: u64 = 1000;

/// A small deterministic generator, so a failing run can be repeated with `CRASH_SEED`.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// What the clients saw: beats the host acknowledged, and any answer that was not a 200.
#[derive(Default)]
struct Seen {
    acked: Vec<(usize, String)>,
    refused: Vec<String>,
    bodies: Vec<String>,
}

/// Beat at the host from `WORKERS` threads until `stop`; a sweep now and then, so the
/// recovery of earlier crashes is itself interrupted too.
fn load(url: &str, round: u64, seed: u64, stop: &Arc<AtomicBool>, seen: &Arc<Mutex<Seen>>) {
    let workers: Vec<_> = (0..WORKERS as u64)
        .map(|w| {
            let (url, stop, seen) = (url.to_string(), stop.clone(), seen.clone());
            std::thread::spawn(move || {
                let client = Client::new(&url);
                let mut rng = Rng(seed ^ (round << 32) ^ (w + 1).wrapping_mul(0x9e37_79b9));
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    if rng.below(64) == 0 {
                        if let Ok(r) = client.request("POST", "/api/sweep", &[], &[]) {
                            if r.status != 200 {
                                seen.lock().unwrap().refused.push(r.body);
                            }
                        }
                        continue;
                    }
                    let i = rng.below(SERVICES as u64) as usize;
                    let status = if i < FLAPPERS {
                        ["up", "down", "degraded"][rng.below(3) as usize]
                    } else {
                        "up"
                    };
                    let message = format!("r{round}-w{w}-{n}");
                    let body = json!({"serviceId": id(i), "status": status, "message": message});
                    // A transport error is a beat cut off by the kill: not acknowledged.
                    if let Ok(r) = client.beat(&key(i), &body) {
                        let mut s = seen.lock().unwrap();
                        if r.status == 200 {
                            s.acked.push((i, message));
                        } else {
                            s.refused.push(format!("HTTP {}: {}", r.status, r.body));
                        }
                    }
                }
                seen.lock().unwrap().bodies.extend(client.bodies());
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
}

#[test]
fn kill_9_under_load_loses_no_acknowledged_beat_and_misses_no_transition() {
    let rounds = setting("CRASH_ROUNDS", 20);
    let seed = setting(
        "CRASH_SEED",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
            | 1,
    );
    eprintln!("crash test: {rounds} rounds, CRASH_SEED={seed}");
    let receiver = Receiver::start().unwrap();
    let fleet = Fleet::new("crash", SERVICES);
    let (config, data) = (fleet.config.clone(), fleet.data());
    let variables = fleet.variables(receiver.addr, TIMEOUT_MS);

    let seen = Arc::new(Mutex::new(Seen::default()));
    let mut rng = Rng(seed);
    let mut output = String::new();
    let started = Instant::now();
    for round in 0..rounds {
        let mut host = Process::spawn(&data, &config, &variables);
        let stop = Arc::new(AtomicBool::new(false));
        let driver = {
            let (url, stop, seen) = (host.url.clone(), stop.clone(), seen.clone());
            std::thread::spawn(move || load(&url, round, seed, &stop, &seen))
        };
        std::thread::sleep(Duration::from_millis(200 + rng.below(1300)));
        host.kill();
        stop.store(true, Ordering::Relaxed);
        driver.join().unwrap();
        output.push_str(&host.output());
    }
    let load_time = started.elapsed();

    // The last start: wait out the lease on the changes the last kill interrupted, then sweep.
    let host = Process::spawn(&data, &config, &variables);
    std::thread::sleep(Duration::from_millis(3 * TIMEOUT_MS + 500));
    let client = Client::new(&host.url);
    let swept = client.request("POST", "/api/sweep", &[], &[]).unwrap();
    assert_eq!(swept.status, 200, "{}", swept.body);

    let seen = std::mem::take(&mut *seen.lock().unwrap());
    assert!(
        seen.refused.is_empty(),
        "answers other than 200: {:?}",
        &seen.refused[..seen.refused.len().min(5)]
    );
    // Beats written but cut off before their answer may be there too.
    fleet.check_logs(&client, &seen.acked, false);
    let status = client.get("/api/status").unwrap();
    assert_eq!(status.status, 200, "{}", status.body);
    output.push_str(&host.output());
    drop(host);

    // The store itself: every state and history decodes, nothing is left unsent, each history
    // is one unbroken chain ending in the state's status; and each transition was told.
    let store = SqliteBackend::open(&data.join("heartbeat.db")).unwrap();
    let expected = check_histories(&*store, SERVICES, FLAPPERS);
    let (told, cut_off) = told(&receiver);
    let repeats = assert_told_all(&told, &expected);
    assert_event_ids_name_events(&event_ids(&receiver), &expected);
    // A repeat needs a kill between a delivery and its settle: at most one per request in
    // flight, and each worker has one in flight.
    assert!(
        repeats as u64 <= rounds * WORKERS as u64,
        "{repeats} repeated notifications in {rounds} kills"
    );

    for secret in fleet.keys.values() {
        assert!(
            !output.contains(secret.as_str()),
            "a key in the host's output"
        );
        assert!(
            seen.bodies.iter().all(|b| !b.contains(secret.as_str())),
            "a key in a response"
        );
    }
    assert!(
        !output.contains(&receiver.addr.to_string()),
        "the webhook URL in the output"
    );
    eprintln!(
        "crash test: {rounds} kills in {load_time:.1?}, {} beats acknowledged, all present; \
         {} transitions, all told; {repeats} told twice; {cut_off} deliveries cut off by a kill",
        seen.acked.len(),
        expected.len()
    );
}

/// A redelivery after a kill carries the event id of the first delivery: an id never names two
/// different events, and an event has no more ids than the times it happened.
fn assert_event_ids_name_events(ids: &[(String, Told)], expected: &[Told]) {
    use std::collections::{BTreeMap, BTreeSet};
    let mut events_of: BTreeMap<&str, BTreeSet<&Told>> = BTreeMap::new();
    let mut ids_of: BTreeMap<&Told, BTreeSet<&str>> = BTreeMap::new();
    for (id, told) in ids {
        events_of.entry(id).or_default().insert(told);
        ids_of.entry(told).or_default().insert(id);
    }
    for (id, events) in &events_of {
        assert_eq!(events.len(), 1, "event id {id} names {events:?}");
    }
    for (told, ids) in &ids_of {
        let happened = expected.iter().filter(|e| e == told).count();
        assert!(
            ids.len() <= happened,
            "{told:?} happened {happened} times but was told under {ids:?}"
        );
    }
}
