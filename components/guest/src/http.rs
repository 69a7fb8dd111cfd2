//! spin-sdk HTTP types ↔ heartbeat-core's.

use heartbeat_core::api::{Request, Response};

pub fn request(req: &spin_sdk::http::Request) -> Request {
    let method = req.method().to_string().to_ascii_uppercase();
    let (path, query) = match req.path_and_query() {
        Some(pq) => match pq.split_once('?') {
            Some((p, q)) => (p.to_string(), q.to_string()),
            None => (pq.to_string(), String::new()),
        },
        None => (req.path().to_string(), req.query().to_string()),
    };
    Request {
        method,
        path,
        query,
        headers: req
            .headers()
            .map(|(name, value)| (name.to_string(), value.as_str().unwrap_or("").to_string()))
            .collect(),
        body: req.body().to_vec(),
    }
}

/// The answer to a request; to a `HEAD`, without its body. The host closes a `HEAD` response's
/// body stream, so writing one fails (and Spin prints "Could not set `ResponseOutparam`" for
/// every such request).
pub fn response(res: Response, head: bool) -> spin_sdk::http::Response {
    let mut builder = spin_sdk::http::Response::builder();
    builder.status(res.status);
    for (name, value) in res.headers {
        builder.header(name, value);
    }
    let body = if head { Vec::new() } else { res.body };
    builder.body(body).build()
}
