//! A newcomer's first run: the built binary copied alone into an empty directory, `init`,
//! `up`, the heartbeat `init` printed — traced, to show it reads nothing from the source tree
//! or the build's target directory.

use super::support::root;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

/// An empty directory outside the repository, with the binary copied in.
fn lone_binary(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hb-first-run-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        env!("CARGO_BIN_EXE_heartbeat-host"),
        dir.join("heartbeat-host"),
    )
    .unwrap();
    dir
}

/// `./heartbeat-host args…` in `dir`, with an environment as bare as a fresh login's.
fn command(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(dir.join("heartbeat-host"));
    cmd.current_dir(dir)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir);
    cmd
}

fn run(dir: &Path, args: &[&str]) -> Output {
    let out = command(dir, args).output().unwrap();
    for stream in [&out.stdout, &out.stderr] {
        heartbeat_conformance::capture::keep("host-output", &String::from_utf8_lossy(stream));
    }
    out
}

/// Every file, by path relative to `dir`, with its bytes.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                out.insert(path.strip_prefix(dir).unwrap().to_path_buf(), bytes);
            }
        }
    }
    out
}

/// `up` under strace (file calls only); killed on drop.
struct Traced {
    child: Child,
    url: String,
}

impl Drop for Traced {
    fn drop(&mut self) {
        // strace and `up` share the group `traced_up` made: no `up` outlives the test.
        super::process::kill_group(&self.child);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn traced_up(dir: &Path, trace: &Path) -> Traced {
    let mut cmd = Command::new("strace");
    cmd.current_dir(dir)
        .args(["-f", "-qq", "--seccomp-bpf", "-e", "trace=%file", "-o"])
        .arg(trace)
        .arg(dir.join("heartbeat-host"))
        .args(["up", "--listen", "127.0.0.1:0", "--sweep-every", "0"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut child = cmd.spawn().expect("strace runs");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut first = String::new();
        let _ = BufReader::new(stdout).read_line(&mut first);
        let _ = tx.send(first);
    });
    let first = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("up prints where it listens");
    heartbeat_conformance::capture::keep("host-output", &first);
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .to_string();
    assert!(first.contains("app: built-in"), "{first}");
    Traced { child, url }
}

#[test]
#[cfg_attr(missing_strace, ignore = "needs strace: apt-get install strace")]
fn a_copied_binary_runs_init_and_up_in_an_empty_directory() {
    let dir = lone_binary("empty");

    // No config yet: up refuses, and says what to do.
    let out = run(&dir, &["up", "--listen", "127.0.0.1:0"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("heartbeat-host init"), "{stderr}");

    let out = run(&dir, &["init"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    for file in ["config/services.json", "config/notifications.json", ".env"] {
        assert!(stdout.contains(&format!("wrote ./{file}")), "{stdout}");
        assert!(dir.join(file).is_file(), "{file}");
    }
    let curl = stdout
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("curl "))
        .expect("init prints the first heartbeat's curl")
        .to_string();
    assert!(stdout.contains("http://127.0.0.1:3000/"), "{stdout}");

    let trace = dir.join("strace.log");
    let up = traced_up(&dir, &trace);
    // The printed command, pointed at the port this test's monitor got.
    let curl = curl.replace("http://127.0.0.1:3000", &up.url);
    let beat = Command::new("sh").args(["-c", &curl]).output().unwrap();
    let answer = String::from_utf8_lossy(&beat.stdout);
    assert!(beat.status.success(), "{answer}");
    assert!(answer.contains(r#""ok":true"#), "{answer}");

    let client = heartbeat_conformance::Client::new(&up.url);
    let status = client.get("/api/status").unwrap();
    assert_eq!(status.status, 200);
    let services = status.json()["services"].clone();
    assert_eq!(services[0]["id"], "example-job");
    assert_eq!(services[0]["status"], "up");
    let page = client.get("/").unwrap();
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Example job"), "{}", page.body);
    drop(up);
    // The compiled components went to the user's cache directory, for the next start.
    let cache = dir.join(".cache/heartbeat-host");
    let cached = std::fs::read_dir(&cache).map(|d| d.count()).unwrap_or(0);
    assert_eq!(cached, 4, "compile cache entries in {}", cache.display());

    // What it read: its own directory, never the repository or the build's target dir.
    let log = std::fs::read_to_string(&trace).unwrap();
    assert!(
        log.contains("services.json"),
        "the trace saw the config read"
    );
    let repo = root();
    let target = PathBuf::from(heartbeat_host::COMPONENTS_DIR);
    for line in log.lines() {
        for forbidden in [&repo, &target] {
            assert!(
                !line.contains(&*forbidden.to_string_lossy()),
                "read from {}: {line}",
                forbidden.display()
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn init_leaves_an_existing_configuration_byte_for_byte() {
    let dir = lone_binary("existing");
    std::fs::create_dir_all(dir.join("config")).unwrap();
    std::fs::write(
        dir.join("config/services.json"),
        "{ \"services\": [] } mine\n",
    )
    .unwrap();
    std::fs::write(dir.join("config/notifications.json"), "not even JSON").unwrap();
    std::fs::write(dir.join(".env"), "SPIN_VARIABLE_API_KEYS='{\"a\":\"b\"}'").unwrap();
    let before = files(&dir);

    let out = run(&dir, &["init"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert_eq!(files(&dir), before, "nothing changed");
    for file in ["config/services.json", "config/notifications.json", ".env"] {
        assert!(
            stdout.contains(&format!("kept ./{file} (already there)")),
            "{stdout}"
        );
    }
    assert!(!stdout.contains("wrote"), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn init_gives_an_existing_services_file_keys_of_its_own() {
    let dir = lone_binary("keys");
    std::fs::create_dir_all(dir.join("config")).unwrap();
    let services =
        r#"{"services": [{"id": "db-backup", "name": "DB backup", "stalenessThreshold": 60}]}"#;
    std::fs::write(dir.join("config/services.json"), services).unwrap();

    let out = run(&dir, &["init", "."]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert_eq!(
        std::fs::read_to_string(dir.join("config/services.json")).unwrap(),
        services
    );
    let env = std::fs::read_to_string(dir.join(".env")).unwrap();
    let secret = env
        .lines()
        .find_map(|l| l.strip_prefix("SPIN_VARIABLE_API_KEY_SECRET="))
        .unwrap_or_else(|| panic!("no API_KEY_SECRET in {env}"));
    assert_eq!(secret.len(), 64, "{env}");
    // The printed curl carries db-backup's key, which `key` prints too.
    let key = heartbeat_core::auth::derived_key(secret, "db-backup");
    assert!(stdout.contains(&format!("Bearer {key}")), "{stdout}");
    assert!(stdout.contains(r#""serviceId": "db-backup""#), "{stdout}");
    let printed = run(&dir, &["key", "db-backup"]);
    assert_eq!(String::from_utf8_lossy(&printed.stdout).trim(), key);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join(".env"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "only its owner reads the keys");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
