//! Scale-out: several heartbeat-host instances on one Redis (Debian's `redis-server`, started
//! here on loopback with AOF and `appendfsync always`, stopped when the test ends). Every
//! heartbeat and transition must be accounted for across instances, and a Redis outage must
//! surface as 503 — with nothing acknowledged lost.
//!
//! The multi-instance tests run three times: on heartbeat-host's own Redis store (exact
//! compare-and-swap), and on the two ways Spin 4.0.2's Redis store answers swaps wrongly
//! ([`SpinRedis`]: every swap reports failure, or an aborted one reports success).

use super::fleet::{assert_told_all, check_histories, told, Fleet};
use super::support::{host_with, secrets, TestHost};
use heartbeat_conformance::redis::Redis;
use heartbeat_conformance::{fixture_key, SCENARIOS};
use heartbeat_core::layout::{log_key, LogChunk, LOG_SLOTS};
use heartbeat_host::kv::{AbsentCas, Backend, RedisBackend, SpinRedis};
use heartbeat_host::manifest::ManifestSource;
use heartbeat_host::StoreChoice;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Stdio};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

/// A Redis server for one test in one mode.
fn redis_for(test: &str, spin: Option<SpinRedis>) -> Redis {
    let mode = match spin {
        None => "exact",
        Some(SpinRedis::AsReleased) => "spin",
        Some(SpinRedis::UnwatchMended) => "spin-mended",
    };
    Redis::start(&format!("{test}-{mode}"))
}

/// An instance on the fixture config whose store is `redis`, behaving as `spin` says.
fn instance(redis: &Redis, spin: Option<SpinRedis>, sweep_every: Option<Duration>) -> TestHost {
    instance_with(redis, spin, |o| o.sweep_every = sweep_every)
}

fn instance_with(
    redis: &Redis,
    spin: Option<SpinRedis>,
    tweak: impl FnOnce(&mut heartbeat_host::HostOptions),
) -> TestHost {
    let url = redis.url();
    host_with(AbsentCas::Exact, move |o| {
        o.store = StoreChoice::Redis(url);
        o.spin_redis = spin;
        o.sweep_every = None;
        tweak(o);
    })
}

