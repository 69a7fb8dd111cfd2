//! How times, durations and percentages read on the page. `app.js` mirrors [`ago`] so the live
//! page says the same thing the server rendered.

pub use crate::time::duration;
use chrono::DateTime;

/// `"just now"`, `"42 s ago"`, `"2 min ago"`, `"3 h ago"`, `"4 d ago"`.
pub fn ago(now: i64, at: i64) -> String {
    let secs = (now - at).max(0) / 1000;
    match secs {
        0..=4 => "just now".into(),
        5..=59 => format!("{secs} s ago"),
        60..=3599 => format!("{} min ago", secs / 60),
        3600..=86_399 => format!("{} h ago", secs / 3600),
        _ => format!("{} d ago", secs / 86_400),
    }
}

/// `"2026-11-25 19:00:03 UTC"`.
pub fn timestamp(ms: i64) -> String {
    let mut text = String::with_capacity(23);
    let pieces = [Digits(0..10), Text(" "), Digits(11..19), Text(" UTC")];
    push_cut(&mut text, ms, &pieces, "%Y-%m-%d %H:%M:%S UTC");
    text
}

/// `"2026-11-25"`.
pub fn date(ms: i64) -> String {
    let mut text = String::with_capacity(10);
    push_date(&mut text, ms);
    text
}

/// [`date`] appended to `out` (the overview's bars write one or two per segment).
pub fn push_date(out: &mut String, ms: i64) {
    push_cut(out, ms, &[Digits(0..10)], "%Y-%m-%d");
}

/// `"2025-11-25T16:45:43Z"`: [`crate::time::iso`] without its milliseconds (the overview
/// writes one per service).
pub fn iso_seconds(ms: i64) -> String {
    let mut text = String::with_capacity(20);
    let pieces = [Digits(0..19), Text("Z")];
    push_cut(&mut text, ms, &pieces, "%Y-%m-%dT%H:%M:%SZ");
    text
}

/// A part of a time as written: a cut of `YYYY-MM-DDTHH:MM:SS.mmmZ`, or text between cuts.
enum Piece {
    Digits(std::ops::Range<usize>),
    Text(&'static str),
}
use Piece::{Digits, Text};

/// `ms` written as `pieces` cut from [`crate::time::iso_digits`] (a page formats thousands of
/// times, and chrono's general formatter was a visible part of it); `chrono_format` says the
/// same for years outside 0–9999.
fn push_cut(out: &mut String, ms: i64, pieces: &[Piece], chrono_format: &str) {
    let Some(iso) = crate::time::iso_digits(ms) else {
        let at = DateTime::from_timestamp_millis(ms).unwrap_or_default();
        out.push_str(&at.format(chrono_format).to_string());
        return;
    };
    let iso = std::str::from_utf8(&iso).expect("a timestamp is ASCII");
    for piece in pieces {
        match piece {
            Digits(range) => out.push_str(&iso[range.clone()]),
            Text(text) => out.push_str(text),
        }
    }
}

/// `"100%"`, `"99.95%"`, `"—"` when nothing is known. Never rounds a loss up to 100 %.
pub fn percent(p: Option<f64>) -> String {
    match p {
        None => "—".into(),
        Some(p) if p >= 100.0 => "100%".into(),
        Some(p) => {
            // Whole hundredths, written as digits: the overview writes five of these per
            // service, and float formatting was a twentieth of its time (perf).
            let hundredths = (p.max(0.0) * 100.0).floor() as u64;
            let mut text = String::with_capacity(8);
            text.push_str(itoa::Buffer::new().format(hundredths / 100));
            text.push('.');
            let cents = hundredths % 100;
            if cents < 10 {
                text.push('0');
            }
            text.push_str(itoa::Buffer::new().format(cents));
            text.push('%');
            text
        }
    }
}

/// `units / 10^places` written as the shortest decimal, trailing zeros dropped but with at
/// least `min_fraction` (0 or 1) fractional digits: how Rust's `Display` (0) and serde_json
/// (1) write the float nearest to it. Whole-fleet answers write four uptimes per service, and
/// float formatting was a visible part of them; `/metrics` also wrote the ratio inexactly
/// (`0.00007000000000000001` for 0.007 %).
pub fn decimal(units: u64, places: u32, min_fraction: u32) -> Decimal {
    let scale = 10u64.pow(places);
    let mut d = Decimal {
        bytes: [0; 48],
        len: 0,
    };
    let mut whole = itoa::Buffer::new();
    let mut fraction = units % scale;
    let mut width = places;
    while width > min_fraction && fraction.is_multiple_of(10) {
        fraction /= 10;
        width -= 1;
    }
    if width < min_fraction {
        fraction *= 10u64.pow(min_fraction - width);
        width = min_fraction;
    }
    d.push(whole.format(units / scale).as_bytes());
    if width > 0 {
        d.push(b".");
        for place in (0..width).rev() {
            d.push(&[b'0' + (fraction / 10u64.pow(place) % 10) as u8]);
        }
    }
    d
}

/// What [`decimal`] writes, kept on the stack.
pub struct Decimal {
    bytes: [u8; 48],
    len: usize,
}

impl Decimal {
    fn push(&mut self, more: &[u8]) {
        self.bytes[self.len..self.len + more.len()].copy_from_slice(more);
        self.len += more.len();
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len]).expect("digits and a point")
    }
}

