//! The configuration embedded at build time (validated by build.rs) and secrets and settings
//! from the Worker's environment: `[vars]` in wrangler.toml, secrets from `wrangler secret put`
//! or `.dev.vars`.

use heartbeat_core::config::{Config, Secrets};
use heartbeat_core::config_cache;
use std::rc::Rc;

/// services.json, validated and compiled by build.rs.
const FLEET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/fleet.postcard"));
const NOTIFICATIONS: &str = include_str!(concat!(env!("OUT_DIR"), "/notifications.json"));

thread_local! {
    static CONFIG: Rc<Config> = Rc::new(
        config_cache::compiled(FLEET, NOTIFICATIONS).expect("build.rs compiled the configuration"),
    );
}

/// The configuration, decoded once per isolate.
pub fn embedded() -> Rc<Config> {
    CONFIG.with(Rc::clone)
}

/// Secrets and `[vars]` by name.
pub struct EnvSecrets<'a>(pub &'a worker::Env);

impl EnvSecrets<'_> {
    /// The key `POST /api/sweep` requires, when set.
    pub fn sweep_key(&self) -> Option<String> {
        self.get("SWEEP_API_KEY").filter(|k| !k.is_empty())
    }
}

impl Secrets for EnvSecrets<'_> {
    fn get(&self, name: &str) -> Option<String> {
        match self.0.secret(name) {
            Ok(secret) => Some(secret.to_string()),
            Err(_) => self.0.var(name).ok().map(|v| v.to_string()),
        }
    }
}
