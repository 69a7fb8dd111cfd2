//! `allowed_outbound_hosts`, matched as Spin 4.0.2 matches it
//! (`crates/outbound-networking-config/src/allowed_hosts.rs`), so a destination Spin would deny
//! is denied here too instead of working locally and failing in production.
//!
//! An entry is `<scheme>://<host>[:<port>]`: the scheme `*` or one name; the host `*`,
//! `*.domain` (subdomains only), `self` (relative requests, which the components never make),
//! an IP address or CIDR range, or a domain; the port `*`, a number, a range `a..b` (end
//! excluded) or, when absent, the scheme's well-known port. `{{ variable }}` templates are
//! expanded from the application's variables before parsing.

use anyhow::{bail, ensure, Context, Result};
use std::net::IpAddr;

/// One component's rules.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AllowedHosts {
    entries: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq)]
struct Entry {
    scheme: Option<String>,
    host: Host,
    port: Port,
}

#[derive(Debug, Clone, PartialEq)]
enum Host {
    Any,
    /// `*.example.com`, kept as `.example.com`.
    AnySubdomain(String),
    ToSelf,
    Domain(String),
    Network(IpAddr, u8),
}

#[derive(Debug, Clone, PartialEq)]
enum Port {
    Any,
    One(u16),
    /// `start..end`, end excluded.
    Range(u16, u16),
}

fn well_known_port(scheme: &str) -> Option<u16> {
    match scheme {
        "postgres" => Some(5432),
        "mysql" => Some(3306),
        "redis" => Some(6379),
        "mqtt" => Some(1883),
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

/// `a.b.c.d`, `a.b.c.d/n` or an IPv6 equivalent (Spin truncates host bits, as this does by
/// comparing only the prefix).
fn network(text: &str) -> Option<(IpAddr, u8)> {
    let (ip, bits) = match text.split_once('/') {
        Some((ip, bits)) => (ip, Some(bits.parse::<u8>().ok()?)),
        None => (text, None),
    };
    let ip: IpAddr = ip.trim_matches(['[', ']']).parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let bits = bits.unwrap_or(max);
    (bits <= max).then_some((ip, bits))
}

fn in_network(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    let (ip, net, width) = match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u32::from(a) as u128, u32::from(b) as u128, 32),
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), 128),
        _ => return false,
    };
    let shift = width - u32::from(bits);
    shift >= width || (ip >> shift) == (net >> shift)
}

impl Entry {
    fn parse(text: &str) -> Result<Entry> {
        let url = text.trim();
        let Some((scheme, rest)) = url.split_once("://") else {
            bail!(
                "{url:?} does not contain a scheme: hosts must be in the form <scheme>://<host>[:<port>], e.g. \"https://*:443\""
            );
        };
        let (host, rest) = rest.rsplit_once(':').unwrap_or((rest, ""));
        let port = match rest.split_once('/') {
            Some((port, path)) => {
                ensure!(path.is_empty(), "{url:?} has a path but is not allowed to");
                port
            }
            None => rest,
        };
        let port = match port {
            "" => Port::One(well_known_port(scheme).with_context(|| {
                format!("{url:?}: no port was provided and the scheme {scheme:?} has no known default port")
            })?),
            "*" => Port::Any,
            p => match p.split_once("..") {
                Some((a, b)) => Port::Range(
                    a.parse().with_context(|| format!("{url:?}: port range {p:?}"))?,
                    b.parse().with_context(|| format!("{url:?}: port range {p:?}"))?,
                ),
                None => Port::One(p.parse().with_context(|| format!("{url:?}: port {p:?} is not a number"))?),
            },
        };
        let scheme = match scheme {
            "*" => None,
            s if !s.is_empty() && s.chars().all(char::is_alphabetic) => Some(s.to_string()),
            s => bail!("{url:?}: invalid scheme {s:?}"),
        };
        let host = host.trim();
        let host = if host == "*" {
            Host::Any
        } else if host == "self" || host == "self.alt" {
            Host::ToSelf
        } else if let Some((ip, bits)) = network(host) {
            Host::Network(ip, bits)
        } else {
            let host = host.trim_end_matches('/');
            ensure!(
                !host.contains('/'),
                "{url:?}: the host must not include a path"
            );
            ensure!(
                !host.starts_with('{'),
                "{url:?}: host lists are not supported"
            );
            if let Some(domain) = host.strip_prefix("*.") {
                ensure!(
                    !domain.contains('*'),
                    "{url:?}: wildcards are allowed only as prefixes"
                );
                Host::AnySubdomain(format!(".{}", domain.to_ascii_lowercase()))
            } else {
                ensure!(
                    !host.contains('*'),
                    "{url:?}: wildcards are allowed only as subdomains"
                );
                ensure!(!host.is_empty(), "{url:?}: no host");
                Host::Domain(host.to_ascii_lowercase())
            }
        };
        Ok(Entry { scheme, host, port })
    }

