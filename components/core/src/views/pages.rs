//! The HTML pages: `/` (every service, most urgent first) and `/services/{id}` (one service's
//! history). Askama checks the templates (`components/core/templates`) at compile time and
//! escapes every value, so a service name or heartbeat message can never become markup. Times
//! are rendered server-side ("2 min ago") so the page is complete without JavaScript;
//! `assets/app.js` keeps them live and refreshes the data from `/api/status`.

use super::bar::{bar, Bar, DAYS};
use super::format::{ago, date, duration, iso_seconds, percent, timestamp};
use super::{Board, Counts, Listing, Row};
use crate::layout::DeliveryRecord;
use crate::model::{LogEntry, Note, Transition};
use crate::text::shorten;
use crate::uptime::WINDOWS;
use askama::Template;

/// Longest last message shown on the overview; the detail page shows it whole.
const MESSAGE_CHARS: usize = 120;

/// A moment as the pages show it: machine-readable for `<time datetime>`, absolute for the
/// tooltip, relative for the eye.
#[derive(Debug, Clone)]
struct Moment {
    iso: String,
    abs: String,
    ago: String,
}

impl Moment {
    fn new(at: i64, now: i64) -> Moment {
        Moment {
            iso: iso_seconds(at),
            abs: timestamp(at),
            ago: ago(now, at),
        }
    }
}

struct OverviewRow<'a> {
    id: &'a str,
    name: &'a str,
    status: &'static str,
    last: Option<Moment>,
    flag: Option<&'static str>,
    threshold: String,
    message: String,
    bar: Bar,
    uptime: [String; 4],
}

#[derive(Template)]
#[template(path = "index.html", whitespace = "minimize")]
struct Overview<'q> {
    title: String,
    generated: Moment,
    overall: &'static str,
    headline: String,
    counts: Counts,
    query: &'q str,
    rows: Vec<OverviewRow<'q>>,
    hidden: usize,
    page: usize,
    pages: usize,
    /// `&q=…` for the page links, or nothing without a filter.
    query_param: String,
    windows: Vec<&'static str>,
}

pub fn overview<'q>(board: &'q Board<'_>, listing: &'q Listing) -> String {
    let now = board.now;
    let rows: Vec<OverviewRow> = board
        .rows
        .iter()
        .map(|r| OverviewRow {
            id: &r.service.id,
            name: &r.service.name,
            status: r.shown_status(),
            last: r.last_heartbeat().map(|at| Moment::new(at, now)),
            flag: r.flag(now),
            threshold: duration(r.service.staleness_threshold_secs as i64 * 1000),
            message: r
                .last_message()
                .map(|m| shorten(m, MESSAGE_CHARS))
                .unwrap_or_default(),
            bar: bar(&r.timeline, DAYS),
            uptime: r.uptime.map(percent),
        })
        .collect();
    let headline = board.counts.headline();
    let page = Overview {
        title: format!("{headline} · Heartbeat monitor"),
        generated: Moment::new(now, now),
        overall: board.counts.overall().as_str(),
        headline,
        counts: board.counts,
        query: &listing.query,
        hidden: listing.hidden,
        page: listing.page,
        pages: listing.pages,
        query_param: match listing.query.as_str() {
            "" => String::new(),
            q => format!(
                "&q={}",
                form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
            ),
        },
        rows,
        windows: WINDOWS.iter().map(|(label, _)| *label).collect(),
    };
    // Written into room for every row: grown by doubling, a page of 500 rows (about 280 KB)
    // would copy itself about ten times.
    let mut out = String::with_capacity(8 * 1024 + page.rows.len() * OVERVIEW_ROW_BYTES);
    page.render_into(&mut out)
        .expect("rendering into a String cannot fail");
    out
}

/// Room for one row of the overview: about 560 bytes, more with a message or a troubled bar.
const OVERVIEW_ROW_BYTES: usize = 1024;

struct DayRow {
    date: String,
    status: &'static str,
    uptime: String,
    down: String,
    degraded: String,
}

struct TransitionRow {
    at: Moment,
    from: &'static str,
    to: &'static str,
    reason: &'static str,
    lasted: String,
}

/// A heartbeat or a note (`start`, `log`) in the detail page's history.
struct BeatRow {
    at: Moment,
    kind: &'static str,
    /// Empty for notes, which report no status.
    status: &'static str,
    message: String,
    metadata: Option<String>,
    duration: String,
}

struct DeliveryRow {
    at: Moment,
    event: &'static str,
    channel: String,
    channel_type: String,
    ok: bool,
    http_status: String,
    latency: String,
    attempts: u32,
    error: String,
}

