//! Each service's cut of services.json ([`crate::config::subset`]) kept in the store, so an
//! ingest request on a host that starts every request afresh (Spin, heartbeat-host) parses its
//! own service's configuration, not the whole fleet's.
//!
//! A cut is valid for one content of services.json, named by its SHA-256. A request learns the
//! content's digest from the file's size and modification time — a `stat`, not a read — through
//! `config/seen/{size}-{mtime}`, written by the first request that hashed that file; so hosts
//! that share a store but hold their own copies of the file (replicas, each with its own
//! mtime) share the cuts too. The first request that finds a new content validates the whole
//! file and writes every service's cut (one pass); later requests read their cut alone.
//! services.json stays the one source of truth: a stale cut is never used.
//!
//! Requests over the whole fleet ([`whole`]) read the validated configuration back the same
//! way, from one entry keyed by the digests of both files.
//!
//! A file under [`CACHE_FROM_BYTES`] is parsed whole, as before: it is cheap to parse, and its
//! fleet keeps to eight keys per service (Spin's default store documents room for 1,024).

use crate::config::subset::{self, Subset};
use crate::config::{Config, ConfigError, ServiceConfig};
use crate::keys::{config_key, config_seen_key, CONFIG_FLEET_KEY, CONFIG_VERSION_KEY};
use crate::maintenance::Window;
use crate::store::Store;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const SERVICES_FILE: &str = "services.json";
pub const NOTIFICATIONS_FILE: &str = "notifications.json";
/// services.json from this size on (about 150 services) is read through the cuts.
pub const CACHE_FROM_BYTES: u64 = 16 * 1024;

/// What tells one version of a file from another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileVersion {
    pub len: u64,
    /// Modification time, in nanoseconds since the epoch.
    pub modified_ns: u128,
}

/// Why the configuration could not be loaded: a sentence for a 500 that names the file or the
/// field, never a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    /// A file could not be read (the host's sentence names it and how to mount it).
    #[error("{0}")]
    Unreadable(String),
    #[error("invalid configuration: {0}")]
    Invalid(#[from] ConfigError),
}

/// The configuration files as a host mounts them.
pub trait ConfigFiles {
    /// The file's size and modification time; `None` where the host cannot tell, and then
    /// nothing is cached.
    fn version(&self, name: &str) -> Option<FileVersion>;
    /// The file's text.
    fn read(&self, name: &str) -> Result<String, LoadError>;
}

/// A cut as the store keeps it.
#[derive(Serialize, Deserialize)]
struct Entry {
    version: String,
    services: String,
}

/// The configuration a request about service `id` needs: notifications.json and `id`'s cut of
/// services.json, marked `partial` — or, for a small or unversioned services.json, both files
/// whole. An id services.json does not list gets no services (the request then answers 404).
pub fn for_service<S: Store>(
    files: &dyn ConfigFiles,
    store: &S,
    id: &str,
) -> Result<Config, LoadError> {
    let notifications = files.read(NOTIFICATIONS_FILE)?;
    let parse = |services: &str| Ok(Config::parse(services, &notifications)?);
    let Some((text, version)) = content(files, store)? else {
        return parse(&files.read(SERVICES_FILE)?);
    };
    let cached = store
        .get(&config_key(id))
        .ok()
        .flatten()
        .and_then(|bytes| serde_json::from_slice::<Entry>(&bytes).ok())
        .filter(|entry| entry.version == version)
        .map(|entry| entry.services);
    let services = match cached {
        Some(cut) => cut,
        None => refresh(files, text, store, id, &version, &notifications)?,
    };
    let mut config = parse(&services)?;
    config.partial = true;
    Ok(config)
}

/// The shape of [`Fleet`] (and of `ServiceConfig`, `Schedule`, `Window` inside it): bump it
/// when one changes, so that an entry an older build wrote is parsed afresh rather than read
/// as the new shape. The package version is part of the entry's version too.
const FLEET_FORMAT: &str = "fleet-1";

/// The validated services of one content of both files, as the store keeps them.
#[derive(Serialize, Deserialize)]
struct Fleet {
    /// The format, the package version, services.json's digest, then notifications.json's:
    /// the services were checked against that notifications.json's channels.
    version: String,
    services: Vec<ServiceConfig>,
    maintenance: Vec<Window>,
}

