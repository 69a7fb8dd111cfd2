//! `slack`: an incoming-webhook message with a coloured attachment of blocks.
//!
//! Secret: `WEBHOOK_URL`. No options.
//! Format: <https://api.slack.com/messaging/webhooks>, blocks:
//! <https://api.slack.com/reference/block-kit/blocks#section> (section text ≤ 3,000 characters).

use super::message::escape_html;
use super::prelude::*;

pub struct Slack;

const SECTION_TEXT_MAX: usize = 3000;
const FIELD_TEXT_MAX: usize = 2000;

pub fn colour(event: Event) -> &'static str {
    match event {
        Event::Down => "#E01E5A",
        Event::Up => "#2EB67D",
        Event::Degraded => "#ECB22E",
    }
}

/// Slack's mrkdwn needs only `&`, `<` and `>` escaped:
/// <https://api.slack.com/reference/surfaces/formatting#escaping>.
fn escape(s: &str) -> String {
    escape_html(s).replace("&quot;", "\"")
}

impl Channel for Slack {
    const SECRETS: &'static [SecretKey] = &[SecretKey::required("WEBHOOK_URL")];

    fn build(ctx: &BuildInput<'_>) -> Result<OutboundRequest, BuildError> {
        let url = ctx.require("WEBHOOK_URL")?;
        let m = ctx.message;
        let title = escape(&m.title);
        let head = format!("*{title}*\n");
        let text = shorten(&escape(&m.text), SECTION_TEXT_MAX - head.chars().count());
        let fields: Vec<Value> = m
            .fields
            .iter()
            .filter(|(name, _)| *name != "Message")
            .map(|(name, value)| {
                json!({
                    "type": "mrkdwn",
                    "text": shorten(&format!("*{name}*\n{}", escape(value)), FIELD_TEXT_MAX),
                })
            })
            .collect();
        let body = json!({
            "text": title,
            "attachments": [{
                "color": colour(ctx.notification.event),
                "blocks": [
                    { "type": "section", "text": { "type": "mrkdwn", "text": format!("{head}{text}") } },
                    { "type": "section", "fields": fields },
                ],
            }],
        });
        Ok(OutboundRequest::json(url, &body))
    }

    // Slack answers 400 invalid_payload, 403 action_prohibited, 404 channel_not_found,
    // 410 channel_is_archived (permanent), 429 and 5xx (transient):
    // <https://api.slack.com/messaging/webhooks#handling_errors>. The common rule fits.
}
