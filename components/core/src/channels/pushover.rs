//! `pushover`: a push notification through Pushover's Message API.
//!
//! Secrets: `APP_TOKEN`, `USER_KEY`. Options: `priorities` (`{"down": 1, "up": 0,
//! "degraded": 0}` by default; each -2..2), `retry` (seconds, ≥ 30, default 60) and `expire`
//! (seconds, ≤ 10,800, default 3,600) for priority 2, `sound`.
//! API: <https://pushover.net/api> (title ≤ 250, message ≤ 1,024 characters; emergency
//! priority requires `retry` ≥ 30 and `expire` ≤ 10,800).

use super::prelude::*;

pub struct Pushover;

const TITLE_MAX: usize = 250;
const MESSAGE_MAX: usize = 1024;
const DEFAULT_RETRY: u64 = 60;
const DEFAULT_EXPIRE: u64 = 3600;

impl Channel for Pushover {
    const SECRETS: &'static [SecretKey] = &[
        SecretKey::required("APP_TOKEN"),
        SecretKey::required("USER_KEY"),
    ];

    const OPTIONS: &'static [&'static str] = &["priorities", "retry", "expire", "sound"];

    fn check_options(options: &Map<String, Value>) -> Result<(), OptionError> {
        check_priorities(options, -2..=2)?;
        let seconds = |key: &str, ok: fn(u64) -> bool, problem: &str| match options.get(key) {
            Some(v) if !v.as_u64().is_some_and(ok) => Err(OptionError(key.into(), problem.into())),
            _ => Ok(()),
        };
        seconds("retry", |n| n >= 30, "must be at least 30 seconds")?;
        seconds(
            "expire",
            |n| (1..=10_800).contains(&n),
            "must be 1 to 10800 seconds",
        )?;
        string_option(options, "sound")
    }

    fn build(ctx: &BuildInput<'_>) -> Result<OutboundRequest, BuildError> {
        let token = ctx.require("APP_TOKEN")?;
        let user = ctx.require("USER_KEY")?;
        let opts = &ctx.channel.options;
        let n = ctx.notification;
        let priority = priority_for(opts, n.event, [1, 0, 0]);
        let mut fields = vec![
            ("token", token),
            ("user", user),
            ("title", shorten(&ctx.message.title, TITLE_MAX)),
            ("message", shorten(&ctx.message.text, MESSAGE_MAX)),
            ("priority", priority.to_string()),
            ("timestamp", (n.transition.at / 1000).to_string()),
        ];
        if priority == 2 {
            // Clamped even if options were edited after validation: Pushover rejects others.
            let retry = opts
                .get("retry")
                .and_then(Value::as_u64)
                .unwrap_or(DEFAULT_RETRY)
                .max(30);
            let expire = opts
                .get("expire")
                .and_then(Value::as_u64)
                .unwrap_or(DEFAULT_EXPIRE)
                .min(10_800);
            fields.push(("retry", retry.to_string()));
            fields.push(("expire", expire.to_string()));
        }
        if let Some(Value::String(sound)) = opts.get("sound") {
            fields.push(("sound", sound.clone()));
        }
        Ok(OutboundRequest::form(
            "https://api.pushover.net/1/messages.json".into(),
            &fields,
        ))
    }

    /// 4xx (invalid token or user) is permanent; 429 means the application's monthly quota is
    /// spent, which no retry within seconds can fix (<https://pushover.net/api#limits>); 5xx is
    /// transient.
    fn classify(r: &OutboundResponse) -> Verdict {
        if r.status == 429 {
            return Verdict::Permanent("HTTP 429 (monthly message limit reached)".into());
        }
        classify_http(r)
    }
}
