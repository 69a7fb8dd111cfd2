//! Configuration from the read-only `/config` mount (`files` in spin.toml), read per request so
//! a restart — never a rebuild — picks up changes.

use heartbeat_core::config::Config;

/// Where spin.toml mounts `config/`.
pub const CONFIG_DIR: &str = "/config";

/// Read and validate `services.json` and `notifications.json`. The error is a sentence for a
/// 500 response: it names the file or field, never a secret.
pub fn load_config() -> Result<Config, String> {
    let read = |name: &str| {
        std::fs::read_to_string(format!("{CONFIG_DIR}/{name}")).map_err(|e| {
            format!(
                "cannot read {CONFIG_DIR}/{name} ({e}); mount config/ with `files` in spin.toml"
            )
        })
    };
    let services = read("services.json")?;
    let notifications = read("notifications.json")?;
    Config::parse(&services, &notifications).map_err(|e| format!("invalid configuration: {e}"))
}
