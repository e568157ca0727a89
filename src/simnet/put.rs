//! `PUT …/cut/peer` and `PUT …/chain/{c}/mempool/peer`: a peer announces an address, in
//! chainweb's order of checks (spec §4).
//!
//! 1. a body over 2 MiB → 413 (without chainweb's `x-` headers, as warp's limit answers);
//! 2. a content type that is not JSON → 415; an `Accept` that excludes JSON → 406;
//! 3. a body that is not a PeerInfo → 400 with the parse error, no content type;
//! 4. the node's own address → `IsLocalPeerAddress`;
//! 5. an address already in the node's database (any network, any id, failed or not) →
//!    204 at once; a different id replaces the entry (new mark, only this network, no
//!    failures), the same id adds this network;
//! 6. a reserved address → `IsReservedHostAddress` (not on `development`). Simnet lives in
//!    127.0.0.0/8, so that range counts as ordinary (DESIGN.md, simulator notes); the
//!    literals `localhost` and `::1` are still reserved;
//! 7. the callback: `GET` of the same network's peer path at the announced address, no
//!    certificate check, 4 s timeout; it must answer 2xx with a numeric
//!    `x-chainweb-node-version`, else `IsNotReachable "<reason>"`. **Simnet only ever
//!    dials loopback IP literals**: any other address is not reachable without a
//!    connection attempt;
//! 8. the announced version must be at least 1.2, and at least 3.0 when a 3.x (community
//!    fork) node on mainnet01 or testnet06 receives it → `NodeVersionNotAccepted`;
//! 9. insert at a random position (a new random mark) → 204.
//!
//! Rejections 4–8 answer 400, `text/plain;charset=utf-8`, body `Invalid hostaddress: ` and
//! the Haskell `show` of the reason.

use std::net::IpAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{ACCEPT, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{Request, StatusCode};
use rand::Rng;

use super::peerdb::{DbEntry, NodeDb, lists_of};
use super::server::{Answer, NodeView};
use super::topology::Topology;
use crate::api::headers::{self, parse_node_version};
use crate::api::{HostAddress, Hostname, NetworkId, PeerInfo, PeerNetwork};

/// Largest request body chainweb reads (wai `requestSizeLimit`).
pub const MAX_BODY: usize = 2 * 1024 * 1024;
/// Timeout of the reachability callback (chainweb's new-peer manager).
pub const CALLBACK_TIMEOUT: Duration = Duration::from_secs(4);
/// Content type of chainweb's validation errors.
const TEXT_CONTENT_TYPE: &str = "text/plain;charset=utf-8";

/// Why a node refuses an announced address (chainweb's `PeerValidationFailure`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// The node's own address.
    IsLocalPeerAddress,
    /// A reserved address.
    IsReservedHostAddress,
    /// The callback failed, with the reason.
    IsNotReachable(String),
    /// The announced node's version is too old.
    NodeVersionNotAccepted(Vec<u32>),
}

impl Rejection {
    /// The 400 body: `Invalid hostaddress: ` and Haskell's `show` of the failure.
    pub fn body(&self) -> String {
        let shown = match self {
            Rejection::IsLocalPeerAddress => "IsLocalPeerAddress".to_string(),
            Rejection::IsReservedHostAddress => "IsReservedHostAddress".to_string(),
            // Rust's debug form of a string escapes quotes and backslashes like `show`.
            Rejection::IsNotReachable(r) => format!("IsNotReachable {r:?}"),
            Rejection::NodeVersionNotAccepted(v) => format!(
                "NodeVersionNotAccepted (NodeVersion {{_getNodeVersion = [{}]}})",
                v.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
            ),
        };
        format!("Invalid hostaddress: {shown}")
    }
}

/// Handles a `PUT` of a peer path (see the module docs for the order).
pub async fn put_peer(node: &NodeView, net: PeerNetwork, req: Request<Incoming>) -> Answer {
    let too_large = Answer {
        chainweb_headers: false,
        ..Answer::empty(StatusCode::PAYLOAD_TOO_LARGE)
    };
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY as u64) {
        return too_large;
    }
    if !is_json(req.headers().get(CONTENT_TYPE).map(|v| v.as_bytes())) {
        return Answer::empty(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }
    if !accepts_json(req.headers().get(ACCEPT).map(|v| v.as_bytes())) {
        return Answer::empty(StatusCode::NOT_ACCEPTABLE);
    }
    let body: Bytes = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => return too_large,
        // The client went away mid-body: whatever we answer is not read.
        Err(_) => return Answer::empty(StatusCode::BAD_REQUEST),
    };
    let peer = match parse_peer_info(&body) {
        Ok(p) => p,
        Err(msg) => return Answer::new(StatusCode::BAD_REQUEST, msg.into_bytes(), None),
    };
    match admit(node, net, peer).await {
        Ok(()) => Answer::json(StatusCode::NO_CONTENT, Vec::new()),
        Err(r) => Answer::new(
            StatusCode::BAD_REQUEST,
            r.body().into_bytes(),
            Some(TEXT_CONTENT_TYPE),
        ),
    }
}

