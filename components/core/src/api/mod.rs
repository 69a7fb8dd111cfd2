//! The HTTP API of DESIGN §3 as plain functions: a [`Request`] in, a [`Response`] out, with the
//! ports in a [`Context`]. Every host routes to the same three entry points: [`ingest`],
//! [`sweep`] and [`dashboard`].

mod accept;
mod admin;
mod alert;
pub mod dashboard;
#[cfg(any(test, feature = "testing"))]
pub mod fleet;
pub mod ingest;
mod ping;
mod push;
mod status_json;
pub mod sweep;
mod web;

use crate::secrets::Secrets;
use serde_json::json;

pub use crate::context::Context;
pub use crate::limits::MAX_BODY_BYTES;

/// An HTTP request as the hosts hand it over.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub method: String,
    /// Path without the query, e.g. `/api/logs`.
    pub path: String,
    /// Raw query string without `?`.
    pub query: String,
    /// Header names in any case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// A query parameter, percent-decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k) == name).then(|| percent_decode(v))
        })
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// An HTTP response; the body is JSON unless a header says otherwise.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(status: u16, value: &impl serde::Serialize) -> Response {
        let mut body = Vec::with_capacity(128);
        serde_json::to_writer(&mut body, value).expect("json serializes");
        Response::json_bytes(status, body)
    }

    /// A JSON answer already written (a large one into room for all of it: grown by doubling
    /// it copies itself over and over, and on a host that gives each request fresh memory
    /// every copy also touches new pages).
    pub fn json_bytes(status: u16, body: Vec<u8>) -> Response {
        Response {
            status,
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("cache-control".into(), "no-store".into()),
            ],
            body,
        }
    }

    pub fn error(status: u16, message: impl AsRef<str>) -> Response {
        Response::json(status, &json!({ "error": message.as_ref() }))
    }

    pub fn method_not_allowed(allow: &str) -> Response {
        let mut r = Response::error(405, format!("method not allowed; use {allow}"));
        r.headers.push(("allow".into(), allow.into()));
        r
    }

    pub fn not_found(path: &str) -> Response {
        Response::error(404, format!("no such route: {}", clip(path)))
    }

    /// A non-JSON body with its content type and caching policy.
    pub fn body(content_type: &str, cache_control: &str, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status: 200,
            headers: vec![
                ("content-type".into(), content_type.into()),
                ("cache-control".into(), cache_control.into()),
                ("x-content-type-options".into(), "nosniff".into()),
            ],
            body: body.into(),
        }
    }

    /// A dashboard page. The policy allows only our own scripts and styles: even if an
    /// escaping bug let markup through, no inline script could run.
    pub fn html(body: String) -> Response {
        let mut r = Response::body("text/html; charset=utf-8", "no-store", body);
        r.headers.extend([
            (
                "content-security-policy".into(),
                CONTENT_SECURITY_POLICY.into(),
            ),
            ("referrer-policy".into(), "same-origin".into()),
            ("x-frame-options".into(), "DENY".into()),
        ]);
        r
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

/// Content-Security-Policy of every HTML page.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// A header's value by case-insensitive name.
fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The one service a request is about, where the request names it: a heartbeat's
/// `serviceId`, a ping's service, a push by a token derived from `API_KEY_SECRET`, and the
/// dashboard's `/services/{id}`, `/badge/{id}.*`, `/api/logs` and `/api/deliveries`. A host that
/// starts every request afresh then loads that service's configuration alone
/// ([`crate::config_cache`]). `None`: the request needs the whole configuration (counts over
/// the fleet, an alert, a push by a listed token), or is malformed and the handler says how
/// with the whole configuration at hand.
pub fn service_hint(req: &Request, secrets: &dyn Secrets) -> Option<String> {
    let reading = matches!(req.method.as_str(), "GET" | "HEAD");
    match (req.method.as_str(), req.path.as_str()) {
        ("POST", "/api/heartbeat") if too_large(req).is_none() => {
            match serde_json::from_slice::<serde_json::Value>(&req.body)
                .ok()?
                .get("serviceId")?
            {
                serde_json::Value::String(id) if !id.is_empty() => Some(id.clone()),
                _ => None,
            }
        }
        (_, path) if path.starts_with("/ping/") => ping::service_named(path),
        (_, path) if path.starts_with("/api/push/") => {
            let token = path.strip_prefix("/api/push/")?;
            crate::config::key_secrets(secrets)
                .ok()?
                .push_service(token)
                .map(str::to_string)
        }
        (_, "/api/logs" | "/api/deliveries") if reading => {
            req.query_param("serviceId").filter(|id| !id.is_empty())
        }
        (_, path) if reading => {
            let id = match (
                path.strip_prefix("/services/"),
                path.strip_prefix("/badge/"),
            ) {
                (Some(id), _) => id,
                (_, Some(file)) => file.rsplit_once('.')?.0,
                _ => return None,
            };
            (!id.is_empty() && !id.contains('/')).then(|| id.to_string())
        }
        _ => None,
    }
}

/// 413 for a body over [`MAX_BODY_BYTES`], before any parsing.
pub(crate) fn too_large(req: &Request) -> Option<Response> {
    (req.body.len() > MAX_BODY_BYTES).then(|| {
        Response::error(
            413,
            format!("request body is larger than {MAX_BODY_BYTES} bytes"),
        )
    })
}

/// The query parameter `name` as a positive integer (`None`: absent or empty), or the 400 that
/// says it must be one.
pub(crate) fn positive_param(req: &Request, name: &str) -> Result<Option<usize>, Response> {
    match req.query_param(name).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => match v.parse::<usize>() {
            Ok(n) if n > 0 => Ok(Some(n)),
            _ => Err(Response::error(
                400,
                format!("{name} must be a positive integer"),
            )),
        },
    }
}