/// Each test, on each store the components must be right on.
macro_rules! on_every_redis_store {
    ($($name:ident),* $(,)?) => {
        mod heartbeat_host_redis {
            $(#[test] #[cfg_attr(missing_redis, ignore = "needs redis-server: apt-get install redis-server")] fn $name() { super::$name(None) })*
        }
        mod spin_4_0_2_redis {
            $(#[test] #[cfg_attr(missing_redis, ignore = "needs redis-server: apt-get install redis-server")] fn $name() { super::$name(Some(super::SpinRedis::AsReleased)) })*
        }
        mod spin_4_0_2_redis_unwatch_mended {
            $(#[test] #[cfg_attr(missing_redis, ignore = "needs redis-server: apt-get install redis-server")] fn $name() { super::$name(Some(super::SpinRedis::UnwatchMended)) })*
        }
    };
}

on_every_redis_store!(
    the_conformance_suite_passes_against_each_of_three_instances_on_one_redis,
    concurrent_heartbeats_over_three_instances_lose_nothing,
    flapping_heartbeats_from_three_instances_tell_each_transition_once,
    a_silence_is_notified_once_by_three_sweeping_instances_and_so_is_the_return,
    overdue_sweeps_claimed_from_requests_on_three_instances_notify_once,
    a_redis_restart_under_load_loses_no_acknowledged_beat_and_answers_503_meanwhile,
);

fn the_conformance_suite_passes_against_each_of_three_instances_on_one_redis(
    spin: Option<SpinRedis>,
) {
    let redis = redis_for("conformance", spin);
    let hosts: Vec<TestHost> = (0..3).map(|_| instance(&redis, spin, None)).collect();
    for (i, h) in hosts.iter().enumerate() {
        for s in SCENARIOS {
            if let Err(e) = (s.run)(&h.client) {
                panic!("{} on instance {i}: {e:#}", s.name);
            }
        }
        for body in h.client.bodies() {
            for secret in secrets() {
                assert!(
                    !body.contains(&secret),
                    "instance {i}: a response contained a secret"
                );
            }
        }
    }
}

fn concurrent_heartbeats_over_three_instances_lose_nothing(spin: Option<SpinRedis>) {
    let redis = redis_for("concurrent", spin);
    let hosts: Vec<TestHost> = (0..3).map(|_| instance(&redis, spin, None)).collect();
    let services = heartbeat_conformance::FIXTURE_SERVICES;
    let barrier = Arc::new(Barrier::new(3 * 64));
    let acknowledged = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for (i, h) in hosts.iter().enumerate() {
            for t in 0..64 {
                let (barrier, acknowledged, client) =
                    (barrier.clone(), &acknowledged, h.client.clone());
                scope.spawn(move || {
                    let service = services[(i * 64 + t) % services.len()];
                    let message = format!("instance {i} thread {t}");
                    barrier.wait();
                    let r = client
                        .beat(
                            &fixture_key(service),
                            &json!({"serviceId": service, "message": message}),
                        )
                        .unwrap();
                    assert_eq!(r.status, 200, "{}", r.body);
                    let at = r.json()["receivedAt"].as_str().unwrap().to_string();
                    acknowledged.lock().unwrap().push((service, message, at));
                });
            }
        }
    });
    let acknowledged = acknowledged.into_inner().unwrap();
    assert_eq!(acknowledged.len(), 192);
    let mut sent: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let mut newest: BTreeMap<&str, String> = BTreeMap::new();
    for (service, message, at) in &acknowledged {
        sent.entry(service).or_default().insert(message.clone());
        let n = newest.entry(service).or_default();
        if at > n {
            *n = at.clone();
        }
    }
    // Every instance reads the same state.
    for h in &hosts {
        for (service, messages) in &sent {
            let logs = h.client.logs(service).unwrap();
            let logged: BTreeSet<String> = logs
                .iter()
                .map(|e| e["message"].as_str().unwrap().to_string())
                .collect();
            assert_eq!(logs.len(), messages.len(), "{service}: log count");
            assert_eq!(
                &logged, messages,
                "{service}: every acknowledged beat is logged once"
            );
            let status = h.client.service_status(service).unwrap();
            assert_eq!(
                status["lastHeartbeat"].as_str().unwrap(),
                newest[service],
                "{service}: last seen is the newest accepted beat"
            );
        }
    }
}

/// Rounds of 64 beats at once from three instances onto two services, one of them flapping
/// between up, down and degraded: the
/// history is one chain, every transition in it was told once, and every beat is logged once.
fn flapping_heartbeats_from_three_instances_tell_each_transition_once(spin: Option<SpinRedis>) {
    let redis = redis_for("flapping", spin);
    let fleet = Fleet::new("redis-flapping", 2);
    let hosts: Vec<TestHost> = (0..3)
        .map(|_| {
            instance_with(&redis, spin, |o| {
                o.manifest = ManifestSource::File(super::support::loopback_manifest());
                o.config_dir = Some(fleet.config.clone());
                let receiver = o.redirect_outbound.unwrap();
                for (k, v) in fleet.variables(receiver, 2000) {
                    o.variables.insert(k.to_string(), v);
                }
            })
        })
        .collect();
    let barrier = Barrier::new(64);
    let acked = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for t in 0..64 {
            let (barrier, acked, client) = (&barrier, &acked, hosts[t % 3].client.clone());
            scope.spawn(move || {
                // Four rounds of 64 beats at once. Service 0 flaps; service 1 only says up.
                for round in 0..4 {
                    let (i, status) = match t % 4 {
                        3 => (1, "up"),
                        n => (0, ["up", "down", "degraded"][(t / 4 + n + round) % 3]),
                    };
                    let message = format!("t{t} r{round}");
                    barrier.wait();
                    let body =
                        json!({"serviceId": super::fleet::id(i), "status": status, "message": message});
                    let r = client.beat(&super::fleet::key(i), &body).unwrap();
                    assert_eq!(r.status, 200, "{}", r.body);
                    acked.lock().unwrap().push((i, message));
                }
            });
        }
    });
    fleet.check_logs(&hosts[0].client, &acked.into_inner().unwrap(), true);
    let store = RedisBackend::open(&redis.url()).unwrap();
    let expected = check_histories(&store, 2, 1);
    assert!(
        expected.len() >= 2,
        "the flapping service changed state: {expected:?}"
    );
    let told: Vec<_> = hosts.iter().flat_map(|h| told(&h.receiver).0).collect();
    assert_eq!(
        assert_told_all(&told, &expected),
        0,
        "a transition was told twice"
    );
}

