//! The wasmtime side: one engine, the components of `spin.toml` compiled and pre-instantiated
//! once, and a fresh instance per request (pooling allocator: tens of microseconds).

use crate::bindings::custom_notifier::CustomNotifierPre;
use crate::bindings::notifiers::NotifiersPre;
use crate::bindings::HttpComponent;
use crate::clock::{ClockControl, GuestClock};
use crate::compile_cache::{self, CompileCache};
use crate::kv::{AbsentCas, Backend};
use crate::manifest::Manifest;
use crate::outbound::Hooks;
use crate::state::{HostState, Profile, Turn};
use crate::variables::Variables;
use anyhow::{anyhow, bail, Context, Result};
use hyper::body::Body;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use wasmtime::component::{Component, HasSelf, Linker, ResourceTable};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};
use wasmtime_wasi::{FsPerms, WasiCtx};
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpView};

pub mod notifiers;

pub use notifiers::{Slot, EXTRA_NOTIFIER_IMPORT, NOTIFIER_IMPORT};
/// Largest linear memory one instance may grow to.
const MEMORY_LIMIT: usize = 64 << 20;

enum Pre {
    Http(ProxyPre<HostState>),
    /// Ours: exports `notifier` and `extra-notifier`.
    Notifiers(NotifiersPre<HostState>),
    /// A notifier of the user's own: exports `notifier` only.
    Custom(CustomNotifierPre<HostState>),
}

/// How the runtime is set up.
#[derive(Clone)]
pub struct RuntimeOptions {
    pub backend: Arc<dyn Backend>,
    pub absent_cas: AbsentCas,
    pub clock: Arc<ClockControl>,
    pub hooks: Hooks,
    /// Variable values that win over the environment (tests).
    pub variable_overrides: BTreeMap<String, String>,
    /// Replace the host directory of a `files` mount, by guest path (e.g. `/config`).
    pub mount_overrides: BTreeMap<String, PathBuf>,
    pub components: Components,
    /// Requests that may run in components at once; `None`: no limit. See [`Runtime::admit`].
    pub max_in_flight: Option<usize>,
    /// Keep compiled components on disk between starts; `None`: compile on every start.
    pub compile_cache: Option<CompileCache>,
}

/// Where each component's `.wasm` comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Components {
    /// The ones built into heartbeat-host, by the file name of the manifest's `source`.
    BuiltIn,
    /// `.wasm` files in this directory, by the file name of the manifest's `source`.
    Dir(PathBuf),
    /// The manifest's own `source` paths.
    Manifest,
}

pub struct Runtime {
    engine: Engine,
    pub manifest: Manifest,
    pres: HashMap<String, Pre>,
    profiles: HashMap<String, Profile>,
    mounts: HashMap<String, Vec<(PathBuf, String)>>,
    options: RuntimeOptions,
    /// Turns to run in a component, handed out first come, first served.
    in_flight: Option<Arc<tokio::sync::Semaphore>>,
    /// Component instances alive now: a key-value call yields only if another is (see
    /// `state::interleave`).
    pub(crate) live: std::sync::atomic::AtomicUsize,
}

/// Set to `on-demand` to allocate each instance's memory with mmap instead of the pool (only
/// the per-request benchmark does, to show what pooling saves).
pub const ALLOCATOR_ENV: &str = "HEARTBEAT_HOST_ALLOCATOR";

/// Set to `perfmap` to write `/tmp/perf-<pid>.map`, so `perf` names the components' functions
/// (profiling only; docs/PERFORMANCE.md shows how).
pub const PROFILER_ENV: &str = "HEARTBEAT_HOST_PROFILER";

/// How much of a finished instance's tables stays mapped for the next.
const KEEP_RESIDENT: usize = 1 << 20;

/// How much of a finished instance's memory stays mapped for the next. Where the kernel names
/// the pages an instance wrote (`PAGEMAP_SCAN`), only those are reset, so keeping more costs
/// nothing per request and spares a whole-fleet read faulting in fresh pages: 4 MiB holds a
/// read of 1,000 services (a heartbeat touches under 1 MiB), which took 13 % less time than
/// with 1 MiB (docs/PERFORMANCE.md). Older kernels `memset` the whole kept part on every
/// reset, so there it stays at 1 MiB.
fn memory_keep_resident() -> usize {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    if has_pagemap_scan(&release) {
        4 << 20
    } else {
        KEEP_RESIDENT
    }
}