/// Both files whole, for a request over the fleet (status, dashboard, metrics, a sweep). A
/// large services.json is parsed and validated by the first such request after it changes,
/// which keeps the result in the store (`config/fleet`, postcard); later requests read that
/// back in a fraction of the time. notifications.json is small and parsed every time.
pub fn whole<S: Store>(files: &dyn ConfigFiles, store: &S) -> Result<Config, LoadError> {
    let notifications = files.read(NOTIFICATIONS_FILE)?;
    let Some((text, digest)) = content(files, store)? else {
        return Ok(Config::parse(&files.read(SERVICES_FILE)?, &notifications)?);
    };
    let version = format!("{}/{digest}-{}", fleet_format(), sha256_hex(&notifications));
    let kept = store
        .get(CONFIG_FLEET_KEY)
        .ok()
        .flatten()
        .and_then(|bytes| Fleet::decode(&bytes, &version));
    if let Some(fleet) = kept {
        return fleet.config(&notifications);
    }
    let text = services_text(files, text)?;
    let config = Config::parse(&text, &notifications)?;
    // Best effort: a store that refuses only costs the next request the same parse.
    let _ = store.set(CONFIG_FLEET_KEY, &Fleet::encode(&config, version));
    Ok(config)
}

/// The shape of a kept [`Fleet`] and the package version that wrote it.
fn fleet_format() -> String {
    format!("{FLEET_FORMAT}/{}", env!("CARGO_PKG_VERSION"))
}

/// `config`'s validated services in the form [`whole`] keeps them (postcard), for a build to
/// embed: a host that has neither the files nor a store to keep this in (the Worker) then
/// decodes its fleet once per isolate instead of parsing and validating services.json there,
/// on the first request an isolate answers.
pub fn compile(config: &Config) -> Vec<u8> {
    Fleet::encode(config, fleet_format())
}

/// The configuration [`compile`] made in a build of this same version, with the
/// notifications.json its services were validated against.
pub fn compiled(bytes: &[u8], notifications: &str) -> Result<Config, LoadError> {
    match Fleet::decode(bytes, &fleet_format()) {
        Some(fleet) => fleet.config(notifications),
        None => Err(LoadError::Unreadable(format!(
            "the compiled configuration is not of this build ({}): build again",
            fleet_format()
        ))),
    }
}

impl Fleet {
    fn encode(config: &Config, version: String) -> Vec<u8> {
        let fleet = Fleet {
            version,
            services: config.services.clone(),
            maintenance: config.maintenance.clone(),
        };
        postcard::to_allocvec(&fleet).expect("plain data serializes")
    }

    /// The fleet `bytes` hold if they are of `version`. postcard does not describe itself:
    /// every byte must be used, or they were another shape.
    fn decode(bytes: &[u8], version: &str) -> Option<Fleet> {
        match postcard::take_from_bytes::<Fleet>(bytes) {
            Ok((fleet, [])) if fleet.version == version => Some(fleet),
            _ => None,
        }
    }

    fn config(self, notifications: &str) -> Result<Config, LoadError> {
        Ok(Config::validated(
            self.services,
            self.maintenance,
            notifications,
        )?)
    }
}

/// The digest of services.json's content, learnt from its size and modification time (and the
/// text, if this request had to read it to hash it); `None` for a small or unversioned file,
/// which is read and parsed whole.
fn content<S: Store>(
    files: &dyn ConfigFiles,
    store: &S,
) -> Result<Option<(Option<String>, String)>, LoadError> {
    let Some(stamp) = files
        .version(SERVICES_FILE)
        .filter(|v| v.len >= CACHE_FROM_BYTES)
        .map(|v| format!("{}-{}", v.len, v.modified_ns))
    else {
        return Ok(None);
    };
    let seen = store
        .get(&config_seen_key(&stamp))
        .ok()
        .flatten()
        .and_then(|digest| String::from_utf8(digest).ok());
    Ok(Some(match seen {
        Some(digest) => (None, digest),
        None => {
            let text = files.read(SERVICES_FILE)?;
            let digest = sha256_hex(&text);
            let _ = store.set(&config_seen_key(&stamp), digest.as_bytes());
            (Some(text), digest)
        }
    }))
}

