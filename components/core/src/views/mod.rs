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
use crate::uptime::Timeline;
use std::collections::BTreeMap;

/// One service as shown.
#[derive(Debug, Clone)]
pub struct Row<'a> {
    pub service: &'a ServiceConfig,
    /// Without the newest heartbeat's metadata, which no view of many services shows (the
    /// service's page reads it apart: [`Layout::metadata`]).
    pub state: Option<ServiceState>,
    /// Status at read time.
    pub status: Status,
    /// When the current status began; silence counts from the moment it crossed the threshold.
    pub since: Option<i64>,
    pub timeline: Timeline,
    /// Availability over [`crate::uptime::WINDOWS`], in that order.
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
        self.glance().shown_status()
    }

    fn glance(&self) -> Glance<'_> {
        Glance {
            service: self.service,
            status: self.status,
        }
    }
}

/// A service's status from its state alone: enough to count, order and filter the fleet
/// before reading the rows that are shown.
#[derive(Debug, Clone, Copy)]
pub struct Glance<'a> {
    pub service: &'a ServiceConfig,
    pub status: Status,
}

impl Glance<'_> {
    /// The shown status, or `disabled` for a service that is switched off in config.
    pub fn shown_status(&self) -> &'static str {
        if self.service.enabled {
            self.status.as_str()
        } else {
            "disabled"
        }
    }

    /// Sort rank on the page: what needs attention first.
    pub fn urgency(&self) -> u8 {
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

    /// Whether the filter box's `query` matches: name, id or status contain every word.
    pub fn matches(&self, query: &str) -> bool {
        let haystack = format!(
            "{} {} {}",
            self.service.name.to_lowercase(),
            self.service.id.to_lowercase(),
            self.shown_status()
        );
        query
            .to_lowercase()
            .split_whitespace()
            .all(|word| haystack.contains(word))
    }
}

/// Rows the overview shows per page: a page stays far below 1 MB at any fleet size.
pub const PAGE_ROWS: usize = 500;

/// Which rows the overview shows: those matching the filter, most urgent first, one page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    pub query: String,
    /// 1-based, at most `pages`.
    pub page: usize,
    pub pages: usize,
    /// Services the filter hides.
    pub hidden: usize,
}

impl Listing {
    pub fn new(query: &str, page: usize) -> Listing {
        Listing {
            query: query.to_string(),
            page: page.max(1),
            pages: 1,
            hidden: 0,
        }
    }

    /// The indices of `glances` to read as rows, in page order (a `select` for
    /// [`Board::read_selected`]); notes how many the filter hid and how many pages there are.
    pub fn select(&mut self, glances: &[Glance<'_>]) -> Vec<usize> {
        // Without a filter every service matches: no text to build for each.
        let blank = self.query.trim().is_empty();
        let mut order: Vec<usize> = (0..glances.len())
            .filter(|&i| blank || glances[i].matches(&self.query))
            .collect();
        order.sort_by_cached_key(|&i| {
            let g = &glances[i];
            (g.urgency(), g.service.name.to_lowercase())
        });
        self.hidden = glances.len() - order.len();
        self.pages = order.len().div_ceil(PAGE_ROWS).max(1);
        self.page = self.page.min(self.pages);
        order
            .into_iter()
            .skip((self.page - 1) * PAGE_ROWS)
            .take(PAGE_ROWS)
            .collect()
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
    /// The enabled services of `glances`, by status.
    pub fn of(glances: &[Glance<'_>]) -> Counts {
        let mut counts = Counts::default();
        for g in glances.iter().filter(|g| g.service.enabled) {
            counts.total += 1;
            match g.status {
                Status::Up => counts.up += 1,
                Status::Degraded => counts.degraded += 1,
                Status::Down => counts.down += 1,
                Status::Unknown => counts.unknown += 1,
            }
        }
        counts
    }

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
    /// Every service's row. Three batch reads whatever the number of services: the states,
    /// the histories and the pauses. Pass one service (`std::slice::from_ref`) to read just
    /// that one.
    pub fn read<S: Store>(
        store: &S,
        layout: &Layout,
        services: &'a [ServiceConfig],
        global_maintenance: &[Window],
        now: i64,
    ) -> Result<Board<'a>, StoreError> {
        Board::read_selected(
            store,
            layout,
            services,
            global_maintenance,
            now,
            |glances| (0..glances.len()).collect(),
        )
    }

    /// Counts over every service (their states, one batch read), but rows only for the
    /// services `select` picks from their glances, in its order (their histories and pauses,
    /// two batch reads): a page of a large fleet, or no rows for a summary.
    pub fn read_selected<S: Store>(
        store: &S,
        layout: &Layout,
        services: &'a [ServiceConfig],
        global_maintenance: &[Window],
        now: i64,
        select: impl FnOnce(&[Glance<'a>]) -> Vec<usize>,
    ) -> Result<Board<'a>, StoreError> {
        let ids: Vec<&str> = services.iter().map(|s| s.id.as_str()).collect();
        let mut states = layout.shown_states(store, &ids)?;
        let glances: Vec<Glance<'a>> = services
            .iter()
            .zip(&states)
            .map(|(service, state)| Glance {
                service,
                status: effective_status(state.as_ref(), &service.schedule, now),
            })
            .collect();
        let counts = Counts::of(&glances);
        let chosen = select(&glances);
        let chosen_ids: Vec<&str> = chosen.iter().map(|&i| ids[i]).collect();
        let histories = layout.shown_histories(store, &chosen_ids)?;
        let pauses = layout.pauses(store, &chosen_ids)?;
        let rows = chosen
            .iter()
            .zip(histories)
            .zip(pauses)
            .map(|((&i, history), paused)| {
                let Glance { service, status } = glances[i];
                let state = states[i].take();
                let schedule = &service.schedule;
                let since = state.as_ref().map(|s| {
                    if status == Status::Down && s.status != Status::Down {
                        crate::state::silent_at(s, schedule)
                    } else {
                        s.since
                    }
                });
                let flapping = history
                    .changes
                    .iter()
                    .filter(|(at, _)| *at > now - 3_600_000)
                    .count()
                    >= FLAPPING_TRANSITIONS;
                let timeline = Timeline::of_changes(history.changes, state.as_ref(), schedule, now);
                let uptime = timeline.window_percents();
                Row {
                    service,
                    state,
                    status,
                    since,
                    timeline,
                    uptime,
                    delivered: history.delivered,
                    paused,
                    flapping,
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
}

#[cfg(test)]
pub(crate) mod tests;
