//! heartbeat-core's `Outbound` over `wasi:http/outgoing-handler` (spin-sdk's `send`), with a
//! deadline: spin-sdk has no timeout of its own, and one hung vendor must not hold the others.

use futures::future::{select, Either};
use heartbeat_core::channels::{Outbound, OutboundRequest, OutboundResponse};
use spin_sdk::http::{Method, Request, Response};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use wasi::clocks::monotonic_clock;

/// Sends through the host's outgoing HTTP.
pub struct WasiHttp;

/// Resolves once the monotonic clock passes a deadline.
struct Deadline(monotonic_clock::Instant);

impl Future for Deadline {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if monotonic_clock::now() >= self.0 {
            return Poll::Ready(());
        }
        spin_executor::push_waker(
            monotonic_clock::subscribe_instant(self.0),
            cx.waker().clone(),
        );
        Poll::Pending
    }
}

fn method(m: &str) -> Method {
    match m {
        "PUT" => Method::Put,
        "PATCH" => Method::Patch,
        "GET" => Method::Get,
        _ => Method::Post,
    }
}

impl Outbound for WasiHttp {
    fn send(&self, req: &OutboundRequest, timeout_ms: u64) -> Result<OutboundResponse, String> {
        let mut builder = Request::builder();
        builder.method(method(&req.method)).uri(req.url.clone());
        for (name, value) in &req.headers {
            builder.header(name.clone(), value.clone());
        }
        let request = builder.body(req.body.clone()).build();
        let deadline = Deadline(monotonic_clock::now() + timeout_ms * 1_000_000);
        spin_sdk::http::run(async move {
            let send = Box::pin(spin_sdk::http::send::<_, Response>(request));
            match select(send, Box::pin(deadline)).await {
                Either::Left((Ok(res), _)) => Ok(OutboundResponse {
                    status: *res.status(),
                    body: res.into_body(),
                }),
                // Only the error's kind is kept: its text may quote the URL, which can hold a token.
                Either::Left((Err(e), _)) => Err(format!("request failed ({})", kind(&e))),
                Either::Right(_) => Err(format!("no answer within {timeout_ms} ms")),
            }
        })
    }
}

fn kind(e: &spin_sdk::http::SendError) -> String {
    let debug = match e {
        spin_sdk::http::SendError::Http(code) => format!("{code:?}"),
        spin_sdk::http::SendError::Io(_) => "I/O error".into(),
        _ => "invalid request or response".into(),
    };
    debug
        .split(['(', ' ', '{'])
        .next()
        .unwrap_or("error")
        .to_string()
}
