//! `google-chat`: a message to a Google Chat space through its incoming webhook, one thread
//! per service so a service's down and recovery read as one conversation.
//!
//! Secret: `WEBHOOK_URL` (Space → Apps & integrations → Webhooks; it carries the key and
//! token). No options.
//! Format: <https://developers.google.com/workspace/chat/quickstart/webhooks> (`text` with
//! `*bold*`, `thread.threadKey` in the body and `messageReplyOption=
//! REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD` on the URL to reply in the service's thread:
//! <https://developers.google.com/workspace/chat/api/reference/rest/v1/spaces.messages/create>).
//! A message holds at most 4,096 characters of text. Answers: 429 and 5xx worth retrying, any
//! other 4xx (a revoked webhook) permanent.

use super::prelude::*;

pub struct GoogleChat;

const TEXT_MAX: usize = 4096;

impl Channel for GoogleChat {
    const SECRETS: &'static [SecretKey] = &[SecretKey::required("WEBHOOK_URL")];

    fn build(ctx: &BuildInput<'_>) -> Result<OutboundRequest, BuildError> {
        let url = ctx.require("WEBHOOK_URL")?;
        let m = ctx.message;
        let facts: String = m
            .fields
            .iter()
            .map(|(name, value)| format!("\n*{name}:* {value}"))
            .collect();
        let head = format!("*{}*\n", m.title);
        let room = TEXT_MAX.saturating_sub(head.chars().count() + facts.chars().count());
        let body = json!({
            "text": format!("{head}{}{facts}", shorten(&m.text, room)),
            "thread": { "threadKey": format!("heartbeat-{}", ctx.notification.service_id) },
        });
        let separator = if url.contains('?') { '&' } else { '?' };
        Ok(OutboundRequest::json(
            format!("{url}{separator}messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"),
            &body,
        ))
    }
}
