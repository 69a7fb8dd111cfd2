//! `wrangler dev` for the Worker's tests and benchmarks: worker-build with a configuration
//! directory, and `wrangler dev` (workerd from npm) on loopback with a persisted Durable Object,
//! stopped with workerd when dropped. Shared by tests/wrangler.rs and benches/cpu.rs.
#![allow(dead_code, reason = "each user takes what it needs")]

use heartbeat_conformance::{free_port, Client};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn root() -> PathBuf {
    crate_dir().join("../..").canonicalize().unwrap()
}

/// Cargo target directory of the Worker builds, apart from the workspace's so this test never
/// waits on the cargo that runs it.
pub fn target_dir() -> PathBuf {
    root().join("target/worker")
}

/// Environment that keeps worker-build and wrangler offline.
pub fn offline(cmd: &mut Command) -> &mut Command {
    let bin = crate_dir().join("node_modules");
    cmd.env("WASM_OPT_BIN", bin.join("binaryen/bin/wasm-opt"))
        .env("ESBUILD_BIN", bin.join("@esbuild/linux-x64/bin/esbuild"))
        .env("WASM_BINDGEN_BIN", "wasm-bindgen")
        .env("WRANGLER_SEND_METRICS", "false")
        .env("CLOUDFLARE_CF_FETCH_ENABLED", "false")
        .env("CARGO_TARGET_DIR", target_dir())
}

/// Build the Worker with the configuration in `config` into `target/worker/<name>` as it is
/// deployed (`--release`, then wasm-opt); its `index.js`. Builds run one at a time: they share
/// the cargo output they are made from.
pub fn build(name: &str, config: &Path) -> PathBuf {
    build_with(name, config, &[])
}

/// [`build`] without wasm-opt, for tests that need the Worker with a configuration of their
/// own: wasm-opt takes over a minute per build and changes nothing they check, and the
/// fixture build still goes through it.
pub fn build_unoptimised(name: &str, config: &Path) -> PathBuf {
    build_with(name, config, &["--no-opt"])
}

fn build_with(name: &str, config: &Path, flags: &[&str]) -> PathBuf {
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let out = target_dir().join(name);
    let started = Instant::now();
    let status = offline(Command::new("worker-build").current_dir(crate_dir()))
        .env("HEARTBEAT_CONFIG_DIR", config)
        .arg("--release")
        .args(flags)
        .arg("--out-dir")
        .arg(&out)
        .status()
        .expect("run worker-build");
    assert!(status.success(), "worker-build failed");
    let wasm = std::fs::metadata(out.join("index_bg.wasm")).unwrap().len();
    eprintln!(
        "worker-build --release{} ({name}): {:.1} s, index_bg.wasm {wasm} bytes",
        flags.iter().map(|f| format!(" {f}")).collect::<String>(),
        started.elapsed().as_secs_f64()
    );
    out.join("index.js")
}

/// The commented-out KV binding in wrangler.toml.
const KV_BLOCK: &str =
    "# [[kv_namespaces]]\n# binding = \"HEARTBEAT_LOGS\"\n# id = \"<namespace id>\"";