    fn allows(&self, scheme: &str, host: &str, port: Option<u16>) -> bool {
        let scheme_ok = self.scheme.as_deref().is_none_or(|s| s == scheme);
        let host = host.trim_matches(['[', ']']).to_ascii_lowercase();
        let host_ok = match (&self.host, host.parse::<IpAddr>()) {
            (Host::Any, _) => true,
            (Host::AnySubdomain(suffix), Err(_)) => host.ends_with(suffix.as_str()),
            (Host::Domain(d), Err(_)) => *d == host,
            (Host::Network(net, bits), Ok(ip)) => in_network(ip, *net, *bits),
            _ => false,
        };
        let port_ok = match (&self.port, port.or_else(|| well_known_port(scheme))) {
            (Port::Any, _) => true,
            (Port::One(p), Some(q)) => *p == q,
            (Port::Range(a, b), Some(q)) => (*a..*b).contains(&q),
            (_, None) => false,
        };
        scheme_ok && host_ok && port_ok
    }
}

impl AllowedHosts {
    /// Parse a component's entries, with templates already expanded.
    pub fn parse(entries: &[String]) -> Result<AllowedHosts> {
        if entries.len() == 1 && entries[0] == "insecure:allow-all" {
            bail!(
                "'insecure:allow-all' is not allowed: use '*://*:*' to allow all outbound traffic"
            );
        }
        Ok(AllowedHosts {
            entries: entries
                .iter()
                .map(|e| Entry::parse(e))
                .collect::<Result<_>>()?,
        })
    }

    /// Whether a request to `scheme://host[:port]` may go out.
    pub fn allows(&self, scheme: &str, host: &str, port: Option<u16>) -> bool {
        self.entries.iter().any(|e| e.allows(scheme, host, port))
    }

    /// Whether `url` may be requested; `Err` with the entry that would allow it (Spin's
    /// `scheme://authority`) when it may not. An unparsable URL is denied, as Spin does.
    pub fn check_url(&self, url: &str) -> Result<(), String> {
        let Some((scheme, host, port)) = destination(url) else {
            return Err(String::new());
        };
        if self.allows(&scheme, &host, port) {
            return Ok(());
        }
        Err(match port {
            Some(p) => format!("{scheme}://{host}:{p}"),
            None => format!("{scheme}://{host}"),
        })
    }
}

/// Scheme, host and explicit port of an absolute URL; never its user info, path or query
/// (which may hold a token).
pub fn destination(url: &str) -> Option<(String, String, Option<u16>)> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(':') && !p.contains(']') => (h, Some(p.parse().ok()?)),
        _ => (authority, None),
    };
    (!host.is_empty()).then(|| (scheme.to_ascii_lowercase(), host.to_string(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(entries: &[&str]) -> AllowedHosts {
        AllowedHosts::parse(&entries.iter().map(|e| e.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn the_shipped_rule_allows_https_on_443_only() {
        let r = rules(&["https://*:443"]);
        assert!(r.check_url("https://discord.com/api/webhooks/1/x").is_ok());
        assert!(r.check_url("https://hooks.example.invalid:443/T0").is_ok());
        assert_eq!(
            r.check_url("http://127.0.0.1:3199/hook"),
            Err("http://127.0.0.1:3199".into())
        );
        assert_eq!(
            r.check_url("https://example.com:8443/x"),
            Err("https://example.com:8443".into())
        );
        assert_eq!(
            r.check_url("http://example.com/x?token=secret"),
            Err("http://example.com".into()),
            "the hint never quotes a path or query"
        );
    }

    #[test]
    fn wildcards_match_as_spin_matches_them() {
        let r = rules(&[
            "http://*.example.com",
            "*://10.0.0.0/8:8000..8100",
            "https://api.test:*",
        ]);
        assert!(r.allows("http", "hooks.example.com", None));
        assert!(r.allows("http", "a.b.example.com", Some(80)));
        assert!(
            !r.allows("http", "example.com", None),
            "*. matches subdomains only"
        );
        assert!(!r.allows("https", "hooks.example.com", None), "scheme");
        assert!(
            !r.allows("http", "hooks.example.com", Some(8080)),
            "default port only"
        );
        assert!(r.allows("http", "10.1.2.3", Some(8000)));
        assert!(r.allows("https", "10.1.2.3", Some(8099)));
        assert!(
            !r.allows("http", "10.1.2.3", Some(8100)),
            "a range's end is excluded"
        );
        assert!(!r.allows("http", "11.1.2.3", Some(8000)));
        assert!(
            r.allows("https", "API.test", Some(1)),
            "hosts compare case-insensitively"
        );
        assert!(!rules(&["http://self"]).allows("http", "self", None));
        assert!(rules(&["*://*:*"]).allows("mqtt", "anything", Some(1)));
    }

    #[test]
    fn malformed_entries_are_refused_as_spin_refuses_them() {
        for bad in [
            "example.com",
            "*",
            "http://example.com/path",
            "ftp://example.com",
            "http://ex*ample.com",
            "http://*.ex*.com",
            "http://example.com:port",
        ] {
            assert!(
                AllowedHosts::parse(&[bad.to_string()]).is_err(),
                "{bad} should be refused"
            );
        }
        assert!(AllowedHosts::parse(&["insecure:allow-all".to_string()]).is_err());
    }
}