/// Whether a Linux of this release (`uname -r`) has `PAGEMAP_SCAN`: 6.7 on.
fn has_pagemap_scan(release: &str) -> bool {
    let mut numbers = release
        .trim()
        .split(|c: char| !c.is_ascii_digit())
        .map(|n| n.parse::<u32>().ok());
    match (numbers.next().flatten(), numbers.next().flatten()) {
        (Some(major), Some(minor)) => (major, minor) >= (6, 7),
        _ => false,
    }
}

/// One engine per process: compiling is the expensive part, and tests start many hosts.
fn engine() -> Result<Engine> {
    static ENGINE: std::sync::OnceLock<Engine> = std::sync::OnceLock::new();
    if let Some(e) = ENGINE.get() {
        return Ok(e.clone());
    }
    let mut config = Config::new();
    config.wasm_component_model(true);
    if std::env::var(ALLOCATOR_ENV).as_deref() != Ok("on-demand") {
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(1000)
            .total_core_instances(2000)
            .total_memories(2000)
            .total_tables(2000)
            .max_memory_size(MEMORY_LIMIT)
            // A finished instance's memory is reset in place: the kernel's PAGEMAP_SCAN (Linux
            // 6.7 on) names the pages it wrote, which are copied back from the image or zeroed,
            // instead of handing them back with `madvise` and faulting them in afresh in the
            // next instance (with the TLB flush on every core that this costs). Measured at one
            // connection: 15 page faults and 500 µs of CPU per heartbeat before, none and 380 µs
            // after (docs/PERFORMANCE.md). Older kernels get `madvise` past the first MiB.
            .linear_memory_keep_resident(memory_keep_resident())
            .table_keep_resident(KEEP_RESIDENT)
            .pagemap_scan(wasmtime::Enabled::Auto);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    if std::env::var(PROFILER_ENV).as_deref() == Ok("perfmap") {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    // A notifier of the user's own may loop forever: its store gets a deadline in epochs.
    config.epoch_interruption(true);
    let engine = Engine::new(&config)?;
    let engine = ENGINE.get_or_init(|| engine).clone();
    static TICKER: std::sync::Once = std::sync::Once::new();
    TICKER.call_once(|| {
        let ticking = engine.clone();
        std::thread::spawn(move || loop {
            std::thread::sleep(EPOCH_TICK);
            ticking.increment_epoch();
        });
    });
    Ok(engine)
}

/// How often the engine's epoch advances: the granularity of a store's deadline.
pub const EPOCH_TICK: std::time::Duration = std::time::Duration::from_millis(100);
/// The deadline of stores that have none (in ticks: about 3,500 years).
const NO_DEADLINE: u64 = 1 << 40;

/// Compiled components, cached per process by where they came from (a file: its path and
/// modification time), and on disk by content when `disk` is set. A component that is not one
/// of ours (a notifier of the user's own) is always read from its `source` path, relative to
/// the manifest.
fn compile(
    engine: &Engine,
    name: &str,
    source: &str,
    manifest_dir: &std::path::Path,
    from: &Components,
    disk: Option<&CompileCache>,
) -> Result<(Component, compile_cache::Source)> {
    static CACHE: Cache = std::sync::Mutex::new(None);
    let build = |bytes: &[u8]| match disk {
        Some(disk) => disk.load_or_compile(engine, bytes),
        None => Ok((
            Component::new(engine, bytes)?,
            compile_cache::Source::Compiled,
        )),
    };
    let file_name = PathBuf::from(source)
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .ok_or_else(|| anyhow!("component {name}: source has no file name"))?;
    let own_path = manifest_dir.join(source);
    let path = match from {
        Components::BuiltIn => match crate::embedded::component(&file_name) {
            Some(bytes) => return cached(&CACHE, format!("built-in {file_name}"), || build(bytes)),
            None => own_path,
        },
        Components::Dir(dir) if dir.join(&file_name).exists() => dir.join(&file_name),
        Components::Dir(_) | Components::Manifest => own_path,
    };
    let modified = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .with_context(|| {
            format!(
                "component {name}: {} not found (build it first)",
                path.display()
            )
        })?;
    cached(&CACHE, format!("{} {modified:?}", path.display()), || {
        build(&std::fs::read(&path)?)
    })
    .with_context(|| {
        format!(
            "component {name}: {} is not a WebAssembly component",
            path.display()
        )
    })
}

type Cache = std::sync::Mutex<Option<HashMap<String, Component>>>;

fn cached(
    cache: &Cache,
    key: String,
    compile: impl FnOnce() -> Result<(Component, compile_cache::Source)>,
) -> Result<(Component, compile_cache::Source)> {
    if let Some(c) = cache.lock().unwrap().get_or_insert_default().get(&key) {
        return Ok((c.clone(), compile_cache::Source::Cache));
    }
    let (component, source) = compile()?;
    cache
        .lock()
        .unwrap()
        .get_or_insert_default()
        .insert(key, component.clone());
    Ok((component, source))
}

impl Runtime {
    pub fn new(manifest: Manifest, options: RuntimeOptions) -> Result<Arc<Runtime>> {
        let engine = engine()?;
        let mut linker: Linker<HostState> = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
        HttpComponent::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)?;

        let variables = Variables::resolve(&manifest, &options.variable_overrides)?;
        let mut pres = HashMap::new();
        let mut profiles = HashMap::new();
        let mut mounts = HashMap::new();
        let started = std::time::Instant::now();
        let mut compiled = 0;
        for (name, c) in &manifest.component {
            let disk = options.compile_cache.as_ref();
            let (component, source) = compile(
                &engine,
                name,
                &c.source,
                &manifest.dir,
                &options.components,
                disk,
            )?;
            compiled += usize::from(source == compile_cache::Source::Compiled);
            for slot in Slot::ALL {
                let imported = component
                    .component_type()
                    .imports(&engine)
                    .any(|(import, _)| notifiers::same_interface(import, slot.import()));
                if imported && notifiers::dependency(c, slot).is_none() {
                    bail!(
                        "component {name} imports {} but spin.toml declares no dependency for it",
                        slot.import()
                    );
                }
            }
            let instance_pre = linker
                .instantiate_pre(&component)
                .map_err(anyhow::Error::from)
                .with_context(|| format!("component {name} cannot be linked"))?;
            let pre = if let Ok(p) = ProxyPre::new(instance_pre.clone()) {
                Pre::Http(p)
            } else if let Ok(p) = NotifiersPre::new(instance_pre.clone()) {
                Pre::Notifiers(p)
            } else {
                Pre::Custom(CustomNotifierPre::new(instance_pre).map_err(anyhow::Error::from).with_context(|| {
                    format!("component {name} exports neither wasi:http/incoming-handler nor {NOTIFIER_IMPORT}@{}", notifiers::WIT_VERSION)
                })?)
            };
            pres.insert(name.clone(), pre);
            profiles.insert(
                name.clone(),
                Profile {
                    component: name.clone(),
                    variables: Arc::new(variables.for_component(&manifest, name)?),
                    stores: Arc::new(c.key_value_stores.clone()),
                    allowed: Arc::new(variables.allowed_hosts(&manifest, name)?),
                },
            );
            let mut dirs = Vec::new();
            for f in &c.files {
                let (source, dest) = f.dirs();
                let host = options
                    .mount_overrides
                    .get(&dest)
                    .cloned()
                    .unwrap_or_else(|| manifest.dir.join(&source));
                dirs.push((host, dest));
            }
            mounts.insert(name.clone(), dirs);
        }
        if let Some(disk) = &options.compile_cache {
            let loaded = manifest.component.len() - compiled;
            tracing::info!(
                "components: {compiled} compiled, {loaded} from the compile cache in {} ({:.1} s)",
                disk.dir().display(),
                started.elapsed().as_secs_f64()
            );
        }
        notifiers::check_dependencies(&manifest, &pres)?;
        let in_flight = options
            .max_in_flight
            .map(|n| Arc::new(tokio::sync::Semaphore::new(n.max(1))));
        Ok(Arc::new(Runtime {
            engine,
            manifest,
            pres,
            profiles,
            mounts,
            options,
            in_flight,
            live: Default::default(),
        }))
    }

    /// The resolved variables a component sees (for start-up checks).
    pub fn profile(&self, component: &str) -> Option<&Profile> {
        self.profiles.get(component)
    }

    /// Host directories mounted into a component, with their guest paths.
    pub fn mounts(&self, component: &str) -> &[(PathBuf, String)] {
        self.mounts.get(component).map(Vec::as_slice).unwrap_or(&[])
    }

    fn store(self: &Arc<Self>, profile: &Profile) -> Result<Store<HostState>> {
        let mut wasi = WasiCtx::builder();
        // Config files are tiny and local: reading them on this thread beats a hop through
        // tokio's blocking pool for every open/stat/read (measured: most of a request's cost).
        wasi.inherit_stderr()
            .allow_blocking_current_thread(true)
            .wall_clock(GuestClock(self.options.clock.clone()));
        for (host, guest) in self.mounts(&profile.component) {
            wasi.preopened_dir(host, guest, FsPerms::ReadOnly)
                .map_err(anyhow::Error::from)
                .with_context(|| format!("cannot mount {} at {guest}", host.display()))?;
        }
        let state = HostState {
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            hooks: Hooks {
                allowed: profile.allowed.clone(),
                component: profile.component.clone(),
                ..self.options.hooks.clone()
            },
            profile: profile.clone(),
            backend: self.options.backend.clone(),
            absent_cas: self.options.absent_cas,
            runtime: self.clone(),
            limits: wasmtime::StoreLimitsBuilder::new()
                .memory_size(MEMORY_LIMIT)
                .build(),
            turn: Turn::default(),
        };
        self.live.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limits);
        store.set_epoch_deadline(NO_DEADLINE);
        Ok(store)
    }

    /// A turn to run a request in a component, waiting for one if the limit is reached; held
    /// until the component has answered (not while it writes the body), and given back while
    /// it waits for its notifications (see `HostState::without_turn`). Under more requests than cores can run,
    /// they then queue in order rather than all share the CPU: each one's latency is its wait
    /// plus its own work, and the slowest are not starved (at 64 connections p99 fell from 3.4×
    /// the empty component's to 1.4×; docs/PERFORMANCE.md).
    pub async fn admit(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        let turns = self.in_flight.clone()?;
        turns.acquire_owned().await.ok()
    }

    /// Create a store and instantiate `component` without calling it: the fixed cost every
    /// request pays (benchmarks report it separately).
    pub async fn instantiate(self: &Arc<Self>, component: &str) -> Result<()> {
        let (Some(Pre::Http(pre)), Some(profile)) =
            (self.pres.get(component), self.profiles.get(component))
        else {
            bail!("{component} is not an HTTP component");
        };
        let mut store = self.store(profile)?;
        pre.instantiate_async(&mut store).await?;
        Ok(())
    }

    /// Serve one request with the component `spin.toml` routes it to.
    pub async fn handle<B>(
        self: &Arc<Self>,
        req: hyper::Request<B>,
    ) -> Result<Option<hyper::Response<HyperOutgoingBody>>>
    where
        B: Body<Data = bytes::Bytes> + Send + 'static,
        B::Error: Into<wasmtime_wasi_http::Error>,
    {
        let Some(name) = self.manifest.route(req.uri().path()).map(str::to_string) else {
            return Ok(None);
        };
        let (Some(Pre::Http(pre)), Some(profile)) =
            (self.pres.get(&name), self.profiles.get(&name))
        else {
            bail!(
                "route {} points at {name}, which is not an HTTP component",
                req.uri().path()
            );
        };
        let turn = Turn::new(self.admit().await);
        let mut store = self.store(profile)?;
        store.data_mut().turn = turn.clone();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let req = store.data_mut().http().new_incoming_request(
            wasmtime_wasi_http::p2::bindings::http::types::Scheme::Http,
            req,
        )?;
        let out = store.data_mut().http().new_response_outparam(tx)?;
        let pre = pre.clone();
        let task = tokio::task::spawn(async move {
            let proxy = pre.instantiate_async(&mut store).await?;
            proxy
                .wasi_http_incoming_handler()
                .call_handle(&mut store, req, out)
                .await
        });
        let answered = rx.await;
        // The component has done its work; what is left is writing the body.
        turn.end();
        match answered {
            Ok(Ok(resp)) => {
                // The component has made its writes; nothing is acknowledged before they are
                // durable.
                crate::kv::sync(&self.options.backend).await?;
                Ok(Some(resp))
            }
            Ok(Err(e)) => Err(anyhow!("component {name} failed: {e:?}")),
            Err(_) => match task.await {
                Ok(Ok(())) => bail!("component {name} returned no response"),
                Ok(Err(e)) => {
                    Err(anyhow::Error::from(e).context(format!("component {name} trapped")))
                }
                Err(e) => Err(anyhow!("component {name} task failed: {e}")),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::has_pagemap_scan;

    #[test]
    fn pagemap_scan_is_told_by_the_kernel_release() {
        for (release, has) in [
            ("6.18.44-fc-v1045\n", true),
            ("6.7.0", true),
            ("7.0.1-arch1", true),
            ("6.6.63-1-lts", false),
            ("5.15.0-91-generic", false),
            ("", false),
            ("unknown", false),
        ] {
            assert_eq!(has_pagemap_scan(release), has, "{release:?}");
        }
    }
}
