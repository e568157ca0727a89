//! The egress policy: which destinations the crawler may ever connect to.
//!
//! [`classify`] is a pure function over an IP address; [`EgressPolicy::check`] decides on a
//! host address before any connection and again, through the connector hook, on every IP a
//! connection is actually opened to. A refused destination is still recorded, with its class.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::api::{HostAddress, Hostname};

use super::failure::FailureKind;

/// What kind of destination an address is.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum AddrClass {
    /// Globally routable.
    Public,
    /// 127.0.0.0/8, ::1.
    Loopback,
    /// RFC 1918 private ranges and IPv6 unique-local fc00::/7.
    Private,
    /// 100.64.0.0/10, carrier-grade NAT.
    Cgnat,
    /// 169.254.0.0/16, fe80::/10.
    LinkLocal,
    /// 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32.
    Documentation,
    /// 198.18.0.0/15, network benchmarking.
    Benchmarking,
    /// 224.0.0.0/4, ff00::/8.
    Multicast,
    /// 0.0.0.0, ::.
    Unspecified,
    /// Everything else that is not routable: 0/8, 192.0.0/24, 240/4, broadcast, 6to4 relay,
    /// IPv6 special-purpose blocks.
    Reserved,
    /// IPv4-mapped or IPv4-compatible IPv6 (`::ffff:a.b.c.d`): an IPv4 address in disguise.
    Ipv4Mapped,
    /// A DNS name, before resolution.
    Dns,
}

impl AddrClass {
    /// Lowercase name, as used in `policy_<class>` reasons and `--help`.
    pub fn name(self) -> &'static str {
        use AddrClass::*;
        match self {
            Public => "public",
            Loopback => "loopback",
            Private => "private",
            Cgnat => "cgnat",
            LinkLocal => "link_local",
            Documentation => "documentation",
            Benchmarking => "benchmarking",
            Multicast => "multicast",
            Unspecified => "unspecified",
            Reserved => "reserved",
            Ipv4Mapped => "ipv4_mapped",
            Dns => "dns",
        }
    }

    /// The stored failure reason for a destination refused because of this class.
    pub fn policy_reason(self) -> &'static str {
        use AddrClass::*;
        match self {
            Public => "policy_public",
            Loopback => "policy_loopback",
            Private => "policy_private",
            Cgnat => "policy_cgnat",
            LinkLocal => "policy_link_local",
            Documentation => "policy_documentation",
            Benchmarking => "policy_benchmarking",
            Multicast => "policy_multicast",
            Unspecified => "policy_unspecified",
            Reserved => "policy_reserved",
            Ipv4Mapped => "policy_ipv4_mapped",
            Dns => "policy_dns",
        }
    }
}

fn in_v4(ip: Ipv4Addr, net: [u8; 4], bits: u32) -> bool {
    let mask = if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits)
    };
    (u32::from(ip) & mask) == (u32::from(Ipv4Addr::from(net)) & mask)
}

fn classify_v4(ip: Ipv4Addr) -> AddrClass {
    use AddrClass::*;
    let table: &[([u8; 4], u32, AddrClass)] = &[
        ([0, 0, 0, 0], 32, Unspecified),
        ([0, 0, 0, 0], 8, Reserved),
        ([10, 0, 0, 0], 8, Private),
        ([100, 64, 0, 0], 10, Cgnat),
        ([127, 0, 0, 0], 8, Loopback),
        ([169, 254, 0, 0], 16, LinkLocal),
        ([172, 16, 0, 0], 12, Private),
        ([192, 0, 0, 0], 24, Reserved),
        ([192, 0, 2, 0], 24, Documentation),
        ([192, 88, 99, 0], 24, Reserved),
        ([192, 168, 0, 0], 16, Private),
        ([198, 18, 0, 0], 15, Benchmarking),
        ([198, 51, 100, 0], 24, Documentation),
        ([203, 0, 113, 0], 24, Documentation),
        ([224, 0, 0, 0], 4, Multicast),
        ([240, 0, 0, 0], 4, Reserved),
    ];
    table
        .iter()
        .find(|(net, bits, _)| in_v4(ip, *net, *bits))
        .map_or(Public, |(_, _, class)| *class)
}

