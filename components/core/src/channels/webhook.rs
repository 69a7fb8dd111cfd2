//! `webhook`: a JSON POST (or PUT/PATCH) to any URL.
//!
//! Secrets: `NOTIFICATION_{NAME}_URL` (required), `NOTIFICATION_{NAME}_METHOD` (POST, PUT or
//! PATCH; default POST), `NOTIFICATION_{NAME}_HEADERS` (a JSON object of extra headers, e.g. an
//! `Authorization` for the receiver). The body is [`body`]'s JSON.

use super::prelude::*;
use crate::notification::Notification;

pub struct Webhook;

/// The default JSON body, documented in docs/NOTIFICATIONS.md.
pub fn body(n: &Notification) -> Value {
    if let Some(a) = &n.alert {
        return json!({
            "type": "alert",
            "format": a.format.as_str(),
            "status": match a.state {
                crate::alert::State::Firing => "firing",
                crate::alert::State::Resolved => "resolved",
            },
            "severity": a.severity.as_str(),
            "title": a.title,
            "message": a.text,
            "source": a.source,
            "labels": a.labels,
            "url": a.url,
            "dedupKey": a.dedup_key,
            "at": iso(n.transition.at),
            "eventId": n.event_id,
        });
    }
    let mut body = json!({
        "event": n.event.as_str(),
        "service": { "id": n.service_id, "name": n.service_name },
        "status": n.transition.to.as_str(),
        "previousStatus": n.transition.from.as_str(),
        "reason": n.transition.reason.as_str(),
        "at": iso(n.transition.at),
        "lastHeartbeat": n.last_heartbeat.map(iso),
        "message": n.message,
        "eventId": n.event_id,
    });
    if !n.dependents.is_empty() {
        body["dependents"] = json!(n.dependents);
    }
    if n.reminder {
        // Only on reminders, so receivers written for transitions see the same body as before.
        body["reminder"] = json!(true);
        body["downSince"] = json!(n.previous_since.map(iso));
    }
    body
}

