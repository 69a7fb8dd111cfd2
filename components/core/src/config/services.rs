//! services.json: each service's id, threshold or schedule, maintenance, dependencies and
//! notification filters, checked against the channels of notifications.json.

use super::schedules::Windows;
use super::walker::{parse_json, Field};
use super::{
    ConfigError, NotificationsConfig, ServiceConfig, ServiceNotifications, DEFAULT_STALENESS_SECS,
    MAX_ID_LEN,
};
use crate::channels::ChannelKind;
use std::collections::HashSet;

/// A service id is used in store keys and URLs: keep it to a safe alphabet.
pub fn valid_service_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// `dependsOn` names configured services, not the service itself, and has no cycle.
fn check_dependencies(root: &Field<'_, '_>, services: &[ServiceConfig]) -> Result<(), ConfigError> {
    let list = root.key("services");
    let fields = list.array()?;
    for (i, s) in services.iter().enumerate() {
        let deps = fields[i].key("dependsOn");
        for (j, parent) in s.depends_on.iter().enumerate() {
            let at = deps.array()?;
            if parent == &s.id {
                return Err(at[j].error("a service cannot depend on itself"));
            }
            if !services.iter().any(|o| &o.id == parent) {
                return Err(at[j].error(format!("no service \"{parent}\" in services.json")));
            }
        }
    }
    // A cycle would hold every member's alerts forever: walk each chain of parents.
    for (i, s) in services.iter().enumerate() {
        let mut seen = vec![s.id.as_str()];
        let mut frontier: Vec<&str> = s.depends_on.iter().map(String::as_str).collect();
        while let Some(id) = frontier.pop() {
            if id == s.id {
                return Err(fields[i].key("dependsOn").error(format!(
                    "depends on itself through {}",
                    seen[1..].join(" → ")
                )));
            }
            if seen.contains(&id) {
                continue;
            }
            seen.push(id);
            if let Some(p) = services.iter().find(|o| o.id == id) {
                frontier.extend(p.depends_on.iter().map(String::as_str));
            }
        }
    }
    Ok(())
}

pub(super) fn parse(
    text: &str,
    notifications: &NotificationsConfig,
) -> Result<(Vec<ServiceConfig>, Windows), ConfigError> {
    const FILE: &str = "services.json";
    let value = parse_json(FILE, text)?;
    let root = Field::root(FILE, &value);
    root.object()?;
    let global = root.key("maintenance").windows()?;
    let mut ids = HashSet::new();
    let mut services = Vec::new();
    for svc in root.key("services").array()? {
        svc.object()?;
        let id_field = svc.key("id");
        let id = id_field.string()?;
        if !valid_service_id(id) {
            return Err(id_field.error(format!(
                "must be 1-{MAX_ID_LEN} characters of letters, digits, '-', '_' or '.'"
            )));
        }
        if !ids.insert(id) {
            return Err(id_field.error(format!("duplicate service id \"{id}\"")));
        }
        let name = svc.key("name").string_or(id)?.to_string();
        let n = svc.key("notifications");
        if n.present() {
            n.object()?;
        }
        let channels_field = n.key("channels");
        let channels = if channels_field.present() {
            let mut names = Vec::new();
            for c in channels_field.array()? {
                let name = c.string()?;
                // An entry names a channel, or a channel type (every channel of that type).
                let known = notifications.channels.iter().any(|ch| ch.name == name)
                    || ChannelKind::parse(name).is_some();
                if !known {
                    return Err(c.error(format!(
                        "no channel named \"{name}\" in notifications.json (and not a channel type)"
                    )));
                }
                names.push(name.to_string());
            }
            Some(names)
        } else {
            None
        };
        let threshold_field = svc.key("stalenessThreshold");
        let schedule_field = svc.key("schedule");
        if threshold_field.present() && schedule_field.present() {
            return Err(
                schedule_field.error("give either stalenessThreshold or schedule, not both")
            );
        }
        let (schedule, threshold) = if schedule_field.present() {
            schedule_field.schedule()?
        } else {
            let t = threshold_field.positive_or(DEFAULT_STALENESS_SECS)?;
            (crate::schedule::Schedule::threshold(t), t)
        };
        let confirmations = svc.key("confirmations");
        let needed = confirmations.positive_or(1)?;
        if needed > 100 {
            return Err(confirmations.error("must be at most 100"));
        }
        let schedule = schedule.confirmed(needed as u32);
        services.push(ServiceConfig {
            id: id.to_string(),
            name,
            enabled: svc.key("enabled").bool_or(true)?,
            staleness_threshold_secs: threshold,
            schedule,
            maintenance: svc.key("maintenance").windows()?,
            depends_on: {
                let f = svc.key("dependsOn");
                if f.present() {
                    f.array()?
                        .iter()
                        .map(|p| p.string().map(str::to_string))
                        .collect::<Result<Vec<_>, _>>()?
                } else {
                    Vec::new()
                }
            },
            notifications: ServiceNotifications {
                enabled: n.key("enabled").bool_or(true)?,
                channels,
                events: n.key("events").events()?,
            },
        });
    }
    check_dependencies(&root, &services)?;
    Ok((services, global))
}