fn classify_v6(ip: Ipv6Addr) -> AddrClass {
    use AddrClass::*;
    let seg = ip.segments();
    if ip.is_unspecified() {
        return Unspecified;
    }
    if ip.is_loopback() {
        return Loopback;
    }
    // ::ffff:0:0/96 (mapped) and ::/96 (deprecated compatible) hide an IPv4 address.
    if seg[..5] == [0; 5] && (seg[5] == 0xffff || seg[5] == 0) {
        return Ipv4Mapped;
    }
    match seg[0] {
        s if s & 0xfe00 == 0xfc00 => Private,
        s if s & 0xffc0 == 0xfe80 => LinkLocal,
        s if s & 0xff00 == 0xff00 => Multicast,
        0x2001 if seg[1] == 0x0db8 => Documentation,
        0x3fff if seg[1] & 0xf000 == 0 => Documentation,
        // 64:ff9b::/96 NAT64, 100::/64 discard, 2001::/23 IETF special purpose,
        // 2002::/16 6to4, anything outside 2000::/3.
        0x0064 | 0x0100 | 0x2002 => Reserved,
        0x2001 if seg[1] < 0x0200 => Reserved,
        s if s & 0xe000 != 0x2000 => Reserved,
        _ => Public,
    }
}

/// Classifies an IP address.
pub fn classify(ip: IpAddr) -> AddrClass {
    match ip {
        IpAddr::V4(a) => classify_v4(a),
        IpAddr::V6(a) => classify_v6(a),
    }
}

/// Which destination classes a crawl may contact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EgressPolicy {
    /// Allow 127.0.0.0/8 and ::1 (simulated networks).
    pub allow_loopback: bool,
    /// Allow private, CGNAT and unique-local ranges (lab networks).
    pub allow_private: bool,
    /// Resolve DNS names (and then check what they resolve to). When false, names are
    /// recorded but never looked up.
    pub resolve_dns: bool,
    /// Allow globally routable addresses. Only a crawl of a simulated network turns this
    /// off (`--loopback-only`), so that entries standing for the outside world are
    /// recorded but never contacted.
    pub allow_public: bool,
}

impl Default for EgressPolicy {
    /// A real crawl: public addresses and names that resolve to them.
    fn default() -> Self {
        EgressPolicy {
            allow_loopback: false,
            allow_private: false,
            resolve_dns: true,
            allow_public: true,
        }
    }
}

impl EgressPolicy {
    /// Whether an IP of this class may be dialled.
    pub fn allows_class(&self, class: AddrClass) -> bool {
        match class {
            AddrClass::Public => self.allow_public,
            AddrClass::Loopback => self.allow_loopback,
            AddrClass::Private | AddrClass::Cgnat => self.allow_private,
            AddrClass::Dns => self.resolve_dns,
            _ => false,
        }
    }

