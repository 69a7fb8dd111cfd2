//! The ingest component's routes, and `POST /api/heartbeat` itself. Every kind of heartbeat
//! (ours, Healthchecks-style pings, Uptime Kuma-style pushes) then takes one path into the
//! state machine: [`super::accept`].

use super::{clip, Context, Request, Response};
use crate::auth::{bearer, constant_time_eq};
use crate::config::{api_keys, key_secrets, ConfigError, Secrets};
use crate::model::{LogEntry, Status};
use crate::store::Store;
use crate::time::iso;
use serde_json::{json, Map, Value};

pub use crate::limits::{MAX_MESSAGE_CHARS, MAX_METADATA_BYTES};

/// Whether `token` is `service_id`'s heartbeat key: derived from `API_KEY_SECRET` (or the
/// previous secret), or listed in `API_KEYS`. The derived key is tried first, so a fleet on
/// derived keys never parses the `API_KEYS` object.
fn authorized(secrets: &dyn Secrets, service_id: &str, token: &str) -> Result<bool, ConfigError> {
    if key_secrets(secrets)?.accepts(service_id, token) {
        return Ok(true);
    }
    Ok(api_keys(secrets)?
        .get(service_id)
        .is_some_and(|k| constant_time_eq(k.as_bytes(), token.as_bytes())))
}

/// Route a request addressed to the ingest component.
pub async fn handle<S: Store>(ctx: &Context<'_, S>, req: &Request) -> Response {
    let response = match req.path.as_str() {
        "/api/heartbeat" if req.method == "POST" => heartbeat(ctx, req).await,
        "/api/heartbeat" => Response::method_not_allowed("POST"),
        "/api/alert" if req.method == "POST" => super::alert::alert(ctx, req).await,
        "/api/alert" => Response::method_not_allowed("POST"),
        p if p.starts_with("/ping/") => super::ping::ping(ctx, req).await,
        p if p.starts_with("/api/push/") => super::push::push(ctx, req).await,
        p if p.starts_with("/api/services/") => super::admin::service_action(ctx, req),
        other => Response::not_found(other),
    };
    // With one service's configuration, the host runs an overdue sweep over the whole file.
    if !ctx.config.partial {
        crate::sweep::run_if_overdue(ctx).await;
    }
    response
}

/// A validated heartbeat body.
struct Body {
    service_id: String,
    status: Status,
    message: Option<String>,
    metadata: Option<Map<String, Value>>,
}

fn parse(req: &Request) -> Result<Body, Response> {
    let bad = |m: &str| Response::error(400, m);
    let Value::Object(mut obj) = super::json_body(req)? else {
        return Err(bad("request body must be a JSON object"));
    };
    let service_id = match obj.remove("serviceId") {
        None | Some(Value::Null) => return Err(bad("serviceId is required")),
        Some(Value::String(s)) if !s.is_empty() => s,
        Some(_) => return Err(bad("serviceId must be a non-empty string")),
    };
    let status = match obj.remove("status") {
        None | Some(Value::Null) => Status::Up,
        Some(Value::String(s)) => Status::reported(&s)
            .ok_or_else(|| bad(r#"status must be one of "up", "down", "degraded""#))?,
        Some(_) => return Err(bad(r#"status must be one of "up", "down", "degraded""#)),
    };
    let message = match obj.remove("message") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.chars().count() <= MAX_MESSAGE_CHARS => Some(s),
        Some(Value::String(_)) => {
            return Err(bad(&format!(
                "message must be at most {MAX_MESSAGE_CHARS} characters"
            )))
        }
        Some(_) => return Err(bad("message must be a string")),
    };
    let metadata = match obj.remove("metadata") {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => {
            let size = serde_json::to_vec(&m)
                .map(|v| v.len())
                .unwrap_or(usize::MAX);
            if size > MAX_METADATA_BYTES {
                return Err(bad(&format!(
                    "metadata must be at most {MAX_METADATA_BYTES} bytes of JSON (got {size})"
                )));
            }
            Some(m)
        }
        Some(_) => return Err(bad("metadata must be a JSON object")),
    };
    Ok(Body {
        service_id,
        status,
        message,
        metadata,
    })
}

async fn heartbeat<S: Store>(ctx: &Context<'_, S>, req: &Request) -> Response {
    if let Some(r) = super::too_large(req) {
        return r;
    }
    let Some(token) = bearer(req.header("authorization")) else {
        return Response::error(401, "missing Authorization: Bearer <API key> header");
    };
    let body = match parse(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(service) = ctx.config.service(&body.service_id) else {
        return Response::error(
            404,
            format!("unknown service \"{}\"", clip(&body.service_id)),
        );
    };
    match authorized(ctx.secrets, &service.id, token) {
        Ok(true) => {}
        Ok(false) => {
            return Response::error(
                401,
                format!("invalid API key for service \"{}\"", service.id),
            )
        }
        Err(e) => return Response::error(500, format!("{e}; fix the server configuration")),
    }

    let now = ctx.clock.now_ms();
    let entry = LogEntry::new(now, body.status, body.message, body.metadata);
    if let Err(r) = super::accept::accept(ctx, service, entry).await {
        return r;
    }
    Response::json(
        200,
        &json!({
            "ok": true,
            "serviceId": service.id,
            "status": body.status.as_str(),
            "receivedAt": iso(now),
        }),
    )
}
