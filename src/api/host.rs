//! Host names and host addresses as chainweb nodes advertise them.
//!
//! Parsing is strict on purpose: anything a peer sends is checked here before it can become
//! an address the crawler might dial. Spellings that other parsers read differently
//! (`0177.0.0.1`, `127.1`, `0x7f000001`) are rejected instead of guessed at.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// Longest DNS name accepted (RFC 1035 text form without the trailing dot).
pub const MAX_DNS_NAME_LEN: usize = 253;
/// Longest DNS label accepted.
pub const MAX_DNS_LABEL_LEN: usize = 63;

/// The host part of an address: an IP literal or a DNS name.
///
/// DNS names are stored lower-cased, so equality is case-insensitive as in chainweb-node;
/// IPv6 addresses compare by value, whatever their spelling.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Hostname {
    /// An IPv4 literal.
    Ipv4(Ipv4Addr),
    /// An IPv6 literal (written without brackets in JSON).
    Ipv6(Ipv6Addr),
    /// A DNS name, lower-cased, without a trailing dot.
    Dns(Box<str>),
}

/// Why a string is not a host name we accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostnameError {
    /// Empty string.
    #[error("empty hostname")]
    Empty,
    /// Longer than a DNS name may be.
    #[error("hostname longer than {MAX_DNS_NAME_LEN} characters")]
    TooLong,
    /// Contains characters outside printable ASCII.
    #[error("hostname is not ASCII")]
    NotAscii,
    /// A numeric spelling that is not four plain decimal octets (leading zeros, hex, short forms).
    #[error("non-canonical numeric address")]
    NonCanonicalNumeric,
    /// Not an IP literal and not a valid DNS name.
    #[error("invalid hostname")]
    Invalid,
}

impl Hostname {
    /// The IP address, if this is an IP literal.
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            Hostname::Ipv4(a) => Some(IpAddr::V4(*a)),
            Hostname::Ipv6(a) => Some(IpAddr::V6(*a)),
            Hostname::Dns(_) => None,
        }
    }

    /// Whether this is a DNS name rather than an IP literal.
    pub fn is_dns(&self) -> bool {
        matches!(self, Hostname::Dns(_))
    }
}

impl From<IpAddr> for Hostname {
    fn from(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(a) => Hostname::Ipv4(a),
            IpAddr::V6(a) => Hostname::Ipv6(a),
        }
    }
}

impl fmt::Display for Hostname {
    /// The JSON form: IPv6 without brackets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Hostname::Ipv4(a) => a.fmt(f),
            Hostname::Ipv6(a) => a.fmt(f),
            Hostname::Dns(n) => f.write_str(n),
        }
    }
}

impl fmt::Debug for Hostname {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hostname({self})")
    }
}

fn looks_numeric(s: &str) -> bool {
    // A last label that starts with a digit cannot be a DNS name; anything of that shape is
    // meant as a number and must be a canonical dotted quad.
    let last = s.rsplit('.').next().unwrap_or("");
    last.chars().next().is_some_and(|c| c.is_ascii_digit())
}

