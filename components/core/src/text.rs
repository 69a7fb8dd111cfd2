//! The one rule for shortening text, used wherever a message, title or name is kept or sent
//! within a limit: a stored heartbeat message, an error that quotes input, a dashboard cell, a
//! vendor's field; and the one hexadecimal encoding of digests.

/// Lower-case hexadecimal, two digits a byte: derived keys, configuration digests, Matrix
/// transaction ids.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

/// At most `max` characters (not bytes), the last an ellipsis when cut — so nothing kept is
/// longer than the limit that validates it.
/// Regression: the dashboard's copy of this returned `max` characters *and* the ellipsis, so
/// `/api/push` kept a 1,025-character message that `POST /api/heartbeat` refuses.
pub fn shorten(s: &str, max: usize) -> String {
    if s.chars().nth(max).is_none() {
        return s.to_string();
    }
    let end = s
        .char_indices()
        .nth(max.saturating_sub(1))
        .map_or(s.len(), |(i, _)| i);
    format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_two_lower_case_digits_a_byte() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa0, 0xff]), "000fa0ff");
        assert_eq!(hex(&[]), "");
    }

    #[test]
    fn at_the_limit_nothing_is_cut_and_past_it_the_ellipsis_counts() {
        assert_eq!(shorten("abc", 3), "abc");
        assert_eq!(shorten("abcd", 3), "ab…");
        assert_eq!(shorten("", 0), "");
        assert_eq!(shorten("a", 0), "…");
    }

    #[test]
    fn characters_are_counted_not_bytes() {
        assert_eq!(shorten("héllo", 5), "héllo");
        assert_eq!(shorten("héllo wörld", 5), "héll…");
        assert_eq!(shorten("héllo", 3), "hé…");
        let long = "é".repeat(2000);
        assert_eq!(shorten(&long, 1024).chars().count(), 1024);
    }
}
