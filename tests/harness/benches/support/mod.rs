//! What the benches share: a request as heartbeat-host's runtime takes it.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use std::convert::Infallible;

pub fn request(
    method: &str,
    path: &str,
    auth: Option<&str>,
    body: impl Into<Bytes>,
) -> hyper::Request<
    impl hyper::body::Body<Data = Bytes, Error = wasmtime_wasi_http::Error> + Send + 'static,
> {
    let mut b = hyper::Request::builder()
        .method(method)
        .uri(format!("http://localhost{path}"))
        .header("host", "localhost");
    if let Some(a) = auth {
        b = b.header("authorization", a);
    }
    b.body(
        Full::new(body.into())
            .map_err(|never: Infallible| -> wasmtime_wasi_http::Error { match never {} }),
    )
    .unwrap()
}

/// One request through heartbeat-host's runtime, in-process: the answer's status and body.
pub async fn answer(
    rt: &std::sync::Arc<heartbeat_host::runtime::Runtime>,
    method: &str,
    path: &str,
    auth: Option<&str>,
    body: impl Into<Bytes>,
) -> anyhow::Result<(hyper::StatusCode, Bytes)> {
    let r = rt
        .handle(request(method, path, auth, body))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no component serves {path}"))?;
    let status = r.status();
    let body = r.into_body().collect().await.map(|b| b.to_bytes());
    Ok((status, body.unwrap_or_default()))
}
