//! Vendor-format tests: for each channel and each event, the whole request (method, URL,
//! headers, body) is compared with a fixture in `tests/fixtures/channels/<type>/<event>.json`,
//! written from the vendor's documentation.

use super::{build, ChannelKind};
use crate::config::ChannelConfig;
use crate::model::{Event, Reason, Status, Transition};
use crate::notify::Notification;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// 2025-11-25T16:44:03.000Z and friends.
const LAST_BEAT: i64 = 1_764_089_043_000;
const DOWN_AT: i64 = 1_764_089_400_000;
const UP_AT: i64 = 1_764_090_000_000;
const DEGRADED_AT: i64 = 1_764_090_600_000;

pub fn notification(event: Event) -> Notification {
    let (at, from, to, reason, last, message, previous_since) = match event {
        Event::Down => (
            DOWN_AT,
            Status::Up,
            Status::Down,
            Reason::Silence,
            LAST_BEAT,
            "backup finished",
            1_764_000_000_000,
        ),
        Event::Up => (
            UP_AT,
            Status::Down,
            Status::Up,
            Reason::Heartbeat,
            UP_AT,
            "backup <ok> & done",
            DOWN_AT,
        ),
        Event::Degraded => (
            DEGRADED_AT,
            Status::Up,
            Status::Degraded,
            Reason::Heartbeat,
            DEGRADED_AT,
            "disk 91% full",
            UP_AT,
        ),
    };
    Notification {
        event,
        service_id: "nightly-backup".into(),
        service_name: "Nightly backup".into(),
        transition: Transition {
            at,
            from,
            to,
            reason,
            seq: 0,
        },
        last_heartbeat: Some(last),
        message: Some(message.into()),
        metadata: Some(json!({"host": "db-1"}).as_object().cloned().unwrap()),
        threshold_secs: 300,
        previous_since: Some(previous_since),
        alert: None,
        reminder: false,
        dependents: Vec::new(),
        event_id: format!("nightly-backup:{at}:0:{}", event.as_str()),
    }
}

