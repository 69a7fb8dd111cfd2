//! What one component instance owns (`Store<HostState>`), and the host side of the project's
//! imports: `wasi:keyvalue`, `wasi:config` and `heartbeat:monitor/notifier`.

use crate::bindings::heartbeat::monitor::{extra_notifier, notifier, types};
use crate::bindings::wasi::config::store as config;
use crate::bindings::wasi::keyvalue::{atomics, batch, store};
use crate::kv::{AbsentCas, Backend, Watch};
use crate::runtime::Runtime;
use crate::runtime::Slot;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use wasmtime::component::{Resource, ResourceTable};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// The configuration an instance runs with: its own, or the one it inherits as a dependency.
#[derive(Clone)]
pub struct Profile {
    /// Component whose `spin.toml` settings apply.
    pub component: String,
    pub variables: Arc<BTreeMap<String, String>>,
    pub stores: Arc<Vec<String>>,
    /// Where its outgoing requests may go (`allowed_outbound_hosts`).
    pub allowed: Arc<crate::allowed_hosts::AllowedHosts>,
}

pub struct HostState {
    pub wasi: WasiCtx,
    pub http: WasiHttpCtx,
    pub table: ResourceTable,
    pub hooks: crate::outbound::Hooks,
    pub profile: Profile,
    pub backend: Arc<dyn Backend>,
    pub absent_cas: AbsentCas,
    pub runtime: Arc<Runtime>,
    pub limits: wasmtime::StoreLimits,
    /// This request's turn to run ([`Runtime::admit`]).
    pub turn: Turn,
}

/// A request's turn to run in a component ([`Runtime::admit`]), shared by the instance and
/// the host's side of the request: the host ends it once the answer's head is out (what is
/// left, writing the body, must not keep a turn from other requests while a slow client reads).
#[derive(Clone, Default)]
pub struct Turn(Arc<std::sync::Mutex<TurnState>>);

#[derive(Default)]
struct TurnState {
    permit: Option<tokio::sync::OwnedSemaphorePermit>,
    ended: bool,
}

impl Turn {
    pub fn new(permit: Option<tokio::sync::OwnedSemaphorePermit>) -> Turn {
        let turn = Turn::default();
        turn.0.lock().unwrap().permit = permit;
        turn
    }

    /// Give the turn back for good.
    pub fn end(&self) {
        let mut state = self.0.lock().unwrap();
        state.ended = true;
        state.permit = None;
    }

    /// Give the turn back for a while; whether there was one to give.
    fn lend(&self) -> bool {
        self.0.lock().unwrap().permit.take().is_some()
    }

    /// Hold the turn again, unless it has ended meanwhile.
    fn resume(&self, permit: Option<tokio::sync::OwnedSemaphorePermit>) {
        let mut state = self.0.lock().unwrap();
        if !state.ended {
            state.permit = permit;
        }
    }
}

/// An open `wasi:keyvalue` bucket.
pub struct Bucket {
    store: String,
}

/// A `wasi:keyvalue` compare-and-swap handle: the value as first seen, or a handle of the
/// backend's own (see [`Backend::watch`]).
pub struct Cas {
    store: String,
    key: String,
    seen: Option<Vec<u8>>,
    watch: Option<Box<dyn Watch>>,
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

/// Let other requests run before a key-value operation, as a networked store's round trip
/// would, so concurrent requests interleave between each other's reads and writes as on Spin.
/// Only when another instance is alive: a lone request has nobody to interleave with, and each
/// yield would wake an idle thread to look for work (at one connection that was a sixth of a
/// heartbeat's CPU).
async fn interleave(live: &AtomicUsize) {
    if live.load(Ordering::Relaxed) > 1 {
        tokio::task::yield_now().await;
    }
}

fn other(e: impl std::fmt::Display) -> store::Error {
    store::Error::Other(e.to_string())
}

impl Drop for HostState {
    fn drop(&mut self) {
        self.runtime.live.fetch_sub(1, Ordering::Relaxed);
    }
}

impl HostState {
    /// Run `work` (a delivery: mostly waiting on vendors, up to their timeouts) with this
    /// request's turn given back, so a slow vendor does not hold up other requests; take a
    /// turn again before going on.
    async fn without_turn<T>(&mut self, work: impl std::future::Future<Output = T>) -> T {
        let lent = self.turn.lend();
        let out = work.await;
        if lent {
            self.turn.resume(self.runtime.admit().await);
        }
        out
    }

