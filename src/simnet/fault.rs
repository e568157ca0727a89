//! The `hostile` profile: faults as data.
//!
//! A [`Fault`] says how one live node misbehaves; [`plan`] picks, from a generated clean
//! topology, one ordinary node (advertised, not a hub) per fault kind and rewires it:
//! a faulty node's cut list is the bootstrap hubs (plus whatever its fault adds) and its
//! mempool lists are empty, and the first hub lists it, so a crawl always meets it and
//! every node reachable only through it stays out of the ground truth. What the crawler
//! must store for each fault is [`Fault::expectation`]; [`super::hostile`] serves it.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use bytes::Bytes;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::SimnetError;
use super::cert::{self, NodeCert};
use super::topology::{SimnetConfig, Topology};
use crate::api::{HostAddress, PeerInfo};

/// How one simulated node misbehaves.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Advertised, but nothing is bound to its address.
    NothingListening,
    /// Accepts the TCP connection and never sends a byte.
    NeverAnswers,
    /// Completes TLS, then sends its answer one byte at a time, slower than any deadline.
    OneByteAtATime,
    /// Speaks plain HTTP on its TLS port.
    PlainHttp,
    /// Answers correctly, but only after [`SLOW_DELAY`].
    Slow,
    /// Answers every request with this HTTP status.
    Status(u16),
    /// Answers 200 with an HTML page.
    Html,
    /// Answers 200 with a page cut off in the middle.
    Truncated,
    /// Answers 200 with an empty body.
    Empty,
    /// Answers 200 with valid JSON that is not a page.
    WrongShape,
    /// Serves more items than `limit` asked for (cut list).
    LimitIgnored,
    /// Streams a cut page of [`ENORMOUS_BYTES`] without a length.
    EnormousPage,
    /// Serves the cut page gzip-encoded: a small body that inflates to [`BOMB_BYTES`].
    CompressedBomb,
    /// Every cut page points at the same `next`.
    CursorRepeat,
    /// The cut list's `next` goes forward, then back.
    CursorCycle,
    /// Cut pages of freshly made-up peers, each pointing on, forever.
    EndlessPages,
    /// Redirects every request to another (live) node.
    RedirectToNode(SocketAddr),
    /// Redirects every request to a cloud metadata address.
    RedirectForbidden,
    /// Serves a certificate other than the one its id was derived from.
    CertMismatch(NodeCert),
    /// Sends none of the `x-` headers.
    MissingHeaders,
    /// Sends a non-numeric timestamp and a non-numeric version.
    GarbledHeaders,
    /// Sends a timestamp beyond i64 and kilobytes of version and peer address.
    HugeHeaders,
    /// Its clock says 1970.
    ClockPast,
    /// Its clock is ten years ahead.
    ClockFuture,
    /// Its cut list holds every kind of bad peer entry, beside the hubs.
    BadEntries,
}

/// How long a [`Fault::Slow`] node waits before each answer.
pub const SLOW_DELAY: std::time::Duration = std::time::Duration::from_millis(800);
/// Size of the [`Fault::EnormousPage`] body.
pub const ENORMOUS_BYTES: usize = 64 * 1024 * 1024;
/// Inflated size of the [`Fault::CompressedBomb`] body (1 + 258 × 260 000 bytes).
pub const BOMB_BYTES: usize = 1 + 258 * BOMB_MATCHES;
/// Back-references of 258 bytes in the bomb.
pub const BOMB_MATCHES: usize = 260_000;
/// Seconds ahead of [`Fault::ClockFuture`].
pub const FUTURE_SKEW_S: u64 = 10 * 365 * 86_400;
/// The timestamp of [`Fault::ClockPast`]: the second day of 1970.
pub const PAST_TIMESTAMP: u64 = 86_400;

