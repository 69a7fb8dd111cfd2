//! notifications.json: channels, their options and templates, cooldown, and how external
//! alerts are relayed.

use super::walker::{parse_json, Field};
use super::{
    AlertsConfig, ChannelConfig, ConfigError, NotificationsConfig, DEFAULT_COOLDOWN_MINUTES,
};
use crate::channels::{ChannelKind, OptionError};
use serde_json::Map;
use std::collections::HashSet;

pub(super) fn parse(text: &str) -> Result<NotificationsConfig, ConfigError> {
    const FILE: &str = "notifications.json";
    let value = parse_json(FILE, text)?;
    let root = Field::root(FILE, &value);
    root.object()?;
    let mut names = HashSet::new();
    let mut channels = Vec::new();
    let list = root.key("channels");
    for ch in if list.present() {
        list.array()?
    } else {
        Vec::new()
    } {
        ch.object()?;
        let type_field = ch.key("type");
        let type_name = type_field.string()?;
        let kind = ChannelKind::parse(type_name).ok_or_else(|| {
            type_field.error(format!(
                "unknown channel type \"{type_name}\" (expected one of: {})",
                ChannelKind::names().join(", ")
            ))
        })?;
        let name_field = ch.key("name");
        let name = name_field.string()?;
        if !names.insert(name.to_string()) {
            return Err(name_field.error(format!("duplicate channel name \"{name}\"")));
        }
        let options_field = ch.key("config");
        let options = if options_field.present() {
            options_field.object()?.clone()
        } else {
            Map::new()
        };
        let mut own = options.clone();
        for key in crate::channels::TEMPLATE_OPTIONS {
            if let Some(v) = own.remove(key) {
                let field = options_field.key(key);
                let source = v
                    .as_str()
                    .ok_or_else(|| field.error("must be a template string"))?;
                crate::channels::templates::check(source)
                    .map_err(|e| field.error(e.to_string()))?;
            }
        }
        kind.check_options(&own)
            .map_err(|OptionError(key, problem)| options_field.key(&key).error(problem))?;
        channels.push(ChannelConfig {
            kind,
            name: name.to_string(),
            enabled: ch.key("enabled").bool_or(true)?,
            options,
            events: ch.key("events").events()?,
            remind_every_secs: {
                let f = ch.key("remindEvery");
                match f.positive_or(0)? {
                    0 => None,
                    s if s < 60 => return Err(f.error("must be at least 60 seconds")),
                    s => Some(s),
                }
            },
        });
    }
    let settings = root.key("settings");
    if settings.present() {
        settings.object()?;
    }
    let alerts = parse_alerts(&root.key("alerts"), &channels)?;
    Ok(NotificationsConfig {
        enabled: root.key("enabled").bool_or(true)?,
        alerts,
        channels,
        cooldown_minutes: settings
            .key("cooldownMinutes")
            .non_negative_or(DEFAULT_COOLDOWN_MINUTES)?,
    })
}

fn parse_alerts(
    field: &Field<'_, '_>,
    channels: &[ChannelConfig],
) -> Result<AlertsConfig, ConfigError> {
    let mut cfg = AlertsConfig::default();
    if !field.present() {
        return Ok(cfg);
    }
    field.object()?;
    cfg.enabled = field.key("enabled").bool_or(true)?;
    let list = field.key("channels");
    if list.present() {
        let mut names = Vec::new();
        for c in list.array()? {
            let name = c.string()?;
            if !channels.iter().any(|ch| ch.name == name) && ChannelKind::parse(name).is_none() {
                return Err(c.error(format!(
                    "no channel named \"{name}\" (and not a channel type)"
                )));
            }
            names.push(name.to_string());
        }
        cfg.channels = Some(names);
    }
    let min = field.key("minSeverity");
    if min.present() {
        let s = min.string()?;
        cfg.min_severity = crate::alert::Severity::parse(s)
            .ok_or_else(|| min.error("must be critical, error, warning or info"))?;
    }
    let grouping = field.key("grouping");
    if grouping.present() {
        cfg.grouping = match grouping.string()? {
            "group" => crate::alert::Grouping::Group,
            "alert" => crate::alert::Grouping::Alert,
            _ => return Err(grouping.error("must be \"group\" or \"alert\"")),
        };
    }
    Ok(cfg)
}
