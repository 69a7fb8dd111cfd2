//! One HTTP exchange over `wasi:http/outgoing-handler`, written against the interface instead
//! of spin-sdk's `send`. spin-sdk writes the body before it looks at the host's answer, so a
//! request the host refused — a destination outside Spin's `allowed_outbound_hosts` — shows up
//! as a broken body stream, the same as a dropped connection, and would be retried. Here the
//! host's answer, when there is one, says what happened, and a refusal is final.

use heartbeat_core::channels::{OutboundRequest, OutboundResponse, SendError, DENIED};
use spin_executor::CancelOnDropToken;
use std::task::Poll;
use wasi::http::outgoing_handler;
use wasi::http::types::{
    ErrorCode, Fields, IncomingResponse, Method, OutgoingBody, OutgoingRequest, Scheme,
};
use wasi::io::poll::Pollable;
use wasi::io::streams::StreamError;

/// A vendor's answer is a few hundred bytes; more than this is cut off.
const MAX_RESPONSE_BYTES: usize = 1 << 20;

/// Wait on spin-sdk's executor until the pollable `subscribe` makes is ready. The registered
/// pollable is dropped with the wait (the token), never left behind in the executor: a
/// pollable that outlives its stream or response makes dropping them trap.
async fn ready(subscribe: impl Fn() -> Pollable) {
    let mut registered: Option<CancelOnDropToken> = None;
    std::future::poll_fn(|cx| {
        let pollable = subscribe();
        if pollable.ready() {
            return Poll::Ready(());
        }
        let token = spin_executor::push_waker_and_get_token(pollable, cx.waker().clone());
        registered = Some(token.into());
        Poll::Pending
    })
    .await
}

/// `scheme://authority/path?query` → its parts; the path defaults to `/`.
fn split_url(url: &str) -> Option<(Scheme, &str, String)> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        other => Scheme::Other(other.to_string()),
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    let path = match path {
        "" => "/".to_string(),
        p if p.starts_with('?') => format!("/{p}"),
        p => p.to_string(),
    };
    (!authority.is_empty()).then_some((scheme, authority, path))
}

fn method(m: &str) -> Method {
    match m {
        "PUT" => Method::Put,
        "PATCH" => Method::Patch,
        "GET" => Method::Get,
        _ => Method::Post,
    }
}

/// The host's error as a delivery failure: what the host will never send is final.
fn failure(code: ErrorCode) -> SendError {
    match code {
        ErrorCode::HttpRequestDenied => SendError::Refused(DENIED.into()),
        ErrorCode::HttpRequestUriInvalid
        | ErrorCode::HttpRequestMethodInvalid
        | ErrorCode::HttpRequestLengthRequired => {
            SendError::Refused(format!("the host refused the request ({})", name(&code)))
        }
        other => SendError::Transport(format!("request failed ({})", name(&other))),
    }
}

/// `ConnectionRefused`, `DnsError`, …: the error's kind only, never its text (which may quote
/// the URL, and the URL may hold a token).
fn name(code: &ErrorCode) -> String {
    let debug = format!("{code:?}");
    debug
        .split(['(', ' ', '{'])
        .next()
        .unwrap_or("error")
        .to_string()
}

async fn write_all(body: &OutgoingBody, mut bytes: &[u8]) -> Result<(), StreamError> {
    let stream = body.write().map_err(|()| StreamError::Closed)?;
    while !bytes.is_empty() {
        ready(|| stream.subscribe()).await;
        let n = (stream.check_write()? as usize).min(bytes.len());
        stream.write(&bytes[..n])?;
        bytes = &bytes[n..];
    }
    stream.flush()?;
    ready(|| stream.subscribe()).await;
    stream.check_write()?;
    Ok(())
}

async fn read_all(response: &IncomingResponse) -> Result<Vec<u8>, SendError> {
    let cut = || SendError::Transport("request failed (response body cut off)".into());
    let body = response.consume().map_err(|()| cut())?;
    let stream = body.stream().map_err(|()| cut())?;
    let mut bytes = Vec::new();
    while bytes.len() < MAX_RESPONSE_BYTES {
        match stream.read((MAX_RESPONSE_BYTES - bytes.len()) as u64) {
            Ok(chunk) if chunk.is_empty() => ready(|| stream.subscribe()).await,
            Ok(chunk) => bytes.extend(chunk),
            Err(StreamError::Closed) => break,
            Err(StreamError::LastOperationFailed(_)) => return Err(cut()),
        }
    }
    Ok(bytes)
}

/// Send `req` and read the whole answer.
pub async fn exchange(req: &OutboundRequest) -> Result<OutboundResponse, SendError> {
    let refused = |what: &str| SendError::Refused(format!("the request cannot be sent ({what})"));
    let headers = Fields::new();
    for (name, value) in &req.headers {
        headers
            .append(name, &value.as_bytes().to_vec())
            .map_err(|_| refused(&format!("header {name}")))?;
    }
    let (scheme, authority, path) = split_url(&req.url).ok_or_else(|| refused("its URL"))?;
    let request = OutgoingRequest::new(headers);
    request
        .set_method(&method(&req.method))
        .and_then(|()| request.set_scheme(Some(&scheme)))
        .and_then(|()| request.set_authority(Some(authority)))
        .and_then(|()| request.set_path_with_query(Some(&path)))
        .map_err(|()| refused("its URL"))?;
    let body = request.body().map_err(|()| refused("its body"))?;
    let future = outgoing_handler::handle(request, None).map_err(failure)?;
    // A broken body stream is explained by the host's answer below (a refusal, a connection
    // that failed), so its own error is not the one reported.
    let _ = write_all(&body, &req.body).await;
    let _ = OutgoingBody::finish(body, None);
    ready(|| future.subscribe()).await;
    let response = match future.get() {
        Some(Ok(Ok(response))) => response,
        Some(Ok(Err(code))) => return Err(failure(code)),
        _ => return Err(SendError::Transport("request failed (no response)".into())),
    };
    let headers = response
        .headers()
        .entries()
        .into_iter()
        .map(|(k, v)| (k, String::from_utf8_lossy(&v).into_owned()))
        .collect();
    Ok(OutboundResponse {
        status: response.status(),
        headers,
        body: read_all(&response).await?,
    })
}
