//! Any pair of `services.json` and `notifications.json` (split at the first NUL byte) is
//! either a configuration or an error naming what is wrong — never a panic.
#![no_main]

use heartbeat_core::config::Config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (services, notifications) = text
        .split_once('\0')
        .unwrap_or((&text, r#"{"channels": []}"#));
    match Config::parse(services, notifications) {
        Ok(config) => {
            for s in &config.services {
                assert!(!s.id.is_empty());
            }
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
});
