//! One test channel of every type, shared by the hosts' channel tests: each names the secrets it
//! needs (all fake, most containing "secret" so a test can prove none leaks) and the path at which
//! the loopback receiver sees its vendor call once every request is redirected there.

use heartbeat_core::channels::ChannelKind;
use serde_json::{json, Value};

/// (channel name, type, options, secrets, receiver path prefix)
pub type Spec = (
    &'static str,
    &'static str,
    Value,
    Vec<(&'static str, &'static str)>,
    &'static str,
);

/// The test channels, one per type (every type: the match below must name each).
pub fn channels() -> Vec<Spec> {
    ChannelKind::ALL.iter().map(|&kind| channel(kind)).collect()
}

/// The requests (and deliveries) one event makes on the test channel `spec`: one per
/// destination (two for the SMS channel's two numbers, else one).
pub fn requests(spec: &Spec) -> usize {
    let kind = ChannelKind::ALL
        .iter()
        .find(|k| k.name() == spec.1)
        .expect("a channel type");
    kind.destinations(spec.2.as_object().expect("options"))
        .len()
}

/// The requests one event makes across every test channel.
pub fn requests_per_event() -> usize {
    channels().iter().map(requests).sum()
}

/// The test channel of `kind`.
fn channel(kind: ChannelKind) -> Spec {
    match kind {
        ChannelKind::Discord => (
            "team-discord",
            kind.name(),
            json!({}),
            vec![(
                "WEBHOOK_URL",
                "https://discord.com/api/webhooks/111/discord-secret-token",
            )],
            "/api/webhooks/111/",
        ),
        ChannelKind::Slack => (
            "team-slack",
            kind.name(),
            json!({}),
            vec![(
                "WEBHOOK_URL",
                "https://hooks.slack.com/services/T1/B1/slack-secret-token",
            )],
            "/services/T1/",
        ),
        ChannelKind::Telegram => (
            "team-telegram",
            kind.name(),
            json!({}),
            vec![
                ("BOT_TOKEN", "999:telegram-secret-token"),
                ("CHAT_ID", "-10042"),
            ],
            "/bot999:",
        ),
        ChannelKind::Email => (
            "team-email",
            kind.name(),
            json!({"domain": "mg.example.com", "from": "alerts@mg.example.com", "to": ["ops@example.com"]}),
            vec![("API_KEY", "mailgun-secret-key")],
            "/v3/mg.example.com/",
        ),
        ChannelKind::Pushover => (
            "team-pushover",
            kind.name(),
            json!({}),
            vec![
                ("APP_TOKEN", "pushover-app-secret"),
                ("USER_KEY", "pushover-user-secret"),
            ],
            "/1/messages.json",
        ),
        ChannelKind::PagerDuty => (
            "team-pagerduty",
            kind.name(),
            json!({}),
            vec![("ROUTING_KEY", "pagerduty-routing-secret")],
            "/v2/enqueue",
        ),
        ChannelKind::Ntfy => (
            "team-ntfy",
            kind.name(),
            json!({"server": "https://ntfy.example.invalid/ntfy"}),
            vec![
                ("TOPIC", "ntfy-secret-topic"),
                ("TOKEN", "tk_ntfy-secret-token"),
            ],
            "/ntfy/",
        ),
        ChannelKind::Matrix => (
            "team-matrix",
            kind.name(),
            json!({}),
            vec![
                ("HOMESERVER", "https://matrix.example.invalid/matrix"),
                ("ACCESS_TOKEN", "matrix-secret-token"),
                ("ROOM_ID", "!ops:example.invalid"),
            ],
            "/matrix/_matrix/client/v3/rooms/",
        ),
        ChannelKind::GoogleChat => (
            "team-chat",
            kind.name(),
            json!({}),
            vec![(
                "WEBHOOK_URL",
                "https://chat.googleapis.com/v1/spaces/SPACE1/messages?key=k&token=chat-secret-token",
            )],
            "/v1/spaces/SPACE1/",
        ),
        ChannelKind::Teams => (
            "team-teams",
            kind.name(),
            json!({}),
            vec![(
                "WEBHOOK_URL",
                "https://prod-00.westeurope.logic.azure.com/workflows/teams-secret-flow/triggers/manual/paths/invoke",
            )],
            "/workflows/",
        ),
        ChannelKind::Gotify => (
            "team-gotify",
            kind.name(),
            json!({}),
            vec![
                ("URL", "https://gotify.example.invalid/gotify"),
                ("TOKEN", "gotify-secret-token"),
            ],
            "/gotify/message",
        ),
        // Two numbers: two requests, two deliveries.
        ChannelKind::Twilio => (
            "team-sms",
            kind.name(),
            json!({"from": "+15017122661", "to": ["+15558675310", "+15558675311"]}),
            vec![
                ("ACCOUNT_SID", "ACtwiliosecretsid"),
                ("AUTH_TOKEN", "twilio-secret-token"),
            ],
            "/2010-04-01/Accounts/ACtwiliosecretsid/Messages.json",
        ),
        ChannelKind::Webhook => (
            "team-hook",
            kind.name(),
            json!({}),
            vec![("URL", "https://hooks.example.invalid/team-hook-secret")],
            "/team-hook-secret",
        ),
    }
}
