//! Timestamps as the API shows them: RFC 3339 in UTC with milliseconds.

use chrono::{DateTime, SecondsFormat};

/// `1764089143123` → `"2025-11-25T16:45:43.123Z"`.
pub fn iso(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_milliseconds_in_utc() {
        assert_eq!(iso(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso(1_764_089_143_123), "2025-11-25T16:45:43.123Z");
    }
}