    fn bucket(&self, b: &Resource<Bucket>) -> wasmtime::Result<String> {
        Ok(self.table.get(b)?.store.clone())
    }
}

impl store::Host for HostState {
    async fn open(
        &mut self,
        identifier: String,
    ) -> wasmtime::Result<Result<Resource<Bucket>, store::Error>> {
        interleave(&self.runtime.live).await;
        if !self.profile.stores.contains(&identifier) {
            return Ok(Err(store::Error::AccessDenied));
        }
        Ok(Ok(self.table.push(Bucket { store: identifier })?))
    }
}

impl store::HostBucket for HostState {
    async fn get(
        &mut self,
        b: Resource<Bucket>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, store::Error>> {
        interleave(&self.runtime.live).await;
        let s = self.bucket(&b)?;
        Ok(self.backend.get(&s, &key).map_err(other))
    }

    async fn set(
        &mut self,
        b: Resource<Bucket>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), store::Error>> {
        interleave(&self.runtime.live).await;
        let s = self.bucket(&b)?;
        Ok(self.backend.set(&s, &key, &value).map_err(other))
    }

    async fn delete(
        &mut self,
        b: Resource<Bucket>,
        key: String,
    ) -> wasmtime::Result<Result<(), store::Error>> {
        interleave(&self.runtime.live).await;
        let s = self.bucket(&b)?;
        Ok(self.backend.delete(&s, &key).map_err(other))
    }

    async fn exists(
        &mut self,
        b: Resource<Bucket>,
        key: String,
    ) -> wasmtime::Result<Result<bool, store::Error>> {
        interleave(&self.runtime.live).await;
        let s = self.bucket(&b)?;
        Ok(self
            .backend
            .get(&s, &key)
            .map(|v| v.is_some())
            .map_err(other))
    }

    async fn list_keys(
        &mut self,
        b: Resource<Bucket>,
        _cursor: Option<String>,
    ) -> wasmtime::Result<Result<store::KeyResponse, store::Error>> {
        interleave(&self.runtime.live).await;
        let s = self.bucket(&b)?;
        Ok(self
            .backend
            .keys(&s)
            .map(|keys| store::KeyResponse { keys, cursor: None })
            .map_err(other))
    }

    async fn drop(&mut self, b: Resource<Bucket>) -> wasmtime::Result<()> {
        self.table.delete(b)?;
        Ok(())
    }
}

impl atomics::Host for HostState {
    async fn increment(
        &mut self,
        b: Resource<Bucket>,
        key: String,
        delta: i64,
    ) -> wasmtime::Result<Result<i64, store::Error>> {
        interleave(&self.runtime.live).await;
        let s = self.bucket(&b)?;
        Ok(self.backend.increment(&s, &key, delta).map_err(other))
    }

    async fn swap(
        &mut self,
        cas: Resource<Cas>,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), atomics::CasError>> {
        interleave(&self.runtime.live).await;
        let mut cas = self.table.delete(cas)?;
        let result = match (&mut cas.watch, &cas.seen, self.absent_cas) {
            (Some(watch), _, _) => watch.swap(&value),
            // Spin's default store: a swap against a key that did not exist is an upsert.
            (None, None, AbsentCas::Upsert) => {
                self.backend.set(&cas.store, &cas.key, &value).map(|_| true)
            }
            (None, _, _) => self
                .backend
                .cas(&cas.store, &cas.key, cas.seen.as_deref(), &value),
        };
        match result {
            Ok(true) => Ok(Ok(())),
            // As Spin does: a failed swap hands back a fresh handle that has read the value.
            Ok(false) => match self.handle(cas.store, cas.key, true) {
                Ok(fresh) => Ok(Err(atomics::CasError::CasFailed(self.table.push(fresh)?))),
                Err(e) => Ok(Err(atomics::CasError::StoreError(other(e)))),
            },
            Err(e) => Ok(Err(atomics::CasError::StoreError(other(e)))),
        }
    }
}

impl HostState {
    /// A compare-and-swap handle on `key`; `read` makes a backend's own handle read the value
    /// at once (as `current` would), which the generic handle always does.
    fn handle(&self, store: String, key: String, read: bool) -> anyhow::Result<Cas> {
        match self.backend.watch(&store, &key)? {
            Some(mut watch) => {
                if read {
                    watch.current()?;
                }
                Ok(Cas {
                    store,
                    key,
                    seen: None,
                    watch: Some(watch),
                })
            }
            None => {
                let seen = self.backend.get(&store, &key)?;
                Ok(Cas {
                    store,
                    key,
                    seen,
                    watch: None,
                })
            }
        }
    }
}

impl atomics::HostCas for HostState {
    async fn new(
        &mut self,
        b: Resource<Bucket>,
        key: String,
    ) -> wasmtime::Result<Result<Resource<Cas>, store::Error>> {
        interleave(&self.runtime.live).await;
        let s = self.bucket(&b)?;
        match self.handle(s, key, false) {
            Ok(cas) => Ok(Ok(self.table.push(cas)?)),
            Err(e) => Ok(Err(other(e))),
        }
    }

