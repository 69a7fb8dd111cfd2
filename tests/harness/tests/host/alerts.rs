//! `POST /api/alert` on the repository's configuration: auth, cooldown, bad input.

use super::support::{host, host_with};
use heartbeat_host::kv::AbsentCas;
use serde_json::json;

fn post(
    h: &super::support::TestHost,
    auth: Option<&str>,
    body: &[u8],
) -> heartbeat_conformance::Reply {
    let mut headers = vec![("content-type", "application/json")];
    let bearer;
    if let Some(a) = auth {
        bearer = format!("Bearer {a}");
        headers.push(("authorization", bearer.as_str()));
    }
    h.client
        .request("POST", "/api/alert", &headers, body)
        .unwrap()
}

#[test]
fn a_repeated_firing_alert_is_held_back_but_its_resolution_is_not() {
    let h = host(AbsentCas::Exact);
    let firing = json!({"title": "Disk almost full", "message": "93%", "severity": "critical", "source": "disk-watch"});
    assert_eq!(post(&h, None, firing.to_string().as_bytes()).status, 200);
    let again = post(&h, None, firing.to_string().as_bytes());
    assert_eq!(
        again.json()["alerts"][0]["suppressed"],
        true,
        "{}",
        again.body
    );
    assert_eq!(
        h.receiver.received().len(),
        1,
        "a repeat inside the cooldown is suppressed"
    );
    let mut resolved = firing.clone();
    resolved["status"] = json!("resolved");
    assert_eq!(post(&h, None, resolved.to_string().as_bytes()).status, 200);
    let got = h.receiver.received();
    assert_eq!(got.len(), 2, "resolution is never suppressed");
    assert_eq!(got[1].json()["status"], "resolved");
    assert_eq!(got[1].json()["type"], "alert");

    let log = h.client.get("/api/alerts").unwrap().json();
    let entries = log["entries"].as_array().unwrap();
    let seen: Vec<_> = entries
        .iter()
        .map(|e| {
            (
                e["status"].as_str().unwrap(),
                e["suppressed"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [("resolved", false), ("firing", true), ("firing", false)],
        "every alert received is logged, newest first"
    );
    assert_eq!(entries[2]["deliveries"][0]["ok"], true);
    assert_eq!(entries[2]["deliveries"][0]["channel"], "ops-webhook");
}

#[test]
fn alert_api_key_is_required_when_set() {
    let h = host_with(AbsentCas::Exact, |o| {
        o.variables
            .insert("alert_api_key".into(), "alert-secret-key".into());
    });
    let body = json!({"title": "t", "message": "m"}).to_string();
    assert_eq!(post(&h, None, body.as_bytes()).status, 401);
    assert_eq!(post(&h, Some("wrong"), body.as_bytes()).status, 401);
    assert!(
        h.receiver.received().is_empty(),
        "nothing sent without the key"
    );
    assert_eq!(
        post(&h, Some("alert-secret-key"), body.as_bytes()).status,
        200
    );
    assert_eq!(h.receiver.received().len(), 1);
    for b in h.client.bodies() {
        assert!(!b.contains("alert-secret-key"));
    }
}

#[test]
fn bad_alerts_get_a_clear_4xx_and_send_nothing() {
    let h = host(AbsentCas::Exact);
    let cases: [(&[u8], u16, &str); 4] = [
        (b"{not json", 400, "not valid JSON"),
        (br#"{"hello": "world"}"#, 400, "unrecognised alert"),
        (br#"{"title": "t"}"#, 400, "message is required"),
        (&[b'x'; 70 * 1024], 413, "larger than"),
    ];
    for (body, status, needle) in cases {
        let r = post(&h, None, body);
        assert_eq!(r.status, status, "{}", r.body);
        assert!(r.error().contains(needle), "{}", r.body);
    }
    let r = h.client.get("/api/alert").unwrap();
    assert_eq!(r.status, 405);
    assert!(h.receiver.received().is_empty());
}
