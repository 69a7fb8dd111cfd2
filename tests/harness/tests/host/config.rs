//! Start-up validation: `heartbeat-host` refuses bad configuration and names what to fix.

use super::support::root;
use std::path::Path;
use std::process::Command;

fn fixture_copy(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("hb-config-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for f in ["services.json", "notifications.json"] {
        std::fs::copy(root().join("tests/fixtures/config").join(f), dir.join(f)).unwrap();
    }
    dir
}

fn up(config: &Path) -> (bool, String) {
    let out = super::support::heartbeat_host()
        .current_dir(root())
        .args(["up", "--memory", "--listen", "127.0.0.1:0", "--config"])
        .arg(config)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn invalid_service_config_stops_start_up_naming_the_field() {
    let dir = fixture_copy("threshold");
    let path = dir.join("services.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    v["services"][2]["stalenessThreshold"] = serde_json::json!(-5);
    std::fs::write(&path, v.to_string()).unwrap();
    let (ok, stderr) = up(&dir);
    assert!(!ok, "started with a negative threshold");
    assert!(
        stderr
            .contains("services.json: services[2].stalenessThreshold: must be a positive integer"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_channel_whose_secret_is_not_declared_stops_start_up() {
    let dir = fixture_copy("undeclared");
    std::fs::write(
        dir.join("notifications.json"),
        r#"{"channels": [{"type": "webhook", "name": "pager-hook"}]}"#,
    )
    .unwrap();
    let (ok, stderr) = up(&dir);
    assert!(!ok);
    assert!(stderr.contains("notification_pager_hook_url"), "{stderr}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn malformed_notifications_json_stops_start_up() {
    let dir = fixture_copy("json");
    std::fs::write(dir.join("notifications.json"), "{ nope").unwrap();
    let (ok, stderr) = up(&dir);
    assert!(!ok);
    assert!(
        stderr.contains("notifications.json: (top level): is not valid JSON"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// The build commands spin.toml gives Spin, by component.
fn spin_build_commands() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(root().join("spin.toml")).unwrap();
    let manifest: toml::Table = text.parse().unwrap();
    manifest["component"]
        .as_table()
        .unwrap()
        .iter()
        .filter_map(|(name, c)| {
            let command = c.get("build")?.get("command")?.as_str()?;
            Some((name.clone(), command.to_string()))
        })
        .collect()
}

#[test]
fn spin_build_refuses_an_invalid_config_naming_the_field() {
    let commands = spin_build_commands();
    // Every component that mounts config/ checks it when Spin builds it.
    for (name, command) in &commands {
        if name != "notifiers" {
            assert!(
                command.contains("--features heartbeat-guest/check-config"),
                "{name}: {command}"
            );
        }
    }
    let dir = fixture_copy("spin-build");
    std::fs::write(
        dir.join("services.json"),
        heartbeat_conformance::INVALID_SERVICES,
    )
    .unwrap();
    let (_, ingest) = commands.iter().find(|(n, _)| n == "ingest").unwrap();
    // As `spin build` runs it: through the shell, in the manifest's directory.
    let out = Command::new("sh")
        .args(["-c", ingest])
        .current_dir(root())
        .env("HEARTBEAT_CONFIG_DIR", &dir)
        .env("CARGO_TARGET_DIR", root().join("target/spin-build-check"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the build must fail");
    assert!(
        stderr.contains(heartbeat_conformance::INVALID_SERVICES_ERROR),
        "{stderr}"
    );
}

/// Each heartbeat reads its own service's cut of services.json from the store; an edit of the
/// file while the host runs (Spin reads the files per request too) is seen by the very next
/// request, whichever service it is about: a removed service is gone, an added one reports.
#[test]
fn an_edited_services_json_takes_effect_at_the_next_request() {
    use heartbeat_core::auth::derived_key;
    use serde_json::json;
    const SECRET: &str = "9d8c7b6a5f4e3d2c1b0a9d8c7b6a5f4e";
    let notifications = json!({ "channels": [] });
    // Over config_cache::CACHE_FROM_BYTES, so requests read through the cuts.
    let fleet = |edit: &dyn Fn(usize) -> Option<serde_json::Value>| {
        let services: Vec<_> = (0..1000)
            .map(|i| edit(i).unwrap_or_else(|| json!({ "id": format!("svc-{i}") })))
            .collect();
        json!({ "services": services })
    };
    let original = fleet(&|i| match i {
        0 => Some(json!({ "id": "alpha" })),
        1 => Some(json!({ "id": "bravo", "dependsOn": ["alpha"] })),
        _ => None,
    });
    assert!(original.to_string().len() as u64 >= heartbeat_core::config_cache::CACHE_FROM_BYTES);
    let dir = super::support::config_dir("edited", &original, &notifications);
    let db = dir.join("store.db");
    let h = super::support::host_with(heartbeat_host::kv::AbsentCas::Exact, |o| {
        o.config_dir = Some(dir.clone());
        o.store = heartbeat_host::StoreChoice::Sqlite(db.clone());
        o.variables.insert("api_key_secret".into(), SECRET.into());
    });
    let beat = |id: &str| {
        let body = json!({ "serviceId": id });
        h.client.beat(&derived_key(SECRET, id), &body).unwrap()
    };
    for id in ["alpha", "bravo", "alpha"] {
        assert_eq!(beat(id).status, 200, "{id}");
    }
    // The heartbeats read their cuts from the store (a second connection sees the commits).
    let store = rusqlite::Connection::open(&db).unwrap();
    let cut: Vec<u8> = store
        .query_row(
            "SELECT value FROM kv WHERE store = 'default' AND key = ?1",
            [heartbeat_core::keys::config_key("bravo")],
            |row| row.get(0),
        )
        .expect("bravo's cut is stored");
    let cut = String::from_utf8(cut).unwrap();
    assert!(cut.contains(r#"\"dependsOn\":[\"alpha\"]"#), "{cut}");

    let edited = fleet(&|i| match i {
        0 => Some(json!({ "id": "zulu" })),
        1 => Some(json!({ "id": "bravo", "name": "Bravo renamed" })),
        _ => None,
    });
    std::fs::write(dir.join("services.json"), edited.to_string()).unwrap();
    let gone = beat("alpha");
    assert_eq!(gone.status, 404, "{}", gone.body);
    assert_eq!(beat("zulu").status, 200);
    assert_eq!(beat("bravo").status, 200);
    let status = h.client.service_status("bravo").unwrap();
    assert_eq!(status["name"], "Bravo renamed", "{status}");
}
