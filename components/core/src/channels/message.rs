//! The words of a notification, shared by every channel: a title, a body text and labelled
//! facts, plus the text helpers vendors need (truncation to limits, escaping).

use crate::model::{Event, Reason, Status};
use crate::notification::Notification;
use crate::time::iso;

/// What a channel says, before vendor formatting.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub title: String,
    pub text: String,
    /// Labelled facts, in display order: service, status, last heartbeat, message.
    pub fields: Vec<(&'static str, String)>,
}

/// `3725` → `"1h 2m"`; `45` → `"45s"`.
pub fn human_duration(secs: i64) -> String {
    let secs = secs.max(0);
    let (d, h, m, s) = (
        secs / 86_400,
        secs % 86_400 / 3600,
        secs % 3600 / 60,
        secs % 60,
    );
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) if s > 0 => format!("{m}m {s}s"),
        (0, 0, _) => format!("{m}m"),
        (0, _, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h"),
    }
}

/// The default wording for a notification.
pub fn default_message(n: &Notification) -> Message {
    if let Some(a) = &n.alert {
        return alert_message(a);
    }
    let name = &n.service_name;
    let t = &n.transition;
    let title = match n.event {
        Event::Down if n.reminder => format!("{name} is still down"),
        Event::Down => format!("{name} is down"),
        Event::Up => format!("{name} is back up"),
        Event::Degraded => format!("{name} is degraded"),
    };
    let mut text = match (n.event, t.reason) {
        (Event::Down, _) if n.reminder => {
            let since = n.previous_since.unwrap_or(t.at);
            format!(
                "Down for {} and counting.",
                human_duration((t.at - since) / 1000)
            )
        }
        (Event::Down, Reason::Silence) => {
            let silent = n.last_heartbeat.map(|lb| (t.at - lb) / 1000).unwrap_or(0);
            format!(
                "No heartbeat for {} (threshold {}).",
                human_duration(silent.max(n.threshold_secs as i64)),
                human_duration(n.threshold_secs as i64)
            )
        }
        (Event::Up, _) => match n.previous_since {
            Some(since) => format!(
                "Recovered after {} {}.",
                human_duration((t.at - since) / 1000),
                t.from.as_str()
            ),
            None => format!("Recovered from {}.", t.from.as_str()),
        },
        (_, _) => format!("The service reported {}.", t.to.as_str()),
    };
    if let Some(m) = n.message.as_deref().filter(|m| !m.is_empty()) {
        text.push_str(&format!("\nLast message: {m}"));
    }
    if !n.dependents.is_empty() {
        const LISTED: usize = 5;
        let mut names = n
            .dependents
            .iter()
            .take(LISTED)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        if n.dependents.len() > LISTED {
            names.push_str(&format!(" and {} more", n.dependents.len() - LISTED));
        }
        text.push_str(&format!(
            "\n{} dependent service{} ({names}): their alerts are held until it recovers.",
            n.dependents.len(),
            if n.dependents.len() == 1 { "" } else { "s" }
        ));
    }
    let mut fields = vec![
        ("Service", format!("{name} ({})", n.service_id)),
        ("Status", status_change(t.from, t.to)),
        (
            "Last heartbeat",
            n.last_heartbeat.map(iso).unwrap_or_else(|| "never".into()),
        ),
    ];
    if let Some(m) = n.message.as_deref().filter(|m| !m.is_empty()) {
        fields.push(("Message", m.to_string()));
    }
    Message {
        title,
        text,
        fields,
    }
}

fn alert_message(a: &crate::alert::Alert) -> Message {
    let state = match a.state {
        crate::alert::State::Firing => "FIRING",
        crate::alert::State::Resolved => "RESOLVED",
    };
    let mut text = a.text.clone();
    if let Some(url) = &a.url {
        text.push_str(&format!("\n{url}"));
    }
    let mut fields = vec![
        ("Severity", a.severity.as_str().to_string()),
        ("Source", format!("{} ({})", a.source, a.format.as_str())),
    ];
    let labels: Vec<String> = a.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    if !labels.is_empty() {
        fields.push(("Labels", labels.join(", ")));
    }
    Message {
        title: format!("[{state}] {}", a.title),
        text,
        fields,
    }
}

fn status_change(from: Status, to: Status) -> String {
    format!("{} (was {})", to.as_str(), from.as_str())
}

/// Escape `&`, `<`, `>` (Slack mrkdwn and Telegram/HTML text), and `"` for HTML attributes.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_a_person_wrote_them() {
        for (secs, text) in [
            (45, "45s"),
            (125, "2m 5s"),
            (3725, "1h 2m"),
            (90_000, "1d 1h"),
        ] {
            assert_eq!(human_duration(secs), text);
        }
    }
}