/// services.json changed since `id`'s cut was written (or it never was): if no request has
/// written this version's cuts yet, validate the file and write them all; return `id`'s.
/// Writing is best effort — a store that fails only costs the next request the same work.
/// `text` is the file if this request has read it already.
fn refresh<S: Store>(
    files: &dyn ConfigFiles,
    text: Option<String>,
    store: &S,
    id: &str,
    version: &str,
    notifications: &str,
) -> Result<String, LoadError> {
    let text = services_text(files, text)?;
    let written = store.get(CONFIG_VERSION_KEY).ok().flatten();
    if written.as_deref() == Some(version.as_bytes()) {
        // Every cut of this version is written and `id`'s is not: services.json does not list
        // it (or that one write failed).
        let cut = subset::one(&text, id);
        if let Some(cut) = &cut {
            keep(store, version, cut);
        }
        return Ok(cut.map_or_else(no_services, |c| c.services_json));
    }
    Config::parse(&text, notifications)?;
    let cuts = subset::all(&text).unwrap_or_default();
    for cut in &cuts {
        keep(store, version, cut);
    }
    let _ = store.set(CONFIG_VERSION_KEY, version.as_bytes());
    Ok(cuts
        .into_iter()
        .find(|c| c.id == id)
        .map_or_else(no_services, |c| c.services_json))
}

/// services.json's text: the one this request read already (to hash it), or read now.
fn services_text(files: &dyn ConfigFiles, read: Option<String>) -> Result<String, LoadError> {
    match read {
        Some(text) => Ok(text),
        None => files.read(SERVICES_FILE),
    }
}

fn keep<S: Store>(store: &S, version: &str, cut: &Subset) {
    let entry = Entry {
        version: version.to_string(),
        services: cut.services_json.clone(),
    };
    let bytes = serde_json::to_vec(&entry).expect("plain data serializes");
    let _ = store.set(&config_key(&cut.id), &bytes);
}

fn sha256_hex(text: &str) -> String {
    crate::text::hex(&Sha256::digest(text.as_bytes()))
}

