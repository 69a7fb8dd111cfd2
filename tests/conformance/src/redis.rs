//! A Redis server of a test's or benchmark's own (Debian's `redis-server`): loopback only,
//! durable (AOF, every write fsynced before it is acknowledged), killed on drop.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BINARY: &str = "/usr/bin/redis-server";

/// One redis-server process and its data directory.
pub struct Redis {
    child: Option<Child>,
    pub port: u16,
    dir: PathBuf,
    password: Option<String>,
}

impl Redis {
    /// Callers check that redis-server is installed (the tests are ignored where it is not).
    pub fn start(name: &str) -> Redis {
        Redis::start_with(name, None)
    }

    pub fn start_with(name: &str, password: Option<&str>) -> Redis {
        let dir = std::env::temp_dir().join(format!("hb-redis-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut r = Redis {
            child: None,
            port: 0,
            dir,
            password: password.map(str::to_string),
        };
        // A free port can be taken again before redis-server binds it: then it exits, and
        // the first start is tried again on another port.
        for _ in 0..3 {
            r.port = crate::free_port();
            if r.try_spawn() {
                return r;
            }
        }
        panic!("redis-server did not start on three free ports");
    }

    fn spawn(&mut self) {
        assert!(
            self.try_spawn(),
            "redis-server did not start again on its port"
        );
    }

    /// Whether it listens within 10 s (false when it exited first).
    fn try_spawn(&mut self) -> bool {
        let child = Command::new(BINARY)
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args([
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
            ])
            .arg("--dir")
            .arg(&self.dir)
            .args(
                self.password
                    .iter()
                    .flat_map(|p| ["--requirepass", p.as_str()]),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        let child = self.child.insert(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if matches!(child.try_wait(), Ok(Some(_))) {
                self.child = None;
                return false;
            }
            assert!(
                Instant::now() < deadline,
                "redis-server did not listen within 10 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        true
    }

    pub fn url(&self) -> String {
        match &self.password {
            Some(p) => format!("redis://:{p}@127.0.0.1:{}", self.port),
            None => format!("redis://127.0.0.1:{}", self.port),
        }
    }

    /// `kill -9`: no shutdown save; only what was fsynced survives.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
