//! The 90-day uptime bar: one segment per UTC day, coloured by the worst status of that day.
//! Runs of perfect days (or of days with no data) merge into one segment, so a healthy service
//! costs one SVG rectangle instead of ninety — that keeps a 1,000-service page small — while every
//! day with trouble keeps its own segment and tooltip.

use super::format::{duration, percent, push_date};
use crate::model::Status;
use crate::uptime::{Day, Tally, Timeline};

/// Days the bar covers.
pub const DAYS: usize = 90;

/// One rectangle of the bar, in day units.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub x: usize,
    pub width: usize,
    /// CSS class: `b-up`, `b-degraded`, `b-down` or `b-none` (the width's class, `s1` to
    /// `s90`, is defined in `app.css`).
    pub class: &'static str,
    /// Tooltip: the date (or date range) and the uptime.
    pub title: String,
}

/// A service's bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub days: usize,
    pub segments: Vec<Segment>,
    /// What a screen reader says for the whole bar.
    pub label: String,
}

fn class(status: Status) -> &'static str {
    match status {
        Status::Up => "b-up",
        Status::Degraded => "b-degraded",
        Status::Down => "b-down",
        Status::Unknown => "b-none",
    }
}

/// Days that read the same as their neighbours and can share a segment.
fn mergeable(day: &Day) -> bool {
    matches!(day.tally.worst(), Status::Up | Status::Unknown)
}

/// Appends what a day was like to a segment's tooltip.
fn describe(title: &mut String, day: &Day) {
    let t = day.tally;
    match t.worst() {
        Status::Unknown => title.push_str("no data"),
        Status::Up => title.push_str("100% up"),
        Status::Degraded => {
            title.push_str("100% up, degraded for ");
            title.push_str(&duration(t.degraded));
        }
        Status::Down => {
            title.push_str(&percent(t.percent()));
            title.push_str(" up, down for ");
            title.push_str(&duration(t.down));
            if t.degraded > 0 {
                title.push_str(", degraded for ");
                title.push_str(&duration(t.degraded));
            }
        }
    }
}

pub fn bar(timeline: &Timeline, days: usize) -> Bar {
    let list = timeline.days(days);
    let today = list.last().map(|d| d.start);
    let mut segments: Vec<Segment> = Vec::new();
    let mut i = 0;
    while i < list.len() {
        let first = &list[i];
        let mut end = i + 1;
        if mergeable(first) {
            while end < list.len() && list[end].tally.worst() == first.tally.worst() {
                end += 1;
            }
        }
        let last = &list[end - 1];
        // Pushed piece by piece: a thousand bars make a few thousand tooltips.
        let mut title = String::with_capacity(64);
        push_date(&mut title, first.start);
        if end - i > 1 {
            title.push_str(" – ");
            push_date(&mut title, last.start);
        }
        if Some(last.start) == today {
            title.push_str(" (today)");
        }
        title.push_str(": ");
        describe(&mut title, first);
        segments.push(Segment {
            x: i,
            width: end - i,
            class: class(first.tally.worst()),
            title,
        });
        i = end;
    }
    let troubled = list
        .iter()
        .filter(|d| matches!(d.tally.worst(), Status::Down | Status::Degraded))
        .count();
    // The days cover the whole span up to now: their sum is its tally, without a second walk.
    let whole = list
        .iter()
        .fold(Tally::default(), |sum, d| sum.plus(d.tally));
    let label = match whole.percent() {
        None => format!("{days} days: no data"),
        Some(p) => format!(
            "{days} days: {} up, {troubled} with trouble",
            percent(Some(p))
        ),
    };
    Bar {
        days,
        segments,
        label,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Transition;
    use crate::schedule::Schedule;
    use crate::uptime::DAY_MS;

    const H: i64 = 3600 * 1000;

    fn bar_of(transitions: &[Transition], now: i64, days: usize) -> Bar {
        bar(
            &Timeline::new(transitions, None, &Schedule::threshold(60), now),
            days,
        )
    }

    fn titles(b: &Bar) -> Vec<&str> {
        b.segments.iter().map(|s| s.title.as_str()).collect()
    }

    /// Each segment's position, width and class.
    fn shape(b: &Bar) -> Vec<(usize, usize, &'static str)> {
        b.segments.iter().map(|s| (s.x, s.width, s.class)).collect()
    }

    #[test]
    fn a_healthy_service_is_one_segment_after_its_first_day() {
        // First heartbeat at noon on day 50 (of the 90 shown); now is noon on day 99.
        let now = 99 * DAY_MS + 12 * H;
        let transitions = [Transition::by_heartbeat(
            60 * DAY_MS + 12 * H,
            Status::Unknown,
            Status::Up,
        )];
        let b = bar_of(&transitions, now, DAYS);
        // Days 10..=59 no data (50), day 60 onwards up (40) — including today.
        assert_eq!(shape(&b), [(0, 50, "b-none"), (50, 40, "b-up")]);
        assert_eq!(
            titles(&b),
            [
                "1970-01-11 – 1970-03-01: no data",
                "1970-03-02 – 1970-04-10 (today): 100% up"
            ]
        );
        assert_eq!(b.label, "90 days: 100% up, 0 with trouble");
    }

    #[test]
    fn each_day_with_trouble_keeps_its_own_segment() {
        let now = 10 * DAY_MS + 12 * H;
        let transitions = [
            Transition::by_heartbeat(0, Status::Unknown, Status::Up),
            Transition::by_heartbeat(8 * DAY_MS + 23 * H, Status::Up, Status::Down),
            Transition::by_heartbeat(9 * DAY_MS + H, Status::Down, Status::Degraded),
            Transition::by_heartbeat(9 * DAY_MS + 3 * H, Status::Degraded, Status::Up),
        ];
        let b = bar_of(&transitions, now, 5);
        assert_eq!(
            shape(&b),
            [
                (0, 2, "b-up"),
                (2, 1, "b-down"),
                (3, 1, "b-down"),
                (4, 1, "b-up")
            ]
        );
        assert_eq!(
            titles(&b)[1..3],
            [
                "1970-01-09: 95.83% up, down for 1 h",
                "1970-01-10: 95.83% up, down for 1 h, degraded for 2 h"
            ]
        );
        assert_eq!(b.label, "5 days: 98.14% up, 2 with trouble");
    }

    #[test]
    fn a_degraded_day_is_available_but_marked() {
        let now = 2 * DAY_MS;
        let transitions = [
            Transition::by_heartbeat(0, Status::Unknown, Status::Up),
            Transition::by_heartbeat(DAY_MS + H, Status::Up, Status::Degraded),
            Transition::by_heartbeat(DAY_MS + 2 * H, Status::Degraded, Status::Up),
        ];
        let b = bar_of(&transitions, now, 3);
        assert_eq!(b.segments[1].class, "b-degraded");
        assert_eq!(b.segments[1].title, "1970-01-02: 100% up, degraded for 1 h");
    }
}
