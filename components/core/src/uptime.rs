//! Uptime from transitions, not samples: the share of known time in a window that the service
//! was `up` or `degraded` (degraded is still serving). Time before the first heartbeat is not
//! counted either way. The same [`Timeline`] gives the windows of `/api/status` and the per-day
//! segments of the dashboard's 90-day bar, so the two can never disagree.

use crate::model::{ServiceState, Status, Transition};
use crate::schedule::Schedule;
use crate::state;

/// One day in milliseconds.
pub const DAY_MS: i64 = 24 * 3600 * 1000;

/// The windows the API reports, as (label, milliseconds).
pub const WINDOWS: [(&str, i64); 4] = [
    ("24h", DAY_MS),
    ("7d", 7 * DAY_MS),
    ("30d", 30 * DAY_MS),
    ("90d", 90 * DAY_MS),
];

/// Time spent in each known status inside some interval, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub up: i64,
    pub degraded: i64,
    pub down: i64,
}

impl Tally {
    fn add(&mut self, status: Status, span: i64) {
        match status {
            Status::Up => self.up += span,
            Status::Degraded => self.degraded += span,
            Status::Down => self.down += span,
            Status::Unknown => {}
        }
    }

    /// The time in `self` that is not in `earlier`, a tally of a leading part of it.
    fn less(self, earlier: Tally) -> Tally {
        Tally {
            up: self.up - earlier.up,
            degraded: self.degraded - earlier.degraded,
            down: self.down - earlier.down,
        }
    }

    /// The time in `self` and `other`, tallies of intervals that do not overlap.
    pub fn plus(self, other: Tally) -> Tally {
        Tally {
            up: self.up + other.up,
            degraded: self.degraded + other.degraded,
            down: self.down + other.down,
        }
    }

    pub fn known(&self) -> i64 {
        self.up + self.degraded + self.down
    }

    /// Percentage (0–100, three decimals) of known time the service was available, or `None`
    /// when nothing is known. Truncated, not rounded: a second of downtime in 90 days still
    /// reads below 100.
    pub fn percent(&self) -> Option<f64> {
        let known = self.known();
        (known > 0).then(|| ((self.up + self.degraded) * 100_000 / known) as f64 / 1000.0)
    }

    /// The worst status seen: any down time makes the interval `down`, then `degraded`, then
    /// `up`; `unknown` when nothing is known.
    pub fn worst(&self) -> Status {
        Status::worst_present(self.down > 0, self.degraded > 0, self.up > 0)
    }
}

/// A service's statuses over time up to `now`: each entry is the moment a status began.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    changes: Vec<(i64, Status)>,
    now: i64,
}

impl Timeline {
    /// Silence not yet recorded by a sweep counts as down from the moment it crossed the
    /// threshold, as the API's status does.
    pub fn new(
        transitions: &[Transition],
        current: Option<&ServiceState>,
        schedule: &Schedule,
        now: i64,
    ) -> Timeline {
        let changes = transitions.iter().map(|t| (t.at, t.to)).collect();
        Timeline::of_changes(changes, current, schedule, now)
    }

    /// [`Timeline::new`] from when each status began, as a whole-fleet read decodes them
    /// (`layout::ShownHistory`).
    pub fn of_changes(
        mut changes: Vec<(i64, Status)>,
        current: Option<&ServiceState>,
        schedule: &Schedule,
        now: i64,
    ) -> Timeline {
        if let Some(s) = current {
            if s.status != Status::Down && state::is_silent(s, schedule, now) {
                changes.push((state::silent_at(s, schedule), Status::Down));
            }
        }
        // Stored transitions are in order already; only a silence can land before the last.
        if !changes.is_sorted_by_key(|(at, _)| *at) {
            changes.sort_by_key(|(at, _)| *at);
        }
        Timeline { changes, now }
    }

    pub fn now(&self) -> i64 {
        self.now
    }

