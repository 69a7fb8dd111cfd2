//! Rendering from a store filled through the real write path (`Layout::record_heartbeat`), so
//! the pages, badges and metrics are tested against the states the state machine produces.

use super::badge::{self, Metric};
use super::{metrics, pages, Board, Listing, PAGE_ROWS};
use crate::clock::ManualClock;
use crate::config::Config;
use crate::layout::{DeliveryRecord, Layout, Rules};
use crate::model::{Event, LogEntry, Status};
use crate::state::Policy;
use crate::store::MemoryStore;
use serde_json::{json, Value};

const NOW: i64 = 1_764_000_000_000;
const MIN: i64 = 60_000;
const LAYOUT: Layout = Layout {
    max_log_entries: 100,
};

fn config(services: Value) -> Config {
    Config::parse(
        &json!({ "services": services }).to_string(),
        r#"{"enabled": false, "channels": []}"#,
    )
    .unwrap()
}

fn beat(store: &MemoryStore, id: &str, at: i64, status: Status, message: &str, meta: Value) {
    beat_within(300, store, id, at, status, message, meta);
}

/// A heartbeat recorded with a staleness threshold of `threshold_secs`: a long one records
/// history without silences in between (`/api/status`'s tests build their fleet with it too).
pub(crate) fn beat_within(
    threshold_secs: u64,
    store: &MemoryStore,
    id: &str,
    at: i64,
    status: Status,
    message: &str,
    meta: Value,
) {
    let schedule = crate::schedule::Schedule::threshold(threshold_secs);
    let rules = Rules {
        schedule: &schedule,
        policy: Policy {
            cooldown_ms: 0,
            quiet: false,
        },
        wanted: &|_| true,
    };
    let entry = LogEntry::new(at, status, Some(message.into()), meta.as_object().cloned());
    LAYOUT
        .record_heartbeat(store, &ManualClock::at(at), id, entry, &rules)
        .unwrap();
}

fn board<'a>(store: &MemoryStore, cfg: &'a Config) -> Board<'a> {
    Board::read(store, &LAYOUT, &cfg.services, &cfg.maintenance, NOW).unwrap()
}

/// The overview's page `page` for the filter `query`, read as the dashboard reads it.
fn overview(store: &MemoryStore, cfg: &Config, query: &str, page: usize) -> String {
    let mut listing = Listing::new(query, page);
    let board = Board::read_selected(store, &LAYOUT, &cfg.services, &cfg.maintenance, NOW, |g| {
        listing.select(g)
    })
    .unwrap();
    pages::overview(&board, &listing)
}

fn rows_in(page: &str) -> usize {
    page.matches("<tr data-status=").count()
}

#[test]
fn an_empty_configuration_says_how_to_add_services() {
    let cfg = config(json!([]));
    let page = overview(&MemoryStore::default(), &cfg, "", 1);
    assert!(page.contains("No services configured"), "{page}");
    assert!(page.contains("config/services.json"));
    assert_eq!(rows_in(&page), 0);
}

