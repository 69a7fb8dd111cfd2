//! The wall clock guests see. Tests move it forward instead of sleeping for minutes.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use wasmtime_wasi::HostWallClock;

/// System time plus an adjustable offset, shared by every instance.
#[derive(Debug, Default)]
pub struct ClockControl {
    offset_ms: AtomicI64,
}

impl ClockControl {
    /// Move every guest's clock forward.
    pub fn advance(&self, by: Duration) {
        self.offset_ms
            .fetch_add(by.as_millis() as i64, Ordering::SeqCst);
    }

    pub fn now(&self) -> Duration {
        let real = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let offset = self.offset_ms.load(Ordering::SeqCst);
        if offset >= 0 {
            real + Duration::from_millis(offset as u64)
        } else {
            real.saturating_sub(Duration::from_millis(offset.unsigned_abs()))
        }
    }
}

/// The `wasi:clocks/wall-clock` of one instance.
pub struct GuestClock(pub Arc<ClockControl>);

impl HostWallClock for GuestClock {
    fn resolution(&self) -> Duration {
        Duration::from_millis(1)
    }

    fn now(&self) -> Duration {
        self.0.now()
    }
}
