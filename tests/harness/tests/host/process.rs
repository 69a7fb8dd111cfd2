//! heartbeat-host as a child process (`up` on a SQLite store), for what only a real process
//! shows: `kill -9`, restarts, and everything it prints.

use super::support::{loopback_manifest, root};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

pub struct Process {
    child: Child,
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
        let mut command = Command::new(env!("CARGO_BIN_EXE_heartbeat-host"));
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
        Process { child, url, output }
    }

    /// SIGKILL: no shutdown, no flush.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Everything it printed so far.
    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        heartbeat_conformance::capture::keep("host-output", &self.output());
    }
}
