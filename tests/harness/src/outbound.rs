//! Outgoing HTTP from guests (`wasi:http/outgoing-handler`). A destination outside the
//! component's `allowed_outbound_hosts` is denied as Spin denies it (`HttpRequestDenied`, and
//! the same message with the entry to add). Tests then point every vendor call at a loopback
//! receiver through [`Hooks::redirect`]; nothing leaves the machine, and the receiver still sees
//! the original `Host` header and path.

use crate::allowed_hosts::AllowedHosts;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use wasmtime_wasi_http::{RequestOptions, WasiBody, WasiHttpHooks};

#[derive(Debug, Clone, Default)]
pub struct Hooks {
    /// Send every allowed request to this address over plain HTTP instead of its real
    /// destination.
    pub redirect: Option<SocketAddr>,
    /// The calling component's rules (set per instance).
    pub allowed: Arc<AllowedHosts>,
    /// The calling component, for the message when a destination is denied.
    pub component: String,
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
        if let Err(pattern) = self.allowed.check_url(&request.uri().to_string()) {
            tracing::error!(
                "Outbound network destination not allowed: {pattern}. To allow it, add \"{pattern}\" to allowed_outbound_hosts in [component.{}] of spin.toml",
                self.component
            );
            return Box::new(std::future::ready(Err(
                wasmtime_wasi_http::Error::HttpRequestDenied,
            )));
        }
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
