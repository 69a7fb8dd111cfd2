//! Maintenance windows: recurring periods (a cron expression for the start, in an IANA time
//! zone, and a duration) during which a service — or every service — is expected to misbehave.
//! Transitions are still recorded, so history stays true; nobody is notified about them.

use chrono::{TimeZone, Utc};
use serde::{Deserialize, Serialize};

/// Serializable with its zone by name (`config_cache` keeps validated configuration); the cron
/// expression is parsed again when read back.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "WindowForm", into = "WindowForm")]
pub struct Window {
    /// As configured, for people.
    pub expression: String,
    cron: Box<croner::Cron>,
    tz: chrono_tz::Tz,
    pub duration_ms: i64,
}

impl PartialEq for Window {
    fn eq(&self, other: &Self) -> bool {
        self.expression == other.expression
            && self.tz == other.tz
            && self.duration_ms == other.duration_ms
    }
}

/// [`Window`] as stored.
#[derive(Serialize, Deserialize)]
struct WindowForm {
    expression: String,
    tz: String,
    duration_ms: i64,
}

impl From<Window> for WindowForm {
    fn from(w: Window) -> WindowForm {
        WindowForm {
            tz: w.tz.name().to_string(),
            expression: w.expression,
            duration_ms: w.duration_ms,
        }
    }
}

impl TryFrom<WindowForm> for Window {
    type Error = crate::schedule::CronError;
    fn try_from(form: WindowForm) -> Result<Window, Self::Error> {
        let (cron, tz) = crate::schedule::parse_cron(&form.expression, &form.tz)?;
        Ok(Window {
            expression: form.expression,
            cron: Box::new(cron),
            tz,
            duration_ms: form.duration_ms,
        })
    }
}

impl Window {
    /// The error says what is wrong: the expression or the zone.
    pub fn new(
        expression: &str,
        timezone: &str,
        duration_secs: u64,
    ) -> Result<Window, crate::schedule::CronError> {
        let (cron, tz) = crate::schedule::parse_cron(expression, timezone)?;
        Ok(Window {
            expression: expression.to_string(),
            cron: Box::new(cron),
            tz,
            duration_ms: duration_secs as i64 * 1000,
        })
    }

    /// Whether `now` falls in a window: the latest start at or before `now` is less than
    /// `duration` ago.
    pub fn active(&self, now: i64) -> bool {
        let Some(at) = Utc.timestamp_millis_opt(now).single() else {
            return false;
        };
        self.cron
            .find_previous_occurrence(&at.with_timezone(&self.tz), true)
            .is_ok_and(|start| now < start.timestamp_millis() + self.duration_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(d: u32, h: u32, m: u32) -> i64 {
        Utc.with_ymd_and_hms(2026, 11, d, h, m, 0)
            .unwrap()
            .timestamp_millis()
    }

    #[test]
    fn a_sunday_night_window_covers_its_hour_only() {
        // Sundays 03:00-04:00 Berlin (CET in November: 02:00-03:00 UTC); 2026-11-29 is a Sunday.
        let w = Window::new("0 3 * * 0", "Europe/Berlin", 3600).unwrap();
        assert!(!w.active(utc(29, 1, 59)));
        assert!(w.active(utc(29, 2, 0)));
        assert!(w.active(utc(29, 2, 59)));
        assert!(!w.active(utc(29, 3, 0)));
        assert!(!w.active(utc(30, 2, 30)), "Monday is not in the window");
    }

    #[test]
    fn a_bad_window_says_what_is_wrong() {
        // The schedule's cron rules, whose messages are tested with them.
        use crate::schedule::CronError;
        assert!(matches!(
            Window::new("0 3 * * 8", "UTC", 60),
            Err(CronError::Expression(_))
        ));
        assert_eq!(
            Window::new("0 3 * * 0", "Nowhere/City", 60).unwrap_err(),
            CronError::TimeZone("Nowhere/City".into())
        );
    }
}
