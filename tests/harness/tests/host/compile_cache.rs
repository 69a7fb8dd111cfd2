//! The compile cache: `heartbeat-host check` run as a process against caches of its own, so
//! each test sees what a user's starts would. (Every other process test shares one cache under
//! the target directory, so they run on components loaded from it; `first_run` shows the
//! default location being written.)

use super::support::root;
use heartbeat_conformance::FIXTURE_CONFIG_DIR;
use heartbeat_host::compile_cache::ENV;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The four components of spin.toml, built into heartbeat-host.
const COMPONENTS: usize = 4;

fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hb-compile-cache-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `heartbeat-host check` on the fixture configuration, with the environment `env` adds to.
fn check(env: impl FnOnce(&mut Command) -> &mut Command) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_heartbeat-host"));
    command
        .current_dir(root())
        .args(["check", "--config", FIXTURE_CONFIG_DIR])
        .env_remove(ENV)
        .env_remove("XDG_CACHE_HOME");
    let out = env(&mut command).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    out
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn summary(compiled: usize, dir: &Path) -> String {
    format!(
        "components: {compiled} compiled, {} from the compile cache in {}",
        COMPONENTS - compiled,
        dir.display()
    )
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    out.sort();
    out
}

/// A cache filled by one start of this build on an empty one, and what that start printed:
/// made once per test run, copied into the caches of tests that need entries to begin with.
fn reference() -> &'static (PathBuf, Output) {
    static REFERENCE: std::sync::OnceLock<(PathBuf, Output)> = std::sync::OnceLock::new();
    REFERENCE.get_or_init(|| {
        let cache = fresh_dir("reference").join("cache");
        let out = check(|c| c.env(ENV, &cache));
        (cache, out)
    })
}

/// Copy the first `n` reference entries into `cache`; returns the copies.
fn seed(cache: &Path, n: usize) -> Vec<PathBuf> {
    std::fs::create_dir_all(cache).unwrap();
    let mut copies = Vec::new();
    for entry in entries(&reference().0).iter().take(n) {
        let copy = cache.join(entry.file_name().unwrap());
        std::fs::copy(entry, &copy).unwrap();
        copies.push(copy);
    }
    copies
}