/// What the crawler must record for a faulty node.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct TruthFault {
    /// The node, `host:port`.
    pub address: String,
    /// The fault's name (see [`Fault::name`]).
    pub fault: String,
    /// The node row's `reachable`.
    pub reachable: bool,
    /// The node row's `error`.
    pub error: Option<String>,
    /// An `error` at least one of its responses carries (`None`: every response is clean).
    pub response_error: Option<String>,
    /// Invalid entries it serves, reason → count (in `crawl_invalid_entries`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub invalid_entries: BTreeMap<String, usize>,
    /// Valid entries it serves that must never be contacted: address → node `error`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub refused_entries: BTreeMap<String, String>,
    /// Whether it lists itself (an edge from it to itself).
    #[serde(default)]
    pub lists_itself: bool,
    /// The id of the certificate it actually serves, when it differs from the advertised one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub served_id: Option<String>,
}

impl Fault {
    /// A stable kebab-case name.
    pub fn name(&self) -> String {
        use Fault::*;
        match self {
            NothingListening => "nothing-listening".into(),
            NeverAnswers => "never-answers".into(),
            OneByteAtATime => "one-byte-at-a-time".into(),
            PlainHttp => "plain-http".into(),
            Slow => "slow".into(),
            Status(s) => format!("status-{s}"),
            Html => "html".into(),
            Truncated => "truncated".into(),
            Empty => "empty".into(),
            WrongShape => "wrong-shape".into(),
            LimitIgnored => "limit-ignored".into(),
            EnormousPage => "enormous-page".into(),
            CompressedBomb => "compressed-bomb".into(),
            CursorRepeat => "cursor-repeat".into(),
            CursorCycle => "cursor-cycle".into(),
            EndlessPages => "endless-pages".into(),
            RedirectToNode(_) => "redirect-to-node".into(),
            RedirectForbidden => "redirect-forbidden".into(),
            CertMismatch(_) => "cert-mismatch".into(),
            MissingHeaders => "missing-headers".into(),
            GarbledHeaders => "garbled-headers".into(),
            HugeHeaders => "huge-headers".into(),
            ClockPast => "clock-past".into(),
            ClockFuture => "clock-future".into(),
            BadEntries => "bad-entries".into(),
        }
    }

    /// Whether the fault is served by a raw TCP/TLS listener instead of the HTTP server.
    pub fn is_raw(&self) -> bool {
        matches!(
            self,
            Fault::NeverAnswers | Fault::OneByteAtATime | Fault::PlainHttp
        )
    }

    /// (reachable, node error, a response error) the crawler must record.
    fn expectation(&self) -> (bool, Option<&'static str>, Option<&'static str>) {
        use Fault::*;
        match self {
            NothingListening => (false, Some("connect_refused"), Some("connect_refused")),
            NeverAnswers => (false, Some("connect_timeout"), Some("connect_timeout")),
            OneByteAtATime => (false, Some("timeout"), Some("timeout")),
            PlainHttp => (false, Some("tls_handshake"), Some("tls_handshake")),
            Status(_) => (false, Some("http_status"), Some("http_status")),
            Html | Truncated | Empty => (false, Some("bad_body"), Some("bad_body")),
            WrongShape => (false, Some("bad_page"), Some("bad_page")),
            RedirectToNode(_) | RedirectForbidden => (false, Some("redirect"), Some("redirect")),
            // Cut-list faults: the mempool lists answer, so the node is reachable.
            LimitIgnored => (true, Some("limit_ignored"), None),
            EnormousPage => (true, Some("body_too_large"), Some("body_too_large")),
            // Not inflated (the crawler never decompresses): gzip bytes are not JSON.
            CompressedBomb => (true, Some("bad_body"), Some("bad_body")),
            CursorRepeat | CursorCycle => (true, Some("cursor_loop"), None),
            EndlessPages => (true, Some("too_many_pages"), None),
            Slow | CertMismatch(_) | MissingHeaders | GarbledHeaders | HugeHeaders | ClockPast
            | ClockFuture | BadEntries => (true, None, None),
        }
    }
}

