//! The closed set of reasons a node or a response can fail, stored as stable lowercase text.

use std::fmt;

/// Why a node was not contacted, or why contacting it (or one response) failed.
///
/// The text form ([`FailureKind::as_str`]) is what the database stores; it is part of the
/// public contract, so variants are only ever added, never renamed.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum FailureKind {
    /// Not contacted: the egress policy refuses this class of address (`policy_<class>`).
    Policy(super::policy::AddrClass),
    /// Not contacted: port 0 is never dialled.
    PortZero,
    /// The crawl already held `max_nodes` nodes: the entry is stored in `invalid_entries`
    /// with this reason instead of becoming a node.
    FrontierFull,
    /// Not contacted: the crawl ended (interrupt or deadline) before its turn.
    NotVisited,
    /// The DNS name did not resolve (or resolution is switched off).
    DnsFailed,
    /// Nothing listens: the connection was refused.
    ConnectRefused,
    /// The connection attempt timed out.
    ConnectTimeout,
    /// The connection failed for another reason (unreachable, reset).
    ConnectFailed,
    /// The TLS handshake failed.
    TlsHandshake,
    /// No complete answer within the request deadline.
    Timeout,
    /// The node's whole-node deadline ran out.
    NodeDeadline,
    /// The answer was not HTTP, or the HTTP exchange broke off.
    Protocol,
    /// HTTP status other than 200.
    HttpStatus,
    /// A 3xx answer; redirects are recorded, never followed.
    Redirect,
    /// The body exceeded the per-response byte cap.
    BodyTooLarge,
    /// The body is not JSON (HTML, truncated, empty).
    BadBody,
    /// JSON, but not a page.
    BadPage,
    /// More items in a page than were asked for.
    LimitIgnored,
    /// A cursor that does not advance (repeats, goes back, or `limit=0` loops).
    CursorLoop,
    /// The list went on past the cap on pages per list.
    TooManyPages,
    /// The list went on past the cap on items per list.
    TooManyItems,
    /// The crawl was interrupted while this node was in flight.
    Interrupted,
}

impl FailureKind {
    /// The stable text stored in the database.
    pub fn as_str(self) -> &'static str {
        use FailureKind::*;
        match self {
            Policy(class) => class.policy_reason(),
            PortZero => "port_zero",
            FrontierFull => "frontier_full",
            NotVisited => "not_visited",
            DnsFailed => "dns_failed",
            ConnectRefused => "connect_refused",
            ConnectTimeout => "connect_timeout",
            ConnectFailed => "connect_failed",
            TlsHandshake => "tls_handshake",
            Timeout => "timeout",
            NodeDeadline => "node_deadline",
            Protocol => "protocol",
            HttpStatus => "http_status",
            Redirect => "redirect",
            BodyTooLarge => "body_too_large",
            BadBody => "bad_body",
            BadPage => "bad_page",
            LimitIgnored => "limit_ignored",
            CursorLoop => "cursor_loop",
            TooManyPages => "too_many_pages",
            TooManyItems => "too_many_items",
            Interrupted => "interrupted",
        }
    }

    /// Whether the node was never contacted because of this reason.
    pub fn is_skip(self) -> bool {
        matches!(
            self,
            FailureKind::Policy(_)
                | FailureKind::PortZero
                | FailureKind::FrontierFull
                | FailureKind::NotVisited
        )
    }

    /// Whether trying again later may succeed (only these are retried).
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            FailureKind::ConnectTimeout | FailureKind::Timeout | FailureKind::Protocol
        )
    }
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
