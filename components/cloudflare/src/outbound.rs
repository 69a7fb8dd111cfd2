//! heartbeat-core's [`Notifier`] over the Workers `fetch`: every channel's delivery plan at
//! once, each request raced against its timeout (`REQUEST_TIMEOUT`), retries waited out with
//! timers. Vendor calls reach the network only from here.

use futures_util::future::{join_all, select, Either};
use heartbeat_core::channels::{OutboundRequest, OutboundResponse, SendError};
use heartbeat_core::clock::Clock;
use heartbeat_core::config::{Config, Secrets};
use heartbeat_core::delivery::{DeliveryStep, Plan};
use heartbeat_core::notify::{self, Deliveries, Delivery, Notification, Notifier};
use std::time::Duration;
use worker::{AbortController, Delay, Fetch, Headers, Method, RequestInit};

use crate::clock::WorkersClock;

pub struct FetchNotifier<'a> {
    pub config: &'a Config,
    pub secrets: &'a dyn Secrets,
    pub timeout_ms: u64,
    /// Runs before the first vendor call of each notification (the Durable Object writes back
    /// what it decided: other requests run while this one waits, and must see the transition
    /// it claimed). `Err` says why nothing may be sent.
    pub before_sending: &'a dyn Fn() -> Result<(), String>,
    /// `OUTBOUND_REDIRECT`: send every vendor call to this origin (path and query kept) instead
    /// of its real host — the seam the tests use to point vendors at a loopback receiver, as
    /// heartbeat-host's outgoing-request hook does. Never set it in production.
    pub redirect: Option<String>,
}

impl<'a> FetchNotifier<'a> {
    pub fn new(
        config: &'a Config,
        secrets: &'a dyn Secrets,
        timeout_ms: u64,
        before_sending: &'a dyn Fn() -> Result<(), String>,
    ) -> Self {
        FetchNotifier {
            config,
            secrets,
            timeout_ms,
            before_sending,
            redirect: secrets.get("OUTBOUND_REDIRECT").filter(|r| !r.is_empty()),
        }
    }

    async fn drive_all(&self, plans: Vec<Plan>) -> Vec<Delivery> {
        if plans.is_empty() {
            return Vec::new();
        }
        if let Err(why) = (self.before_sending)() {
            return plans.iter().map(|p| not_sent(p, &why)).collect();
        }
        let redirect = self.redirect.as_deref();
        join_all(plans.into_iter().map(|p| drive(p, redirect))).await
    }
}

fn not_sent(plan: &Plan, why: &str) -> Delivery {
    Delivery {
        channel: plan.channel().to_string(),
        channel_type: String::new(),
        ok: false,
        http_status: None,
        latency_ms: 0,
        error: Some(format!("not sent: {why}")),
        attempts: 0,
        tries: Vec::new(),
    }
}

impl Notifier for FetchNotifier<'_> {
    fn deliver<'a>(&'a self, n: &'a Notification) -> Deliveries<'a> {
        Box::pin(async move {
            let plans = notify::plans(self.config, self.secrets, self.timeout_ms, n);
            self.drive_all(plans).await
        })
    }

    fn deliver_to<'a>(&'a self, channel: &'a str, n: &'a Notification) -> Deliveries<'a> {
        Box::pin(async move {
            let plans = notify::plan_for(self.config, self.secrets, self.timeout_ms, channel, n);
            self.drive_all(plans).await
        })
    }
}

async fn drive(mut plan: Plan, redirect: Option<&str>) -> Delivery {
    let mut step = plan.start(WorkersClock.now_ms());
    loop {
        step = match step {
            DeliveryStep::Send(mut request, timeout) => {
                if let Some(origin) = redirect {
                    request.url = redirected(&request.url, origin);
                }
                let result = send(request, timeout).await;
                plan.on_result(result, WorkersClock.now_ms())
            }
            DeliveryStep::Wait(ms) => {
                Delay::from(Duration::from_millis(ms)).await;
                plan.resume(WorkersClock.now_ms())
            }
            DeliveryStep::Done(d) => return d,
        }
    }
}

/// `url` with its scheme, host and port replaced by `origin`.
fn redirected(url: &str, origin: &str) -> String {
    match worker::Url::parse(url) {
        Ok(u) => {
            let query = u.query().map(|q| format!("?{q}")).unwrap_or_default();
            format!("{}{}{query}", origin.trim_end_matches('/'), u.path())
        }
        Err(_) => url.to_string(),
    }
}

/// One request; errors never quote the URL, which may hold a token.
async fn send(req: OutboundRequest, timeout_ms: u64) -> Result<OutboundResponse, SendError> {
    let headers = Headers::new();
    for (name, value) in &req.headers {
        headers
            .append(name, value)
            .map_err(|_| SendError::Refused(format!("invalid header {name}")))?;
    }
    let mut init = RequestInit::new();
    init.with_method(Method::from(req.method.clone()))
        .with_headers(headers);
    if !req.body.is_empty() {
        init.with_body(Some(
            worker::js_sys::Uint8Array::from(req.body.as_slice()).into(),
        ));
    }
    let request = worker::Request::new_with_init(&req.url, &init)
        .map_err(|_| SendError::Refused("request failed (invalid request)".into()))?;
    let controller = AbortController::default();
    let signal = controller.signal();
    let fetch = Fetch::Request(request);
    let exchange = Box::pin(async move {
        let mut res = fetch.send_with_signal(&signal).await?;
        let body = res.bytes().await?;
        Ok::<_, worker::Error>(OutboundResponse {
            status: res.status_code(),
            headers: res.headers().entries().collect(),
            body,
        })
    });
    let deadline = Box::pin(Delay::from(Duration::from_millis(timeout_ms)));
    match select(exchange, deadline).await {
        Either::Left((Ok(response), _)) => Ok(response),
        Either::Left((Err(_), _)) => Err(SendError::Transport(
            "request failed (network error)".into(),
        )),
        Either::Right(_) => {
            controller.abort();
            Err(SendError::Transport(format!(
                "no answer within {timeout_ms} ms"
            )))
        }
    }
}
