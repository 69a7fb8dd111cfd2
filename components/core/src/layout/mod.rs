//! How services live in the key-value store, and the only code that writes there.
//!
//! Keys and values: [`crate::keys`] (the table of every key) and `values`. A service has a
//! handful of keys whatever its history length (Spin's default store documents 1,024 keys in
//! all).
//!
//! So a heartbeat costs three writes (five when it changes the status: the history, and the
//! state once more to settle the change — see [`Layout::settle`]), touches nothing shared with
//! other services, and never rewrites a growing value.
//!
//! Ordering comes from `increment`, which is exact on every store. Compare-and-swap is exact
//! only on keys that exist: on Spin's default store a swap against an absent key is an
//! unconditional upsert, so two "first" writers can erase each other. Each key therefore has
//! one designated creator — the writer holding the first sequence number that lands in it —
//! and everyone else waits briefly for it to appear instead of creating it.

mod encoding;
mod heartbeats;
mod reads;
mod records;
mod update;
mod values;

pub use crate::keys::*;
pub use encoding::Stored;
pub use heartbeats::{Recorded, Rules};
pub use values::*;

/// The storage layout with its one setting.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    pub max_log_entries: usize,
}

#[cfg(test)]
mod tests;
