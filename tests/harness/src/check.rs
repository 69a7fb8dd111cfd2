//! Start-up checks: refuse to serve a configuration that would fail later, and say exactly
//! what to fix (file and field path, or the variable to declare).

use crate::runtime::{Runtime, Slot};
use anyhow::{bail, Context, Result};
use heartbeat_core::channels::{build, secret_names};
use heartbeat_core::config::{api_keys, key_secrets, Config, Settings};
use heartbeat_core::model::{Event, Reason, Status, Transition};
use heartbeat_core::notify::Notification;
use std::collections::BTreeMap;

/// Guest path of the configuration mount.
pub const CONFIG_MOUNT: &str = "/config";

/// Validate configuration and secrets as each component will see them. Returns warnings
/// (things that work but will fail a delivery) or an error naming the problem.
pub fn check(rt: &Runtime) -> Result<Vec<String>> {
    let mut warnings = Vec::new();
    let mut checked_config = false;
    // (channel, destination) → components whose rules deny it.
    let mut denied: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for (name, component) in &rt.manifest.component {
        let Some(profile) = rt.profile(name) else {
            continue;
        };
        // Secrets as heartbeat-core names them: upper-case.
        let secrets: BTreeMap<String, String> = profile
            .variables
            .iter()
            .map(|(k, v)| (k.to_ascii_uppercase(), v.clone()))
            .collect();
        Settings::from_secrets(&secrets).map_err(|e| anyhow::anyhow!("component {name}: {e}"))?;
        api_keys(&secrets).map_err(|e| anyhow::anyhow!("component {name}: {e}"))?;
        key_secrets(&secrets).map_err(|e| anyhow::anyhow!("component {name}: {e}"))?;

        let Some((dir, _)) = rt
            .mounts(name)
            .iter()
            .find(|(_, guest)| guest == CONFIG_MOUNT)
        else {
            continue;
        };
        if !dir.join("services.json").exists() {
            bail!(
                "no configuration: {} not found. Run `heartbeat-host init` to write a starter config/ and .env here, or pass --config DIR",
                dir.join("services.json").display()
            );
        }
        let read = |file: &str| {
            std::fs::read_to_string(dir.join(file))
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", dir.join(file).display()))
        };
        let config = Config::parse(&read("services.json")?, &read("notifications.json")?)
            .map_err(|e| anyhow::anyhow!("invalid configuration in {}: {e}", dir.display()))?;
        checked_config = true;

        if crate::runtime::notifiers::dependency(component, Slot::Ours).is_none() {
            continue;
        }
        for channel in config.notifications.channels.iter().filter(|c| c.enabled) {
            for (secret, required) in secret_names(channel) {
                let var = secret.to_ascii_lowercase();
                // An optional credential may be left undeclared: it is simply never set.
                if !profile.variables.contains_key(&var) && required {
                    bail!(
                        "channel \"{}\" ({}) needs the variable {var}: declare it in spin.toml under [variables] and [component.{name}.variables] (Spin serves only declared variables)",
                        channel.name,
                        channel.kind.name()
                    );
                }
                let value = profile.variables.get(&var).map(|v| v.trim());
                if required && value.is_none_or(str::is_empty) {
                    let w = format!(
                        "channel \"{}\": {secret} is empty; set SPIN_VARIABLE_{} or its deliveries will fail",
                        channel.name,
                        var.to_ascii_uppercase()
                    );
                    if !warnings.contains(&w) {
                        warnings.push(w);
                    }
                }
            }
            // Where it will send, as the notifiers component will build it.
            if let Ok(request) = build(channel, &secrets, &sample()) {
                if let Err(pattern) = profile.allowed.check_url(&request.url) {
                    let channel = format!("\"{}\" ({})", channel.name, channel.kind.name());
                    denied
                        .entry((channel, pattern))
                        .or_default()
                        .push(name.clone());
                }
            }
        }
    }
    if !checked_config {
        bail!("no component mounts the configuration at {CONFIG_MOUNT} (files in spin.toml)");
    }
    if !denied.is_empty() {
        let lines: Vec<String> = denied
            .into_iter()
            .map(|((channel, pattern), components)| match pattern.as_str() {
                "" => format!("channel {channel}: its URL cannot be parsed"),
                _ => format!(
                    "channel {channel} sends to {pattern}, which Spin would deny: add \"{pattern}\" to allowed_outbound_hosts in {}",
                    components
                        .iter()
                        .map(|c| format!("[component.{c}]"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })
            .collect();
        bail!("{}", lines.join("\n"));
    }
    Ok(warnings)
}

/// The Worker these variables would make, checked against Cloudflare's limits (which
/// `wrangler dev` does not enforce): every variable with a value (as a secret, upper-cased)
/// and the `[vars]` of a `wrangler.toml` beside the manifest.
pub fn cloudflare(
    manifest: &crate::manifest::Manifest,
    overrides: &BTreeMap<String, String>,
) -> Result<()> {
    let variables = crate::variables::Variables::resolve(manifest, overrides)?;
    let mut sizes: BTreeMap<String, usize> = BTreeMap::new();
    if let Ok(text) = std::fs::read_to_string(manifest.dir.join("wrangler.toml")) {
        let wrangler: toml::Table = text.parse().context("wrangler.toml")?;
        for (name, value) in wrangler
            .get("vars")
            .and_then(toml::Value::as_table)
            .into_iter()
            .flatten()
        {
            sizes.insert(name.clone(), value.as_str().map_or(0, str::len));
        }
    }
    for (name, value) in variables.app.iter().filter(|(_, v)| !v.is_empty()) {
        sizes.insert(name.to_ascii_uppercase(), value.len());
    }
    let sizes: Vec<(String, usize)> = sizes.into_iter().collect();
    let problems = heartbeat_core::worker_limits::check(&sizes);
    if !problems.is_empty() {
        let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
        bail!("{}: Cloudflare would refuse this Worker", lines.join("; "));
    }
    Ok(())
}

/// A notification to build each channel's request from, to learn where it sends.
fn sample() -> Notification {
    Notification {
        event: Event::Down,
        service_id: "start-up-check".into(),
        service_name: "start-up check".into(),
        transition: Transition {
            at: 0,
            from: Status::Up,
            to: Status::Down,
            reason: Reason::Silence,
            seq: 0,
        },
        last_heartbeat: None,
        message: None,
        metadata: None,
        threshold_secs: 300,
        previous_since: None,
        alert: None,
        reminder: false,
        dependents: Vec::new(),
        event_id: "start-up-check".into(),
    }
}