    /// Where a walk from `at` starts: the index of the first change after `at`, and the status
    /// in effect at `at` (`unknown` before the first change).
    fn start_at(&self, at: i64) -> (usize, Status) {
        let first = self.changes.partition_point(|&(change, _)| change <= at);
        let status = match first {
            0 => Status::Unknown,
            n => self.changes[n - 1].1,
        };
        (first, status)
    }

    /// Time in each status within `[from, to)`, clipped to `now`. Finds its starting point by
    /// binary search, so 90 day-tallies over a long history stay cheap.
    pub fn tally(&self, from: i64, to: i64) -> Tally {
        let to = to.min(self.now);
        let mut tally = Tally::default();
        if to <= from {
            return tally;
        }
        let (first, mut status) = self.start_at(from);
        let mut since = from;
        for &(at, next) in &self.changes[first..] {
            if at >= to {
                break;
            }
            tally.add(status, at - since);
            since = at;
            status = next;
        }
        tally.add(status, to - since);
        tally
    }

    /// Availability over the `window_ms` before `now`; `None` if nothing is known there.
    pub fn percent(&self, window_ms: i64) -> Option<f64> {
        self.tally(self.now - window_ms, self.now).percent()
    }

    /// Availability over each of [`WINDOWS`], in one walk over the changes of the longest
    /// (each [`Timeline::percent`] would search and walk again): every whole-fleet read
    /// reports them for every service. The windows all end now, so each is the whole walk's
    /// tally less what it had gathered by the window's start.
    pub fn window_percents(&self) -> [Option<f64>; 4] {
        let starts = WINDOWS.map(|(_, ms)| self.now - ms);
        let mut order = [0, 1, 2, 3];
        order.sort_by_key(|&w| starts[w]);
        let from = starts[order[0]];
        let mut at_start = [Tally::default(); 4];
        let mut walked = Tally::default();
        let mut next_start = 0;
        let mut since = from;
        // Adds `status` from `since` until `until`, noting the tally at each window start
        // passed on the way.
        let mut walk = |status: Status, until: i64, walked: &mut Tally, since: &mut i64| {
            while let Some(&w) = order.get(next_start).filter(|&&w| starts[w] <= until) {
                walked.add(status, starts[w] - *since);
                *since = starts[w];
                at_start[w] = *walked;
                next_start += 1;
            }
            walked.add(status, until - *since);
            *since = until;
        };
        let (first, mut status) = self.start_at(from);
        for &(at, then) in &self.changes[first..] {
            if at >= self.now {
                break;
            }
            walk(status, at, &mut walked, &mut since);
            status = then;
        }
        walk(status, self.now, &mut walked, &mut since);
        at_start.map(|before| walked.less(before).percent())
    }

    /// The last `count` UTC calendar days, oldest first, today (so far) last. One walk over
    /// the changes for all of them (each day's [`Timeline::tally`] would search again): the
    /// dashboard draws ninety days for every service.
    pub fn days(&self, count: usize) -> Vec<Day> {
        let today = self.now.div_euclid(DAY_MS) * DAY_MS;
        let first = today - (count as i64 - 1) * DAY_MS;
        let (mut next, mut status) = self.start_at(first);
        (0..count as i64)
            .map(|d| {
                let start = first + d * DAY_MS;
                let end = (start + DAY_MS).min(self.now);
                let mut tally = Tally::default();
                let mut since = start;
                while let Some(&(at, then)) = self.changes.get(next).filter(|(at, _)| *at < end) {
                    tally.add(status, at - since);
                    (since, status, next) = (at, then, next + 1);
                }
                if end > since {
                    tally.add(status, end - since);
                }
                Day { start, tally }
            })
            .collect()
    }
}

/// One UTC calendar day of a [`Timeline`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Day {
    /// Midnight UTC, in milliseconds.
    pub start: i64,
    pub tally: Tally,
}

