//! `POST /api/sweep`.

use super::{storage_failure, Context, Request, Response};
use crate::store::Store;
use crate::time::iso;
use serde_json::json;

/// Route a request addressed to the sweep component.
pub async fn handle<S: Store>(ctx: &Context<'_, S>, req: &Request) -> Response {
    match req.path.as_str() {
        "/api/sweep" if req.method == "POST" => sweep(ctx, req).await,
        "/api/sweep" => Response::method_not_allowed("POST"),
        other => Response::not_found(other),
    }
}

async fn sweep<S: Store>(ctx: &Context<'_, S>, req: &Request) -> Response {
    if let Err(r) = super::require_optional_key(ctx.secrets, req, "SWEEP_API_KEY") {
        return r;
    }
    let now = ctx.clock.now_ms();
    let report = match crate::sweep::run(ctx, now).await {
        Ok(r) => r,
        Err(_) => return storage_failure(),
    };
    if ctx.layout().mark_sweep(ctx.store, now).is_err() {
        return storage_failure();
    }
    let outcomes = |deliveries: &[crate::notify::Delivery]| -> Vec<serde_json::Value> {
        deliveries
            .iter()
            .map(|d| {
                json!({
                    "channel": d.channel,
                    "ok": d.ok,
                    "httpStatus": d.http_status,
                    "error": d.error,
                })
            })
            .collect()
    };
    let transitions: Vec<_> = report
        .transitions
        .iter()
        .map(|(id, t, deliveries)| {
            json!({
                "serviceId": id,
                "from": t.from.as_str(),
                "to": t.to.as_str(),
                "at": iso(t.at),
                "deliveries": outcomes(deliveries),
            })
        })
        .collect();
    let reminders: Vec<_> = report
        .reminders
        .iter()
        .map(|(id, deliveries)| json!({ "serviceId": id, "deliveries": outcomes(deliveries) }))
        .collect();
    Response::json(
        200,
        &json!({
            "ok": true,
            "sweptAt": iso(now),
            "checked": report.checked,
            "transitions": transitions,
            "reminders": reminders,
        }),
    )
}
