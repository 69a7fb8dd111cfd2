//! The WASI components' ports never wait (every import is a blocking call), so the API's
//! futures are finished the first time they are polled. [`resolve`] takes the answer without an
//! executor; only the Cloudflare Worker, whose outbound fetch really waits, needs one.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// The output of `future`, which must be ready at once.
///
/// # Panics
/// If it is not: a port of a synchronous host returned a pending future (a host bug).
pub fn resolve<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("a synchronous host's port returned a pending future"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_a_future_that_never_waits() {
        let answer = async { std::future::ready(41).await + 1 };
        assert_eq!(resolve(answer), 42);
    }

    #[test]
    #[should_panic(expected = "pending future")]
    fn refuses_a_future_that_waits() {
        resolve(std::future::pending::<()>());
    }
}
