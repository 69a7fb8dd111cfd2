//! `twilio`: an SMS to each of several phone numbers through Twilio's Messages API.
//!
//! Secrets: `ACCOUNT_SID` (`AC…`), `AUTH_TOKEN`. Options: `from` (the sending number in E.164,
//! `+15017122661`, or a Messaging Service SID `MG…`), `to` (a number or a list of up to 10).
//! API: `POST https://api.twilio.com/2010-04-01/Accounts/{AccountSid}/Messages.json`, HTTP
//! Basic auth with the account SID and auth token, a form body of `To`, `From` (or
//! `MessagingServiceSid`) and `Body` — at most 1,600 characters
//! (<https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource>).
//! One request per number, each logged as a delivery of its own (`oncall-sms (…4567)`), so a
//! wrong number fails alone. Answers: 201 created; 400 (invalid number, unverified number on a
//! trial account, …) and 401 (bad credentials) are permanent, 429 and 5xx worth retrying
//! (<https://www.twilio.com/docs/usage/twilios-response#response-formats-exceptions>); the error's
//! Twilio code is kept (`HTTP 400 (Twilio error 21211)`).

use super::prelude::*;
use base64::Engine;

pub struct Twilio;

/// Twilio's limit for one message's `Body`.
const BODY_MAX: usize = 1600;
/// Numbers one channel texts: each event costs one message per number.
const MAX_RECIPIENTS: usize = 10;

/// `+` and 8 to 15 digits (E.164).
fn is_e164(n: &str) -> bool {
    n.strip_prefix('+').is_some_and(|digits| {
        (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
    })
}

fn numbers(options: &Map<String, Value>) -> Result<Vec<String>, OptionError> {
    let bad = || {
        OptionError(
            "to".into(),
            format!("must be a phone number in E.164 form (\"+15558675310\") or a list of 1 to {MAX_RECIPIENTS}"),
        )
    };
    let list = match options.get("to") {
        Some(Value::String(n)) => vec![n.clone()],
        Some(Value::Array(list)) if (1..=MAX_RECIPIENTS).contains(&list.len()) => list
            .iter()
            .map(|v| v.as_str().map(str::to_string).ok_or_else(bad))
            .collect::<Result<_, _>>()?,
        None => return Err(OptionError("to".into(), "is required".into())),
        _ => return Err(bad()),
    };
    match list.iter().all(|n| is_e164(n)) {
        true => Ok(list),
        false => Err(bad()),
    }
}

fn sender(options: &Map<String, Value>) -> Result<(&'static str, String), OptionError> {
    match options.get("from").and_then(Value::as_str) {
        Some(f) if is_e164(f) => Ok(("From", f.to_string())),
        Some(f) if f.starts_with("MG") && f.len() == 34 => Ok(("MessagingServiceSid", f.into())),
        Some(_) => Err(OptionError(
            "from".into(),
            "must be a phone number in E.164 form or a Messaging Service SID (MG…)".into(),
        )),
        None => Err(OptionError("from".into(), "is required".into())),
    }
}

impl Channel for Twilio {
    const SECRETS: &'static [SecretKey] = &[
        SecretKey::required("ACCOUNT_SID"),
        SecretKey::required("AUTH_TOKEN"),
    ];

    const OPTIONS: &'static [&'static str] = &["from", "to"];

    fn check_options(options: &Map<String, Value>) -> Result<(), OptionError> {
        sender(options)?;
        numbers(options).map(|_| ())
    }

    fn destinations(options: &Map<String, Value>) -> Vec<String> {
        // Checked at load; an unchecked list still gets one (failing) delivery.
        numbers(options).unwrap_or_else(|_| vec![String::new()])
    }

    fn build(ctx: &BuildInput<'_>) -> Result<OutboundRequest, BuildError> {
        let sid = ctx.require("ACCOUNT_SID")?;
        // It becomes part of the URL's path.
        if !(sid.starts_with("AC") && sid.bytes().all(|b| b.is_ascii_alphanumeric())) {
            return Err(
                "ACCOUNT_SID must be an account SID (AC followed by letters and digits)".into(),
            );
        }
        let token = ctx.require("AUTH_TOKEN")?;
        let (from_field, from) = sender(&ctx.channel.options)
            .map_err(|OptionError(k, p)| BuildError::Invalid(format!("{k} {p}")))?;
        if !is_e164(ctx.destination) {
            return Err("to must be a phone number in E.164 form".into());
        }
        let text = format!("{}\n{}", ctx.message.title, ctx.message.text);
        let mut req = OutboundRequest::form(
            format!("https://api.twilio.com/2010-04-01/Accounts/{sid}/Messages.json"),
            &[
                ("To", ctx.destination.to_string()),
                (from_field, from),
                ("Body", shorten(&text, BODY_MAX)),
            ],
        );
        let credentials =
            base64::engine::general_purpose::STANDARD.encode(format!("{sid}:{token}"));
        req.headers
            .push(("authorization".into(), format!("Basic {credentials}")));
        Ok(req)
    }

    fn classify(response: &OutboundResponse) -> Verdict {
        let code = serde_json::from_slice::<Value>(&response.body)
            .ok()
            .and_then(|v| v.get("code").and_then(Value::as_u64));
        match (classify_http(response), code) {
            (Verdict::Permanent(e), Some(code)) => {
                Verdict::Permanent(format!("{e} (Twilio error {code})"))
            }
            (Verdict::Retry { after_ms, error }, Some(code)) => Verdict::Retry {
                after_ms,
                error: format!("{error} (Twilio error {code})"),
            },
            (verdict, _) => verdict,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn numbers_and_senders_are_checked_with_what_is_wrong() {
        let ok = options(json!({"from": "+15017122661", "to": ["+15558675310", "+442071838750"]}));
        assert_eq!(Twilio::check_options(&ok), Ok(()));
        assert_eq!(Twilio::destinations(&ok), ["+15558675310", "+442071838750"]);
        let service =
            options(json!({"from": format!("MG{}", "0".repeat(32)), "to": "+15558675310"}));
        assert_eq!(Twilio::check_options(&service), Ok(()));
        for (bad, option) in [
            (json!({"to": "+15558675310"}), "from"),
            (json!({"from": "5017122661", "to": "+15558675310"}), "from"),
            (json!({"from": "+15017122661"}), "to"),
            (json!({"from": "+15017122661", "to": "555-8675"}), "to"),
            (json!({"from": "+15017122661", "to": []}), "to"),
            (
                json!({"from": "+15017122661", "to": vec!["+15558675310"; 11]}),
                "to",
            ),
        ] {
            let e = Twilio::check_options(&options(bad.clone())).unwrap_err();
            assert_eq!(e.0, option, "{bad}: {e}");
        }
    }

    #[test]
    fn a_vendor_error_keeps_its_twilio_code() {
        let answer = |status: u16, body: &str| OutboundResponse {
            status,
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        };
        let invalid = r#"{"code": 21211, "message": "The 'To' number is not a valid phone number.", "status": 400}"#;
        assert_eq!(
            Twilio::classify(&answer(400, invalid)),
            Verdict::Permanent("HTTP 400 (Twilio error 21211)".into())
        );
        assert!(matches!(
            Twilio::classify(&answer(429, r#"{"code": 20429, "status": 429}"#)),
            Verdict::Retry { error, .. } if error == "HTTP 429 (Twilio error 20429)"
        ));
        assert_eq!(Twilio::classify(&answer(201, "{}")), Verdict::Delivered);
    }
}
