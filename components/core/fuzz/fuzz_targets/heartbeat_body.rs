//! Any body sent to `POST /api/heartbeat` gets an answer the API contract allows — never a
//! panic, never a 500 — and a refusal is a JSON `{"error"}`.
#![no_main]

use heartbeat_core::api::fleet::Fleet;
use heartbeat_core::store::MemoryStore;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let fleet = Fleet::new(2, Default::default());
    let store = MemoryStore::default();
    let mut req = Fleet::beat(0);
    req.body = body.to_vec();
    let r = fleet.answer(&store, 1_700_000_000_000, &req);
    check(&r);
    // Against a service that already has a state, too.
    let r = fleet.answer(&store, 1_700_000_001_000, &req);
    check(&r);
});

fn check(r: &heartbeat_core::api::Response) {
    assert!(
        matches!(r.status, 200 | 400 | 401 | 404 | 413),
        "status {}",
        r.status
    );
    let json: serde_json::Value = serde_json::from_slice(&r.body).expect("a JSON answer");
    if r.status != 200 {
        assert!(json["error"].is_string(), "{json}");
    }
}