#[test]
fn one_service_shows_status_last_beat_message_and_uptime() {
    let cfg = config(json!([{ "id": "backup", "name": "Nightly backup" }]));
    let store = MemoryStore::default();
    beat(
        &store,
        "backup",
        NOW - 2 * MIN,
        Status::Up,
        "42 GB copied",
        json!({}),
    );
    let page = overview(&store, &cfg, "", 1);
    assert_eq!(rows_in(&page), 1);
    assert!(
        page.contains(r#"<tr data-status="up"><th><a href="/services/backup">"#),
        "{page}"
    );
    assert!(page.contains(r#"<a href="/services/backup">Nightly backup</a>"#));
    assert!(page.contains(">2 min ago</time>"));
    assert!(page.contains(r#"datetime="2025-11-24T15:58:00Z""#));
    assert!(page.contains("<td>42 GB copied"));
    assert!(page.contains("<td>5 min"), "threshold");
    assert!(page.contains("<td>100%<td>100%<td>100%<td>100%"));
    assert!(page.contains("All services operational"));
    // 89 days without data, then today.
    assert!(page.contains(r#"<i class="b-none s89""#));
    assert!(page.contains(r#"<i class="b-up s1" title="2025-11-24 (today): 100% up">"#));
}

#[test]
fn a_thousand_services_render_most_urgent_first_and_small() {
    let services: Vec<Value> = (0..1000)
        .map(|i| json!({ "id": format!("svc-{i:04}"), "name": format!("Service {i:04}") }))
        .collect();
    let cfg = config(Value::Array(services));
    let store = MemoryStore::default();
    // A realistic month: every service beating since 30 days ago; one in ten had a two-hour
    // outage last week; a few are down or degraded now; one in fifty never reported.
    const DAY: i64 = 86_400_000;
    for i in 0..1000 {
        let id = format!("svc-{i:04}");
        if i % 50 == 49 {
            continue;
        }
        let quiet = |at, status| beat_within(40 * 86_400, &store, &id, at, status, "ok", json!({}));
        quiet(NOW - 30 * DAY, Status::Up);
        if i % 10 == 5 {
            quiet(NOW - 7 * DAY, Status::Down);
            quiet(NOW - 7 * DAY + 2 * 3_600_000, Status::Up);
        }
        let status = match i % 100 {
            0 => Status::Down,
            1 => Status::Degraded,
            _ => Status::Up,
        };
        let message = "nightly job finished";
        beat_within(
            40 * 86_400,
            &store,
            &id,
            NOW - MIN,
            status,
            message,
            json!({}),
        );
    }
    let board = board(&store, &cfg);
    assert_eq!(
        (
            board.counts.down,
            board.counts.degraded,
            board.counts.unknown
        ),
        (10, 10, 20)
    );
    let statuses = |page: &str| -> Vec<String> {
        page.split("<tr data-status=\"")
            .skip(1)
            .map(|row| row.split('"').next().unwrap().to_string())
            .collect()
    };
    let rank = |s: &String| {
        ["down", "degraded", "unknown", "up"]
            .iter()
            .position(|x| x == s)
    };
    let first = overview(&store, &cfg, "", 1);
    let second = overview(&store, &cfg, "", 2);
    let shown: Vec<String> = [statuses(&first), statuses(&second)].concat();
    assert_eq!(shown.len(), 1000, "two pages of {PAGE_ROWS}");
    assert!(shown.windows(2).all(|w| rank(&w[0]) <= rank(&w[1])));
    assert_eq!(shown[0], "down");
    for page in [&first, &second] {
        assert!(page.contains("10 services down"), "counts cover the fleet");
        assert!(page.len() < 500 * 1024, "page weighs {} bytes", page.len());
    }
    assert!(first.contains("page 1 of 2") && first.contains(r#"href="/?page=2" rel="next""#));
    assert!(second.contains(r#"href="/?page=1" rel="prev""#));
    assert_eq!(
        statuses(&overview(&store, &cfg, "", 7)),
        statuses(&second),
        "past the end: the last page"
    );
}

#[test]
fn the_filter_hides_rows_server_side() {
    let cfg = config(json!([{ "id": "web" }, { "id": "db", "name": "Database" }]));
    let page = overview(&MemoryStore::default(), &cfg, "data", 1);
    assert_eq!(rows_in(&page), 1);
    assert!(page.contains("1 hidden by the filter"));
    assert!(page.contains(r#"value="data""#));
}

const HOSTILE: &str = r#"<img src=x onerror="alert(1)"></script><script>alert(2)</script>"#;

#[test]
fn user_supplied_strings_are_escaped_everywhere() {
    let cfg = config(json!([{ "id": "evil", "name": HOSTILE }]));
    let store = MemoryStore::default();
    beat(
        &store,
        "evil",
        NOW - MIN,
        Status::Down,
        HOSTILE,
        json!({ HOSTILE: HOSTILE }),
    );
    let board = board(&store, &cfg);
    let overview = overview(&store, &cfg, HOSTILE, 1);
    let beats = LAYOUT.log(&store, "evil").unwrap();
    let metadata = LAYOUT.metadata(&store, "evil").unwrap();
    assert!(metadata.as_ref().is_some_and(|m| m.contains_key(HOSTILE)));
    let detail = pages::detail(
        &board.rows[0],
        NOW,
        metadata.as_ref(),
        &beats,
        &[],
        &[],
        &[],
    );
    let svg = badge::svg(&badge::badge(&board.rows[0], Metric::Status, None));
    for (what, text) in [
        ("overview", &overview),
        ("detail", &detail),
        ("badge", &svg),
    ] {
        assert!(!text.contains("<img"), "{what} has raw markup");
        assert!(!text.contains("<script>alert"), "{what} has a raw script");
        assert!(!text.contains("</script><"), "{what} closes a script");
        assert!(
            text.contains("&#60;img src=x onerror=&#34;alert(1)&#34;&#62;")
                || text.contains("&lt;img"),
            "{what}: {text}"
        );
    }
}

#[test]
fn the_detail_page_lists_transitions_beats_and_deliveries() {
    let cfg = config(json!([{ "id": "api", "name": "API" }]));
    let store = MemoryStore::default();
    beat_within(
        3600,
        &store,
        "api",
        NOW - 60 * MIN,
        Status::Up,
        "fine",
        json!({ "version": "1.2.3" }),
    );
    beat_within(
        3600,
        &store,
        "api",
        NOW - 30 * MIN,
        Status::Down,
        "disk full",
        json!({}),
    );
    let delivery = DeliveryRecord {
        at: NOW - 29 * MIN,
        event: Event::Down,
        transition_at: NOW - 30 * MIN,
        channel: "ops-webhook".into(),
        channel_type: "webhook".into(),
        ok: false,
        http_status: Some(503),
        latency_ms: 118,
        attempts: 3,
        error: Some("HTTP 503 from the receiver".into()),
        tries: Vec::new(),
    };
    LAYOUT
        .record_deliveries(
            &store,
            &ManualClock::at(NOW),
            "api",
            std::slice::from_ref(&delivery),
        )
        .unwrap();
    let board = board(&store, &cfg);
    let log = LAYOUT
        .transition_logs(&store, &["api"])
        .unwrap()
        .pop()
        .unwrap();
    let beats = LAYOUT.log(&store, "api").unwrap();
    let deliveries = LAYOUT.deliveries(&store, "api").unwrap();
    let page = pages::detail(
        &board.rows[0],
        NOW,
        None,
        &beats,
        &[],
        &log.transitions,
        &deliveries,
    );
    assert!(
        page.contains("<h1>API <b class=\"pill\">down</b></h1>"),
        "{page}"
    );
    assert!(page.contains("up → <b class=\"pill\">down</b>"));
    assert!(page.contains("30 min so far"));
    assert!(page.contains("disk full"));
    assert!(
        page.contains("&#34;version&#34;: &#34;1.2.3&#34;") || page.contains("&quot;version&quot;")
    );
    assert!(page.contains("ops-webhook <span class=\"muted\">webhook</span>"));
    assert!(page.contains("<b class=\"outcome\">failed</b>"));
    assert!(page.contains("<td class=\"num\">118 ms</td><td class=\"num\">3</td>"));
    assert!(page.contains("HTTP 503 from the receiver"));
}

#[test]
fn badges_are_well_formed_svg_with_the_status_or_uptime() {
    let cfg = config(json!([{ "id": "web", "name": "Web & \"API\"" }]));
    let store = MemoryStore::default();
    for (at, status) in [
        (NOW - 2 * 86_400_000, Status::Up),
        (NOW - 86_400_000, Status::Down),
        (NOW - 86_400_000 + 3_600_000, Status::Up),
        (NOW - MIN, Status::Up),
    ] {
        beat_within(3 * 86_400, &store, "web", at, status, "", json!({}));
    }
    let board = board(&store, &cfg);
    let row = &board.rows[0];

    let status = badge::badge(row, Metric::Status, None);
    assert_eq!(
        (status.message.as_str(), status.color),
        ("up", "brightgreen")
    );
    let svg = badge::svg(&status);
    let doc = roxmltree::Document::parse(&svg).expect("badge is XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    let width: u32 = root.attribute("width").unwrap().parse().unwrap();
    let texts: Vec<&str> = root
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text())
        .collect();
    assert_eq!(texts, ["Web & \"API\"", "Web & \"API\"", "up", "up"]);
    let rects: Vec<u32> = root
        .descendants()
        .filter(|n| {
            n.has_tag_name("rect")
                && n.attribute("fill")
                    .is_some_and(|f| f.starts_with('#') && f != "#fff")
        })
        .map(|n| n.attribute("width").unwrap().parse().unwrap())
        .collect();
    assert_eq!(rects.iter().sum::<u32>(), width);

    let uptime = badge::badge(
        row,
        Metric::parse(Some("uptime30d")).unwrap(),
        Some("uptime"),
    );
    // 1 h down in 48 h known.
    assert_eq!(uptime.message, "97.91%");
    assert_eq!(uptime.label, "uptime");
    assert_eq!(uptime.color, "yellow");
    let json = badge::shields(&uptime);
    assert_eq!(json["schemaVersion"], 1);
    assert_eq!(json["message"], "97.91%");
    assert!(Metric::parse(Some("uptime1y")).is_err());
}

#[test]
fn metrics_parse_as_prometheus_text() {
    let cfg = config(json!([
        { "id": "web", "name": "Web \"front\"\\end" },
        { "id": "db" },
        { "id": "off", "enabled": false },
        { "id": "half" }
    ]));
    let store = MemoryStore::default();
    beat(&store, "web", NOW - MIN, Status::Degraded, "", json!({}));
    beat(&store, "half", NOW - 3 * MIN, Status::Up, "", json!({}));
    beat(&store, "half", NOW - MIN, Status::Down, "", json!({}));
    let delivery = |ok| DeliveryRecord {
        at: NOW,
        event: Event::Degraded,
        transition_at: NOW - MIN,
        channel: "team-slack".into(),
        channel_type: "slack".into(),
        ok,
        http_status: Some(200),
        latency_ms: 5,
        attempts: 1,
        error: None,
        tries: Vec::new(),
    };
    LAYOUT
        .record_deliveries(
            &store,
            &ManualClock::at(NOW),
            "web",
            &[delivery(true), delivery(false), delivery(true)],
        )
        .unwrap();
    let board = board(&store, &cfg);
    let text = metrics::render(&board);
    assert!(
        text.contains("heartbeat_uptime_ratio{service=\"half\",window=\"24h\"} 0.66666\n"),
        "two minutes up of three, written exactly: {text}"
    );
    let scrape =
        prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).expect("parses");
    let value = |name: &str, labels: &[(&str, &str)]| -> Option<f64> {
        scrape
            .samples
            .iter()
            .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
            .map(|s| match s.value {
                prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Untyped(v) => v,
                _ => f64::NAN,
            })
    };
    assert_eq!(value("heartbeat_up", &[("service", "web")]), Some(1.0));
    assert_eq!(value("heartbeat_up", &[("service", "db")]), Some(0.0));
    assert_eq!(
        value("heartbeat_up", &[("service", "off")]),
        None,
        "disabled services are not listed"
    );
    assert_eq!(
        value(
            "heartbeat_status",
            &[("service", "web"), ("status", "degraded")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value("heartbeat_status", &[("service", "web"), ("status", "up")]),
        Some(0.0)
    );
    assert_eq!(
        value(
            "heartbeat_status",
            &[("service", "db"), ("status", "unknown")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            "heartbeat_last_seen_timestamp_seconds",
            &[("service", "web")]
        ),
        Some((NOW - MIN) as f64 / 1000.0)
    );
    assert_eq!(
        value(
            "heartbeat_last_seen_timestamp_seconds",
            &[("service", "db")]
        ),
        None
    );
    assert_eq!(
        value(
            "heartbeat_staleness_threshold_seconds",
            &[("service", "db")]
        ),
        Some(300.0)
    );
    assert_eq!(
        value(
            "heartbeat_uptime_ratio",
            &[("service", "web"), ("window", "24h")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            "heartbeat_notifications_total",
            &[
                ("service", "web"),
                ("channel", "team-slack"),
                ("outcome", "delivered")
            ]
        ),
        Some(2.0)
    );
    assert_eq!(
        value(
            "heartbeat_notifications_total",
            &[
                ("service", "web"),
                ("channel", "team-slack"),
                ("outcome", "failed")
            ]
        ),
        Some(1.0)
    );
    assert_eq!(
        value("heartbeat_services", &[("status", "unknown")]),
        Some(1.0)
    );
    assert_eq!(
        value(
            "heartbeat_service_info",
            &[("service", "web"), ("name", "Web \\\"front\\\"\\\\end")]
        )
        .or(value(
            "heartbeat_service_info",
            &[("service", "web"), ("name", "Web \"front\"\\end")]
        )),
        Some(1.0)
    );
    assert!(matches!(
        scrape.docs.get("heartbeat_up").map(String::as_str),
        Some(doc) if doc.starts_with("1 when")
    ));
}
