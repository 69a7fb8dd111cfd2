//! `config/services.json`, `config/notifications.json` and the settings, parsed strictly.
//!
//! Validation walks the JSON by hand rather than through serde so every error names the exact
//! field path (`services[2].stalenessThreshold: must be a positive integer`): a monitor that
//! starts with a half-understood config is worse than one that refuses to start.

use crate::channels::ChannelKind;
use crate::model::Event;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashSet};

/// Grace after a cron schedule's due time when none is given: jobs take time to run.
const DEFAULT_CRON_GRACE_SECS: u64 = 300;
/// Default silence, in seconds, after which a service is `down`.
pub const DEFAULT_STALENESS_SECS: u64 = 300;
/// Default number of log entries kept per service.
pub const DEFAULT_MAX_LOG_ENTRIES: usize = 100;
/// Default outbound request timeout, in milliseconds.
pub const DEFAULT_REQUEST_TIMEOUT_MS: u64 = 10_000;
/// Default cooldown between repeats of the same event for one service.
pub const DEFAULT_COOLDOWN_MINUTES: u64 = 5;
/// Longest service id; ids appear in store keys and URLs.
pub const MAX_ID_LEN: usize = 64;

/// A configuration mistake, with the path of the offending field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {path}: {problem}")]
pub struct ConfigError {
    pub file: &'static str,
    pub path: String,
    pub problem: String,
}

/// Secrets and settings by their upper-case name (`API_KEYS`, `NOTIFICATION_OPS_URL`).
pub trait Secrets {
    fn get(&self, name: &str) -> Option<String>;
}

impl Secrets for BTreeMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        BTreeMap::get(self, name).cloned()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServiceConfig {
    pub id: String,
    pub name: String,
    pub enabled: bool,
    /// Seconds of silence shown as the threshold: `stalenessThreshold`, or a schedule's
    /// period + grace (its grace for cron).
    pub staleness_threshold_secs: u64,
    /// When the service must report; `stalenessThreshold` makes a plain period.
    pub schedule: crate::schedule::Schedule,
    /// The service's own maintenance windows.
    pub maintenance: Vec<crate::maintenance::Window>,
    /// Services this one needs (`dependsOn`): while one of them is down, this one's `down` is
    /// held back and counted in the parent's notification.
    pub depends_on: Vec<String>,
    pub notifications: ServiceNotifications,
}

/// Per-service notification filters. `None` means "all".
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceNotifications {
    pub enabled: bool,
    pub channels: Option<Vec<String>>,
    pub events: Option<Vec<Event>>,
}

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

#[derive(Debug, Clone, PartialEq)]
pub struct NotificationsConfig {
    pub enabled: bool,
    pub channels: Vec<ChannelConfig>,
    pub cooldown_minutes: u64,
    pub alerts: AlertsConfig,
}

/// How external alerts (`POST /api/alert`) are relayed: the `alerts` object of
/// notifications.json.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertsConfig {
    pub enabled: bool,
    /// Channel names or types; `None` means every enabled channel.
    pub channels: Option<Vec<String>>,
    /// Alerts below this severity are not relayed.
    pub min_severity: crate::alert::Severity,
    pub grouping: crate::alert::Grouping,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        AlertsConfig {
            enabled: true,
            channels: None,
            min_severity: crate::alert::Severity::Info,
            grouping: crate::alert::Grouping::Group,
        }
    }
}

/// Both files, cross-checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub services: Vec<ServiceConfig>,
    pub notifications: NotificationsConfig,
    /// Maintenance windows for every service (`maintenance` at the top of services.json).
    pub maintenance: Vec<crate::maintenance::Window>,
}

impl Config {
    /// Parse and validate both files. Services may only name channels that exist.
    pub fn parse(services_json: &str, notifications_json: &str) -> Result<Config, ConfigError> {
        let notifications = parse_notifications(notifications_json)?;
        let (services, maintenance) = parse_services(services_json, &notifications)?;
        Ok(Config {
            services,
            notifications,
            maintenance,
        })
    }

    /// Whether `service` is in a maintenance window (its own or a global one) at `now`.
    pub fn in_maintenance(&self, service: &ServiceConfig, now: i64) -> bool {
        self.maintenance
            .iter()
            .chain(&service.maintenance)
            .any(|w| w.active(now))
    }