/// Whether a `Content-Type` is servant's JSON (`application/json`, any parameters).
fn is_json(ct: Option<&[u8]>) -> bool {
    let Some(ct) = ct.and_then(|c| std::str::from_utf8(c).ok()) else {
        return false;
    };
    let media = ct.split(';').next().unwrap_or("").trim();
    media.eq_ignore_ascii_case("application/json")
}

/// Whether an `Accept` header allows JSON (absent allows everything).
fn accepts_json(accept: Option<&[u8]>) -> bool {
    let Some(a) = accept else { return true };
    let Ok(a) = std::str::from_utf8(a) else {
        return false;
    };
    a.split(',').any(|r| {
        let media = r
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        matches!(
            media.as_str(),
            "*/*" | "application/*" | "application/json" | ""
        )
    })
}

/// Parses a PeerInfo body; the error reads like aeson's (`Error in $: …`).
fn parse_peer_info(body: &[u8]) -> Result<PeerInfo, String> {
    let v: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("Error in $: {e}"))?;
    PeerInfo::from_json(&v).map_err(|e| format!("Error in $: {e}"))
}

/// Whether chainweb's reserved-address check refuses `host` (spec §4, step 3), with
/// 127.0.0.0/8 treated as ordinary because every simnet node lives there.
pub fn is_reserved(host: &Hostname) -> bool {
    match host {
        Hostname::Dns(name) => name.as_ref() == "localhost",
        Hostname::Ipv6(ip) => ip.is_loopback(),
        Hostname::Ipv4(ip) => {
            let [a, b, c, _] = ip.octets();
            let bits = u32::from(*ip);
            let inside = |net: u32, len: u32| bits >> (32 - len) == net >> (32 - len);
            a == 0
                || a == 10
                || inside(0x6440_0000, 10)
                || inside(0xa9fe_0000, 16)
                || inside(0xac10_0000, 12)
                || (a, b, c) == (192, 0, 0)
                || (a, b, c) == (192, 0, 2)
                || (a, b, c) == (192, 88, 99)
                // chainweb's 192.168.0.0/15 (it also covers the public 192.169/16).
                || inside(0xc0a8_0000, 15)
                || (a, b, c) == (198, 51, 100)
                || (a, b, c) == (203, 0, 113)
                || a >= 224
        }
    }
}

/// The lowest version node `index` accepts (spec §4 step 5, §11).
fn required_version(network: NetworkId, own_version: &str) -> [u32; 2] {
    let own_major = parse_node_version(own_version)
        .and_then(|v| v.first().copied())
        .unwrap_or(0);
    match network.min_peer_version() {
        Some((major, minor)) if own_major >= 3 => [major, minor],
        _ => [1, 2],
    }
}

/// Runs the checks of steps 4–9 and inserts the peer.
async fn admit(node: &NodeView, net: PeerNetwork, peer: PeerInfo) -> Result<(), Rejection> {
    let served = &node.served;
    let topo = &served.topology;
    let Some(me) = topo.nodes.get(node.index) else {
        return Err(Rejection::IsNotReachable("no such node".into()));
    };
    if peer.address == HostAddress::from(me.addr) {
        return Err(Rejection::IsLocalPeerAddress);
    }
    if insert_known(node, net, &peer) {
        return Ok(());
    }
    if topo.network != NetworkId::Development && is_reserved(&peer.address.hostname) {
        return Err(Rejection::IsReservedHostAddress);
    }
    let version = callback(node, net, &peer.address, me.version)
        .await
        .map_err(Rejection::IsNotReachable)?;
    let [major, minor] = required_version(topo.network, me.version);
    if version.as_slice() < [major, minor].as_slice() {
        return Err(Rejection::NodeVersionNotAccepted(version));
    }
    let version_text = version
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(".");
    insert_new(node, net, &peer, version_text);
    Ok(())
}

/// The node's database now (generated or changed).
fn current_db(node: &NodeView) -> Vec<DbEntry> {
    match node.served.state.node(node.index) {
        Some(db) => db.db.clone(),
        None => node
            .served
            .topology
            .nodes
            .get(node.index)
            .map(|n| n.db.clone())
            .unwrap_or_default(),
    }
}