impl Channel for Webhook {
    const SECRETS: &'static [SecretKey] = &[
        SecretKey::required("URL"),
        SecretKey::optional("METHOD"),
        SecretKey::optional("HEADERS"),
    ];

    const OPTIONS: &'static [&'static str] = &["body"];

    fn check_options(options: &Map<String, Value>) -> Result<(), OptionError> {
        match options.get("body") {
            None => Ok(()),
            Some(Value::String(t)) => crate::channels::templates::check(t)
                .map_err(|e| OptionError("body".to_string(), e.to_string())),
            Some(_) => Err(OptionError(
                "body".into(),
                "must be a template string".into(),
            )),
        }
    }

    fn build(ctx: &BuildInput<'_>) -> Result<OutboundRequest, BuildError> {
        let url = ctx.require("URL")?;
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err("URL must start with https:// or http://".into());
        }
        let method = ctx
            .secret("METHOD")
            .map(|m| m.trim().to_ascii_uppercase())
            .unwrap_or_else(|| "POST".into());
        if !matches!(method.as_str(), "POST" | "PUT" | "PATCH") {
            return Err("METHOD must be POST, PUT or PATCH".into());
        }
        let mut req = OutboundRequest::json(url, &body(ctx.notification));
        if let Some(template) = ctx.option("body").and_then(Value::as_str) {
            let vars = crate::channels::templates::variables(ctx.notification, ctx.message);
            req.body = crate::channels::templates::render(template, &vars)?.into_bytes();
        }
        req.method = method;
        // Receivers that deduplicate by the header (Stripe-style) need no body parsing.
        req.headers
            .push(("idempotency-key".into(), ctx.notification.event_id.clone()));
        if let Some(raw) = ctx.secret("HEADERS") {
            let Ok(Value::Object(extra)) = serde_json::from_str::<Value>(&raw) else {
                return Err("HEADERS must be a JSON object of header name to string value".into());
            };
            for (name, value) in extra {
                let Value::String(value) = value else {
                    return Err("HEADERS values must be strings".into());
                };
                req.headers.push((name.to_ascii_lowercase(), value));
            }
        }
        Ok(req)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::{build as build_for, ChannelKind, OutboundResponse, Verdict};
    use crate::config::ChannelConfig;
    use crate::model::{Event, Reason, Status, Transition};
    use std::collections::BTreeMap;

    fn channel() -> ChannelConfig {
        ChannelConfig {
            kind: ChannelKind::Webhook,
            name: "ops-hook".into(),
            enabled: true,
            options: Map::new(),
            events: None,
            remind_every_secs: None,
        }
    }

    fn notification() -> Notification {
        Notification {
            event: Event::Down,
            service_id: "backup".into(),
            service_name: "Nightly backup".into(),
            transition: Transition {
                at: 60_000,
                from: Status::Up,
                to: Status::Down,
                reason: Reason::Silence,
                seq: 0,
            },
            last_heartbeat: Some(0),
            message: Some("ok".into()),
            metadata: None,
            threshold_secs: 60,
            previous_since: Some(0),
            alert: None,
            reminder: false,
            dependents: Vec::new(),
            event_id: "backup:60000:0:down".into(),
        }
    }

    #[test]
    fn posts_the_documented_json_body() {
        let mut secrets = BTreeMap::new();
        secrets.insert(
            "NOTIFICATION_OPS_HOOK_URL".to_string(),
            "https://hooks.example/x".to_string(),
        );
        secrets.insert(
            "NOTIFICATION_OPS_HOOK_HEADERS".to_string(),
            r#"{"X-Token": "t"}"#.to_string(),
        );
        let req = build_for(&channel(), &secrets, &notification()).unwrap();
        assert_eq!(req.method, "POST");
        assert_eq!(req.url, "https://hooks.example/x");
        assert!(req.headers.contains(&("x-token".into(), "t".into())));
        assert!(req
            .headers
            .contains(&("idempotency-key".into(), "backup:60000:0:down".into())));
        let body: Value = serde_json::from_slice(&req.body).unwrap();
        assert_eq!(
            body,
            json!({
                "event": "down",
                "service": {"id": "backup", "name": "Nightly backup"},
                "status": "down",
                "previousStatus": "up",
                "reason": "silence",
                "at": "1970-01-01T00:01:00.000Z",
                "lastHeartbeat": "1970-01-01T00:00:00.000Z",
                "message": "ok",
                "eventId": "backup:60000:0:down"
            })
        );
    }

    #[test]
    fn a_body_template_replaces_the_default_body() {
        let mut secrets = BTreeMap::new();
        secrets.insert(
            "NOTIFICATION_OPS_HOOK_URL".to_string(),
            "https://h/x".to_string(),
        );
        let mut ch = channel();
        ch.options.insert(
            "body".into(),
            json!(r#"{"text": {{ (default_title ~ " – " ~ message) | tojson }}}"#),
        );
        let req = build_for(&ch, &secrets, &notification()).unwrap();
        let body: Value = serde_json::from_slice(&req.body).unwrap();
        assert_eq!(body, json!({"text": "Nightly backup is down – ok"}));
    }

    #[test]
    fn missing_url_names_the_secret_not_a_value() {
        let err = build_for(&channel(), &BTreeMap::new(), &notification()).unwrap_err();
        assert_eq!(
            err,
            BuildError::MissingSecret("NOTIFICATION_OPS_HOOK_URL".into())
        );
        assert_eq!(
            err.to_string(),
            "secret NOTIFICATION_OPS_HOOK_URL is not set"
        );
    }

    #[test]
    fn rejects_unsupported_methods_and_bad_headers() {
        let mut secrets = BTreeMap::new();
        secrets.insert(
            "NOTIFICATION_OPS_HOOK_URL".to_string(),
            "https://h/x".to_string(),
        );
        secrets.insert(
            "NOTIFICATION_OPS_HOOK_METHOD".to_string(),
            "delete".to_string(),
        );
        assert!(build_for(&channel(), &secrets, &notification()).is_err());
        secrets.insert(
            "NOTIFICATION_OPS_HOOK_METHOD".to_string(),
            "put".to_string(),
        );
        secrets.insert(
            "NOTIFICATION_OPS_HOOK_HEADERS".to_string(),
            "[1]".to_string(),
        );
        assert!(build_for(&channel(), &secrets, &notification()).is_err());
    }

    #[test]
    fn only_2xx_counts_as_delivered() {
        let r = |status| OutboundResponse {
            status,
            ..Default::default()
        };
        assert_eq!(Webhook::classify(&r(204)), Verdict::Delivered);
        assert!(matches!(Webhook::classify(&r(503)), Verdict::Retry { .. }));
        assert!(matches!(Webhook::classify(&r(404)), Verdict::Permanent(_)));
    }
}
