//! Every route of the dashboard component: the read API (`/api/status`, `/api/services`,
//! `/api/logs`, ...), the pages, badges and `/metrics`, and the 404/405 answers for everything
//! else. Read-only apart from the overdue-sweep safety net.

use super::{clip, status_json, storage_failure, web, Context, Request, Response};
use crate::store::Store;
use crate::time::iso;
use crate::views::Board;
use serde_json::{json, Value};

/// What a path addresses; `None` is a 404.
#[derive(Debug, Clone, Copy)]
enum Route<'p> {
    Status,
    Services,
    Logs,
    Deliveries,
    Alerts,
    ApiIndex,
    Overview,
    Service(&'p str),
    Badge(&'p str),
    Metrics,
    Asset(&'static web::Asset),
    /// Served by ingest or sweep; reaching here means a wrong method.
    PostOnly,
}

impl<'p> Route<'p> {
    fn of(path: &'p str) -> Option<Route<'p>> {
        Some(match path {
            "/api/status" => Route::Status,
            "/api/services" => Route::Services,
            "/api/logs" => Route::Logs,
            "/api/deliveries" => Route::Deliveries,
            "/api/alerts" => Route::Alerts,
            "/api" => Route::ApiIndex,
            "/" => Route::Overview,
            "/metrics" => Route::Metrics,
            "/api/heartbeat" | "/api/alert" | "/api/sweep" => Route::PostOnly,
            _ => {
                if let Some(id) = path.strip_prefix("/services/").filter(|id| !id.is_empty()) {
                    Route::Service(id)
                } else if let Some(file) = path.strip_prefix("/badge/") {
                    Route::Badge(file)
                } else {
                    Route::Asset(web::ASSETS.iter().find(|a| a.path == path)?)
                }
            }
        })
    }
}

/// Route a request addressed to the dashboard component (which also owns unknown routes).
pub async fn handle<S: Store>(ctx: &Context<'_, S>, req: &Request) -> Response {
    let Some(route) = Route::of(&req.path) else {
        return Response::not_found(&req.path);
    };
    if matches!(route, Route::PostOnly) {
        return Response::method_not_allowed("POST");
    }
    if req.method != "GET" && req.method != "HEAD" {
        return Response::method_not_allowed("GET");
    }
    if let Route::Asset(a) = route {
        return web::asset(a);
    }
    // With one service's configuration, the host runs an overdue sweep over the whole file.
    if !ctx.config.partial {
        crate::sweep::run_if_overdue(ctx).await;
    }
    match route {
        Route::Status => status(ctx, req),
        Route::Services => services(ctx),
        Route::Logs => logs(ctx, req),
        Route::Deliveries => deliveries(ctx, req),
        Route::Alerts => alert_log(ctx),
        Route::ApiIndex => api_index(),
        Route::Overview => web::overview(ctx, req),
        Route::Service(id) => web::service(ctx, id),
        Route::Badge(file) => web::badge(ctx, req, file),
        Route::Metrics => web::metrics(ctx),
        Route::Asset(_) | Route::PostOnly => unreachable!("answered above"),
    }
}

fn api_index() -> Response {
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
            "pages": {
                "dashboard": "GET /",
                "service": "GET /services/ID",
                "badge": "GET /badge/ID.svg (or .json; ?metric=uptime30d, ?label=)",
                "metrics": "GET /metrics",
            },
        }),
    )
}

/// `GET /api/status`: counts over every service, and the services themselves — all of them,
/// `?limit=N&offset=M` of them in config order (with a `page` object naming the next), the one
/// `?serviceId=` names, or none with `?summary=1`. Only the listed services' histories are
/// read.
fn status<S: Store>(ctx: &Context<'_, S>, req: &Request) -> Response {
    let summary = req
        .query_param("summary")
        .is_some_and(|v| !matches!(v.as_str(), "" | "0" | "false"));
    let limit = match super::positive_param(req, "limit") {
        Ok(l) => l,
        Err(r) => return r,
    };
    let offset = match req.query_param("offset").filter(|v| !v.is_empty()) {
        None => 0,
        Some(v) => match v.parse::<usize>() {
            Ok(n) => n,
            Err(_) => return Response::error(400, "offset must be a non-negative integer"),
        },
    };
    let total = ctx.config.services.len();
    let end = limit.map_or(total, |l| offset.saturating_add(l).min(total));
    let only = req.query_param("serviceId");
    if let Some(id) = only
        .as_deref()
        .filter(|id| ctx.config.service(id).is_none())
    {
        return Response::error(404, format!("unknown service \"{}\"", clip(id)));
    }
    let Ok(board) = Board::read_selected(
        ctx.store,
        &ctx.layout(),
        &ctx.config.services,
        &ctx.config.maintenance,
        ctx.clock.now_ms(),
        |glances| match (summary, &only) {
            (true, _) => Vec::new(),
            (false, Some(id)) => (0..total)
                .filter(|&i| glances[i].service.id == *id)
                .collect(),
            (false, None) => (offset.min(total)..end).collect(),
        },
    ) else {
        return storage_failure();
    };
    let page = match (limit, summary) {
        (Some(limit), false) => Some(json!({
            "offset": offset,
            "limit": limit,
            "services": total,
            "next": (end < total).then(|| format!("/api/status?limit={limit}&offset={end}")),
        })),
        _ => None,
    };
    let body = status_json::body(&board, page, summary);
    Response::json_bytes(200, body)
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
    let layout = ctx.layout();
    let (Ok(beats), Ok(notes)) = (
        layout.log(ctx.store, &service.id),
        layout.notes(ctx.store, &service.id),
    ) else {
        return storage_failure();
    };
    // Heartbeats and notes (`/start`, `/log` pings) in one newest-first history.
    let mut entries: Vec<(i64, Value)> = beats
        .iter()
        .map(|e| {
            let mut v = json!({
                "receivedAt": iso(e.at),
                "kind": "heartbeat",
                "status": e.status.as_str(),
                "message": e.message,
                "metadata": e.metadata,
            });
            for (k, x) in [
                ("durationMs", e.duration_ms.map(|d| json!(d))),
                ("latencyMs", e.latency_ms.map(|l| json!(l))),
                ("rid", e.rid.as_ref().map(|r| json!(r))),
            ] {
                if let Some(x) = x {
                    v[k] = x;
                }
            }
            (e.at, v)
        })
        .collect();
    entries.extend(notes.iter().map(|n| {
        let mut v = json!({
            "receivedAt": iso(n.at),
            "kind": n.kind.as_str(),
            "message": n.message,
        });
        if let Some(r) = &n.rid {
            v["rid"] = json!(r);
        }
        (n.at, v)
    }));
    entries.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
    entries.truncate(ctx.settings.max_log_entries);
    let entries: Vec<Value> = entries.into_iter().map(|(_, v)| v).collect();
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
