//! With the `check-config` feature (`spin build` turns it on in spin.toml), validate the
//! configuration the components will mount, so an invalid `config/` fails `spin build` with the
//! field's path — Spin itself would start and answer every request with a 500. The directory is
//! `HEARTBEAT_CONFIG_DIR`, or the repository's `config/` that spin.toml mounts at `/config`.
//!
//! The components read the files per request, so a change after the build takes effect at the
//! next start without a rebuild — and is checked only by the next `spin build` (or
//! `heartbeat-host check`).

fn main() {
    #[cfg(feature = "check-config")]
    check_config();
}

#[cfg(feature = "check-config")]
fn check_config() {
    use std::path::PathBuf;
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
    let (services, notifications) = (read("services.json"), read("notifications.json"));
    if let Err(e) = heartbeat_core::config::Config::parse(&services, &notifications) {
        panic!("invalid configuration in {}: {e}", dir.display());
    }
}
