//! Readers: one stored crawl loaded into memory for the graph module, and edge counts.

use rusqlite::params;

use super::edge_lists;
use super::sql::net_from_code;
use super::{CrawlId, CrawlRecord, Store, StoreError};
use crate::api::PeerNetwork;
use crate::crawl::NodeIdx;

/// One node of a crawl: the `crawl_nodes` view's fields plus the internal ones.
///
/// Strings are kept as stored, not re-parsed: exporters must cope with any text.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NodeRow {
    /// The crawl's node number.
    pub node: NodeIdx,
    /// Normalized host name (IPv6 without brackets).
    pub hostname: String,
    /// TCP port.
    pub port: u16,
    /// The id it was first advertised with.
    pub peer_id: Option<String>,
    /// `Some(true)` answered its peer lists, `Some(false)` contact failed, `None` not contacted.
    pub reachable: Option<bool>,
    /// Fingerprint of the certificate observed.
    pub tls_fingerprint: Option<String>,
    /// `x-chainweb-node-version` seen.
    pub node_version: Option<String>,
    /// `x-server-timestamp` seen.
    pub server_timestamp: Option<i64>,
    /// `x-peer-addr` seen.
    pub peer_addr: Option<String>,
    /// Failure or skip reason (`FailureKind::as_str`).
    pub error: Option<String>,
    /// Whether it came from the bootstrap list.
    pub bootstrap: bool,
    /// Server time minus our time, seconds.
    pub clock_skew_s: Option<f64>,
}

impl NodeRow {
    /// The address in text form, `host:port`, IPv6 (any host containing `:`) in brackets.
    pub fn address_text(&self) -> String {
        if self.hostname.contains(':') {
            format!("[{}]:{}", self.hostname, self.port)
        } else {
            format!("{}:{}", self.hostname, self.port)
        }
    }
}

/// One advertised peer entry: `src` listed `dst` in its `network` list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EdgeRow {
    /// Advertising node number.
    pub src: NodeIdx,
    /// Advertised node number.
    pub dst: NodeIdx,
    /// Which list.
    pub network: PeerNetwork,
}

impl EdgeRow {
    /// The sort key of [`CrawlData::edges`]: source, then network (cut first, then chains
    /// in order), then destination.
    pub fn sort_key(&self) -> (NodeIdx, PeerNetwork, NodeIdx) {
        (self.src, self.network, self.dst)
    }
}

/// A whole stored crawl in memory.
#[derive(Clone, Debug, PartialEq)]
pub struct CrawlData {
    /// The `crawls` row.
    pub crawl: CrawlRecord,
    /// Every node, sorted by node number.
    pub nodes: Vec<NodeRow>,
    /// Every edge, sorted by [`EdgeRow::sort_key`].
    pub edges: Vec<EdgeRow>,
}

/// Number of edges of one network in one crawl.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EdgeCount {
    /// Which network.
    pub network: PeerNetwork,
    /// How many entries.
    pub edges: u64,
}

impl Store {
    /// Loads one crawl's nodes and edges, sorted deterministically.
    ///
    /// # Errors
    /// [`StoreError::NoSuchCrawl`]; [`StoreError::Invalid`] for stored values out of range;
    /// SQLite errors.
    pub fn load_crawl(&self, id: CrawlId) -> Result<CrawlData, StoreError> {
        let crawl = self.crawl(id)?;
        let conn = self.connection();
        // Both reads in one transaction, so a running writer cannot make them disagree.
        let tx = conn.unchecked_transaction()?;
        let mut nodes = Vec::new();
        {
            let mut stmt = tx.prepare_cached(
                "SELECT node, hostname, port, peer_id, reachable, tls_fingerprint, \
                 node_version, server_timestamp, peer_addr, error, bootstrap, clock_skew_s \
                 FROM nodes WHERE crawl_id = ?1 ORDER BY node",
            )?;
            let mut rows = stmt.query(params![id])?;
            while let Some(r) = rows.next()? {
                let node: i64 = r.get(0)?;
                let port: i64 = r.get(2)?;
                nodes.push(NodeRow {
                    node: NodeIdx::try_from(node)
                        .map_err(|_| StoreError::Invalid(format!("node number {node}")))?,
                    hostname: r.get(1)?,
                    port: u16::try_from(port)
                        .map_err(|_| StoreError::Invalid(format!("port {port}")))?,
                    peer_id: r.get(3)?,
                    reachable: r.get(4)?,
                    tls_fingerprint: r.get(5)?,
                    node_version: r.get(6)?,
                    server_timestamp: r.get(7)?,
                    peer_addr: r.get(8)?,
                    error: r.get(9)?,
                    bootstrap: r.get(10)?,
                    clock_skew_s: r.get(11)?,
                });
            }
        }
        // Sized before it is filled: grown by doubling, a 4-million-edge crawl's vector was
        // copied into ever larger blocks, and the allocator may keep the old ones a while.
        let mut edges = Vec::with_capacity(edge_lists::edge_count_hint(&tx, id));
        edge_lists::for_each_list(&tx, id, |src, network, dsts| {
            edges.extend(dsts.into_iter().map(|dst| EdgeRow { src, dst, network }));
        })?;
        tx.commit()?;
        Ok(CrawlData {
            crawl,
            nodes,
            edges,
        })
    }

    /// Calls `each` with every edge list of one crawl, in key order (`src`, then cut before
    /// the chains), each list ascending and once per node.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for a list that is not an array of node numbers; SQLite
    /// errors.
    pub fn for_each_edge_list(
        &self,
        id: CrawlId,
        each: impl FnMut(NodeIdx, PeerNetwork, Vec<NodeIdx>),
    ) -> Result<(), StoreError> {
        edge_lists::for_each_list(self.connection(), id, each)
    }

    /// Number of edges per network (cut first, then chains in order) in one crawl.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for unknown network codes; SQLite errors.
    pub fn edge_counts(&self, id: CrawlId) -> Result<Vec<EdgeCount>, StoreError> {
        let mut stmt = self.connection().prepare_cached(
            "SELECT net, sum(json_array_length(dsts)) FROM edge_lists WHERE crawl_id = ?1 \
             GROUP BY net ORDER BY net",
        )?;
        let mut rows = stmt.query(params![id])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let (net, n): (i64, i64) = (r.get(0)?, r.get(1)?);
            out.push(EdgeCount {
                network: net_from_code(net)
                    .ok_or_else(|| StoreError::Invalid(format!("network code {net}")))?,
                edges: u64::try_from(n).unwrap_or(0),
            });
        }
        Ok(out)
    }
}
