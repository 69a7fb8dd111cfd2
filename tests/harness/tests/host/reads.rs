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
