//! workers-rs HTTP types ↔ heartbeat-core's.

use heartbeat_core::api;
use worker::Headers;

pub async fn request(req: &mut worker::Request) -> worker::Result<api::Request> {
    let url = req.url()?;
    Ok(api::Request {
        method: req.method().to_string().to_ascii_uppercase(),
        path: url.path().to_string(),
        query: url.query().unwrap_or_default().to_string(),
        headers: req.headers().entries().collect(),
        body: req.bytes().await.unwrap_or_default(),
    })
}

pub fn response(res: api::Response) -> worker::Result<worker::Response> {
    let headers = Headers::new();
    for (name, value) in &res.headers {
        headers.append(name, value)?;
    }
    Ok(worker::Response::from_bytes(res.body)?
        .with_status(res.status)
        .with_headers(headers))
}
