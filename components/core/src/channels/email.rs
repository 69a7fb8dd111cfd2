//! `email`: Mailgun's Messages API, plain-text and HTML bodies.
//!
//! Secret: `API_KEY`. Options: `domain` (sending domain), `from`, `to` (one address or a list),
//! `region` (`"us"`, the default, or `"eu"`).
//! API: <https://documentation.mailgun.com/docs/mailgun/api-reference/send/mailgun/messages>.

use super::message::escape_html;
use super::prelude::*;
use base64::Engine;

pub struct Email;

const US: &str = "https://api.mailgun.net";
const EU: &str = "https://api.eu.mailgun.net";

fn text_option(options: &Map<String, Value>, key: &str) -> Result<String, OptionError> {
    match options.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        None => Err(OptionError(key.into(), "is required".into())),
        _ => Err(OptionError(key.into(), "must be a non-empty string".into())),
    }
}

fn recipients(options: &Map<String, Value>) -> Result<Vec<String>, OptionError> {
    let bad = || {
        OptionError(
            "to".to_string(),
            "must be an address or a non-empty list of addresses".to_string(),
        )
    };
    match options.get("to") {
        Some(Value::String(s)) if s.contains('@') => Ok(vec![s.clone()]),
        Some(Value::Array(list)) if !list.is_empty() => list
            .iter()
            .map(|v| match v {
                Value::String(s) if s.contains('@') => Ok(s.clone()),
                _ => Err(bad()),
            })
            .collect(),
        None => Err(OptionError("to".into(), "is required".into())),
        _ => Err(bad()),
    }
}

impl Channel for Email {
    const SECRETS: &'static [SecretKey] = &[SecretKey::required("API_KEY")];

    const OPTIONS: &'static [&'static str] = &["domain", "from", "to", "region"];

    fn check_options(options: &Map<String, Value>) -> Result<(), OptionError> {
        text_option(options, "domain")?;
        text_option(options, "from")?;
        recipients(options)?;
        match options.get("region") {
            None => Ok(()),
            Some(Value::String(r)) if r == "us" || r == "eu" => Ok(()),
            Some(_) => Err(OptionError(
                "region".into(),
                "must be \"us\" or \"eu\"".into(),
            )),
        }
    }

    fn build(ctx: &BuildInput<'_>) -> Result<OutboundRequest, BuildError> {
        let key = ctx.require("API_KEY")?;
        let opts = &ctx.channel.options;
        let domain = text_option(opts, "domain")
            .map_err(|OptionError(k, p)| BuildError::Invalid(format!("{k} {p}")))?;
        let from = text_option(opts, "from")
            .map_err(|OptionError(k, p)| BuildError::Invalid(format!("{k} {p}")))?;
        let to = recipients(opts)
            .map_err(|OptionError(k, p)| BuildError::Invalid(format!("{k} {p}")))?;
        let base = if ctx.option("region").and_then(Value::as_str) == Some("eu") {
            EU
        } else {
            US
        };
        let m = ctx.message;
        let facts: Vec<_> = m.fields.iter().filter(|(n, _)| *n != "Message").collect();
        let text = format!(
            "{}\n\n{}\n",
            m.text,
            facts
                .iter()
                .map(|(n, v)| format!("{n}: {v}"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        let html = format!(
            "<h2>{}</h2><p>{}</p><table>{}</table>",
            escape_html(&m.title),
            escape_html(&m.text).replace('\n', "<br>"),
            facts
                .iter()
                .map(|(n, v)| format!(
                    "<tr><th align=\"left\">{n}</th><td>{}</td></tr>",
                    escape_html(v)
                ))
                .collect::<String>()
        );
        let mut fields = vec![("from", from)];
        fields.extend(to.into_iter().map(|t| ("to", t)));
        fields.extend([("subject", m.title.clone()), ("text", text), ("html", html)]);
        let mut req = OutboundRequest::form(format!("{base}/v3/{domain}/messages"), &fields);
        let credentials = base64::engine::general_purpose::STANDARD.encode(format!("api:{key}"));
        req.headers
            .push(("authorization".into(), format!("Basic {credentials}")));
        Ok(req)
    }

    // Mailgun: 400 bad request, 401 bad key, 403/404 unknown domain are permanent; 429 and 5xx
    // transient (<https://documentation.mailgun.com/docs/mailgun/api-reference/#response-codes>).
    // The common rule fits.
}
