//! heartbeat-core owns everything heartbeat-monitor *decides*: what the configuration means, how a
//! service moves between statuses, how state is laid out in a key-value store so concurrent
//! writers never lose a heartbeat, how uptime is computed, what each notification channel sends,
//! and what every HTTP endpoint answers.
//!
//! It is plain Rust with no WebAssembly, WIT or host crates so the same code runs in the WASI
//! components (Spin, heartbeat-host) and in the Cloudflare Worker. Hosts reach it through small
//! ports — [`store::Store`], [`clock::Clock`], [`notification::Notifier`], [`channels::Outbound`],
//! [`secrets::Secrets`] — and stay thin: decode the request, call core, encode the result.

pub mod alert;
pub mod api;
pub mod auth;
#[cfg(feature = "build-script")]
pub mod build_script;
pub mod channels;
pub mod clock;
pub mod config;
pub mod config_cache;
pub mod context;
pub mod delivery;
pub mod keys;
pub mod layout;
pub mod limits;
pub mod maintenance;
pub mod model;
pub mod notification;
pub mod notify;
pub mod ready;
pub mod schedule;
pub mod secrets;
pub mod state;
pub mod store;
pub mod sweep;
pub mod text;
pub mod time;
pub mod unsent;
pub mod uptime;
pub mod views;
pub mod worker_limits;