/// Every fault kind the hostile profile places, in placement order.
fn kinds(redirect_to: SocketAddr, other_cert: NodeCert) -> Vec<Fault> {
    use Fault::*;
    vec![
        NothingListening,
        NeverAnswers,
        OneByteAtATime,
        PlainHttp,
        Slow,
        Status(429),
        Status(500),
        Status(503),
        Html,
        Truncated,
        Empty,
        WrongShape,
        LimitIgnored,
        EnormousPage,
        CompressedBomb,
        CursorRepeat,
        CursorCycle,
        EndlessPages,
        RedirectToNode(redirect_to),
        RedirectForbidden,
        CertMismatch(other_cert),
        MissingHeaders,
        GarbledHeaders,
        HugeHeaders,
        ClockPast,
        ClockFuture,
        BadEntries,
    ]
}

/// Fewest nodes a hostile simnet needs: a hub, one node per fault and well-behaved rest.
pub const MIN_HOSTILE_NODES: usize = 80;

/// The faults of a topology: one per node (`None` for well-behaved nodes), plus the raw
/// JSON of every faulty node's cut list when it is not plain entries.
#[derive(Clone, Debug, Default)]
pub struct FaultPlan {
    /// By node index; empty for the clean profile.
    pub by_node: Vec<Option<Fault>>,
    /// What each faulty node must leave in the database, by node index.
    pub truth: BTreeMap<usize, TruthFault>,
    /// The served cut list of a [`Fault::BadEntries`] node: raw JSON entries, by node index.
    pub raw_lists: BTreeMap<usize, Vec<Bytes>>,
}

impl FaultPlan {
    /// The fault of node `i`, if it has one.
    pub fn get(&self, i: usize) -> Option<&Fault> {
        self.by_node.get(i).and_then(Option::as_ref)
    }
}

/// A made-up peer nobody runs, for limit-ignored and endless lists: `127.{subnet}.253..254.x`
/// (third octets the topology never uses for fewer than 12 000 nodes), varying the port.
pub fn made_up_peer(subnet: u8, k: u64) -> PeerInfo {
    let host = (k / 60_000) % 500;
    let ip = Ipv4Addr::new(
        127,
        subnet,
        253 + (host / 250) as u8,
        (host % 250 + 1) as u8,
    );
    let port = 1 + (k % 60_000) as u16;
    PeerInfo::new(
        None,
        HostAddress::from(SocketAddr::new(IpAddr::V4(ip), port)),
    )
}

/// Picks one node per fault kind and rewires the topology for it.
///
/// # Errors
/// [`SimnetError::Config`] below [`MIN_HOSTILE_NODES`]; [`SimnetError::Cert`] if the second
/// certificate cannot be made.
pub fn plan(topology: &mut Topology, config: &SimnetConfig) -> Result<FaultPlan, SimnetError> {
    let n = topology.nodes.len();
    if n < MIN_HOSTILE_NODES {
        return Err(SimnetError::Config(format!(
            "the hostile profile needs at least {MIN_HOSTILE_NODES} nodes, not {n}"
        )));
    }
    // Its own stream: the clean part of the topology is the clean profile's.
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    rng.set_stream(2);
    let hubs: Vec<usize> = topology.bootstrap.clone();
    let mut candidates: Vec<usize> = (0..n)
        .filter(|i| !hubs.contains(i) && topology.nodes[*i].advertised)
        .collect();
    candidates.shuffle(&mut rng);
    let mut plan = FaultPlan {
        by_node: vec![None; n],
        ..FaultPlan::default()
    };
    let first_hub = hubs.first().copied().unwrap_or(0);
    let mut seed = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rng, &mut seed);
    // The certificate's own address does not matter: its key is what differs.
    let other_cert = cert::generate(config.key_kind, topology.nodes[first_hub].addr.ip(), seed)?;
    let kinds = kinds(topology.nodes[first_hub].addr, other_cert);
    for (fault, &i) in kinds.into_iter().zip(&candidates) {
        let node_addr = topology.nodes[i].addr;
        // The hubs, then (for bad entries) the bad entries and itself.
        let cut: Vec<u32> = hubs.iter().map(|&h| h as u32).collect();
        let chains = topology.nodes[i].lists.len();
        topology.nodes[i].lists = vec![Vec::new(); chains];
        if let Some(l) = topology.nodes[i].lists.first_mut() {
            *l = cut.clone();
        }
        let hub_cut = &mut topology.nodes[first_hub].lists[0];
        if !hub_cut.contains(&(i as u32)) {
            hub_cut.push(i as u32);
        }
        let (reachable, error, response_error) = fault.expectation();
        let mut truth = TruthFault {
            address: node_addr.to_string(),
            fault: fault.name(),
            reachable,
            error: error.map(str::to_string),
            response_error: response_error.map(str::to_string),
            ..TruthFault::default()
        };
        match &fault {
            Fault::BadEntries => {
                let mut raw: Vec<Bytes> = cut
                    .iter()
                    .map(|&e| Bytes::from(topology.entries[e as usize].to_json().to_string()))
                    .collect();
                let own = &topology.entries[i];
                for (entry, expect) in bad_entries(config.subnet, own) {
                    match expect {
                        Expect::Invalid(reason) => {
                            *truth.invalid_entries.entry(reason.into()).or_default() += 1;
                        }
                        Expect::Refused(address, reason) => {
                            truth.refused_entries.insert(address, reason.into());
                        }
                        Expect::Listed => {}
                    }
                    raw.push(Bytes::from(entry.to_string()));
                }
                truth.lists_itself = true;
                plan.raw_lists.insert(i, raw);
            }
            Fault::CertMismatch(c) => truth.served_id = Some(c.id.to_string()),
            _ => {}
        }
        plan.truth.insert(i, truth);
        plan.by_node[i] = Some(fault);
    }
    Ok(plan)
}

