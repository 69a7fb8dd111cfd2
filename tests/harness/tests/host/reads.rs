//! Reads that stay small at any fleet size: `/api/status` in pages or as a summary, and the
//! overview's pages, over HTTP to heartbeat-host.

use super::support::host;
use heartbeat_conformance::FIXTURE_SERVICES;
use heartbeat_host::kv::AbsentCas;

#[test]
fn api_status_pages_through_every_service_and_sums_up_without_them() {
    let h = host(AbsentCas::Exact);
    h.beat("alpha", "down");
    let whole = h.client.get("/api/status").unwrap().json();
    assert!(whole.get("page").is_none(), "unpaged as before: {whole}");

    let mut listed = Vec::new();
    let mut next = Some("/api/status?limit=3".to_string());
    while let Some(path) = next {
        let page = h.client.get(&path).unwrap().json();
        assert_eq!(page["counts"], whole["counts"], "counts cover the fleet");
        let services = page["services"].as_array().unwrap();
        assert!(services.len() <= 3);
        listed.extend(
            services
                .iter()
                .map(|s| s["id"].as_str().unwrap().to_string()),
        );
        assert_eq!(page["page"]["services"], FIXTURE_SERVICES.len());
        next = page["page"]["next"].as_str().map(str::to_string);
    }
    assert_eq!(
        listed, FIXTURE_SERVICES,
        "every service once, in config order"
    );

    let one = h.client.get("/api/status?serviceId=bravo").unwrap().json();
    let ids: Vec<&str> = one["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["bravo"]);
    assert_eq!(
        h.client.get("/api/status?serviceId=nope").unwrap().status,
        404
    );

    let summary = h.client.get("/api/status?summary=1").unwrap().json();
    assert!(summary.get("services").is_none(), "{summary}");
    assert_eq!(summary["counts"], whole["counts"]);
    assert_eq!(summary["overall"], "down");
    assert_eq!(summary["headline"], whole["headline"]);

    for (query, problem) in [
        ("limit=0", "limit must be a positive integer"),
        ("limit=ten", "limit must be a positive integer"),
        ("limit=2&offset=-1", "offset must be a non-negative integer"),
    ] {
        let r = h.client.get(&format!("/api/status?{query}")).unwrap();
        assert_eq!((r.status, r.error()), (400, problem.to_string()), "{query}");
    }
}

/// The whole-fleet views read each state without its metadata (up to 4 KiB a service that
/// none of them shows); the service's own page still shows it, and nothing else is lost.
#[test]
fn a_heartbeats_metadata_shows_on_its_page_and_the_fleet_views_keep_the_rest() {
    let h = host(AbsentCas::Exact);
    let beat = serde_json::json!({
        "serviceId": "alpha",
        "status": "up",
        "message": "backup done",
        "metadata": { "files": 1234, "target": "s3-eu-backups" },
    });
    let key = heartbeat_conformance::fixture_key("alpha");
    assert_eq!(h.client.beat(&key, &beat).unwrap().status, 200);

    let page = h.client.get("/services/alpha").unwrap().body;
    assert!(page.contains("s3-eu-backups"), "{page}");
    assert!(page.contains("1234"), "{page}");

    let status = h.client.get("/api/status?serviceId=alpha").unwrap().json();
    let row = &status["services"][0];
    assert_eq!(row["status"], "up", "{row}");
    assert_eq!(row["lastMessage"], "backup done", "{row}");
    assert!(row["lastHeartbeat"].is_string(), "{row}");
    let overview = h.client.get("/").unwrap().body;
    assert!(overview.contains("backup done"), "{overview}");
    assert!(!overview.contains("s3-eu-backups"), "{overview}");
}

#[test]
fn the_overview_refuses_a_page_that_is_not_a_number() {
    let h = host(AbsentCas::Exact);
    for page in ["0", "two"] {
        let r = h.client.get(&format!("/?page={page}")).unwrap();
        assert_eq!(r.status, 400, "{page}");
        assert_eq!(r.error(), "page must be a positive integer");
    }
    let r = h.client.get("/?page=9").unwrap();
    assert_eq!(r.status, 200, "past the end shows the last page");
    assert!(!r.body.contains("rel=\"next\""), "one page: no page links");
}

/// A fleet of 10,000 services through the real path: heartbeats with derived keys, the sweep,
/// `/api/status` by page and in summary, and the overview's first page under 1 MB.
#[test]
fn ten_thousand_services_beat_sweep_and_show() {
    use heartbeat_core::auth::derived_key;
    use serde_json::json;
    const SECRET: &str = "ten-thousand-0123456789abcdef0123456789";
    let services: Vec<_> = (0..10_000)
        .map(|i| json!({ "id": format!("svc-{i:05}"), "stalenessThreshold": 60 }))
        .collect();
    let dir = super::support::config_dir(
        "ten-thousand",
        &json!({ "services": services }),
        &json!({ "channels": [] }),
    );
    let h = super::support::host_with(AbsentCas::Exact, |o| {
        o.config_dir = Some(dir.clone());
        o.variables.insert("api_key_secret".into(), SECRET.into());
    });
    for i in [0, 4_999, 9_999] {
        let id = format!("svc-{i:05}");
        let r = h
            .client
            .beat(&derived_key(SECRET, &id), &json!({ "serviceId": id }))
            .unwrap();
        assert_eq!(r.status, 200, "{id}: {}", r.body);
    }
    let summary = h.client.get("/api/status?summary=1").unwrap().json();
    assert_eq!(summary["counts"]["total"], 10_000);
    assert_eq!(summary["counts"]["up"], 3);

    h.advance(120);
    let report = h.sweep();
    assert_eq!(report["checked"], 10_000, "{report}");
    assert_eq!(report["transitions"].as_array().unwrap().len(), 3);
    let summary = h.client.get("/api/status?summary=1").unwrap().json();
    assert_eq!(summary["counts"]["down"], 3, "the sweep saw the silence");

    let page = h
        .client
        .get("/api/status?limit=100&offset=9950")
        .unwrap()
        .json();
    assert_eq!(page["services"].as_array().unwrap().len(), 50);
    assert_eq!(page["page"]["next"], serde_json::Value::Null);
    let overview = h.client.get("/").unwrap();
    assert_eq!(overview.status, 200);
    assert!(
        overview.body.len() < 1024 * 1024,
        "the overview weighs {} bytes",
        overview.body.len()
    );
    assert!(overview.body.contains("page 1 of 20"));
    assert!(overview.body.contains("3 services down"), "the headline");
    // One service's pages read that service's configuration alone.
    for path in [
        "/services/svc-04999",
        "/badge/svc-04999.svg",
        "/api/logs?serviceId=svc-04999",
        "/api/deliveries?serviceId=svc-04999",
    ] {
        assert_eq!(h.client.get(path).unwrap().status, 200, "{path}");
    }
    let detail = h.client.get("/services/svc-04999").unwrap();
    assert!(detail.body.contains("svc-04999"), "{}", detail.body);
    assert_eq!(h.client.get("/services/svc-10000").unwrap().status, 404);
}

/// Spin's default store answers a batch read with the keys that exist, in key order, whatever
/// order they were asked in (heartbeat-host's SQLite store does the same): the fleet's rows
/// still line up with their services when services.json lists them out of that order and some
/// were never heard from.
#[test]
fn batch_reads_line_up_when_the_store_answers_in_key_order() {
    use heartbeat_core::auth::derived_key;
    use serde_json::json;
    const SECRET: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
    let ids = ["zulu", "alpha", "mike", "bravo"];
    let services = json!({ "services": ids.map(|id| json!({ "id": id })) });
    let dir = super::support::config_dir("key-order", &services, &json!({ "channels": [] }));
    let h = super::support::host_with(AbsentCas::Exact, |o| {
        o.config_dir = Some(dir.clone());
        o.store = heartbeat_host::StoreChoice::Sqlite(dir.join("store.db"));
        o.variables.insert("api_key_secret".into(), SECRET.into());
    });
    for (id, status) in [("zulu", "down"), ("mike", "up")] {
        h.beat_with(&derived_key(SECRET, id), id, status);
    }
    let page = h.client.get("/api/status").unwrap().json();
    let rows: Vec<(&str, &str)> = page["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["id"].as_str().unwrap(), s["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        rows,
        [
            ("zulu", "down"),
            ("alpha", "unknown"),
            ("mike", "up"),
            ("bravo", "unknown")
        ]
    );
    let metrics = h.client.get("/metrics").unwrap().body;
    assert!(
        metrics.contains("heartbeat_up{service=\"mike\"} 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("heartbeat_up{service=\"zulu\"} 0\n"),
        "{metrics}"
    );
}
