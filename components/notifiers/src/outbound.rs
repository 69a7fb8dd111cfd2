//! Drives heartbeat-core's delivery plans over `wasi:http/outgoing-handler` ([`exchange`]),
//! all channels concurrently on spin-sdk's executor. Each request races a deadline on the
//! monotonic clock.
//!
//! [`exchange`]: crate::exchange::exchange

use futures::future::{join_all, select, Either};
use heartbeat_core::channels::{OutboundRequest, OutboundResponse, SendError};
use heartbeat_core::clock::Clock;
use heartbeat_core::delivery::{DeliveryStep, Plan};
use heartbeat_core::notify::Delivery;
use heartbeat_guest::time::WallClock;
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

async fn send(req: OutboundRequest, timeout_ms: u64) -> Result<OutboundResponse, SendError> {
    let exchange = Box::pin(crate::exchange::exchange(&req));
    match select(exchange, Box::pin(Deadline::after_ms(timeout_ms))).await {
        Either::Left((result, _)) => result,
        Either::Right(_) => Err(SendError::Transport(format!(
            "no answer within {timeout_ms} ms"
        ))),
    }
}

async fn drive(mut plan: Plan) -> Delivery {
    let mut step = plan.start(WallClock.now_ms());
    loop {
        step = match step {
            DeliveryStep::Send(request, timeout) => {
                let result = send(request, timeout).await;
                plan.on_result(result, WallClock.now_ms())
            }
            DeliveryStep::Wait(ms) => {
                Deadline::after_ms(ms).await;
                plan.resume(WallClock.now_ms())
            }
            DeliveryStep::Done(d) => return d,
        }
    }
}

/// Deliver every plan concurrently; results in plan order.
pub fn drive_all(plans: Vec<Plan>) -> Vec<Delivery> {
    spin_sdk::http::run(join_all(plans.into_iter().map(drive)))
}
