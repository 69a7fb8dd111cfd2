//! Notification channels: one module per channel `type`, each a pure request builder.
//!
//! A channel parses its options strictly, reads its credentials from secrets named
//! `NOTIFICATION_{CHANNEL_NAME}_{KEY}`, builds the outbound request (method, URL, headers,
//! body) without doing I/O, and classifies the vendor's answer. Sending is the host's job,
//! through [`Outbound`].

pub mod webhook;

use crate::config::{channel_secret_name, ChannelConfig, Secrets};
use crate::notify::Notification;
use serde_json::{Map, Value};

/// The channel types notifications.json may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelKind {
    Webhook,
}

/// A credential a channel reads from secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecretKey {
    pub key: &'static str,
    pub required: bool,
}

impl ChannelKind {
    const ALL: [ChannelKind; 1] = [ChannelKind::Webhook];

    pub fn name(self) -> &'static str {
        match self {
            ChannelKind::Webhook => "webhook",
        }
    }

    pub fn parse(s: &str) -> Option<ChannelKind> {
        Self::ALL.into_iter().find(|k| k.name() == s)
    }

    pub fn names() -> Vec<&'static str> {
        Self::ALL.iter().map(|k| k.name()).collect()
    }

    /// The credentials this channel type reads.
    pub fn secret_keys(self) -> &'static [SecretKey] {
        match self {
            ChannelKind::Webhook => webhook::SECRETS,
        }
    }

    /// Check the non-secret `config` options; `Err((option, problem))`.
    pub fn check_options(self, options: &Map<String, Value>) -> Result<(), (String, String)> {
        match self {
            ChannelKind::Webhook => webhook::check_options(options),
        }
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

/// One channel's credentials; empty values count as absent.
pub struct ChannelSecrets<'a> {
    pub channel: &'a ChannelConfig,
    pub secrets: &'a dyn Secrets,
}

impl ChannelSecrets<'_> {
    pub fn get(&self, key: &str) -> Option<String> {
        self.secrets
            .get(&channel_secret_name(&self.channel.name, key))
            .filter(|v| !v.trim().is_empty())
    }

    pub fn require(&self, key: &str) -> Result<String, String> {
        self.get(key).ok_or_else(|| {
            format!(
                "secret {} is not set",
                channel_secret_name(&self.channel.name, key)
            )
        })
    }
}

/// A request ready to send.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboundRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// What the vendor answered.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboundResponse {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Sends requests; implemented by each host (`wasi:http` in the components).
pub trait Outbound {
    /// `Err` is a transport failure described without the URL (which may hold a token).
    fn send(&self, request: &OutboundRequest, timeout_ms: u64) -> Result<OutboundResponse, String>;
}

/// Build the request `channel` sends for `notification`.
pub fn build(
    channel: &ChannelConfig,
    secrets: &dyn Secrets,
    notification: &Notification,
) -> Result<OutboundRequest, String> {
    let creds = ChannelSecrets { channel, secrets };
    match channel.kind {
        ChannelKind::Webhook => webhook::build(&creds, notification),
    }
}

/// Whether the vendor accepted the request; `Err` holds a sentence for the delivery record.
pub fn classify(channel: &ChannelConfig, response: &OutboundResponse) -> Result<(), String> {
    match channel.kind {
        ChannelKind::Webhook => webhook::classify(response),
    }
}
