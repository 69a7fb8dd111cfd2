//! A thread that does one job whenever asked, and coalesces the asks that come in while it
//! works: the SQLite store's commit-and-flush, which every request waits for before it answers.

use anyhow::{Context, Result};
use std::sync::{Arc, Condvar, Mutex};

#[derive(Default)]
pub(super) struct Flusher {
    signal: Arc<Signal>,
}

#[derive(Default)]
struct Signal {
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Default)]
struct State {
    /// Asked since the job last began.
    asked: bool,
    stop: bool,
}

impl Flusher {
    /// Run `job` on a thread of its own each time [`Flusher::wake`] is called (once for any
    /// number of calls while it runs), until [`Flusher::stop`] or `job` returns false.
    pub(super) fn start(&self, mut job: impl FnMut() -> bool + Send + 'static) -> Result<()> {
        let signal = self.signal.clone();
        std::thread::Builder::new()
            .name("store-flusher".into())
            .spawn(move || loop {
                {
                    let mut state = signal.state.lock().unwrap();
                    while !state.asked && !state.stop {
                        state = signal.changed.wait(state).unwrap();
                    }
                    if state.stop {
                        return;
                    }
                    state.asked = false;
                }
                if !job() {
                    return;
                }
            })
            .context("cannot start the store's flusher thread")?;
        Ok(())
    }

    pub(super) fn wake(&self) {
        self.signal.state.lock().unwrap().asked = true;
        self.signal.changed.notify_one();
    }

    pub(super) fn stop(&self) {
        self.signal.state.lock().unwrap().stop = true;
        self.signal.changed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    fn until(what: &str, done: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !done() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn runs_once_per_burst_of_asks_and_stops() {
        let flusher = Flusher::default();
        let runs = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new(Mutex::new(()));
        let held = gate.lock().unwrap();
        let (r, g) = (runs.clone(), gate.clone());
        flusher
            .start(move || {
                r.fetch_add(1, Ordering::SeqCst);
                drop(g.lock().unwrap());
                true
            })
            .unwrap();
        flusher.wake();
        until("the first run", || runs.load(Ordering::SeqCst) == 1);
        // Asked five times while the first run is held: one more run covers them all.
        for _ in 0..5 {
            flusher.wake();
        }
        drop(held);
        until("the second run", || runs.load(Ordering::SeqCst) == 2);
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        flusher.stop();
        flusher.wake();
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(runs.load(Ordering::SeqCst), 2, "no run after stop");
    }
}
