//! Bearer-token checks, and heartbeat keys derived from one secret. Comparison is constant-time
//! so a caller cannot learn a key byte by byte from response timing.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The token of an `Authorization: Bearer <token>` header, if the header has that form.
pub fn bearer(header: Option<&str>) -> Option<&str> {
    let value = header?.trim();
    let (scheme, token) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = token.trim();
    (!token.is_empty()).then_some(token)
}

/// Equal-length inputs are compared in time independent of where they differ; a length
/// mismatch answers early, which reveals only the length.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The heartbeat key of `service_id` derived from `secret`: HMAC-SHA256 keyed with the secret
/// over the service id, in lower-case hex — what
/// `printf %s "$ID" | openssl dgst -sha256 -hmac "$API_KEY_SECRET" -r | cut -c1-64` prints.
pub fn derived_key(secret: &str, service_id: &str) -> String {
    hmac_hex(secret, service_id)
}

/// The push token of `service_id` derived from `secret`: the id, a `.`, and HMAC-SHA256 over
/// `push/` and the id in hex — another value than the heartbeat key, so a push URL (which
/// travels in logs and dashboards) does not give the key away. The id comes first so the token
/// alone names its service: it is everything before the last `.`.
pub fn derived_push_token(secret: &str, service_id: &str) -> String {
    format!(
        "{service_id}.{}",
        hmac_hex(secret, &format!("push/{service_id}"))
    )
}

/// The service a token of [`derived_push_token`]'s form names, unchecked.
pub fn push_token_service(token: &str) -> Option<&str> {
    let (id, mac) = token.rsplit_once('.')?;
    (mac.len() == 64 && mac.bytes().all(|b| b.is_ascii_hexdigit())).then_some(id)
}

fn hmac_hex(secret: &str, message: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(message.as_bytes());
    crate::text::hex(&mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_keys_are_rfc_4231_hmac_sha256() {
        // RFC 4231, test case 2.
        assert_eq!(
            derived_key("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_ne!(derived_key("s", "a"), derived_key("s", "b"));
    }

    #[test]
    fn a_derived_push_token_names_its_service_and_is_not_its_key() {
        let token = derived_push_token("secret", "nightly.backup");
        assert!(token.starts_with("nightly.backup."), "{token}");
        assert_eq!(push_token_service(&token), Some("nightly.backup"));
        assert!(!token.contains(&derived_key("secret", "nightly.backup")));
        assert_eq!(push_token_service("kuma-token"), None);
        assert_eq!(push_token_service("a.b"), None);
    }

    #[test]
    fn bearer_accepts_any_case_of_the_scheme() {
        assert_eq!(bearer(Some("Bearer abc")), Some("abc"));
        assert_eq!(bearer(Some("bearer  abc ")), Some("abc"));
        assert_eq!(bearer(Some("Basic abc")), None);
        assert_eq!(bearer(Some("Bearer ")), None);
        assert_eq!(bearer(None), None);
    }

    #[test]
    fn constant_time_eq_compares_bytes() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secrets"));
    }
}
