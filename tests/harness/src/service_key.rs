//! `heartbeat-host key ID [--push]`: a service's heartbeat key (or push token), derived from
//! `API_KEY_SECRET` as the ingest component derives it, so nobody has to keep a list of keys.

use crate::check::CONFIG_MOUNT;
use crate::variables::Variables;
use crate::HostOptions;
use anyhow::{bail, Context, Result};
use heartbeat_core::auth::{derived_key, derived_push_token};
use heartbeat_core::config::{key_secrets, Config};
use std::collections::BTreeMap;

/// The key of `service` under the app's `API_KEY_SECRET` (environment, then `.env`), or with
/// `push` its push token. Refuses a service that `services.json` does not list, so a typo does
/// not print a key that never works.
pub fn service_key(options: &HostOptions, service: &str, push: bool) -> Result<String> {
    let manifest = options.manifest.load()?;
    let variables = Variables::resolve(&manifest, &options.variables)?;
    let secrets: BTreeMap<String, String> = variables
        .app
        .iter()
        .map(|(k, v)| (k.to_ascii_uppercase(), v.clone()))
        .collect();
    let Some(secret) = key_secrets(&secrets)?.current else {
        bail!(
            "API_KEY_SECRET is not set: add SPIN_VARIABLE_API_KEY_SECRET=$(openssl rand -hex 32) \
             to .env (or the environment) first"
        );
    };
    let config_dir = match &options.config_dir {
        Some(dir) => dir.clone(),
        None => manifest
            .component
            .values()
            .flat_map(|c| &c.files)
            .map(|f| f.dirs())
            .find(|(_, guest)| guest == CONFIG_MOUNT)
            .map(|(host, _)| manifest.dir.join(host))
            .context("no component mounts /config")?,
    };
    let read = |file: &str| {
        let path = config_dir.join(file);
        std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))
    };
    let config = Config::parse(&read("services.json")?, &read("notifications.json")?)
        .map_err(|e| anyhow::anyhow!("invalid configuration in {}: {e}", config_dir.display()))?;
    if config.service(service).is_none() {
        bail!(
            "no service \"{service}\" in {}",
            config_dir.join("services.json").display()
        );
    }
    Ok(match push {
        true => derived_push_token(&secret, service),
        false => derived_key(&secret, service),
    })
}
