//! Embeds the configuration into the Worker (it has no file system) and validates it first, so
//! a bad `services.json` fails the build with the field's path, never a deploy.
//!
//! `HEARTBEAT_CONFIG_DIR` picks another directory than the repository's `config/` (the tests
//! build the Worker with their fixture configuration).

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=HEARTBEAT_CONFIG_DIR");
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let dir = match std::env::var("HEARTBEAT_CONFIG_DIR") {
        Ok(d) if PathBuf::from(&d).is_absolute() => PathBuf::from(d),
        Ok(d) => manifest.join("../..").join(d),
        Err(_) => manifest.join("../../config"),
    };
    let read = |name: &str| {
        let path = dir.join(name);
        println!("cargo:rerun-if-changed={}", path.display());
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
    };
    let services = read("services.json");
    let notifications = read("notifications.json");
    if let Err(e) = heartbeat_core::config::Config::parse(&services, &notifications) {
        panic!("invalid configuration in {}: {e}", dir.display());
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it"));
    std::fs::write(out.join("services.json"), services).expect("write OUT_DIR");
    std::fs::write(out.join("notifications.json"), notifications).expect("write OUT_DIR");
}