fn a_silence_is_notified_once_by_three_sweeping_instances_and_so_is_the_return(
    spin: Option<SpinRedis>,
) {
    let redis = redis_for("sweep", spin);
    let hosts: Vec<TestHost> = (0..3)
        .map(|_| instance(&redis, spin, Some(Duration::from_millis(100))))
        .collect();
    let events = || -> Vec<(String, String)> {
        hosts
            .iter()
            .flat_map(|h| h.deliveries())
            .filter(|d| d["service"]["id"] == "alpha")
            .map(|d| {
                (
                    d["service"]["id"].as_str().unwrap().into(),
                    d["event"].as_str().unwrap().into(),
                )
            })
            .collect()
    };
    hosts[0].beat("alpha", "up");
    // Every instance's clock passes the 60 s threshold; all three sweep every 100 ms.
    for h in &hosts {
        h.advance(61);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while events().is_empty() {
        assert!(
            Instant::now() < deadline,
            "no down notification within 10 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // Give the other instances many more sweeps to (wrongly) repeat it.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(events(), [("alpha".to_string(), "down".to_string())]);

    hosts[2].beat("alpha", "up");
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(
        events(),
        [
            ("alpha".to_string(), "down".to_string()),
            ("alpha".to_string(), "up".to_string())
        ],
        "the return is told once"
    );
}

fn a_redis_restart_under_load_loses_no_acknowledged_beat_and_answers_503_meanwhile(
    spin: Option<SpinRedis>,
) {
    let mut redis = redis_for("restart", spin);
    let h = instance(&redis, spin, None);
    let services = heartbeat_conformance::FIXTURE_SERVICES;
    let stop = std::sync::atomic::AtomicBool::new(false);
    let acknowledged = Mutex::new(Vec::<(&str, String)>::new());
    let refused = Mutex::new(Vec::<(u16, String)>::new());
    std::thread::scope(|scope| {
        for t in 0..4 {
            let (stop, acknowledged, refused, client) =
                (&stop, &acknowledged, &refused, h.client.clone());
            scope.spawn(move || {
                let mut n = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let service = services[(t * 7 + n) % services.len()];
                    let message = format!("t{t} n{n}");
                    n += 1;
                    match client.beat(
                        &fixture_key(service),
                        &json!({"serviceId": service, "message": message}),
                    ) {
                        Ok(r) if r.status == 200 => {
                            acknowledged.lock().unwrap().push((service, message))
                        }
                        Ok(r) => refused.lock().unwrap().push((r.status, r.body)),
                        Err(e) => refused.lock().unwrap().push((0, e.to_string())),
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
            });
        }
        std::thread::sleep(Duration::from_millis(700));
        redis.kill();
        std::thread::sleep(Duration::from_millis(1500));
        redis.restart();
        // Service resumes by itself: beats are acknowledged again without touching the host.
        let resumed = acknowledged.lock().unwrap().len();
        let deadline = Instant::now() + Duration::from_secs(15);
        while acknowledged.lock().unwrap().len() < resumed + 20 {
            assert!(
                Instant::now() < deadline,
                "heartbeats were not acknowledged again after Redis came back"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    });

    let refused = refused.into_inner().unwrap();
    assert!(!refused.is_empty(), "no request met the outage");
    for (status, body) in &refused {
        assert_eq!(*status, 503, "during the outage: {status} {body}");
        let error: serde_json::Value = serde_json::from_str(body).unwrap();
        assert!(
            error["error"].as_str().unwrap().contains("unavailable"),
            "{body}"
        );
        assert!(
            !body.contains("127.0.0.1"),
            "the error leaks internals: {body}"
        );
    }
    let acknowledged = acknowledged.into_inner().unwrap();
    let mut by_service: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for (service, message) in acknowledged {
        by_service.entry(service).or_default().insert(message);
    }
    for (service, messages) in by_service {
        assert!(
            messages.len() <= 1000,
            "more beats than the log keeps; shorten the load"
        );
        let logged: BTreeSet<String> = h
            .client
            .logs(service)
            .unwrap()
            .iter()
            .map(|e| e["message"].as_str().unwrap().to_string())
            .collect();
        let lost: Vec<&String> = messages.difference(&logged).collect();
        assert!(
            lost.is_empty(),
            "{service}: acknowledged but lost: {lost:?}"
        );
    }
}

#[test]
#[cfg_attr(
    missing_redis,
    ignore = "needs redis-server: apt-get install redis-server"
)]
fn the_redis_backend_is_atomic_and_lays_keys_out_as_spin_does() {
    let mut redis = Redis::start("backend");
    let b = RedisBackend::open(&redis.url()).unwrap();
    assert_eq!(b.get("default", "k").unwrap(), None);
    assert_eq!(b.increment("default", "svc/a/seq", 1).unwrap(), 1);
    assert_eq!(b.increment("default", "svc/a/seq", 2).unwrap(), 3);
    // A Redis integer, as Spin's Redis store keeps counters.
    assert_eq!(
        b.get("default", "svc/a/seq").unwrap().as_deref(),
        Some(&b"3"[..])
    );
    assert!(b.cas("default", "k", None, b"a").unwrap());
    assert!(
        !b.cas("default", "k", None, b"b").unwrap(),
        "absent means absent"
    );
    assert!(!b.cas("default", "k", Some(b"x"), b"b").unwrap());
    assert!(b
        .cas("default", "k", Some(b"a"), b"\x00\xffbinary")
        .unwrap());
    assert_eq!(
        b.get("default", "k").unwrap().as_deref(),
        Some(&b"\x00\xffbinary"[..])
    );
    assert_eq!(b.keys("default").unwrap(), ["k", "svc/a/seq"]);
    b.delete("default", "k").unwrap();
    assert_eq!(b.get("default", "k").unwrap(), None);

    // 8 threads × 50 increments through compare-and-swap: none lost.
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                for _ in 0..50 {
                    loop {
                        let seen = b.get("default", "n").unwrap();
                        let next = seen
                            .as_deref()
                            .map(|v| std::str::from_utf8(v).unwrap().parse::<u64>().unwrap())
                            .unwrap_or(0)
                            + 1;
                        if b.cas("default", "n", seen.as_deref(), next.to_string().as_bytes())
                            .unwrap()
                        {
                            break;
                        }
                    }
                }
            });
        }
    });
    assert_eq!(b.get("default", "n").unwrap().as_deref(), Some(&b"400"[..]));

    redis.kill();
    let e = b.get("default", "n").unwrap_err();
    assert!(
        format!("{e:#}").contains("Redis at redis://127.0.0.1"),
        "{e:#}"
    );
    redis.restart();
    assert_eq!(
        b.get("default", "n").unwrap().as_deref(),
        Some(&b"400"[..]),
        "AOF kept it; the backend reconnected"
    );
}

