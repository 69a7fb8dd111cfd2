//! Compiled components kept on disk between starts. Cranelift spends several seconds of CPU
//! compiling the four components on every start of heartbeat-host (and of every command that
//! loads them); loading the machine code back takes milliseconds.
//!
//! An entry is named by a SHA-256 over the engine's compatibility hash (wasmtime version,
//! target, compiler settings) and the component's bytes, so a rebuilt component, another
//! heartbeat-host or another configuration of the engine never meets an entry it did not
//! write. Its content is wasmtime's serialised component followed by a SHA-256 of it, checked
//! before wasmtime maps the code: a damaged or half-written file is compiled again, never run.
//! Entries are written to a temporary name and renamed, so concurrent starts are safe.

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use wasmtime::component::Component;
use wasmtime::Engine;

/// Where the cache lives (a directory), or `off`. Default: `$XDG_CACHE_HOME/heartbeat-host`,
/// else `$HOME/.cache/heartbeat-host`.
pub const ENV: &str = "HEARTBEAT_HOST_COMPILE_CACHE";

/// Entries kept: the most recently used ones, enough for a few versions of the four
/// components (about 4 MB each); older ones are deleted when a new one is written.
const KEEP: usize = 16;
const SUFFIX: &str = ".cwasm";
const DIGEST: usize = 32;
/// A temporary file this old belongs to no start still writing it.
const STALE: std::time::Duration = std::time::Duration::from_secs(600);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileCache {
    dir: PathBuf,
}

/// How a component was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Cache,
    Compiled,
}

impl CompileCache {
    pub fn new(dir: impl Into<PathBuf>) -> CompileCache {
        CompileCache { dir: dir.into() }
    }

    /// The cache the environment asks for: [`ENV`], else the user's cache directory; `None`
    /// when it says `off` or no home is known (which is logged).
    pub fn from_env() -> Option<CompileCache> {
        let var = |name| std::env::var_os(name).filter(|v| !v.is_empty());
        if let Some(dir) = var(ENV) {
            return (dir != "off").then(|| CompileCache::new(dir));
        }
        let base = var("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| var("HOME").map(|home| Path::new(&home).join(".cache")));
        let Some(base) = base else {
            // A service account without a home: say why every start compiles.
            tracing::info!(
                "compile cache: off, as neither {ENV}, XDG_CACHE_HOME nor HOME is set; \
                 the components are compiled on every start"
            );
            return None;
        };
        Some(CompileCache::new(base.join("heartbeat-host")))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The component of `bytes`, from the cache when an intact entry is there, else compiled
    /// and written to it. The cache failing (unwritable, damaged) costs a compile and a
    /// warning, never the start.
    pub fn load_or_compile(&self, engine: &Engine, bytes: &[u8]) -> Result<(Component, Source)> {
        let path = self.dir.join(format!("{}{SUFFIX}", key(engine, bytes)));
        match read_entry(&path) {
            Ok(Some(artefact)) => match deserialize(engine, &artefact) {
                Ok(component) => {
                    touch(&path);
                    return Ok((component, Source::Cache));
                }
                Err(e) => tracing::warn!(
                    "compile cache: {} is not usable ({e:#}); compiling again",
                    path.display()
                ),
            },
            Ok(None) => {}
            Err(e) => tracing::warn!("compile cache: {e:#}; compiling again"),
        }
        let component = Component::new(engine, bytes)?;
        if let Err(e) = self.write(&path, &component) {
            tracing::warn!("compile cache: {e:#}; the next start compiles again");
        }
        Ok((component, Source::Compiled))
    }

    fn write(&self, path: &Path, component: &Component) -> Result<()> {
        let mut entry = component.serialize()?;
        let digest = Sha256::digest(&entry);
        entry.extend_from_slice(&digest);
        create_private_dir(&self.dir)
            .with_context(|| format!("cannot create {}", self.dir.display()))?;
        let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
        std::fs::write(&tmp, &entry)
            .and_then(|()| std::fs::rename(&tmp, path))
            .inspect_err(|_| {
                let _ = std::fs::remove_file(&tmp);
            })
            .with_context(|| format!("cannot write {}", path.display()))?;
        self.prune();
        Ok(())
    }

    /// Delete all but the [`KEEP`] most recently used entries.
    fn prune(&self) {
        let Ok(dir) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let mut entries = Vec::new();
        for e in dir.filter_map(|e| e.ok()) {
            let Some(modified) = e.metadata().ok().and_then(|m| m.modified().ok()) else {
                continue;
            };
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(SUFFIX) {
                entries.push((modified, e.path()));
            } else if name.contains(".tmp-") && modified.elapsed().unwrap_or_default() > STALE {
                // Left by a start that was killed while writing.
                let _ = std::fs::remove_file(e.path());
            }
        }
        entries.sort_by_key(|e| std::cmp::Reverse(e.0));
        for (_, path) in entries.into_iter().skip(KEEP) {
            let _ = std::fs::remove_file(path);
        }
    }
}

fn key(engine: &Engine, bytes: &[u8]) -> String {
    let mut hasher = Sha256Hasher(Sha256::new());
    std::hash::Hash::hash(&engine.precompile_compatibility_hash(), &mut hasher);
    hasher.0.update(bytes);
    heartbeat_core::text::hex(&hasher.0.finalize())
}

/// Feeds a `Hash` value (the engine's compatibility hash) into SHA-256.
struct Sha256Hasher(Sha256);

impl std::hash::Hasher for Sha256Hasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
    fn finish(&self) -> u64 {
        unreachable!("only the SHA-256 state is read")
    }
}

/// The serialised component of an entry whose digest matches; `None` when there is no entry.
fn read_entry(path: &Path) -> Result<Option<Vec<u8>>> {
    let mut entry = match std::fs::read(path) {
        Ok(entry) => entry,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let intact = entry.len() > DIGEST && {
        let (artefact, digest) = entry.split_at(entry.len() - DIGEST);
        Sha256::digest(artefact).as_slice() == digest
    };
    anyhow::ensure!(intact, "{} is damaged", path.display());
    entry.truncate(entry.len() - DIGEST);
    Ok(Some(entry))
}

#[allow(
    unsafe_code,
    reason = "wasmtime maps the artefact's machine code as it is; it must be one wasmtime serialised"
)]
fn deserialize(engine: &Engine, artefact: &[u8]) -> Result<Component> {
    // SAFETY: `artefact` is what `Component::serialize` wrote for an engine with this very
    // compatibility hash (it is in the entry's name), and its SHA-256 matched: the bytes are
    // the ones written, not a damaged or half-written file. wasmtime checks the version and
    // settings again and refuses a mismatch with an error. The directory is the user's own
    // (created 0700), as trusted as the binary itself.
    Ok(unsafe { Component::deserialize(engine, artefact) }?)
}

/// Mark an entry as used, for [`CompileCache::prune`].
fn touch(path: &Path) {
    if let Ok(file) = std::fs::File::options().append(true).open(path) {
        let _ = file.set_modified(std::time::SystemTime::now());
    }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}
