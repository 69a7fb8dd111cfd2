//! A fleet's configuration for the benches that build one (the dashboard and fleet benches).

use heartbeat_host::{HostOptions, StoreChoice};
use std::path::{Path, PathBuf};

/// Writes `services` (notifications off) into `dir` and returns options that serve it from the
/// in-memory store, with neither a scheduled nor a safety-net sweep: a bench sweeps when it
/// means to.
pub fn options(dir: &Path, services: Vec<serde_json::Value>) -> anyhow::Result<HostOptions> {
    std::fs::create_dir_all(dir)?;
    let services = serde_json::json!({ "services": services });
    std::fs::write(dir.join("services.json"), services.to_string())?;
    std::fs::write(
        dir.join("notifications.json"),
        r#"{"enabled": false, "channels": []}"#,
    )?;
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut o = HostOptions::new(root.join("spin.toml"));
    o.store = StoreChoice::Memory;
    o.sweep_every = None;
    o.config_dir = Some(dir.to_path_buf());
    o.variables
        .insert("sweep_overdue_seconds".into(), "0".into());
    Ok(o)
}
