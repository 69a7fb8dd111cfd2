//! Sizes every layer agrees on, kept below both the API that enforces them and the
//! configuration that refers to them.

/// Largest request body the API reads (a `PING_BODY_LIMIT` cannot exceed it).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
