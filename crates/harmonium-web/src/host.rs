//! The `Host` check, a defence against DNS rebinding: a page on another site whose name is
//! made to resolve to this server's address would otherwise read the API with the visitor's
//! browser. Such a request carries the other site's name in `Host`, so only names of this server
//! are answered (the rules are on [`HostPolicy`]).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// A host as named in a `Host` header or a request URI, without its port.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Host {
    Ip(IpAddr),
    /// Lower case, without a trailing dot.
    Name(String),
}

/// Reads `name`, `name:port`, `1.2.3.4[:port]` or `[v6][:port]`; also a bare IPv6 address (as
/// given to `--allow-host`).
fn parse(value: &str) -> Option<Host> {
    let value = value.trim();
    if let Ok(ip) = value.parse::<Ipv6Addr>() {
        return Some(Host::Ip(IpAddr::V6(ip)));
    }
    let (host, port) = if let Some(rest) = value.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        let ip = inside.parse::<Ipv6Addr>().ok()?;
        let port = match after {
            "" => "",
            _ => after.strip_prefix(':')?,
        };
        (Host::Ip(IpAddr::V6(ip)), port)
    } else {
        let (name, port) = value.rsplit_once(':').unwrap_or((value, ""));
        let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
        let valid = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
        if !valid {
            return None;
        }
        match name.parse::<Ipv4Addr>() {
            Ok(ip) => (Host::Ip(IpAddr::V4(ip)), port),
            Err(_) => (Host::Name(name), port),
        }
    };
    port.bytes().all(|b| b.is_ascii_digit()).then_some(host)
}

/// Which `Host` values the server answers:
///
/// - `localhost`, `127.0.0.1` and `[::1]`;
/// - the bound address itself (`--bind 192.168.1.5` accepts `192.168.1.5`);
/// - when bound to every interface (`0.0.0.0` or `::`), where the server cannot know its public
///   names, any IP address literal (a rebinding attack always uses a name, never an address);
/// - the names given with `--allow-host` (for example the name of a reverse proxy).
///
/// The port in `Host`, if any, is not compared: rebinding changes the name, and a proxy or port
/// mapping may change the port. Names are compared without case and without a trailing dot. An
/// absolute request target (`GET http://name/ HTTP/1.1`) must name an accepted host too.
///
/// A refused name is answered 421 Misdirected Request; a request with no `Host` (HTTP/1.0; every
/// browser and HTTP/1.1 client sends one), more than one, or one that is not a host is answered
/// 400, as HTTP/1.1 requires. Both have the API's JSON error body `{"error": "…"}`, on every
/// route, pages and static files included.
#[derive(Debug, Clone)]
pub struct HostPolicy {
    bound: IpAddr,
    allowed: Vec<Host>,
}

impl HostPolicy {
    /// The policy of a server bound to `bound`, also accepting the `allow` names (host names or
    /// addresses; a port, if given, is ignored). An entry that is not a host is an error.
    pub fn new(bound: IpAddr, allow: &[String]) -> Result<HostPolicy, String> {
        let allowed = allow
            .iter()
            .map(|a| {
                parse(a)
                    .ok_or_else(|| format!("--allow-host {a:?} is not a host name or IP address"))
            })
            .collect::<Result<_, _>>()?;
        Ok(HostPolicy { bound, allowed })
    }

    fn accepts(&self, host: &Host) -> bool {
        let loopback = match host {
            Host::Name(n) => n == "localhost",
            Host::Ip(ip) => {
                *ip == IpAddr::V4(Ipv4Addr::LOCALHOST) || *ip == IpAddr::V6(Ipv6Addr::LOCALHOST)
            }
        };
        let bound = match host {
            Host::Ip(ip) => *ip == self.bound || self.bound.is_unspecified(),
            Host::Name(_) => false,
        };
        loopback || bound || self.allowed.contains(host)
    }

