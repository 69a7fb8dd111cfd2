//! `POST /api/services/{id}/pause` and `/resume`: stop and restart a service's notifications
//! (for planned work that has no fixed schedule; recurring windows go in services.json).
//! Requires `Authorization: Bearer <ADMIN_API_KEY>`; without that secret the routes are off.

use super::{clip, storage_failure, Context, Request, Response};
use crate::auth::{bearer, constant_time_eq};
use crate::store::Store;
use crate::time::iso;
use serde_json::json;

pub fn service_action<S: Store>(ctx: &Context<'_, S>, req: &Request) -> Response {
    let rest = req.path.strip_prefix("/api/services/").unwrap_or_default();
    let Some((id, action)) = rest
        .split_once('/')
        .filter(|(id, a)| !id.is_empty() && matches!(*a, "pause" | "resume"))
    else {
        return Response::not_found(&req.path);
    };
    if req.method != "POST" {
        return Response::method_not_allowed("POST");
    }
    let Some(key) = ctx.secrets.get("ADMIN_API_KEY").filter(|k| !k.is_empty()) else {
        return Response::error(
            403,
            "pausing is off: set the ADMIN_API_KEY secret to use it",
        );
    };
    let authorized = bearer(req.header("authorization"))
        .is_some_and(|t| constant_time_eq(t.as_bytes(), key.as_bytes()));
    if !authorized {
        return Response::error(
            401,
            "missing or invalid Authorization: Bearer <ADMIN_API_KEY>",
        );
    }
    let Some(service) = ctx.config.service(id) else {
        return Response::error(404, format!("unknown service \"{}\"", clip(id)));
    };
    let layout = ctx.layout();
    let result = if action == "pause" {
        layout
            .pause(ctx.store, &service.id, ctx.clock.now_ms())
            .map(|p| json!({ "ok": true, "serviceId": service.id, "paused": true, "since": iso(p.since) }))
    } else {
        layout
            .resume(ctx.store, &service.id)
            .map(|()| json!({ "ok": true, "serviceId": service.id, "paused": false }))
    };
    match result {
        Ok(body) => Response::json(200, &body),
        Err(_) => storage_failure(),
    }
}
