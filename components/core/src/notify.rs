//! From a claimed transition to deliveries: which channels want an event, and sending to them.
//! Cooldown is decided earlier, when the transition is claimed (see [`crate::state`]), because
//! that is where the per-service record is written atomically.

use crate::channels::{self, Outbound};
use crate::clock::Clock;
use crate::config::{ChannelConfig, Config, Secrets, ServiceConfig};
use crate::model::{Event, Transition};

/// Everything a channel needs to describe one event.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub event: Event,
    pub service_id: String,
    pub service_name: String,
    pub transition: Transition,
    pub last_heartbeat: Option<i64>,
    pub message: Option<String>,
}

/// The outcome of one channel's attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub channel: String,
    pub channel_type: String,
    pub ok: bool,
    pub http_status: Option<u16>,
    pub latency_ms: u32,
    pub error: Option<String>,
}

/// Hands a notification to the channels (the `heartbeat:monitor/notifier` interface).
pub trait Notifier {
    fn deliver(&self, notification: &Notification) -> Vec<Delivery>;
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
                .is_none_or(|names| names.contains(&c.name))
        })
        .collect()
}

/// Send `notification` to every channel that wants it. One failing channel never stops the
/// others; errors never contain credentials.
pub fn deliver(
    config: &Config,
    secrets: &dyn Secrets,
    outbound: &dyn Outbound,
    clock: &dyn Clock,
    timeout_ms: u64,
    notification: &Notification,
) -> Vec<Delivery> {
    let Some(service) = config.service(&notification.service_id) else {
        return Vec::new();
    };
    channels_for(config, service, notification.event)
        .into_iter()
        .map(|channel| {
            let started = clock.now_ms();
            let mut delivery = Delivery {
                channel: channel.name.clone(),
                channel_type: channel.kind.name().into(),
                ok: false,
                http_status: None,
                latency_ms: 0,
                error: None,
            };
            match channels::build(channel, secrets, notification) {
                Err(e) => delivery.error = Some(e),
                Ok(request) => match outbound.send(&request, timeout_ms) {
                    Err(e) => delivery.error = Some(e),
                    Ok(response) => {
                        delivery.http_status = Some(response.status);
                        match channels::classify(channel, &response) {
                            Ok(()) => delivery.ok = true,
                            Err(e) => delivery.error = Some(e),
                        }
                    }
                },
            }
            delivery.latency_ms = (clock.now_ms() - started).clamp(0, u32::MAX as i64) as u32;
            delivery
        })
        .collect()
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
    fn channel_filters_apply_after_service_filters() {
        let cfg = config(r#"{"services": [{"id": "s"}]}"#);
        assert_eq!(names(&cfg, Event::Down), ["a", "b"]);
        assert_eq!(names(&cfg, Event::Up), ["a"]);
        let cfg = config(r#"{"services": [{"id": "s", "notifications": {"channels": ["b"]}}]}"#);
        assert_eq!(names(&cfg, Event::Down), ["b"]);
        assert!(names(&cfg, Event::Up).is_empty());
        let cfg = config(r#"{"services": [{"id": "s", "notifications": {"events": ["up"]}}]}"#);
        assert!(names(&cfg, Event::Down).is_empty());
        let cfg = config(r#"{"services": [{"id": "s", "notifications": {"enabled": false}}]}"#);
        assert!(names(&cfg, Event::Down).is_empty());
    }
}
