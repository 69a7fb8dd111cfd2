//! Configuration from the read-only `/config` mount (`files` in spin.toml), read per request so
//! a restart — never a rebuild — picks up changes. A request about one service reads that
//! service's cut through the store ([`heartbeat_core::config_cache`]) instead.

use heartbeat_core::config::Config;
use heartbeat_core::config_cache::{ConfigFiles, FileVersion, LoadError, CACHE_FROM_BYTES};
use std::io::Read;
use std::time::UNIX_EPOCH;

/// Where spin.toml mounts `config/`.
pub const CONFIG_DIR: &str = "/config";

/// Read and validate `services.json` and `notifications.json`. The error is a sentence for a
/// 500 response: it names the file or field, never a secret.
pub fn load_config() -> Result<Config, LoadError> {
    let services = Mounted.read("services.json")?;
    let notifications = Mounted.read("notifications.json")?;
    Ok(Config::parse(&services, &notifications)?)
}

/// The files under [`CONFIG_DIR`].
pub struct Mounted;

impl ConfigFiles for Mounted {
    fn version(&self, name: &str) -> Option<FileVersion> {
        let meta = std::fs::metadata(format!("{CONFIG_DIR}/{name}")).ok()?;
        let modified = meta.modified().ok()?.duration_since(UNIX_EPOCH).ok()?;
        Some(FileVersion {
            len: meta.len(),
            modified_ns: modified.as_nanos(),
        })
    }

    fn read(&self, name: &str) -> Result<String, LoadError> {
        // Not `fs::read_to_string`, which asks the file's size first: that is one more host
        // call per file and request (`stat`, 1–2 % of a heartbeat on heartbeat-host). Read
        // through `Take`, which has no size hint, into room for any services.json that is read
        // whole.
        let mut text = String::with_capacity(CACHE_FROM_BYTES as usize);
        std::fs::File::open(format!("{CONFIG_DIR}/{name}"))
            .and_then(|file| file.take(u64::MAX).read_to_string(&mut text))
            .map_err(|e| {
                LoadError::Unreadable(format!(
                    "cannot read {CONFIG_DIR}/{name} ({e}); mount config/ with `files` in spin.toml"
                ))
            })?;
        Ok(text)
    }
}
