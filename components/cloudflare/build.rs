//! Embeds the configuration into the Worker (it has no file system) and validates it first, so
//! a bad `services.json` fails the build with the field's path, never a deploy. The services
//! go in compiled (`config_cache::compile`), read back once per isolate.
//!
//! `HEARTBEAT_CONFIG_DIR` picks another directory than the repository's `config/` (the tests
//! build the Worker with their fixture configuration).
//!
//! It refuses variables Cloudflare would refuse at deploy (`wrangler dev` does not): over 5 KB,
//! or more than the Free plan's 64 — counting wrangler.toml's `[vars]` and the secrets in
//! `.dev.vars` (or the file `HEARTBEAT_WORKER_VARS` names).
//!
//! It also checks for the tools the `wrangler dev` tests drive: where one is missing those tests
//! are compiled as `ignored`, so the summary says they did not run; under CI, which installs
//! them, a missing one fails the build.

use std::path::{Path, PathBuf};
use std::process::Command;

fn output(cmd: &str, arg: &str) -> Option<String> {
    let out = Command::new(cmd).arg(arg).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The wasm-bindgen version Cargo.lock resolves, which the CLI must match exactly.
fn locked_wasm_bindgen(root: &Path) -> String {
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).expect("Cargo.lock");
    let at = lock
        .find("name = \"wasm-bindgen\"\n")
        .expect("wasm-bindgen in Cargo.lock");
    let version = lock[at..].lines().nth(1).expect("a version line");
    version
        .trim_start_matches("version = \"")
        .trim_end_matches('"')
        .to_string()
}

/// The install command of the first missing tool, if any.
fn missing_worker_tool(manifest: &Path) -> Option<String> {
    let wasm_bindgen = locked_wasm_bindgen(&manifest.join("../.."));
    if !output("worker-build", "--version").is_some_and(|v| v.contains("0.8.7")) {
        return Some("cargo install --locked worker-build --version 0.8.7".into());
    }
    if !output("wasm-bindgen", "--version").is_some_and(|v| v.contains(&wasm_bindgen)) {
        return Some(format!(
            "cargo install wasm-bindgen-cli --version {wasm_bindgen}"
        ));
    }
    if !manifest.join("node_modules/.bin/wrangler").exists() {
        return Some("npm ci --prefix components/cloudflare".into());
    }
    None
}

fn probe_tools(manifest: &Path) {
    println!("cargo::rustc-check-cfg=cfg(missing_worker_tools)");
    // The tests are native; building the Worker itself (worker-build, a deploy) needs no probe.
    if std::env::var("TARGET").is_ok_and(|t| t.starts_with("wasm32")) {
        return;
    }
    println!("cargo:rerun-if-env-changed=PATH");
    println!("cargo:rerun-if-env-changed=CI");
    // Installing a tool changes one of these directories.
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path).filter(|d| d.is_dir()) {
        println!("cargo:rerun-if-changed={}", dir.display());
    }
    println!("cargo:rerun-if-changed={}", manifest.display());
    let Some(install) = missing_worker_tool(manifest) else {
        return;
    };
    assert!(
        std::env::var_os("CI").is_none(),
        "missing: {install} (.ci/run installs it)"
    );
    println!("cargo:rustc-cfg=missing_worker_tools");
}

/// `NAME=value` lines of a `.dev.vars` file (dotenv: `#` comments, optional quotes).
fn dotenv(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let (k, v) = l.split_once('=')?;
            let v = v.trim();
            let unquoted = ['"', '\'']
                .iter()
                .find_map(|q| v.strip_prefix(*q).and_then(|v| v.strip_suffix(*q)));
            Some((k.trim().to_string(), unquoted.unwrap_or(v).to_string()))
        })
        .collect()
}

/// The Worker's variables as a deploy would have them: `[vars]`, then the secrets file.
fn check_variables(root: &Path) {
    println!("cargo:rerun-if-env-changed=HEARTBEAT_WORKER_VARS");
    let wrangler = root.join("wrangler.toml");
    let secrets = std::env::var("HEARTBEAT_WORKER_VARS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join(".dev.vars"));
    println!("cargo:rerun-if-changed={}", wrangler.display());
    println!("cargo:rerun-if-changed={}", secrets.display());
    let manifest: toml::Table = std::fs::read_to_string(&wrangler)
        .expect("wrangler.toml")
        .parse()
        .expect("wrangler.toml parses");
    let mut variables: std::collections::BTreeMap<String, usize> = manifest
        .get("vars")
        .and_then(toml::Value::as_table)
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_str().map_or(0, str::len)))
        .collect();
    if let Ok(text) = std::fs::read_to_string(&secrets) {
        variables.extend(dotenv(&text).into_iter().map(|(k, v)| (k, v.len())));
    }
    let variables: Vec<(String, usize)> = variables.into_iter().collect();
    let problems = heartbeat_core::worker_limits::check(&variables);
    if !problems.is_empty() {
        let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
        panic!(
            "{} (wrangler.toml [vars] and {}): Cloudflare would refuse this Worker; see docs/DEPLOYMENT.md#what-it-costs-on-the-free-plan",
            lines.join("; "),
            secrets.display()
        );
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    probe_tools(&manifest);
    check_variables(&manifest.join("../.."));
    let files = heartbeat_core::build_script::checked_config();
    let config = heartbeat_core::config::Config::parse(&files.services, &files.notifications)
        .expect("checked_config validated it");
    // The services compiled (a fresh isolate decodes them rather than parse and validate
    // services.json on its first request); notifications.json is small and stays as text.
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it"));
    let fleet = heartbeat_core::config_cache::compile(&config);
    std::fs::write(out.join("fleet.postcard"), fleet).expect("write OUT_DIR");
    std::fs::write(out.join("notifications.json"), files.notifications).expect("write OUT_DIR");
}
