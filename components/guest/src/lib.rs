//! heartbeat-guest is the thin layer between heartbeat-core and the WASI world the components
//! live in: it implements core's ports over `wasi:keyvalue`, `wasi:config`, the wall clock, the
//! read-only `/config` mount and the `heartbeat:monitor/notifier` import, and converts spin-sdk
//! HTTP types to core's. Each HTTP component is then one [`http_component!`] line.

mod convert;
pub mod files;
pub mod http;
pub mod time;

#[cfg(feature = "http-component")]
mod bindings;
#[cfg(feature = "http-component")]
pub mod kv;
#[cfg(feature = "http-component")]
pub mod notifier;
#[cfg(feature = "http-component")]
pub mod vars;

#[cfg(feature = "http-component")]
pub use serve::serve;

/// The whole of an HTTP component: spin-sdk's `#[http_component]` export, answering every
/// request with `handler` (an `api::…::handle` of heartbeat-core) through [`serve`].
#[cfg(feature = "http-component")]
#[macro_export]
macro_rules! http_component {
    ($handler:path) => {
        #[expect(
            unsafe_code,
            reason = "spin-sdk's #[http_component] generates the wasi:http export glue"
        )]
        mod export {
            #[spin_sdk::http_component]
            fn handle(req: spin_sdk::http::Request) -> spin_sdk::http::Response {
                heartbeat_guest::serve(req, |ctx, r| {
                    heartbeat_core::ready::resolve($handler(ctx, r))
                })
            }
        }
    };
}

#[cfg(feature = "http-component")]
mod serve {
    use crate::{
        files, http, kv::KvStore, notifier::NotifierImport, time::WallClock, vars::Variables,
    };
    use heartbeat_core::api::{service_hint, Context, Request, Response};
    use heartbeat_core::config::Settings;
    use heartbeat_core::store::Checked;
    use heartbeat_core::{config_cache, ready, sweep};

    /// The store every handler sees: the host's, with its compare-and-swap checked (Spin's
    /// Redis store answers swaps wrongly; see `heartbeat_core::store::checked`).
    pub type GuestStore = Checked<'static, KvStore>;

    /// Name of the key-value store every component opens (`key_value_stores` in spin.toml).
    pub const STORE: &str = "default";

    /// Load configuration and ports, then let `handler` answer. Configuration problems and a
    /// missing store are answered as 500s that say what to fix (never with secret values).
    pub fn serve(
        req: spin_sdk::http::Request,
        handler: fn(&Context<'_, GuestStore>, &Request) -> Response,
    ) -> spin_sdk::http::Response {
        let request = http::request(&req);
        let respond = |res| http::response(res, request.method == "HEAD");
        let secrets = Variables;
        let settings = match Settings::from_secrets(&secrets) {
            Ok(s) => s,
            Err(e) => return respond(Response::error(500, e.to_string())),
        };
        let store = match KvStore::open(STORE) {
            Ok(s) => Checked::new(s, &WallClock),
            Err(e) => return respond(Response::error(500, e)),
        };
        // A request about one service reads that service's configuration alone; one over the
        // fleet reads the validated whole back from the store.
        let config = match service_hint(&request, &secrets) {
            Some(id) => config_cache::for_service(&files::Mounted, &store, &id),
            None => config_cache::whole(&files::Mounted, &store),
        };
        let config = match config {
            Ok(c) => c,
            Err(e) => return respond(Response::error(500, e.to_string())),
        };
        let ctx = Context {
            store: &store,
            clock: &WallClock,
            notifier: &NotifierImport,
            config: &config,
            settings: &settings,
            secrets: &secrets,
        };
        let response = handler(&ctx, &request);
        if config.partial {
            sweep_if_overdue(&ctx);
        }
        respond(response)
    }

    /// The safety-net sweep of a request that loaded one service's configuration: the sweep
    /// needs the whole file, read only when this request wins the claim.
    fn sweep_if_overdue(ctx: &Context<'_, GuestStore>) {
        let Some(now) = sweep::claim_if_overdue(ctx) else {
            return;
        };
        if let Ok(config) = config_cache::whole(&files::Mounted, ctx.store) {
            let whole = Context {
                config: &config,
                ..*ctx
            };
            let _ = ready::resolve(sweep::run(&whole, now));
        }
    }
}
