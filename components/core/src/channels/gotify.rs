//! `gotify`: a message to a self-hosted Gotify server.
//!
//! Secrets: `URL` (the server, e.g. `https://gotify.example.com`), `TOKEN` (an application
//! token). Option: `priorities` (`{"down": 8, "up": 4, "degraded": 5}` by default; 0–10, where
//! Gotify's Android app makes 8 and above intrusive and 4–7 a sound).
//! API: `POST /message` with `title`, `message`, `priority`, the token in the
//! `X-Gotify-Key` header (<https://gotify.net/docs/pushmsg>,
//! <https://gotify.net/api-docs#/message/createMessage>). Answers: 400 (bad message) and 401/403
//! (bad token) are permanent, 5xx worth retrying.

use super::prelude::*;

pub struct Gotify;

const TITLE_MAX: usize = 250;
const MESSAGE_MAX: usize = 4096;

impl Channel for Gotify {
    const SECRETS: &'static [SecretKey] =
        &[SecretKey::required("URL"), SecretKey::required("TOKEN")];

    const OPTIONS: &'static [&'static str] = &["priorities"];

    fn check_options(options: &Map<String, Value>) -> Result<(), OptionError> {
        check_priorities(options, 0..=10)
    }

    fn build(ctx: &BuildInput<'_>) -> Result<OutboundRequest, BuildError> {
        let server = ctx.require("URL")?;
        if !(server.starts_with("https://") || server.starts_with("http://")) {
            return Err("URL must start with https:// or http://".into());
        }
        let token = ctx.require("TOKEN")?;
        let event = ctx.notification.event;
        let priority = priority_for(&ctx.channel.options, event, [8, 4, 5]);
        let body = json!({
            "title": shorten(&ctx.message.title, TITLE_MAX),
            "message": shorten(&ctx.message.text, MESSAGE_MAX),
            "priority": priority,
        });
        let url = format!("{}/message", server.trim_end_matches('/'));
        let mut req = OutboundRequest::json(url, &body);
        req.headers.push(("x-gotify-key".into(), token));
        Ok(req)
    }
}