    async fn current(
        &mut self,
        cas: Resource<Cas>,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, store::Error>> {
        interleave(&self.runtime.live).await;
        let cas = self.table.get_mut(&cas)?;
        match &mut cas.watch {
            Some(watch) => Ok(watch.current().map_err(other)),
            None => Ok(Ok(cas.seen.clone())),
        }
    }

    async fn drop(&mut self, cas: Resource<Cas>) -> wasmtime::Result<()> {
        self.table.delete(cas)?;
        Ok(())
    }
}

impl batch::Host for HostState {
    async fn get_many(
        &mut self,
        b: Resource<Bucket>,
        keys: Vec<String>,
    ) -> wasmtime::Result<Result<Vec<(String, Option<Vec<u8>>)>, store::Error>> {
        interleave(&self.runtime.live).await;
        let s = self.bucket(&b)?;
        Ok(self.backend.get_many(&s, keys).map_err(other))
    }

    async fn set_many(
        &mut self,
        b: Resource<Bucket>,
        pairs: Vec<(String, Vec<u8>)>,
    ) -> wasmtime::Result<Result<(), store::Error>> {
        interleave(&self.runtime.live).await;
        let s = self.bucket(&b)?;
        Ok(pairs
            .iter()
            .try_for_each(|(k, v)| self.backend.set(&s, k, v))
            .map_err(other))
    }

    async fn delete_many(
        &mut self,
        b: Resource<Bucket>,
        keys: Vec<String>,
    ) -> wasmtime::Result<Result<(), store::Error>> {
        interleave(&self.runtime.live).await;
        let s = self.bucket(&b)?;
        Ok(keys
            .iter()
            .try_for_each(|k| self.backend.delete(&s, k))
            .map_err(other))
    }
}

impl config::Host for HostState {
    fn get(&mut self, key: String) -> wasmtime::Result<Result<Option<String>, config::Error>> {
        Ok(Ok(self.profile.variables.get(&key).cloned()))
    }

    fn get_all(&mut self) -> wasmtime::Result<Result<Vec<(String, String)>, config::Error>> {
        Ok(Ok(self
            .profile
            .variables
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()))
    }
}

impl types::Host for HostState {}

/// Both notifier imports: each runs its dependency through the runtime (`runtime::notifiers`).
macro_rules! notifier_import {
    ($interface:ident, $slot:expr) => {
        impl $interface::Host for HostState {
            async fn deliver(&mut self, n: types::Notification) -> Vec<types::Delivery> {
                let runtime = self.runtime.clone();
                let profile = self.profile.clone();
                self.without_turn(async { runtime.deliver(&profile, $slot, n).await })
                    .await
            }

            async fn deliver_to(
                &mut self,
                channel: String,
                n: types::Notification,
            ) -> Vec<types::Delivery> {
                let runtime = self.runtime.clone();
                let profile = self.profile.clone();
                self.without_turn(async {
                    runtime.deliver_to_slot(&profile, $slot, &channel, n).await
                })
                .await
            }
        }
    };
}

notifier_import!(notifier, Slot::Ours);
notifier_import!(extra_notifier, Slot::Extra);

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::task::{Context, Poll, Waker};

    fn first_poll(live: usize) -> Poll<()> {
        let live = AtomicUsize::new(live);
        let mut call = std::pin::pin!(interleave(&live));
        call.as_mut().poll(&mut Context::from_waker(Waker::noop()))
    }

    #[tokio::test]
    async fn key_value_calls_let_others_run_only_when_there_are_others() {
        assert_eq!(first_poll(1), Poll::Ready(()), "alone: nobody to let run");
        assert_eq!(first_poll(2), Poll::Pending, "another instance runs first");
    }
}
