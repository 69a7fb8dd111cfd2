//! From a claimed transition to deliveries: which channels want an event, and sending to them.
//! Cooldown is decided earlier, when the transition is claimed (see [`crate::state`]), because
//! that is where the per-service record is written atomically.

use crate::channels;
use crate::config::{ChannelConfig, Config, Secrets, ServiceConfig};
use crate::delivery::Plan;
use crate::model::{Event, Transition};

#[cfg(any(test, feature = "testing"))]
pub use crate::notification::Nobody;
pub use crate::notification::{Deliveries, Delivery, Notification, Notifier, Try};

impl Notification {
    /// The notification for `event`, which `change` (a claimed transition of `service`)
    /// decided to send. Everything comes from the new state, so ingest and sweep agree.
    /// On a `down`, `dependents` names the services that depend on this one.
    pub fn for_change(
        service: &ServiceConfig,
        change: &crate::state::Change,
        event: Event,
        dependents: Vec<String>,
    ) -> Notification {
        let state = &change.state;
        let transition = change
            .transitions
            .last()
            .cloned()
            .expect("a notified change has a transition");
        Notification {
            event,
            service_id: service.id.clone(),
            service_name: service.name.clone(),
            // The transition's time and heartbeat number: what a recovery of the claim finds.
            event_id: format!(
                "{}:{}:{}:{}",
                service.id,
                transition.at,
                transition.seq,
                event.as_str()
            ),
            transition,
            last_heartbeat: Some(state.last_heartbeat),
            message: state.last_message.clone(),
            metadata: state.last_metadata.clone(),
            threshold_secs: service.staleness_threshold_secs,
            previous_since: change.previous_since,
            alert: None,
            reminder: false,
            dependents: if event == Event::Down {
                dependents
            } else {
                Vec::new()
            },
        }
    }

    /// A reminder at `now` that `service`, down since `state.since` (and told so), still is.
    pub fn for_reminder(
        service: &ServiceConfig,
        state: &crate::model::ServiceState,
        now: i64,
    ) -> Notification {
        use crate::model::{Reason, Status};
        Notification {
            event: Event::Down,
            service_id: service.id.clone(),
            service_name: service.name.clone(),
            transition: Transition {
                at: now,
                from: Status::Down,
                to: Status::Down,
                reason: Reason::Silence,
                seq: state.seq,
            },
            last_heartbeat: Some(state.last_heartbeat),
            message: state.last_message.clone(),
            metadata: state.last_metadata.clone(),
            threshold_secs: service.staleness_threshold_secs,
            previous_since: Some(state.since),
            alert: None,
            reminder: true,
            dependents: Vec::new(),
            event_id: format!("{}:{now}:{}:reminder", service.id, state.seq),
        }
    }
}

/// Channels that take `event` for `service`: global switch, the service's own switch and
/// filters, then each channel's switch and event filter.
pub fn channels_for<'a>(
    config: &'a Config,
    service: &ServiceConfig,
    event: Event,
) -> Vec<&'a ChannelConfig> {
    let n = &config.notifications;
    let s = &service.notifications;
    if !n.enabled || !s.enabled || s.events.as_ref().is_some_and(|e| !e.contains(&event)) {
        return Vec::new();
    }
    n.channels
        .iter()
        .filter(|c| c.enabled)
        .filter(|c| c.events.as_ref().is_none_or(|e| e.contains(&event)))
        .filter(|c| {
            s.channels
                .as_ref()
                .is_none_or(|names| names.iter().any(|n| *n == c.name || n == c.kind.name()))
        })
        .collect()
}

/// Keep `deliveries` of `notification` in the service's delivery log. A failure to write the
/// log is not the caller's failure: the event was still sent.
pub fn record<S: crate::store::Store>(
    ctx: &crate::context::Context<'_, S>,
    notification: &Notification,
    deliveries: &[Delivery],
) {
    let now = ctx.clock.now_ms();
    let records: Vec<_> = deliveries
        .iter()
        .map(|d| record_of(d, notification, now))
        .collect();
    let _ =
        ctx.layout()
            .record_deliveries(ctx.store, ctx.clock, &notification.service_id, &records);
}

/// Channels that relay `alert`: the global switch, the `alerts` switch, severity (resolutions
/// pass whenever their firing would have), then the `alerts.channels` names or types and each
/// channel's own `enabled`.
pub fn alert_channels<'a>(
    config: &'a Config,
    alert: &crate::alert::Alert,
) -> Vec<&'a ChannelConfig> {
    let n = &config.notifications;
    let a = &n.alerts;
    if !n.enabled || !a.enabled || alert.severity < a.min_severity {
        return Vec::new();
    }
    n.channels
        .iter()
        .filter(|c| c.enabled)
        .filter(|c| {
            a.channels
                .as_ref()
                .is_none_or(|names| names.iter().any(|x| *x == c.name || x == c.kind.name()))
        })
        .collect()
}

/// The delivery-log form of `d`.
pub fn record_of(
    d: &Delivery,
    notification: &Notification,
    at: i64,
) -> crate::layout::DeliveryRecord {
    crate::layout::DeliveryRecord {
        at,
        event: notification.event,
        transition_at: notification.transition.at,
        channel: d.channel.clone(),
        channel_type: d.channel_type.clone(),
        ok: d.ok,
        http_status: d.http_status,
        latency_ms: d.latency_ms,
        attempts: d.attempts,
        error: d.error.clone(),
        tries: d.tries.clone(),
    }
}