/// `heartbeat-host up` as a child process on `store_args`; returns it and the URL it printed.
fn up(store_args: &[&str]) -> (Child, String, String) {
    use std::io::{BufRead, BufReader};
    let mut child = super::support::heartbeat_host()
        .current_dir(super::support::root())
        .args(["up", "--listen", "127.0.0.1:0", "--sweep-every", "0"])
        .args(["--config", heartbeat_conformance::FIXTURE_CONFIG_DIR])
        .args(store_args)
        .env(
            "SPIN_VARIABLE_API_KEYS",
            heartbeat_conformance::fixture_api_keys(),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {first:?}"))
        .to_string();
    (child, url, first)
}

#[test]
#[cfg_attr(
    missing_redis,
    ignore = "needs redis-server: apt-get install redis-server"
)]
fn the_cli_takes_redis_from_a_flag_or_from_spins_runtime_config_without_showing_the_password() {
    const PASSWORD: &str = "redis-secret-4c1d";
    let redis = Redis::start_with("cli", Some(PASSWORD));
    let dir = std::env::temp_dir().join(format!("hb-redis-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("runtime-config.toml");
    std::fs::write(
        &file,
        format!(
            "[key_value_store.default]\ntype = \"redis\"\nurl = \"{}\"\n",
            redis.url()
        ),
    )
    .unwrap();

    let (mut a, url_a, banner_a) = up(&["--runtime-config-file", file.to_str().unwrap()]);
    let (mut b, url_b, banner_b) = up(&["--kv", &redis.url()]);
    for banner in [&banner_a, &banner_b] {
        assert!(
            banner.contains(&format!("Redis at redis://127.0.0.1:{}", redis.port)),
            "{banner}"
        );
        assert!(
            !banner.contains(PASSWORD),
            "the password was printed: {banner}"
        );
    }
    let beat = heartbeat_conformance::Client::new(&url_a)
        .beat(
            &fixture_key("alpha"),
            &json!({"serviceId": "alpha", "message": "via a"}),
        )
        .unwrap();
    assert_eq!(beat.status, 200, "{}", beat.body);
    let seen = heartbeat_conformance::Client::new(&url_b)
        .logs("alpha")
        .unwrap();
    assert_eq!(
        seen[0]["message"], "via a",
        "the second instance reads the first one's beat"
    );

    // A third behaves as Spin's Redis store does, and the components still agree with the others.
    let (mut c, url_c, _) = up(&["--kv", &redis.url(), "--spin-redis", "as-released"]);
    let client_c = heartbeat_conformance::Client::new(&url_c);
    let beat = client_c
        .beat(
            &fixture_key("alpha"),
            &json!({"serviceId": "alpha", "message": "via spin"}),
        )
        .unwrap();
    assert_eq!(beat.status, 200, "{}", beat.body);
    let seen = client_c.logs("alpha").unwrap();
    let messages: Vec<&str> = seen.iter().filter_map(|e| e["message"].as_str()).collect();
    assert_eq!(messages, ["via spin", "via a"]);

    for c in [&mut a, &mut b, &mut c] {
        let _ = c.kill();
        let _ = c.wait();
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn overdue_sweeps_claimed_from_requests_on_three_instances_notify_once(spin: Option<SpinRedis>) {
    let redis = redis_for("overdue", spin);
    // No timers: only the safety net — a request that finds the last sweep overdue runs one.
    let hosts: Vec<TestHost> = (0..3)
        .map(|_| {
            instance_with(&redis, spin, |o| {
                o.variables
                    .insert("sweep_overdue_seconds".into(), "30".into());
            })
        })
        .collect();
    hosts[1].beat("alpha", "up");
    for h in &hosts {
        h.advance(61);
    }
    let barrier = Barrier::new(3 * 8);
    std::thread::scope(|s| {
        for h in &hosts {
            for _ in 0..8 {
                let (barrier, client) = (&barrier, h.client.clone());
                s.spawn(move || {
                    barrier.wait();
                    for _ in 0..5 {
                        assert_eq!(client.get("/api/status").unwrap().status, 200);
                    }
                });
            }
        }
    });
    let down: Vec<serde_json::Value> = hosts
        .iter()
        .flat_map(|h| h.deliveries())
        .filter(|d| d["service"]["id"] == "alpha")
        .collect();
    assert_eq!(down.len(), 1, "{down:?}");
    assert_eq!(down[0]["event"], "down");
}

#[test]
#[cfg_attr(
    missing_redis,
    ignore = "needs redis-server: apt-get install redis-server"
)]
fn spins_redis_store_is_reproduced_command_for_command() {
    let redis = Redis::start("spin-backend");
    for spin in [SpinRedis::AsReleased, SpinRedis::UnwatchMended] {
        let b = RedisBackend::open(&redis.url()).unwrap().as_spin(spin);
        b.set("default", "k", b"0").unwrap();
        // Two handles watch the key before either swaps.
        let mut first = b.watch("default", "k").unwrap().unwrap();
        let mut second = b.watch("default", "k").unwrap().unwrap();
        assert_eq!(first.current().unwrap().as_deref(), Some(&b"0"[..]));
        assert_eq!(second.current().unwrap().as_deref(), Some(&b"0"[..]));
        let first_said = first.swap(b"1").unwrap();
        let second_said = second.swap(b"2").unwrap();
        assert_eq!(
            b.get("default", "k").unwrap().as_deref(),
            Some(&b"1"[..]),
            "{spin:?}: the first swap wrote, the second was aborted"
        );
        match spin {
            SpinRedis::AsReleased => assert!(
                !first_said && !second_said,
                "{spin:?}: every swap reports failure"
            ),
            SpinRedis::UnwatchMended => assert!(
                first_said && second_said,
                "{spin:?}: the aborted swap reports success"
            ),
        }
        let e = b
            .get_many("default", vec!["k".into(), "other".into()])
            .unwrap_err();
        assert!(
            format!("{e:#}").contains("wrong number of arguments"),
            "{e:#}"
        );
    }
}

/// 32 beats at once onto one service through an instance that behaves as `spin` says, on a
/// store where another host has left the verdict "exact". Returns (refused, acknowledged but
/// not in the log) and the verdict afterwards.
fn beats_after_an_exact_verdict(spin: SpinRedis) -> (usize, usize, serde_json::Value) {
    let redis = redis_for("trusting", Some(spin));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let verdict = json!({"exact": true, "at": now});
    let store = RedisBackend::open(&redis.url()).unwrap();
    store
        .set("default", "meta/cas", verdict.to_string().as_bytes())
        .unwrap();
    let h = instance(&redis, Some(spin), None);
    let barrier = Barrier::new(32);
    let acked = Mutex::new(BTreeSet::new());
    let refused = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for t in 0..32 {
            let (barrier, acked, refused, client) = (&barrier, &acked, &refused, h.client.clone());
            scope.spawn(move || {
                barrier.wait();
                let message = format!("t{t}");
                let r = client
                    .beat(
                        &fixture_key("alpha"),
                        &json!({"serviceId": "alpha", "message": message}),
                    )
                    .unwrap();
                if r.status == 200 {
                    acked.lock().unwrap().insert(message);
                } else {
                    refused.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            });
        }
    });
    // Straight from the store: reads through the API fail too while the components trust the
    // store's batch read (Spin's sends `KEYS` with the key list).
    let logged: BTreeSet<String> = (0..LOG_SLOTS)
        .filter_map(|slot| store.get("default", &log_key("alpha", slot)).unwrap())
        .flat_map(|raw| serde_json::from_slice::<LogChunk>(&raw).unwrap().entries)
        .filter_map(|e| e.message)
        .collect();
    let lost = acked.into_inner().unwrap().difference(&logged).count();
    let refused = refused.into_inner();
    eprintln!(
        "{spin:?} after an exact verdict: {refused} of 32 refused, {lost} acknowledged but lost"
    );
    let verdict = store.get("default", "meta/cas").unwrap().unwrap();
    (refused, lost, serde_json::from_slice(&verdict).unwrap())
}

/// Regression: heartbeat-host (exact) checked a shared Redis first, and Spin's instances then
/// trusted their own swap, which reports every write it makes as failed. The first such write
/// gives it away: from then on every host swaps under the lock.
#[test]
#[cfg_attr(
    missing_redis,
    ignore = "needs redis-server: apt-get install redis-server"
)]
fn spin_as_released_corrects_an_exact_verdict_left_by_another_host() {
    let (refused, lost, verdict) = beats_after_an_exact_verdict(SpinRedis::AsReleased);
    assert_eq!((refused, lost), (0, 0));
    assert_eq!(verdict["exact"], false, "{verdict}");
}

/// The proof that the multi-instance tests would catch a regression: a swap that reports
/// success for an aborted write cannot be caught, so components told by a planted verdict that
/// the swap is exact trust it — and acknowledged heartbeats are lost.
#[test]
#[cfg_attr(
    missing_redis,
    ignore = "needs redis-server: apt-get install redis-server"
)]
fn trusting_the_swap_of_spins_redis_store_with_unwatch_mended_loses_heartbeats() {
    let (refused, lost, _) = beats_after_an_exact_verdict(SpinRedis::UnwatchMended);
    assert!(
        refused > 0 || lost > 0,
        "trusting the swap went unnoticed; the multi-instance tests prove nothing"
    );
}
