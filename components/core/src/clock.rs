//! The time port. Logic takes `now` as an argument; only retry loops need to wait.

/// Wall-clock time and waiting, provided by the host.
pub trait Clock {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> i64;
    /// Wait roughly `ms` milliseconds (used only while another writer creates a key).
    fn pause(&self, ms: u64);
}

/// A clock the tests move by hand; `pause` advances it instead of sleeping.
#[cfg(any(test, feature = "testing"))]
#[derive(Debug, Default)]
pub struct ManualClock {
    now: std::cell::Cell<i64>,
}

#[cfg(any(test, feature = "testing"))]
impl ManualClock {
    pub fn at(now_ms: i64) -> Self {
        Self {
            now: std::cell::Cell::new(now_ms),
        }
    }

    pub fn advance_secs(&self, secs: i64) {
        self.now.set(self.now.get() + secs * 1000);
    }
}

#[cfg(any(test, feature = "testing"))]
impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.now.get()
    }

    fn pause(&self, ms: u64) {
        self.now.set(self.now.get() + ms as i64);
    }
}
