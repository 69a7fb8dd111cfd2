//! The notifiers component: exports `heartbeat:monitor/notifier`. heartbeat-core decides which
//! channels get an event and builds each vendor request; this component drives every channel's
//! delivery plan at once over `wasi:http`, so a slow vendor delays only itself. Ingest, sweep
//! and dashboard import it — linked by heartbeat-host, composed by Spin as a dependency.
#![expect(unsafe_code, reason = "wit-bindgen generates the notifier export glue")]

mod exchange;
mod outbound;

use exports::heartbeat::monitor::notifier::{self as wit_notifier, Guest, Notification};
use heartbeat::monitor::types::{self as wit_types, Delivery};
use heartbeat_core::config::{Secrets, Settings};
use heartbeat_core::notify;

wit_bindgen::generate!({
    path: "../../wit",
    world: "heartbeat:monitor/notifiers",
    generate_all,
});

heartbeat_guest::notifier_export_conversions!();

/// Secrets from `wasi:config` (lower-case Spin variable names).
struct Variables;

impl Secrets for Variables {
    fn get(&self, name: &str) -> Option<String> {
        wasi::config::store::get(&name.to_ascii_lowercase())
            .ok()
            .flatten()
    }
}

fn failed(error: String) -> Vec<Delivery> {
    vec![Delivery {
        channel: "(configuration)".into(),
        channel_type: String::new(),
        ok: false,
        http_status: None,
        latency_ms: 0,
        error: Some(error),
        attempts: 0,
        tries: Vec::new(),
    }]
}

fn setup() -> Result<(heartbeat_core::config::Config, Settings), Vec<Delivery>> {
    let config = heartbeat_guest::files::load_config().map_err(failed)?;
    let settings = Settings::from_secrets(&Variables).map_err(|e| failed(e.to_string()))?;
    Ok((config, settings))
}

struct Notifiers;

impl Guest for Notifiers {
    fn deliver(n: Notification) -> Vec<Delivery> {
        let (config, settings) = match setup() {
            Ok(s) => s,
            Err(d) => return d,
        };
        let plans = notify::plans(
            &config,
            &Variables,
            settings.request_timeout_ms,
            &notification_from_wit(n),
        );
        deliveries_to_wit(outbound::drive_all(plans))
    }

    fn deliver_to(channel: String, n: Notification) -> Vec<Delivery> {
        let (config, settings) = match setup() {
            Ok(s) => s,
            Err(d) => return d,
        };
        let plan = notify::plan_for(
            &config,
            &Variables,
            settings.request_timeout_ms,
            &channel,
            &notification_from_wit(n),
        );
        deliveries_to_wit(outbound::drive_all(plan.into_iter().collect()))
    }
}

export!(Notifiers);
