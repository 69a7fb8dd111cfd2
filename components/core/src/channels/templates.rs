//! Notification templates: a channel's `title` and `message` options (and a webhook's `body`)
//! in notifications.json, rendered with minijinja — a maintained Jinja2 implementation, so users
//! get filters, conditionals and `tojson` instead of a home-made `{placeholder}` scheme.
//!
//! Every variable a template uses is checked at start-up against [`VARIABLES`]; a typo is a
//! configuration error, not a blank line in a 3 a.m. page. Only `metadata.*` is open-ended (its
//! fields depend on what the service sends) and renders empty when a heartbeat lacks one.

use crate::channels::message::{human_duration, Message};
use crate::model::{Event, Reason};
use crate::notification::Notification;
use crate::time::iso;
#[cfg(feature = "templates")]
use minijinja::{Environment, UndefinedBehavior};
use serde_json::json;

/// A notification template that does not parse or render; says where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TemplateError(pub String);

/// Variables a template may use (`metadata.<field>` besides).
pub const VARIABLES: &[&str] = &[
    "service.id",
    "service.name",
    "event",
    "status",
    "previous_status",
    "reason",
    "message",
    "at",
    "last_heartbeat",
    "threshold",
    "duration",
    "default_title",
    "default_message",
    "reminder",
    "dependents",
];

#[cfg(feature = "templates")]
fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    // Validation already proved every root variable exists; what can still be missing is a
    // metadata field a heartbeat did not send, which renders empty.
    env.set_undefined_behavior(UndefinedBehavior::Chainable);
    env
}

/// Check a template's syntax and variables; the error is a sentence for a config error.
#[cfg(feature = "templates")]
pub fn check(source: &str) -> Result<(), TemplateError> {
    let env = environment();
    let template = env.template_from_str(source).map_err(|e| {
        TemplateError(format!(
            "invalid template: {}",
            e.detail().unwrap_or("syntax error")
        ))
    })?;
    let mut unknown: Vec<String> = template
        .undeclared_variables(true)
        .into_iter()
        .filter(|v| {
            let known = VARIABLES.contains(&v.as_str())
                || v == "metadata"
                || v.starts_with("metadata.")
                // `service` alone, e.g. in `{{ service | tojson }}`.
                || v == "service";
            !known
        })
        .collect();
    unknown.sort();
    match unknown.first() {
        None => Ok(()),
        Some(v) => Err(TemplateError(format!(
            "unknown template variable \"{v}\" (known: {}, metadata.<field>)",
            VARIABLES.join(", ")
        ))),
    }
}

/// The values templates see for `n`.
pub fn variables(n: &Notification, defaults: &Message) -> serde_json::Value {
    let t = &n.transition;
    let duration = match (n.event, t.reason) {
        (Event::Down, Reason::Silence) => n
            .last_heartbeat
            .map(|lb| human_duration((t.at - lb) / 1000)),
        (Event::Up, _) => n.previous_since.map(|s| human_duration((t.at - s) / 1000)),
        _ => None,
    };
    json!({
        "service": { "id": n.service_id, "name": n.service_name },
        "event": n.event.as_str(),
        "status": t.to.as_str(),
        "previous_status": t.from.as_str(),
        "reason": t.reason.as_str(),
        "message": n.message.clone().unwrap_or_default(),
        "metadata": n.metadata.clone().unwrap_or_default(),
        "at": iso(t.at),
        "last_heartbeat": n.last_heartbeat.map(iso).unwrap_or_default(),
        "threshold": human_duration(n.threshold_secs as i64),
        "duration": duration.unwrap_or_default(),
        "reminder": n.reminder,
        "dependents": n.dependents,
        "default_title": defaults.title,
        "default_message": defaults.text,
    })
}

/// Render `source` with `vars`. Errors (which validation makes rare) describe the template.
#[cfg(feature = "templates")]
pub fn render(source: &str, vars: &serde_json::Value) -> Result<String, TemplateError> {
    environment()
        .render_str(
            source,
            minijinja::Value::from(minijinja::value::Serde(vars)),
        )
        .map_err(|e| {
            TemplateError(format!(
                "template failed: {}",
                e.detail().unwrap_or("render error")
            ))
        })
}

/// Without the engine (ingest, sweep and dashboard never render a notification): nothing to
/// check with here; heartbeat-host's start-up, `spin build` and the Worker build check every
/// template with it.
#[cfg(not(feature = "templates"))]
pub fn check(_source: &str) -> Result<(), TemplateError> {
    Ok(())
}

/// Without the engine, a template cannot be rendered.
#[cfg(not(feature = "templates"))]
pub fn render(_source: &str, _vars: &serde_json::Value) -> Result<String, TemplateError> {
    Err(TemplateError(
        "this build cannot render templates (feature \"templates\")".into(),
    ))
}

#[cfg(all(test, feature = "templates"))]
mod tests {
    use super::*;
    use crate::channels::fixtures::notification;
    use crate::channels::message::default_message;

    #[test]
    fn renders_variables_filters_and_metadata() {
        let n = notification(Event::Down);
        let vars = variables(&n, &default_message(&n));
        let out = render(
            "{{ service.name | upper }} {{ event }} after {{ duration }} on {{ metadata.host }}{{ metadata.missing }}",
            &vars,
        )
        .unwrap();
        assert_eq!(out, "NIGHTLY BACKUP down after 5m 57s on db-1");
    }

    #[test]
    fn an_unknown_variable_is_a_config_error() {
        assert!(check("{{ service.name }} {{ metadata.anything.deep }}").is_ok());
        let e = check("{{ servce.name }} is {{ event }}").unwrap_err();
        assert!(
            e.0.starts_with("unknown template variable \"servce.name\""),
            "{e}"
        );
        assert!(check("{% if %}")
            .unwrap_err()
            .0
            .starts_with("invalid template"));
    }

    #[test]
    fn defaults_can_be_extended() {
        let n = notification(Event::Up);
        let vars = variables(&n, &default_message(&n));
        assert_eq!(
            render("[prod] {{ default_title }}", &vars).unwrap(),
            "[prod] Nightly backup is back up"
        );
    }
}
