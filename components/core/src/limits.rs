//! Sizes every layer agrees on, kept below both the API that enforces them and the
//! configuration that refers to them.

/// Largest request body the API reads (a `PING_BODY_LIMIT` cannot exceed it).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Longest accepted heartbeat `message`, in characters; pushes keep at most this much.
pub const MAX_MESSAGE_CHARS: usize = 1024;
/// Largest accepted heartbeat `metadata`, in bytes of compact JSON.
pub const MAX_METADATA_BYTES: usize = 4096;
