//! What one request runs with: the host's ports (store, clock, notifier) and the
//! configuration. Below the API so the domain modules that take it (notify, sweep, unsent)
//! never point up at the HTTP layer.

use crate::clock::Clock;
use crate::config::{Config, Secrets, Settings};
use crate::layout::Layout;
use crate::notification::Notifier;
use crate::state::Policy;
use crate::store::Store;

/// The ports and configuration one request runs with.
pub struct Context<'a, S: Store> {
    pub store: &'a S,
    pub clock: &'a dyn Clock,
    pub notifier: &'a dyn Notifier,
    pub config: &'a Config,
    pub settings: &'a Settings,
    pub secrets: &'a dyn Secrets,
}

impl<S: Store> Context<'_, S> {
    pub fn layout(&self) -> Layout {
        Layout {
            max_log_entries: self.settings.max_log_entries,
        }
    }

    pub fn policy(&self) -> Policy {
        Policy {
            cooldown_ms: self.config.notifications.cooldown_minutes as i64 * 60_000,
            quiet: false,
        }
    }
}
