//! Notifier components of the user's own (docs/EXTENDING.md), the examples under
//! `examples/notifier-*` built from source: wired into spin.toml's `extra-notifier` slot, each
//! gets every event after our channels, its deliveries land in the delivery log, and a failing,
//! trapping or malformed one never costs a heartbeat or our channels' deliveries.

use super::support::{loopback_manifest, root, TestHost, WEBHOOK_URL};
use heartbeat_host::kv::AbsentCas;
use heartbeat_host::manifest::ManifestSource;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The Rust example, built by heartbeat-host's build.rs.
fn rust_example() -> PathBuf {
    PathBuf::from(heartbeat_host::COMPONENTS_DIR).join("example_notifier_rust.wasm")
}

/// The JavaScript example, built with its pinned componentize-js (once per test process).
#[cfg(not(missing_componentize_js))]
fn js_example() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let dir = root().join("examples/notifier-js");
            let out =
                std::env::temp_dir().join(format!("hb-js-notifier-{}.wasm", std::process::id()));
            let status = std::process::Command::new("npm")
                .args(["run", "--silent", "build", "--", "--out"])
                .arg(&out)
                .current_dir(&dir)
                .status()
                .expect("cannot run npm");
            assert!(status.success(), "building examples/notifier-js failed");
            out
        })
        .clone()
}

/// The loopback manifest with `source` as the component `name` in every HTTP component's
/// `extra-notifier` slot, and `variable` declared for it (inherited configuration).
fn manifest_with(name: &str, source: &Path, variable: &str) -> PathBuf {
    let mut m = std::fs::read_to_string(loopback_manifest()).unwrap();
    let slot = r#""heartbeat:monitor/extra-notifier" = { component = "notifiers" }"#;
    assert_eq!(
        m.matches(slot).count(),
        3,
        "spin.toml's extra-notifier slots changed"
    );
    m = m.replace(
        slot,
        &format!(
            r#""heartbeat:monitor/extra-notifier" = {{ component = "{name}", export = "heartbeat:monitor/notifier@1.0.0" }}"#
        ),
    );
    m = m.replace(
        "[variables]\n",
        &format!("[variables]\n{variable} = {{ default = \"\", secret = true }}\n"),
    );
    for c in ["ingest", "sweep", "dashboard"] {
        let table = format!("[component.{c}.variables]\n");
        assert!(m.contains(&table), "no {table}");
        m = m.replace(
            &table,
            &format!("{table}{variable} = \"{{{{ {variable} }}}}\"\n"),
        );
    }
    m.push_str(&format!(
        "\n[component.{name}]\nsource = \"{}\"\n",
        source.display()
    ));
    let dir = std::env::temp_dir().join(format!("hb-own-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("spin.toml");
    std::fs::write(&path, m).unwrap();
    path
}

fn host_with_notifier(name: &str, source: &Path, variable: &str, url: &str) -> TestHost {
    let manifest = manifest_with(name, source, variable);
    super::support::host_with(AbsentCas::Exact, |o| {
        o.manifest = ManifestSource::File(manifest);
        o.variables.insert(variable.into(), url.into());
        // Short, so a notifier that hangs is given up on quickly (its deadline is 3×).
        o.variables.insert("request_timeout".into(), "1000".into());
    })
}

/// Down through a sweep: the sweep's deliveries, and the delivery log's entries.
fn go_down(h: &TestHost) -> (Vec<Value>, Vec<Value>) {
    h.beat("alpha", "up");
    h.advance(61);
    let sweep = h.sweep();
    let told = sweep["transitions"][0]["deliveries"]
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("no deliveries in {sweep}"));
    let r = h.client.get("/api/deliveries?serviceId=alpha").unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    (told, r.json()["entries"].as_array().cloned().unwrap())
}

fn entry<'a>(log: &'a [Value], channel: &str) -> &'a Value {
    log.iter()
        .find(|d| d["channel"] == channel)
        .unwrap_or_else(|| panic!("no delivery for {channel} in {log:?}"))
}

/// Our webhook channel was told (the receiver got it at the configured URL's path).
fn webhook_told(h: &TestHost) -> bool {
    let path = WEBHOOK_URL.split_once(".invalid").unwrap().1;
    h.receiver
        .received_at(path)
        .iter()
        .any(|r| r.json()["event"] == "down")
}

