//! Timestamps as the API shows them: RFC 3339 in UTC with milliseconds.

use chrono::{DateTime, SecondsFormat};

/// `1764089143123` → `"2025-11-25T16:45:43.123Z"`.
pub fn iso(ms: i64) -> String {
    let mut out = Vec::with_capacity(24);
    push_iso(&mut out, ms);
    String::from_utf8(out).expect("a timestamp is ASCII")
}

/// [`iso`] appended to `out`.
pub fn push_iso(out: &mut Vec<u8>, ms: i64) {
    match iso_digits(ms) {
        Some(digits) => out.extend_from_slice(&digits),
        None => {
            let at = DateTime::from_timestamp_millis(ms).unwrap_or_default();
            out.extend_from_slice(at.to_rfc3339_opts(SecondsFormat::Millis, true).as_bytes());
        }
    }
}

/// [`iso`]'s 24 characters for years 0–9999 (`None` outside them), kept on the stack. Written
/// digit by digit from the civil date (Hinnant's `civil_from_days`): `/api/status` writes
/// three of these per service and the overview two, and chrono's general formatter, then its
/// calendar accessors, were a visible part of them.
pub fn iso_digits(ms: i64) -> Option<[u8; 24]> {
    const FIRST: i64 = -62_167_219_200_000; // 0000-01-01T00:00:00.000Z
    const LAST: i64 = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z
    if !(FIRST..=LAST).contains(&ms) {
        return None;
    }
    let (days, in_day) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    // Days since 0000-03-01, counted in 400-year eras of 146,097 days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153; // March is 0
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    let mut out = [0; 24];
    let mut at = 0;
    let mut digits = |n: i64, width: u32, after: u8| {
        for place in (0..width).rev() {
            out[at] = b'0' + (n / 10i64.pow(place) % 10) as u8;
            at += 1;
        }
        out[at] = after;
        at += 1;
    };
    digits(year, 4, b'-');
    digits(month, 2, b'-');
    digits(day, 2, b'T');
    digits(in_day / 3_600_000, 2, b':');
    digits(in_day / 60_000 % 60, 2, b':');
    digits(in_day / 1_000 % 60, 2, b'.');
    digits(in_day % 1_000, 3, b'Z');
    Some(out)
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
        // Every day of 1900–2200 (leap rules of all three kinds), at a moving time of day.
        let mut ms = -2_208_988_800_000 + 123;
        while ms < 7_258_118_400_000 {
            assert_eq!(iso(ms), chrono_iso(ms), "{ms}");
            ms += 86_400_000 + 3_599_999;
        }
        for ms in [
            0,
            1,
            -1,
            999,
            -62_167_219_200_000,
            -62_167_219_200_001,
            253_402_300_800_000,
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
