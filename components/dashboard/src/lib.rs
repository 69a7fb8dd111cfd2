//! The dashboard component: GET /api/status, /api/services, /api/logs and every other route. All logic is heartbeat-core's.
#![expect(
    unsafe_code,
    reason = "spin-sdk's #[http_component] generates the wasi:http export glue"
)]

use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;

#[http_component]
fn handle(req: Request) -> Response {
    heartbeat_guest::serve(req, |ctx, r| {
        heartbeat_core::ready::resolve(heartbeat_core::api::dashboard::handle(ctx, r))
    })
}
