//! A small blocking HTTP client that records every response body, so a suite can prove no
//! secret ever came back.

use anyhow::{Context, Result};
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One HTTP answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The `error` sentence of a JSON error body, or "" if there is none.
    pub fn error(&self) -> String {
        self.json()["error"].as_str().unwrap_or("").to_string()
    }
}

#[derive(Clone)]
pub struct Client {
    base: String,
    agent: ureq::Agent,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Client {
    pub fn new(base: &str) -> Client {
        Client {
            base: base.trim_end_matches('/').to_string(),
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(30))
                .build(),
            seen: Arc::default(),
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// Every response body this client (and its clones) received.
    pub fn bodies(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }

    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Reply> {
        let mut req = self
            .agent
            .request(method, &format!("{}{}", self.base, path));
        for (k, v) in headers {
            req = req.set(k, v);
        }
        let response = match if body.is_empty() && method == "GET" {
            req.call()
        } else {
            req.send_bytes(body)
        } {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => return Err(e).with_context(|| format!("{method} {path}")),
        };
        let status = response.status();
        let headers: Vec<(String, String)> = response
            .headers_names()
            .into_iter()
            .filter_map(|n| response.header(&n).map(|v| (n.clone(), v.to_string())))
            .collect();
        let body = response.into_string().context("reading body")?;
        let mut header_text = String::new();
        for (n, v) in &headers {
            header_text.push_str(&format!("{n}: {v}\n"));
        }
        crate::capture::keep("responses", &format!("{header_text}\n{body}\n"));
        self.seen.lock().unwrap().push(body.clone());
        Ok(Reply {
            status,
            headers,
            body,
        })
    }

    pub fn get(&self, path: &str) -> Result<Reply> {
        self.request("GET", path, &[], &[])
    }

    /// `POST /api/heartbeat` with `Bearer key` and a JSON body.
    pub fn beat(&self, key: &str, body: &Value) -> Result<Reply> {
        let auth = format!("Bearer {key}");
        self.request(
            "POST",
            "/api/heartbeat",
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            body.to_string().as_bytes(),
        )
    }

    /// The `/api/status` entry of one service.
    pub fn service_status(&self, id: &str) -> Result<Value> {
        let status = self.get("/api/status")?.json();
        status["services"]
            .as_array()
            .and_then(|list| list.iter().find(|s| s["id"] == id).cloned())
            .with_context(|| format!("service {id} missing from /api/status"))
    }

    /// The log entries of one service, newest first.
    pub fn logs(&self, id: &str) -> Result<Vec<Value>> {
        let reply = self.get(&format!("/api/logs?serviceId={id}"))?;
        anyhow::ensure!(reply.status == 200, "logs for {id}: HTTP {}", reply.status);
        Ok(reply.json()["entries"]
            .as_array()
            .cloned()
            .unwrap_or_default())
    }
}
