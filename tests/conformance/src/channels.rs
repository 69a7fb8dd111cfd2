//! One test channel of every type, shared by the hosts' channel tests: each names the secrets it
//! needs (all fake, most containing "secret" so a test can prove none leaks) and the path at which
//! the loopback receiver sees its vendor call once every request is redirected there.

use serde_json::{json, Value};

/// (channel name, type, options, secrets, receiver path prefix)
pub type Spec = (
    &'static str,
    &'static str,
    Value,
    Vec<(&'static str, &'static str)>,
    &'static str,
);

/// The test channels, one per type.
pub fn channels() -> Vec<Spec> {
    vec![
        (
            "team-discord",
            "discord",
            json!({}),
            vec![(
                "WEBHOOK_URL",
                "https://discord.com/api/webhooks/111/discord-secret-token",
            )],
            "/api/webhooks/111/",
        ),
        (
            "team-slack",
            "slack",
            json!({}),
            vec![(
                "WEBHOOK_URL",
                "https://hooks.slack.com/services/T1/B1/slack-secret-token",
            )],
            "/services/T1/",
        ),
        (
            "team-telegram",
            "telegram",
            json!({}),
            vec![
                ("BOT_TOKEN", "999:telegram-secret-token"),
                ("CHAT_ID", "-10042"),
            ],
            "/bot999:",
        ),
        (
            "team-email",
            "email",
            json!({"domain": "mg.example.com", "from": "alerts@mg.example.com", "to": ["ops@example.com"]}),
            vec![("API_KEY", "mailgun-secret-key")],
            "/v3/mg.example.com/",
        ),
        (
            "team-pushover",
            "pushover",
            json!({}),
            vec![
                ("APP_TOKEN", "pushover-app-secret"),
                ("USER_KEY", "pushover-user-secret"),
            ],
            "/1/messages.json",
        ),
        (
            "team-pagerduty",
            "pagerduty",
            json!({}),
            vec![("ROUTING_KEY", "pagerduty-routing-secret")],
            "/v2/enqueue",
        ),
        (
            "team-hook",
            "webhook",
            json!({}),
            vec![("URL", "https://hooks.example.invalid/team-hook-secret")],
            "/team-hook-secret",
        ),
    ]
}