    pub fn service(&self, id: &str) -> Option<&ServiceConfig> {
        self.services.iter().find(|s| s.id == id)
    }

    /// Services that depend on `id` (directly).
    pub fn dependents<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a ServiceConfig> + 'a {
        self.services
            .iter()
            .filter(move |s| s.depends_on.iter().any(|p| p == id))
    }
}

/// Runtime settings (`MAX_LOG_ENTRIES`, `REQUEST_TIMEOUT`, ...), read from secrets/variables.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub max_log_entries: usize,
    pub request_timeout_ms: u64,
    /// A request that finds the last sweep older than this runs one; 0 turns that off.
    pub sweep_overdue_secs: u64,
    /// Bytes of a ping's request body kept as its message (`PING_BODY_LIMIT`).
    pub ping_body_limit: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_log_entries: DEFAULT_MAX_LOG_ENTRIES,
            request_timeout_ms: DEFAULT_REQUEST_TIMEOUT_MS,
            sweep_overdue_secs: 120,
            ping_body_limit: 10_000,
        }
    }
}

impl Settings {
    /// Read settings; an empty value means "default", a malformed one is an error.
    pub fn from_secrets(secrets: &dyn Secrets) -> Result<Settings, ConfigError> {
        let d = Settings::default();
        Ok(Settings {
            max_log_entries: setting(
                secrets,
                "MAX_LOG_ENTRIES",
                d.max_log_entries as u64,
                1,
                1000,
            )? as usize,
            request_timeout_ms: setting(
                secrets,
                "REQUEST_TIMEOUT",
                d.request_timeout_ms,
                100,
                120_000,
            )?,
            sweep_overdue_secs: setting(
                secrets,
                "SWEEP_OVERDUE_SECONDS",
                d.sweep_overdue_secs,
                0,
                86_400,
            )?,
            ping_body_limit: setting(
                secrets,
                "PING_BODY_LIMIT",
                d.ping_body_limit as u64,
                0,
                crate::api::MAX_BODY_BYTES as u64,
            )? as usize,
        })
    }
}

fn setting(
    secrets: &dyn Secrets,
    name: &'static str,
    default: u64,
    min: u64,
    max: u64,
) -> Result<u64, ConfigError> {
    let Some(raw) = secrets.get(name).filter(|v| !v.trim().is_empty()) else {
        return Ok(default);
    };
    match raw.trim().parse::<u64>() {
        Ok(v) if (min..=max).contains(&v) => Ok(v),
        _ => Err(ConfigError {
            file: "variables",
            path: name.to_string(),
            problem: format!("must be an integer from {min} to {max}"),
        }),
    }
}

/// `API_KEYS`: `{"service-id": "key"}`. Absent means no service can send heartbeats.
pub fn api_keys(secrets: &dyn Secrets) -> Result<BTreeMap<String, String>, ConfigError> {
    service_tokens(secrets, "API_KEYS")
}

/// `PUSH_TOKENS`: `{"service-id": "token"}` for Uptime Kuma-style push URLs. Absent means none.
pub fn push_tokens(secrets: &dyn Secrets) -> Result<BTreeMap<String, String>, ConfigError> {
    service_tokens(secrets, "PUSH_TOKENS")
}

/// A secret holding a JSON object of service id to a non-empty string.
fn service_tokens(
    secrets: &dyn Secrets,
    name: &str,
) -> Result<BTreeMap<String, String>, ConfigError> {
    let err = |problem: &str| ConfigError {
        file: "variables",
        path: name.into(),
        problem: problem.into(),
    };
    let Some(raw) = secrets.get(name).filter(|v| !v.trim().is_empty()) else {
        return Ok(BTreeMap::new());
    };
    let value: Value = serde_json::from_str(&raw)
        .map_err(|_| err("must be a JSON object of service id to key"))?;
    let Value::Object(map) = value else {
        return Err(err("must be a JSON object of service id to key"));
    };
    map.into_iter()
        .map(|(id, key)| match key {
            Value::String(k) if !k.is_empty() => Ok((id, k)),
            _ => Err(err("every key must be a non-empty string")),
        })
        .collect()
}

