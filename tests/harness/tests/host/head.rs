//! `HEAD` requests: answered with the headers and no body, and without the guest error Spin
//! prints when a component writes a body the host has closed ("Could not set
//! `ResponseOutparam`: StreamError::Closed", once per request).

use super::fleet::{key, Fleet};
use super::process::Process;
use heartbeat_conformance::Client;

#[test]
fn head_requests_get_headers_only_and_the_host_prints_no_error() {
    let fleet = Fleet::new("head", 1);
    let host = Process::spawn(
        &fleet.data(),
        &fleet.config,
        &[
            ("api_keys", serde_json::to_string(&fleet.keys).unwrap()),
            ("ping_key", "ping-key-head".to_string()),
        ],
    );
    let client = Client::new(&host.url);
    for path in [
        "/",
        "/api/status",
        "/ping/ping-key-head/svc-00",
        "/api/nope",
    ] {
        let get = client.get(path).unwrap();
        let head = client.request("HEAD", path, &[], &[]).unwrap();
        assert_eq!(head.status, get.status, "HEAD {path}");
        assert_eq!(head.body, "", "HEAD {path} has no body");
    }
    let beat = client
        .beat(&key(0), &serde_json::json!({"serviceId": "svc-00"}))
        .unwrap();
    assert_eq!(beat.status, 200, "{}", beat.body);
    let output = host.output();
    assert!(
        !output.contains("ResponseOutparam"),
        "the host printed a guest error: {output}"
    );
}