/// One delivery plan per channel that wants `notification`.
pub fn plans(
    config: &Config,
    secrets: &dyn Secrets,
    timeout_ms: u64,
    notification: &Notification,
) -> Vec<Plan> {
    let selected = match &notification.alert {
        Some(alert) => alert_channels(config, alert),
        None => match config.service(&notification.service_id) {
            Some(service) => channels_for(config, service, notification.event),
            None => Vec::new(),
        },
    };
    selected
        .into_iter()
        .flat_map(|channel| plans_of(channel, secrets, timeout_ms, notification))
        .collect()
}

/// One plan per destination of `channel`.
fn plans_of(
    channel: &ChannelConfig,
    secrets: &dyn Secrets,
    timeout_ms: u64,
    notification: &Notification,
) -> Vec<Plan> {
    channels::build_each(channel, secrets, notification)
        .into_iter()
        .map(|(name, request)| Plan::new(channel, request, timeout_ms).named(name))
        .collect()
}

/// The plans of the channel named `channel` alone, ignoring filters (a test notification, a
/// reminder); none if no channel has that name.
pub fn plan_for(
    config: &Config,
    secrets: &dyn Secrets,
    timeout_ms: u64,
    channel: &str,
    notification: &Notification,
) -> Vec<Plan> {
    match config
        .notifications
        .channels
        .iter()
        .find(|c| c.name == channel)
    {
        Some(channel) => plans_of(channel, secrets, timeout_ms, notification),
        None => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(services: &str) -> Config {
        Config::parse(
            services,
            r#"{"channels": [
                {"type": "webhook", "name": "a"},
                {"type": "webhook", "name": "b", "events": ["down"]},
                {"type": "webhook", "name": "c", "enabled": false}
            ]}"#,
        )
        .unwrap()
    }

    fn names(cfg: &Config, event: Event) -> Vec<String> {
        channels_for(cfg, &cfg.services[0], event)
            .iter()
            .map(|c| c.name.clone())
            .collect()
    }

    #[test]
    fn alerts_route_by_severity_and_channel_name_or_type() {
        let cfg = Config::parse(
            r#"{"services": []}"#,
            r#"{"channels": [
                {"type": "webhook", "name": "a"},
                {"type": "pagerduty", "name": "pd"},
                {"type": "webhook", "name": "off", "enabled": false}
            ], "alerts": {"channels": ["pagerduty", "a"], "minSeverity": "error"}}"#,
        )
        .unwrap();
        let alert = |severity| crate::alert::Alert {
            format: crate::alert::Format::Generic,
            state: crate::alert::State::Firing,
            severity,
            title: "t".into(),
            text: String::new(),
            source: "s".into(),
            dedup_key: "k".into(),
            url: None,
            labels: Default::default(),
            items: Vec::new(),
            not_listed: 0,
        };
        let names = |s| -> Vec<String> {
            alert_channels(&cfg, &alert(s))
                .iter()
                .map(|c| c.name.clone())
                .collect()
        };
        assert_eq!(names(crate::alert::Severity::Critical), ["a", "pd"]);
        assert!(
            names(crate::alert::Severity::Warning).is_empty(),
            "below minSeverity"
        );
        let err = Config::parse(
            r#"{"services": []}"#,
            r#"{"channels": [], "alerts": {"minSeverity": "loud"}}"#,
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "notifications.json: alerts.minSeverity: must be critical, error, warning or info"
        );
    }

    #[test]
    fn channel_filters_apply_after_service_filters() {
        let cfg = config(r#"{"services": [{"id": "s"}]}"#);
        assert_eq!(names(&cfg, Event::Down), ["a", "b"]);
        assert_eq!(names(&cfg, Event::Up), ["a"]);
        let cfg = config(r#"{"services": [{"id": "s", "notifications": {"channels": ["b"]}}]}"#);
        assert_eq!(names(&cfg, Event::Down), ["b"]);
        assert!(names(&cfg, Event::Up).is_empty());
        let cfg =
            config(r#"{"services": [{"id": "s", "notifications": {"channels": ["webhook"]}}]}"#);
        assert_eq!(
            names(&cfg, Event::Down),
            ["a", "b"],
            "a type selects every channel of it"
        );
        let cfg = config(r#"{"services": [{"id": "s", "notifications": {"events": ["up"]}}]}"#);
        assert!(names(&cfg, Event::Down).is_empty());
        let cfg = config(r#"{"services": [{"id": "s", "notifications": {"enabled": false}}]}"#);
        assert!(names(&cfg, Event::Down).is_empty());
    }

    #[test]
    fn a_channel_with_several_numbers_makes_a_plan_and_a_delivery_name_per_number() {
        let cfg = Config::parse(
            r#"{"services": [{"id": "s"}]}"#,
            r#"{"channels": [
                {"type": "twilio", "name": "sms", "config": {"from": "+15017122661", "to": ["+15558675310", "+15558675311"]}},
                {"type": "twilio", "name": "one", "config": {"from": "+15017122661", "to": "+15558675312"}}
            ]}"#,
        )
        .unwrap();
        let secrets: std::collections::BTreeMap<String, String> = [
            ("NOTIFICATION_SMS_ACCOUNT_SID", "AC0"),
            ("NOTIFICATION_SMS_AUTH_TOKEN", "t"),
            ("NOTIFICATION_ONE_ACCOUNT_SID", "AC1"),
            ("NOTIFICATION_ONE_AUTH_TOKEN", "t"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let n = crate::channels::fixtures::notification(Event::Down);
        let n = Notification {
            service_id: "s".into(),
            ..n
        };
        let named: Vec<String> = plans(&cfg, &secrets, 1000, &n)
            .iter()
            .map(|p| p.channel().to_string())
            .collect();
        assert_eq!(named, ["sms (…5310)", "sms (…5311)", "one"]);
        assert_eq!(plan_for(&cfg, &secrets, 1000, "sms", &n).len(), 2);
        assert!(plan_for(&cfg, &secrets, 1000, "nope", &n).is_empty());
    }
}
