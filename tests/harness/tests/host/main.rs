//! Component-level tests: the real `.wasm` files in heartbeat-host, driven over loopback HTTP,
//! with vendor calls redirected to a loopback receiver. One binary, a module per area.

mod alertmanager;
mod alerts;
mod browser;
mod channels;
mod cli;
mod clients;
mod compat;
mod compile_cache;
mod config;
mod conformance;
mod crash;
mod dependencies;
mod durability;
mod first_run;
mod fleet;
mod head;
mod keys;
mod limits;
mod load;
mod maintenance;
mod memory;
mod notifications;
mod outbound;
mod own_notifiers;
mod process;
mod quickstart;
mod reads;
mod redis;
mod reminders;
mod schedules;
mod support;