/// What the crawler must make of one bad entry.
enum Expect {
    /// Stored in `crawl_invalid_entries` with this reason.
    Invalid(&'static str),
    /// A node that is never contacted: its address text and its `error`.
    Refused(String, &'static str),
    /// An ordinary (or duplicate) entry.
    Listed,
}

fn entry(host: Value, port: Value) -> Value {
    json!({"id": null, "address": {"hostname": host, "port": port}})
}

/// Every kind of bad peer entry of the issue, with what the crawler must make of it.
fn bad_entries(subnet: u8, own: &PeerInfo) -> Vec<(Value, Expect)> {
    use Expect::*;
    let refused = |h: &str, p: u16, addr: &str, why: &'static str| {
        (entry(json!(h), json!(p)), Refused(addr.to_string(), why))
    };
    let invalid = |h: Value, p: Value, why: &'static str| (entry(h, p), Invalid(why));
    let loopback = format!("127.{subnet}.0.1");
    vec![
        refused("10.1.2.3", 1789, "10.1.2.3:1789", "policy_private"),
        refused("192.168.0.7", 1789, "192.168.0.7:1789", "policy_private"),
        refused("100.64.0.9", 1789, "100.64.0.9:1789", "policy_cgnat"),
        refused(
            "169.254.169.254",
            80,
            "169.254.169.254:80",
            "policy_link_local",
        ),
        refused("fe80::1", 1789, "[fe80::1]:1789", "policy_link_local"),
        refused(
            "192.0.2.44",
            1789,
            "192.0.2.44:1789",
            "policy_documentation",
        ),
        refused(
            "2001:db8::7",
            1789,
            "[2001:db8::7]:1789",
            "policy_documentation",
        ),
        refused("198.18.0.5", 1789, "198.18.0.5:1789", "policy_benchmarking"),
        refused("224.0.0.251", 5353, "224.0.0.251:5353", "policy_multicast"),
        refused("0.0.0.0", 1789, "0.0.0.0:1789", "policy_unspecified"),
        refused("240.0.0.1", 1789, "240.0.0.1:1789", "policy_reserved"),
        refused(
            "::ffff:127.0.0.1",
            1789,
            "[::ffff:127.0.0.1]:1789",
            "policy_ipv4_mapped",
        ),
        // The same address spelled otherwise: one node.
        (
            entry(json!("::FFFF:7F00:1"), json!(1789)),
            Refused("[::ffff:127.0.0.1]:1789".into(), "policy_ipv4_mapped"),
        ),
        refused(
            "node.example.org",
            443,
            "node.example.org:443",
            "policy_dns",
        ),
        // The same name in other cases: one node.
        (
            entry(json!("NODE.Example.ORG"), json!(443)),
            Refused("node.example.org:443".into(), "policy_dns"),
        ),
        refused(&loopback, 0, &format!("{loopback}:0"), "port_zero"),
        invalid(json!("127.1"), json!(1789), "invalid_hostname"),
        invalid(json!("0x7f000001"), json!(1789), "invalid_hostname"),
        invalid(json!("0177.0.0.1"), json!(1789), "invalid_hostname"),
        invalid(json!("2130706433"), json!(1789), "invalid_hostname"),
        invalid(json!("a".repeat(300)), json!(1789), "invalid_hostname"),
        invalid(json!("nöde.example.org"), json!(1789), "invalid_hostname"),
        invalid(json!(17), json!(1789), "invalid_hostname"),
        invalid(json!(loopback), json!(70_000), "invalid_port"),
        invalid(json!(loopback), json!(-1), "invalid_port"),
        invalid(json!(loopback), json!("1789"), "invalid_port"),
        invalid(json!(loopback), json!(1789.5), "invalid_port"),
        (
            json!({"id": "AAAA", "address": {"hostname": loopback, "port": 1789}}),
            Invalid("invalid_id"),
        ),
        (
            json!({"id": 42, "address": {"hostname": loopback, "port": 1789}}),
            Invalid("invalid_id"),
        ),
        (json!("127.0.0.1:1789"), Invalid("invalid_entry")),
        (json!({"id": null}), Invalid("invalid_entry")),
        (own.to_json(), Listed),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::PeerInfo;

    #[test]
    fn bad_entries_parse_as_expected() {
        let own: PeerInfo = "127.9.0.3:1789".parse().unwrap();
        let policy = crate::crawl::EgressPolicy {
            allow_loopback: true,
            allow_private: false,
            resolve_dns: false,
            allow_public: false,
        };
        for (v, expect) in bad_entries(9, &own) {
            let parsed = PeerInfo::from_json(&v);
            match expect {
                Expect::Invalid(reason) => {
                    assert_eq!(parsed.err().map(|e| e.kind()), Some(reason), "{v}")
                }
                Expect::Refused(addr, reason) => {
                    let p = parsed.unwrap();
                    assert_eq!(p.address.to_string(), addr);
                    let got = policy.check(&p.address).unwrap_err();
                    assert_eq!(got.as_str(), reason, "{v}");
                }
                Expect::Listed => assert_eq!(parsed.unwrap(), own),
            }
        }
    }

    #[test]
    fn made_up_peers_are_distinct_and_never_live() {
        let a: std::collections::HashSet<_> =
            (0..200_000).map(|k| made_up_peer(5, k).address).collect();
        assert_eq!(a.len(), 200_000);
        assert!(a.iter().all(|x| !x.to_string().starts_with("127.5.0.")));
    }

    #[test]
    fn every_kind_is_placed_once() {
        let config = SimnetConfig {
            nodes: 100,
            subnet: 92,
            profile: super::super::Profile::Hostile,
            ..SimnetConfig::default()
        };
        let t = Topology::generate(&config).unwrap();
        let names: Vec<String> = t.faults.by_node.iter().flatten().map(Fault::name).collect();
        assert_eq!(names.len(), 27);
        let unique: std::collections::HashSet<_> = names.iter().collect();
        assert_eq!(unique.len(), names.len());
        for &i in t.faults.truth.keys() {
            assert!(t.nodes[t.bootstrap[0]].lists[0].contains(&(i as u32)));
            assert!(t.nodes[i].lists[1..].iter().all(Vec::is_empty));
        }
        assert!(matches!(
            Topology::generate(&SimnetConfig {
                nodes: 50,
                ..config
            }),
            Err(SimnetError::Config(_))
        ));
    }
}
