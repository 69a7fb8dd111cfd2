//! One channel's delivery as a small state machine: send, classify, wait and resend while the
//! failure is transient, then report. Hosts drive it — sequentially ([`drive`]) or, in the
//! notifiers component, all channels at once — so one slow vendor costs only its own budget.

use crate::channels::ChannelConfig;
use crate::channels::{
    BuildError, Outbound, OutboundRequest, OutboundResponse, SendError, Verdict,
};
use crate::clock::Clock;
use crate::notification::Delivery;

/// Attempts per channel, the first included.
pub const MAX_ATTEMPTS: u32 = 3;
/// Longest wait between attempts; a vendor asking for more is given up on for this event.
pub const MAX_WAIT_MS: u64 = 10_000;
/// First backoff; then tripled.
const BACKOFF_MS: u64 = 500;
/// A channel's whole delivery, retries included, fits in this many request timeouts: a
/// heartbeat that announces a transition waits for its deliveries, so the wait is bounded.
pub const BUDGET_TIMEOUTS: u64 = 2;

/// What the host should do next.
#[derive(Debug, Clone, PartialEq)]
pub enum DeliveryStep {
    /// Send this request, giving up after `timeout_ms`.
    Send(OutboundRequest, u64),
    /// Wait this long, then call [`Plan::resume`].
    Wait(u64),
    /// Finished.
    Done(Delivery),
}

/// The delivery of one event to one channel.
#[derive(Debug, Clone)]
pub struct Plan {
    request: Result<OutboundRequest, BuildError>,
    kind: crate::channels::ChannelKind,
    delivery: Delivery,
    started: i64,
    attempt_started: i64,
    timeout_ms: u64,
}

impl Plan {
    /// Log the delivery under `name` (one of a channel's several destinations).
    pub fn named(mut self, name: String) -> Plan {
        self.delivery.channel = name;
        self
    }

    /// `request` is the built vendor request, or why it could not be built.
    pub fn new(
        channel: &ChannelConfig,
        request: Result<OutboundRequest, BuildError>,
        timeout_ms: u64,
    ) -> Plan {
        Plan {
            request,
            kind: channel.kind,
            delivery: Delivery {
                channel: channel.name.clone(),
                channel_type: channel.kind.name().into(),
                ok: false,
                http_status: None,
                latency_ms: 0,
                error: None,
                attempts: 0,
                tries: Vec::new(),
            },
            started: 0,
            attempt_started: 0,
            timeout_ms,
        }
    }

    pub fn channel(&self) -> &str {
        &self.delivery.channel
    }

    fn done(&mut self, now: i64, error: Option<String>) -> DeliveryStep {
        self.delivery.ok = error.is_none();
        self.delivery.error = error;
        self.delivery.latency_ms = (now - self.started).clamp(0, u32::MAX as i64) as u32;
        DeliveryStep::Done(self.delivery.clone())
    }

    fn deadline(&self) -> i64 {
        self.started + (self.timeout_ms * BUDGET_TIMEOUTS) as i64
    }

    fn send(&mut self, now: i64) -> DeliveryStep {
        let remaining = (self.deadline() - now).max(0) as u64;
        self.attempt_started = now;
        match &self.request {
            Ok(r) => {
                self.delivery.attempts += 1;
                DeliveryStep::Send(r.clone(), self.timeout_ms.min(remaining))
            }
            Err(_) => unreachable!("checked in start"),
        }
    }

    pub fn start(&mut self, now: i64) -> DeliveryStep {
        self.started = now;
        if let Err(e) = &self.request {
            let e = e.to_string();
            return self.done(now, Some(e));
        }
        self.send(now)
    }

    /// After a `Wait`.
    pub fn resume(&mut self, now: i64) -> DeliveryStep {
        self.send(now)
    }

    /// The outcome of the last `Send`.
    pub fn on_result(
        &mut self,
        result: Result<OutboundResponse, SendError>,
        now: i64,
    ) -> DeliveryStep {
        let latency_ms = (now - self.attempt_started).clamp(0, u32::MAX as i64) as u32;
        let (verdict, http_status) = match result {
            Ok(response) => {
                self.delivery.http_status = Some(response.status);
                (self.kind.classify(&response), Some(response.status))
            }
            Err(SendError::Refused(e)) => (Verdict::Permanent(e), None),
            Err(SendError::Transport(e)) => (
                Verdict::Retry {
                    after_ms: None,
                    error: e,
                },
                None,
            ),
        };
        self.delivery.tries.push(crate::notification::Try {
            http_status,
            latency_ms,
            error: match &verdict {
                Verdict::Delivered => None,
                Verdict::Retry { error, .. } => Some(error.clone()),
                Verdict::Permanent(e) => Some(e.clone()),
            },
        });
        match verdict {
            Verdict::Delivered => self.done(now, None),
            Verdict::Permanent(e) => self.done(now, Some(format!("{e} (permanent, not retried)"))),
            Verdict::Retry { after_ms, error } => {
                if self.delivery.attempts >= MAX_ATTEMPTS {
                    let e = format!(
                        "{error} (gave up after {} attempts)",
                        self.delivery.attempts
                    );
                    return self.done(now, Some(e));
                }
                let backoff = BACKOFF_MS * 3u64.pow(self.delivery.attempts - 1);
                let wait = after_ms.unwrap_or(backoff);
                if wait > MAX_WAIT_MS {
                    return self.done(
                        now,
                        Some(format!(
                            "{error} (vendor asked to wait {wait} ms; not retried)"
                        )),
                    );
                }
                // A retry needs time to wait and still get an answer.
                if now + wait as i64 + 100 > self.deadline() {
                    let e = format!(
                        "{error} (gave up after {} attempts: delivery budget of {} ms spent)",
                        self.delivery.attempts,
                        self.timeout_ms * BUDGET_TIMEOUTS
                    );
                    return self.done(now, Some(e));
                }
                DeliveryStep::Wait(wait)
            }
        }
    }
}

