//! HTTP on a TCP listener, routed by `spin.toml`; request logging; the sweep timer.

use crate::runtime::Runtime;
use anyhow::Result;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

fn json(status: u16, message: &str) -> Response<HyperOutgoingBody> {
    let body = serde_json::json!({ "error": message }).to_string();
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(
            Full::new(Bytes::from(body))
                .map_err(|never: Infallible| match never {})
                .boxed_unsync(),
        )
        .expect("static response is valid")
}

/// A path as it may be logged: the key in a ping URL and the token in a push URL are secrets.
pub fn redact(path: &str) -> String {
    for prefix in ["/ping/", "/api/push/"] {
        if let Some(rest) = path.strip_prefix(prefix) {
            let tail = rest.find('/').map(|i| &rest[i..]).unwrap_or("");
            return format!("{prefix}***{tail}");
        }
    }
    path.to_string()
}

/// Answer one request. Paths (secrets redacted) and statuses are logged; headers and bodies never are, since they
/// carry keys.
pub async fn respond(rt: Arc<Runtime>, req: Request<Incoming>) -> Response<HyperOutgoingBody> {
    let started = Instant::now();
    let method = req.method().clone();
    let path = redact(req.uri().path());
    let response = match rt.handle(req).await {
        Ok(Some(r)) if method == hyper::Method::HEAD => head(r, &path).await,
        Ok(Some(r)) => r,
        Ok(None) => json(404, &format!("no such route: {path}")),
        Err(e) => {
            tracing::error!(%method, %path, "request failed: {e:#}");
            json(500, "internal error")
        }
    };
    tracing::info!(
        %method,
        %path,
        status = response.status().as_u16(),
        micros = started.elapsed().as_micros() as u64,
        "request"
    );
    response
}

/// A `HEAD` answer. Spin closes a `HEAD` response's body stream, so a component that writes a
/// body there fails (spin-sdk prints "Could not set `ResponseOutparam`: StreamError::Closed",
/// once per request); here the body is read and refused the same way, so the tests see it.
async fn head(response: Response<HyperOutgoingBody>, path: &str) -> Response<HyperOutgoingBody> {
    let (parts, body) = response.into_parts();
    let written = body.collect().await.map(|b| b.to_bytes());
    match written {
        Ok(b) if b.is_empty() => {}
        _ => tracing::error!(
            %path,
            "Could not set `ResponseOutparam`: StreamError::Closed (the component wrote a body for HEAD, which Spin closes)"
        ),
    }
    let empty = http_body_util::Empty::new()
        .map_err(|never| match never {})
        .boxed_unsync();
    Response::from_parts(parts, empty)
}

/// Accept connections until `shutdown` resolves.
pub async fn serve(
    rt: Arc<Runtime>,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<()> {
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => accepted?,
            () = &mut shutdown => return Ok(()),
        };
        let rt = rt.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let rt = rt.clone();
                async move { Ok::<_, Infallible>(respond(rt, req).await) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service);
            if let Err(e) = conn.await {
                tracing::debug!("connection ended: {e}");
            }
        });
    }
}

/// Run the sweep every `every`, as `POST /api/sweep` through the sweep component.
pub async fn sweep_timer(rt: Arc<Runtime>, every: Duration) {
    let key = rt
        .manifest
        .route("/api/sweep")
        .and_then(|c| rt.profile(c))
        .and_then(|p| p.variables.get("sweep_api_key").cloned())
        .filter(|k| !k.is_empty());
    let mut ticker = tokio::time::interval(every);
    ticker.tick().await;
    loop {
        ticker.tick().await;
        let mut req = Request::post("http://localhost/api/sweep").header("host", "localhost");
        if let Some(key) = &key {
            req = req.header("authorization", format!("Bearer {key}"));
        }
        let req = req
            .body(
                Full::new(Bytes::new())
                    .map_err(|never: Infallible| -> wasmtime_wasi_http::Error { match never {} }),
            )
            .expect("static request is valid");
        match rt.handle(req).await {
            Ok(Some(res)) => {
                let status = res.status().as_u16();
                let body = res.into_body().collect().await.map(|b| b.to_bytes());
                let transitions = body
                    .ok()
                    .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                    .and_then(|v| v["transitions"].as_array().map(Vec::len))
                    .unwrap_or(0);
                tracing::info!(status, transitions, "sweep");
            }
            Ok(None) => tracing::warn!("no component serves /api/sweep"),
            Err(e) => tracing::error!("sweep failed: {e:#}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn keys_in_ping_and_push_urls_never_reach_the_log() {
        assert_eq!(
            redact("/ping/s3cret/backup/start"),
            "/ping/***/backup/start"
        );
        assert_eq!(redact("/ping/s3cret"), "/ping/***");
        assert_eq!(redact("/api/push/t0ken"), "/api/push/***");
        assert_eq!(redact("/api/status"), "/api/status");
    }
}
