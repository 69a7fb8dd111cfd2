//! `discord`: an embed posted to a channel webhook.
//!
//! Secret: `WEBHOOK_URL`. Option: `username` (display name override).
//! Format: <https://discord.com/developers/docs/resources/webhook#execute-webhook>; limits:
//! <https://discord.com/developers/docs/resources/message#embed-object-embed-limits>.

use super::prelude::*;

pub struct Discord;

const TITLE_MAX: usize = 256;
const DESCRIPTION_MAX: usize = 4096;
const FIELD_VALUE_MAX: usize = 1024;
/// Title, description, field names and values and footer together.
const TOTAL_MAX: usize = 6000;
const FOOTER: &str = "heartbeat-monitor";

pub fn colour(event: Event) -> u32 {
    match event {
        Event::Down => 0xE7_4C_3C,
        Event::Up => 0x2E_CC_71,
        Event::Degraded => 0xF1_C4_0F,
    }
}

impl Channel for Discord {
    const SECRETS: &'static [SecretKey] = &[SecretKey::required("WEBHOOK_URL")];

    const OPTIONS: &'static [&'static str] = &["username"];

    fn check_options(options: &Map<String, Value>) -> Result<(), OptionError> {
        string_option(options, "username")
    }

    fn build(ctx: &BuildInput<'_>) -> Result<OutboundRequest, BuildError> {
        let url = ctx.require("WEBHOOK_URL")?;
        let m = ctx.message;
        let title = shorten(&m.title, TITLE_MAX);
        let fields: Vec<(String, String)> = m
            .fields
            .iter()
            .map(|(name, value)| (name.to_string(), shorten(value, FIELD_VALUE_MAX)))
            .collect();
        // Whatever the fields leave of the 6,000 total goes to the description.
        let used = title.chars().count()
            + FOOTER.len()
            + fields
                .iter()
                .map(|(n, v)| n.len() + v.chars().count())
                .sum::<usize>();
        let description = shorten(&m.text, DESCRIPTION_MAX.min(TOTAL_MAX.saturating_sub(used)));
        let fields: Vec<Value> = fields
            .into_iter()
            .map(|(name, value)| {
                let inline = name == "Service" || name == "Status";
                json!({ "name": name, "value": value, "inline": inline })
            })
            .collect();
        let mut body = json!({
            // User text must never ping @everyone or a role.
            "allowed_mentions": { "parse": [] },
            "embeds": [{
                "title": title,
                "description": description,
                "color": colour(ctx.notification.event),
                "fields": fields,
                "timestamp": iso(ctx.notification.transition.at),
                "footer": { "text": FOOTER },
            }],
        });
        if let Some(Value::String(u)) = ctx.option("username") {
            body["username"] = json!(u);
        }
        Ok(OutboundRequest::json(url, &body))
    }

    /// A rate-limited webhook answers 429 with `retry_after` (seconds, fractional) in the JSON
    /// body as well as the header: <https://discord.com/developers/docs/topics/rate-limits>.
    /// 404 means the webhook was deleted — permanent.
    fn classify(r: &OutboundResponse) -> Verdict {
        if r.status == 429 {
            let after = r.json()["retry_after"]
                .as_f64()
                .map(|s| (s * 1000.0) as u64)
                .or_else(|| r.retry_after_ms());
            return Verdict::Retry {
                after_ms: after,
                error: "HTTP 429 (rate limited)".into(),
            };
        }
        classify_http(r)
    }
}
