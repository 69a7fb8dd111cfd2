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
    heartbeat_core::build_script::checked_config();
}
