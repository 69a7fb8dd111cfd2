//! `POST /api/alert`: relay Alertmanager, Grafana and generic alerts to the channels.

use super::{storage_failure, Context, Request, Response};
use crate::alert::{self, State};
use crate::notify::Notification;
use crate::store::Store;
use serde_json::json;

pub(crate) async fn alert<S: Store>(ctx: &Context<'_, S>, req: &Request) -> Response {
    if let Some(r) = super::too_large(req) {
        return r;
    }
    if let Err(r) = super::require_optional_key(ctx.secrets, req, "ALERT_API_KEY") {
        return r;
    }
    let body = match super::json_body(req) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let alerts = match alert::parse(&body, ctx.config.notifications.alerts.grouping) {
        Ok(a) => a,
        Err(e) => return Response::error(400, e.to_string()),
    };
    let now = ctx.clock.now_ms();
    let cooldown_ms = ctx.config.notifications.cooldown_minutes as i64 * 60_000;
    let mut results = Vec::new();
    for a in &alerts {
        let firing = a.state == State::Firing;
        let send = match ctx.layout().claim_alert(
            ctx.store,
            ctx.clock,
            &a.dedup_key,
            firing,
            now,
            cooldown_ms,
        ) {
            Ok(send) => send,
            Err(_) => return storage_failure(),
        };
        let notification = Notification::for_alert(a, now);
        let deliveries = if send {
            ctx.notifier.deliver(&notification).await
        } else {
            Vec::new()
        };
        let done = ctx.clock.now_ms();
        let record = crate::layout::AlertRecord {
            at: now,
            format: a.format.as_str().into(),
            title: a.title.clone(),
            status: if firing { "firing" } else { "resolved" }.into(),
            severity: a.severity.as_str().into(),
            dedup_key: a.dedup_key.clone(),
            suppressed: !send,
            deliveries: deliveries
                .iter()
                .map(|d| crate::notify::record_of(d, &notification, done))
                .collect(),
        };
        // The alert was handled; a failure to log it is not the sender's problem.
        let _ = ctx.layout().record_alert(ctx.store, ctx.clock, record);
        results.push(json!({
            "title": a.title,
            "status": if firing { "firing" } else { "resolved" },
            "severity": a.severity.as_str(),
            "dedupKey": a.dedup_key,
            "suppressed": !send,
            "deliveries": deliveries.iter().map(|d| json!({
                "channel": d.channel,
                "ok": d.ok,
                "httpStatus": d.http_status,
                "attempts": d.attempts,
                "error": d.error,
            })).collect::<Vec<_>>(),
        }));
    }
    Response::json(
        200,
        &json!({
            "ok": true,
            "format": alerts.first().map(|a| a.format.as_str()),
            "alerts": results,
        }),
    )
}
