//! External alerts (`POST /api/alert`): what Prometheus Alertmanager, Grafana and generic
//! senders post, recognised by shape and turned into [`Alert`]s — one notification each.
//!
//! Detection is by the fields each sender always sends, never a guess: a body that matches no
//! shape is refused with the fields it lacks. Sizes are bounded (a group lists at most
//! [`MAX_LISTED`] alerts and says how many more there were), so a 10,000-alert group is a
//! short message, not a failure.

pub mod alertmanager;
pub mod generic;
pub mod grafana;

use serde_json::Value;
use std::collections::BTreeMap;

/// Alerts listed by name in one grouped notification.
pub const MAX_LISTED: usize = 20;
/// Longest label or annotation value kept.
pub const MAX_VALUE_CHARS: usize = 256;

/// Which sender's format a body was recognised as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Alertmanager,
    Grafana,
    GrafanaLegacy,
    Generic,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Alertmanager => "alertmanager",
            Format::Grafana => "grafana",
            Format::GrafanaLegacy => "grafana-legacy",
            Format::Generic => "generic",
        }
    }
}

/// How bad it is, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Info,
    Warning,
    Error,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
            Severity::Critical => "critical",
        }
    }

    /// The four names, plus the spellings alerting rules commonly use.
    pub fn parse(s: &str) -> Option<Severity> {
        match s.trim().to_ascii_lowercase().as_str() {
            "critical" | "crit" | "page" | "fatal" | "emergency" => Some(Severity::Critical),
            "error" | "err" | "high" | "major" => Some(Severity::Error),
            "warning" | "warn" | "medium" | "minor" => Some(Severity::Warning),
            "info" | "information" | "low" | "none" => Some(Severity::Info),
            _ => None,
        }
    }
}

/// Firing or resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Firing,
    Resolved,
}

/// One alert of a group, for listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub name: String,
    pub state: State,
    pub summary: Option<String>,
    pub starts_at: Option<String>,
}

/// One notification-worthy alert (a group, or a single alert).
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub format: Format,
    pub state: State,
    pub severity: Severity,
    pub title: String,
    pub text: String,
    pub source: String,
    /// Stable across firing and resolved, so PagerDuty closes the incident it opened and
    /// cooldown recognises a repeat.
    pub dedup_key: String,
    pub url: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub items: Vec<Item>,
    /// Alerts the sender left out (Alertmanager's `truncatedAlerts`) or we did not list.
    pub not_listed: u64,
}

/// Per group (default) or one notification per alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Grouping {
    #[default]
    Group,
    Alert,
}

/// Why an alert body was refused, naming the field (answered as a 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AlertError(pub String);

impl From<&str> for AlertError {
    fn from(problem: &str) -> Self {
        AlertError(problem.into())
    }
}

impl From<String> for AlertError {
    fn from(problem: String) -> Self {
        AlertError(problem)
    }
}

/// Recognise and parse a body. `Err` is a sentence for a 400.
pub fn parse(body: &Value, grouping: Grouping) -> Result<Vec<Alert>, AlertError> {
    let Value::Object(obj) = body else {
        return Err("an alert must be a JSON object".into());
    };
    let has = |k: &str| obj.contains_key(k);
    if has("alerts") {
        if obj.get("version").and_then(Value::as_str) == Some("4") && !has("orgId") {
            return alertmanager::parse(obj, grouping, Format::Alertmanager);
        }
        if has("orgId") || has("state") || has("title") {
            return grafana::parse_unified(obj, grouping);
        }
        return Err(
            "alerts[] without version \"4\" (Alertmanager) or orgId (Grafana): unrecognised sender"
                .into(),
        );
    }
    if has("ruleName") || has("evalMatches") {
        return grafana::parse_legacy(obj);
    }
    if has("title") || has("message") {
        return generic::parse(obj);
    }
    Err("unrecognised alert: expected an Alertmanager webhook (version \"4\", alerts[]), a Grafana webhook (alerts[] and orgId, or ruleName and state) or a generic {title, message}".into())
}

/// A string field, clipped.
pub(crate) fn text(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| crate::text::shorten(s, MAX_VALUE_CHARS))
}

/// A `{string: string}` object, values clipped; other values are skipped.
pub(crate) fn string_map(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| {
                    v.as_str().map(|s| {
                        (
                            crate::text::shorten(k, MAX_VALUE_CHARS),
                            crate::text::shorten(s, MAX_VALUE_CHARS),
                        )
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The text of a grouped alert: one line per listed alert, then how many were left out.
pub(crate) fn listing(items: &[Item], not_listed: u64) -> String {
    let mut lines: Vec<String> = items
        .iter()
        .map(|i| {
            let state = if i.state == State::Resolved {
                " (resolved)"
            } else {
                ""
            };
            match &i.summary {
                Some(s) => format!("• {}{state}: {s}", i.name),
                None => format!("• {}{state}", i.name),
            }
        })
        .collect();
    if not_listed > 0 {
        lines.push(format!("…and {not_listed} more alert(s) not listed"));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests;

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        [
            Format::Alertmanager,
            Format::Grafana,
            Format::GrafanaLegacy,
            Format::Generic,
        ]
        .into_iter()
        .find(|f| f.as_str() == s)
    }
}