#[test]
fn the_rust_example_gets_every_event_after_our_channels() {
    let h = host_with_notifier(
        "rust-notifier",
        &rust_example(),
        "rust_notifier_url",
        "http://127.0.0.1:9/own/rust",
    );
    let (told, log) = go_down(&h);
    assert_eq!(told.len(), 2, "ours and the extra notifier: {told:?}");
    assert_eq!(told[0]["channel"], "ops-webhook", "ours go first");
    assert_eq!(told[1]["channel"], "rust-notifier");
    assert_eq!(told[1]["ok"], true, "{told:?}");
    let d = entry(&log, "rust-notifier");
    assert_eq!(d["ok"], true, "{d}");
    assert_eq!(d["httpStatus"], 200, "{d}");
    assert!(webhook_told(&h));

    let got = h.receiver.received_at("/own/rust");
    assert_eq!(got.len(), 1, "one post per event");
    let body = got[0].json();
    assert_eq!(body["event"], "down");
    assert_eq!(body["service"]["id"], "alpha");
    assert!(
        body["eventId"]
            .as_str()
            .is_some_and(|id| id.contains("alpha")),
        "{body}"
    );
    assert_eq!(
        got[0].header("content-length"),
        Some(&*got[0].body.len().to_string())
    );

    // The recovery is told too, by both.
    h.beat("alpha", "up");
    assert_eq!(
        h.receiver
            .wait_for(4, std::time::Duration::from_secs(5))
            .len(),
        4
    );
    assert_eq!(h.receiver.received_at("/own/rust")[1].json()["event"], "up");
}

#[test]
fn a_failing_notifier_is_a_failed_delivery_and_ours_still_go_out() {
    // Nothing answers on the receiver's path for it: 503 from the receiver.
    let h = host_with_notifier(
        "rust-notifier",
        &rust_example(),
        "rust_notifier_url",
        "http://127.0.0.1:9/own/failing",
    );
    h.receiver.script(
        "/own/failing",
        vec![heartbeat_conformance::receiver::Reply::status(503)],
    );
    let (told, log) = go_down(&h);
    assert_eq!(entry(&told, "ops-webhook")["ok"], true, "{told:?}");
    let d = entry(&log, "rust-notifier");
    assert_eq!(d["ok"], false, "{d}");
    assert_eq!(d["httpStatus"], 503, "{d}");
    assert!(webhook_told(&h));
    assert_eq!(h.client.service_status("alpha").unwrap()["status"], "down");
}

#[cfg_attr(
    missing_componentize_js,
    ignore = "examples/notifier-js/node_modules missing: npm ci --prefix examples/notifier-js"
)]
#[test]
fn the_javascript_example_posts_and_a_throw_is_a_recorded_failure() {
    #[cfg(not(missing_componentize_js))]
    {
        let wasm = js_example();
        let h = host_with_notifier(
            "js-notifier",
            &wasm,
            "js_notifier_url",
            "http://127.0.0.1:9/own/js",
        );
        let (told, log) = go_down(&h);
        assert_eq!(told[0]["channel"], "ops-webhook");
        let d = entry(&log, "js-notifier");
        assert_eq!(d["ok"], true, "{d}");
        assert_eq!(d["httpStatus"], 200, "{d}");
        let got = h.receiver.received_at("/own/js");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].json()["event"], "down");
        assert_eq!(got[0].json()["service"]["id"], "alpha");

        // Without its URL it throws, which traps the component: one failed delivery under the
        // component's name; the heartbeat, our channel and the response are unharmed.
        let h = host_with_notifier("js-notifier", &wasm, "js_notifier_url", "");
        let (told, log) = go_down(&h);
        assert_eq!(entry(&told, "ops-webhook")["ok"], true, "{told:?}");
        let d = entry(&log, "js-notifier");
        assert_eq!(d["ok"], false, "{d}");
        assert_eq!(d["channelType"], "component", "{d}");
        assert!(d["error"].as_str().unwrap().contains("failed"), "{d}");
        assert!(webhook_told(&h));
        let r = h
            .client
            .beat(
                &heartbeat_conformance::fixture_key("alpha"),
                &serde_json::json!({"serviceId": "alpha", "status": "up"}),
            )
            .unwrap();
        assert_eq!(
            r.status, 200,
            "a recovery told to a trapping notifier: {}",
            r.body
        );
    }
}

