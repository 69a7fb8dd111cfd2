//! Which of core's entry points answers a path — the same split spin.toml's routes make
//! between the ingest, sweep and dashboard components (a test holds the two together).

use crate::clock::WorkersClock;
use crate::config::{embedded, EnvSecrets};
use crate::outbound::FetchNotifier;
use heartbeat_core::api::{self, Context, Request, Response};
use heartbeat_core::config::Settings;
use heartbeat_core::store::Store;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    Ingest,
    Sweep,
    Dashboard,
}

pub fn entry(path: &str) -> Entry {
    let under = |prefix: &str| {
        path.strip_prefix(prefix)
            .is_some_and(|r| r.starts_with('/'))
    };
    match path {
        "/api/heartbeat" | "/api/alert" => Entry::Ingest,
        "/api/sweep" => Entry::Sweep,
        _ if under("/ping") || under("/api/push") || under("/api/services") => Entry::Ingest,
        _ => Entry::Dashboard,
    }
}

/// Answer `req` with core over `store`, with the embedded configuration and the Worker's
/// secrets and settings. `before_sending` runs before any vendor call (see [`FetchNotifier`]).
pub async fn answer<S: Store>(
    env: &worker::Env,
    store: &S,
    before_sending: &dyn Fn() -> Result<(), String>,
    req: &Request,
) -> Response {
    let config = embedded();
    let secrets = EnvSecrets(env);
    let settings = match Settings::from_secrets(&secrets) {
        Ok(s) => s,
        Err(e) => return Response::error(500, e.to_string()),
    };
    let notifier = FetchNotifier::new(
        &config,
        &secrets,
        settings.request_timeout_ms,
        before_sending,
    );
    let ctx = Context {
        store,
        clock: &WorkersClock,
        notifier: &notifier,
        config: &config,
        settings: &settings,
        secrets: &secrets,
    };
    match entry(&req.path) {
        Entry::Ingest => api::ingest::handle(&ctx, req).await,
        Entry::Sweep => api::sweep::handle(&ctx, req).await,
        Entry::Dashboard => api::dashboard::handle(&ctx, req).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The component spin.toml routes `path` to (Spin: exact routes win, then the longest
    /// `/...` prefix).
    fn spin_component(manifest: &toml::Value, path: &str) -> String {
        let routes = manifest["trigger"]["http"]
            .as_array()
            .expect("[[trigger.http]]");
        let mut best: Option<(usize, String)> = None;
        for r in routes {
            let route = r["route"].as_str().expect("route");
            let component = r["component"].as_str().expect("component").to_string();
            if route == path {
                return component;
            }
            if let Some(prefix) = route.strip_suffix("/...") {
                let matches = path == prefix || path.starts_with(&format!("{prefix}/"));
                if matches && best.as_ref().is_none_or(|(len, _)| prefix.len() > *len) {
                    best = Some((prefix.len(), component));
                }
            }
        }
        best.expect("a catch-all route").1
    }

    #[test]
    fn paths_reach_the_entry_point_spin_routes_them_to() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../spin.toml"))
            .expect("spin.toml");
        let manifest: toml::Value = toml::from_str(&text).expect("spin.toml parses");
        for path in [
            "/",
            "/api/heartbeat",
            "/api/alert",
            "/api/sweep",
            "/api/status",
            "/api/services",
            "/api/services/alpha/pause",
            "/api/push/token",
            "/ping/key/alpha",
            "/ping/key/alpha/fail",
            "/api/logs",
            "/services/alpha",
            "/badge/alpha.svg",
            "/metrics",
            "/assets/app.css",
            "/nowhere",
        ] {
            let expected = match spin_component(&manifest, path).as_str() {
                "ingest" => Entry::Ingest,
                "sweep" => Entry::Sweep,
                "dashboard" => Entry::Dashboard,
                other => panic!("unexpected component {other}"),
            };
            assert_eq!(entry(path), expected, "{path}");
        }
    }
}
