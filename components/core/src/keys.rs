//! Every key the monitor stores, and how it is spelled: the layout writes through these, the
//! store adapters group rows by them, and tests read through them. Below both, so neither
//! depends on the other for it.
//!
//! | key | value | written |
//! |---|---|---|
//! | `svc/{id}/seq` | 8-byte LE counter | `increment`, every heartbeat |
//! | `svc/{id}/log/{0..5}` | `LogChunk` JSON | CAS, every heartbeat |
//! | `svc/{id}/state` | `ServiceState` JSON | CAS, every heartbeat and each silence |
//! | `svc/{id}/flips` | `TransitionLog`, compact (90 days of transitions, delivery counts) | CAS, only on a transition or delivery |
//! | `svc/{id}/deliveries` | `DeliveryLog` JSON (the newest delivery records) | CAS, per delivery |
//! | `svc/{id}/notes` | `NoteLog` JSON | CAS, per `/start` or `/log` ping |
//! | `svc/{id}/notes-seq` | counter | `increment`, per note |
//! | `svc/{id}/paused` | `Pause` JSON | set / delete (pause, resume) |
//! | `sweep/last` | `SweepMark` JSON | CAS, once per sweep |
//! | `alerts/recent` | `RecentAlerts` JSON | CAS, per relayed alert (cooldown) |
//! | `alerts/log` | `AlertLog` JSON | CAS, per received alert |
//! | `config/svc/{id}` | the service's cut of services.json, with the file's version | set, once per change of the file |
//! | `config/fleet` | the validated services and maintenance windows (postcard), with the digests of both files | set, once per change of either file |
//! | `config/version` | the SHA-256 of the services.json whose cuts are all written | set, once per change of the file |
//! | `config/seen/{size}-{mtime}` | the SHA-256 of the services.json a host sees with that size and modification time | set, once per file per host |
//!
//! The store adapters add their own: `meta/cas` (the checked swap's verdict) and
//! `lock/{key}/…` (the ticket lock) — see `store`.

/// Every per-service key starts with this, then the service id and a `/`.
pub const SERVICE_PREFIX: &str = "svc/";
/// The per-service field that holds the transitions. Spelled "flips" in stored keys since the
/// first release.
pub const TRANSITIONS_FIELD: &str = "flips";
/// The per-service field that holds the delivery log: only a service's own page shows it, so it
/// is kept out of the transitions every whole-fleet read decodes.
pub const DELIVERIES_FIELD: &str = "deliveries";
/// Per-service fields the row stores keep apart from the row a heartbeat rewrites: they are
/// large and change only on a transition or a delivery.
pub const APART_FIELDS: [&str; 2] = [TRANSITIONS_FIELD, DELIVERIES_FIELD];

/// Log slots per service; each holds a chunk of `chunk_size` consecutive entries.
pub const LOG_SLOTS: i64 = 5;

/// A service's cut of services.json (see `config_cache`).
pub fn config_key(id: &str) -> String {
    format!("config/svc/{id}")
}
/// The whole validated configuration, for requests over the fleet (see `config_cache`).
pub const CONFIG_FLEET_KEY: &str = "config/fleet";
/// The digest of the services.json whose every cut is written.
pub const CONFIG_VERSION_KEY: &str = "config/version";
/// The digest of the services.json a host sees with this size and modification time.
pub fn config_seen_key(stamp: &str) -> String {
    format!("config/seen/{stamp}")
}

/// `svc/{id}/{field}`. Pieces pushed, not `format!`: a whole-fleet read spells thousands.
fn service_key(id: &str, field: &str) -> String {
    let mut key = String::with_capacity(SERVICE_PREFIX.len() + id.len() + 1 + field.len());
    key.push_str(SERVICE_PREFIX);
    key.push_str(id);
    key.push('/');
    key.push_str(field);
    key
}

pub fn seq_key(id: &str) -> String {
    service_key(id, "seq")
}
pub fn state_key(id: &str) -> String {
    service_key(id, "state")
}
pub fn transitions_key(id: &str) -> String {
    service_key(id, TRANSITIONS_FIELD)
}
pub fn deliveries_key(id: &str) -> String {
    service_key(id, DELIVERIES_FIELD)
}
pub fn log_key(id: &str, slot: i64) -> String {
    service_key(id, &format!("log/{slot}"))
}
/// The newest notes (`/start`, `/log` pings) of a service: they change no state, so they live
/// beside the numbered log rather than in it.
pub fn notes_key(id: &str) -> String {
    service_key(id, "notes")
}
/// Numbers notes, so that exactly one writer creates the notes key.
pub fn notes_seq_key(id: &str) -> String {
    service_key(id, "notes-seq")
}

/// Present while a service is paused (`POST /api/services/{id}/pause`); its value says since
/// when. Plain set and delete: pausing twice or resuming twice changes nothing.
pub fn pause_key(id: &str) -> String {
    service_key(id, "paused")
}

/// When the last sweep ran.
pub const SWEEP_KEY: &str = "sweep/last";
/// Recently fired external alerts, for their cooldown.
pub const ALERTS_KEY: &str = "alerts/recent";
/// Received external alerts, newest last.
pub const ALERT_LOG_KEY: &str = "alerts/log";

/// Entries per log chunk: `LOG_SLOTS - 1` chunks always cover the newest `max` entries.
pub fn chunk_size(max_log_entries: usize) -> i64 {
    ((max_log_entries as i64 + LOG_SLOTS - 2) / (LOG_SLOTS - 1)).max(1)
}
