//! Prometheus Alertmanager's webhook (`version: "4"`):
//! <https://prometheus.io/docs/alerting/latest/configuration/#webhook_config>. Grafana's
//! unified alerting sends the same shape with extra fields, so it reuses this parser.

use super::AlertError;
use super::{
    listing, string_map, text, Alert, Format, Grouping, Item, Severity, State, MAX_LISTED,
};
use serde_json::{Map, Value};

fn state(v: Option<&Value>) -> Result<State, AlertError> {
    match v.and_then(Value::as_str) {
        Some("firing") => Ok(State::Firing),
        Some("resolved") => Ok(State::Resolved),
        _ => Err("status must be \"firing\" or \"resolved\"".into()),
    }
}

fn severity(labels: &std::collections::BTreeMap<String, String>) -> Severity {
    labels
        .get("severity")
        .and_then(|s| Severity::parse(s))
        .unwrap_or(Severity::Warning)
}

/// One alert of `alerts[]`, with its labels and annotations.
struct Raw<'a> {
    value: &'a Map<String, Value>,
    labels: std::collections::BTreeMap<String, String>,
    annotations: std::collections::BTreeMap<String, String>,
    state: State,
}

pub(crate) fn parse(
    obj: &Map<String, Value>,
    grouping: Grouping,
    format: Format,
) -> Result<Vec<Alert>, AlertError> {
    let Some(list) = obj.get("alerts").and_then(Value::as_array) else {
        return Err("alerts must be an array".into());
    };
    let group_state = state(obj.get("status")).map_err(|e| format!("status: {e}"))?;
    let mut raws = Vec::with_capacity(list.len());
    for (i, a) in list.iter().enumerate() {
        let Value::Object(value) = a else {
            return Err(AlertError(format!("alerts[{i}] must be an object")));
        };
        raws.push(Raw {
            value,
            labels: string_map(value.get("labels")),
            annotations: string_map(value.get("annotations")),
            state: state(value.get("status")).map_err(|e| format!("alerts[{i}].status: {e}"))?,
        });
    }
    let common_labels = string_map(obj.get("commonLabels"));
    let common_annotations = string_map(obj.get("commonAnnotations"));
    let source = match format {
        Format::Alertmanager => "alertmanager",
        _ => "grafana",
    };
    let name_of = |r: &Raw| {
        r.labels
            .get("alertname")
            .cloned()
            .unwrap_or_else(|| "alert".into())
    };
    let item_of = |r: &Raw| Item {
        name: name_of(r),
        state: r.state,
        summary: r
            .annotations
            .get("summary")
            .or(r.annotations.get("description"))
            .cloned(),
        starts_at: text(r.value.get("startsAt")),
    };
    let url_of =
        |r: &Raw| text(r.value.get("generatorURL")).or_else(|| text(r.value.get("dashboardURL")));

    match grouping {
        Grouping::Group => {
            let truncated = obj
                .get("truncatedAlerts")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            let firing: Vec<&Raw> = raws.iter().filter(|r| r.state == State::Firing).collect();
            let severity = firing
                .iter()
                .map(|r| severity(&r.labels))
                .max()
                .unwrap_or_else(|| severity(&common_labels));
            let items: Vec<Item> = raws.iter().take(MAX_LISTED).map(item_of).collect();
            let not_listed = truncated + raws.len().saturating_sub(MAX_LISTED) as u64;
            let name = common_labels
                .get("alertname")
                .cloned()
                .or_else(|| raws.first().map(name_of))
                .unwrap_or_else(|| "alert group".into());
            let title = text(obj.get("title"))
                .or_else(|| common_annotations.get("summary").cloned())
                .unwrap_or(name);
            let mut body = text(obj.get("message")).unwrap_or_default();
            if body.is_empty() || format == Format::Alertmanager {
                body = listing(&items, not_listed);
            }
            let group_key = text(obj.get("groupKey")).unwrap_or_else(|| {
                common_labels
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(",")
            });
            Ok(vec![Alert {
                format,
                state: group_state,
                severity,
                title,
                text: body,
                source: source.into(),
                dedup_key: format!("{source}:{group_key}"),
                url: text(obj.get("externalURL")).or_else(|| raws.first().and_then(url_of)),
                labels: common_labels,
                items,
                not_listed,
            }])
        }
        Grouping::Alert => Ok(raws
            .iter()
            .map(|r| {
                let item = item_of(r);
                let key = text(r.value.get("fingerprint")).unwrap_or_else(|| {
                    r.labels
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(",")
                });
                Alert {
                    format,
                    state: r.state,
                    severity: severity(&r.labels),
                    title: r
                        .annotations
                        .get("summary")
                        .cloned()
                        .unwrap_or_else(|| item.name.clone()),
                    text: r
                        .annotations
                        .get("description")
                        .cloned()
                        .unwrap_or_else(|| listing(std::slice::from_ref(&item), 0)),
                    source: source.into(),
                    dedup_key: format!("{source}:{key}"),
                    url: url_of(r),
                    labels: r.labels.clone(),
                    items: vec![item],
                    not_listed: 0,
                }
            })
            .collect()),
    }
}
