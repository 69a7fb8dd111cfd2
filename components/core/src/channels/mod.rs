//! Notification channels: one module per channel `type`, each behind [`Channel`].
//!
//! A channel parses its non-secret options strictly, reads its credentials from secrets named
//! `NOTIFICATION_{CHANNEL_NAME}_{KEY}`, builds the vendor request (method, URL, headers, body)
//! as a pure function, and classifies the vendor's answer as delivered, worth retrying, or
//! permanently failed — with the vendor's documentation cited. Sending is the host's job,
//! through [`Outbound`]; retrying is [`crate::delivery`]'s.

pub mod discord;
pub mod email;
pub mod google_chat;
pub mod gotify;
pub mod matrix;
pub mod message;
pub mod ntfy;
pub mod pagerduty;
mod prelude;
pub mod pushover;
pub mod slack;
pub mod teams;
pub mod telegram;
pub mod templates;
pub mod twilio;
pub mod webhook;

use crate::model::Event;
use crate::notification::Notification;
use crate::secrets::{channel_secret_name, Secrets};
pub use message::Message;
use serde_json::{Map, Value};

/// Template options every channel accepts (see [`crate::channels::templates`]).
pub const TEMPLATE_OPTIONS: [&str; 2] = ["title", "message"];

/// One channel of notifications.json.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelConfig {
    pub kind: ChannelKind,
    pub name: String,
    pub enabled: bool,
    /// Non-secret options; credentials come from secrets.
    pub options: Map<String, Value>,
    pub events: Option<Vec<Event>>,
    /// While a service it told about stays down, remind every this many seconds.
    pub remind_every_secs: Option<u64>,
}

/// Every channel type, once: the enum, its `type` name in notifications.json, and the module
/// that implements it. A new channel is one line here plus its module; every exhaustive `match
/// kind` (the vendor fixtures, the conformance suite's test channels) then fails to compile
/// until it handles the new type.
macro_rules! channel_kinds {
    ($($kind:ident => $name:literal, $channel:ty;)+) => {
        /// The channel types notifications.json may name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ChannelKind {
            $($kind,)+
        }

        impl ChannelKind {
            /// Every type, in the order the docs list them.
            pub const ALL: &'static [ChannelKind] = &[$(ChannelKind::$kind,)+];

            /// The `type` string in notifications.json.
            pub fn name(self) -> &'static str {
                match self {
                    $(ChannelKind::$kind => $name,)+
                }
            }
        }

        /// Run `$body` with `$c` naming the channel type of `$kind`.
        macro_rules! dispatch {
            ($kind_value:expr, $c:ident => $body:expr) => {
                match $kind_value {
                    $(ChannelKind::$kind => {
                        type $c = $channel;
                        $body
                    })+
                }
            };
        }
    };
}

channel_kinds! {
    Discord => "discord", discord::Discord;
    Slack => "slack", slack::Slack;
    Telegram => "telegram", telegram::Telegram;
    Email => "email", email::Email;
    Webhook => "webhook", webhook::Webhook;
    Pushover => "pushover", pushover::Pushover;
    PagerDuty => "pagerduty", pagerduty::PagerDuty;
    Ntfy => "ntfy", ntfy::Ntfy;
    Gotify => "gotify", gotify::Gotify;
    Matrix => "matrix", matrix::Matrix;
    GoogleChat => "google-chat", google_chat::GoogleChat;
    Teams => "teams", teams::Teams;
    Twilio => "twilio", twilio::Twilio;
}

/// A credential a channel reads from secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecretKey {
    pub key: &'static str,
    pub required: bool,
}

impl SecretKey {
    pub const fn required(key: &'static str) -> SecretKey {
        SecretKey {
            key,
            required: true,
        }
    }

    pub const fn optional(key: &'static str) -> SecretKey {
        SecretKey {
            key,
            required: false,
        }
    }
}

/// What a vendor's answer means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Delivered,
    /// Transient: try again, after `after_ms` if the vendor said so.
    Retry {
        after_ms: Option<u64>,
        error: String,
    },
    /// Retrying cannot help (bad credentials, unknown channel, invalid payload).
    Permanent(String),
}

