//! The two notifier imports of the HTTP components, satisfied as Spin composes dependencies:
//! `notifier` (our channels) and `extra-notifier` (a notifier component of the user's own,
//! docs/EXTENDING.md). Each call runs the dependency in a fresh instance with the caller's
//! configuration if the caller lets dependencies inherit it.
//!
//! A notifier of the user's own is held to a deadline and cannot take a request down with it:
//! a trap, a timeout or a missing export becomes one failed delivery under the component's name.

use super::{Pre, Runtime};
use crate::bindings::heartbeat::monitor::types;
use crate::manifest::{Component, Dependency};
use crate::state::{HostState, Profile};
use anyhow::{anyhow, bail, Result};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use wasmtime::Store;

/// The version of `wit/monitor.wit`'s package (`heartbeat:monitor@1.0.0`).
pub const WIT_VERSION: &str = "1.0.0";
/// Our channels.
pub const NOTIFIER_IMPORT: &str = "heartbeat:monitor/notifier";
/// The user's own notifier; by default our notifiers component, which delivers nothing there.
pub const EXTRA_NOTIFIER_IMPORT: &str = "heartbeat:monitor/extra-notifier";

/// Which of the two notifier imports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    Ours,
    Extra,
}

impl Slot {
    pub const ALL: [Slot; 2] = [Slot::Ours, Slot::Extra];

    pub fn import(self) -> &'static str {
        match self {
            Slot::Ours => NOTIFIER_IMPORT,
            Slot::Extra => EXTRA_NOTIFIER_IMPORT,
        }
    }
}

/// Spin's matching of a name in spin.toml (or an export name) against an interface: the same
/// interface, and the same version if the name gives one.
pub fn same_interface(name: &str, interface: &str) -> bool {
    match name.split_once('@') {
        Some((unversioned, version)) => unversioned == interface && version == WIT_VERSION,
        None => name == interface,
    }
}

/// Spin's lookup of a dependency's `export`: the exact name, version included (a component built
/// from `wit/` exports `heartbeat:monitor/notifier@1.0.0`).
fn exports(export: &str, interface: &str) -> bool {
    export
        .strip_suffix(WIT_VERSION)
        .and_then(|e| e.strip_suffix('@'))
        == Some(interface)
}

/// The export a dependency is asked for: its `export`, else the import's own name.
fn export_of(dep: &Dependency, slot: Slot) -> String {
    dep.export
        .clone()
        .unwrap_or_else(|| format!("{}@{WIT_VERSION}", slot.import()))
}

/// The dependency spin.toml declares for `slot` in `component`.
pub fn dependency(component: &Component, slot: Slot) -> Option<&Dependency> {
    component
        .dependencies
        .iter()
        .find(|(name, _)| same_interface(name, slot.import()))
        .map(|(_, dep)| dep)
}

/// Refuse at start-up what Spin would refuse when composing: a notifier dependency that is not a
/// notifier component or lacks the export it is asked for.
pub(super) fn check_dependencies(
    manifest: &crate::manifest::Manifest,
    pres: &std::collections::HashMap<String, Pre>,
) -> Result<()> {
    for (name, c) in &manifest.component {
        for slot in Slot::ALL {
            let Some(dep) = dependency(c, slot) else {
                continue;
            };
            let export = export_of(dep, slot);
            let exported = match pres.get(&dep.component) {
                Some(Pre::Notifiers(_)) => {
                    exports(&export, NOTIFIER_IMPORT) || exports(&export, EXTRA_NOTIFIER_IMPORT)
                }
                Some(Pre::Custom(_)) => exports(&export, NOTIFIER_IMPORT),
                _ => false,
            };
            if !exported {
                bail!(
                    "component {name}: dependency {} names component {}, which does not export {export} (a notifier exports {NOTIFIER_IMPORT}@{WIT_VERSION}; see docs/EXTENDING.md)",
                    slot.import(),
                    dep.component
                );
            }
        }
    }
    Ok(())
}

