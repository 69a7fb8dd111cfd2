//! The generic form for anything else that can send JSON:
//! `{title, message, severity?, source?, labels?, annotations?, status?, dedupKey?}`.
//! `severity` is critical, error, warning (default) or info; `source` defaults to "external";
//! `status` is firing (default) or resolved; `dedupKey` defaults to source and title, so a
//! resolved alert with the same title closes what the firing one opened.

use super::AlertError;
use super::{string_map, text, Alert, Format, Severity, State};
use serde_json::{Map, Value};

pub(crate) fn parse(obj: &Map<String, Value>) -> Result<Vec<Alert>, AlertError> {
    let title = text(obj.get("title")).ok_or("title is required (a non-empty string)")?;
    let message = match obj.get("message") {
        Some(Value::String(m)) => crate::text::shorten(m, 4000),
        Some(_) => return Err("message must be a string".into()),
        None => return Err("message is required".into()),
    };
    let severity = match obj.get("severity") {
        None | Some(Value::Null) => Severity::Warning,
        Some(Value::String(s)) => {
            Severity::parse(s).ok_or("severity must be one of critical, error, warning, info")?
        }
        Some(_) => return Err("severity must be one of critical, error, warning, info".into()),
    };
    let state = match obj.get("status").and_then(Value::as_str) {
        None | Some("firing") => State::Firing,
        Some("resolved") => State::Resolved,
        Some(_) => return Err("status must be \"firing\" or \"resolved\"".into()),
    };
    for field in ["labels", "annotations"] {
        if obj
            .get(field)
            .is_some_and(|v| !v.is_object() && !v.is_null())
        {
            return Err(AlertError(format!("{field} must be an object of strings")));
        }
    }
    let source = text(obj.get("source")).unwrap_or_else(|| "external".into());
    let dedup = text(obj.get("dedupKey")).unwrap_or_else(|| format!("{source}:{title}"));
    Ok(vec![Alert {
        format: Format::Generic,
        state,
        severity,
        title,
        text: message,
        source: source.clone(),
        dedup_key: format!("generic:{dedup}"),
        url: text(obj.get("url")),
        labels: string_map(obj.get("labels")),
        items: Vec::new(),
        not_listed: 0,
    }])
}
