//! Time from the Workers clock (`std::time` panics on `wasm32-unknown-unknown`).

use heartbeat_core::clock::Clock;

pub struct WorkersClock;

impl Clock for WorkersClock {
    fn now_ms(&self) -> i64 {
        worker::Date::now().as_millis() as i64
    }

    /// Core pauses only while another writer creates a key. In the Durable Object nothing else
    /// runs until this request waits, and it flushes before it does, so there is never such a
    /// writer to wait for; sleeping here would only burn CPU time.
    fn pause(&self, _ms: u64) {}
}