/// The address and id of entry `e`.
fn entry_info(node: &NodeView, e: u32) -> Option<PeerInfo> {
    let served = &node.served;
    let e = e as usize;
    if let Some(p) = served.topology.entries.get(e) {
        return Some(p.clone());
    }
    let extra = served.state.extra.read().unwrap_or_else(|x| x.into_inner());
    extra
        .entries
        .get(e - served.topology.entries.len())
        .cloned()
}

/// The entry index of `peer`, appending it if no entry has that address and id.
fn entry_index(node: &NodeView, peer: &PeerInfo, version: Option<String>) -> Option<u32> {
    let served = &node.served;
    if let Some(&i) = served.state.index.get(&(peer.address.clone(), peer.id)) {
        return Some(i);
    }
    let base = served.topology.entries.len();
    let mut extra = served
        .state
        .extra
        .write()
        .unwrap_or_else(|x| x.into_inner());
    if let Some(k) = extra.entries.iter().position(|p| p == peer) {
        return u32::try_from(base + k).ok();
    }
    let json = serde_json::to_vec(peer).ok()?;
    let index = u32::try_from(base + extra.entries.len()).ok()?;
    extra.entries.push(peer.clone());
    extra.json.push(Bytes::from(json));
    extra.versions.push(version);
    Some(index)
}

/// Stores a changed database for the node.
fn store(node: &NodeView, db: Vec<DbEntry>) {
    let lists = lists_of(&db, 1 + usize::from(node.served.topology.network.chains()));
    node.served.state.set_node(node.index, NodeDb { db, lists });
}

/// Step 5: if the address is known, update the entry and say so.
fn insert_known(node: &NodeView, net: PeerNetwork, peer: &PeerInfo) -> bool {
    let _guard = node.served.state.write_lock(node.index);
    insert_known_locked(node, net, peer)
}

/// [`insert_known`] with the node's write lock held.
fn insert_known_locked(node: &NodeView, net: PeerNetwork, peer: &PeerInfo) -> bool {
    let mut db = current_db(node);
    let Some(pos) = db
        .iter()
        .position(|e| entry_info(node, e.entry).is_some_and(|p| p.address == peer.address))
    else {
        return false;
    };
    let bit = 1u64 << Topology::list_index(net);
    let known = entry_info(node, db[pos].entry);
    // chainweb keeps an entry whose id is null even when it is announced with an id.
    let same_id = known
        .as_ref()
        .is_some_and(|k| k.id.is_none() || k.id == peer.id);
    if same_id {
        if db[pos].networks & bit != 0 {
            // Nothing served changes.
            return true;
        }
        db[pos].networks |= bit;
    } else {
        let Some(entry) = entry_index(node, peer, None) else {
            return true;
        };
        db.remove(pos);
        let at = rand::rng().random_range(0..=db.len());
        db.insert(
            at,
            DbEntry {
                entry,
                networks: bit,
                failures: 0,
            },
        );
    }
    store(node, db);
    true
}

/// Step 9: inserts a validated new address at a random mark.
fn insert_new(node: &NodeView, net: PeerNetwork, peer: &PeerInfo, version: String) {
    let _guard = node.served.state.write_lock(node.index);
    // Another PUT of the same address may have won while the callback ran.
    if insert_known_locked(node, net, peer) {
        return;
    }
    let Some(entry) = entry_index(node, peer, Some(version)) else {
        return;
    };
    let mut db = current_db(node);
    let at = rand::rng().random_range(0..=db.len());
    db.insert(
        at,
        DbEntry {
            entry,
            networks: 1u64 << Topology::list_index(net),
            failures: 0,
        },
    );
    store(node, db);
}

/// The callback client: any certificate, no proxy, redirects only to loopback IPs.
fn callback_client(node: &NodeView) -> Option<reqwest::Client> {
    node.served
        .callback
        .get_or_init(|| {
            let tls = crate::crawl::tls::client_config().ok()?;
            let redirects = reqwest::redirect::Policy::custom(|attempt| {
                let loopback = attempt
                    .url()
                    .host_str()
                    .map(|h| h.trim_start_matches('[').trim_end_matches(']'))
                    .and_then(|h| h.parse::<IpAddr>().ok())
                    .is_some_and(|ip| ip.is_loopback());
                if loopback && attempt.previous().len() < 10 {
                    attempt.follow()
                } else {
                    attempt.stop()
                }
            });
            reqwest::Client::builder()
                .use_preconfigured_tls(tls)
                .no_proxy()
                .redirect(redirects)
                .timeout(CALLBACK_TIMEOUT)
                .connect_timeout(CALLBACK_TIMEOUT)
                .build()
                .ok()
        })
        .clone()
}

