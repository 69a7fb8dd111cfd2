//! For the build scripts that check the configuration (heartbeat-guest under `spin build`, the
//! Worker that embeds it): find `config/`, read both files and refuse an invalid one with the
//! field's path, so the mistake fails the build instead of every request.

use crate::config::Config;
use std::path::{Path, PathBuf};

/// The checked configuration files.
pub struct ConfigFiles {
    pub services: String,
    pub notifications: String,
}

/// Reads `HEARTBEAT_CONFIG_DIR` (relative to the repository root) or the repository's `config/`,
/// for a crate at `components/<name>`. Tells Cargo to rerun when either changes; panics with the
/// field's path on an invalid file, which fails the build.
pub fn checked_config() -> ConfigFiles {
    println!("cargo:rerun-if-env-changed=HEARTBEAT_CONFIG_DIR");
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let root = manifest.join("../..");
    let dir = match std::env::var("HEARTBEAT_CONFIG_DIR") {
        Ok(d) if Path::new(&d).is_absolute() => PathBuf::from(d),
        Ok(d) => root.join(d),
        Err(_) => root.join("config"),
    };
    let read = |name: &str| {
        let path = dir.join(name);
        println!("cargo:rerun-if-changed={}", path.display());
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
    };
    let (services, notifications) = (read("services.json"), read("notifications.json"));
    if let Err(e) = Config::parse(&services, &notifications) {
        panic!("invalid configuration in {}: {e}", dir.display());
    }
    ConfigFiles {
        services,
        notifications,
    }
}