#[derive(Template)]
#[template(path = "service.html", whitespace = "minimize")]
struct Detail {
    title: String,
    generated: Moment,
    id: String,
    name: String,
    status: &'static str,
    since: Option<Moment>,
    last: Option<Moment>,
    threshold: String,
    schedule: String,
    next_due: Option<Moment>,
    late: bool,
    paused_since: Option<Moment>,
    maintenance: bool,
    last_run: Option<String>,
    message: Option<String>,
    metadata: Option<String>,
    windows: Vec<(&'static str, String)>,
    bar: Bar,
    days: Vec<DayRow>,
    transitions: Vec<TransitionRow>,
    beats: Vec<BeatRow>,
    deliveries: Vec<DeliveryRow>,
}

fn pretty(metadata: &serde_json::Map<String, serde_json::Value>) -> String {
    serde_json::to_string_pretty(metadata).unwrap_or_default()
}

/// `GET /services/{id}`: `row` from a board read at `now`, with the service's heartbeat log
/// (newest first), notes, transitions (oldest first, as stored) and delivery log (newest first).
pub fn detail(
    row: &Row<'_>,
    now: i64,
    metadata: Option<&serde_json::Map<String, serde_json::Value>>,
    beats: &[LogEntry],
    notes: &[Note],
    transitions: &[Transition],
    deliveries: &[DeliveryRecord],
) -> String {
    let mut days: Vec<DayRow> = row
        .timeline
        .days(DAYS)
        .into_iter()
        .filter(|d| d.tally.known() > 0)
        .map(|d| DayRow {
            date: date(d.start),
            status: d.tally.worst().as_str(),
            uptime: percent(d.tally.percent()),
            down: if d.tally.down > 0 {
                duration(d.tally.down)
            } else {
                String::new()
            },
            degraded: if d.tally.degraded > 0 {
                duration(d.tally.degraded)
            } else {
                String::new()
            },
        })
        .collect();
    days.reverse();
    let transitions: Vec<TransitionRow> = transitions
        .iter()
        .enumerate()
        .rev()
        .map(|(i, t)| {
            let end = transitions.get(i + 1).map(|next| next.at);
            TransitionRow {
                at: Moment::new(t.at, now),
                from: t.from.as_str(),
                to: t.to.as_str(),
                reason: t.reason.as_str(),
                lasted: match end {
                    Some(end) => duration(end - t.at),
                    None => format!("{} so far", duration(now - t.at)),
                },
            }
        })
        .collect();
    let mut history: Vec<(i64, BeatRow)> = beats
        .iter()
        .map(|b| {
            let row = BeatRow {
                at: Moment::new(b.at, now),
                kind: "heartbeat",
                status: b.status.as_str(),
                message: b.message.clone().unwrap_or_default(),
                metadata: b.metadata.as_ref().filter(|m| !m.is_empty()).map(pretty),
                duration: b.duration_ms.map(duration).unwrap_or_default(),
            };
            (b.at, row)
        })
        .collect();
    history.extend(notes.iter().map(|n| {
        let row = BeatRow {
            at: Moment::new(n.at, now),
            kind: n.kind.as_str(),
            status: "",
            message: n.message.clone().unwrap_or_default(),
            metadata: None,
            duration: String::new(),
        };
        (n.at, row)
    }));
    history.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
    let beats = history.into_iter().map(|(_, row)| row).collect();
    let deliveries = deliveries
        .iter()
        .map(|d| DeliveryRow {
            at: Moment::new(d.at, now),
            event: d.event.as_str(),
            channel: d.channel.clone(),
            channel_type: d.channel_type.clone(),
            ok: d.ok,
            http_status: d.http_status.map(|s| s.to_string()).unwrap_or_default(),
            latency: format!("{} ms", d.latency_ms),
            attempts: d.attempts,
            error: d.error.clone().unwrap_or_default(),
        })
        .collect();
    let state = row.state.as_ref();
    Detail {
        title: format!("{} · Heartbeat monitor", row.service.name),
        generated: Moment::new(now, now),
        id: row.service.id.clone(),
        name: row.service.name.clone(),
        status: row.shown_status(),
        since: row.since.map(|at| Moment::new(at, now)),
        last: row.last_heartbeat().map(|at| Moment::new(at, now)),
        threshold: duration(row.service.staleness_threshold_secs as i64 * 1000),
        schedule: row.service.schedule.describe(),
        next_due: row
            .next_due()
            .filter(|d| *d < i64::MAX)
            .map(|at| Moment::new(at, now)),
        late: row.late(now),
        paused_since: row.paused.map(|p| Moment::new(p.since, now)),
        maintenance: row.maintenance,
        last_run: state.and_then(|s| s.last_duration_ms).map(duration),
        message: row.last_message().map(str::to_string),
        metadata: metadata.filter(|m| !m.is_empty()).map(pretty),
        windows: WINDOWS
            .iter()
            .zip(&row.uptime)
            .map(|((label, _), p)| (*label, percent(*p)))
            .collect(),
        bar: bar(&row.timeline, DAYS),
        days,
        transitions,
        beats,
        deliveries,
    }
    .render()
    .expect("rendering into a String cannot fail")
}