/// One call of a notifier interface.
#[derive(Clone, Copy)]
enum Call<'a> {
    Deliver(&'a types::Notification),
    DeliverTo(&'a str, &'a types::Notification),
}

fn failed(channel: &str, channel_type: &str, error: String) -> types::Delivery {
    types::Delivery {
        channel: channel.into(),
        channel_type: channel_type.into(),
        ok: false,
        http_status: None,
        latency_ms: 0,
        error: Some(error),
        attempts: 0,
        tries: Vec::new(),
    }
}

impl Runtime {
    /// Run the notifier in `slot` for `caller`.
    pub async fn deliver(
        self: &Arc<Self>,
        caller: &Profile,
        slot: Slot,
        n: types::Notification,
    ) -> Vec<types::Delivery> {
        // Nobody is told about a change before its claim is durable: a crash after this cannot
        // make the change be claimed, and told, a second time.
        if let Err(e) = crate::kv::sync(&self.options.backend).await {
            tracing::error!("store: cannot commit before notifying: {e:#}");
        }
        self.call_guarded(caller, slot, Call::Deliver(&n)).await
    }

    /// Send `n` to one channel, ignoring filters, through both notifiers as `caller` would — by
    /// default the first component that depends on them (`heartbeat-host notify-test`).
    pub async fn deliver_to(
        self: &Arc<Self>,
        caller: Option<&Profile>,
        channel: &str,
        n: types::Notification,
    ) -> Result<Vec<types::Delivery>> {
        let caller = match caller {
            Some(c) => c.clone(),
            None => self
                .manifest
                .component
                .iter()
                .find(|(_, c)| dependency(c, Slot::Ours).is_some())
                .and_then(|(name, _)| self.profiles.get(name))
                .ok_or_else(|| anyhow!("no component depends on {NOTIFIER_IMPORT}"))?
                .clone(),
        };
        let mut answer = self
            .call(&caller, Slot::Ours, Call::DeliverTo(channel, &n))
            .await?;
        let has_extra = self
            .manifest
            .component
            .get(&caller.component)
            .is_some_and(|c| dependency(c, Slot::Extra).is_some());
        if has_extra {
            answer.extend(
                self.call_guarded(&caller, Slot::Extra, Call::DeliverTo(channel, &n))
                    .await,
            );
        }
        Ok(answer)
    }

    /// Only the slot's import as the caller's request sees it: a failure is a failed delivery.
    pub async fn deliver_to_slot(
        self: &Arc<Self>,
        caller: &Profile,
        slot: Slot,
        channel: &str,
        n: types::Notification,
    ) -> Vec<types::Delivery> {
        self.call_guarded(caller, slot, Call::DeliverTo(channel, &n))
            .await
    }

