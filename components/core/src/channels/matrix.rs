//! `matrix`: an `m.room.message` sent to a Matrix room with the client-server API.
//!
//! Secrets: `HOMESERVER` (e.g. `https://matrix.example.org`), `ACCESS_TOKEN` (the sending
//! account's), `ROOM_ID` (`!abc123:example.org`; the account must have joined the room).
//! API: `PUT /_matrix/client/v3/rooms/{roomId}/send/m.room.message/{txnId}` with `msgtype`
//! `m.text`, a plain `body` and an HTML `formatted_body`
//! (<https://spec.matrix.org/v1.11/client-server-api/#put_matrixclientv3roomsroomidsendeventtypetxnid>,
//! <https://spec.matrix.org/v1.11/client-server-api/#mroommessage-msgtypes>). The transaction id
//! comes from the event's id, so the homeserver treats a retry or a redelivery as the same
//! message and posts it once. Answers: 429 (`M_LIMIT_EXCEEDED`, with `retry_after_ms`) and 5xx
//! worth retrying; 401/403 (a bad token, not in the room) and other 4xx permanent.

use super::message::escape_html;
use super::prelude::*;
use sha2::{Digest, Sha256};

pub struct Matrix;

/// Characters of the message text kept (the whole event must stay under 64 KiB).
const TEXT_MAX: usize = 4000;

/// A transaction id for `event_id`: the same for every delivery of the event.
fn transaction_id(event_id: &str) -> String {
    let hex = crate::text::hex(&Sha256::digest(event_id.as_bytes()));
    format!("heartbeat-{}", &hex[..32])
}

impl Channel for Matrix {
    const SECRETS: &'static [SecretKey] = &[
        SecretKey::required("HOMESERVER"),
        SecretKey::required("ACCESS_TOKEN"),
        SecretKey::required("ROOM_ID"),
    ];

    fn build(ctx: &BuildInput<'_>) -> Result<OutboundRequest, BuildError> {
        let server = ctx.require("HOMESERVER")?;
        if !(server.starts_with("https://") || server.starts_with("http://")) {
            return Err("HOMESERVER must start with https:// or http://".into());
        }
        let token = ctx.require("ACCESS_TOKEN")?;
        let room = ctx.require("ROOM_ID")?;
        let m = ctx.message;
        let text = shorten(&m.text, TEXT_MAX);
        let plain_facts: String = m
            .fields
            .iter()
            .map(|(name, value)| format!("\n{name}: {value}"))
            .collect();
        let html_facts: String = m
            .fields
            .iter()
            .map(|(name, value)| format!("<br><b>{name}:</b> {}", escape_html(value)))
            .collect();
        let body = json!({
            "msgtype": "m.text",
            "body": format!("{}\n{text}{plain_facts}", m.title),
            "format": "org.matrix.custom.html",
            "formatted_body": format!(
                "<b>{}</b><br>{}{html_facts}",
                escape_html(&m.title),
                escape_html(&text).replace('\n', "<br>")
            ),
        });
        let room: String = form_urlencoded::byte_serialize(room.as_bytes()).collect();
        let url = format!(
            "{}/_matrix/client/v3/rooms/{room}/send/m.room.message/{}",
            server.trim_end_matches('/'),
            transaction_id(&ctx.notification.event_id)
        );
        let mut req = OutboundRequest::json(url, &body);
        req.method = "PUT".into();
        req.headers
            .push(("authorization".into(), format!("Bearer {token}")));
        Ok(req)
    }

    /// 429 carries `retry_after_ms` in the body (`M_LIMIT_EXCEEDED`).
    fn classify(r: &OutboundResponse) -> Verdict {
        if r.status == 429 {
            return Verdict::Retry {
                after_ms: r.json()["retry_after_ms"]
                    .as_u64()
                    .or_else(|| r.retry_after_ms()),
                error: "HTTP 429 (M_LIMIT_EXCEEDED)".into(),
            };
        }
        classify_http(r)
    }
}
