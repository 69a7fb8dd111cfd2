//! Uptime from transitions, not samples: the share of known time in a window that the service
//! was `up` or `degraded` (degraded is still serving). Time before the first heartbeat is not
//! counted either way.

use crate::model::{ServiceState, Status, Transition};
use crate::state;

/// The windows the API reports, as (label, milliseconds).
pub const WINDOWS: [(&str, i64); 4] = [
    ("24h", 24 * 3600 * 1000),
    ("7d", 7 * 24 * 3600 * 1000),
    ("30d", 30 * 24 * 3600 * 1000),
    ("90d", 90 * 24 * 3600 * 1000),
];

/// Percentage (0–100, three decimals) of `[now - window, now]` the service was available, or
/// `None` if nothing is known about that window. Silence not yet recorded by a sweep counts as
/// down from the moment it crossed the threshold.
pub fn percent(
    flips: &[Transition],
    current: Option<&ServiceState>,
    threshold_secs: u64,
    now: i64,
    window_ms: i64,
) -> Option<f64> {
    let start = now - window_ms;
    let mut timeline: Vec<(i64, Status)> = flips.iter().map(|t| (t.at, t.to)).collect();
    if let Some(s) = current {
        if s.status != Status::Down && state::is_silent(s, threshold_secs, now) {
            timeline.push((
                s.last_heartbeat + threshold_secs as i64 * 1000,
                Status::Down,
            ));
        }
    }
    timeline.sort_by_key(|(at, _)| *at);

    let (mut up, mut down) = (0i64, 0i64);
    let mut status = Status::Unknown;
    let mut since = start;
    for (at, next) in timeline {
        if at > start {
            let span = at.min(now) - since;
            match status {
                Status::Up | Status::Degraded => up += span,
                Status::Down => down += span,
                Status::Unknown => {}
            }
            since = at.min(now);
        }
        status = next;
    }
    match status {
        Status::Up | Status::Degraded => up += now - since,
        Status::Down => down += now - since,
        Status::Unknown => {}
    }
    let known = up + down;
    (known > 0).then(|| (up as f64 * 100_000.0 / known as f64).round() / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Reason;

    const H: i64 = 3600 * 1000;

    fn flip(at: i64, from: Status, to: Status) -> Transition {
        Transition {
            at,
            from,
            to,
            reason: Reason::Heartbeat,
        }
    }

    #[test]
    fn counts_only_known_time() {
        let flips = [flip(0, Status::Unknown, Status::Up)];
        assert_eq!(percent(&flips, None, 60, 10 * H, 24 * H), Some(100.0));
        assert_eq!(percent(&[], None, 60, 10 * H, 24 * H), None);
    }

    #[test]
    fn weighs_down_time_by_duration() {
        let flips = [
            flip(0, Status::Unknown, Status::Up),
            flip(6 * H, Status::Up, Status::Down),
            flip(9 * H, Status::Down, Status::Degraded),
        ];
        // 12 h known: 6 up, 3 down, 3 degraded.
        assert_eq!(percent(&flips, None, 60, 12 * H, 24 * H), Some(75.0));
        // Last 6 h: 3 down, 3 degraded.
        assert_eq!(percent(&flips, None, 60, 12 * H, 6 * H), Some(50.0));
    }

    #[test]
    fn unrecorded_silence_counts_as_down_from_the_threshold() {
        let flips = [flip(0, Status::Unknown, Status::Up)];
        let state = ServiceState {
            status: Status::Up,
            since: 0,
            seq: 1,
            last_heartbeat: 0,
            last_message: None,
            last_metadata: None,
            notified: Default::default(),
        };
        // Silent after 1 h; at 4 h: 1 h up, 3 h down.
        assert_eq!(
            percent(&flips, Some(&state), 3600, 4 * H, 24 * H),
            Some(25.0)
        );
    }
}