fn no_services() -> String {
    r#"{"services": []}"#.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::counted::Counted;
    use std::cell::RefCell;
    use std::collections::BTreeMap;

    /// Files in memory that count the bytes read from each.
    #[derive(Default)]
    struct Files {
        text: RefCell<BTreeMap<&'static str, String>>,
        versions: RefCell<BTreeMap<&'static str, u32>>,
        read: RefCell<BTreeMap<String, usize>>,
    }

    impl Files {
        fn fleet(n: usize) -> Files {
            let files = Files::default();
            files.write(SERVICES_FILE, services_json(n, |_| None));
            files.write(NOTIFICATIONS_FILE, r#"{"channels": []}"#.into());
            files
        }

        fn write(&self, name: &'static str, text: String) {
            self.text.borrow_mut().insert(name, text);
            *self.versions.borrow_mut().entry(name).or_default() += 1;
        }

        fn bytes_read(&self, name: &str) -> usize {
            self.read.borrow().get(name).copied().unwrap_or(0)
        }
    }

    impl ConfigFiles for Files {
        fn version(&self, name: &str) -> Option<FileVersion> {
            Some(FileVersion {
                len: self.text.borrow().get(name)?.len() as u64,
                modified_ns: u128::from(*self.versions.borrow().get(name)?),
            })
        }

        fn read(&self, name: &str) -> Result<String, LoadError> {
            let text = self.text.borrow().get(name).cloned();
            let text = text.ok_or_else(|| LoadError::Unreadable(format!("{name} is absent")))?;
            *self.read.borrow_mut().entry(name.to_string()).or_default() += text.len();
            Ok(text)
        }
    }

    /// services.json of `n` services `svc-{i}`, with `edit` replacing any of them (`Some("")`
    /// drops it).
    fn services_json(n: usize, edit: impl Fn(usize) -> Option<String>) -> String {
        let services: Vec<String> = (0..n)
            .filter_map(|i| match edit(i) {
                Some(e) if e.is_empty() => None,
                Some(e) => Some(e),
                None => Some(format!(r#"{{"id": "svc-{i}", "name": "Service {i}"}}"#)),
            })
            .collect();
        format!(r#"{{"services": [{}]}}"#, services.join(","))
    }

    /// Bytes read from services.json and from the store by one request for `id`.
    fn request(files: &Files, store: &Counted, id: &str) -> usize {
        let (file, kv) = (files.bytes_read(SERVICES_FILE), store.bytes_read.get());
        let config = for_service(files, store, id).unwrap();
        assert_eq!(config.service(id).map(|s| s.id.as_str()), Some(id));
        files.bytes_read(SERVICES_FILE) - file + (store.bytes_read.get() - kv) as usize
    }

    #[test]
    fn a_request_reads_no_more_at_ten_thousand_services_than_at_ten() {
        let mut steady = Vec::new();
        for n in [10, 1_000, 10_000] {
            let (files, store) = (Files::fleet(n), Counted::default());
            request(&files, &store, "svc-3");
            // The first request after a change read the file; the next one reads its own.
            steady.push(request(&files, &store, "svc-7"));
            let partial = for_service(&files, &store, "svc-7").unwrap().partial;
            assert_eq!(partial, n >= 1_000, "{n} services: read through the cuts");
        }
        // Only the digits of the file's size in the cut's version differ.
        assert!(
            steady[2].abs_diff(steady[1]) <= 2,
            "bytes read at 1,000 and 10,000 services: {steady:?}"
        );
        assert!(
            steady[2] <= steady[0],
            "10,000 services read {} bytes, 10 services {}",
            steady[2],
            steady[0]
        );
    }

    #[test]
    fn a_changed_file_is_cut_afresh_and_a_removed_service_is_gone() {
        let (files, store) = (Files::fleet(1_000), Counted::default());
        request(&files, &store, "svc-1");
        request(&files, &store, "svc-2");
        files.write(
            SERVICES_FILE,
            services_json(1_000, |i| match i {
                1 => Some(r#"{"id": "svc-1", "name": "Renamed"}"#.into()),
                2 => Some(String::new()),
                _ => None,
            }),
        );
        let config = for_service(&files, &store, "svc-1").unwrap();
        assert_eq!(config.service("svc-1").unwrap().name, "Renamed");
        let config = for_service(&files, &store, "svc-2").unwrap();
        assert!(config.services.is_empty(), "svc-2 was removed");
        for_service(&files, &store, "nobody").unwrap();
        assert_eq!(
            store.inner.get(&config_key("nobody")).unwrap(),
            None,
            "unknown ids leave nothing in the store"
        );
    }

    #[test]
    fn replicas_with_their_own_copy_of_the_file_share_the_cuts() {
        let store = Counted::default();
        let (a, b) = (Files::fleet(1_000), Files::fleet(1_000));
        // The same content, written at another moment: another modification time.
        b.write(SERVICES_FILE, a.text.borrow()[SERVICES_FILE].clone());
        for files in [&a, &b] {
            request(files, &store, "svc-1");
        }
        store.reset();
        for files in [&a, &b, &a, &b] {
            let before = files.bytes_read(SERVICES_FILE);
            request(files, &store, "svc-2");
            assert_eq!(
                files.bytes_read(SERVICES_FILE),
                before,
                "the file is not read"
            );
        }
        assert_eq!(
            store.writes.get(),
            0,
            "no replica rewrites the other's cuts"
        );
    }

    #[test]
    fn an_invalid_file_is_refused_with_its_field() {
        let (files, store) = (Files::fleet(1_000), Counted::default());
        files.write(
            SERVICES_FILE,
            services_json(1_000, |i| {
                (i == 500).then(|| r#"{"id": "bad", "stalenessThreshold": -5}"#.into())
            }),
        );
        let e = for_service(&files, &store, "svc-1")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("invalid configuration: services.json: services[500].stalenessThreshold"),
            "{e}"
        );
    }

    /// A fleet with a cron schedule and maintenance windows (global and a service's own), so
    /// the kept configuration must carry them.
    fn rich_fleet() -> Files {
        let files = Files::fleet(0);
        let services = services_json(1_000, |i| {
            match i {
            3 => Some(
                r#"{"id": "svc-3", "schedule": {"kind": "cron", "expression": "0 3 * * *", "timezone": "Europe/Paris"},
                    "maintenance": [{"expression": "0 2 * * 0", "timezone": "UTC", "duration": 1800}],
                    "dependsOn": ["svc-4"], "notifications": {"channels": ["ops"], "events": ["down"]}}"#
                    .into(),
            ),
            _ => None,
        }
        });
        let global = r#"{"maintenance": [{"expression": "0 1 * * 6", "timezone": "Asia/Tokyo", "duration": 3600}], "services""#;
        files.write(
            SERVICES_FILE,
            services.replacen(r#"{"services""#, global, 1),
        );
        files.write(
            NOTIFICATIONS_FILE,
            r#"{"channels": [{"type": "webhook", "name": "ops", "config": {}}]}"#.into(),
        );
        files
    }

    #[test]
    fn the_whole_configuration_is_validated_once_and_read_back_equal() {
        let (files, store) = (rich_fleet(), Counted::default());
        let text = files.text.borrow()[SERVICES_FILE].clone();
        let parsed = Config::parse(&text, &files.text.borrow()[NOTIFICATIONS_FILE]).unwrap();
        assert_eq!(whole(&files, &store).unwrap(), parsed);
        let read = files.bytes_read(SERVICES_FILE);
        for _ in 0..3 {
            assert_eq!(
                whole(&files, &store).unwrap(),
                parsed,
                "read back from the store"
            );
        }
        assert_eq!(
            files.bytes_read(SERVICES_FILE),
            read,
            "the file is not read again"
        );
        let svc3 = parsed.service("svc-3").unwrap();
        assert_eq!(svc3.maintenance.len(), 1);
        assert!(matches!(
            svc3.schedule.kind,
            crate::schedule::Kind::Cron { .. }
        ));
        assert_eq!(parsed.maintenance.len(), 1);

        // What the store keeps stands for the file only: a damaged entry, or one with bytes
        // to spare (another shape of the same data), is parsed afresh.
        let kept = store.inner.get(CONFIG_FLEET_KEY).unwrap().unwrap();
        for damaged in [b"not postcard".to_vec(), [kept.as_slice(), &[0]].concat()] {
            store.inner.set(CONFIG_FLEET_KEY, &damaged).unwrap();
            let before = files.bytes_read(SERVICES_FILE);
            assert_eq!(whole(&files, &store).unwrap(), parsed);
            assert!(files.bytes_read(SERVICES_FILE) > before);
        }
    }

    #[test]
    fn a_change_to_either_file_is_validated_afresh() {
        let (files, store) = (rich_fleet(), Counted::default());
        whole(&files, &store).unwrap();
        // svc-3 names the channel "ops": without it, services.json no longer validates.
        files.write(NOTIFICATIONS_FILE, r#"{"channels": []}"#.into());
        let e = whole(&files, &store).unwrap_err().to_string();
        assert!(e.contains("services[3].notifications.channels[0]"), "{e}");
        files.write(
            NOTIFICATIONS_FILE,
            r#"{"channels": [{"type": "webhook", "name": "ops", "config": {}}], "settings": {"cooldownMinutes": 9}}"#
                .into(),
        );
        assert_eq!(
            whole(&files, &store)
                .unwrap()
                .notifications
                .cooldown_minutes,
            9
        );

        files.write(
            SERVICES_FILE,
            services_json(1_000, |i| {
                (i == 7).then(|| r#"{"id": "svc-7", "name": "Seven"}"#.into())
            }),
        );
        let config = whole(&files, &store).unwrap();
        assert_eq!(config.service("svc-7").unwrap().name, "Seven");
        assert!(config.maintenance.is_empty());
        assert!(!config.partial);
    }

    #[test]
    fn a_compiled_configuration_reads_back_equal_and_refuses_other_bytes() {
        let files = rich_fleet();
        let notifications = files.text.borrow()[NOTIFICATIONS_FILE].clone();
        let parsed = Config::parse(&files.text.borrow()[SERVICES_FILE], &notifications).unwrap();
        let bytes = compile(&parsed);
        assert_eq!(compiled(&bytes, &notifications).unwrap(), parsed);
        for other in [b"not postcard".to_vec(), [bytes.as_slice(), &[0]].concat()] {
            let e = compiled(&other, &notifications).unwrap_err().to_string();
            assert!(e.contains("build again"), "{e}");
        }
    }
}
