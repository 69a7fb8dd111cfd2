//! A service's `schedule` (period or cron) and maintenance windows, read through the walker.

use super::walker::Field;
use super::{ConfigError, DEFAULT_CRON_GRACE_SECS};
use crate::schedule::CronError;

/// Maintenance windows as parsed.
pub(super) type Windows = Vec<crate::maintenance::Window>;

impl Field<'_, '_> {
    /// `{"kind": "period", "period", "grace"}` or `{"kind": "cron", "expression", "timezone",
    /// "grace"}`, with the threshold it amounts to (period + grace, or grace for cron).
    pub(super) fn schedule(&self) -> Result<(crate::schedule::Schedule, u64), ConfigError> {
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
        let tz = timezone.string_or("UTC")?;
        let grace = self.key("grace").non_negative_or(DEFAULT_CRON_GRACE_SECS)?;
        let schedule = Schedule::cron(expression.string()?, tz, grace)
            .map_err(|e| cron_error(e, &expression, &timezone))?;
        Ok((schedule, grace))
    }

    /// `[{"expression": "0 3 * * 0", "timezone": "Europe/Berlin", "duration": 3600}]`.
    pub(super) fn windows(&self) -> Result<Windows, ConfigError> {
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
                let tz = timezone.string_or("UTC")?;
                let duration = w.key("duration");
                let secs = duration.positive_or(0)?;
                if secs == 0 {
                    return Err(duration.error("is required (seconds the window lasts)"));
                }
                crate::maintenance::Window::new(expression.string()?, tz, secs)
                    .map_err(|e| cron_error(e, &expression, &timezone))
            })
            .collect()
    }
}

/// The error at the field that caused it: the expression or the zone.
fn cron_error(e: CronError, expression: &Field<'_, '_>, timezone: &Field<'_, '_>) -> ConfigError {
    match e {
        CronError::Expression(_) => expression.error(e.to_string()),
        CronError::TimeZone(_) => timezone.error(e.to_string()),
    }
}