/// The repository's wrangler.toml, pointed at `build`, its KV binding enabled.
pub fn wrangler_config(dir: &Path, build: &Path) -> PathBuf {
    let text = std::fs::read_to_string(root().join("wrangler.toml")).unwrap();
    let main = "main = \"components/cloudflare/build/index.js\"";
    assert!(
        text.contains(main),
        "wrangler.toml's main moved; update this test"
    );
    assert!(
        text.contains(KV_BLOCK),
        "wrangler.toml's KV binding moved; update this test"
    );
    let kv = KV_BLOCK
        .replace("# ", "")
        .replace("<namespace id>", "heartbeat-logs-local");
    let text = text
        .replace(main, &format!("main = \"{}\"", build.display()))
        .replace(KV_BLOCK, &kv);
    let path = dir.join("wrangler.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Whether wrangler's DevTools inspector is attached to the Worker's workerd.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inspector {
    /// As `wrangler dev` runs it: workerd also reports every response body to DevTools.
    Attached,
    /// As Cloudflare runs the Worker ([`dev-detached.mjs`](dev-detached.mjs)).
    Detached,
}

/// `wrangler dev` on loopback; stopped (with workerd) when dropped, and after ten minutes
/// whatever happens.
pub struct Wrangler {
    pub child: Child,
    pub base: String,
    log: PathBuf,
}

impl Wrangler {
    /// Start `build` (worker-build's `index.js`) on `state` (the `--persist-to` directory)
    /// with `vars` as `.dev.vars`; returns once the Worker answers.
    pub fn start_build<K: AsRef<str>>(
        build: &Path,
        state: &Path,
        vars: &[(K, String)],
    ) -> Wrangler {
        Wrangler::start_until(
            build,
            state,
            vars,
            Inspector::Attached,
            Wrangler::wait_ready,
        )
    }

    /// As [`Wrangler::start_build`], but returns before any request reaches the Worker (once
    /// wrangler says it is ready and workerd has gone quiet), so the next request is the
    /// first of its isolate.
    pub fn start_cold<K: AsRef<str>>(
        build: &Path,
        state: &Path,
        vars: &[(K, String)],
        inspector: Inspector,
    ) -> Wrangler {
        Wrangler::start_until(build, state, vars, inspector, Wrangler::wait_quiet)
    }

    fn start_until<K: AsRef<str>>(
        build: &Path,
        state: &Path,
        vars: &[(K, String)],
        inspector: Inspector,
        ready: fn(&mut Wrangler) -> Result<(), String>,
    ) -> Wrangler {
        std::fs::create_dir_all(state).unwrap();
        let env_file = state.join("dev.vars");
        let lines: Vec<String> = vars
            .iter()
            // Single quotes: dotenv keeps the JSON inside verbatim.
            .map(|(k, v)| format!("{}='{v}'", k.as_ref()))
            .collect();
        std::fs::write(&env_file, lines.join("\n")).unwrap();
        let config = wrangler_config(state, build);
        // A free port can be taken again before workerd binds it (the tests run in parallel,
        // and each workerd opens ports of its own): such a start is tried again on new ports.
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut w = Wrangler::launch(state, &config, &env_file, inspector);
            match ready(&mut w) {
                Ok(()) => return w,
                Err(log) if attempt < 3 && log.contains("Address already in use") => {
                    eprintln!("wrangler dev lost its port to another process; starting again");
                }
                Err(log) => panic!("wrangler dev did not start:\n{log}"),
            }
        }
    }

    pub fn launch(state: &Path, config: &Path, env_file: &Path, inspector: Inspector) -> Wrangler {
        let port = free_port();
        let log = state.join("wrangler.log");
        let mut cmd = Command::new("timeout");
        cmd.args(["--kill-after=5", "600"]);
        match inspector {
            Inspector::Attached => cmd
                .arg(crate_dir().join("node_modules/.bin/wrangler"))
                .args(["dev", "--local", "--ip", "127.0.0.1", "--test-scheduled"])
                .arg("--port")
                .arg(port.to_string())
                .arg("--config")
                .arg(config)
                .arg("--persist-to")
                .arg(state.join("persist"))
                .arg("--env-file")
                .arg(env_file),
            Inspector::Detached => cmd
                .arg("node")
                .arg(crate_dir().join("tests/support/dev-detached.mjs"))
                .arg(config)
                .arg(state.join("persist"))
                .arg(env_file)
                .arg(port.to_string()),
        };
        cmd.current_dir(state)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(std::fs::File::options().append(true).open(&log).unwrap());
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let child = offline(&mut cmd).spawn().expect("start wrangler dev");
        Wrangler {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    /// Ready once it answers; the log if it does not within 90 s or exits first.
    pub fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(90);
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(5))
            .build();
        while Instant::now() < deadline {
            if agent
                .get(&format!("{}/api/services", self.base))
                .call()
                .is_ok()
            {
                return Ok(());
            }
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        Err(self.log_text())
    }

    /// Ready without a request: wrangler has said so, and the Worker's workerd has used no
    /// CPU for a second (it has loaded the Worker).
    pub fn wait_quiet(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(90);
        while Instant::now() < deadline && !self.log_text().contains("Ready on") {
            if let Ok(Some(_)) = self.child.try_wait() {
                return Err(self.log_text());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let mut last = None;
        while Instant::now() < deadline {
            let pids = self.workerd_pids();
            let now = (!pids.is_empty()).then(|| cpu_ns(&pids));
            if now.is_some() && now == last {
                return Ok(());
            }
            last = now;
            std::thread::sleep(Duration::from_secs(1));
        }
        Err(self.log_text())
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn client(&self) -> Client {
        Client::new(&self.base)
    }

    /// The Worker's workerd process: of the two that wrangler starts in its process group, the
    /// one that does not listen on our port. That one runs wrangler's dev proxy, which relays
    /// each request and answer and which Cloudflare does not have.
    pub fn workerd_pids(&self) -> Vec<u32> {
        let group = self.child.id().to_string();
        let proxy = format!("entry={}", self.base.trim_start_matches("http://"));
        let mut pids = Vec::new();
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            // pid (comm) state ppid pgrp …; comm may hold spaces, so split after its ')'.
            let Some((head, rest)) = stat.rsplit_once(')') else {
                continue;
            };
            let fields: Vec<&str> = rest.split_whitespace().collect();
            if !head.ends_with("(workerd") || fields.get(2) != Some(&group.as_str()) {
                continue;
            }
            let args = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            if !String::from_utf8_lossy(&args).contains(&proxy) {
                pids.push(pid);
            }
        }
        pids
    }

    /// Fire the cron trigger, as Cloudflare does every five minutes.
    pub fn cron(&self) {
        let reply = self.client().get("/__scheduled?cron=*/5+*+*+*+*").unwrap();
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
}

/// Nanoseconds of CPU the threads of `pids` have used so far (`/proc/<pid>/task/*/schedstat`).
pub fn cpu_ns(pids: &[u32]) -> u64 {
    let mut total = 0;
    for pid in pids {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            continue;
        };
        for task in tasks.flatten() {
            if let Ok(s) = std::fs::read_to_string(task.path().join("schedstat")) {
                total += s
                    .split_whitespace()
                    .next()
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0);
            }
        }
    }
    total
}

impl Drop for Wrangler {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.wait();
    }
}

pub fn state_dir(name: &str) -> PathBuf {
    let dir = target_dir().join(format!("state-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}
