//! Timestamps as the API shows them: RFC 3339 in UTC with milliseconds.

use chrono::{DateTime, Datelike, SecondsFormat, Timelike};

/// `1764089143123` → `"2025-11-25T16:45:43.123Z"`.
///
/// Written digit by digit: a page of a large fleet formats thousands of these, and chrono's
/// general formatter was a visible part of it. Years outside 0–9999 go through chrono.
pub fn iso(ms: i64) -> String {
    let at = DateTime::from_timestamp_millis(ms).unwrap_or_default();
    let year = at.year();
    if !(0..=9999).contains(&year) {
        return at.to_rfc3339_opts(SecondsFormat::Millis, true);
    }
    let mut out = String::with_capacity(24);
    let mut digits = |n: u32, width: u32, after: char| {
        for place in (0..width).rev() {
            out.push(char::from(b'0' + (n / 10u32.pow(place) % 10) as u8));
        }
        out.push(after);
    };
    digits(year as u32, 4, '-');
    digits(at.month(), 2, '-');
    digits(at.day(), 2, 'T');
    digits(at.hour(), 2, ':');
    digits(at.minute(), 2, ':');
    digits(at.second(), 2, '.');
    digits(at.timestamp_subsec_millis().min(999), 3, 'Z');
    out
}

/// A span in its two largest units: `"45 s"`, `"5 min"`, `"2 h 5 min"`, `"3 d 4 h"`.
pub fn duration(ms: i64) -> String {
    let secs = ms.max(0) / 1000;
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s} s"),
        (0, 0, _) => format!("{m} min"),
        (0, _, 0) => format!("{h} h"),
        (0, _, _) => format!("{h} h {m} min"),
        (_, 0, _) => format!("{d} d"),
        _ => format!("{d} d {h} h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_format_is_chronos() {
        let chrono_iso = |ms: i64| {
            DateTime::from_timestamp_millis(ms)
                .unwrap_or_default()
                .to_rfc3339_opts(SecondsFormat::Millis, true)
        };
        let mut ms = -62_167_219_200_000; // 0000-01-01
        while ms < 253_402_300_800_000 {
            // 9999-12-31 and a little
            assert_eq!(iso(ms), chrono_iso(ms), "{ms}");
            ms += 7_777_777_777_777 / 1000 * 997 + 1;
        }
        for ms in [
            0,
            1,
            -1,
            999,
            1_000,
            1_764_089_143_123,
            253_402_300_799_999,
            i64::MAX,
            i64::MIN,
        ] {
            assert_eq!(iso(ms), chrono_iso(ms), "{ms}");
        }
    }

    #[test]
    fn formats_milliseconds_in_utc() {
        assert_eq!(iso(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso(1_764_089_143_123), "2025-11-25T16:45:43.123Z");
    }
}
