//! Builds the four components for `wasm32-wasip2` with their own target directory (building in
//! the outer one would wait forever on the lock the outer build holds) and tells the crate
//! where they are. The notifiers component is built alone: it must not see the
//! `http-component` feature of heartbeat-guest that feature unification would switch on.
//!
//! It also looks for the real programs some tests drive (Redis, Alertmanager, strace, Chromium
//! with playwright-core, componentize-js): where one is missing, those tests are compiled as `ignored` with the
//! reason, so the summary says they did not run; under CI, which installs them all, a missing
//! one fails the build instead.

use std::path::{Path, PathBuf};
use std::process::Command;

/// (cfg set when missing, what must exist)
fn tools(root: &Path) -> [(&'static str, Vec<PathBuf>); 6] {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    [
        ("missing_redis", vec!["/usr/bin/redis-server".into()]),
        ("missing_strace", vec!["/usr/bin/strace".into()]),
        ("missing_openssl", vec!["/usr/bin/openssl".into()]),
        (
            "missing_alertmanager",
            vec!["/usr/bin/prometheus-alertmanager".into()],
        ),
        // The JavaScript example notifier's pinned componentize-js (from npm).
        (
            "missing_componentize_js",
            vec![root.join("examples/notifier-js/node_modules/@bytecodealliance/componentize-js")],
        ),
        (
            "missing_browser",
            vec![
                chromium.into(),
                root.join("tests/browser/node_modules/playwright-core"),
            ],
        ),
    ]
}

fn probe_tools(root: &Path) {
    println!("cargo:rerun-if-env-changed=CHROMIUM");
    println!("cargo:rerun-if-env-changed=CI");
    for (cfg, paths) in tools(root) {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
        for path in &paths {
            // Installing the program changes the nearest directory that exists.
            let watched = path.ancestors().find(|p| p.exists()).unwrap_or(path);
            println!("cargo:rerun-if-changed={}", watched.display());
        }
        let missing: Vec<String> = paths
            .iter()
            .filter(|p| !p.exists())
            .map(|p| p.display().to_string())
            .collect();
        if missing.is_empty() {
            continue;
        }
        assert!(
            std::env::var_os("CI").is_none(),
            "{} missing: .ci/run installs it",
            missing.join(" and ")
        );
        println!("cargo:rustc-cfg={cfg}");
    }
}

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
        "examples/notifier-rust",
        "wit",
        "Cargo.lock",
        "Cargo.toml",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(path).display());
    }
    probe_tools(&root);
    // `.ci/run` lints the components with the build that makes them: it runs the tests under
    // clippy-driver (the workspace wrapper `cargo clippy` uses) and sets this, and the wrapper
    // is passed on. Otherwise plain rustc builds them whatever the outer build runs, so
    // `cargo clippy` and `cargo test` share one build of them.
    println!("cargo:rerun-if-env-changed=HEARTBEAT_LINT_COMPONENTS");
    let lint = std::env::var_os("HEARTBEAT_LINT_COMPONENTS").is_some();
    if lint {
        println!("cargo:rerun-if-env-changed=CLIPPY_ARGS");
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // Releases (and benchmarks) carry the size-tuned, LTO-linked components; dev builds and
    // tests the same code built faster (see `wasm-dev` in Cargo.toml).
    let profile = match std::env::var("PROFILE").as_deref() {
        Ok("release") => "wasm",
        _ => "wasm-dev",
    };
    // `ceiling` is the benchmarks' do-nothing component, built with the others; the Rust
    // example notifier (examples/notifier-rust) is built for the tests that run it.
    for packages in [
        &["ingest", "sweep", "dashboard", "ceiling"][..],
        &["notifiers", "example-notifier-rust"][..],
    ] {
        let mut cmd = Command::new(&cargo);
        cmd.current_dir(&root)
            .args(["build", "--target", "wasm32-wasip2", "--profile", profile])
            .arg("--target-dir")
            .arg(&target_dir)
            .env_remove("RUSTC_WRAPPER")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_TARGET_DIR");
        if !lint {
            cmd.env_remove("RUSTC_WORKSPACE_WRAPPER")
                .env_remove("CLIPPY_ARGS");
        }
        for p in packages {
            cmd.args(["-p", p]);
        }
        let status = cmd
            .status()
            .expect("cannot run cargo to build the components");
        assert!(
            status.success(),
            "building components {packages:?} failed: the compiler's errors are above (without the wasm32-wasip2 target: `rustup target add wasm32-wasip2`)"
        );
    }
    let dir = target_dir.join("wasm32-wasip2").join(profile);
    println!("cargo:rustc-env=HEARTBEAT_COMPONENTS_DIR={}", dir.display());
}