fn setup(kind: ChannelKind) -> (ChannelConfig, BTreeMap<String, String>) {
    let (options, secrets): (Value, &[(&str, &str)]) = match kind {
        ChannelKind::Discord => (
            json!({"username": "Heartbeat"}),
            &[(
                "WEBHOOK_URL",
                "https://discord.com/api/webhooks/123456789012345678/fixture-token",
            )],
        ),
        ChannelKind::Slack => (
            json!({}),
            &[(
                "WEBHOOK_URL",
                "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
            )],
        ),
        ChannelKind::Telegram => (
            json!({}),
            &[
                ("BOT_TOKEN", "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"),
                ("CHAT_ID", "-1001234567890"),
            ],
        ),
        ChannelKind::Email => (
            json!({"domain": "mg.example.com", "from": "Heartbeat <alerts@mg.example.com>", "to": ["ops@example.com", "oncall@example.com"], "region": "eu"}),
            &[("API_KEY", "key-fixture")],
        ),
        ChannelKind::Webhook => (
            json!({}),
            &[
                ("URL", "https://hooks.example.com/heartbeat"),
                ("HEADERS", r#"{"Authorization": "Bearer receiver-token"}"#),
            ],
        ),
        ChannelKind::Pushover => (
            json!({"priorities": {"down": 2}, "retry": 30, "expire": 3600, "sound": "siren"}),
            &[
                ("APP_TOKEN", "azGDORePK8gMaC0QOYAMyEEuzJnyUi"),
                ("USER_KEY", "uQiRzpo4DXghDmr9QzzfQu27cmVRsG"),
            ],
        ),
        ChannelKind::PagerDuty => (
            json!({}),
            &[("ROUTING_KEY", "R0123456789ABCDEFGHIJKLMNOPQRSTU")],
        ),
        ChannelKind::Ntfy => (
            json!({"server": "https://ntfy.example.com", "priorities": {"down": 5}}),
            &[
                ("TOPIC", "nightly-jobs-x7k2"),
                ("TOKEN", "tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2"),
            ],
        ),
        ChannelKind::Matrix => (
            json!({}),
            &[
                ("HOMESERVER", "https://matrix.example.org"),
                ("ACCESS_TOKEN", "syt_aGVhcnRiZWF0_fixtureTokenXyz_0AbCdE"),
                ("ROOM_ID", "!ops-room:example.org"),
            ],
        ),
        ChannelKind::GoogleChat => (
            json!({}),
            &[(
                "WEBHOOK_URL",
                "https://chat.googleapis.com/v1/spaces/AAAA1234567/messages?key=fixture-key&token=fixture-token",
            )],
        ),
        ChannelKind::Teams => (
            json!({}),
            &[(
                "WEBHOOK_URL",
                "https://prod-00.westeurope.logic.azure.com:443/workflows/0123456789abcdef/triggers/manual/paths/invoke?api-version=2016-06-01&sig=fixture-signature",
            )],
        ),
        ChannelKind::Gotify => (
            json!({}),
            &[
                ("URL", "https://gotify.example.com"),
                ("TOKEN", "AWjKZ.rp3vk8rpA"),
            ],
        ),
        // Twilio's documented test credentials' shape; the fixture is the first number's request.
        ChannelKind::Twilio => (
            json!({"from": "+15017122661", "to": ["+15558675310", "+15558675311"]}),
            &[
                ("ACCOUNT_SID", "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"),
                ("AUTH_TOKEN", "your_auth_token"),
            ],
        ),
    };
    let name = format!("{}-fixture", kind.name());
    let channel = ChannelConfig {
        kind,
        name: name.clone(),
        enabled: true,
        options: options.as_object().cloned().unwrap_or_else(Map::new),
        events: None,
        remind_every_secs: None,
    };
    let secrets = secrets
        .iter()
        .map(|(k, v)| (crate::config::channel_secret_name(&name, k), v.to_string()))
        .collect();
    (channel, secrets)
}

/// The request as the fixture files write it. Every request names us in `User-Agent` and gives
/// its body's exact `Content-Length`; those two are checked here and left out of the fixtures
/// (the version changes with each release).
fn as_fixture(kind: ChannelKind, event: Event) -> Value {
    let (channel, secrets) = setup(kind);
    let req = build(&channel, &secrets, &notification(event)).expect("builds");
    let header = |name: &str| {
        let values: Vec<&str> = req
            .headers
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect();
        values
    };
    assert_eq!(header("user-agent"), [super::USER_AGENT], "{}", kind.name());
    assert_eq!(
        header("content-length"),
        [req.body.len().to_string()],
        "{}",
        kind.name()
    );
    let headers: Map<String, Value> = req
        .headers
        .iter()
        .filter(|(k, _)| k != "user-agent" && k != "content-length")
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    let body = if headers.get("content-type") == Some(&json!("application/x-www-form-urlencoded")) {
        let pairs: Vec<Value> = form_urlencoded::parse(&req.body)
            .map(|(k, v)| json!([k, v]))
            .collect();
        json!({ "form": pairs })
    } else {
        json!({ "json": serde_json::from_slice::<Value>(&req.body).expect("json body") })
    };
    json!({ "method": req.method, "url": req.url, "headers": headers, "body": body })
}

fn check(kind: ChannelKind) {
    for event in Event::ALL {
        let path = format!(
            "{}/tests/fixtures/channels/{}/{}.json",
            env!("CARGO_MANIFEST_DIR"),
            kind.name(),
            event.as_str()
        );
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let expected: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
        let actual = as_fixture(kind, event);
        assert_eq!(
            actual,
            expected,
            "{} {} differs from {path}:\n{}",
            kind.name(),
            event.as_str(),
            serde_json::to_string_pretty(&actual).unwrap()
        );
    }
}

/// Every channel type, so a new one cannot go without vendor fixtures (and `setup` cannot
/// compile without its test configuration).
#[test]
fn every_channel_type_matches_its_vendor_fixtures() {
    for &kind in ChannelKind::ALL {
        check(kind);
    }
}

/// A notification whose user text is far over every vendor's limit.
fn oversized(event: Event) -> Notification {
    let mut n = notification(event);
    n.message = Some("x<&".repeat(4000));
    n.service_name = "S".repeat(400);
    n
}

fn body_of(kind: ChannelKind, n: &Notification) -> Value {
    let (channel, secrets) = setup(kind);
    let req = build(&channel, &secrets, n).expect("oversized input still builds");
    match serde_json::from_slice(&req.body) {
        Ok(v) => v,
        Err(_) => {
            let form: Map<String, Value> = form_urlencoded::parse(&req.body)
                .map(|(k, v)| (k.into_owned(), json!(v)))
                .collect();
            Value::Object(form)
        }
    }
}

fn chars(v: &Value) -> usize {
    v.as_str().unwrap_or_default().chars().count()
}

#[test]
fn discord_truncates_to_its_limits_instead_of_failing() {
    let b = body_of(ChannelKind::Discord, &oversized(Event::Down));
    let e = &b["embeds"][0];
    assert!(chars(&e["title"]) <= 256 && e["title"].as_str().unwrap().ends_with('…'));
    assert!(chars(&e["description"]) <= 4096);
    let fields = e["fields"].as_array().unwrap();
    assert!(fields.iter().all(|f| chars(&f["value"]) <= 1024));
    let total = chars(&e["title"])
        + chars(&e["description"])
        + chars(&e["footer"]["text"])
        + fields
            .iter()
            .map(|f| chars(&f["name"]) + chars(&f["value"]))
            .sum::<usize>();
    assert!(total <= 6000, "embed total {total}");
}

#[test]
fn slack_telegram_pushover_and_pagerduty_stay_within_their_limits() {
    let n = oversized(Event::Down);
    let slack = body_of(ChannelKind::Slack, &n);
    assert!(chars(&slack["attachments"][0]["blocks"][0]["text"]["text"]) <= 3000);
    let telegram = body_of(ChannelKind::Telegram, &n);
    // Telegram counts characters after entity parsing.
    let visible = telegram["text"]
        .as_str()
        .unwrap()
        .replace("<b>", "")
        .replace("</b>", "")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
        .replace("&quot;", "\"");
    assert!(
        visible.chars().count() <= 4096,
        "{}",
        visible.chars().count()
    );
    let pushover = body_of(ChannelKind::Pushover, &n);
    assert!(chars(&pushover["title"]) <= 250 && chars(&pushover["message"]) <= 1024);
    let pd = body_of(ChannelKind::PagerDuty, &n);
    assert!(chars(&pd["payload"]["summary"]) <= 1024);
}

#[test]
fn pushover_emergency_priority_always_carries_retry_and_expire() {
    let (mut channel, secrets) = setup(ChannelKind::Pushover);
    channel.options = json!({"priorities": {"degraded": 2}})
        .as_object()
        .cloned()
        .unwrap();
    let req = build(&channel, &secrets, &notification(Event::Degraded)).unwrap();
    let form: BTreeMap<String, String> = form_urlencoded::parse(&req.body).into_owned().collect();
    assert_eq!(form["priority"], "2");
    assert!(form["retry"].parse::<u64>().unwrap() >= 30);
    assert!(form["expire"].parse::<u64>().unwrap() <= 10_800);
}

fn alert(name: &str) -> crate::alert::Alert {
    let path = format!(
        "{}/tests/fixtures/alerts/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let body: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    crate::alert::parse(&body, crate::alert::Grouping::Group)
        .unwrap()
        .remove(0)
}

#[test]
fn relayed_alerts_render_firing_and_resolved_distinctly() {
    let firing = Notification::for_alert(&alert("alertmanager-firing"), DOWN_AT);
    let resolved = Notification::for_alert(&alert("alertmanager-resolved"), UP_AT);

    let d = body_of(ChannelKind::Discord, &firing);
    assert_eq!(d["embeds"][0]["title"], "[FIRING] ProbeFailure");
    assert_eq!(d["embeds"][0]["color"], 0xE7_4C_3C);
    let d = body_of(ChannelKind::Discord, &resolved);
    assert_eq!(d["embeds"][0]["title"], "[RESOLVED] ProbeFailure");
    assert_eq!(d["embeds"][0]["color"], 0x2E_CC_71);

    let s = body_of(ChannelKind::Slack, &firing);
    assert_eq!(s["attachments"][0]["color"], "#E01E5A");
    assert_eq!(
        body_of(ChannelKind::Slack, &resolved)["attachments"][0]["color"],
        "#2EB67D"
    );

    let w = body_of(ChannelKind::Webhook, &firing);
    assert_eq!(
        (
            w["type"].clone(),
            w["status"].clone(),
            w["severity"].clone(),
            w["format"].clone()
        ),
        (
            json!("alert"),
            json!("firing"),
            json!("critical"),
            json!("alertmanager")
        )
    );
    assert_eq!(
        body_of(ChannelKind::Webhook, &resolved)["status"],
        "resolved"
    );
}

#[test]
fn a_relayed_alert_resolves_the_pagerduty_incident_it_opened() {
    let trigger = body_of(
        ChannelKind::PagerDuty,
        &Notification::for_alert(&alert("alertmanager-firing"), DOWN_AT),
    );
    let resolve = body_of(
        ChannelKind::PagerDuty,
        &Notification::for_alert(&alert("alertmanager-resolved"), UP_AT),
    );
    assert_eq!(trigger["event_action"], "trigger");
    assert_eq!(
        trigger["payload"]["severity"], "critical",
        "the sender's severity"
    );
    assert_eq!(resolve["event_action"], "resolve");
    assert_eq!(trigger["dedup_key"], resolve["dedup_key"]);
    assert_eq!(
        trigger["dedup_key"],
        "heartbeat-monitor:alert:alertmanager:{}:{alertname=\"ProbeFailure\"}"
    );
    let warning = Notification::for_alert(&alert("grafana-firing"), DOWN_AT);
    assert_eq!(
        warning.event,
        Event::Degraded,
        "a firing warning is not a page-worthy down"
    );
}