    async fn call_guarded(
        self: &Arc<Self>,
        caller: &Profile,
        slot: Slot,
        call: Call<'_>,
    ) -> Vec<types::Delivery> {
        match self.call(caller, slot, call).await {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(component = %caller.component, "{} failed: {e:#}", slot.import());
                match slot {
                    Slot::Ours => vec![failed(
                        "(notifier)",
                        "",
                        "the notifiers component failed".into(),
                    )],
                    Slot::Extra => {
                        let name = self
                            .dependency_of(caller, slot)
                            .map(|(_, d)| d.component.clone())
                            .unwrap_or_else(|_| "(extra notifier)".into());
                        vec![failed(&name, "component", format!("{e:#}"))]
                    }
                }
            }
        }
    }

    fn dependency_of(&self, caller: &Profile, slot: Slot) -> Result<(&Component, &Dependency)> {
        let caller_manifest = self
            .manifest
            .component
            .get(&caller.component)
            .ok_or_else(|| anyhow!("unknown component {}", caller.component))?;
        let dep = dependency(caller_manifest, slot)
            .ok_or_else(|| anyhow!("no {} dependency", slot.import()))?;
        Ok((caller_manifest, dep))
    }

    /// The deadline of an extra notifier: three times the caller's outbound request timeout,
    /// room for our channels' own retry budget.
    fn extra_deadline(caller: &Profile) -> Duration {
        let timeout_ms = caller
            .variables
            .get("request_timeout")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(10_000);
        Duration::from_millis(timeout_ms.saturating_mul(3).max(1_000))
    }

    async fn call(
        self: &Arc<Self>,
        caller: &Profile,
        slot: Slot,
        call: Call<'_>,
    ) -> Result<Vec<types::Delivery>> {
        let (caller_manifest, dep) = self.dependency_of(caller, slot)?;
        // Spin composes the dependency into the caller: with inherited configuration it runs
        // with the caller's variables, stores and files, without it with nothing at all.
        let profile = if caller_manifest.dependencies_inherit_configuration {
            caller.clone()
        } else {
            Profile {
                // Not a component name, so no mounts either.
                component: format!("{} (dependency of {})", dep.component, caller.component),
                variables: Arc::new(BTreeMap::new()),
                stores: Arc::new(Vec::new()),
                allowed: Arc::default(),
            }
        };
        let export = export_of(dep, slot);
        let mut store = self.store(&profile)?;
        let deadline = match slot {
            Slot::Ours => None,
            Slot::Extra => {
                let d = Self::extra_deadline(caller);
                store.set_epoch_deadline(
                    (d.as_millis() / super::EPOCH_TICK.as_millis()).max(1) as u64
                );
                store.epoch_deadline_trap();
                Some(d)
            }
        };
        let run = self.run(&mut store, &dep.component, &export, call);
        let answer = match deadline {
            None => run.await,
            Some(d) => tokio::time::timeout(d, run).await.unwrap_or_else(|_| {
                Err(anyhow!(
                    "the notifier component {} did not answer within {} s",
                    dep.component,
                    d.as_secs()
                ))
            }),
        };
        answer.map_err(|e| match e.downcast_ref::<wasmtime::Trap>() {
            Some(trap) => anyhow!(
                "the notifier component {} failed: {trap} (heartbeat-host's log has the details)",
                dep.component
            ),
            None => e,
        })
    }

    async fn run(
        &self,
        store: &mut Store<HostState>,
        component: &str,
        export: &str,
        call: Call<'_>,
    ) -> Result<Vec<types::Delivery>> {
        let answer = match self.pres.get(component) {
            Some(Pre::Notifiers(pre)) => {
                let instance = pre.instantiate_async(&mut *store).await?;
                if exports(export, NOTIFIER_IMPORT) {
                    let i = instance.heartbeat_monitor_notifier();
                    match call {
                        Call::Deliver(n) => i.call_deliver(&mut *store, n).await,
                        Call::DeliverTo(c, n) => i.call_deliver_to(&mut *store, c, n).await,
                    }
                } else if exports(export, EXTRA_NOTIFIER_IMPORT) {
                    let i = instance.heartbeat_monitor_extra_notifier();
                    match call {
                        Call::Deliver(n) => i.call_deliver(&mut *store, n).await,
                        Call::DeliverTo(c, n) => i.call_deliver_to(&mut *store, c, n).await,
                    }
                } else {
                    bail!("component {component} does not export {export}")
                }
            }
            Some(Pre::Custom(pre)) => {
                if !exports(export, NOTIFIER_IMPORT) {
                    bail!("component {component} does not export {export}");
                }
                let instance = pre.instantiate_async(&mut *store).await?;
                let i = instance.heartbeat_monitor_notifier();
                match call {
                    Call::Deliver(n) => i.call_deliver(&mut *store, n).await,
                    Call::DeliverTo(c, n) => i.call_deliver_to(&mut *store, c, n).await,
                }
            }
            _ => bail!("dependency {component} does not export {NOTIFIER_IMPORT}"),
        };
        answer.map_err(anyhow::Error::from)
    }
}
