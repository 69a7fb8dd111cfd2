//! Any path and query under the ping URLs (`/ping/{key}/{service}[/…]`, Healthchecks-style) and
//! the push URLs (`/api/push/{token}?…`, Uptime Kuma-style), with any method and body, is
//! answered within the API contract: never a panic or 500.
#![no_main]

use heartbeat_core::api::fleet::Fleet;
use heartbeat_core::api::Request;
use heartbeat_core::store::MemoryStore;
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(3, '\0');
    let target = parts.next().unwrap_or_default();
    let method = ["GET", "POST", "HEAD", "PUT"][target.len() % 4];
    let body = parts.nth(1).unwrap_or_default();
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let vars = BTreeMap::from([
        ("PING_KEY".to_string(), "pk".to_string()),
        ("PUSH_TOKENS".to_string(), r#"{"svc-0": "tok"}"#.to_string()),
    ]);
    let fleet = Fleet::new(2, vars);
    let store = MemoryStore::default();
    for prefix in ["/ping/pk/", "/api/push/", "/ping/"] {
        let req = Request {
            method: method.into(),
            path: format!("{prefix}{path}"),
            query: query.into(),
            body: body.as_bytes().to_vec(),
            ..Default::default()
        };
        let r = fleet.answer(&store, 1_700_000_000_000, &req);
        assert!(
            matches!(r.status, 200 | 400 | 401 | 404 | 405 | 413),
            "{} {}?{}: status {}",
            req.method,
            req.path,
            req.query,
            r.status
        );
    }
});
