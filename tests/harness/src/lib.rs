//! heartbeat-host runs the heartbeat-monitor WebAssembly components on wasmtime, the way Spin
//! would: it reads `spin.toml` for components, routes, variables, key-value stores, file mounts
//! and the `heartbeat:monitor/notifier` dependency, and provides `wasi:http`, `wasi:keyvalue`
//! (SQLite or memory) and `wasi:config`.
//!
//! It exists twice over: as the zero-install way to run the monitor on one machine
//! (`heartbeat-host up`), and as the harness the component-level tests drive — hence the knobs
//! a test needs and Spin lacks: a movable clock, modes that reproduce Spin's stores (its default
//! store's compare-and-swap, its Redis store's), and an outgoing-HTTP redirect to a loopback
//! receiver.

pub mod allowed_hosts;
mod bindings;
pub mod check;
pub mod clock;
pub mod compile_cache;
pub mod embedded;
pub mod init;
pub mod kv;
pub mod manifest;
pub mod outbound;
pub mod runtime;
pub mod runtime_config;
pub mod server;
pub mod service_key;
mod state;
pub mod test_notification;
pub mod variables;

use anyhow::{Context, Result};
use clock::ClockControl;
use compile_cache::CompileCache;
use kv::{AbsentCas, Backend, MemoryBackend, SqliteBackend};
use manifest::ManifestSource;
use runtime::{Components, Runtime, RuntimeOptions};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Where build.rs built the components (and the benchmarks' `ceiling`); the binary carries
/// its own copies of the four (see [`embedded`]).
pub const COMPONENTS_DIR: &str = env!("HEARTBEAT_COMPONENTS_DIR");

/// Where state lives.
#[derive(Debug, Clone)]
pub enum StoreChoice {
    Memory,
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A Redis or Valkey server (`redis://host:6379`), shared by every instance that uses it.
    Redis(String),
}

impl StoreChoice {
    /// For people: where the state lives, without credentials.
    pub fn describe(&self) -> String {
        match self {
            StoreChoice::Memory => "memory (not durable)".into(),
            StoreChoice::Sqlite(p) => p.display().to_string(),
            StoreChoice::Redis(url) => format!("Redis at {}", kv::without_credentials(url)),
        }
    }
}

/// Four requests per CPU core may run in components at once: enough to keep every core busy
/// while some wait on the store, few enough that a burst queues in order.
pub fn default_max_in_flight() -> usize {
    4 * std::thread::available_parallelism().map_or(1, usize::from)
}

/// Everything `up` and the tests can set.
#[derive(Debug, Clone)]
pub struct HostOptions {
    pub manifest: ManifestSource,
    pub listen: SocketAddr,
    pub store: StoreChoice,
    pub absent_cas: AbsentCas,
    /// Make the Redis store behave as Spin 4.0.2's does (tests of the components on it).
    pub spin_redis: Option<kv::SpinRedis>,
    /// `None`: no timer (tests call `POST /api/sweep`).
    pub sweep_every: Option<Duration>,
    pub redirect_outbound: Option<SocketAddr>,
    pub variables: BTreeMap<String, String>,
    /// Use this directory for the `/config` mount instead of the manifest's.
    pub config_dir: Option<PathBuf>,
    /// Where the components come from (default: built into heartbeat-host).
    pub components: Components,
    /// Requests that may run in components at once (`None`: no limit); default four per CPU
    /// core.
    pub max_in_flight: Option<usize>,
    /// Keep compiled components on disk between starts (`None`: compile on every start).
    pub compile_cache: Option<CompileCache>,
}

impl HostOptions {
    /// Defaults for this manifest file and the built-in components.
    pub fn new(manifest: impl Into<PathBuf>) -> HostOptions {
        HostOptions {
            manifest: ManifestSource::File(manifest.into()),
            listen: SocketAddr::from(([127, 0, 0, 1], 3000)),
            store: StoreChoice::Memory,
            absent_cas: AbsentCas::Exact,
            spin_redis: None,
            sweep_every: Some(Duration::from_secs(60)),
            redirect_outbound: None,
            variables: BTreeMap::new(),
            config_dir: None,
            components: Components::BuiltIn,
            max_in_flight: Some(default_max_in_flight()),
            compile_cache: None,
        }
    }
}

/// A loaded, checked app: ready to serve.
pub struct Prepared {
    pub runtime: Arc<Runtime>,
    pub clock: Arc<ClockControl>,
    pub warnings: Vec<String>,
}

/// Load the manifest and components, and run the start-up checks.
pub fn prepare(options: &HostOptions) -> Result<Prepared> {
    let mut prepared = load(options)?;
    prepared.warnings = check::check(&prepared.runtime)?;
    Ok(prepared)
}

/// Load the manifest and components without the start-up checks — for tests of what the host
/// does at run time with a configuration the checks would have refused.
pub fn load(options: &HostOptions) -> Result<Prepared> {
    let manifest = options.manifest.load()?;
    let backend: Arc<dyn Backend> = match (&options.store, options.spin_redis) {
        (StoreChoice::Redis(url), spin) => {
            let redis = kv::RedisBackend::open(url)?;
            Arc::new(match spin {
                Some(spin) => redis.as_spin(spin),
                None => redis,
            })
        }
        (_, Some(_)) => anyhow::bail!("Spin's Redis behaviour needs a Redis store (--kv URL)"),
        (StoreChoice::Memory, None) => Arc::new(MemoryBackend::default()),
        (StoreChoice::Sqlite(path), None) => SqliteBackend::open(path)?,
    };
    let clock = Arc::new(ClockControl::default());
    let mut mount_overrides = BTreeMap::new();
    if let Some(dir) = &options.config_dir {
        mount_overrides.insert(check::CONFIG_MOUNT.to_string(), dir.clone());
    }
    let runtime = Runtime::new(
        manifest,
        RuntimeOptions {
            backend,
            absent_cas: options.absent_cas,
            clock: clock.clone(),
            hooks: outbound::Hooks {
                redirect: options.redirect_outbound,
                ..Default::default()
            },
            variable_overrides: options.variables.clone(),
            mount_overrides,
            components: options.components.clone(),
            max_in_flight: options.max_in_flight,
            compile_cache: options.compile_cache.clone(),
        },
    )?;
    Ok(Prepared {
        runtime,
        clock,
        warnings: Vec::new(),
    })
}

/// A host serving on a background thread; stops when dropped.
pub struct Running {
    pub addr: SocketAddr,
    pub clock: Arc<ClockControl>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Start serving on a background thread and return once the listener is bound.
pub fn start(options: HostOptions) -> Result<Running> {
    let prepared = prepare(&options)?;
    start_prepared(prepared, options)
}

/// [`start`] with an app already loaded (checked or not).
pub fn start_prepared(prepared: Prepared, options: HostOptions) -> Result<Running> {
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let listener = tokio
        .block_on(tokio::net::TcpListener::bind(options.listen))
        .with_context(|| format!("cannot listen on {}", options.listen))?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let rt = prepared.runtime.clone();
    let sweep_every = options.sweep_every;
    let thread = std::thread::spawn(move || {
        tokio.block_on(async move {
            if let Some(every) = sweep_every {
                tokio::spawn(server::sweep_timer(rt.clone(), every));
            }
            let _ = server::serve(rt, listener, async {
                let _ = stopped.await;
            })
            .await;
        });
        tokio.shutdown_timeout(Duration::from_secs(2));
    });
    Ok(Running {
        addr,
        clock: prepared.clock,
        stop: Some(stop),
        thread: Some(thread),
    })
}