/// Everything a channel needs to build one request.
pub struct BuildInput<'a> {
    pub channel: &'a ChannelConfig,
    pub secrets: &'a dyn Secrets,
    pub notification: &'a Notification,
    pub message: &'a Message,
    /// This request's destination, one of [`Channel::destinations`] (empty for a channel that
    /// sends one request).
    pub destination: &'a str,
}

impl BuildInput<'_> {
    /// A credential; empty counts as absent.
    pub fn secret(&self, key: &str) -> Option<String> {
        self.secrets
            .get(&channel_secret_name(&self.channel.name, key))
            .filter(|v| !v.trim().is_empty())
    }

    /// A required credential; the error names the secret, never a value.
    pub fn require(&self, key: &str) -> Result<String, BuildError> {
        self.secret(key)
            .ok_or_else(|| BuildError::MissingSecret(channel_secret_name(&self.channel.name, key)))
    }

    pub fn option(&self, key: &str) -> Option<&Value> {
        self.channel.options.get(key)
    }
}

/// One channel type.
pub trait Channel {
    /// Credentials it reads.
    const SECRETS: &'static [SecretKey];
    /// The non-secret `config` options it takes besides the templates; any other is refused.
    const OPTIONS: &'static [&'static str] = &[];
    /// Check the values of its options; `Err(OptionError(option, problem))`.
    fn check_options(_options: &Map<String, Value>) -> Result<(), OptionError> {
        Ok(())
    }
    /// The destinations that each get a request of their own, and a delivery of their own in the
    /// log (Twilio: one SMS per number). Default: one, unnamed.
    fn destinations(_options: &Map<String, Value>) -> Vec<String> {
        vec![String::new()]
    }
    /// Build the vendor request (for `ctx.destination`).
    fn build(ctx: &BuildInput<'_>) -> Result<OutboundRequest, BuildError>;
    /// Classify the vendor's answer.
    fn classify(response: &OutboundResponse) -> Verdict {
        classify_http(response)
    }
}

/// The common HTTP rule: 2xx delivered; 408, 429 and 5xx transient (honouring `Retry-After`);
/// any other 4xx permanent.
pub fn classify_http(r: &OutboundResponse) -> Verdict {
    match r.status {
        200..=299 => Verdict::Delivered,
        408 | 429 | 500..=599 => Verdict::Retry {
            after_ms: r.retry_after_ms(),
            error: format!("HTTP {}", r.status),
        },
        s => Verdict::Permanent(format!("HTTP {s}")),
    }
}

/// A `config` option a channel refuses: the option (a path such as `priorities.down`), and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}: {1}")]
pub struct OptionError(pub String, pub String);

/// Why a channel's request could not be built; never contains a credential's value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// A required credential is not set (named, never shown).
    #[error("secret {0} is not set")]
    MissingSecret(String),
    /// A credential or option holds something the vendor cannot take.
    #[error("{0}")]
    Invalid(String),
    /// A `title`/`message`/`body` template failed to render.
    #[error("{0}")]
    Template(#[from] templates::TemplateError),
}

impl From<String> for BuildError {
    fn from(problem: String) -> Self {
        BuildError::Invalid(problem)
    }
}

impl From<&str> for BuildError {
    fn from(problem: &str) -> Self {
        BuildError::Invalid(problem.into())
    }
}

/// An optional option that must be a string.
pub fn string_option(options: &Map<String, Value>, key: &str) -> Result<(), OptionError> {
    match options.get(key) {
        None | Some(Value::String(_)) => Ok(()),
        Some(_) => Err(OptionError(key.into(), "must be a string".into())),
    }
}

/// `priorities`: an object of event to an integer within `range`.
pub fn check_priorities(
    options: &Map<String, Value>,
    range: std::ops::RangeInclusive<i64>,
) -> Result<(), OptionError> {
    per_event_option(options, "priorities", "priority", |event, v| {
        if Event::parse(event).is_none() {
            Err("unknown event".into())
        } else if !v.as_i64().is_some_and(|n| range.contains(&n)) {
            Err(format!(
                "must be an integer from {} to {}",
                range.start(),
                range.end()
            ))
        } else {
            Ok(())
        }
    })
}

/// `event`'s entry of a `[down, up, degraded]` table (a colour, a tag, a priority).
pub fn for_event<T: Copy>(event: Event, [down, up, degraded]: [T; 3]) -> T {
    match event {
        Event::Down => down,
        Event::Up => up,
        Event::Degraded => degraded,
    }
}

