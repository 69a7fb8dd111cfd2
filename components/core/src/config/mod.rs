//! `config/services.json`, `config/notifications.json` and the settings, parsed strictly: the
//! types here; `walker` (the JSON walk that names every field), `services`, `schedules`,
//! `notifications` and `settings` (variables and secrets) each parse their part.
//!
//! Validation walks the JSON by hand rather than through serde so every error names the exact
//! field path (`services[2].stalenessThreshold: must be a positive integer`): a monitor that
//! starts with a half-understood config is worse than one that refuses to start.

mod notifications;
mod schedules;
mod services;
mod settings;
pub mod subset;
mod walker;

pub use crate::secrets::{channel_secret_name, Secrets};
pub use services::valid_service_id;
pub use settings::{
    api_keys, key_secrets, push_tokens, KeySecrets, Settings, MIN_KEY_SECRET_CHARS,
};

pub use crate::channels::ChannelConfig;
use crate::model::Event;
use serde::{Deserialize, Serialize};

/// Grace after a cron schedule's due time when none is given: jobs take time to run.
pub(crate) const DEFAULT_CRON_GRACE_SECS: u64 = 300;
/// Default silence, in seconds, after which a service is `down`.
pub const DEFAULT_STALENESS_SECS: u64 = 300;
/// Default number of log entries kept per service.
pub const DEFAULT_MAX_LOG_ENTRIES: usize = 100;
/// Default outbound request timeout, in milliseconds.
pub const DEFAULT_REQUEST_TIMEOUT_MS: u64 = 10_000;
/// Default cooldown between repeats of the same event for one service.
pub const DEFAULT_COOLDOWN_MINUTES: u64 = 5;
/// Largest number any duration or count in the files may hold: ten years in seconds. Larger
/// ones are mistakes, and would overflow once turned into milliseconds.
pub const MAX_NUMBER: u64 = 10 * 365 * 24 * 60 * 60;
/// Longest service id; ids appear in store keys and URLs.
pub const MAX_ID_LEN: usize = 64;

/// A configuration mistake, with the path of the offending field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {path}: {problem}")]
pub struct ConfigError {
    pub file: &'static str,
    pub path: String,
    pub problem: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceConfig {
    pub id: String,
    pub name: String,
    pub enabled: bool,
    /// Seconds of silence shown as the threshold: `stalenessThreshold`, or a schedule's
    /// period + grace (its grace for cron).
    pub staleness_threshold_secs: u64,
    /// When the service must report; `stalenessThreshold` makes a plain period.
    pub schedule: crate::schedule::Schedule,
    /// The service's own maintenance windows.
    pub maintenance: Vec<crate::maintenance::Window>,
    /// Services this one needs (`dependsOn`): while one of them is down, this one's `down` is
    /// held back and counted in the parent's notification.
    pub depends_on: Vec<String>,
    pub notifications: ServiceNotifications,
}

/// Per-service notification filters. `None` means "all".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceNotifications {
    pub enabled: bool,
    pub channels: Option<Vec<String>>,
    pub events: Option<Vec<Event>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NotificationsConfig {
    pub enabled: bool,
    pub channels: Vec<ChannelConfig>,
    pub cooldown_minutes: u64,
    pub alerts: AlertsConfig,
}

/// How external alerts (`POST /api/alert`) are relayed: the `alerts` object of
/// notifications.json.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertsConfig {
    pub enabled: bool,
    /// Channel names or types; `None` means every enabled channel.
    pub channels: Option<Vec<String>>,
    /// Alerts below this severity are not relayed.
    pub min_severity: crate::alert::Severity,
    pub grouping: crate::alert::Grouping,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        AlertsConfig {
            enabled: true,
            channels: None,
            min_severity: crate::alert::Severity::Info,
            grouping: crate::alert::Grouping::Group,
        }
    }
}

/// Both files, cross-checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub services: Vec<ServiceConfig>,
    pub notifications: NotificationsConfig,
    /// Maintenance windows for every service (`maintenance` at the top of services.json).
    pub maintenance: Vec<crate::maintenance::Window>,
    /// Only one service's cut of services.json ([`subset`]): work over the whole fleet (an
    /// overdue sweep) must load the whole file.
    pub partial: bool,
}

impl Config {
    /// Parse and validate both files. Services may only name channels that exist.
    pub fn parse(services_json: &str, notifications_json: &str) -> Result<Config, ConfigError> {
        let notifications = notifications::parse(notifications_json)?;
        let (services, maintenance) = services::parse(services_json, &notifications)?;
        Ok(Config {
            services,
            notifications,
            maintenance,
            partial: false,
        })
    }

    /// Services already validated against `notifications_json` (kept by `config_cache` for the
    /// digests of both files), with notifications.json parsed anew.
    pub(crate) fn validated(
        services: Vec<ServiceConfig>,
        maintenance: Vec<crate::maintenance::Window>,
        notifications_json: &str,
    ) -> Result<Config, ConfigError> {
        Ok(Config {
            services,
            notifications: notifications::parse(notifications_json)?,
            maintenance,
            partial: false,
        })
    }

    /// Whether `service` is in a maintenance window (its own or a global one) at `now`.
    pub fn in_maintenance(&self, service: &ServiceConfig, now: i64) -> bool {
        self.maintenance
            .iter()
            .chain(&service.maintenance)
            .any(|w| w.active(now))
    }

    pub fn service(&self, id: &str) -> Option<&ServiceConfig> {
        self.services.iter().find(|s| s.id == id)
    }

    /// Names of the enabled services that depend on `id` (directly): a `down` of `id` holds
    /// theirs back and names them.
    pub fn enabled_dependents(&self, id: &str) -> Vec<String> {
        self.dependents(id)
            .filter(|d| d.enabled)
            .map(|d| d.name.clone())
            .collect()
    }

    /// Services that depend on `id` (directly).
    pub fn dependents<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a ServiceConfig> + 'a {
        self.services
            .iter()
            .filter(move |s| s.depends_on.iter().any(|p| p == id))
    }
}

#[cfg(test)]
mod tests;
