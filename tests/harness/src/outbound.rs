//! Outgoing HTTP from guests (`wasi:http/outgoing-handler`). Tests point every vendor call at a
//! loopback receiver through [`Hooks::redirect`]; nothing then leaves the machine, and the
//! receiver still sees the original `Host` header and path.

use std::future::Future;
use std::net::SocketAddr;
use wasmtime_wasi_http::{RequestOptions, WasiBody, WasiHttpHooks};

#[derive(Debug, Clone, Default)]
pub struct Hooks {
    /// Send every request to this address over plain HTTP instead of its real destination.
    pub redirect: Option<SocketAddr>,
}

type Io = Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>;

impl WasiHttpHooks for Hooks {
    fn send_request(
        &mut self,
        mut request: hyper::http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Io,
    ) -> Box<
        dyn Future<
                Output = Result<(hyper::http::Response<WasiBody>, Io), wasmtime_wasi_http::Error>,
            > + Send,
    > {
        _ = fut;
        if let Some(addr) = self.redirect {
            let path = request
                .uri()
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| "/".into());
            if let Ok(uri) = format!("http://{addr}{path}").parse() {
                *request.uri_mut() = uri;
            }
        }
        Box::new(async move {
            use http_body_util::BodyExt;
            let (res, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            Ok((res.map(BodyExt::boxed_unsync), Box::new(io) as Io))
        })
    }
}
