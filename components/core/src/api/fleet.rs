//! A fleet of identical services answered in-process with a clock set per request and no
//! notifications — what the store-cost count, the sweep benchmark and the Cloudflare cost
//! simulation share, so they measure the real API path the same way.

use super::{Context, Request, Response};
use crate::clock::ManualClock;
use crate::config::{Config, Settings};
use crate::layout::Layout;
use crate::notify::Nobody;
use crate::ready::resolve;
use crate::store::Store;
use std::collections::BTreeMap;

/// The fleet's `API_KEY_SECRET`: each service's key is derived, as large fleets run.
const FLEET_SECRET: &str = "fleet-secret-0123456789abcdef0123456789";

/// `n` services `svc-{i}` (threshold 300 s, no channels), each with its key derived from
/// [`FLEET_SECRET`].
pub struct Fleet {
    pub config: Config,
    pub secrets: BTreeMap<String, String>,
    pub settings: Settings,
}

impl Fleet {
    /// The fleet, with `vars` as further settings (`API_KEY_SECRET` is the fleet's own).
    pub fn new(n: usize, mut vars: BTreeMap<String, String>) -> Fleet {
        let services: Vec<_> = (0..n)
            .map(|i| format!(r#"{{"id": "svc-{i}", "stalenessThreshold": 300}}"#))
            .collect();
        let config = Config::parse(
            &format!(r#"{{"services": [{}]}}"#, services.join(",")),
            r#"{"enabled": true, "channels": []}"#,
        )
        .expect("the fleet's configuration is valid");
        vars.insert("API_KEY_SECRET".into(), FLEET_SECRET.into());
        let settings = Settings::from_secrets(&vars).expect("valid settings");
        Fleet {
            config,
            secrets: vars,
            settings,
        }
    }

    /// `POST /api/heartbeat` for service `i`.
    pub fn beat(i: usize) -> Request {
        Request {
            method: "POST".into(),
            path: "/api/heartbeat".into(),
            headers: vec![(
                "authorization".into(),
                format!(
                    "Bearer {}",
                    crate::auth::derived_key(FLEET_SECRET, &format!("svc-{i}"))
                ),
            )],
            body: format!(r#"{{"serviceId": "svc-{i}"}}"#).into_bytes(),
            ..Default::default()
        }
    }

    /// `POST /api/heartbeat` for service `i`, reporting `status`.
    pub fn beat_status(i: usize, status: &str) -> Request {
        let mut req = Fleet::beat(i);
        req.body = format!(r#"{{"serviceId": "svc-{i}", "status": "{status}"}}"#).into_bytes();
        req
    }

    /// `GET path` (the dashboard's routes).
    pub fn get(path: &str) -> Request {
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        Request {
            method: "GET".into(),
            path: path.into(),
            query: query.into(),
            ..Default::default()
        }
    }

    /// `POST /api/sweep`.
    pub fn sweep() -> Request {
        Request {
            method: "POST".into(),
            path: "/api/sweep".into(),
            ..Default::default()
        }
    }

    /// A fleet that sweeps only when asked (`SWEEP_OVERDUE_SECONDS=0`), as the benchmarks time
    /// each route on its own.
    pub fn swept_on_demand(n: usize) -> Fleet {
        Fleet::new(
            n,
            [("SWEEP_OVERDUE_SECONDS".to_string(), "0".to_string())].into(),
        )
    }

    /// Give every service the history of one that has run for months: `flaps` times down and
    /// back (through the API, one minute apart, ending before `until`) and `deliveries`
    /// delivery records to two channels, half of them failed (through the layout, as the
    /// notifier writes them; `MAX_DELIVERY_RECORDS` fill the log). What a whole-fleet read
    /// meets on a fleet that has lived.
    pub fn live_in<S: Store>(&self, store: &S, flaps: usize, deliveries: usize, until: i64) {
        use crate::layout::DeliveryRecord;
        use crate::model::Event;
        use crate::notification::Try;
        let layout = Layout {
            max_log_entries: self.settings.max_log_entries,
        };
        let start = until - 2 * 60_000 * flaps as i64;
        let records: Vec<DeliveryRecord> = (0..deliveries)
            .map(|r| {
                let ok = r % 2 == 0;
                let error = (!ok).then(|| "HTTP 503: upstream connect error".to_string());
                let tried = Try {
                    http_status: Some(if ok { 200 } else { 503 }),
                    latency_ms: 180,
                    error: error.clone(),
                };
                DeliveryRecord {
                    at: until - 1_000,
                    event: if r % 4 < 2 { Event::Down } else { Event::Up },
                    transition_at: until - 2_000,
                    channel: if r % 3 == 0 { "ops-slack" } else { "on-call" }.into(),
                    channel_type: "webhook".into(),
                    ok,
                    http_status: tried.http_status,
                    latency_ms: 540,
                    attempts: if ok { 1 } else { 3 },
                    error,
                    tries: vec![tried; if ok { 1 } else { 3 }],
                }
            })
            .collect();
        let clock = ManualClock::at(until);
        for i in 0..self.config.services.len() {
            for f in 0..flaps as i64 {
                for (step, status) in [(0, "down"), (1, "up")] {
                    let beat = Fleet::beat_status(i, status);
                    self.ok(store, start + (2 * f + step) * 60_000, &beat);
                }
            }
            layout
                .record_deliveries(store, &clock, &format!("svc-{i}"), &records)
                .expect("the delivery log is written");
        }
    }

    /// Answer `req` at `at` over `store`, which must succeed (benchmarks).
    pub fn ok<S: Store>(&self, store: &S, at: i64, req: &Request) {
        let res = self.answer(store, at, req);
        assert_eq!(res.status, 200, "{}", String::from_utf8_lossy(&res.body));
    }

    /// Answer `req` at `at` over `store`.
    pub fn answer<S: Store>(&self, store: &S, at: i64, req: &Request) -> Response {
        let clock = ManualClock::at(at);
        let ctx = Context {
            store,
            clock: &clock,
            notifier: &Nobody,
            config: &self.config,
            settings: &self.settings,
            secrets: &self.secrets,
        };
        if req.path == "/api/sweep" {
            resolve(super::sweep::handle(&ctx, req))
        } else if req.method == "GET" {
            resolve(super::dashboard::handle(&ctx, req))
        } else {
            resolve(super::ingest::handle(&ctx, req))
        }
    }
}
