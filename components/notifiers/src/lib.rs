//! The notifiers component: exports `heartbeat:monitor/notifier`. heartbeat-core decides which
//! channels get an event and builds each vendor request; this component drives every channel's
//! delivery plan at once over `wasi:http`, so a slow vendor delays only itself. Ingest, sweep
//! and dashboard import it — linked by heartbeat-host, composed by Spin as a dependency. It also
//! exports `extra-notifier` as "none", the default of the slot for a notifier of the user's own.
#![expect(unsafe_code, reason = "wit-bindgen generates the notifier export glue")]

mod exchange;
mod outbound;

use exports::heartbeat::monitor::notifier::Guest;
use heartbeat::monitor::types::{self as wit_types, Delivery, Notification};
use heartbeat_core::config::{Config, Secrets, Settings};
use heartbeat_core::delivery::Plan;
use heartbeat_core::notify;

wit_bindgen::generate!({
    path: "../../wit",
    world: "notifiers",
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
    deliveries_to_wit(vec![notify::Delivery::failed("(configuration)", "", error)])
}

/// Deliver the plans `plan` makes from the configuration and settings, or one failed delivery
/// that says what is wrong with them.
fn deliver_planned(plan: impl FnOnce(&Config, u64) -> Vec<Plan>) -> Vec<Delivery> {
    let config = match heartbeat_guest::files::load_config() {
        Ok(c) => c,
        Err(e) => return failed(e.to_string()),
    };
    match Settings::from_secrets(&Variables) {
        Ok(settings) => deliveries_to_wit(outbound::drive_all(plan(
            &config,
            settings.request_timeout_ms,
        ))),
        Err(e) => failed(e.to_string()),
    }
}

struct Notifiers;

impl Guest for Notifiers {
    fn deliver(n: Notification) -> Vec<Delivery> {
        let n = notification_from_wit(n);
        deliver_planned(|config, timeout_ms| notify::plans(config, &Variables, timeout_ms, &n))
    }

    fn deliver_to(channel: String, n: Notification) -> Vec<Delivery> {
        let n = notification_from_wit(n);
        deliver_planned(|config, timeout_ms| {
            notify::plan_for(config, &Variables, timeout_ms, &channel, &n)
        })
    }
}

/// The extra-notifier slot when spin.toml puts no notifier of the user's own there.
impl exports::heartbeat::monitor::extra_notifier::Guest for Notifiers {
    fn deliver(_: Notification) -> Vec<Delivery> {
        Vec::new()
    }

    fn deliver_to(_: String, _: Notification) -> Vec<Delivery> {
        Vec::new()
    }
}

export!(Notifiers);
