//! A loopback HTTP receiver that records what vendors would have been sent. It listens on
//! 127.0.0.1 only, answers every request with a configurable status, and stops when dropped
//! (or after ten minutes, whichever comes first).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One recorded request.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// What a simple receiver or a strict API would trip on: a body streamed chunked instead
    /// of sent with its length (Python's http.server and many PHP front ends read it as
    /// empty), or no `User-Agent` naming the monitor.
    pub fn wire_faults(&self) -> Vec<String> {
        let mut faults = Vec::new();
        if let Some(te) = self.header("transfer-encoding") {
            faults.push(format!("transfer-encoding: {te}"));
        }
        let length = self.body.len().to_string();
        match self.header("content-length") {
            Some(l) if l == length => {}
            other => faults.push(format!(
                "content-length {other:?} for a body of {length} bytes"
            )),
        }
        match self.header("user-agent") {
            Some(ua) if ua.starts_with("heartbeat-monitor/") => {}
            other => faults.push(format!("user-agent {other:?}")),
        }
        faults
    }
}

/// A scripted answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// Wait this long before answering (a hanging vendor).
    pub delay: Duration,
}

impl Reply {
    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: "{\"ok\":true}".into(),
            delay: Duration::ZERO,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn after(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
}

/// Scripted answers by path prefix, used in order; then the default status.
type Script = Arc<Mutex<Vec<(String, std::collections::VecDeque<Reply>)>>>;

pub struct Receiver {
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    status: Arc<AtomicU16>,
    script: Script,
    stop: Arc<AtomicBool>,
}

const LIFETIME: Duration = Duration::from_secs(600);

impl Receiver {
    pub fn start() -> std::io::Result<Receiver> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let received = Arc::new(Mutex::new(Vec::new()));
        let status = Arc::new(AtomicU16::new(200));
        let stop = Arc::new(AtomicBool::new(false));
        let script: Script = Arc::default();
        let (r, s, st, sc) = (
            received.clone(),
            status.clone(),
            stop.clone(),
            script.clone(),
        );
        std::thread::spawn(move || {
            let started = Instant::now();
            for stream in listener.incoming() {
                if st.load(Ordering::SeqCst) || started.elapsed() > LIFETIME {
                    break;
                }
                if let Ok(stream) = stream {
                    let (r, s, sc) = (r.clone(), s.clone(), sc.clone());
                    std::thread::spawn(move || {
                        let _ = serve(stream, &r, &sc, s.load(Ordering::SeqCst));
                    });
                }
            }
        });
        Ok(Receiver {
            addr,
            received,
            status,
            script,
            stop,
        })
    }

    /// Answer the next requests whose path starts with `prefix` with `replies`, in order.
    pub fn script(&self, prefix: &str, replies: Vec<Reply>) {
        self.script
            .lock()
            .unwrap()
            .push((prefix.to_string(), replies.into_iter().collect()));
    }

    /// Requests whose path starts with `prefix`.
    pub fn received_at(&self, prefix: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.path.starts_with(prefix))
            .collect()
    }

    /// Answer future requests with this HTTP status.
    pub fn respond_with(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Wait up to `timeout` for at least `n` requests; returns what arrived.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        while self.received.lock().unwrap().len() < n && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        self.received()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve(
    stream: TcpStream,
    out: &Mutex<Vec<Received>>,
    script: &Script,
    status: u16,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let body = if chunked {
        read_chunked(&mut reader)?
    } else {
        let len = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .and_then(|(_, v)| v.parse::<usize>().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        reader.read_exact(&mut body)?;
        body
    };
    let reply = script
        .lock()
        .unwrap()
        .iter_mut()
        .find(|(prefix, queue)| path.starts_with(prefix.as_str()) && !queue.is_empty())
        .and_then(|(_, queue)| queue.pop_front())
        .unwrap_or_else(|| Reply::status(status));
    out.lock().unwrap().push(Received {
        method,
        path,
        headers,
        body,
    });
    std::thread::sleep(reply.delay.min(LIFETIME));
    let mut stream = stream;
    let mut head = format!(
        "HTTP/1.1 {} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
        reply.status,
        reply.body.len()
    );
    for (k, v) in &reply.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    write!(stream, "{head}\r\n{}", reply.body)?;
    stream.flush()
}

fn read_chunked(reader: &mut impl BufRead) -> std::io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        reader.read_line(&mut size)?;
        let size = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16)
            .map_err(|_| std::io::Error::other("bad chunk size"))?;
        if size == 0 {
            // Trailers, then the blank line.
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
                    return Ok(body);
                }
            }
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..])?;
        let mut crlf = [0; 2];
        reader.read_exact(&mut crlf)?;
    }
}
