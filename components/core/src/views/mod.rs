//! The views: what the dashboard pages, the badges and `/metrics` show, read once per request
//! from the store: a
//! [`Board`] of one [`Row`] per configured service with its status *at read time* (staleness
//! applied, so the page is right between sweeps) and its uptime [`Timeline`]. The renderers
//! (HTML pages, SVG badges, Prometheus text) are pure functions of a board.

pub mod badge;
mod bar;
pub(crate) mod format;
pub mod metrics;
pub mod pages;

use crate::config::ServiceConfig;
use crate::layout::{DeliveryCount, Layout, Pause};
use crate::maintenance::Window;
use crate::model::{ServiceState, Status};
use crate::state::effective_status;
use crate::store::{Store, StoreError};
use crate::uptime::{Timeline, WINDOWS};
use std::collections::BTreeMap;

/// One service as shown.
#[derive(Debug, Clone)]
pub struct Row<'a> {
    pub service: &'a ServiceConfig,
    pub state: Option<ServiceState>,
    /// Status at read time.
    pub status: Status,
    /// When the current status began; silence counts from the moment it crossed the threshold.
    pub since: Option<i64>,
    pub timeline: Timeline,
    /// Availability over [`WINDOWS`], in that order.
    pub uptime: [Option<f64>; 4],
    /// Deliveries per channel since the history began.
    pub delivered: BTreeMap<String, DeliveryCount>,
    /// Notifications paused through the API.
    pub paused: Option<Pause>,
    /// In one of its (or the global) maintenance windows now.
    pub maintenance: bool,
    /// Changed status at least [`FLAPPING_TRANSITIONS`] times in the last hour.
    pub flapping: bool,
}

/// Transitions within an hour that make a service *flapping* (two down/up cycles).
pub const FLAPPING_TRANSITIONS: usize = 4;

impl Row<'_> {
    pub fn last_heartbeat(&self) -> Option<i64> {
        self.state.as_ref().map(|s| s.last_heartbeat)
    }

    /// When the next heartbeat is due, by the service's schedule.
    pub fn next_due(&self) -> Option<i64> {
        self.last_heartbeat()
            .map(|last| self.service.schedule.expected_after(last))
    }

    /// What to mark beside the status: `paused`, `maintenance`, `flapping` or `late`, in that
    /// order.
    pub fn flag(&self, now: i64) -> Option<&'static str> {
        if self.paused.is_some() {
            Some("paused")
        } else if self.maintenance {
            Some("maintenance")
        } else if self.flapping {
            Some("flapping")
        } else if self.late(now) {
            Some("late")
        } else {
            None
        }
    }

    /// Past its due time but within grace: still up, shown as late.
    pub fn late(&self, now: i64) -> bool {
        self.status != Status::Down
            && self.status != Status::Unknown
            && self.next_due().is_some_and(|due| now > due)
    }

    pub fn last_message(&self) -> Option<&str> {
        self.state.as_ref().and_then(|s| s.last_message.as_deref())
    }

    /// The shown status, or `disabled` for a service that is switched off in config.
    pub fn shown_status(&self) -> &'static str {
        if self.service.enabled {
            self.status.as_str()
        } else {
            "disabled"
        }
    }

    /// Sort rank on the page: what needs attention first.
    fn urgency(&self) -> u8 {
        if !self.service.enabled {
            return 4;
        }
        match self.status {
            Status::Down => 0,
            Status::Degraded => 1,
            Status::Unknown => 2,
            Status::Up => 3,
        }
    }
}

/// Enabled services by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub total: usize,
    pub up: usize,
    pub degraded: usize,
    pub down: usize,
    pub unknown: usize,
}

impl Counts {
    /// One line for people: "All services operational", "2 services down", ...
    pub fn headline(&self) -> String {
        let services = |n: usize| match n {
            1 => "1 service".to_string(),
            n => format!("{n} services"),
        };
        match self.overall() {
            _ if self.total == 0 => "No services configured".into(),
            Status::Down => format!("{} down", services(self.down)),
            Status::Degraded => format!("{} degraded", services(self.degraded)),
            Status::Up if self.unknown > 0 => {
                format!(
                    "{} up, {} not heard from yet",
                    services(self.up),
                    self.unknown
                )
            }
            Status::Up => "All services operational".into(),
            Status::Unknown => "Waiting for the first heartbeat".into(),
        }
    }

    /// The page headline's state: the worst status any enabled service is in.
    pub fn overall(&self) -> Status {
        Status::worst_present(self.down > 0, self.degraded > 0, self.up > 0)
    }
}

/// Every configured service, in config order, as of `now`.
#[derive(Debug, Clone)]
pub struct Board<'a> {
    pub now: i64,
    pub rows: Vec<Row<'a>>,
    pub counts: Counts,
}

impl<'a> Board<'a> {
    /// Two batch reads whatever the number of services: the states, then the histories. Pass
    /// one service (`std::slice::from_ref`) to read just that one.
    pub fn read<S: Store>(
        store: &S,
        layout: &Layout,
        services: &'a [ServiceConfig],
        global_maintenance: &[Window],
        now: i64,
    ) -> Result<Board<'a>, StoreError> {
        let ids: Vec<&str> = services.iter().map(|s| s.id.as_str()).collect();
        let states = layout.states(store, &ids)?;
        let logs = layout.transition_logs(store, &ids)?;
        let pauses = layout.pauses(store, &ids)?;
        let mut counts = Counts::default();
        let rows: Vec<Row<'a>> = services
            .iter()
            .zip(states)
            .zip(logs)
            .zip(pauses)
            .map(|(((service, state), log), paused)| {
                let schedule = &service.schedule;
                let status = effective_status(state.as_ref(), schedule, now);
                if service.enabled {
                    counts.total += 1;
                    match status {
                        Status::Up => counts.up += 1,
                        Status::Degraded => counts.degraded += 1,
                        Status::Down => counts.down += 1,
                        Status::Unknown => counts.unknown += 1,
                    }
                }
                let since = state.as_ref().map(|s| {
                    if status == Status::Down && s.status != Status::Down {
                        crate::state::silent_at(s, schedule)
                    } else {
                        s.since
                    }
                });
                let timeline = Timeline::new(&log.transitions, state.as_ref(), schedule, now);
                let uptime = WINDOWS.map(|(_, ms)| timeline.percent(ms));
                Row {
                    service,
                    state,
                    status,
                    since,
                    timeline,
                    uptime,
                    delivered: log.delivered,
                    paused,
                    flapping: log
                        .transitions
                        .iter()
                        .filter(|t| t.at > now - 3_600_000)
                        .count()
                        >= FLAPPING_TRANSITIONS,
                    maintenance: global_maintenance
                        .iter()
                        .chain(&service.maintenance)
                        .any(|w| w.active(now)),
                }
            })
            .collect();
        Ok(Board { now, rows, counts })
    }

    /// The row of service `id`, if configured.
    pub fn row(&self, id: &str) -> Option<&Row<'a>> {
        self.rows.iter().find(|r| r.service.id == id)
    }

    /// Rows in page order: down, degraded, unknown, up, then disabled; by name within each.
    pub fn by_urgency(&self) -> Vec<&Row<'a>> {
        let mut rows: Vec<&Row<'a>> = self.rows.iter().collect();
        rows.sort_by_cached_key(|r| (r.urgency(), r.service.name.to_lowercase()));
        rows
    }
}

#[cfg(test)]
mod tests;
