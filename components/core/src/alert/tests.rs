//! Each sender's format, from fixtures written after its documentation.

use super::*;

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/alerts/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

#[test]
fn alertmanager_groups_become_one_notification_listing_each_alert() {
    let alerts = parse(&fixture("alertmanager-firing"), Grouping::Group).unwrap();
    assert_eq!(alerts.len(), 1);
    let a = &alerts[0];
    assert_eq!(a.format, Format::Alertmanager);
    assert_eq!(a.state, State::Firing);
    assert_eq!(
        a.severity,
        Severity::Critical,
        "the worst firing alert's severity"
    );
    assert_eq!(a.title, "ProbeFailure");
    assert_eq!(a.dedup_key, "alertmanager:{}:{alertname=\"ProbeFailure\"}");
    assert_eq!(
        a.url.as_deref(),
        Some("http://alertmanager.example.org:9093")
    );
    assert_eq!(
        a.text,
        "• ProbeFailure: BlackBox probe failure: https://server.example.org\n\
         • ProbeFailure: BlackBox probe failure: https://api.example.org\n\
         …and 3 more alert(s) not listed"
    );
}

#[test]
fn alertmanager_resolution_keeps_the_dedup_key() {
    let firing = parse(&fixture("alertmanager-firing"), Grouping::Group).unwrap();
    let resolved = parse(&fixture("alertmanager-resolved"), Grouping::Group).unwrap();
    assert_eq!(resolved[0].state, State::Resolved);
    assert_eq!(resolved[0].dedup_key, firing[0].dedup_key);
    let per_alert = parse(&fixture("alertmanager-resolved"), Grouping::Alert).unwrap();
    assert_eq!(per_alert.len(), 2);
    assert_eq!(
        per_alert[0].dedup_key, "alertmanager:1a30ba71cca2921f",
        "per alert: the fingerprint"
    );
    assert_eq!(per_alert[1].severity, Severity::Warning);
}

#[test]
fn grafana_unified_uses_its_title_and_message() {
    let a = &parse(&fixture("grafana-firing"), Grouping::Group).unwrap()[0];
    assert_eq!(a.format, Format::Grafana);
    assert_eq!(a.title, "[FIRING:1]  (High memory usage blue us-1)");
    assert!(a.text.starts_with("**Firing**"));
    assert_eq!(a.severity, Severity::Warning, "no severity label: warning");
    assert_eq!(a.dedup_key, "grafana:{}:{alertname=\"High memory usage\"}");
}

#[test]
fn grafana_legacy_alerting_and_ok_pair_up() {
    let firing = &parse(&fixture("grafana-legacy-alerting"), Grouping::Group).unwrap()[0];
    assert_eq!(
        (firing.format, firing.state, firing.severity),
        (Format::GrafanaLegacy, State::Firing, Severity::Error)
    );
    assert_eq!(firing.title, "[Alerting] Test notification");
    assert_eq!(
        firing.text,
        "Someone is testing the alert notification within Grafana.\n• High value: 100\n• Higher Value: 200"
    );
    let ok = &parse(&fixture("grafana-legacy-ok"), Grouping::Group).unwrap()[0];
    assert_eq!(ok.state, State::Resolved);
    assert_eq!(ok.dedup_key, firing.dedup_key);
}

#[test]
fn generic_alerts_default_severity_and_source() {
    let a = &parse(&fixture("generic"), Grouping::Group).unwrap()[0];
    assert_eq!(
        (a.format, a.severity, a.source.as_str()),
        (Format::Generic, Severity::Critical, "disk-watch")
    );
    assert_eq!(a.labels["host"], "db-1");
    let minimal = &parse(
        &serde_json::json!({"title": "t", "message": "m"}),
        Grouping::Group,
    )
    .unwrap()[0];
    assert_eq!(
        (minimal.severity, minimal.source.as_str(), minimal.state),
        (Severity::Warning, "external", State::Firing)
    );
    let resolved = &parse(
        &serde_json::json!({"title": "t", "message": "", "status": "resolved"}),
        Grouping::Group,
    )
    .unwrap()[0];
    assert_eq!(resolved.dedup_key, minimal.dedup_key);
}

#[test]
fn unknown_shapes_are_refused_naming_what_is_missing() {
    let err = |v: Value| parse(&v, Grouping::Group).unwrap_err().0;
    assert!(err(serde_json::json!({"hello": 1})).starts_with("unrecognised alert"));
    assert_eq!(
        err(serde_json::json!({"title": "t"})),
        "message is required"
    );
    assert_eq!(
        err(serde_json::json!({"message": "m"})),
        "title is required (a non-empty string)"
    );
    assert!(
        err(serde_json::json!({"title": "t", "message": "m", "severity": "apocalyptic"}))
            .starts_with("severity must be")
    );
    assert!(err(serde_json::json!([1])).contains("JSON object"));
    assert!(
        err(serde_json::json!({"version": "4", "alerts": [], "status": "exploded"}))
            .starts_with("status:")
    );
}

#[test]
fn a_ten_thousand_alert_group_is_a_short_message() {
    let alerts: Vec<Value> = (0..10_000)
        .map(|i| {
            serde_json::json!({
                "status": "firing",
                "labels": {"alertname": format!("A{i}"), "huge": "x".repeat(10_000)},
                "annotations": {"summary": "y".repeat(10_000)},
            })
        })
        .collect();
    let body =
        serde_json::json!({"version": "4", "status": "firing", "alerts": alerts, "groupKey": "g"});
    let a = &parse(&body, Grouping::Group).unwrap()[0];
    assert_eq!(a.items.len(), MAX_LISTED);
    assert_eq!(a.not_listed, 10_000 - MAX_LISTED as u64);
    assert!(a.text.chars().count() < 8_000, "{}", a.text.chars().count());
    assert!(a.text.ends_with("…and 9980 more alert(s) not listed"));
}