/// The priority for `event`: the `priorities` option's, else its entry in `defaults`
/// (`[down, up, degraded]`).
pub fn priority_for(options: &Map<String, Value>, event: Event, defaults: [i64; 3]) -> i64 {
    let default = for_event(event, defaults);
    options
        .get("priorities")
        .and_then(|p| p.get(event.as_str()))
        .and_then(Value::as_i64)
        .unwrap_or(default)
}

/// An optional option that maps events to values (`{"down": …, "up": …}`): an object, each
/// entry passing `check(event, value)`, whose `Err` is the problem with `{key}.{event}`.
pub fn per_event_option(
    options: &Map<String, Value>,
    key: &str,
    what: &str,
    check: impl Fn(&str, &Value) -> Result<(), String>,
) -> Result<(), OptionError> {
    let Some(value) = options.get(key) else {
        return Ok(());
    };
    let Value::Object(map) = value else {
        return Err(OptionError(
            key.into(),
            format!("must be an object of event to {what}"),
        ));
    };
    map.iter().try_for_each(|(event, v)| {
        check(event, v).map_err(|problem| OptionError(format!("{key}.{event}"), problem))
    })
}

impl ChannelKind {
    pub fn parse(s: &str) -> Option<ChannelKind> {
        Self::ALL.iter().copied().find(|k| k.name() == s)
    }

    pub fn names() -> Vec<&'static str> {
        Self::ALL.iter().map(|k| k.name()).collect()
    }

    pub fn secret_keys(self) -> &'static [SecretKey] {
        dispatch!(self, C => C::SECRETS)
    }

    /// Refuse options the channel does not know — a typo is a start-up error that says what
    /// it takes — then check the values.
    pub fn check_options(self, options: &Map<String, Value>) -> Result<(), OptionError> {
        let (known, secrets) = dispatch!(self, C => (C::OPTIONS, C::SECRETS));
        if let Some(k) = options.keys().find(|k| !known.contains(&k.as_str())) {
            let takes = match known {
                [] => "takes no options".to_string(),
                _ => format!("takes: {}", known.join(", ")),
            };
            let secrets: Vec<&str> = secrets.iter().map(|s| s.key).collect();
            return Err(OptionError(
                k.clone(),
                format!(
                    "unknown option ({} {takes}; secrets: {})",
                    self.name(),
                    secrets.join(", ")
                ),
            ));
        }
        dispatch!(self, C => C::check_options(options))
    }

    pub fn build(self, ctx: &BuildInput<'_>) -> Result<OutboundRequest, BuildError> {
        dispatch!(self, C => C::build(ctx))
    }

    pub fn destinations(self, options: &Map<String, Value>) -> Vec<String> {
        dispatch!(self, C => C::destinations(options))
    }

    pub fn classify(self, response: &OutboundResponse) -> Verdict {
        dispatch!(self, C => C::classify(response))
    }
}

/// The secret names a channel needs, e.g. `NOTIFICATION_OPS_HOOK_URL`, with whether each is
/// required. Hosts check these are declared before serving.
pub fn secret_names(channel: &ChannelConfig) -> Vec<(String, bool)> {
    channel
        .kind
        .secret_keys()
        .iter()
        .map(|s| (channel_secret_name(&channel.name, s.key), s.required))
        .collect()
}

/// A request ready to send.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboundRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl OutboundRequest {
    pub fn json(url: String, body: &Value) -> OutboundRequest {
        OutboundRequest {
            method: "POST".into(),
            url,
            headers: vec![("content-type".into(), "application/json".into())],
            body: serde_json::to_vec(body).expect("json serializes"),
        }
    }

    pub fn form(url: String, fields: &[(&str, String)]) -> OutboundRequest {
        let mut form = form_urlencoded::Serializer::new(String::new());
        for (k, v) in fields {
            form.append_pair(k, v);
        }
        OutboundRequest {
            method: "POST".into(),
            url,
            headers: vec![(
                "content-type".into(),
                "application/x-www-form-urlencoded".into(),
            )],
            body: form.finish().into_bytes(),
        }
    }
}

