//! Uptime Kuma-compatible push URLs: `GET|POST /api/push/{token}?status=up|down&msg=…&ping=…`.
//! Each service may have a push token (`PUSH_TOKENS`, `{"service-id": "token"}`), compared in
//! constant time, and has one derived from `API_KEY_SECRET` (`heartbeat-host key ID --push`). `status` defaults to `up`; `msg` becomes the message; `ping` (milliseconds, may
//! be empty) is kept as the reported latency. Answers `{"ok": true}` as Uptime Kuma does, and
//! `{"ok": false, "msg": …, "error": …}` otherwise.

use super::{Context, Request, Response};
use crate::auth::constant_time_eq;
use crate::config::{key_secrets, push_tokens, ConfigError, Secrets};
use crate::model::{LogEntry, Status};
use crate::store::Store;
use serde_json::json;

fn refuse(status: u16, message: &str) -> Response {
    Response::json(
        status,
        &json!({ "ok": false, "msg": message, "error": message }),
    )
}

/// The service whose push token `token` is: derived from `API_KEY_SECRET` (checked first, so a
/// fleet on derived tokens never parses `PUSH_TOKENS`), or listed in `PUSH_TOKENS`.
pub(super) fn service_of(
    secrets: &dyn Secrets,
    token: &str,
) -> Result<Option<String>, ConfigError> {
    if let Some(id) = key_secrets(secrets)?.push_service(token) {
        return Ok(Some(id.to_string()));
    }
    // Compare with every token, so the time taken does not tell which service matched.
    let mut found = None;
    for (id, t) in push_tokens(secrets)? {
        if constant_time_eq(t.as_bytes(), token.as_bytes()) && found.is_none() {
            found = Some(id);
        }
    }
    Ok(found)
}

pub async fn push<S: Store>(ctx: &Context<'_, S>, req: &Request) -> Response {
    if !matches!(req.method.as_str(), "GET" | "POST" | "HEAD") {
        return Response::method_not_allowed("GET, POST, HEAD");
    }
    if let Some(r) = super::too_large(req) {
        return r;
    }
    let token = req.path.strip_prefix("/api/push/").unwrap_or_default();
    let found = match service_of(ctx.secrets, token) {
        Ok(found) => found,
        Err(e) => return refuse(500, &format!("{e}; fix the server configuration")),
    };
    let Some(service) = found.and_then(|id| ctx.config.service(&id)) else {
        return refuse(404, "Monitor not found or not active.");
    };
    let status = match req.query_param("status").as_deref() {
        None | Some("") | Some("up") => Status::Up,
        Some(s) => match Status::reported(s) {
            Some(s) => s,
            None => return refuse(400, r#"status must be "up", "down" or "degraded""#),
        },
    };
    let latency = match req.query_param("ping").as_deref() {
        None | Some("") => None,
        Some(p) => match p.parse::<f64>() {
            Ok(ms) if ms.is_finite() && ms >= 0.0 => Some(ms.round() as u64),
            _ => return refuse(400, "ping must be a number of milliseconds"),
        },
    };
    let message = req
        .query_param("msg")
        .filter(|m| !m.is_empty())
        .map(|m| crate::text::shorten(&m, crate::limits::MAX_MESSAGE_CHARS));
    let mut entry = LogEntry::new(ctx.clock.now_ms(), status, message, None);
    entry.latency_ms = latency;
    match super::accept::accept(ctx, service, entry).await {
        Ok(()) => Response::json(200, &json!({ "ok": true })),
        Err(r) => r,
    }
}
