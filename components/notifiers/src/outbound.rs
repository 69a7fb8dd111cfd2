//! Drives heartbeat-core's delivery plans over `wasi:http/outgoing-handler` (spin-sdk's
//! `send`), all channels concurrently on spin-sdk's executor. spin-sdk has no timeout of its
//! own, so each request races a deadline on the monotonic clock.

use futures::future::{join_all, select, Either};
use heartbeat_core::channels::{OutboundRequest, OutboundResponse};
use heartbeat_core::clock::Clock;
use heartbeat_core::delivery::{Plan, Step};
use heartbeat_core::notify::Delivery;
use heartbeat_guest::time::WallClock;
use spin_sdk::http::{Method, Request, Response};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use wasi::clocks::monotonic_clock;

/// Resolves once the monotonic clock passes a deadline.
struct Deadline(monotonic_clock::Instant);

impl Deadline {
    fn after_ms(ms: u64) -> Deadline {
        Deadline(monotonic_clock::now() + ms * 1_000_000)
    }
}

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

async fn send(req: OutboundRequest, timeout_ms: u64) -> Result<OutboundResponse, String> {
    let mut builder = Request::builder();
    builder.method(method(&req.method)).uri(req.url);
    for (name, value) in req.headers {
        builder.header(name, value);
    }
    let request = builder.body(req.body).build();
    let sending = Box::pin(spin_sdk::http::send::<_, Response>(request));
    match select(sending, Box::pin(Deadline::after_ms(timeout_ms))).await {
        Either::Left((Ok(res), _)) => Ok(OutboundResponse {
            status: *res.status(),
            headers: res
                .headers()
                .map(|(k, v)| (k.to_string(), v.as_str().unwrap_or_default().to_string()))
                .collect(),
            body: res.into_body(),
        }),
        // Only the error's kind is kept: its text may quote the URL, which can hold a token.
        Either::Left((Err(e), _)) => Err(format!("request failed ({})", kind(&e))),
        Either::Right(_) => Err(format!("no answer within {timeout_ms} ms")),
    }
}

async fn drive(mut plan: Plan) -> Delivery {
    let mut step = plan.start(WallClock.now_ms());
    loop {
        step = match step {
            Step::Send(request, timeout) => {
                let result = send(request, timeout).await;
                plan.on_result(result, WallClock.now_ms())
            }
            Step::Wait(ms) => {
                Deadline::after_ms(ms).await;
                plan.resume(WallClock.now_ms())
            }
            Step::Done(d) => return d,
        }
    }
}

/// Deliver every plan concurrently; results in plan order.
pub fn drive_all(plans: Vec<Plan>) -> Vec<Delivery> {
    spin_sdk::http::run(join_all(plans.into_iter().map(drive)))
}
