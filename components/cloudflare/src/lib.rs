//! heartbeat-worker runs heartbeat-monitor on Cloudflare Workers.
//!
//! Workers cannot host WASI components, so this crate links heartbeat-core directly and does
//! what the components and heartbeat-host do elsewhere: decode, call core, encode. State lives
//! in one SQLite-backed Durable Object ([`Monitor`]) rather than Workers KV: KV's Free plan
//! allows 1,000 writes a day and its reads may be a minute stale, which would fake `down`
//! alerts; one object runs one request at a time between waits, so compare-and-swap is exact
//! and nothing is lost. The Worker itself only forwards: every request, and the cron trigger's
//! sweep, goes to that object. Workers KV remains as an opt-in backend (`kv`).

mod clock;
mod config;
mod http;
mod kv;
mod object;
mod outbound;
mod routes;
mod sql;

pub use object::Monitor;
use worker::{
    event, Context, Env, Headers, Method, Request, RequestInit, Response, ScheduleContext,
    ScheduledEvent,
};

/// The Durable Object binding in wrangler.toml.
pub const MONITOR_BINDING: &str = "MONITOR";
/// The one object that holds every service.
const OBJECT_NAME: &str = "heartbeat-monitor";

fn monitor(env: &Env) -> worker::Result<worker::Stub> {
    env.durable_object(MONITOR_BINDING)?
        .get_by_name(OBJECT_NAME)
}

/// Where state lives: `[vars] STORE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    DurableObject,
    Kv,
}

fn backend(env: &Env) -> Result<Backend, String> {
    let store = env.var("STORE").map(|v| v.to_string()).unwrap_or_default();
    match store.as_str() {
        "" | "durable-object" => Ok(Backend::DurableObject),
        "kv" => Ok(Backend::Kv),
        other => Err(format!(
            "STORE must be \"durable-object\" or \"kv\", not \"{}\"",
            other.escape_default()
        )),
    }
}

#[event(fetch)]
async fn fetch(mut req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    match backend(&env) {
        Ok(Backend::DurableObject) => monitor(&env)?.fetch_with_request(req).await,
        Ok(Backend::Kv) => {
            let request = http::request(&mut req).await?;
            http::response(kv::answer(&env, &request).await)
        }
        Err(e) => http::response(heartbeat_core::api::Response::error(500, e)),
    }
}

/// The cron trigger: one `POST /api/sweep`, as any scheduler would send it.
#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    match sweep(&env).await {
        Ok(200) => {}
        Ok(status) => worker::console_error!("scheduled sweep answered HTTP {status}"),
        Err(e) => worker::console_error!("scheduled sweep failed: {e}"),
    }
}

async fn sweep(env: &Env) -> worker::Result<u16> {
    let headers = Headers::new();
    if let Some(key) = config::EnvSecrets(env).sweep_key() {
        headers.set("authorization", &format!("Bearer {key}"))?;
    }
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_headers(headers);
    let mut request = Request::new_with_init("https://heartbeat-monitor/api/sweep", &init)?;
    match backend(env).map_err(worker::Error::RustError)? {
        Backend::DurableObject => Ok(monitor(env)?
            .fetch_with_request(request)
            .await?
            .status_code()),
        Backend::Kv => {
            let request = http::request(&mut request).await?;
            Ok(kv::answer(env, &request).await.status)
        }
    }
}
