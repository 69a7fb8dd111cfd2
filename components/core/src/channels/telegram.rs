//! `telegram`: a bot's `sendMessage` with HTML formatting.
//!
//! Secrets: `BOT_TOKEN`, `CHAT_ID` (numeric id or `@channelname`). No options.
//! Format: <https://core.telegram.org/bots/api#sendmessage>; HTML rules and escaping:
//! <https://core.telegram.org/bots/api#html-style> (text ≤ 4,096 characters).

use super::message::escape_html;
use super::prelude::*;

pub struct Telegram;

const TEXT_MAX: usize = 4096;

/// Telegram's HTML mode needs `<`, `>` and `&` escaped; `&quot;` is also understood.
fn escape(s: &str) -> String {
    escape_html(s)
}

impl Channel for Telegram {
    const SECRETS: &'static [SecretKey] = &[
        SecretKey::required("BOT_TOKEN"),
        SecretKey::required("CHAT_ID"),
    ];

    fn build(ctx: &BuildInput<'_>) -> Result<OutboundRequest, BuildError> {
        let token = ctx.require("BOT_TOKEN")?;
        let chat = ctx.require("CHAT_ID")?;
        let m = ctx.message;
        let facts: String = m
            .fields
            .iter()
            .filter(|(name, _)| *name != "Message")
            .map(|(name, value)| format!("\n<b>{name}:</b> {}", escape(value)))
            .collect();
        let head = format!("<b>{}</b>\n", escape(&m.title));
        // The limit counts characters after entity parsing (`&amp;` is one), so cutting the
        // plain text before escaping is exact; head and facts are counted escaped, which only
        // errs on the safe side.
        let room = TEXT_MAX.saturating_sub(head.chars().count() + facts.chars().count() + 1);
        let text = escape(&shorten(&m.text, room));
        let body = json!({
            "chat_id": chat,
            "text": format!("{head}{text}\n{facts}"),
            "parse_mode": "HTML",
            "disable_web_page_preview": true,
        });
        Ok(OutboundRequest::json(
            format!("https://api.telegram.org/bot{token}/sendMessage"),
            &body,
        ))
    }

    /// 429 carries `parameters.retry_after` (seconds); 400/401/403/404 (bad chat, revoked
    /// token, bot blocked) are permanent: <https://core.telegram.org/bots/api#making-requests>.
    fn classify(r: &OutboundResponse) -> Verdict {
        if r.status == 429 {
            let after = r.json()["parameters"]["retry_after"]
                .as_u64()
                .map(|s| s.saturating_mul(1000))
                .or_else(|| r.retry_after_ms());
            return Verdict::Retry {
                after_ms: after,
                error: "HTTP 429 (rate limited)".into(),
            };
        }
        match classify_http(r) {
            Verdict::Delivered if r.json()["ok"] == false => {
                Verdict::Permanent("Telegram answered ok=false".into())
            }
            v => v,
        }
    }
}
