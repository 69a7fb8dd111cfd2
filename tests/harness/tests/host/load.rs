//! 64 connections for 30 s (`LOAD_SECONDS`) against `heartbeat-host up` on its durable SQLite
//! store, over 128 services, while the one vendor behind every notification fails: it stalls
//! past the timeout or answers 500. Then: no errors, and each service's log holds exactly the
//! beats that were acknowledged. A heartbeat that changes nothing never waits for a vendor, so
//! no such beat may take as long as one vendor timeout.

use super::fleet::{id, key, setting, Fleet};
use super::process::Process;
use heartbeat_conformance::receiver::{Receiver, Reply};
use heartbeat_conformance::Client;
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SERVICES: usize = 128;
/// Services that now and then report `down`; the rest only ever say `up`.
const FLAPPERS: usize = 2;
const CONNECTIONS: usize = 64;
/// REQUEST_TIMEOUT (ms) given to the host.
const TIMEOUT_MS: u64 = 3000;

#[derive(Default)]
struct Seen {
    acked: Vec<(usize, String)>,
    failures: Vec<String>,
    /// Milliseconds per acknowledged beat: steady services, then the flapping ones.
    steady: Vec<u64>,
    flapping: Vec<u64>,
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[test]
fn sixty_four_connections_lose_nothing_and_a_failing_vendor_does_not_slow_ingest() {
    let seconds = setting("LOAD_SECONDS", 30);
    let receiver = Receiver::start().unwrap();
    // Every other delivery attempt hangs past the timeout, the rest fail at once.
    receiver.respond_with(500);
    let stall = Duration::from_millis(2 * TIMEOUT_MS);
    receiver.script(
        "/hook",
        (0..500)
            .map(|n| match n % 2 {
                0 => Reply::status(500).after(stall),
                _ => Reply::status(500),
            })
            .collect(),
    );
    let fleet = Fleet::new("load", SERVICES);
    let host = Process::spawn(
        &fleet.data(),
        &fleet.config,
        &fleet.variables(receiver.addr, TIMEOUT_MS),
    );

    let seen = Arc::new(Mutex::new(Seen::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let workers: Vec<_> = (0..CONNECTIONS)
        .map(|c| {
            let (url, stop, seen) = (host.url.clone(), stop.clone(), seen.clone());
            std::thread::spawn(move || {
                // One client, one kept-alive connection.
                let client = Client::new(&url);
                let mut n = 0usize;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    // Mixed services: each connection walks all of them from its own offset.
                    let i = (c * 7 + n * 13) % SERVICES;
                    let status = if i < FLAPPERS && n.is_multiple_of(16) {
                        "down"
                    } else {
                        "up"
                    };
                    let message = format!("c{c}-{n}");
                    let body = json!({"serviceId": id(i), "status": status, "message": message});
                    let sent = Instant::now();
                    let reply = client.beat(&key(i), &body);
                    let ms = sent.elapsed().as_millis() as u64;
                    let mut s = seen.lock().unwrap();
                    match reply {
                        Ok(r) if r.status == 200 => {
                            s.acked.push((i, message));
                            if i < FLAPPERS {
                                s.flapping.push(ms);
                            } else {
                                s.steady.push(ms);
                            }
                        }
                        Ok(r) => s.failures.push(format!("HTTP {}: {}", r.status, r.body)),
                        Err(e) => s.failures.push(format!("{e:#}")),
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    let elapsed = started.elapsed();

    let mut seen = std::mem::take(&mut *seen.lock().unwrap());
    assert!(
        seen.failures.is_empty(),
        "{} failed requests, e.g. {:?}",
        seen.failures.len(),
        &seen.failures[..seen.failures.len().min(5)]
    );
    let client = Client::new(&host.url);
    fleet.check_logs(&client, &seen.acked, true);

    // The vendor was really failing, and each failure was recorded.
    let deliveries = client
        .get(&format!("/api/deliveries?serviceId={}", id(0)))
        .unwrap()
        .json();
    let entries = deliveries["entries"].as_array().unwrap();
    assert!(!entries.is_empty(), "the flapping service notified");
    assert!(entries.iter().all(|d| d["ok"] == false), "{deliveries}");

    seen.steady.sort_unstable();
    seen.flapping.sort_unstable();
    let slowest = *seen.steady.last().unwrap();
    assert!(
        slowest < TIMEOUT_MS,
        "a heartbeat that changed nothing took {slowest} ms: it waited for the vendor"
    );
    eprintln!(
        "load: {CONNECTIONS} connections, {:.1?}, {} beats ({:.0}/s), 0 errors, all in the logs; \
         steady p50 {} ms, p99 {} ms, max {slowest} ms; flapping services p50 {} ms, max {} ms \
         ({} vendor calls, all failing)",
        elapsed,
        seen.acked.len(),
        seen.acked.len() as f64 / elapsed.as_secs_f64(),
        percentile(&seen.steady, 0.5),
        percentile(&seen.steady, 0.99),
        percentile(&seen.flapping, 0.5),
        seen.flapping.last().unwrap(),
        receiver.received().len(),
    );
}

/// With one turn to run in a component (`--max-in-flight 1`), a heartbeat whose `down` waits on
/// a hanging vendor gives its turn back: another service's heartbeat is answered meanwhile,
/// not after the vendor.
#[test]
fn a_request_waiting_on_a_vendor_gives_its_turn_to_the_next() {
    use super::support::host_with;
    use heartbeat_host::kv::AbsentCas;
    let h = host_with(AbsentCas::Exact, |o| o.max_in_flight = Some(1));
    h.beat("alpha", "up");
    h.beat("bravo", "up");
    h.receiver.script(
        "/T000/",
        vec![Reply::status(200).after(Duration::from_secs(5))],
    );
    let answered = Arc::new(AtomicBool::new(false));
    let down = {
        let (client, answered) = (Client::new(&h.running.url()), answered.clone());
        std::thread::spawn(move || {
            let body = json!({"serviceId": "alpha", "status": "down"});
            let r = client
                .beat(&heartbeat_conformance::fixture_key("alpha"), &body)
                .unwrap();
            answered.store(true, Ordering::SeqCst);
            r.status
        })
    };
    assert_eq!(
        h.receiver.wait_for(1, Duration::from_secs(30)).len(),
        1,
        "alpha's down reaches the vendor"
    );
    h.beat("bravo", "up");
    assert!(
        !answered.load(Ordering::SeqCst),
        "bravo was answered only after alpha's vendor: alpha kept its turn while waiting"
    );
    assert_eq!(down.join().unwrap(), 200);
    assert_eq!(h.told(), [("alpha".to_string(), "down".to_string())]);
}
