//! When a service is expected to report, and when its silence makes it `down`.
//!
//! - **Period** (the default, from `stalenessThreshold`): expected `period` after the last
//!   heartbeat, down `grace` later.
//! - **Cron**: expected at the next time the expression matches after the last heartbeat, in the
//!   service's IANA time zone; down `grace` later. Daylight-saving changes follow Vixie cron (the
//!   rules `croner` implements): a time in the spring-forward gap fires right after the gap; a
//!   time in the fall-back overlap fires once, at its first occurrence.
//!
//! Between the expected time and the end of grace a service is *late*: still up, but shown so.

use chrono::{TimeZone, Utc};
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// A service's reporting schedule. Serializable for the validated configuration kept in the
/// store (`config_cache`); a cron expression is parsed again when read back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    pub kind: Kind,
    pub grace_ms: i64,
    /// Flap guard: how many consecutive failed or missed checks make the service `down` (1:
    /// the first). A missed check is a due time without a heartbeat.
    pub confirmations: u32,
}

/// When heartbeats are due.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "KindForm", into = "KindForm")]
pub enum Kind {
    Period {
        period_ms: i64,
    },
    Cron {
        /// As configured, for people.
        expression: String,
        cron: Box<croner::Cron>,
        tz: chrono_tz::Tz,
    },
}

impl PartialEq for Kind {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Kind::Period { period_ms: a }, Kind::Period { period_ms: b }) => a == b,
            (
                Kind::Cron {
                    expression: a,
                    tz: b,
                    ..
                },
                Kind::Cron {
                    expression: c,
                    tz: d,
                    ..
                },
            ) => a == c && b == d,
            _ => false,
        }
    }
}

/// [`Kind`] as stored: a cron expression and its zone by name.
#[derive(Serialize, Deserialize)]
enum KindForm {
    Period { period_ms: i64 },
    Cron { expression: String, tz: String },
}

impl From<Kind> for KindForm {
    fn from(kind: Kind) -> KindForm {
        match kind {
            Kind::Period { period_ms } => KindForm::Period { period_ms },
            Kind::Cron { expression, tz, .. } => KindForm::Cron {
                expression,
                tz: tz.name().to_string(),
            },
        }
    }
}

impl TryFrom<KindForm> for Kind {
    type Error = CronError;
    fn try_from(form: KindForm) -> Result<Kind, CronError> {
        Ok(match form {
            KindForm::Period { period_ms } => Kind::Period { period_ms },
            KindForm::Cron { expression, tz } => {
                let (cron, tz) = parse_cron(&expression, &tz)?;
                Kind::Cron {
                    expression,
                    cron: Box::new(cron),
                    tz,
                }
            }
        })
    }
}

/// A cron expression or time zone that cannot be used (maintenance windows share it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CronError {
    #[error("is not a cron expression ({0})")]
    Expression(String),
    #[error("\"{0}\" is not an IANA time zone (e.g. Europe/Berlin)")]
    TimeZone(String),
}

/// A cron expression and the IANA zone it is read in.
pub(crate) fn parse_cron(
    expression: &str,
    timezone: &str,
) -> Result<(croner::Cron, chrono_tz::Tz), CronError> {
    let cron =
        croner::Cron::from_str(expression).map_err(|e| CronError::Expression(e.to_string()))?;
    let tz =
        chrono_tz::Tz::from_str(timezone).map_err(|_| CronError::TimeZone(timezone.to_string()))?;
    Ok((cron, tz))
}

impl Schedule {
    /// The original behaviour: down after `threshold_secs` of silence.
    pub fn threshold(threshold_secs: u64) -> Schedule {
        Schedule::period(threshold_secs, 0)
    }

    pub fn period(period_secs: u64, grace_secs: u64) -> Schedule {
        Schedule {
            kind: Kind::Period {
                period_ms: period_secs as i64 * 1000,
            },
            grace_ms: grace_secs as i64 * 1000,
            confirmations: 1,
        }
    }

    /// A cron schedule; the error says what is wrong: the expression or the zone.
    pub fn cron(expression: &str, timezone: &str, grace_secs: u64) -> Result<Schedule, CronError> {
        let (cron, tz) = parse_cron(expression, timezone)?;
        Ok(Schedule {
            kind: Kind::Cron {
                expression: expression.to_string(),
                cron: Box::new(cron),
                tz,
            },
            grace_ms: grace_secs as i64 * 1000,
            confirmations: 1,
        })
    }

    /// The same schedule with a flap guard of `n` confirmations.
    pub fn confirmed(self, n: u32) -> Schedule {
        Schedule {
            confirmations: n.max(1),
            ..self
        }
    }

    pub fn grace_ms(&self) -> i64 {
        self.grace_ms
    }

    /// When the next heartbeat is due after one at `last` (ms since the epoch).
    pub fn expected_after(&self, last: i64) -> i64 {
        match &self.kind {
            Kind::Period { period_ms } => last.saturating_add(*period_ms),
            Kind::Cron { cron, tz, .. } => {
                let Some(start) = Utc.timestamp_millis_opt(last).single() else {
                    return i64::MAX;
                };
                cron.find_next_occurrence(&start.with_timezone(tz), false)
                    .map(|t| t.timestamp_millis())
                    .unwrap_or(i64::MAX)
            }
        }
    }

