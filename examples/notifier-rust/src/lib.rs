//! A notifier component of your own, in Rust (docs/EXTENDING.md): it exports
//! `heartbeat:monitor/notifier@1.0.0` and posts every event as a small JSON document to the URL
//! in its configuration variable `rust_notifier_url`.
//!
//! Build: `cargo build --target wasm32-wasip2 --release -p example-notifier-rust`, then point
//! the `heartbeat:monitor/extra-notifier` dependency of ingest, sweep and dashboard at it in
//! spin.toml.
#![expect(unsafe_code, reason = "wit-bindgen generates the export glue")]

use ::wasi::clocks::monotonic_clock;
use ::wasi::http::outgoing_handler;
use ::wasi::http::types::{
    ErrorCode, Fields, Method, OutgoingBody, OutgoingRequest, RequestOptions, Scheme,
};
use bindings::exports::heartbeat::monitor::notifier::Guest;
use bindings::heartbeat::monitor::types::{Attempt, Delivery, EventKind, Notification};
use bindings::wasi::config::store as config;

mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "heartbeat:monitor/custom-notifier@1.0.0",
        generate_all,
    });
}

/// The name this notifier's deliveries carry in the delivery log.
const CHANNEL: &str = "rust-notifier";
/// Seconds to connect and to wait for the answer: well inside the host's deadline.
const TIMEOUT_NS: u64 = 5_000_000_000;

struct RustNotifier;

impl Guest for RustNotifier {
    fn deliver(n: Notification) -> Vec<Delivery> {
        vec![send(&n)]
    }

    /// `heartbeat-host notify-test rust-notifier`: only when the name is ours.
    fn deliver_to(channel: String, n: Notification) -> Vec<Delivery> {
        if channel == CHANNEL {
            vec![send(&n)]
        } else {
            Vec::new()
        }
    }
}

bindings::export!(RustNotifier with_types_in bindings);

fn send(n: &Notification) -> Delivery {
    let started = monotonic_clock::now();
    let result = match config::get("rust_notifier_url") {
        Ok(Some(url)) if !url.trim().is_empty() => post(url.trim(), &body(n)),
        _ => Err("rust_notifier_url is not set".to_string()),
    };
    let latency_ms = ((monotonic_clock::now() - started) / 1_000_000) as u32;
    let (http_status, error) = match result {
        Ok(status) if (200..300).contains(&status) => (Some(status), None),
        Ok(status) => (
            Some(status),
            Some(format!("the receiver answered {status}")),
        ),
        Err(e) => (None, Some(e)),
    };
    let attempts = u32::from(http_status.is_some() || error.is_none());
    Delivery {
        channel: CHANNEL.into(),
        channel_type: "custom".into(),
        ok: error.is_none(),
        http_status,
        latency_ms,
        error: error.clone(),
        attempts,
        tries: vec![Attempt {
            http_status,
            latency_ms,
            error,
        }],
    }
}

/// What the receiver gets: the event id lets it drop a repeat (delivery is at-least-once).
fn body(n: &Notification) -> Vec<u8> {
    let event = match n.event {
        EventKind::Down => "down",
        EventKind::Up => "up",
        EventKind::Degraded => "degraded",
    };
    serde_json::json!({
        "eventId": n.event_id,
        "event": event,
        "service": { "id": n.transition.service_id, "name": n.service_name },
        "message": n.message,
        "reminder": n.reminder,
    })
    .to_string()
    .into_bytes()
}

/// POST `body` to `url` over `wasi:http`; the status, or why there is none. Errors name their
/// kind only, never the URL (it may hold a token).
fn post(url: &str, body: &[u8]) -> Result<u16, String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or("rust_notifier_url is not a URL")?;
    let scheme = match scheme {
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        _ => return Err("rust_notifier_url must be http or https".into()),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, "/"),
    };
    let headers = Fields::from_list(&[
        ("content-type".into(), b"application/json".to_vec()),
        ("content-length".into(), body.len().to_string().into_bytes()),
        (
            "user-agent".into(),
            b"heartbeat-monitor-example-notifier/0.1".to_vec(),
        ),
    ])
    .map_err(|_| "invalid header")?;
    let request = OutgoingRequest::new(headers);
    request
        .set_method(&Method::Post)
        .and_then(|()| request.set_scheme(Some(&scheme)))
        .and_then(|()| request.set_authority(Some(authority)))
        .and_then(|()| request.set_path_with_query(Some(path)))
        .map_err(|()| "rust_notifier_url is not a valid URL")?;
    let options = RequestOptions::new();
    // A host may not support timeouts; then its own apply.
    let _ = options.set_connect_timeout(Some(TIMEOUT_NS));
    let _ = options.set_first_byte_timeout(Some(TIMEOUT_NS));
    let outgoing = request.body().map_err(|()| "no request body")?;
    let future = outgoing_handler::handle(request, Some(options))
        .map_err(|e| format!("request refused ({})", kind(&e)))?;
    {
        let stream = outgoing.write().map_err(|()| "no body stream")?;
        for chunk in body.chunks(4096) {
            // A failed write shows as the request's error below.
            if stream.blocking_write_and_flush(chunk).is_err() {
                break;
            }
        }
    }
    let _ = OutgoingBody::finish(outgoing, None);
    future.subscribe().block();
    match future.get() {
        Some(Ok(Ok(response))) => Ok(response.status()),
        Some(Ok(Err(e))) => Err(format!("request failed ({})", kind(&e))),
        _ => Err("request failed (no response)".into()),
    }
}

fn kind(e: &ErrorCode) -> String {
    format!("{e:?}")
        .split(['(', ' ', '{'])
        .next()
        .unwrap_or("error")
        .to_string()
}