/// Four decimal octets, each 0 to 255 without a leading zero. One pass over the bytes: it
/// runs for every entry of every list.
fn parse_canonical_ipv4(s: &str) -> Option<Ipv4Addr> {
    let b = s.as_bytes();
    let mut octets = [0u8; 4];
    let mut i = 0;
    for (k, octet) in octets.iter_mut().enumerate() {
        if k > 0 {
            if b.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
        let start = i;
        let mut value: u16 = 0;
        while let Some(&d @ b'0'..=b'9') = b.get(i) {
            if i - start == 3 {
                return None;
            }
            value = value * 10 + u16::from(d - b'0');
            i += 1;
        }
        let len = i - start;
        if len == 0 || (len > 1 && b[start] == b'0') {
            return None;
        }
        *octet = u8::try_from(value).ok()?;
    }
    (i == b.len()).then(|| Ipv4Addr::from(octets))
}

fn is_dns_name(s: &str) -> bool {
    let labels: Vec<&str> = s.split('.').collect();
    let last_ok = labels
        .last()
        .and_then(|l| l.chars().next())
        .is_some_and(|c| c.is_ascii_alphabetic());
    last_ok
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= MAX_DNS_LABEL_LEN
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

impl FromStr for Hostname {
    type Err = HostnameError;

    /// Parses the JSON form (IPv6 without brackets).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // The common case first: a canonical dotted quad is what the checks below would
        // accept as one, without scanning the text for every other form.
        if let Some(ip) = parse_canonical_ipv4(s) {
            return Ok(Hostname::Ipv4(ip));
        }
        if s.is_empty() {
            return Err(HostnameError::Empty);
        }
        if s.len() > MAX_DNS_NAME_LEN {
            return Err(HostnameError::TooLong);
        }
        if !s.is_ascii() {
            return Err(HostnameError::NotAscii);
        }
        if s.contains(':') {
            return s
                .parse::<Ipv6Addr>()
                .map(Hostname::Ipv6)
                .map_err(|_| HostnameError::Invalid);
        }
        // Canonical dotted quads were taken above; any other numeric form is refused.
        if looks_numeric(s) {
            return Err(HostnameError::NonCanonicalNumeric);
        }
        if is_dns_name(s) {
            return Ok(Hostname::Dns(s.to_ascii_lowercase().into_boxed_str()));
        }
        Err(HostnameError::Invalid)
    }
}

/// A host and a port: where a node can be found. The identity of a node in a crawl.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HostAddress {
    /// Host name or IP literal.
    pub hostname: Hostname,
    /// TCP port (0 parses, as in chainweb-node, but is never dialled).
    pub port: u16,
}

/// Hash state for maps and sets keyed by addresses served by the network: seeded at random
/// per map, so a hostile node cannot precompute colliding entries, and several times
/// cheaper than the standard SipHash on keys this small (the crawl hashes every entry of
/// every list, millions per crawl).
pub type AddressHasher = foldhash::fast::RandomState;

/// A map keyed by address (see [`AddressHasher`]).
pub type AddressMap<V> = std::collections::HashMap<HostAddress, V, AddressHasher>;

/// A set of addresses (see [`AddressHasher`]).
pub type AddressSet = std::collections::HashSet<HostAddress, AddressHasher>;

/// Why a `host:port` string is not an address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostAddressError {
    /// No `:port` part.
    #[error("missing ':<port>'")]
    MissingPort,
    /// The port is not a number from 0 to 65535.
    #[error("invalid port {0:?}")]
    InvalidPort(String),
    /// The host part is not valid.
    #[error("{0}")]
    Hostname(#[from] HostnameError),
    /// An IPv6 literal without brackets in text form.
    #[error("IPv6 addresses must be written in brackets, as [addr]:port")]
    UnbracketedIpv6,
    /// A URL (scheme or path) where a plain `host:port` belongs.
    #[error("write host:port without a scheme or path (e.g. node.example.org:443)")]
    NotHostPort,
}

impl HostAddress {
    /// An address from its parts.
    pub fn new(hostname: Hostname, port: u16) -> Self {
        HostAddress { hostname, port }
    }

    /// The socket address, if the host is an IP literal.
    pub fn socket_addr(&self) -> Option<std::net::SocketAddr> {
        self.hostname
            .ip()
            .map(|ip| std::net::SocketAddr::new(ip, self.port))
    }

    /// The `https://host:port` origin used to build request URLs.
    pub fn origin(&self) -> String {
        format!("https://{self}")
    }
}

impl From<std::net::SocketAddr> for HostAddress {
    fn from(a: std::net::SocketAddr) -> Self {
        HostAddress::new(a.ip().into(), a.port())
    }
}

impl fmt::Display for HostAddress {
    /// The text form `host:port`, IPv6 in brackets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.hostname {
            Hostname::Ipv6(a) => write!(f, "[{a}]:{}", self.port),
            h => write!(f, "{h}:{}", self.port),
        }
    }
}

impl fmt::Debug for HostAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HostAddress({self})")
    }
}

impl FromStr for HostAddress {
    type Err = HostAddressError;

