//! The fastest any component can be on heartbeat-host: a `#[http_component]` that answers
//! "ok" without touching the store, configuration or notifier. The ingest benchmark runs it
//! beside the real components, so its figures are a ceiling measured on the same host and run.
#![expect(
    unsafe_code,
    reason = "spin-sdk's #[http_component] generates the wasi:http export glue"
)]

use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;

#[http_component]
fn handle(_req: Request) -> Response {
    Response::builder()
        .status(200)
        .header("content-type", "text/plain")
        .body("ok")
        .build()
}