/// `NOTIFICATION_{CHANNEL_NAME}_{KEY}`: name upper-cased, non-alphanumerics become `_`.
pub fn channel_secret_name(channel: &str, key: &str) -> String {
    let name: String = channel
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("NOTIFICATION_{name}_{key}")
}

/// A JSON walker that remembers where it is, so errors name the field. The path is a chain of
/// borrowed steps, spelled out only when an error needs it: walking a 1,000-service file builds
/// no strings, which matters because every component instance parses the config.
struct Field<'p, 'a> {
    file: &'static str,
    parent: Option<&'p Field<'p, 'a>>,
    step: Step<'p>,
    value: Option<&'a Value>,
}

#[derive(Clone, Copy)]
enum Step<'p> {
    Root,
    Key(&'p str),
    Index(usize),
}

impl<'p, 'a> Field<'p, 'a> {
    fn root(file: &'static str, value: &'a Value) -> Self {
        Field {
            file,
            parent: None,
            step: Step::Root,
            value: Some(value),
        }
    }

    /// `services[2].notifications.channels`.
    fn path(&self) -> String {
        let mut steps = Vec::new();
        let mut at = Some(self);
        while let Some(f) = at {
            steps.push(f.step);
            at = f.parent;
        }
        let mut path = String::new();
        for step in steps.into_iter().rev() {
            match step {
                Step::Root => {}
                Step::Key(k) if path.is_empty() => path.push_str(k),
                Step::Key(k) => {
                    path.push('.');
                    path.push_str(k);
                }
                Step::Index(i) => path.push_str(&format!("[{i}]")),
            }
        }
        if path.is_empty() {
            path.push_str("(top level)");
        }
        path
    }

    fn error(&self, problem: impl Into<String>) -> ConfigError {
        ConfigError {
            file: self.file,
            path: self.path(),
            problem: problem.into(),
        }
    }

