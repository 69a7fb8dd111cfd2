//! heartbeat-host as a child process (`up` on a SQLite store), for what only a real process
//! shows: `kill -9`, restarts, and everything it prints.

use super::support::{loopback_manifest, root};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

pub struct Process {
    child: Child,
    /// The child leads a process group of its own, ended whole (strace and what it traces).
    group: bool,
    pub url: String,
    output: Arc<Mutex<String>>,
}

fn drain(r: impl Read + Send + 'static, out: Arc<Mutex<String>>) {
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines().map_while(Result::ok) {
            let mut o = out.lock().unwrap();
            o.push_str(&line);
            o.push('\n');
        }
    });
}

impl Process {
    /// `heartbeat-host up` on `data`, reading `config`, with `SPIN_VARIABLE_*` settings from
    /// `variables` (lower-case names, as spin.toml declares them). The host's own sweep timer
    /// is off: tests sweep when they mean to.
    pub fn spawn(data: &Path, config: &Path, variables: &[(&str, String)]) -> Process {
        let command = super::support::heartbeat_host();
        Process::start(command, false, data, config, variables)
    }

    /// As [`Process::spawn`], under `strace -f -yy` (descriptors shown with their files and
    /// sockets) recording the system calls `calls` into `trace`.
    pub fn spawn_traced(
        data: &Path,
        config: &Path,
        variables: &[(&str, String)],
        calls: &str,
        trace: &Path,
    ) -> Process {
        let mut command = Command::new("strace");
        command
            .args(["-f", "-qq", "-yy", "-s", "24", "--seccomp-bpf"])
            .arg(format!("--trace={calls}"))
            .arg("-o")
            .arg(trace)
            .arg(env!("CARGO_BIN_EXE_heartbeat-host"));
        super::support::with_compile_cache(&mut command);
        // A killed strace leaves the process it traces running: both get a group to end.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        Process::start(command, true, data, config, variables)
    }

    /// `heartbeat-host up` as [`Process::spawn`] starts it, expected to refuse to start: waits
    /// (at most a minute) for it to exit, and returns what it printed.
    pub fn refused(data: &Path, config: &Path, variables: &[(&str, String)]) -> String {
        let mut command = super::support::heartbeat_host();
        up(&mut command, data, config, variables);
        let mut child = command.spawn().unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while child.try_wait().unwrap().is_none() {
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("heartbeat-host up was expected to refuse to start, and ran");
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let out = child.wait_with_output().unwrap();
        assert!(!out.status.success(), "refused with a zero exit status");
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
    }

    fn start(
        mut command: Command,
        group: bool,
        data: &Path,
        config: &Path,
        variables: &[(&str, String)],
    ) -> Process {
        up(&mut command, data, config, variables);
        let mut child = command.spawn().unwrap();
        let output = Arc::new(Mutex::new(String::new()));
        drain(child.stderr.take().unwrap(), output.clone());
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        output.lock().unwrap().push_str(&first);
        drain(stdout, output.clone());
        let url = first
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no URL in {first:?}: {}", output.lock().unwrap()))
            .to_string();
        Process {
            child,
            group,
            url,
            output,
        }
    }

    /// SIGKILL: no shutdown, no flush.
    pub fn kill(&mut self) {
        self.end_group();
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    fn end_group(&self) {
        if self.group {
            kill_group(&self.child);
        }
    }

    /// Everything it printed so far.
    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }
}

/// The arguments and environment of `heartbeat-host up` on `data`, reading `config`.
fn up(command: &mut Command, data: &Path, config: &Path, variables: &[(&str, String)]) {
    command
        .current_dir(root())
        .args(["up", "--listen", "127.0.0.1:0", "--sweep-every", "0"])
        .arg("--manifest")
        .arg(loopback_manifest())
        .arg("--config")
        .arg(config)
        .arg("--data")
        .arg(data)
        .env("RUST_LOG", "debug,wasmtime=info,cranelift=info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in variables {
        command.env(format!("SPIN_VARIABLE_{}", name.to_uppercase()), value);
    }
}

/// SIGKILL to the process group `child` leads. A killed strace leaves the process it traces
/// running, so a traced child and its tracee get a group of their own, ended whole.
pub fn kill_group(child: &Child) {
    let group = format!("kill -9 -{}", child.id());
    let _ = Command::new("sh").args(["-c", &group]).status();
}

impl Drop for Process {
    fn drop(&mut self) {
        self.end_group();
        let _ = self.child.kill();
        let _ = self.child.wait();
        heartbeat_conformance::capture::keep("host-output", &self.output());
    }
}
