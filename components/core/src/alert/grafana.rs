//! Grafana's webhooks. Unified alerting (Grafana 8+) posts Alertmanager's shape plus `orgId`,
//! `title`, `state`, `message` and per-alert `values`, `dashboardURL`, `panelURL`,
//! `silenceURL`: <https://grafana.com/docs/grafana/latest/alerting/configure-notifications/manage-contact-points/integrations/webhook-notifier/>.
//! Legacy alerting posts `{ruleName, ruleId, state, message, evalMatches[], ruleUrl}`.

use super::AlertError;
use super::{alertmanager, listing, text, Alert, Format, Grouping, Item, Severity, State};
use serde_json::{Map, Value};

pub(crate) fn parse_unified(
    obj: &Map<String, Value>,
    grouping: Grouping,
) -> Result<Vec<Alert>, AlertError> {
    alertmanager::parse(obj, grouping, Format::Grafana)
}

pub(crate) fn parse_legacy(obj: &Map<String, Value>) -> Result<Vec<Alert>, AlertError> {
    let rule =
        text(obj.get("ruleName")).ok_or("ruleName is required for a Grafana legacy alert")?;
    let (state, severity) = match obj.get("state").and_then(Value::as_str) {
        Some("alerting") => (State::Firing, Severity::Error),
        Some("no_data") => (State::Firing, Severity::Warning),
        Some("ok") => (State::Resolved, Severity::Info),
        Some(other) => {
            return Err(AlertError(format!(
                "state \"{other}\" is not alerting, no_data or ok"
            )))
        }
        None => return Err("state is required for a Grafana legacy alert".into()),
    };
    let matches: Vec<Item> = obj
        .get("evalMatches")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .take(super::MAX_LISTED)
                .map(|m| Item {
                    name: text(m.get("metric")).unwrap_or_else(|| "value".into()),
                    state,
                    summary: m.get("value").map(|v| v.to_string()),
                    starts_at: None,
                })
                .collect()
        })
        .unwrap_or_default();
    let mut body = text(obj.get("message")).unwrap_or_default();
    if !matches.is_empty() {
        if !body.is_empty() {
            body.push('\n');
        }
        body.push_str(&listing(&matches, 0));
    }
    let id = obj
        .get("ruleId")
        .map(|v| v.to_string())
        .unwrap_or_else(|| rule.clone());
    Ok(vec![Alert {
        format: Format::GrafanaLegacy,
        state,
        severity,
        title: text(obj.get("title")).unwrap_or(rule),
        text: body,
        source: "grafana".into(),
        dedup_key: format!("grafana-legacy:{id}"),
        url: text(obj.get("ruleUrl")),
        labels: super::string_map(obj.get("tags")),
        items: matches,
        not_listed: 0,
    }])
}
