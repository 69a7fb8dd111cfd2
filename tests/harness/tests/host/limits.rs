//! Every way in — `POST /api/heartbeat`, a Healthchecks ping (finish and `/log`), an Uptime
//! Kuma push — keeps a message to the same 1,024 characters and a body to the same 64 KiB, so
//! what one form refuses another never stores. Sent over HTTP to heartbeat-host and read back
//! through `/api/logs`.

use super::compat::{host_with_urls, ALPHA_TOKEN as PUSH_TOKEN, PING_KEY};
use super::support::TestHost;
use heartbeat_conformance::fixture_key;
use heartbeat_core::limits::{MAX_BODY_BYTES, MAX_MESSAGE_CHARS};

fn host() -> TestHost {
    host_with_urls(|_| {})
}

/// A message of `chars` two-byte characters, so a byte limit would show as a wrong count.
fn message(chars: usize) -> String {
    "é".repeat(chars)
}

/// The newest entry's message in alpha's history, and how many entries it has.
fn newest(h: &TestHost) -> (String, usize) {
    let logs = h.client.logs("alpha").unwrap();
    let text = logs[0]["message"].as_str().unwrap_or_default().to_string();
    (text, logs.len())
}

/// Send `text` the way `form` does; the answer's status.
fn send(h: &TestHost, form: &str, text: &str) -> u16 {
    let reply = match form {
        "heartbeat" => h.client.beat(
            &fixture_key("alpha"),
            &serde_json::json!({"serviceId": "alpha", "message": text}),
        ),
        "ping" | "ping log" => {
            let suffix = if form == "ping" { "" } else { "/log" };
            let path = format!("/ping/{PING_KEY}/alpha{suffix}");
            h.client.request("POST", &path, &[], text.as_bytes())
        }
        "push" => {
            let msg: String = form_urlencoded::byte_serialize(text.as_bytes()).collect();
            h.client
                .get(&format!("/api/push/{PUSH_TOKEN}?status=up&msg={msg}"))
        }
        _ => unreachable!("{form}"),
    };
    reply.unwrap().status
}

#[test]
fn every_ingest_form_keeps_a_message_to_the_same_limit() {
    let h = host();
    for form in ["heartbeat", "ping", "ping log", "push"] {
        // At the limit: kept whole.
        let at_limit = message(MAX_MESSAGE_CHARS);
        assert_eq!(send(&h, form, &at_limit), 200, "{form}");
        assert_eq!(
            newest(&h).0,
            at_limit,
            "{form} keeps a message at the limit"
        );

        // One over: refused where the client sent JSON it can fix, cut where the job already ran.
        let (_, before) = newest(&h);
        let status = send(&h, form, &message(MAX_MESSAGE_CHARS + 1));
        let (text, after) = newest(&h);
        if form == "heartbeat" {
            assert_eq!(status, 400, "{form}");
            assert_eq!(after, before, "a refused heartbeat is not logged");
        } else {
            assert_eq!(status, 200, "{form}");
            assert_eq!(after, before + 1, "{form}");
            assert_eq!(text.chars().count(), MAX_MESSAGE_CHARS, "{form}");
            assert!(text.ends_with('…'), "{form} marks the cut");
        }
    }
}

#[test]
fn a_body_over_the_limit_is_refused_by_every_form_that_has_one() {
    let h = host();
    let huge = "x".repeat(MAX_BODY_BYTES + 1);
    for path in [
        "/api/heartbeat".to_string(),
        format!("/ping/{PING_KEY}/alpha"),
    ] {
        let auth = format!("Bearer {}", fixture_key("alpha"));
        let r = h
            .client
            .request("POST", &path, &[("authorization", &auth)], huge.as_bytes())
            .unwrap();
        assert_eq!(r.status, 413, "{path}: {}", r.body);
        assert!(
            r.error().contains(&MAX_BODY_BYTES.to_string()),
            "{path}: {}",
            r.body
        );
    }
    assert!(
        h.client.logs("alpha").unwrap().is_empty(),
        "nothing was kept"
    );
}