/// Step 7: `GET` of the same network's peer path at `addr`; the announced version, or
/// why it is not reachable.
async fn callback(
    node: &NodeView,
    net: PeerNetwork,
    addr: &HostAddress,
    own_version: &str,
) -> Result<Vec<u32>, String> {
    // Never leave loopback, whatever a client announces.
    match addr.hostname.ip() {
        Some(ip) if ip.is_loopback() => {}
        _ => {
            return Err(format!(
                "HostCannotConnect {:?} [simnet dials only loopback addresses]",
                addr.hostname.to_string()
            ));
        }
    }
    if addr.port == 0 {
        return Err(format!(
            "HostCannotConnect {:?} [port 0]",
            addr.hostname.to_string()
        ));
    }
    let Some(client) = callback_client(node) else {
        return Err("ConnectionFailure cannot build the callback client".into());
    };
    let url = format!(
        "{}{}",
        addr.origin(),
        net.peer_path(node.served.topology.network)
    );
    let resp = client
        .get(&url)
        .header(headers::NODE_VERSION, own_version)
        .send()
        .await
        .map_err(|e| {
            if e.is_timeout() {
                "ResponseTimeout".to_string()
            } else {
                format!("ConnectionFailure {}", error_chain(&e))
            }
        })?;
    if !resp.status().is_success() {
        return Err(format!("Error status code: {}", resp.status().as_u16()));
    }
    let Some(v) = resp.headers().get(headers::NODE_VERSION) else {
        return Err("missing X-Chainweb-Node-Version header".into());
    };
    let text = String::from_utf8_lossy(v.as_bytes()).into_owned();
    parse_node_version(&text)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| format!("invalid X-Chainweb-Node-Version header: {text}"))
}

/// An error and its causes on one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(s: &str) -> Hostname {
        s.parse().unwrap()
    }

    #[test]
    fn reserved_ranges_follow_chainweb_except_loopback() {
        for r in [
            "0.1.2.3",
            "10.0.0.1",
            "100.64.0.1",
            "169.254.3.4",
            "172.16.0.1",
            "192.0.0.1",
            "192.0.2.7",
            "192.88.99.1",
            "192.168.1.1",
            "192.169.4.4",
            "198.51.100.2",
            "203.0.113.7",
            "224.0.0.1",
            "240.0.0.1",
            "255.255.255.255",
            "localhost",
            "::1",
        ] {
            assert!(is_reserved(&host(r)), "{r}");
        }
        for ok in [
            "127.0.0.1",
            "127.5.0.1",
            "8.8.8.8",
            "198.18.0.1",
            "192.170.0.1",
            "node.example.org",
        ] {
            assert!(!is_reserved(&host(ok)), "{ok}");
        }
    }

    #[test]
    fn rejection_bodies_read_like_chainweb() {
        assert_eq!(
            Rejection::IsLocalPeerAddress.body(),
            "Invalid hostaddress: IsLocalPeerAddress"
        );
        assert_eq!(
            Rejection::IsNotReachable("Error status code: 404".into()).body(),
            r#"Invalid hostaddress: IsNotReachable "Error status code: 404""#
        );
        assert_eq!(
            Rejection::NodeVersionNotAccepted(vec![2, 32, 0]).body(),
            "Invalid hostaddress: NodeVersionNotAccepted (NodeVersion {_getNodeVersion = [2,32,0]})"
        );
    }

    #[test]
    fn version_rule() {
        assert_eq!(required_version(NetworkId::Mainnet01, "3.2"), [3, 0]);
        assert_eq!(required_version(NetworkId::Mainnet01, "2.32.0"), [1, 2]);
        assert_eq!(required_version(NetworkId::Testnet04, "3.2"), [1, 2]);
        assert_eq!(required_version(NetworkId::Testnet06, "3.1"), [3, 0]);
    }

    #[test]
    fn media_types() {
        assert!(is_json(Some(b"application/json")));
        assert!(is_json(Some(b"application/json;charset=utf-8")));
        assert!(!is_json(Some(b"text/plain")));
        assert!(!is_json(None));
        assert!(accepts_json(None));
        assert!(accepts_json(Some(b"text/html, */*;q=0.1")));
        assert!(!accepts_json(Some(b"text/html")));
    }
}
