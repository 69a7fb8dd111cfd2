//! `teams`: an Adaptive Card posted to a Microsoft Teams channel through a Workflows (Power
//! Automate) webhook — the "Post to a channel when a webhook request is received" template. The
//! Office 365 connectors' incoming webhooks are retired.
//!
//! Secret: `WEBHOOK_URL` (the workflow's HTTP POST URL). No options.
//! Format: a `message` whose attachment is an Adaptive Card 1.4 — a coloured title, the text
//! and a fact set (<https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using#send-adaptive-cards-using-an-incoming-webhook>,
//! <https://adaptivecards.io/explorer/FactSet.html>). The workflow answers 202 Accepted. Answers:
//! 429 and 5xx worth retrying, any other 4xx (a deleted or disabled workflow) permanent.

use super::prelude::*;

pub struct Teams;

const TEXT_MAX: usize = 4000;

/// An Adaptive Card text colour for the event.
fn colour(event: Event) -> &'static str {
    for_event(event, ["Attention", "Good", "Warning"])
}

impl Channel for Teams {
    const SECRETS: &'static [SecretKey] = &[SecretKey::required("WEBHOOK_URL")];

    fn build(ctx: &BuildInput<'_>) -> Result<OutboundRequest, BuildError> {
        let url = ctx.require("WEBHOOK_URL")?;
        let m = ctx.message;
        let facts: Vec<Value> = m
            .fields
            .iter()
            .map(|(name, value)| json!({ "title": name, "value": value }))
            .collect();
        let card = json!({
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "body": [
                {
                    "type": "TextBlock",
                    "text": m.title,
                    "weight": "Bolder",
                    "size": "Medium",
                    "color": colour(ctx.notification.event),
                    "wrap": true,
                },
                { "type": "TextBlock", "text": shorten(&m.text, TEXT_MAX), "wrap": true },
                { "type": "FactSet", "facts": facts },
            ],
        });
        let body = json!({
            "type": "message",
            "attachments": [{
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": null,
                "content": card,
            }],
        });
        Ok(OutboundRequest::json(url, &body))
    }
}