    /// When a service last heard from at `last` becomes `down`: the `confirmations`-th missed
    /// due time, plus grace.
    pub fn down_at(&self, last: i64) -> i64 {
        let mut due = last;
        for _ in 0..self.confirmations.max(1) {
            due = self.expected_after(due);
            if due == i64::MAX {
                return due;
            }
        }
        due.saturating_add(self.grace_ms)
    }

    /// For people: `every 5 min`, `30 2 * * * (Europe/Berlin)`.
    pub fn describe(&self) -> String {
        match &self.kind {
            Kind::Period { period_ms } => {
                format!("every {}", crate::time::duration(*period_ms))
            }
            Kind::Cron { expression, tz, .. } => format!("{expression} ({tz})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn berlin(y: i32, m: u32, d: u32, h: u32, min: u32) -> i64 {
        let naive = NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(h, min, 0)
            .unwrap();
        chrono_tz::Europe::Berlin
            .from_local_datetime(&naive)
            .earliest()
            .unwrap()
            .timestamp_millis()
    }

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> i64 {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0)
            .unwrap()
            .timestamp_millis()
    }

    #[test]
    fn a_period_is_due_a_period_after_the_last_beat_and_down_after_grace() {
        let s = Schedule::period(60, 30);
        assert_eq!(s.expected_after(1_000), 61_000);
        assert_eq!(s.down_at(1_000), 91_000);
        assert_eq!(Schedule::threshold(300).down_at(0), 300_000);
    }

    #[test]
    fn a_flap_guard_waits_for_the_nth_missed_check() {
        let s = Schedule::period(60, 30).confirmed(3);
        assert_eq!(s.expected_after(0), 60_000, "due as usual");
        assert_eq!(
            s.down_at(0),
            210_000,
            "down after the third missed check, plus grace"
        );
    }

    #[test]
    fn a_daily_berlin_job_is_expected_at_0230_local_time_winter_and_summer() {
        let s = Schedule::cron("30 2 * * *", "Europe/Berlin", 600).unwrap();
        // Winter (CET, UTC+1): 02:30 local is 01:30 UTC.
        assert_eq!(
            s.expected_after(berlin(2026, 1, 10, 2, 31)),
            utc(2026, 1, 11, 1, 30)
        );
        // Summer (CEST, UTC+2): 00:30 UTC.
        assert_eq!(
            s.expected_after(berlin(2026, 7, 10, 2, 31)),
            utc(2026, 7, 11, 0, 30)
        );
        assert_eq!(
            s.down_at(berlin(2026, 7, 10, 2, 31)),
            utc(2026, 7, 11, 0, 40)
        );
    }

    #[test]
    fn on_the_spring_forward_day_0230_does_not_exist_and_the_job_is_due_at_0300() {
        // 2026-03-29: clocks jump from 02:00 CET to 03:00 CEST in Berlin.
        let s = Schedule::cron("30 2 * * *", "Europe/Berlin", 0).unwrap();
        let expected = s.expected_after(berlin(2026, 3, 28, 2, 31));
        assert_eq!(
            expected,
            utc(2026, 3, 29, 1, 0),
            "03:00 CEST, right after the gap"
        );
        // The next day is a normal 02:30 CEST again: 24 h - 30 min later.
        assert_eq!(s.expected_after(expected + 60_000), utc(2026, 3, 30, 0, 30));
    }

    #[test]
    fn on_the_fall_back_day_0230_happens_twice_and_the_job_is_due_once() {
        // 2026-10-25: clocks go back from 03:00 CEST to 02:00 CET; 02:30 occurs twice.
        let s = Schedule::cron("30 2 * * *", "Europe/Berlin", 0).unwrap();
        let first = s.expected_after(berlin(2026, 10, 24, 2, 31));
        assert_eq!(first, utc(2026, 10, 25, 0, 30), "the first 02:30 (CEST)");
        // After the first 02:30, the second one (01:30 UTC) is not another due time.
        assert_eq!(s.expected_after(first + 60_000), utc(2026, 10, 26, 1, 30));
    }

    #[test]
    fn bad_expressions_and_zones_say_what_is_wrong() {
        let e = Schedule::cron("61 * * * *", "UTC", 0).unwrap_err();
        assert!(matches!(e, CronError::Expression(_)), "{e}");
        assert!(e.to_string().contains("cron expression"), "{e}");
        let e = Schedule::cron("0 * * * *", "Mars/Olympus", 0).unwrap_err();
        assert!(matches!(e, CronError::TimeZone(_)), "{e}");
        assert!(e.to_string().contains("IANA time zone"), "{e}");
    }

    #[test]
    fn weekday_numbers_follow_crontab() {
        // 0 and 7 are Sunday, 1 is Monday, as in crontab(5).
        let s = Schedule::cron("0 9 * * 1", "UTC", 0).unwrap();
        // 2026-11-25 is a Wednesday; the next Monday is 2026-11-30.
        assert_eq!(
            s.expected_after(utc(2026, 11, 25, 12, 0)),
            utc(2026, 11, 30, 9, 0)
        );
    }
}
