//! Secrets and settings from `wasi:config` (Spin variables: lower-case names).

use crate::bindings::wasi::config::store;
use heartbeat_core::config::Secrets;

/// `API_KEYS` is looked up as the variable `api_keys`.
#[derive(Debug, Clone, Copy)]
pub struct Variables;

impl Secrets for Variables {
    fn get(&self, name: &str) -> Option<String> {
        store::get(&name.to_ascii_lowercase()).ok().flatten()
    }
}
