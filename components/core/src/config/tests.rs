use super::*;
use std::collections::BTreeMap;

const CHANNELS: &str = r#"{"enabled": true, "channels": [
    {"type": "webhook", "name": "ops-hook", "events": ["down", "up"]}
], "settings": {"cooldownMinutes": 10}}"#;

fn error(services: &str) -> String {
    Config::parse(services, CHANNELS).unwrap_err().to_string()
}

#[test]
fn parses_services_with_defaults() {
    let cfg = Config::parse(r#"{"services": [{"id": "backup"}]}"#, CHANNELS).unwrap();
    let s = &cfg.services[0];
    assert_eq!(s.name, "backup");
    assert!(s.enabled);
    assert_eq!(s.staleness_threshold_secs, 300);
    assert_eq!(s.notifications.channels, None);
    assert_eq!(cfg.notifications.cooldown_minutes, 10);
    assert_eq!(
        cfg.notifications.channels[0].events,
        Some(vec![Event::Down, Event::Up])
    );
}

#[test]
fn durations_too_large_to_be_meant_are_refused() {
    // Found by the config_files fuzz target: a period this large overflowed into milliseconds.
    let parse = |svc: &str| Config::parse(&format!(r#"{{"services": [{svc}]}}"#), CHANNELS);
    let e = parse(r#"{"id": "a", "schedule": {"kind": "period", "period": 100000000000000000}}"#)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "services.json: services[0].schedule.period: must be at most 315360000 (ten years in seconds)"
    );
    for svc in [
        r#"{"id": "a", "stalenessThreshold": 315360001}"#,
        r#"{"id": "a", "schedule": {"kind": "period", "period": 60, "grace": 18446744073709551615}}"#,
        r#"{"id": "a", "schedule": {"kind": "cron", "expression": "* * * * *", "grace": 9223372036854775807}}"#,
        r#"{"id": "a", "maintenance": [{"expression": "0 3 * * *", "duration": 315360001}]}"#,
    ] {
        let e = parse(svc).unwrap_err().to_string();
        assert!(e.contains("must be at most 315360000"), "{svc}: {e}");
    }
    // Ten years itself is allowed.
    let c = parse(
        r#"{"id": "a", "schedule": {"kind": "period", "period": 315360000, "grace": 315360000}}"#,
    )
    .unwrap();
    assert_eq!(c.services[0].staleness_threshold_secs, 2 * 315_360_000);
}

#[test]
fn names_the_path_of_a_bad_threshold() {
    let e =
        error(r#"{"services": [{"id": "a"}, {"id": "b"}, {"id": "c", "stalenessThreshold": -5}]}"#);
    assert_eq!(
        e,
        "services.json: services[2].stalenessThreshold: must be a positive integer"
    );
}

#[test]
fn rejects_duplicate_ids_and_unknown_channels() {
    assert!(error(r#"{"services": [{"id": "a"}, {"id": "a"}]}"#)
        .contains("services[1].id: duplicate service id"));
    assert_eq!(
        error(r#"{"services": [{"id": "a", "notifications": {"channels": ["nope"]}}]}"#),
        "services.json: services[0].notifications.channels[0]: no channel named \"nope\" in notifications.json (and not a channel type)"
    );
    assert!(error(r#"{"services": [{"id": "a b"}]}"#).contains("services[0].id: must be"));
}

#[test]
fn rejects_unknown_events_and_channel_types() {
    assert!(
        error(r#"{"services": [{"id": "a", "notifications": {"events": ["sideways"]}}]}"#)
            .contains("services[0].notifications.events[0]: unknown event \"sideways\"")
    );
    let e = Config::parse(
        r#"{"services": []}"#,
        r#"{"channels": [{"type": "carrier-pigeon", "name": "x"}]}"#,
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.starts_with("notifications.json: channels[0].type: unknown channel type"),
        "{e}"
    );
}

#[test]
fn a_template_with_an_unknown_variable_fails_start_up() {
    let e = Config::parse(
        r#"{"services": []}"#,
        r#"{"channels": [{"type": "slack", "name": "s", "config": {"title": "{{ service.nme }} down"}}]}"#,
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.starts_with("notifications.json: channels[0].config.title: unknown template variable \"service.nme\""),
        "{e}"
    );
    let e = Config::parse(
        r#"{"services": []}"#,
        r#"{"channels": [{"type": "webhook", "name": "w", "config": {"body": "{\"t\": {{ evnt | tojson }}}"}}]}"#,
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("channels[0].config.body: unknown template variable \"evnt\""),
        "{e}"
    );
}

#[test]
fn channel_options_are_checked_by_name_then_by_value() {
    let channel = |kind: &str, config: &str| {
        let notifications =
            format!(r#"{{"channels": [{{"type": "{kind}", "name": "c", "config": {config}}}]}}"#);
        Config::parse(r#"{"services": []}"#, &notifications)
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        channel("slack", r#"{"url": "x"}"#),
        "notifications.json: channels[0].config.url: unknown option (slack takes no options; secrets: WEBHOOK_URL)"
    );
    assert_eq!(
        channel("pushover", r#"{"priority": 1}"#),
        "notifications.json: channels[0].config.priority: unknown option (pushover takes: priorities, retry, expire, sound; secrets: APP_TOKEN, USER_KEY)"
    );
    for (config, problem) in [
        (
            r#"{"priorities": 1}"#,
            "priorities: must be an object of event to priority",
        ),
        (
            r#"{"priorities": {"sideways": 1}}"#,
            "priorities.sideways: unknown event",
        ),
        (
            r#"{"priorities": {"down": 3}}"#,
            "priorities.down: must be an integer from -2 to 2",
        ),
        (r#"{"retry": 29}"#, "retry: must be at least 30 seconds"),
        (r#"{"expire": 10801}"#, "expire: must be 1 to 10800 seconds"),
        (r#"{"sound": 1}"#, "sound: must be a string"),
    ] {
        let e = channel("pushover", config);
        assert!(e.ends_with(&format!("config.{problem}")), "{config}: {e}");
    }
    let e = channel("pagerduty", r#"{"severity": {"up": "info"}}"#);
    assert!(
        e.ends_with("config.severity.up: only down and degraded trigger incidents"),
        "{e}"
    );
}

#[test]
fn reports_invalid_json_and_missing_lists() {
    assert!(error("{not json").starts_with("services.json: (top level): is not valid JSON"));
    assert_eq!(error("{}"), "services.json: services: is required");
}

#[test]
fn channel_secret_names_are_upper_snake_case() {
    assert_eq!(
        channel_secret_name("ops-hook", "URL"),
        "NOTIFICATION_OPS_HOOK_URL"
    );
    assert_eq!(
        channel_secret_name("Team Chat.1", "URL"),
        "NOTIFICATION_TEAM_CHAT_1_URL"
    );
}

#[test]
fn settings_default_and_reject_nonsense() {
    let mut secrets = BTreeMap::new();
    assert_eq!(
        Settings::from_secrets(&secrets).unwrap(),
        Settings::default()
    );
    secrets.insert("MAX_LOG_ENTRIES".to_string(), "25".to_string());
    assert_eq!(
        Settings::from_secrets(&secrets).unwrap().max_log_entries,
        25
    );
    secrets.insert("REQUEST_TIMEOUT".to_string(), "soon".to_string());
    assert_eq!(
        Settings::from_secrets(&secrets).unwrap_err().to_string(),
        "variables: REQUEST_TIMEOUT: must be an integer from 100 to 120000"
    );
}

#[test]
fn schedules_parse_with_defaults_and_name_the_bad_field() {
    use crate::schedule::Schedule;
    let parse = |svc: &str| Config::parse(&format!(r#"{{"services": [{svc}]}}"#), CHANNELS);
    let c = parse(r#"{"id": "a", "schedule": {"kind": "period", "period": 3600, "grace": 600}}"#)
        .unwrap();
    assert_eq!(c.services[0].schedule, Schedule::period(3600, 600));
    assert_eq!(c.services[0].staleness_threshold_secs, 4200);
    let c = parse(r#"{"id": "a", "schedule": {"kind": "cron", "expression": "30 2 * * *", "timezone": "Europe/Berlin"}}"#).unwrap();
    assert_eq!(
        c.services[0].schedule,
        Schedule::cron("30 2 * * *", "Europe/Berlin", 300).unwrap()
    );
    assert_eq!(
        c.services[0].schedule.describe(),
        "30 2 * * * (Europe/Berlin)"
    );
    let c =
        parse(r#"{"id": "a", "schedule": {"kind": "cron", "expression": "*/5 * * * *"}}"#).unwrap();
    assert_eq!(
        c.services[0].schedule,
        Schedule::cron("*/5 * * * *", "UTC", 300).unwrap()
    );

    for (svc, path) in [
        (
            r#"{"id": "a", "stalenessThreshold": 60, "schedule": {"kind": "period", "period": 60}}"#,
            "services[0].schedule",
        ),
        (
            r#"{"id": "a", "schedule": {"kind": "hourly"}}"#,
            "services[0].schedule.kind",
        ),
        (
            r#"{"id": "a", "schedule": {"kind": "period"}}"#,
            "services[0].schedule.period",
        ),
        (
            r#"{"id": "a", "schedule": {"kind": "period", "period": 60, "timezone": "UTC"}}"#,
            "services[0].schedule.timezone",
        ),
        (
            r#"{"id": "a", "schedule": {"kind": "cron", "expression": "61 * * * *"}}"#,
            "services[0].schedule.expression",
        ),
        (
            r#"{"id": "a", "schedule": {"kind": "cron", "expression": "0 * * * *", "timezone": "Mars/Base"}}"#,
            "services[0].schedule.timezone",
        ),
        (
            r#"{"id": "a", "schedule": {"kind": "cron", "expression": "0 * * * *", "grace": -1}}"#,
            "services[0].schedule.grace",
        ),
    ] {
        let e = parse(svc).unwrap_err();
        assert_eq!(e.path, path, "{svc}: {e}");
    }
}

#[test]
fn maintenance_windows_parse_globally_and_per_service() {
    let text = r#"{"maintenance": [{"expression": "0 3 * * 0", "timezone": "Europe/Berlin", "duration": 3600}],
        "services": [{"id": "a", "maintenance": [{"expression": "*/30 * * * *", "duration": 300}]}]}"#;
    let c = Config::parse(text, CHANNELS).unwrap();
    assert_eq!(c.maintenance.len(), 1);
    assert_eq!(c.services[0].maintenance[0].duration_ms, 300_000);
    for (text, path) in [
        (
            r#"{"services": [{"id": "a", "maintenance": [{"expression": "0 3 * * 0"}]}]}"#,
            "services[0].maintenance[0].duration",
        ),
        (
            r#"{"services": [{"id": "a", "maintenance": [{"expression": "bad", "duration": 60}]}]}"#,
            "services[0].maintenance[0].expression",
        ),
        (
            r#"{"maintenance": [{"expression": "0 3 * * 0", "duration": 60, "timezone": "X/Y"}], "services": []}"#,
            "maintenance[0].timezone",
        ),
        (
            r#"{"maintenance": [{"expression": "0 3 * * 0", "duration": 60, "every": 2}], "services": []}"#,
            "maintenance[0].every",
        ),
    ] {
        let e = Config::parse(text, CHANNELS).unwrap_err();
        assert_eq!(e.path, path, "{text}: {e}");
    }
}

#[test]
fn api_keys_must_be_an_object_of_strings() {
    let mut secrets = BTreeMap::new();
    assert!(api_keys(&secrets).unwrap().is_empty());
    secrets.insert("API_KEYS".to_string(), r#"{"a": "k1"}"#.to_string());
    assert_eq!(api_keys(&secrets).unwrap()["a"], "k1");
    secrets.insert("API_KEYS".to_string(), r#"["k1"]"#.to_string());
    assert!(api_keys(&secrets).is_err());
}

#[test]
fn key_secrets_are_long_enough_and_rotate_in_order() {
    let secret = "0123456789abcdef0123456789abcdef";
    let mut secrets = BTreeMap::new();
    assert_eq!(key_secrets(&secrets).unwrap(), KeySecrets::default());
    secrets.insert("API_KEY_SECRET".to_string(), " ".to_string());
    assert_eq!(
        key_secrets(&secrets).unwrap(),
        KeySecrets::default(),
        "empty: unset"
    );
    secrets.insert("API_KEY_SECRET".to_string(), secret[1..].to_string());
    assert_eq!(
        key_secrets(&secrets).unwrap_err().to_string(),
        "variables: API_KEY_SECRET: must be at least 32 characters (`openssl rand -hex 32` makes one)"
    );
    secrets.insert("API_KEY_SECRET".to_string(), secret.to_string());
    let keys = key_secrets(&secrets).unwrap();
    let key = crate::auth::derived_key(secret, "backup");
    assert!(keys.accepts("backup", &key));
    assert!(!keys.accepts("other", &key), "a key is its service's only");

    secrets.remove("API_KEY_SECRET");
    secrets.insert("API_KEY_SECRET_PREVIOUS".to_string(), secret.to_string());
    assert!(key_secrets(&secrets)
        .unwrap_err()
        .to_string()
        .contains("API_KEY_SECRET_PREVIOUS: is set without API_KEY_SECRET"));
    secrets.insert("API_KEY_SECRET".to_string(), "f".repeat(64));
    let keys = key_secrets(&secrets).unwrap();
    assert!(
        keys.accepts("backup", &key),
        "the previous secret's keys still work"
    );
    assert!(keys.accepts(
        "backup",
        &crate::auth::derived_key(&"f".repeat(64), "backup")
    ));
}
