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
