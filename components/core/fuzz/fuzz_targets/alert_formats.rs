//! Any body sent to `POST /api/alert` — Alertmanager, Grafana (unified or legacy) or generic,
//! detected from the body — is relayed or refused with a JSON `{"error"}`: never a panic or 500.
#![no_main]

use heartbeat_core::api::fleet::Fleet;
use heartbeat_core::api::Request;
use heartbeat_core::store::MemoryStore;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let fleet = Fleet::new(1, Default::default());
    let store = MemoryStore::default();
    let req = Request {
        method: "POST".into(),
        path: "/api/alert".into(),
        body: body.to_vec(),
        ..Default::default()
    };
    for at in [1_700_000_000_000, 1_700_000_060_000] {
        let r = fleet.answer(&store, at, &req);
        assert!(matches!(r.status, 200 | 400 | 413), "status {}", r.status);
        let json: serde_json::Value = serde_json::from_slice(&r.body).expect("a JSON answer");
        if r.status != 200 {
            assert!(json["error"].is_string(), "{json}");
        }
    }
});
