//! Healthchecks-compatible ping URLs, so existing scripts work unchanged:
//!
//! ```text
//! GET|POST|HEAD /ping/{PING_KEY}/{service-id}            success (up)
//!               /ping/{PING_KEY}/{service-id}/fail       failure (down)
//!               /ping/{PING_KEY}/{service-id}/{0-255}    exit status: 0 success, else failure
//!               /ping/{PING_KEY}/{service-id}/start      a run began (measures its duration)
//!               /ping/{PING_KEY}/{service-id}/log        a message; changes nothing
//! ```
//!
//! `?rid=` pairs a `/start` with its finish when runs overlap. The request body becomes the
//! message: the first `PING_BODY_LIMIT` bytes (default 10,000) are read, and like every form's
//! message at most `MAX_MESSAGE_CHARS` (1,024) characters are kept. The answer is
//! `OK` in plain text, as Healthchecks answers. `PING_KEY` is compared in constant time; the
//! slug is the service id (services come from `services.json`, so pings never create one).
//! Reference: <https://healthchecks.io/docs/http_api/>.

use super::{clip, storage_failure, Context, Request, Response};
use crate::auth::constant_time_eq;
use crate::limits::MAX_MESSAGE_CHARS;
use crate::model::{LogEntry, Note, NoteKind, Status};
use crate::store::Store;
use crate::text::shorten;
use serde_json::{json, Map};

/// What a ping URL reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signal {
    Success,
    Fail,
    Exit(u8),
    Start,
    Log,
}

/// `/ping/{key}/{slug}[/{signal}]` → its parts, or `None` for any other shape.
/// The service a ping URL names, if it is a ping URL.
pub(super) fn service_named(path: &str) -> Option<String> {
    parse_path(path).map(|(_, slug, _)| slug.to_string())
}

fn parse_path(path: &str) -> Option<(&str, &str, Signal)> {
    let mut parts = path.strip_prefix("/ping/")?.split('/');
    let key = parts.next().filter(|k| !k.is_empty())?;
    let slug = parts.next().filter(|s| !s.is_empty())?;
    let signal = match parts.next() {
        None | Some("") => Signal::Success,
        Some("fail") => Signal::Fail,
        Some("start") => Signal::Start,
        Some("log") => Signal::Log,
        Some(code)
            if !code.is_empty() && code.len() <= 3 && code.bytes().all(|b| b.is_ascii_digit()) =>
        {
            Signal::Exit(code.parse().ok()?)
        }
        Some(_) => return None,
    };
    parts.next().is_none().then_some((key, slug, signal))
}

/// The body as text, read up to `limit` bytes (cut on a character boundary) and kept to the
/// message limit every form shares; `None` if empty.
fn body_text(body: &[u8], limit: usize) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let mut end = text.len().min(limit);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let text = text[..end].trim_end();
    (!text.is_empty()).then(|| shorten(text, MAX_MESSAGE_CHARS))
}

fn ok() -> Response {
    Response::body("text/plain; charset=utf-8", "no-store", "OK")
}

