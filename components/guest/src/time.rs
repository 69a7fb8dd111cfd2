//! The wall clock (`wasi:clocks/wall-clock` through std).

use heartbeat_core::clock::Clock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The host's wall clock.
#[derive(Debug, Clone, Copy)]
pub struct WallClock;

impl Clock for WallClock {
    fn now_ms(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }

    fn pause(&self, ms: u64) {
        std::thread::sleep(Duration::from_millis(ms));
    }
}