    fn key<'c>(&'c self, key: &'c str) -> Field<'c, 'a> {
        Field {
            file: self.file,
            parent: Some(self),
            step: Step::Key(key),
            value: self.value.and_then(|v| v.get(key)),
        }
    }

    fn present(&self) -> bool {
        !matches!(self.value, None | Some(Value::Null))
    }

    fn object(&self) -> Result<&'a Map<String, Value>, ConfigError> {
        match self.value {
            Some(Value::Object(m)) => Ok(m),
            None | Some(Value::Null) => Err(self.error("is required")),
            _ => Err(self.error("must be an object")),
        }
    }

    fn array<'c>(&'c self) -> Result<Vec<Field<'c, 'a>>, ConfigError> {
        match self.value {
            Some(Value::Array(items)) => Ok(items
                .iter()
                .enumerate()
                .map(|(i, v)| Field {
                    file: self.file,
                    parent: Some(self),
                    step: Step::Index(i),
                    value: Some(v),
                })
                .collect()),
            None | Some(Value::Null) => Err(self.error("is required")),
            _ => Err(self.error("must be an array")),
        }
    }

    fn string(&self) -> Result<&'a str, ConfigError> {
        match self.value {
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(s),
            Some(Value::String(_)) => Err(self.error("must not be empty")),
            None | Some(Value::Null) => Err(self.error("is required")),
            _ => Err(self.error("must be a string")),
        }
    }

    fn bool_or(&self, default: bool) -> Result<bool, ConfigError> {
        match self.value {
            None | Some(Value::Null) => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            _ => Err(self.error("must be true or false")),
        }
    }

    fn positive_or(&self, default: u64) -> Result<u64, ConfigError> {
        match self.value {
            None | Some(Value::Null) => Ok(default),
            Some(Value::Number(n)) => match n.as_u64() {
                Some(v) if v > 0 => Ok(v),
                _ => Err(self.error("must be a positive integer")),
            },
            _ => Err(self.error("must be a positive integer")),
        }
    }

    fn non_negative_or(&self, default: u64) -> Result<u64, ConfigError> {
        match self.value {
            None | Some(Value::Null) => Ok(default),
            Some(Value::Number(n)) => n
                .as_u64()
                .ok_or_else(|| self.error("must be a non-negative integer")),
            _ => Err(self.error("must be a non-negative integer")),
        }
    }

    /// `{"kind": "period", "period", "grace"}` or `{"kind": "cron", "expression", "timezone",
    /// "grace"}`, with the threshold it amounts to (period + grace, or grace for cron).
    fn schedule(&self) -> Result<(crate::schedule::Schedule, u64), ConfigError> {
        use crate::schedule::Schedule;
        let map = self.object()?;
        let kind = self.key("kind");
        let allowed: &[&str] = match kind.string()? {
            "period" => &["kind", "period", "grace"],
            "cron" => &["kind", "expression", "timezone", "grace"],
            _ => return Err(kind.error("must be \"period\" or \"cron\"")),
        };
        if let Some(extra) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(self.key(extra).error("is not a schedule field here"));
        }
        if kind.string()? == "period" {
            let period = self.key("period").positive_or(0)?;
            if period == 0 {
                return Err(self
                    .key("period")
                    .error("is required (seconds between heartbeats)"));
            }
            let grace = self.key("grace").non_negative_or(0)?;
            return Ok((Schedule::period(period, grace), period + grace));
        }
        let expression = self.key("expression");
        let timezone = self.key("timezone");
        let tz = if timezone.present() {
            timezone.string()?
        } else {
            "UTC"
        };
        let grace = self.key("grace").non_negative_or(DEFAULT_CRON_GRACE_SECS)?;
        let schedule = Schedule::cron(expression.string()?, tz, grace).map_err(|e| {
            if e.contains("time zone") {
                timezone.error(e)
            } else {
                expression.error(e)
            }
        })?;
        Ok((schedule, grace))
    }

    /// `[{"expression": "0 3 * * 0", "timezone": "Europe/Berlin", "duration": 3600}]`.
    fn windows(&self) -> Result<Windows, ConfigError> {
        if !self.present() {
            return Ok(Vec::new());
        }
        self.array()?
            .iter()
            .map(|w| {
                let map = w.object()?;
                if let Some(extra) = map
                    .keys()
                    .find(|k| !["expression", "timezone", "duration"].contains(&k.as_str()))
                {
                    return Err(w.key(extra).error("is not a maintenance window field"));
                }
                let expression = w.key("expression");
                let timezone = w.key("timezone");
                let tz = if timezone.present() {
                    timezone.string()?
                } else {
                    "UTC"
                };
                let duration = w.key("duration");
                let secs = duration.positive_or(0)?;
                if secs == 0 {
                    return Err(duration.error("is required (seconds the window lasts)"));
                }
                crate::maintenance::Window::new(expression.string()?, tz, secs).map_err(|e| {
                    if e.contains("time zone") {
                        timezone.error(e)
                    } else {
                        expression.error(e)
                    }
                })
            })
            .collect()
    }

    fn events(&self) -> Result<Option<Vec<Event>>, ConfigError> {
        if !self.present() {
            return Ok(None);
        }
        self.array()?
            .iter()
            .map(|f| {
                let s = f.string()?;
                Event::parse(s).ok_or_else(|| {
                    f.error(format!(
                        "unknown event \"{s}\" (expected down, up or degraded)"
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }
}

fn parse_json(file: &'static str, text: &str) -> Result<Value, ConfigError> {
    serde_json::from_str(text).map_err(|e| ConfigError {
        file,
        path: "(top level)".into(),
        problem: format!("is not valid JSON ({e})"),
    })
}

/// A service id is used in store keys and URLs: keep it to a safe alphabet.
pub fn valid_service_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn parse_notifications(text: &str) -> Result<NotificationsConfig, ConfigError> {
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
                #[cfg(feature = "templates")]
                crate::templates::check(source).map_err(|e| field.error(e))?;
                #[cfg(not(feature = "templates"))]
                let _ = source;
            }
        }
        kind.check_options(&own)
            .map_err(|(key, problem)| options_field.key(&key).error(problem))?;
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

type Windows = Vec<crate::maintenance::Window>;

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

fn parse_services(
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
        let name_field = svc.key("name");
        let name = if name_field.present() {
            name_field.string()?.to_string()
        } else {
            id.to_string()
        };
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

#[cfg(test)]
mod tests {
    use super::*;

    const CHANNELS: &str = r#"{"enabled": true, "channels": [
        {"type": "webhook", "name": "ops-hook", "events": ["down", "up"]}
    ], "settings": {"cooldownMinutes": 10}}"#;

    fn error(services: &str) -> String {
        Config::parse(services, CHANNELS).unwrap_err().to_string()
    }

    #[test]
    fn parses_services_with_defaults() {
        let cfg = Config::parse(r#"{"services": [{"id": "backup"}]}"#, CHANNELS).unwrap();
        let s = &cfg.services[0];
        assert_eq!(s.name, "backup");
        assert!(s.enabled);
        assert_eq!(s.staleness_threshold_secs, 300);
        assert_eq!(s.notifications.channels, None);
        assert_eq!(cfg.notifications.cooldown_minutes, 10);
        assert_eq!(
            cfg.notifications.channels[0].events,
            Some(vec![Event::Down, Event::Up])
        );
    }

    #[test]
    fn names_the_path_of_a_bad_threshold() {
        let e = error(
            r#"{"services": [{"id": "a"}, {"id": "b"}, {"id": "c", "stalenessThreshold": -5}]}"#,
        );
        assert_eq!(
            e,
            "services.json: services[2].stalenessThreshold: must be a positive integer"
        );
    }

    #[test]
    fn rejects_duplicate_ids_and_unknown_channels() {
        assert!(error(r#"{"services": [{"id": "a"}, {"id": "a"}]}"#)
            .contains("services[1].id: duplicate service id"));
        assert_eq!(
            error(r#"{"services": [{"id": "a", "notifications": {"channels": ["nope"]}}]}"#),
            "services.json: services[0].notifications.channels[0]: no channel named \"nope\" in notifications.json (and not a channel type)"
        );
        assert!(error(r#"{"services": [{"id": "a b"}]}"#).contains("services[0].id: must be"));
    }

    #[test]
    fn rejects_unknown_events_and_channel_types() {
        assert!(
            error(r#"{"services": [{"id": "a", "notifications": {"events": ["sideways"]}}]}"#)
                .contains("services[0].notifications.events[0]: unknown event \"sideways\"")
        );
        let e = Config::parse(
            r#"{"services": []}"#,
            r#"{"channels": [{"type": "carrier-pigeon", "name": "x"}]}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("notifications.json: channels[0].type: unknown channel type"),
            "{e}"
        );
    }

    #[test]
    fn a_template_with_an_unknown_variable_fails_start_up() {
        let e = Config::parse(
            r#"{"services": []}"#,
            r#"{"channels": [{"type": "slack", "name": "s", "config": {"title": "{{ service.nme }} down"}}]}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("notifications.json: channels[0].config.title: unknown template variable \"service.nme\""),
            "{e}"
        );
        let e = Config::parse(
            r#"{"services": []}"#,
            r#"{"channels": [{"type": "webhook", "name": "w", "config": {"body": "{\"t\": {{ evnt | tojson }}}"}}]}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("channels[0].config.body: unknown template variable \"evnt\""),
            "{e}"
        );
    }

    #[test]
    fn reports_invalid_json_and_missing_lists() {
        assert!(error("{not json").starts_with("services.json: (top level): is not valid JSON"));
        assert_eq!(error("{}"), "services.json: services: is required");
    }

    #[test]
    fn channel_secret_names_are_upper_snake_case() {
        assert_eq!(
            channel_secret_name("ops-hook", "URL"),
            "NOTIFICATION_OPS_HOOK_URL"
        );
        assert_eq!(
            channel_secret_name("Team Chat.1", "URL"),
            "NOTIFICATION_TEAM_CHAT_1_URL"
        );
    }

    #[test]
    fn settings_default_and_reject_nonsense() {
        let mut secrets = BTreeMap::new();
        assert_eq!(
            Settings::from_secrets(&secrets).unwrap(),
            Settings::default()
        );
        secrets.insert("MAX_LOG_ENTRIES".to_string(), "25".to_string());
        assert_eq!(
            Settings::from_secrets(&secrets).unwrap().max_log_entries,
            25
        );
        secrets.insert("REQUEST_TIMEOUT".to_string(), "soon".to_string());
        assert_eq!(
            Settings::from_secrets(&secrets).unwrap_err().to_string(),
            "variables: REQUEST_TIMEOUT: must be an integer from 100 to 120000"
        );
    }

    #[test]
    fn schedules_parse_with_defaults_and_name_the_bad_field() {
        use crate::schedule::Schedule;
        let parse = |svc: &str| Config::parse(&format!(r#"{{"services": [{svc}]}}"#), CHANNELS);
        let c =
            parse(r#"{"id": "a", "schedule": {"kind": "period", "period": 3600, "grace": 600}}"#)
                .unwrap();
        assert_eq!(c.services[0].schedule, Schedule::period(3600, 600));
        assert_eq!(c.services[0].staleness_threshold_secs, 4200);
        let c = parse(r#"{"id": "a", "schedule": {"kind": "cron", "expression": "30 2 * * *", "timezone": "Europe/Berlin"}}"#).unwrap();
        assert_eq!(
            c.services[0].schedule,
            Schedule::cron("30 2 * * *", "Europe/Berlin", 300).unwrap()
        );
        assert_eq!(
            c.services[0].schedule.describe(),
            "30 2 * * * (Europe/Berlin)"
        );
        let c = parse(r#"{"id": "a", "schedule": {"kind": "cron", "expression": "*/5 * * * *"}}"#)
            .unwrap();
        assert_eq!(
            c.services[0].schedule,
            Schedule::cron("*/5 * * * *", "UTC", 300).unwrap()
        );

        for (svc, path) in [
            (
                r#"{"id": "a", "stalenessThreshold": 60, "schedule": {"kind": "period", "period": 60}}"#,
                "services[0].schedule",
            ),
            (
                r#"{"id": "a", "schedule": {"kind": "hourly"}}"#,
                "services[0].schedule.kind",
            ),
            (
                r#"{"id": "a", "schedule": {"kind": "period"}}"#,
                "services[0].schedule.period",
            ),
            (
                r#"{"id": "a", "schedule": {"kind": "period", "period": 60, "timezone": "UTC"}}"#,
                "services[0].schedule.timezone",
            ),
            (
                r#"{"id": "a", "schedule": {"kind": "cron", "expression": "61 * * * *"}}"#,
                "services[0].schedule.expression",
            ),
            (
                r#"{"id": "a", "schedule": {"kind": "cron", "expression": "0 * * * *", "timezone": "Mars/Base"}}"#,
                "services[0].schedule.timezone",
            ),
            (
                r#"{"id": "a", "schedule": {"kind": "cron", "expression": "0 * * * *", "grace": -1}}"#,
                "services[0].schedule.grace",
            ),
        ] {
            let e = parse(svc).unwrap_err();
            assert_eq!(e.path, path, "{svc}: {e}");
        }
    }

    #[test]
    fn maintenance_windows_parse_globally_and_per_service() {
        let text = r#"{"maintenance": [{"expression": "0 3 * * 0", "timezone": "Europe/Berlin", "duration": 3600}],
            "services": [{"id": "a", "maintenance": [{"expression": "*/30 * * * *", "duration": 300}]}]}"#;
        let c = Config::parse(text, CHANNELS).unwrap();
        assert_eq!(c.maintenance.len(), 1);
        assert_eq!(c.services[0].maintenance[0].duration_ms, 300_000);
        for (text, path) in [
            (
                r#"{"services": [{"id": "a", "maintenance": [{"expression": "0 3 * * 0"}]}]}"#,
                "services[0].maintenance[0].duration",
            ),
            (
                r#"{"services": [{"id": "a", "maintenance": [{"expression": "bad", "duration": 60}]}]}"#,
                "services[0].maintenance[0].expression",
            ),
            (
                r#"{"maintenance": [{"expression": "0 3 * * 0", "duration": 60, "timezone": "X/Y"}], "services": []}"#,
                "maintenance[0].timezone",
            ),
            (
                r#"{"maintenance": [{"expression": "0 3 * * 0", "duration": 60, "every": 2}], "services": []}"#,
                "maintenance[0].every",
            ),
        ] {
            let e = Config::parse(text, CHANNELS).unwrap_err();
            assert_eq!(e.path, path, "{text}: {e}");
        }
    }

    #[test]
    fn api_keys_must_be_an_object_of_strings() {
        let mut secrets = BTreeMap::new();
        assert!(api_keys(&secrets).unwrap().is_empty());
        secrets.insert("API_KEYS".to_string(), r#"{"a": "k1"}"#.to_string());
        assert_eq!(api_keys(&secrets).unwrap()["a"], "k1");
        secrets.insert("API_KEYS".to_string(), r#"["k1"]"#.to_string());
        assert!(api_keys(&secrets).is_err());
    }
}