pub async fn ping<S: Store>(ctx: &Context<'_, S>, req: &Request) -> Response {
    if !matches!(req.method.as_str(), "GET" | "POST" | "HEAD") {
        return Response::method_not_allowed("GET, POST, HEAD");
    }
    if let Some(r) = super::too_large(req) {
        return r;
    }
    let Some((key, slug, signal)) = parse_path(&req.path) else {
        return Response::error(
            404,
            "ping URLs are /ping/{PING_KEY}/{service-id} with an optional /start, /fail, /log or /{exit status 0-255}",
        );
    };
    let Some(expected) = ctx.secrets.get("PING_KEY").filter(|k| !k.is_empty()) else {
        return Response::error(
            404,
            "ping URLs are off: set the PING_KEY secret to use them",
        );
    };
    if !constant_time_eq(key.as_bytes(), expected.as_bytes()) {
        return Response::error(401, "invalid ping key");
    }
    let Some(service) = ctx.config.service(slug) else {
        let hint = if req.query_param("create").is_some() {
            ": services are defined in config/services.json (validated at start-up, with their keys), so a ping never creates one"
        } else {
            ""
        };
        return Response::error(404, format!("unknown service \"{}\"{hint}", clip(slug)));
    };
    let now = ctx.clock.now_ms();
    let rid = req
        .query_param("rid")
        .filter(|r| !r.is_empty())
        .map(|r| clip(&r));
    let message = body_text(&req.body, ctx.settings.ping_body_limit);
    let layout = ctx.layout();

    let (status, message, metadata) = match signal {
        Signal::Start | Signal::Log => {
            let kind = if signal == Signal::Start {
                NoteKind::Start
            } else {
                NoteKind::Log
            };
            let note = Note {
                at: now,
                kind,
                message,
                rid,
            };
            let recorded = layout
                .record_note(ctx.store, ctx.clock, &service.id, note)
                .and_then(|()| match kind {
                    NoteKind::Start => layout.record_start(ctx.store, ctx.clock, &service.id, now),
                    NoteKind::Log => Ok(()),
                });
            return match recorded {
                Ok(()) => ok(),
                Err(_) => storage_failure(),
            };
        }
        Signal::Success | Signal::Exit(0) => (Status::Up, message, None),
        Signal::Fail => (Status::Down, message, None),
        Signal::Exit(code) => {
            let mut m = Map::new();
            m.insert("exitStatus".into(), json!(code));
            (
                Status::Down,
                message.or_else(|| Some(format!("exit status {code}"))),
                Some(m),
            )
        }
    };
    let mut entry = LogEntry::new(now, status, message, metadata);
    entry.duration_ms = match run_duration(ctx, &service.id, rid.as_deref(), now) {
        Ok(d) => d,
        Err(r) => return r,
    };
    entry.rid = rid;
    match super::accept::accept(ctx, service, entry).await {
        Ok(()) => ok(),
        Err(r) => r,
    }
}

/// How long the run this finish completes took: from the newest `/start` with the same `rid`,
/// or without a `rid`, the newest plain `/start` since the previous finish.
fn run_duration<S: Store>(
    ctx: &Context<'_, S>,
    id: &str,
    rid: Option<&str>,
    now: i64,
) -> Result<Option<i64>, Response> {
    let layout = ctx.layout();
    let notes = layout.notes(ctx.store, id).map_err(|_| storage_failure())?;
    let starts = notes
        .iter()
        .rev()
        .filter(|n| n.kind == NoteKind::Start && n.rid.as_deref() == rid && n.at <= now);
    let start = match rid {
        Some(_) => starts.into_iter().next(),
        None => {
            let states = layout
                .states(ctx.store, &[id])
                .map_err(|_| storage_failure())?;
            let last_finish = states[0].as_ref().map(|s| s.last_heartbeat);
            starts
                .into_iter()
                .next()
                .filter(|s| Some(s.at) > last_finish || last_finish.is_none())
        }
    };
    Ok(start.map(|s| now - s.at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ping_paths_parse_as_healthchecks_documents_them() {
        for (suffix, signal) in [
            ("", Signal::Success),
            ("/", Signal::Success),
            ("/fail", Signal::Fail),
            ("/start", Signal::Start),
            ("/log", Signal::Log),
            ("/0", Signal::Exit(0)),
            ("/255", Signal::Exit(255)),
        ] {
            let path = format!("/ping/k/backup{suffix}");
            assert_eq!(parse_path(&path), Some(("k", "backup", signal)), "{path}");
        }
        for path in [
            "/ping/k/backup/256",
            "/ping/k/backup/-1",
            "/ping/k/backup/fail/x",
            "/ping/k",
            "/ping//backup",
        ] {
            assert_eq!(parse_path(path), None, "{path}");
        }
    }

    #[test]
    fn bodies_are_cut_on_a_character_boundary() {
        assert_eq!(body_text(b"", 10), None);
        assert_eq!(body_text(b"  \n", 10), None);
        assert_eq!(body_text("héllo".as_bytes(), 3).as_deref(), Some("hé"));
        assert_eq!(body_text("héllo".as_bytes(), 2).as_deref(), Some("h"));
        assert_eq!(body_text(b"tar: done\n", 100).as_deref(), Some("tar: done"));
        let long = "é".repeat(MAX_MESSAGE_CHARS + 1);
        let kept = body_text(long.as_bytes(), 10_000).unwrap();
        assert_eq!(kept.chars().count(), MAX_MESSAGE_CHARS);
        assert!(kept.ends_with('…'));
    }
}
