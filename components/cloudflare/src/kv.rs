//! The opt-in Workers KV backend (`STORE = "kv"` in `[vars]`, binding `HEARTBEAT_LOGS`), for
//! deployments that keep their state in KV. The Worker then answers requests itself, with no
//! Durable Object. KV is eventually consistent (a read may be a minute old) and has no
//! compare-and-swap, so concurrent heartbeats to one service can overwrite each other and a
//! stale read can report a live service `down`; its Free plan allows 1,000 writes a day. The
//! Durable Object backend has none of these limits (docs/DEPLOYMENT.md).
//!
//! KV answers asynchronously and core's store port is synchronous, so a request runs in rounds
//! over a [`Snapshot`]: each round records the keys it lacked, they are fetched, and the request
//! runs again; the round that lacked nothing is the one whose writes are stored.

use heartbeat_core::api;
use heartbeat_core::store::snapshot::Snapshot;
use std::cell::Cell;
use worker::{Env, KvStore};

/// The KV namespace binding (the name the original used).
pub const KV_BINDING: &str = "HEARTBEAT_LOGS";
/// Rounds before giving up; a heartbeat needs two or three.
const MAX_ROUNDS: usize = 8;

pub async fn answer(env: &Env, request: &api::Request) -> api::Response {
    let Ok(kv) = env.kv(KV_BINDING) else {
        return api::Response::error(
            500,
            format!("STORE is \"kv\" but wrangler.toml binds no {KV_BINDING} KV namespace"),
        );
    };
    let snapshot = Snapshot::default();
    for _ in 0..MAX_ROUNDS {
        let sent = Cell::new(false);
        // A round that lacked a key is run again: it must not tell anyone yet.
        let may_send = || {
            if snapshot.missed() {
                return Err("the round is repeated".to_string());
            }
            sent.set(true);
            Ok(())
        };
        let response = crate::routes::answer(env, &snapshot, &may_send, request).await;
        // Once someone was told, the round stands even if it lacked a key afterwards (only its
        // delivery log can be incomplete): running it again would tell them twice.
        if !snapshot.missed() || sent.get() {
            return match store(&kv, snapshot.writes()).await {
                Ok(()) => response,
                Err(e) => {
                    worker::console_error!("workers kv: {e}");
                    api::storage_failure()
                }
            };
        }
        if let Err(e) = fetch(&kv, &snapshot).await {
            worker::console_error!("workers kv: {e}");
            return api::storage_failure();
        }
        snapshot.next_round();
    }
    api::storage_failure()
}

async fn fetch(kv: &KvStore, snapshot: &Snapshot) -> Result<(), worker::kv::KvError> {
    let keys = snapshot.misses();
    let values = futures_util::future::join_all(keys.iter().map(|k| kv.get(k).bytes())).await;
    for (key, value) in keys.into_iter().zip(values) {
        snapshot.fill(key, value?);
    }
    Ok(())
}

async fn store(
    kv: &KvStore,
    writes: Vec<(String, Option<Vec<u8>>)>,
) -> Result<(), worker::kv::KvError> {
    for (key, value) in writes {
        match value {
            Some(v) => kv.put_bytes(&key, &v)?.execute().await?,
            None => kv.delete(&key).await?,
        }
    }
    Ok(())
}
