//! Spin's runtime configuration file (`spin up --runtime-config-file`), read for the one thing
//! heartbeat-host needs from it: where the `default` key-value store lives. One file then
//! configures both hosts, e.g. `config/runtime-config.redis.toml`:
//!
//! ```toml
//! [key_value_store.default]
//! type = "redis"
//! url = "redis://127.0.0.1:6379"
//! ```
//!
//! Other tables (variable providers, SQLite databases, …) are Spin's business and are ignored.

use crate::StoreChoice;
use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Deserialize)]
struct RuntimeConfig {
    #[serde(default)]
    key_value_store: BTreeMap<String, KeyValueStore>,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
enum KeyValueStore {
    Redis {
        url: String,
    },
    /// Spin's built-in store; heartbeat-host keeps its own SQLite file at `path` (the two file
    /// formats differ, so a file is not shared between the hosts).
    Spin {
        path: Option<String>,
    },
}

/// The store the file gives the `default` label; `None` if it does not configure one.
/// Relative paths are relative to the file, as in Spin.
pub fn default_store(file: &Path) -> Result<Option<StoreChoice>> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read runtime config {}", file.display()))?;
    let config: RuntimeConfig = toml::from_str(&text)
        .with_context(|| format!("{}: invalid runtime config", file.display()))?;
    if let Some(other) = config.key_value_store.keys().find(|l| *l != "default") {
        bail!(
            "{}: key_value_store.{other}: heartbeat-monitor uses only the \"default\" store",
            file.display()
        );
    }
    let base = file.parent().unwrap_or(Path::new("."));
    Ok(match config.key_value_store.get("default") {
        None => None,
        Some(KeyValueStore::Redis { url }) => Some(StoreChoice::Redis(url.clone())),
        Some(KeyValueStore::Spin { path }) => Some(StoreChoice::Sqlite(
            base.join(path.as_deref().unwrap_or(".spin/sqlite_key_value.db")),
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Option<StoreChoice>> {
        let dir = std::env::temp_dir().join(format!("hb-rc-{}-{}", std::process::id(), text.len()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("runtime-config.toml");
        std::fs::write(&file, text).unwrap();
        let out = default_store(&file);
        let _ = std::fs::remove_dir_all(&dir);
        out
    }

    #[test]
    fn reads_the_redis_store_of_the_shipped_file() {
        let shipped =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/runtime-config.redis.toml");
        match default_store(&shipped).unwrap() {
            Some(StoreChoice::Redis(url)) => assert!(url.starts_with("redis://")),
            _ => panic!("config/runtime-config.redis.toml does not configure Redis"),
        }
    }

    #[test]
    fn ignores_what_is_not_a_key_value_store() {
        let text = "[variables_provider]\ntype = \"env\"\n[key_value_store.default]\ntype = \"redis\"\nurl = \"redis://127.0.0.1:6379\"\n";
        assert!(
            matches!(read(text).unwrap(), Some(StoreChoice::Redis(u)) if u == "redis://127.0.0.1:6379")
        );
    }

    #[test]
    fn rejects_an_unknown_type_or_another_label() {
        let e = read("[key_value_store.default]\ntype = \"azure_cosmos\"\n").unwrap_err();
        assert!(format!("{e:#}").contains("unknown variant"), "{e:#}");
        let e =
            read("[key_value_store.cache]\ntype = \"redis\"\nurl = \"redis://x\"\n").unwrap_err();
        assert!(format!("{e:#}").contains("key_value_store.cache"), "{e:#}");
    }
}
