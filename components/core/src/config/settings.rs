//! Settings and per-service secrets from variables: `MAX_LOG_ENTRIES`, `REQUEST_TIMEOUT`, …,
//! `API_KEYS`, `API_KEY_SECRET`, `PUSH_TOKENS`, and the names of channel credentials.

use super::{ConfigError, Secrets, DEFAULT_MAX_LOG_ENTRIES, DEFAULT_REQUEST_TIMEOUT_MS};
use crate::auth::{constant_time_eq, derived_key, derived_push_token, push_token_service};
use serde_json::Value;
use std::collections::BTreeMap;

/// Runtime settings (`MAX_LOG_ENTRIES`, `REQUEST_TIMEOUT`, ...), read from secrets/variables.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub max_log_entries: usize,
    pub request_timeout_ms: u64,
    /// A request that finds the last sweep older than this runs one; 0 turns that off.
    pub sweep_overdue_secs: u64,
    /// Bytes of a ping's request body kept as its message (`PING_BODY_LIMIT`).
    pub ping_body_limit: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_log_entries: DEFAULT_MAX_LOG_ENTRIES,
            request_timeout_ms: DEFAULT_REQUEST_TIMEOUT_MS,
            sweep_overdue_secs: 120,
            ping_body_limit: 10_000,
        }
    }
}

impl Settings {
    /// Read settings; an empty value means "default", a malformed one is an error.
    pub fn from_secrets(secrets: &dyn Secrets) -> Result<Settings, ConfigError> {
        let d = Settings::default();
        Ok(Settings {
            max_log_entries: setting(
                secrets,
                "MAX_LOG_ENTRIES",
                d.max_log_entries as u64,
                1,
                1000,
            )? as usize,
            request_timeout_ms: setting(
                secrets,
                "REQUEST_TIMEOUT",
                d.request_timeout_ms,
                100,
                120_000,
            )?,
            sweep_overdue_secs: setting(
                secrets,
                "SWEEP_OVERDUE_SECONDS",
                d.sweep_overdue_secs,
                0,
                86_400,
            )?,
            ping_body_limit: setting(
                secrets,
                "PING_BODY_LIMIT",
                d.ping_body_limit as u64,
                0,
                crate::limits::MAX_BODY_BYTES as u64,
            )? as usize,
        })
    }
}

fn setting(
    secrets: &dyn Secrets,
    name: &'static str,
    default: u64,
    min: u64,
    max: u64,
) -> Result<u64, ConfigError> {
    let Some(raw) = secrets.get(name).filter(|v| !v.trim().is_empty()) else {
        return Ok(default);
    };
    match raw.trim().parse::<u64>() {
        Ok(v) if (min..=max).contains(&v) => Ok(v),
        _ => Err(ConfigError {
            file: "variables",
            path: name.to_string(),
            problem: format!("must be an integer from {min} to {max}"),
        }),
    }
}

/// `API_KEYS`: `{"service-id": "key"}`. Absent means no service can send heartbeats.
pub fn api_keys(secrets: &dyn Secrets) -> Result<BTreeMap<String, String>, ConfigError> {
    service_tokens(secrets, "API_KEYS")
}

/// Shortest `API_KEY_SECRET` accepted: 32 characters (`openssl rand -hex 32` makes 64).
pub const MIN_KEY_SECRET_CHARS: usize = 32;

/// `API_KEY_SECRET`, and `API_KEY_SECRET_PREVIOUS` while keys are being rotated: each service's
/// heartbeat key is derived from them ([`derived_key`]), so the secrets stay one line however
/// many services there are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeySecrets {
    pub current: Option<String>,
    pub previous: Option<String>,
}

impl KeySecrets {
    /// Whether `token` is `service_id`'s key derived from either secret (constant-time).
    pub fn accepts(&self, service_id: &str, token: &str) -> bool {
        self.derives(token, |secret| derived_key(secret, service_id))
    }

    /// The service whose push token, derived from either secret, `token` is.
    pub fn push_service<'t>(&self, token: &'t str) -> Option<&'t str> {
        let id = push_token_service(token)?;
        self.derives(token, |secret| derived_push_token(secret, id))
            .then_some(id)
    }

    fn derives(&self, token: &str, derive: impl Fn(&str) -> String) -> bool {
        [&self.current, &self.previous]
            .into_iter()
            .flatten()
            .any(|secret| constant_time_eq(derive(secret).as_bytes(), token.as_bytes()))
    }
}

/// Read `API_KEY_SECRET` and `API_KEY_SECRET_PREVIOUS` (unset or empty: not used). A secret
/// shorter than [`MIN_KEY_SECRET_CHARS`], or a previous one without a current one, is refused.
pub fn key_secrets(secrets: &dyn Secrets) -> Result<KeySecrets, ConfigError> {
    let read = |name: &str| -> Result<Option<String>, ConfigError> {
        let Some(value) = secrets.get(name).filter(|v| !v.trim().is_empty()) else {
            return Ok(None);
        };
        if value.trim().chars().count() < MIN_KEY_SECRET_CHARS {
            return Err(ConfigError {
                file: "variables",
                path: name.into(),
                problem: format!(
                    "must be at least {MIN_KEY_SECRET_CHARS} characters (`openssl rand -hex 32` makes one)"
                ),
            });
        }
        Ok(Some(value.trim().to_string()))
    };
    let keys = KeySecrets {
        current: read("API_KEY_SECRET")?,
        previous: read("API_KEY_SECRET_PREVIOUS")?,
    };
    if keys.previous.is_some() && keys.current.is_none() {
        return Err(ConfigError {
            file: "variables",
            path: "API_KEY_SECRET_PREVIOUS".into(),
            problem: "is set without API_KEY_SECRET (the new secret of the rotation)".into(),
        });
    }
    Ok(keys)
}

/// `PUSH_TOKENS`: `{"service-id": "token"}` for Uptime Kuma-style push URLs. Absent means none.
pub fn push_tokens(secrets: &dyn Secrets) -> Result<BTreeMap<String, String>, ConfigError> {
    service_tokens(secrets, "PUSH_TOKENS")
}

/// A secret holding a JSON object of service id to a non-empty string.
fn service_tokens(
    secrets: &dyn Secrets,
    name: &str,
) -> Result<BTreeMap<String, String>, ConfigError> {
    let err = |problem: &str| ConfigError {
        file: "variables",
        path: name.into(),
        problem: problem.into(),
    };
    let Some(raw) = secrets.get(name).filter(|v| !v.trim().is_empty()) else {
        return Ok(BTreeMap::new());
    };
    let value: Value = serde_json::from_str(&raw)
        .map_err(|_| err("must be a JSON object of service id to key"))?;
    let Value::Object(map) = value else {
        return Err(err("must be a JSON object of service id to key"));
    };
    map.into_iter()
        .map(|(id, key)| match key {
            Value::String(k) if !k.is_empty() => Ok((id, k)),
            _ => Err(err("every key must be a non-empty string")),
        })
        .collect()
}