/// An uptime percentage as its whole thousandths ([`crate::uptime::Tally::percent`]);
/// `None` for anything else.
pub fn thousandths(p: f64) -> Option<u64> {
    let t = (p * 1000.0).round();
    ((0.0..=1e15).contains(&t) && t / 1000.0 == p).then_some(t as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every value [`crate::uptime::Tally::percent`] can give (thousandths) reads as
    /// float formatting of its floored hundredths wrote it.
    #[test]
    fn percentages_read_as_float_formatting_wrote_them() {
        for thousandths in 0..100_000u32 {
            let p = f64::from(thousandths) / 1000.0;
            let floored = (p * 100.0).floor() / 100.0;
            assert_eq!(percent(Some(p)), format!("{floored:.2}%"), "{p}");
        }
    }

    /// Every uptime ratio `/metrics` can give (hundred-thousandths) reads as `Display` writes
    /// the float nearest to it, and so parses back to exactly that float.
    #[test]
    fn ratios_read_as_display_writes_the_nearest_float() {
        for units in 0..=100_000u32 {
            let nearest = f64::from(units) / 100_000.0;
            let written = decimal(units.into(), 5, 0);
            assert_eq!(written.as_str(), nearest.to_string(), "{units}");
            assert_eq!(written.as_str().parse::<f64>(), Ok(nearest));
        }
        assert_eq!(decimal(u64::MAX, 0, 1).as_str(), "18446744073709551615.0");
        assert_eq!(decimal(u64::MAX, 19, 0).as_str(), "1.8446744073709551615");
    }

    #[test]
    fn only_whole_thousandths_are_taken_for_them() {
        assert_eq!(thousandths(99.123), Some(99_123));
        assert_eq!(thousandths(0.0), Some(0));
        assert_eq!(thousandths(100.0), Some(100_000));
        for odd in [0.1 + 0.2, 99.1234, -1.0, f64::NAN, f64::INFINITY, 1e300] {
            assert_eq!(thousandths(odd), None, "{odd}");
        }
    }

    #[test]
    fn dates_read_as_chrono_writes_them() {
        let at = |ms: i64| DateTime::from_timestamp_millis(ms).unwrap_or_default();
        for ms in [
            0,
            -1,
            1_764_089_143_123,
            253_402_300_799_999,
            253_402_300_800_000,
            -62_167_219_200_001,
            i64::MAX,
        ] {
            assert_eq!(
                timestamp(ms),
                at(ms).format("%Y-%m-%d %H:%M:%S UTC").to_string(),
                "{ms}"
            );
            assert_eq!(date(ms), at(ms).format("%Y-%m-%d").to_string(), "{ms}");
            assert_eq!(
                iso_seconds(ms),
                at(ms).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "{ms}"
            );
        }
    }

    #[test]
    fn relative_times_read_like_a_person_says_them() {
        assert_eq!(ago(10_000, 9_000), "just now");
        assert_eq!(ago(60_000, 18_000), "42 s ago");
        assert_eq!(ago(200_000, 60_000), "2 min ago");
        assert_eq!(ago(4 * 3_600_000, 0), "4 h ago");
        assert_eq!(ago(5 * 86_400_000, 0), "5 d ago");
        assert_eq!(ago(0, 5_000), "just now");
    }

    #[test]
    fn durations_keep_two_units() {
        assert_eq!(duration(45_000), "45 s");
        assert_eq!(duration(300_000), "5 min");
        assert_eq!(duration(3_600_000), "1 h");
        assert_eq!(duration(7_500_000), "2 h 5 min");
        assert_eq!(duration(86_400_000 * 3 + 3_600_000 * 4 + 60_000), "3 d 4 h");
        assert_eq!(duration(86_400_000), "1 d");
    }

    #[test]
    fn percentages_never_round_a_loss_up_to_a_hundred() {
        assert_eq!(percent(Some(100.0)), "100%");
        assert_eq!(percent(Some(99.999)), "99.99%");
        assert_eq!(percent(Some(97.5)), "97.50%");
        assert_eq!(percent(None), "—");
    }
}
