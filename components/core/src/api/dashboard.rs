//! `GET /api/status`, `/api/services`, `/api/logs` and `/`. Read-only apart from the
//! overdue-sweep safety net.

use super::{clip, storage_failure, Context, Request, Response};
use crate::model::Status;
use crate::state::effective_status;
use crate::store::Store;
use crate::time::iso;
use crate::uptime;
use serde_json::{json, Map, Value};

/// Route a request addressed to the dashboard component (which also owns unknown routes).
pub fn handle<S: Store>(ctx: &Context<'_, S>, req: &Request) -> Response {
    crate::sweep::run_if_overdue(ctx);
    let get = req.method == "GET" || req.method == "HEAD";
    match req.path.as_str() {
        "/api/status" if get => status(ctx),
        "/api/services" if get => services(ctx),
        "/api/logs" if get => logs(ctx, req),
        "/api/deliveries" if get => deliveries(ctx, req),
        "/api/alerts" if get => alert_log(ctx),
        "/" if get => root(),
        "/api/status" | "/api/services" | "/api/logs" | "/api/deliveries" | "/api/alerts" | "/" => {
            Response::method_not_allowed("GET")
        }
        "/api/heartbeat" | "/api/alert" => Response::method_not_allowed("POST"),
        "/api/sweep" => Response::method_not_allowed("POST"),
        other => Response::not_found(other),
    }
}

fn root() -> Response {
    Response::json(
        200,
        &json!({
            "name": "heartbeat-monitor",
            "api": {
                "heartbeat": "POST /api/heartbeat",
                "status": "GET /api/status",
                "services": "GET /api/services",
                "logs": "GET /api/logs?serviceId=ID",
                "deliveries": "GET /api/deliveries?serviceId=ID",
                "alert": "POST /api/alert",
                "alerts": "GET /api/alerts",
                "sweep": "POST /api/sweep",
            },
        }),
    )
}

fn status<S: Store>(ctx: &Context<'_, S>) -> Response {
    let now = ctx.clock.now_ms();
    let layout = ctx.layout();
    let ids: Vec<&str> = ctx.config.services.iter().map(|s| s.id.as_str()).collect();
    let (Ok(states), Ok(histories)) = (
        layout.states(ctx.store, &ids),
        layout.histories(ctx.store, &ids),
    ) else {
        return storage_failure();
    };
    let mut counts: Map<String, Value> = Map::new();
    for key in ["total", "up", "down", "degraded", "unknown"] {
        counts.insert(key.into(), json!(0));
    }
    let mut bump = |key: &str| {
        let n = counts[key].as_u64().unwrap_or(0) + 1;
        counts.insert(key.into(), json!(n));
    };
    let mut services = Vec::new();
    for ((service, state), flips) in ctx.config.services.iter().zip(&states).zip(&histories) {
        let threshold = service.staleness_threshold_secs;
        let current = effective_status(state.as_ref(), threshold, now);
        if service.enabled {
            bump("total");
            bump(current.as_str());
        }
        let since = state.as_ref().map(|s| {
            if current == Status::Down && s.status != Status::Down {
                s.last_heartbeat + threshold as i64 * 1000
            } else {
                s.since
            }
        });
        let mut windows = Map::new();
        for (label, ms) in uptime::WINDOWS {
            windows.insert(
                label.into(),
                json!(uptime::percent(flips, state.as_ref(), threshold, now, ms)),
            );
        }
        services.push(json!({
            "id": service.id,
            "name": service.name,
            "enabled": service.enabled,
            "status": current.as_str(),
            "statusSince": since.map(iso),
            "lastHeartbeat": state.as_ref().map(|s| iso(s.last_heartbeat)),
            "secondsSinceLastHeartbeat": state.as_ref().map(|s| (now - s.last_heartbeat).max(0) / 1000),
            "stalenessThreshold": threshold,
            "lastMessage": state.as_ref().and_then(|s| s.last_message.clone()),
            "uptime": windows,
        }));
    }
    Response::json(
        200,
        &json!({ "generatedAt": iso(now), "counts": counts, "services": services }),
    )
}

fn services<S: Store>(ctx: &Context<'_, S>) -> Response {
    let list: Vec<_> = ctx
        .config
        .services
        .iter()
        .map(|s| {
            json!({
                "id": s.id,
                "name": s.name,
                "enabled": s.enabled,
                "stalenessThreshold": s.staleness_threshold_secs,
                "notifications": {
                    "enabled": s.notifications.enabled,
                    "channels": s.notifications.channels,
                    "events": s.notifications.events.as_ref().map(|e| e.iter().map(|e| e.as_str()).collect::<Vec<_>>()),
                },
            })
        })
        .collect();
    Response::json(200, &json!({ "services": list }))
}

/// The service named by `?serviceId=`, or the 400/404 that says why not.
fn requested_service<'a, S: Store>(
    ctx: &Context<'a, S>,
    req: &Request,
) -> Result<&'a crate::config::ServiceConfig, Response> {
    let Some(id) = req.query_param("serviceId").filter(|s| !s.is_empty()) else {
        return Err(Response::error(
            400,
            "serviceId query parameter is required",
        ));
    };
    ctx.config
        .service(&id)
        .ok_or_else(|| Response::error(404, format!("unknown service \"{}\"", clip(&id))))
}

/// A delivery record as the API shows it.
fn delivery_json(d: &crate::layout::DeliveryRecord) -> Value {
    json!({
        "at": iso(d.at),
        "event": d.event.as_str(),
        "transitionAt": iso(d.transition_at),
        "channel": d.channel,
        "channelType": d.channel_type,
        "ok": d.ok,
        "httpStatus": d.http_status,
        "latencyMs": d.latency_ms,
        "attempts": d.attempts,
        "error": d.error,
        "tries": d.tries,
    })
}

fn logs<S: Store>(ctx: &Context<'_, S>, req: &Request) -> Response {
    let service = match requested_service(ctx, req) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Ok(entries) = ctx.layout().log(ctx.store, &service.id) else {
        return storage_failure();
    };
    let entries: Vec<_> = entries
        .iter()
        .map(|e| {
            json!({
                "receivedAt": iso(e.at),
                "status": e.status.as_str(),
                "message": e.message,
                "metadata": e.metadata,
            })
        })
        .collect();
    Response::json(
        200,
        &json!({ "serviceId": service.id, "count": entries.len(), "entries": entries }),
    )
}

fn deliveries<S: Store>(ctx: &Context<'_, S>, req: &Request) -> Response {
    let service = match requested_service(ctx, req) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Ok(records) = ctx.layout().deliveries(ctx.store, &service.id) else {
        return storage_failure();
    };
    let entries: Vec<_> = records.iter().map(delivery_json).collect();
    Response::json(
        200,
        &json!({ "serviceId": service.id, "count": entries.len(), "entries": entries }),
    )
}

fn alert_log<S: Store>(ctx: &Context<'_, S>) -> Response {
    let Ok(entries) = ctx.layout().alert_log(ctx.store) else {
        return storage_failure();
    };
    let entries: Vec<_> = entries
        .iter()
        .map(|a| {
            json!({
                "at": iso(a.at),
                "format": a.format,
                "title": a.title,
                "status": a.status,
                "severity": a.severity,
                "dedupKey": a.dedup_key,
                "suppressed": a.suppressed,
                "deliveries": a.deliveries.iter().map(delivery_json).collect::<Vec<_>>(),
            })
        })
        .collect();
    Response::json(200, &json!({ "count": entries.len(), "entries": entries }))
}
