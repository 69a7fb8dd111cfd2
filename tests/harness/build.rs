//! Builds the four components for `wasm32-wasip2` with their own target directory (building in
//! the outer one would wait forever on the lock the outer build holds) and tells the crate
//! where they are. The notifiers component is built alone: it must not see the
//! `http-component` feature of heartbeat-guest that feature unification would switch on.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest_dir.join("../..").canonicalize().unwrap();
    let target_dir = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("target"))
        .join("components");
    for path in [
        "components",
        "tests/ceiling",
        "wit",
        "Cargo.lock",
        "Cargo.toml",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(path).display());
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // `ceiling` is the benchmarks' do-nothing component, built with the others.
    for packages in [
        &["ingest", "sweep", "dashboard", "ceiling"][..],
        &["notifiers"][..],
    ] {
        let mut cmd = Command::new(&cargo);
        cmd.current_dir(&root)
            .args(["build", "--target", "wasm32-wasip2", "--profile", "wasm"])
            .arg("--target-dir")
            .arg(&target_dir)
            // Under `cargo clippy` the outer build sets a wrapper that only checks; the
            // components must really be compiled.
            .env_remove("RUSTC_WORKSPACE_WRAPPER")
            .env_remove("RUSTC_WRAPPER")
            .env_remove("CLIPPY_ARGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_TARGET_DIR");
        for p in packages {
            cmd.args(["-p", p]);
        }
        let status = cmd
            .status()
            .expect("cannot run cargo to build the components");
        assert!(
            status.success(),
            "building components {packages:?} failed (is the wasm32-wasip2 target installed? `rustup target add wasm32-wasip2`)"
        );
    }
    let dir = target_dir.join("wasm32-wasip2").join("wasm");
    println!("cargo:rustc-env=HEARTBEAT_COMPONENTS_DIR={}", dir.display());
}