/// Drive a plan to the end, one request at a time.
pub fn drive(mut plan: Plan, outbound: &dyn Outbound, clock: &dyn Clock) -> Delivery {
    let mut step = plan.start(clock.now_ms());
    loop {
        step = match step {
            DeliveryStep::Send(request, timeout) => {
                let result = outbound.send(&request, timeout);
                plan.on_result(result, clock.now_ms())
            }
            DeliveryStep::Wait(ms) => {
                clock.pause(ms);
                plan.resume(clock.now_ms())
            }
            DeliveryStep::Done(d) => return d,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::ChannelKind;
    use crate::clock::ManualClock;
    use std::cell::RefCell;

    struct Scripted(RefCell<Vec<Result<OutboundResponse, SendError>>>);

    impl Outbound for Scripted {
        fn send(&self, _: &OutboundRequest, _: u64) -> Result<OutboundResponse, SendError> {
            self.0.borrow_mut().remove(0)
        }
    }

    fn channel() -> ChannelConfig {
        ChannelConfig {
            kind: ChannelKind::Webhook,
            name: "hook".into(),
            enabled: true,
            options: Default::default(),
            events: None,
            remind_every_secs: None,
        }
    }

    fn request() -> Result<OutboundRequest, BuildError> {
        Ok(OutboundRequest::json(
            "https://h/x".into(),
            &serde_json::json!({}),
        ))
    }

    fn status(status: u16, headers: &[(&str, &str)]) -> Result<OutboundResponse, SendError> {
        Ok(OutboundResponse {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: vec![],
        })
    }

    fn run(script: Vec<Result<OutboundResponse, SendError>>) -> (Delivery, i64) {
        let clock = ManualClock::at(0);
        let d = drive(
            Plan::new(&channel(), request(), 10_000),
            &Scripted(RefCell::new(script)),
            &clock,
        );
        (d, clock.now_ms())
    }

    #[test]
    fn retries_a_5xx_once_then_delivers() {
        let (d, waited) = run(vec![status(500, &[]), status(200, &[])]);
        assert!(d.ok);
        assert_eq!(d.attempts, 2);
        let statuses: Vec<_> = d
            .tries
            .iter()
            .map(|t| (t.http_status, t.error.clone()))
            .collect();
        assert_eq!(
            statuses,
            [(Some(500), Some("HTTP 500".into())), (Some(200), None)]
        );
        assert_eq!(waited, 500);
    }

    #[test]
    fn honours_retry_after_on_429() {
        let (d, waited) = run(vec![status(429, &[("Retry-After", "2")]), status(204, &[])]);
        assert!(d.ok);
        assert_eq!(waited, 2000);
    }

    #[test]
    fn a_404_is_permanent_and_not_retried() {
        let (d, _) = run(vec![status(404, &[])]);
        assert!(!d.ok);
        assert_eq!(d.attempts, 1);
        assert_eq!(d.http_status, Some(404));
        assert!(d.error.unwrap().contains("permanent"));
    }

    #[test]
    fn a_destination_the_host_denies_is_permanent_and_not_retried() {
        let (d, waited) = run(vec![Err(SendError::Refused(
            crate::channels::DENIED.into(),
        ))]);
        assert!(!d.ok);
        assert_eq!(d.attempts, 1);
        assert_eq!(waited, 0);
        let error = d.error.unwrap();
        assert!(error.contains("allowed_outbound_hosts"), "{error}");
        assert!(error.contains("permanent"), "{error}");
    }

    #[test]
    fn gives_up_after_three_transient_failures() {
        let (d, waited) = run(vec![
            Err(SendError::Transport("timeout".into())),
            status(503, &[]),
            status(502, &[]),
        ]);
        assert!(!d.ok);
        assert_eq!(d.attempts, 3);
        assert_eq!(waited, 500 + 1500);
        assert!(d.error.unwrap().contains("gave up after 3 attempts"));
    }

    #[test]
    fn the_budget_bounds_retries_after_slow_failures() {
        struct Slow<'a>(&'a ManualClock);
        impl Outbound for Slow<'_> {
            fn send(
                &self,
                _: &OutboundRequest,
                timeout: u64,
            ) -> Result<OutboundResponse, SendError> {
                self.0.pause(timeout);
                Err(SendError::Transport(format!(
                    "no answer within {timeout} ms"
                )))
            }
        }
        let clock = ManualClock::at(0);
        let d = drive(
            Plan::new(&channel(), request(), 1000),
            &Slow(&clock),
            &clock,
        );
        assert!(!d.ok);
        assert_eq!(d.attempts, 2, "1 s + 0.5 s wait + the 0.5 s left");
        assert!(
            clock.now_ms() <= 2000,
            "whole delivery within two timeouts: {}",
            clock.now_ms()
        );
        assert!(d.error.unwrap().contains("budget"));
    }

    #[test]
    fn a_request_that_cannot_be_built_is_reported_without_sending() {
        let clock = ManualClock::at(0);
        let plan = Plan::new(&channel(), Err("secret X is not set".into()), 1000);
        let d = drive(plan, &Scripted(RefCell::new(vec![])), &clock);
        assert_eq!(
            (d.ok, d.attempts, d.error.as_deref()),
            (false, 0, Some("secret X is not set"))
        );
    }
}
