//! Reads `spin.toml` (Spin manifest version 2): the one description of the app, shared with
//! Spin, so heartbeat-host never needs a second manifest.

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

// `deny_unknown_fields` as in Spin's own schema: a typo here would make `spin up` refuse the
// manifest, so heartbeat-host refuses it too.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub spin_manifest_version: u32,
    pub application: Application,
    #[serde(default)]
    pub variables: BTreeMap<String, Variable>,
    #[serde(default)]
    pub trigger: Triggers,
    #[serde(default)]
    pub component: BTreeMap<String, Component>,
    /// Directory of the manifest; relative paths resolve against it.
    #[serde(skip)]
    pub dir: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Application {
    pub name: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub authors: Vec<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Variable {
    #[serde(default)]
    pub description: String,
    pub default: Option<String>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub secret: bool,
}

#[derive(Debug, Deserialize, Default)]
pub struct Triggers {
    #[serde(default)]
    pub http: Vec<HttpTrigger>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpTrigger {
    pub route: String,
    pub component: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Component {
    pub source: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub files: Vec<FileMount>,
    #[serde(default)]
    pub key_value_stores: Vec<String>,
    #[serde(default)]
    pub allowed_outbound_hosts: Vec<String>,
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    /// Spin's switch: dependencies get this component's variables, stores, files and outbound
    /// hosts instead of none.
    #[serde(default)]
    pub dependencies_inherit_configuration: bool,
    #[serde(default)]
    pub dependencies: BTreeMap<String, Dependency>,
    #[serde(default)]
    pub build: Option<Build>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Build {
    pub command: String,
    #[serde(default)]
    pub workdir: Option<String>,
    #[serde(default)]
    pub watch: Vec<String>,
}

/// `files` entries: a directory/pattern string, or `{ source, destination }`.
#[derive(Debug, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum FileMount {
    Plain(String),
    Mapped { source: String, destination: String },
}

impl FileMount {
    /// (host directory relative to the manifest, guest path).
    pub fn dirs(&self) -> (String, String) {
        match self {
            FileMount::Plain(p) => (p.clone(), format!("/{}", p.trim_start_matches('/'))),
            FileMount::Mapped {
                source,
                destination,
            } => (source.clone(), destination.clone()),
        }
    }
}

/// A dependency satisfied by another component of this app (`{ component = "notifiers" }`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dependency {
    pub component: String,
    #[serde(default)]
    pub export: Option<String>,
}

/// Where the app's description comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestSource {
    File(PathBuf),
    /// The `spin.toml` built into heartbeat-host; its relative paths (`config`, `.env`)
    /// resolve against this directory.
    BuiltIn(PathBuf),
}

impl ManifestSource {
    pub fn load(&self) -> Result<Manifest> {
        match self {
            ManifestSource::File(path) => Manifest::load(path),
            ManifestSource::BuiltIn(dir) => {
                Manifest::parse(crate::embedded::MANIFEST, dir, "the built-in spin.toml")
            }
        }
    }

    /// For people: which manifest this is.
    pub fn describe(&self) -> String {
        match self {
            ManifestSource::File(path) => path.display().to_string(),
            ManifestSource::BuiltIn(_) => "built-in (no spin.toml here)".into(),
        }
    }
}

impl Manifest {
    pub fn load(path: &Path) -> Result<Manifest> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read manifest {}", path.display()))?;
        let dir = path.parent().unwrap_or(Path::new("."));
        Manifest::parse(&text, dir, &path.display().to_string())
    }

    /// A manifest's text; `dir` is where its relative paths resolve, `origin` names it in
    /// errors.
    pub fn parse(text: &str, dir: &Path, origin: &str) -> Result<Manifest> {
        let mut manifest: Manifest =
            toml::from_str(text).with_context(|| format!("invalid manifest {origin}"))?;
        if manifest.spin_manifest_version != 2 {
            bail!("{origin}: spin_manifest_version must be 2");
        }
        // `Path::parent` of a bare file name is "".
        manifest.dir = match dir.as_os_str().is_empty() {
            true => PathBuf::from("."),
            false => dir.to_path_buf(),
        };
        for t in &manifest.trigger.http {
            if !manifest.component.contains_key(&t.component) {
                bail!(
                    "trigger route {} names unknown component {}",
                    t.route,
                    t.component
                );
            }
        }
        for (name, c) in &manifest.component {
            for (import, dep) in &c.dependencies {
                if !manifest.component.contains_key(&dep.component) {
                    bail!(
                        "component {name}: dependency {import} names unknown component {}",
                        dep.component
                    );
                }
            }
        }
        Ok(manifest)
    }

    /// The component serving `path`, with Spin's rules: an exact route wins, then the longest
    /// `/prefix/...` wildcard.
    pub fn route(&self, path: &str) -> Option<&str> {
        let mut best: Option<(&HttpTrigger, usize)> = None;
        for t in &self.trigger.http {
            if let Some(prefix) = t.route.strip_suffix("/...") {
                let matches = path == prefix
                    || prefix.is_empty()
                    || path
                        .strip_prefix(prefix)
                        .is_some_and(|rest| rest.starts_with('/'));
                if matches && best.is_none_or(|(_, len)| prefix.len() + 1 > len) {
                    best = Some((t, prefix.len() + 1));
                }
            } else if t.route == path {
                return Some(&t.component);
            }
        }
        best.map(|(t, _)| t.component.as_str())
    }
}
