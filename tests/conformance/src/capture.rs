//! With `HEARTBEAT_CAPTURE_DIR` set, every response a test client receives and every log a
//! host under test prints is also appended to files there, so CI can check, after the whole
//! suite, that no secret value appears in any of them (`.ci/run`, step "secret scan").

use std::io::Write;

pub const CAPTURE_DIR_ENV: &str = "HEARTBEAT_CAPTURE_DIR";

/// Append `text` to `{HEARTBEAT_CAPTURE_DIR}/{kind}-{pid}.txt`, if capturing.
pub fn keep(kind: &str, text: &str) {
    let Some(dir) = std::env::var_os(CAPTURE_DIR_ENV) else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(format!("{kind}-{}.txt", std::process::id()));
    // One write per call: appends from several threads do not interleave inside it.
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = f.write_all(text.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_secret_list_holds_every_fixture_key() {
        let list = include_str!("../../fixtures/secrets.txt");
        let values: Vec<&str> = list.lines().filter(|l| !l.starts_with('#')).collect();
        for service in crate::FIXTURE_SERVICES {
            assert!(values.contains(&crate::fixture_key(service).as_str()));
        }
        assert!(values.contains(&"secret-webhook-token"));
    }
}