/// What the vendor answered.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OutboundResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl OutboundResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `Retry-After` in seconds (RFC 9110 §10.2.3; the HTTP-date form is not used by these
    /// vendors), as milliseconds.
    pub fn retry_after_ms(&self) -> Option<u64> {
        let secs: f64 = self.header("retry-after")?.trim().parse().ok()?;
        (secs >= 0.0).then_some((secs * 1000.0) as u64)
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// Sends requests; implemented by each host (`wasi:http` in the components).
pub trait Outbound {
    fn send(
        &self,
        request: &OutboundRequest,
        timeout_ms: u64,
    ) -> Result<OutboundResponse, SendError>;
}

/// Why a request got no answer, described without the URL (which may hold a token).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The host will never send this request — a destination outside Spin's
    /// `allowed_outbound_hosts`, an invalid header — so sending it again cannot help.
    #[error("{0}")]
    Refused(String),
    /// No answer this time: a refused or reset connection, a timeout.
    #[error("{0}")]
    Transport(String),
}

/// What a host says when its outbound rules deny a destination.
pub const DENIED: &str =
    "the host does not allow this destination (allowed_outbound_hosts in spin.toml)";

/// The words `channel` uses for `notification`: its `title`/`message` templates, or the
/// defaults.
pub fn message_for(
    channel: &ChannelConfig,
    notification: &Notification,
) -> Result<Message, BuildError> {
    let mut message = message::default_message(notification);
    let title = channel.options.get("title").and_then(Value::as_str);
    let text = channel.options.get("message").and_then(Value::as_str);
    if title.is_some() || text.is_some() {
        let vars = crate::channels::templates::variables(notification, &message);
        if let Some(t) = title {
            message.title = crate::channels::templates::render(t, &vars)?;
        }
        if let Some(t) = text {
            message.text = crate::channels::templates::render(t, &vars)?;
        }
    }
    Ok(message)
}

/// Who is calling, on every vendor request: several APIs refuse a request without one.
pub const USER_AGENT: &str = concat!("heartbeat-monitor/", env!("CARGO_PKG_VERSION"));

impl OutboundRequest {
    /// Add what every request carries on the wire whatever the host: a `User-Agent` (unless
    /// the channel's own headers set one) and the body's `Content-Length`. Without the length,
    /// wasi:http hosts stream the body chunked, and simple receivers (Python's http.server,
    /// many PHP and serverless front ends) read it as empty.
    fn on_the_wire(mut self) -> OutboundRequest {
        self.headers
            .retain(|(name, _)| !name.eq_ignore_ascii_case("content-length"));
        if !self
            .headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("user-agent"))
        {
            self.headers.push(("user-agent".into(), USER_AGENT.into()));
        }
        if !self.body.is_empty() || self.method != "GET" {
            self.headers
                .push(("content-length".into(), self.body.len().to_string()));
        }
        self
    }
}

/// Build the request `channel` sends for `notification` (to its first destination).
pub fn build(
    channel: &ChannelConfig,
    secrets: &dyn Secrets,
    notification: &Notification,
) -> Result<OutboundRequest, BuildError> {
    let first = channel.kind.destinations(&channel.options).swap_remove(0);
    build_to(channel, secrets, notification, &first)
}

/// One request per destination of `channel`, each with the name its delivery is logged under:
/// the channel's name, and for one of several destinations its last four characters
/// (`oncall-sms (…4567)`).
pub fn build_each(
    channel: &ChannelConfig,
    secrets: &dyn Secrets,
    notification: &Notification,
) -> Vec<(String, Result<OutboundRequest, BuildError>)> {
    let destinations = channel.kind.destinations(&channel.options);
    let several = destinations.len() > 1;
    destinations
        .iter()
        .map(|d| {
            let name = match several {
                true => {
                    let tail: String = d.chars().rev().take(4).collect();
                    format!(
                        "{} (…{})",
                        channel.name,
                        tail.chars().rev().collect::<String>()
                    )
                }
                false => channel.name.clone(),
            };
            (name, build_to(channel, secrets, notification, d))
        })
        .collect()
}

fn build_to(
    channel: &ChannelConfig,
    secrets: &dyn Secrets,
    notification: &Notification,
    destination: &str,
) -> Result<OutboundRequest, BuildError> {
    let message = message_for(channel, notification)?;
    channel
        .kind
        .build(&BuildInput {
            channel,
            secrets,
            notification,
            message: &message,
            destination,
        })
        .map(OutboundRequest::on_the_wire)
}

#[cfg(test)]
pub(crate) mod fixtures;