    /// Parses the text form `host:port` (IPv6 as `[addr]:port`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.contains("://") || s.contains('/') {
            return Err(HostAddressError::NotHostPort);
        }
        let (host, port) = if let Some(rest) = s.strip_prefix('[') {
            let (h, p) = rest.split_once("]:").ok_or(HostAddressError::MissingPort)?;
            let ip: Ipv6Addr = h.parse().map_err(|_| HostnameError::Invalid)?;
            (Hostname::Ipv6(ip), p)
        } else {
            let (h, p) = s.rsplit_once(':').ok_or(HostAddressError::MissingPort)?;
            if h.contains(':') {
                return Err(HostAddressError::UnbracketedIpv6);
            }
            (h.parse()?, p)
        };
        if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
            return Err(HostAddressError::InvalidPort(port.to_string()));
        }
        let port: u16 = port
            .parse()
            .map_err(|_| HostAddressError::InvalidPort(port.to_string()))?;
        Ok(HostAddress::new(host, port))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_not_host_port() {
        for s in [
            "https://node.example.org:443",
            "node.example.org:443/chainweb",
            "https://[::1]:443",
        ] {
            assert_eq!(
                s.parse::<HostAddress>(),
                Err(HostAddressError::NotHostPort),
                "{s}"
            );
        }
    }

    #[test]
    fn parses_and_normalizes_hostnames() {
        let cases = [
            ("203.0.113.7", "203.0.113.7"),
            ("Node.Example.ORG", "node.example.org"),
            ("us-e1.chainweb.com", "us-e1.chainweb.com"),
            ("2001:DB8:0:0::1", "2001:db8::1"),
            ("::1", "::1"),
            ("fe80::1", "fe80::1"),
            ("::ffff:127.0.0.1", "::ffff:127.0.0.1"),
            ("localhost", "localhost"),
            ("0.0.0.0", "0.0.0.0"),
        ];
        for (input, want) in cases {
            let h: Hostname = input.parse().unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(h.to_string(), want, "{input}");
        }
    }

    #[test]
    fn rejects_ambiguous_and_malformed_hostnames() {
        use HostnameError::*;
        let cases = [
            ("", Empty),
            ("127.1", NonCanonicalNumeric),
            ("0x7f000001", NonCanonicalNumeric),
            ("0177.0.0.1", NonCanonicalNumeric),
            ("2130706433", NonCanonicalNumeric),
            ("256.1.1.1", NonCanonicalNumeric),
            ("1.2.3.4.5", NonCanonicalNumeric),
            ("node.example.org.", Invalid),
            ("-bad.example", Invalid),
            ("bad-.example", Invalid),
            ("a..b", Invalid),
            ("under_score.example", Invalid),
            ("nödé.example", NotAscii),
            ("fe80::1%eth0", Invalid),
            ("[::1]", Invalid),
            ("<script>", Invalid),
        ];
        for (input, want) in cases {
            assert_eq!(input.parse::<Hostname>(), Err(want), "{input:?}");
        }
        assert_eq!("a".repeat(254).parse::<Hostname>(), Err(TooLong));
        assert_eq!(
            format!("{}.com", "a".repeat(64)).parse::<Hostname>(),
            Err(Invalid)
        );
    }

    #[test]
    fn host_address_text_form_round_trips() {
        for s in [
            "1.2.3.4:1789",
            "[2001:db8::1]:443",
            "fr1.chainweb.com:443",
            "1.2.3.4:0",
        ] {
            let a: HostAddress = s.parse().unwrap();
            assert_eq!(a.to_string(), s);
        }
        assert_eq!(
            "FR1.Chainweb.com:443"
                .parse::<HostAddress>()
                .unwrap()
                .to_string(),
            "fr1.chainweb.com:443"
        );
    }

    #[test]
    fn host_address_rejects_bad_text() {
        assert_eq!(
            "1.2.3.4".parse::<HostAddress>(),
            Err(HostAddressError::MissingPort)
        );
        assert!(matches!(
            "1.2.3.4:65536".parse::<HostAddress>(),
            Err(HostAddressError::InvalidPort(_))
        ));
        assert!(matches!(
            "1.2.3.4:+1".parse::<HostAddress>(),
            Err(HostAddressError::InvalidPort(_))
        ));
        assert_eq!(
            "2001:db8::1:443".parse::<HostAddress>(),
            Err(HostAddressError::UnbracketedIpv6)
        );
        assert!("[::1]443".parse::<HostAddress>().is_err());
    }
}