/// The body as JSON, or the 400 that says why it is not.
pub(crate) fn json_body(req: &Request) -> Result<serde_json::Value, Response> {
    let text = std::str::from_utf8(&req.body)
        .map_err(|_| Response::error(400, "request body must be UTF-8 JSON"))?;
    serde_json::from_str(text)
        .map_err(|e| Response::error(400, format!("request body is not valid JSON: {e}")))
}

/// When the secret `name` is set, require `Authorization: Bearer <it>` (constant-time);
/// when it is not, the endpoint is public.
pub(crate) fn require_optional_key(
    secrets: &dyn Secrets,
    req: &Request,
    name: &str,
) -> Result<(), Response> {
    let Some(key) = secrets.get(name).filter(|k| !k.is_empty()) else {
        return Ok(());
    };
    let ok = crate::auth::bearer(req.header("authorization"))
        .is_some_and(|t| crate::auth::constant_time_eq(t.as_bytes(), key.as_bytes()));
    if ok {
        Ok(())
    } else {
        Err(Response::error(
            401,
            format!("missing or invalid Authorization: Bearer <{name}>"),
        ))
    }
}

/// Caller-supplied text echoed in an error is clipped, so errors stay short.
pub(crate) fn clip(s: &str) -> String {
    crate::text::shorten(s, 64)
}

/// The answer when a store operation fails — the store is down or unreachable (a lost Redis
/// connection, a locked file). Nothing was acknowledged, so the caller should retry: 503 with
/// `Retry-After`, described without internals.
pub fn storage_failure() -> Response {
    let mut r = Response::error(503, "the key-value store is unavailable; please retry");
    r.headers.push(("retry-after".into(), "1".into()));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_params_are_percent_decoded() {
        let r = Request {
            query: "serviceId=a%2Db&x=1+2&bad=%zz".into(),
            ..Default::default()
        };
        assert_eq!(r.query_param("serviceId").as_deref(), Some("a-b"));
        assert_eq!(r.query_param("x").as_deref(), Some("1 2"));
        assert_eq!(r.query_param("bad").as_deref(), Some("%zz"));
        assert_eq!(r.query_param("missing"), None);
    }

    #[test]
    fn requests_about_one_service_name_it() {
        use std::collections::BTreeMap;
        let secret = "0123456789abcdef0123456789abcdef";
        let secrets = BTreeMap::from([("API_KEY_SECRET".to_string(), secret.to_string())]);
        let hint = |method: &str, path: &str, query: &str, body: &str| {
            let req = Request {
                method: method.into(),
                path: path.into(),
                query: query.into(),
                body: body.as_bytes().to_vec(),
                ..Default::default()
            };
            service_hint(&req, &secrets)
        };
        let push = crate::auth::derived_push_token(secret, "db");
        for (method, path, query, body) in [
            ("POST", "/api/heartbeat", "", r#"{"serviceId": "db"}"#),
            ("GET", "/ping/key/db/fail", "", ""),
            ("GET", &format!("/api/push/{push}"), "", ""),
            ("GET", "/services/db", "", ""),
            ("HEAD", "/badge/db.svg", "", ""),
            ("GET", "/api/logs", "serviceId=db", ""),
            ("GET", "/api/deliveries", "serviceId=db", ""),
        ] {
            assert_eq!(
                hint(method, path, query, body).as_deref(),
                Some("db"),
                "{path}"
            );
        }
        // Requests that need the fleet, or that are malformed, read the whole file.
        for (method, path, query, body) in [
            ("POST", "/api/heartbeat", "", "not json"),
            ("GET", "/api/push/kuma-token", "", ""),
            ("GET", "/api/status", "serviceId=db", ""),
            ("GET", "/", "", ""),
            ("POST", "/api/alert", "", "{}"),
            ("POST", "/api/services/db/pause", "", ""),
            ("GET", "/services/db/x", "", ""),
        ] {
            assert_eq!(hint(method, path, query, body), None, "{path}?{query}");
        }
    }
}