    /// Whether this IP may be dialled.
    ///
    /// # Errors
    /// The reason it may not.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), FailureKind> {
        let class = classify(ip);
        if self.allows_class(class) {
            Ok(())
        } else {
            Err(FailureKind::Policy(class))
        }
    }

    /// Decides on an advertised address before any connection. DNS names pass here only if
    /// resolution is on; their resolved addresses are checked again by the connector.
    ///
    /// # Errors
    /// The reason the address may not be contacted.
    pub fn check(&self, addr: &HostAddress) -> Result<(), FailureKind> {
        if addr.port == 0 {
            return Err(FailureKind::PortZero);
        }
        match &addr.hostname {
            Hostname::Dns(_) if self.resolve_dns => Ok(()),
            Hostname::Dns(_) => Err(FailureKind::Policy(AddrClass::Dns)),
            h => h.ip().map_or(Ok(()), |ip| self.check_ip(ip)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AddrClass::*;

    #[test]
    fn classifies_every_range() {
        let table = [
            ("8.8.8.8", Public),
            ("13.251.43.216", Public),
            ("192.169.1.1", Public),
            ("0.0.0.0", Unspecified),
            ("0.1.2.3", Reserved),
            ("10.1.2.3", Private),
            ("172.16.0.1", Private),
            ("172.31.255.255", Private),
            ("172.32.0.1", Public),
            ("192.168.1.1", Private),
            ("100.64.0.1", Cgnat),
            ("100.127.255.255", Cgnat),
            ("100.128.0.1", Public),
            ("127.0.0.1", Loopback),
            ("127.200.3.4", Loopback),
            ("169.254.1.1", LinkLocal),
            ("192.0.0.8", Reserved),
            ("192.0.2.1", Documentation),
            ("198.51.100.1", Documentation),
            ("203.0.113.7", Documentation),
            ("198.18.0.1", Benchmarking),
            ("198.19.255.255", Benchmarking),
            ("198.20.0.1", Public),
            ("224.0.0.1", Multicast),
            ("239.255.255.255", Multicast),
            ("240.0.0.1", Reserved),
            ("255.255.255.255", Reserved),
            ("192.88.99.1", Reserved),
            ("::", Unspecified),
            ("::1", Loopback),
            ("::ffff:127.0.0.1", Ipv4Mapped),
            ("::ffff:8.8.8.8", Ipv4Mapped),
            ("::127.0.0.1", Ipv4Mapped),
            ("fd00::1", Private),
            ("fe80::1", LinkLocal),
            ("ff02::1", Multicast),
            ("2001:db8::1", Documentation),
            ("3fff::1", Documentation),
            ("2002::1", Reserved),
            ("64:ff9b::1", Reserved),
            ("2001::1", Reserved),
            ("2606:4700::1111", Public),
            ("2a00:1450::1", Public),
            ("4000::1", Reserved),
        ];
        for (ip, want) in table {
            assert_eq!(classify(ip.parse().unwrap()), want, "{ip}");
        }
    }

    #[test]
    fn default_policy_allows_only_public_and_names() {
        let p = EgressPolicy::default();
        let ok = |s: &str| p.check(&s.parse().unwrap());
        assert_eq!(ok("8.8.8.8:1789"), Ok(()));
        assert_eq!(ok("node.example.org:443"), Ok(()));
        assert_eq!(ok("127.0.0.1:1789"), Err(FailureKind::Policy(Loopback)));
        assert_eq!(ok("10.0.0.1:1789"), Err(FailureKind::Policy(Private)));
        assert_eq!(
            ok("[::ffff:8.8.8.8]:1789"),
            Err(FailureKind::Policy(Ipv4Mapped))
        );
        assert_eq!(ok("8.8.8.8:0"), Err(FailureKind::PortZero));
    }

    #[test]
    fn simnet_policy_allows_loopback_but_not_names_or_private() {
        let p = EgressPolicy {
            allow_loopback: true,
            allow_private: false,
            resolve_dns: false,
            allow_public: true,
        };
        let ok = |s: &str| p.check(&s.parse().unwrap());
        assert_eq!(ok("127.3.4.5:1789"), Ok(()));
        assert_eq!(ok("[::1]:1789"), Ok(()));
        assert_eq!(ok("node.example.org:443"), Err(FailureKind::Policy(Dns)));
        assert_eq!(ok("192.168.1.1:1789"), Err(FailureKind::Policy(Private)));
        assert_eq!(ok("0.0.0.0:1789"), Err(FailureKind::Policy(Unspecified)));
        let lab = EgressPolicy {
            allow_private: true,
            ..p
        };
        assert_eq!(lab.check(&"100.64.1.1:1".parse().unwrap()), Ok(()));
    }

    #[test]
    fn loopback_only_policy_refuses_public_addresses() {
        let p = EgressPolicy {
            allow_loopback: true,
            allow_private: false,
            resolve_dns: false,
            allow_public: false,
        };
        let ok = |s: &str| p.check(&s.parse().unwrap());
        assert_eq!(ok("127.3.4.5:31350"), Ok(()));
        assert_eq!(ok("45.83.1.1:31350"), Err(FailureKind::Policy(Public)));
        assert_eq!(
            ok("203.0.113.7:1789"),
            Err(FailureKind::Policy(Documentation))
        );
    }
}
