//! What the crawl tells the store: facts in the order they were learned.

use crate::api::{HostAddress, PeerId, PeerNetwork};

use super::failure::FailureKind;

/// A node's number within one crawl, assigned in the order nodes are learned.
pub type NodeIdx = u32;

/// One fact learned by the crawl. The store writer turns a stream of these into rows.
#[derive(Debug, Clone)]
pub enum Event {
    /// An address is known for the first time (from the bootstrap list or a peer list).
    NodeLearned {
        /// Its number in this crawl.
        node: NodeIdx,
        /// Normalized address.
        address: HostAddress,
        /// The id it was first advertised with (`None` for null ids and bootstrap entries
        /// without one).
        advertised_id: Option<PeerId>,
        /// Whether it came from the bootstrap list.
        bootstrap: bool,
    },
    /// The node will not be contacted.
    NodeSkipped {
        /// Which node.
        node: NodeIdx,
        /// Why not.
        reason: FailureKind,
    },
    /// One HTTP exchange (or the attempt at one).
    PageFetched(PageRecord),
    /// The entries one node served in one list, de-duplicated, as node numbers.
    ListSeen {
        /// The advertising node.
        src: NodeIdx,
        /// Which list.
        network: PeerNetwork,
        /// Advertised nodes, in the order served.
        dsts: Vec<NodeIdx>,
    },
    /// An entry of a list that is not a valid PeerInfo; kept so nothing served is lost.
    InvalidEntry {
        /// The advertising node.
        src: NodeIdx,
        /// Which list.
        network: PeerNetwork,
        /// Stable reason, e.g. `invalid_hostname`.
        reason: &'static str,
        /// The entry's JSON text, truncated to a sane length.
        raw: String,
    },
    /// Contacting the node is over.
    NodeVisited(NodeVisit),
}

/// One response, as recorded in the `responses` table.
#[derive(Debug, Clone, Default)]
pub struct PageRecord {
    /// Which node.
    pub node: NodeIdx,
    /// Which list; `None` for requests that are not peer-list pages.
    pub network: Option<PeerNetwork>,
    /// Page number within the list, from 0.
    pub page: u32,
    /// The `next` cursor sent with the request, if any.
    pub cursor: Option<String>,
    /// HTTP status, if an answer arrived.
    pub status: Option<u16>,
    /// Milliseconds from sending the request to the end of the body (or the failure).
    pub latency_ms: f64,
    /// `x-peer-addr` as received (sanitized, capped).
    pub peer_addr: Option<String>,
    /// `x-server-timestamp` as received.
    pub server_timestamp: Option<String>,
    /// `x-chainweb-node-version` as received.
    pub node_version: Option<String>,
    /// Fingerprint of the certificate the node proved it holds the key of.
    pub tls_fingerprint: Option<PeerId>,
    /// Number of items in the page.
    pub items: u32,
    /// The `next` cursor in the answer.
    pub next: Option<String>,
    /// Body size in bytes.
    pub bytes: u64,
    /// Why it failed, if it did.
    pub error: Option<FailureKind>,
    /// Human-readable detail of the failure (sanitized, capped).
    pub detail: Option<String>,
    /// When the answer arrived, Unix milliseconds.
    pub observed_at_ms: i64,
}

/// The outcome of contacting one node.
#[derive(Debug, Clone, Default)]
pub struct NodeVisit {
    /// Which node.
    pub node: NodeIdx,
    /// True when at least one peer list page was answered; false when every attempt failed.
    pub reachable: bool,
    /// Fingerprint of the node's certificate.
    pub tls_fingerprint: Option<PeerId>,
    /// Last `x-chainweb-node-version` seen.
    pub node_version: Option<String>,
    /// Last `x-server-timestamp` seen, if numeric.
    pub server_timestamp: Option<i64>,
    /// Last `x-peer-addr` seen.
    pub peer_addr: Option<String>,
    /// Server clock minus ours when that answer arrived, in seconds: `x-server-timestamp`
    /// + 0.5 (the header truncates to whole seconds) minus our Unix time at arrival.
    pub clock_skew_s: Option<f64>,
    /// Pages fetched over all lists.
    pub pages: u32,
    /// The node's failure: the reason contact failed when unreachable, or the first list
    /// failure of a node that answered some lists.
    pub error: Option<FailureKind>,
}