#[test]
fn the_first_start_fills_the_cache_and_the_second_loads_from_it() {
    let (cache, first) = reference();
    assert!(
        stderr(first).contains(&summary(COMPONENTS, cache)),
        "{}",
        stderr(first)
    );
    let written = entries(cache);
    assert_eq!(
        written.len(),
        COMPONENTS,
        "one entry a component: {written:?}"
    );
    assert!(
        written.iter().all(|p| p.extension().unwrap() == "cwasm"),
        "{written:?}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(cache).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o777,
            0o700,
            "only its owner reads or writes the code"
        );
    }

    let dir = fresh_dir("second");
    let cache = dir.join("cache");
    let copies = seed(&cache, COMPONENTS);
    let second = check(|c| c.env(ENV, &cache));
    assert!(
        stderr(&second).contains(&summary(0, &cache)),
        "{}",
        stderr(&second)
    );
    assert_eq!(entries(&cache), copies, "nothing written again");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_damaged_entry_is_compiled_again_never_run() {
    let dir = fresh_dir("damaged");
    let cache = dir.join("cache");
    let written = seed(&cache, COMPONENTS);
    // One byte changed in the middle of one file, one file cut short (a crash mid-write on a
    // file system that lost the tail), one emptied.
    let mut bytes = std::fs::read(&written[0]).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&written[0], &bytes).unwrap();
    let bytes = std::fs::read(&written[1]).unwrap();
    std::fs::write(&written[1], &bytes[..bytes.len() - 100]).unwrap();
    std::fs::write(&written[2], b"").unwrap();

    let out = check(|c| c.env(ENV, &cache));
    let err = stderr(&out);
    assert!(err.contains(&summary(3, &cache)), "{err}");
    for damaged in &written[..3] {
        assert!(
            err.contains(&format!(
                "{} is damaged; compiling again",
                damaged.display()
            )),
            "{err}"
        );
    }
    // Written again whole: the next start loads all four.
    let out = check(|c| c.env(ENV, &cache));
    assert!(
        stderr(&out).contains(&summary(0, &cache)),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("is damaged"), "{}", stderr(&out));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_cache_that_cannot_be_written_costs_a_compile_not_the_start() {
    let dir = fresh_dir("unwritable");
    // A directory cannot be made under a file, whoever runs the test (root included).
    let file = dir.join("not-a-directory");
    std::fs::write(&file, "").unwrap();
    let cache = file.join("cache");
    let out = check(|c| c.env(ENV, &cache));
    let err = stderr(&out);
    assert!(err.contains(&summary(COMPONENTS, &cache)), "{err}");
    assert!(
        err.contains(&format!("compile cache: cannot create {}", cache.display())),
        "{err}"
    );
    assert!(err.contains("the next start compiles again"), "{err}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("configuration is valid"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_cache_is_in_the_users_cache_directory_unless_turned_off() {
    let home = fresh_dir("home");
    let default = home.join(".cache/heartbeat-host");
    seed(&default, COMPONENTS);
    let out = check(|c| c.env("HOME", &home));
    assert!(
        stderr(&out).contains(&summary(0, &default)),
        "{}",
        stderr(&out)
    );

    let xdg = home.join("xdg");
    let in_xdg = xdg.join("heartbeat-host");
    seed(&in_xdg, COMPONENTS);
    let out = check(|c| c.env("HOME", &home).env("XDG_CACHE_HOME", &xdg));
    assert!(
        stderr(&out).contains(&summary(0, &in_xdg)),
        "{}",
        stderr(&out)
    );

    // Off: nothing read (the filled default is there) and nothing written.
    let out = check(|c| c.env("HOME", &home).env(ENV, "off"));
    assert!(!stderr(&out).contains("compile cache"), "{}", stderr(&out));
    assert_eq!(entries(&default).len(), COMPONENTS);

    // No home at all (a service account): off, and the log says why.
    let out = check(|c| c.env_remove("HOME"));
    assert!(
        stderr(&out).contains("compile cache: off, as neither HEARTBEAT_HOST_COMPILE_CACHE"),
        "{}",
        stderr(&out)
    );
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn old_entries_make_room_for_new_ones() {
    let dir = fresh_dir("prune");
    let cache = dir.join("cache");
    // Three of this build's entries (the fourth is compiled and written, which prunes), twenty
    // of earlier builds used a day ago and more, a foreign file, and a temporary file a killed
    // start left an hour ago.
    let current = seed(&cache, COMPONENTS - 1);
    let day = std::time::Duration::from_secs(86_400);
    let age = |path: &Path, ago: std::time::Duration| {
        let file = std::fs::File::options().append(true).open(path).unwrap();
        file.set_modified(std::time::SystemTime::now() - ago)
            .unwrap();
    };
    for i in 0..20u32 {
        let old = cache.join(format!("{i:064x}.cwasm"));
        std::fs::write(&old, b"an older build's component").unwrap();
        age(&old, day * (i + 1));
    }
    std::fs::write(cache.join("README"), "mine").unwrap();
    let left = cache.join(format!("{:064x}.tmp-1", 99));
    std::fs::write(&left, b"half").unwrap();
    age(&left, std::time::Duration::from_secs(3600));

    let out = check(|c| c.env(ENV, &cache));
    assert!(
        stderr(&out).contains(&summary(1, &cache)),
        "{}",
        stderr(&out)
    );
    let names: Vec<String> = entries(&cache)
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let kept = names.iter().filter(|n| n.ends_with(".cwasm")).count();
    assert_eq!(kept, 16, "{names:?}");
    // This build's four and the twelve most recently used of the old ones.
    for path in &current {
        assert!(path.exists(), "{} in {names:?}", path.display());
    }
    for i in 0..20u32 {
        let name = format!("{i:064x}.cwasm");
        assert_eq!(names.contains(&name), i < 12, "{name} in {names:?}");
    }
    assert!(names.contains(&"README".to_string()), "{names:?}");
    assert!(!names.iter().any(|n| n.contains(".tmp-")), "{names:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn help_names_the_variable_and_its_default() {
    let out = Command::new(env!("CARGO_BIN_EXE_heartbeat-host"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{help}");
    assert!(help.contains(ENV), "{help}");
    assert!(help.contains("~/.cache/heartbeat-host"), "{help}");
}