    /// `None` when the request may be answered, else the refusal.
    fn check(&self, req: &Request) -> Option<ApiError> {
        let bad = |m: String| Some(ApiError::Http(StatusCode::BAD_REQUEST, m));
        let mut values = req.headers().get_all(header::HOST).iter();
        let (value, more) = (values.next(), values.next());
        let Some(value) = value else {
            return bad(
                "the request has no Host header; send one naming this server (HTTP/1.1 requires it)"
                    .into(),
            );
        };
        if more.is_some() {
            return bad("the request has more than one Host header".into());
        }
        let text = String::from_utf8_lossy(value.as_bytes()).into_owned();
        // An absolute request target (`GET http://name/ HTTP/1.1`) names the host too.
        let names = std::iter::once(text).chain(req.uri().authority().map(|a| a.to_string()));
        for name in names {
            match parse(&name) {
                None => return bad(format!("Host {name:?} is not a host name or address")),
                Some(host) if !self.accepts(&host) => {
                    return Some(ApiError::Http(
                        StatusCode::MISDIRECTED_REQUEST,
                        format!(
                            "this server does not answer for host {name:?} (a defence against DNS \
                             rebinding); use localhost or its address, or start it with \
                             --allow-host {}",
                            match host {
                                Host::Ip(ip) => ip.to_string(),
                                Host::Name(n) => n,
                            }
                        ),
                    ));
                }
                Some(_) => {}
            }
        }
        None
    }
}

/// Middleware: refuses requests for hosts the policy does not accept.
pub async fn guard(State(policy): State<HostPolicy>, req: Request, next: Next) -> Response {
    match policy.check(&req) {
        Some(refusal) => refusal.into_response(),
        None => next.run(req).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(bound: &str, allow: &[&str]) -> HostPolicy {
        let allow: Vec<String> = allow.iter().map(|s| s.to_string()).collect();
        HostPolicy::new(bound.parse().unwrap(), &allow).unwrap()
    }

    fn ok(p: &HostPolicy, host: &str) -> bool {
        p.accepts(&parse(host).unwrap_or_else(|| panic!("{host} does not parse")))
    }

    #[test]
    fn hosts_parse_with_and_without_ports() {
        assert_eq!(parse("LocalHost.:80"), Some(Host::Name("localhost".into())));
        assert_eq!(
            parse("127.0.0.1"),
            Some(Host::Ip("127.0.0.1".parse().unwrap()))
        );
        assert_eq!(parse("[::1]:8000"), Some(Host::Ip("::1".parse().unwrap())));
        assert_eq!(parse("::1"), Some(Host::Ip("::1".parse().unwrap())));
        for bad in [
            "",
            ":80",
            "a b",
            "[::1",
            "[::1]x",
            "host:port",
            "a/b",
            "a:1:2",
            "é.example",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn loopback_names_the_bound_address_and_allowed_names_are_accepted() {
        let p = policy("127.0.0.1", &[]);
        for h in ["localhost:8000", "localhost", "127.0.0.1:1", "[::1]:8000"] {
            assert!(ok(&p, h), "{h}");
        }
        for h in [
            "evil.example",
            "evil.example:8000",
            "192.168.1.5",
            "localhost.evil.example",
        ] {
            assert!(!ok(&p, h), "{h}");
        }
        let p = policy("192.168.1.5", &["Dash.Example.org:443"]);
        assert!(ok(&p, "192.168.1.5:8000") && ok(&p, "dash.example.org"));
        assert!(!ok(&p, "192.168.1.6") && !ok(&p, "example.org"));
    }

    #[test]
    fn every_interface_accepts_any_address_but_no_unknown_name() {
        for bound in ["0.0.0.0", "::"] {
            let p = policy(bound, &["dash.lan"]);
            for h in [
                "10.1.2.3:8000",
                "[fe80::1]:8000",
                "localhost",
                "dash.lan:8000",
            ] {
                assert!(ok(&p, h), "{bound} {h}");
            }
            assert!(!ok(&p, "evil.example"), "{bound}");
        }
        assert!(HostPolicy::new("0.0.0.0".parse().unwrap(), &["a b".into()]).is_err());
    }
}
