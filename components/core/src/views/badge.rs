//! Status badges for READMEs and wikis: `GET /badge/{id}.svg` (a flat badge in the style
//! shields.io made familiar) and `GET /badge/{id}.json` (shields.io's *endpoint* schema, for
//! people who want shields to draw it). `?metric=uptime30d` (or 24h, 7d, 90d) shows uptime
//! instead of status; `?label=` replaces the service name on the left.

use super::format::percent;
use super::Row;
use crate::model::Status;
use crate::uptime::WINDOWS;
use askama::Template;
use serde_json::{json, Value};

/// How long badge caches (browsers, GitHub's image proxy) may keep one, in seconds.
pub const CACHE_SECONDS: u32 = 60;

/// What a badge shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    Status,
    /// Uptime over `WINDOWS[i]`.
    Uptime(usize),
}

/// A `metric` a badge cannot show.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("metric must be one of status, uptime24h, uptime7d, uptime30d, uptime90d")]
pub struct UnknownMetric;

impl Metric {
    /// `None` or `status` → status; `uptime24h`, `uptime7d`, `uptime30d`, `uptime90d`.
    pub fn parse(value: Option<&str>) -> Result<Metric, UnknownMetric> {
        match value {
            None | Some("status") => Ok(Metric::Status),
            Some(v) => WINDOWS
                .iter()
                .position(|(label, _)| v.strip_prefix("uptime") == Some(label))
                .map(Metric::Uptime)
                .ok_or(UnknownMetric),
        }
    }
}

/// A badge's content, whatever its encoding.
#[derive(Debug, Clone, PartialEq)]
pub struct Badge {
    pub label: String,
    pub message: String,
    /// A colour name of the shields.io endpoint schema.
    pub color: &'static str,
    /// The same colour as hex, for our own SVG.
    pub hex: &'static str,
}

const GREEN: (&str, &str) = ("brightgreen", "#2e7d32");
const YELLOWGREEN: (&str, &str) = ("yellowgreen", "#5c7a00");
const YELLOW: (&str, &str) = ("yellow", "#8a6d00");
const ORANGE: (&str, &str) = ("orange", "#b35900");
const RED: (&str, &str) = ("red", "#c62828");
const GREY: (&str, &str) = ("lightgrey", "#616161");

pub fn badge(row: &Row<'_>, metric: Metric, label: Option<&str>) -> Badge {
    let label = label
        .filter(|l| !l.is_empty())
        .unwrap_or(&row.service.name)
        .to_string();
    let (message, (color, hex)) = match metric {
        Metric::Status if !row.service.enabled => ("disabled".to_string(), GREY),
        Metric::Status => (
            row.status.as_str().to_string(),
            match row.status {
                Status::Up => GREEN,
                Status::Degraded => ORANGE,
                Status::Down => RED,
                Status::Unknown => GREY,
            },
        ),
        Metric::Uptime(i) => match row.uptime[i] {
            None => ("no data".to_string(), GREY),
            Some(p) => (
                percent(Some(p)),
                match p {
                    p if p >= 99.9 => GREEN,
                    p if p >= 99.0 => YELLOWGREEN,
                    p if p >= 95.0 => YELLOW,
                    _ => RED,
                },
            ),
        },
    };
    Badge {
        label,
        message,
        color,
        hex,
    }
}

/// Approximate advance of a character in 11 px Verdana, the badge font; exact enough that
/// text never overflows its half of the badge.
fn char_width(c: char) -> f64 {
    match c {
        'i' | 'j' | 'l' | '.' | ',' | ':' | ';' | '!' | '|' | '\'' => 3.5,
        'f' | 'r' | 't' | 'I' | '(' | ')' | '[' | ']' | ' ' | '-' | '/' => 4.8,
        'm' | 'w' | 'M' | 'W' | '%' => 10.5,
        'A'..='Z' => 7.6,
        _ if c.is_ascii() => 7.0,
        // CJK and the like are wide.
        _ => 11.0,
    }
}

fn text_width(s: &str) -> u32 {
    s.chars().map(char_width).sum::<f64>().ceil() as u32
}

#[derive(Template)]
#[template(path = "badge.svg", whitespace = "minimize")]
struct Svg<'a> {
    label: &'a str,
    message: &'a str,
    color: &'a str,
    width: u32,
    label_width: u32,
    message_width: u32,
    label_x: f64,
    message_x: f64,
}

/// The badge as SVG.
pub fn svg(b: &Badge) -> String {
    const PAD: u32 = 6;
    let label_width = text_width(&b.label) + 2 * PAD;
    let message_width = text_width(&b.message) + 2 * PAD;
    Svg {
        label: &b.label,
        message: &b.message,
        color: b.hex,
        width: label_width + message_width,
        label_width,
        message_width,
        label_x: label_width as f64 / 2.0,
        message_x: label_width as f64 + message_width as f64 / 2.0,
    }
    .render()
    .expect("rendering into a String cannot fail")
}

/// The badge in shields.io's endpoint schema (<https://shields.io/badges/endpoint-badge>).
pub fn shields(b: &Badge) -> Value {
    json!({
        "schemaVersion": 1,
        "label": b.label,
        "message": b.message,
        "color": b.color,
        // shields.io's floor for endpoint badges is 300 s.
        "cacheSeconds": 300,
    })
}