/// Percentage (0–100, three decimals) of `[now - window, now]` the service was available, or
/// `None` if nothing is known about that window.
pub fn percent(
    transitions: &[Transition],
    current: Option<&ServiceState>,
    schedule: &Schedule,
    now: i64,
    window_ms: i64,
) -> Option<f64> {
    Timeline::new(transitions, current, schedule, now).percent(window_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3600 * 1000;

    fn transition(at: i64, from: Status, to: Status) -> Transition {
        Transition::by_heartbeat(at, from, to)
    }

    #[test]
    fn counts_only_known_time() {
        let transitions = [transition(0, Status::Unknown, Status::Up)];
        assert_eq!(
            percent(&transitions, None, &Schedule::threshold(60), 10 * H, 24 * H),
            Some(100.0)
        );
        assert_eq!(
            percent(&[], None, &Schedule::threshold(60), 10 * H, 24 * H),
            None
        );
    }

    #[test]
    fn weighs_down_time_by_duration() {
        let transitions = [
            transition(0, Status::Unknown, Status::Up),
            transition(6 * H, Status::Up, Status::Down),
            transition(9 * H, Status::Down, Status::Degraded),
        ];
        // 12 h known: 6 up, 3 down, 3 degraded.
        assert_eq!(
            percent(&transitions, None, &Schedule::threshold(60), 12 * H, 24 * H),
            Some(75.0)
        );
        // Last 6 h: 3 down, 3 degraded.
        assert_eq!(
            percent(&transitions, None, &Schedule::threshold(60), 12 * H, 6 * H),
            Some(50.0)
        );
    }

    #[test]
    fn unrecorded_silence_counts_as_down_from_the_threshold() {
        let transitions = [transition(0, Status::Unknown, Status::Up)];
        let state = ServiceState {
            status: Status::Up,
            since: 0,
            seq: 1,
            last_heartbeat: 0,
            last_message: None,
            last_metadata: None,
            notified: Default::default(),
            last_duration_ms: None,
            failures: 0,
            started: None,
        };
        // Silent after 1 h; at 4 h: 1 h up, 3 h down.
        assert_eq!(
            percent(
                &transitions,
                Some(&state),
                &Schedule::threshold(3600),
                4 * H,
                24 * H
            ),
            Some(25.0)
        );
    }

    #[test]
    fn splits_an_outage_across_midnight_into_both_days() {
        // Day 10 starts at 10 * DAY_MS. Down from 23:00 on day 9 to 01:00 on day 10.
        let day10 = 10 * DAY_MS;
        let transitions = [
            transition(0, Status::Unknown, Status::Up),
            transition(day10 - H, Status::Up, Status::Down),
            transition(day10 + H, Status::Down, Status::Up),
        ];
        let timeline = Timeline::new(&transitions, None, &Schedule::threshold(60), day10 + 12 * H);
        let days = timeline.days(3);
        assert_eq!(
            days.iter().map(|d| d.start).collect::<Vec<_>>(),
            [8 * DAY_MS, 9 * DAY_MS, day10]
        );
        assert_eq!(days[0].tally.worst(), Status::Up);
        assert_eq!(days[0].tally.percent(), Some(100.0));
        assert_eq!(days[1].tally.down, H);
        assert_eq!(days[1].tally.worst(), Status::Down);
        assert_eq!(days[1].tally.percent(), Some(95.833));
        // Today counts only up to now: 1 h down out of 12 h.
        assert_eq!(days[2].tally.down, H);
        assert_eq!(days[2].tally.known(), 12 * H);
        assert_eq!(days[2].tally.percent(), Some(91.666));
    }

    #[test]
    fn a_transition_exactly_at_midnight_belongs_to_the_new_day() {
        let day1 = DAY_MS;
        let transitions = [
            transition(0, Status::Unknown, Status::Up),
            transition(day1, Status::Up, Status::Degraded),
        ];
        let days = Timeline::new(&transitions, None, &Schedule::threshold(60), day1 + H).days(2);
        assert_eq!(
            days[0].tally,
            Tally {
                up: DAY_MS,
                degraded: 0,
                down: 0
            }
        );
        assert_eq!(
            days[1].tally,
            Tally {
                up: 0,
                degraded: H,
                down: 0
            }
        );
        assert_eq!(days[1].tally.worst(), Status::Degraded);
    }

    #[test]
    fn days_before_the_first_heartbeat_have_no_data() {
        let transitions = [transition(5 * DAY_MS + H, Status::Unknown, Status::Up)];
        let days = Timeline::new(&transitions, None, &Schedule::threshold(60), 6 * DAY_MS).days(90);
        assert_eq!(days.len(), 90);
        assert!(days[..88]
            .iter()
            .all(|d| d.tally.worst() == Status::Unknown));
        assert_eq!(days[88].tally.percent(), Some(100.0));
        assert_eq!(days[88].tally.known(), 23 * H);
        // Today has just begun: nothing elapsed yet.
        assert_eq!(days[89].tally.known(), 0);
    }

    #[test]
    fn one_second_down_in_ninety_days_is_not_a_hundred_percent() {
        let transitions = [
            transition(0, Status::Unknown, Status::Up),
            transition(45 * DAY_MS, Status::Up, Status::Down),
            transition(45 * DAY_MS + 1000, Status::Down, Status::Up),
        ];
        let p = Timeline::new(&transitions, None, &Schedule::threshold(60), 90 * DAY_MS)
            .percent(90 * DAY_MS);
        assert_eq!(p, Some(99.999));
    }

    #[test]
    fn windows_and_days_agree() {
        let transitions = [
            transition(0, Status::Unknown, Status::Up),
            transition(30 * H, Status::Up, Status::Down),
            transition(33 * H, Status::Down, Status::Up),
        ];
        let timeline = Timeline::new(&transitions, None, &Schedule::threshold(60), 48 * H);
        let days = timeline.days(2);
        let sum = days[0].tally.down + days[1].tally.down;
        assert_eq!(sum, timeline.tally(0, 48 * H).down);
        assert_eq!(timeline.percent(48 * H), Some(93.75));
    }

    /// A timeline of a change every `gap` from `start` (each to the status numbered `s`),
    /// read `tail` after the last.
    fn walked(steps: &[(i64, u8)], start: i64, tail: i64) -> Timeline {
        let statuses = [Status::Up, Status::Degraded, Status::Down, Status::Unknown];
        let mut at = start;
        let changes: Vec<(i64, Status)> = steps
            .iter()
            .map(|&(gap, s)| {
                at += gap;
                (at, statuses[s as usize])
            })
            .collect();
        Timeline {
            changes,
            now: at + tail,
        }
    }

    proptest::proptest! {
        /// The one-walk days are each day's own tally.
        #[test]
        fn days_are_each_days_tally(
            steps in proptest::collection::vec((0i64..3 * 86_400_000, 0u8..4), 0..40),
            start in -5i64 * 86_400_000..5 * 86_400_000,
            tail in 0i64..3 * 86_400_000,
            count in 1usize..12,
        ) {
            let timeline = walked(&steps, start, tail);
            let days = timeline.days(count);
            for day in &days {
                proptest::prop_assert_eq!(day.tally, timeline.tally(day.start, day.start + DAY_MS));
            }
            // And together they are the tally of their whole span (the bar's label sums them).
            let sum = days.iter().fold(Tally::default(), |sum, d| sum.plus(d.tally));
            proptest::prop_assert_eq!(sum, timeline.tally(days[0].start, timeline.now()));
        }

        /// The one-walk windows are each window's own percentage, over histories from minutes
        /// to months long.
        #[test]
        fn window_percents_are_each_windows_percent(
            steps in proptest::collection::vec((0i64..40 * 86_400_000, 0u8..4), 0..40),
            start in -5i64 * 86_400_000..5 * 86_400_000,
            tail in 0i64..10 * 86_400_000,
        ) {
            let timeline = walked(&steps, start, tail);
            let each = WINDOWS.map(|(_, ms)| timeline.percent(ms));
            proptest::prop_assert_eq!(timeline.window_percents(), each);
        }
    }
}
