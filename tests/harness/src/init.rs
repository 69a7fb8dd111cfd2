//! `heartbeat-host init [DIR]`: a starter configuration for a first run — one service, one
//! webhook channel (disabled until its URL is set) and a `.env` with a fresh random
//! `API_KEY_SECRET`, from which every service's heartbeat key is derived (`heartbeat-host key
//! ID`), so adding a service needs no new secret. Files that exist are never touched.

use anyhow::{Context, Result};
use heartbeat_core::auth::derived_key;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The starter service's id.
pub const SERVICE: &str = "example-job";

const SERVICES: &str = r#"{
  "services": [
    {
      "id": "example-job",
      "name": "Example job",
      "enabled": true,
      "stalenessThreshold": 300,
      "notifications": { "enabled": true, "channels": ["ops-webhook"], "events": ["down", "up"] }
    }
  ]
}
"#;

/// The channel's variables are the ones the built-in spin.toml declares.
const NOTIFICATIONS: &str = r#"{
  "enabled": true,
  "channels": [
    {
      "type": "webhook",
      "name": "ops-webhook",
      "enabled": false,
      "config": {},
      "events": ["down", "up", "degraded"]
    }
  ],
  "settings": { "cooldownMinutes": 5 }
}
"#;

/// What `init` did, for people.
pub struct Report {
    /// One line per file: written or kept.
    pub files: Vec<String>,
    /// The first service and its key, when `.env` was written.
    pub key: Option<(String, String)>,
}

/// Write what is missing under `dir`.
pub fn init(dir: &Path) -> Result<Report> {
    let config = dir.join("config");
    std::fs::create_dir_all(&config)
        .with_context(|| format!("cannot create {}", config.display()))?;
    let mut files = Vec::new();
    files.push(write_new(
        &config.join("services.json"),
        SERVICES,
        &format!("one service, {SERVICE}, expected every 5 minutes"),
    )?);
    files.push(write_new(
        &config.join("notifications.json"),
        NOTIFICATIONS,
        "webhook channel ops-webhook, disabled until its URL is set",
    )?);
    let env = dir.join(".env");
    let mut key = None;
    if env.exists() {
        files.push(format!("kept {} (already there)", env.display()));
    } else {
        let services = service_ids(&config.join("services.json"))?;
        let secret = new_key()?;
        let text = format!(
            "# Written by `heartbeat-host init`; Spin and heartbeat-host read it beside spin.toml.\n\
             # Every service's heartbeat key is derived from this secret: `heartbeat-host key ID`\n\
             # prints one. Keep it secret.\n\
             SPIN_VARIABLE_API_KEY_SECRET={secret}\n\
             # Webhook channel \"ops-webhook\": set its URL here, then \"enabled\": true in\n\
             # config/notifications.json.\n\
             # SPIN_VARIABLE_NOTIFICATION_OPS_WEBHOOK_URL=https://hooks.example.com/heartbeat\n"
        );
        write_private(&env, &text)?;
        files.push(format!(
            "wrote {} (a new API_KEY_SECRET; `key ID` prints each service's key)",
            env.display()
        ));
        let first = services[0].clone();
        key = Some((first.clone(), derived_key(&secret, &first)));
    }
    Ok(Report { files, key })
}

/// The lines `init` prints after the files: how to start and send the first heartbeat.
pub fn next_steps(report: &Report, dir: &Path, program: &str) -> String {
    let (service, key) = match &report.key {
        Some((service, key)) => (service.clone(), key.clone()),
        None => (
            SERVICE.to_string(),
            format!("<the key `heartbeat-host key {SERVICE}` prints>"),
        ),
    };
    let mut out = String::from("\nNext:\n");
    if dir != Path::new(".") {
        let _ = writeln!(out, "  cd {}", dir.display());
    }
    let _ = writeln!(out, "  {program} up");
    let _ = writeln!(out, "\nThen, from another terminal, the first heartbeat:");
    let _ = writeln!(
        out,
        "  curl -fsS -X POST http://127.0.0.1:3000/api/heartbeat -H 'Authorization: Bearer {key}' -d '{{\"serviceId\": \"{service}\"}}'"
    );
    let _ = writeln!(out, "\nand the dashboard: http://127.0.0.1:3000/");
    out
}

fn write_new(path: &Path, text: &str, what: &str) -> Result<String> {
    if path.exists() {
        return Ok(format!("kept {} (already there)", path.display()));
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(format!("wrote {} ({what})", path.display()))
}

/// Readable by its owner only, like any file of secrets.
fn write_private(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// The ids in a services.json (the starter one or one that was already there).
fn service_ids(path: &PathBuf) -> Result<Vec<String>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not valid JSON", path.display()))?;
    let ids: Vec<String> = value["services"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["id"].as_str().map(str::to_string))
        .collect();
    anyhow::ensure!(!ids.is_empty(), "{} lists no service", path.display());
    Ok(ids)
}

/// 256 random bits from the operating system, as 64 hex digits.
fn new_key() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).context("no random numbers from the operating system")?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_starter_files_are_a_valid_configuration() {
        let config = heartbeat_core::config::Config::parse(SERVICES, NOTIFICATIONS).unwrap();
        assert_eq!(config.services.len(), 1);
        assert_eq!(config.services[0].id, SERVICE);
        assert!(config.notifications.channels.iter().all(|c| !c.enabled));
    }

    #[test]
    fn secrets_are_fresh_and_long() {
        let (a, b) = (new_key().unwrap(), new_key().unwrap());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
    }
}
