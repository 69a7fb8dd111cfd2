//! The Durable Object that holds every service's state and answers every request.

use crate::sql::{RowCache, SqlRows};
use heartbeat_core::api;
use heartbeat_core::store::rows::Grouped;
use worker::{durable_object, DurableObject, Env, Request, Response, State};

#[durable_object]
pub struct Monitor {
    state: State,
    env: Env,
    /// The rows this object has read or written, for the requests that follow.
    rows: RowCache,
}

impl DurableObject for Monitor {
    fn new(state: State, env: Env) -> Self {
        Monitor {
            state,
            env,
            rows: RowCache::default(),
        }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let request = crate::http::request(&mut req).await?;
        crate::http::response(self.answer(&request).await)
    }
}

impl Monitor {
    async fn answer(&self, request: &api::Request) -> api::Response {
        let store = match SqlRows::open(self.state.storage().sql(), &self.rows) {
            Ok(rows) => Grouped::new(rows),
            Err(_) => return api::storage_failure(),
        };
        // A failed write-back means nothing was claimed: the request fails, and its retry
        // notifies.
        let write_back = || {
            store
                .flush()
                .map_err(|_| "the store is unavailable".to_string())
        };
        let response = crate::routes::answer(&self.env, &store, &write_back, request).await;
        match store.flush() {
            Ok(()) => response,
            Err(e) => {
                worker::console_error!("durable object storage: {e}");
                api::storage_failure()
            }
        }
    }
}
