//! Secrets and settings as hosts hand them over (Spin variables, Worker secrets), and the name
//! each channel credential goes by.

use std::collections::BTreeMap;

/// Secrets and settings by their upper-case name (`API_KEYS`, `NOTIFICATION_OPS_URL`).
pub trait Secrets {
    fn get(&self, name: &str) -> Option<String>;
}

impl Secrets for BTreeMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        BTreeMap::get(self, name).cloned()
    }
}

/// `NOTIFICATION_{CHANNEL_NAME}_{KEY}`: name upper-cased, non-alphanumerics become `_`.
pub fn channel_secret_name(channel: &str, key: &str) -> String {
    let name: String = channel
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("NOTIFICATION_{name}_{key}")
}
