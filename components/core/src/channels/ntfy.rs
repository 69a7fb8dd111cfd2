//! `ntfy`: a push notification through ntfy.sh or a self-hosted ntfy server, published as JSON.
//!
//! Secrets: `TOPIC` (on a public server the topic is the password), `TOKEN` (an access token
//! `tk_…`, for a protected topic; optional). Options: `server` (default `https://ntfy.sh`),
//! `priorities` (`{"down": 4, "up": 3, "degraded": 3}` by default; 1 = min … 5 = max).
//! API: <https://docs.ntfy.sh/publish/#publish-as-json> (`topic`, `title`, `message`,
//! `priority`, `tags` — tag names become emoji); a message over 4,096 bytes turns into an
//! attachment (<https://docs.ntfy.sh/publish/#limitations>), so ours keeps to 1,024 characters.
//! Answers: 429 (rate limited) and 5xx are worth retrying, any other 4xx is permanent.

use super::prelude::*;

pub struct Ntfy;

const DEFAULT_SERVER: &str = "https://ntfy.sh";
const TITLE_MAX: usize = 250;
const MESSAGE_MAX: usize = 1024;

/// The emoji shortcode ntfy shows beside the title.
fn tag(event: Event) -> &'static str {
    for_event(event, ["rotating_light", "white_check_mark", "warning"])
}

fn server_url(options: &Map<String, Value>) -> &str {
    options
        .get("server")
        .and_then(Value::as_str)
        .unwrap_or(DEFAULT_SERVER)
        .trim_end_matches('/')
}

impl Channel for Ntfy {
    const SECRETS: &'static [SecretKey] =
        &[SecretKey::required("TOPIC"), SecretKey::optional("TOKEN")];

    const OPTIONS: &'static [&'static str] = &["server", "priorities"];

    fn check_options(options: &Map<String, Value>) -> Result<(), OptionError> {
        match options.get("server") {
            None => {}
            Some(Value::String(s)) if s.starts_with("https://") || s.starts_with("http://") => {}
            Some(_) => {
                return Err(OptionError(
                    "server".into(),
                    "must be a URL starting with https:// or http://".into(),
                ))
            }
        }
        check_priorities(options, 1..=5)
    }

    fn build(ctx: &BuildInput<'_>) -> Result<OutboundRequest, BuildError> {
        let topic = ctx.require("TOPIC")?;
        let options = &ctx.channel.options;
        let event = ctx.notification.event;
        let priority = priority_for(options, event, [4, 3, 3]);
        let body = json!({
            "topic": topic,
            "title": shorten(&ctx.message.title, TITLE_MAX),
            "message": shorten(&ctx.message.text, MESSAGE_MAX),
            "priority": priority,
            "tags": [tag(event)],
        });
        let mut req = OutboundRequest::json(format!("{}/", server_url(options)), &body);
        if let Some(token) = ctx.secret("TOKEN") {
            req.headers
                .push(("authorization".into(), format!("Bearer {token}")));
        }
        Ok(req)
    }
}