/// `heartbeat-host check`'s start-up with `manifest`: its error.
fn start_error(manifest: &Path) -> String {
    let mut o = heartbeat_host::HostOptions::new(manifest);
    o.listen = "127.0.0.1:0".parse().unwrap();
    o.config_dir = Some(root().join(heartbeat_conformance::FIXTURE_CONFIG_DIR));
    match heartbeat_host::start(o) {
        Ok(_) => panic!("{} started", manifest.display()),
        Err(e) => format!("{e:#}"),
    }
}

#[test]
fn a_malformed_notifier_is_refused_at_start_up_with_its_name() {
    let dir = std::env::temp_dir().join(format!("hb-own-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let junk = dir.join("junk.wasm");
    std::fs::write(&junk, b"not a component").unwrap();
    let e = start_error(&manifest_with("junk", &junk, "junk_url"));
    assert!(
        e.contains("junk") && e.contains("is not a WebAssembly component"),
        "{e}"
    );

    // A component, but not a notifier (the benchmarks' HTTP component).
    let ceiling = PathBuf::from(heartbeat_host::COMPONENTS_DIR).join("ceiling.wasm");
    let e = start_error(&manifest_with("not-a-notifier", &ceiling, "x_url"));
    assert!(
        e.contains("not-a-notifier") && e.contains("does not export heartbeat:monitor/notifier"),
        "{e}"
    );

    let e = start_error(&manifest_with(
        "missing",
        &dir.join("missing.wasm"),
        "y_url",
    ));
    assert!(e.contains("missing.wasm") && e.contains("not found"), "{e}");

    // Spin looks the export up by its exact name: without the version there is none.
    let manifest = manifest_with("rust-notifier", &rust_example(), "z_url");
    let text = std::fs::read_to_string(&manifest).unwrap().replace(
        r#"export = "heartbeat:monitor/notifier@1.0.0""#,
        r#"export = "heartbeat:monitor/notifier""#,
    );
    std::fs::write(&manifest, text).unwrap();
    let e = start_error(&manifest);
    assert!(
        e.contains("does not export heartbeat:monitor/notifier ("),
        "{e}"
    );
}

#[test]
fn a_notifier_that_does_not_answer_is_given_up_at_its_deadline() {
    // request_timeout 1,000 ms: the deadline is 3 s; the receiver answers after 10 s, and the
    // example's own 5 s timeout would come later too.
    let h = host_with_notifier(
        "rust-notifier",
        &rust_example(),
        "rust_notifier_url",
        "http://127.0.0.1:9/own/slow",
    );
    h.receiver.script(
        "/own/slow",
        vec![heartbeat_conformance::receiver::Reply::status(200)
            .after(std::time::Duration::from_secs(10))],
    );
    let started = std::time::Instant::now();
    let (told, log) = go_down(&h);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(9),
        "waited for the notifier"
    );
    assert_eq!(entry(&told, "ops-webhook")["ok"], true, "{told:?}");
    let d = entry(&log, "rust-notifier");
    assert_eq!(d["ok"], false, "{d}");
    assert_eq!(d["channelType"], "component", "{d}");
    assert!(
        d["error"]
            .as_str()
            .unwrap()
            .contains("did not answer within 3 s"),
        "{d}"
    );
}

#[test]
fn notify_test_reaches_a_notifier_of_ones_own_by_its_channel_name() {
    let receiver = heartbeat_conformance::receiver::Receiver::start().unwrap();
    let manifest = manifest_with("rust-notifier", &rust_example(), "rust_notifier_url");
    let url = format!("http://{}/own/notify-test", receiver.addr);
    let out = super::cli::notify_test_with(
        &manifest,
        "rust-notifier",
        ("SPIN_VARIABLE_RUST_NOTIFIER_URL", &url),
    );
    let stdout = super::cli::succeeded(&out);
    assert!(
        stdout.contains("rust-notifier (custom): delivered (HTTP 200"),
        "{stdout}"
    );
    let got = receiver.received_at("/own/notify-test");
    assert_eq!(got.len(), 1, "only the named channel is told");
    assert_eq!(got[0].json()["service"]["id"], "notify-test");
}
