//! The crawl as a graph: petgraph building, statistics and DOT / GraphML / JSON exports.
//!
//! Everything here works on a [`CrawlData`] loaded from the store (or built by hand in
//! tests) and never touches SQLite or the network. Output is deterministic: the same crawl
//! gives the same bytes, because `CrawlData` is sorted and every map here is ordered.
//!
//! A node of the graph is a position in `CrawlData::nodes` (not the crawl's node number);
//! an edge carries the [`PeerNetwork`] of the list it came from, so the cut network and the
//! mempool networks share one multigraph. Edges whose endpoints are not among the nodes
//! (possible only in hand-made data) are left out and counted in
//! [`CrawlGraph::dangling_edges`].

pub mod adjacency;
pub mod export;
pub mod filter;
pub mod stats;

use petgraph::graph::{DiGraph, NodeIndex};

use crate::api::PeerNetwork;
use crate::crawl::NodeIdx;
use crate::store::{CrawlData, EdgeRow};

pub use export::{ExportError, ExportFormat, Exporter};
pub use stats::Stats;

/// A crawl's peer graph.
#[derive(Clone, Debug)]
pub struct CrawlGraph {
    /// Node weight: index into `CrawlData::nodes`; edge weight: the advertising list.
    pub graph: DiGraph<usize, PeerNetwork, u32>,
    /// Edges left out because an endpoint is unknown.
    pub dangling_edges: u64,
}

/// Maps node numbers to positions in `CrawlData::nodes`.
///
/// A crawl numbers its nodes 0, 1, 2… in the order learned, so a table indexed by node
/// number is the fast map. A database edited by hand may hold any numbers, though, and a
/// table up to node 200,000,000 would take gigabytes: past a few slots per node the map is
/// a hash map, and its memory stays proportional to the nodes.
#[derive(Clone, Debug)]
pub(crate) enum Positions {
    Dense(Vec<Option<u32>>),
    Sparse(foldhash::HashMap<NodeIdx, u32>),
}

impl Positions {
    pub(crate) fn new(data: &CrawlData) -> Positions {
        let len = data
            .nodes
            .iter()
            .map(|n| n.node as usize + 1)
            .max()
            .unwrap_or(0);
        let positions = data
            .nodes
            .iter()
            .enumerate()
            .filter_map(|(i, n)| Some((n.node, u32::try_from(i).ok()?)));
        if len <= data.nodes.len().saturating_mul(4).saturating_add(1024) {
            let mut map = vec![None; len];
            for (node, i) in positions {
                map[node as usize] = Some(i);
            }
            Positions::Dense(map)
        } else {
            Positions::Sparse(positions.collect())
        }
    }

    /// The position of node number `n`, if it is known.
    pub(crate) fn get(&self, n: NodeIdx) -> Option<usize> {
        match self {
            Positions::Dense(map) => map.get(n as usize).copied().flatten(),
            Positions::Sparse(map) => map.get(&n).copied(),
        }
        .map(|p| p as usize)
    }

    /// Both endpoints' positions, if both are known.
    pub(crate) fn edge(&self, e: &EdgeRow) -> Option<(usize, usize)> {
        Some((self.get(e.src)?, self.get(e.dst)?))
    }
}

impl CrawlGraph {
    /// Builds the graph of every network.
    pub fn build(data: &CrawlData) -> CrawlGraph {
        let positions = Positions::new(data);
        let mut graph = DiGraph::with_capacity(data.nodes.len(), data.edges.len());
        for i in 0..data.nodes.len() {
            graph.add_node(i);
        }
        let mut dangling_edges = 0;
        for e in &data.edges {
            match positions.edge(e) {
                Some((s, d)) => {
                    graph.add_edge(NodeIndex::new(s), NodeIndex::new(d), e.network);
                }
                None => dangling_edges += 1,
            }
        }
        CrawlGraph {
            graph,
            dangling_edges,
        }
    }
}

#[cfg(test)]
pub(crate) mod fixture {
    //! Hand-made crawls shared by the graph tests.

    use crate::api::{ChainId, NetworkId, PeerNetwork};
    use crate::store::{CrawlData, CrawlId, CrawlRecord, CrawlStatus, EdgeRow, NodeRow};

    pub(crate) fn record() -> CrawlRecord {
        CrawlRecord {
            id: CrawlId(1),
            network: NetworkId::Mainnet01,
            started_at: "2026-01-31T12:00:00.000Z".into(),
            ended_at: Some("2026-01-31T12:01:00.000Z".into()),
            status: CrawlStatus::Complete,
            parameters: serde_json::json!({"concurrency": 8}),
            frontier_left: Some(0),
            error: None,
        }
    }

    pub(crate) fn edge(src: u32, dst: u32, network: PeerNetwork) -> EdgeRow {
        EdgeRow { src, dst, network }
    }

    /// Four nodes: a reachable bootstrap DNS node, a reachable IPv4 node, an IPv6 node that
    /// refused the connection and a private address skipped by policy.
    pub(crate) fn four_nodes() -> CrawlData {
        let m = |c| PeerNetwork::Mempool(ChainId(c));
        CrawlData {
            crawl: record(),
            nodes: vec![
                NodeRow {
                    node: 0,
                    hostname: "a.example".into(),
                    port: 443,
                    peer_id: Some("AAAA".into()),
                    reachable: Some(true),
                    tls_fingerprint: Some("AAAA".into()),
                    node_version: Some("2.31".into()),
                    server_timestamp: Some(1_769_860_800),
                    peer_addr: Some("203.0.113.9".into()),
                    bootstrap: true,
                    clock_skew_s: Some(1.5),
                    ..NodeRow::default()
                },
                NodeRow {
                    node: 1,
                    hostname: "127.0.0.1".into(),
                    port: 1789,
                    reachable: Some(true),
                    node_version: Some("2.31".into()),
                    clock_skew_s: Some(-90.0),
                    ..NodeRow::default()
                },
                NodeRow {
                    node: 2,
                    hostname: "2001:db8::1".into(),
                    port: 443,
                    reachable: Some(false),
                    error: Some("connect_refused".into()),
                    ..NodeRow::default()
                },
                NodeRow {
                    node: 3,
                    hostname: "10.0.0.1".into(),
                    port: 443,
                    error: Some("policy_private".into()),
                    ..NodeRow::default()
                },
            ],
            edges: vec![
                edge(0, 1, PeerNetwork::Cut),
                edge(0, 2, PeerNetwork::Cut),
                edge(0, 3, PeerNetwork::Cut),
                edge(0, 1, m(0)),
                edge(1, 0, PeerNetwork::Cut),
                edge(1, 0, m(0)),
                edge(1, 2, m(5)),
            ],
        }
    }

    /// Asserts that two texts are equal, printing both in full and the first differing line.
    #[track_caller]
    pub(crate) fn assert_text_eq(expected: &str, actual: &str) {
        if expected == actual {
            return;
        }
        let line = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| expected.lines().count().min(actual.lines().count()));
        panic!(
            "\n--- expected\n{expected}\n--- actual\n{actual}\n--- first difference at line {}:\n\
             expected: {:?}\n  actual: {:?}\n",
            line + 1,
            expected.lines().nth(line),
            actual.lines().nth(line)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_keeps_every_edge_and_drops_dangling_ones() {
        let mut data = fixture::four_nodes();
        data.edges.push(fixture::edge(3, 42, PeerNetwork::Cut));
        let g = CrawlGraph::build(&data);
        assert_eq!(g.graph.node_count(), 4);
        assert_eq!(g.graph.edge_count(), 7);
        assert_eq!(g.dangling_edges, 1);
    }

    /// Node numbers far apart (a database edited by hand) are mapped without a table up to
    /// the largest one, and every statistic comes out as with dense numbers.
    #[test]
    fn sparse_node_numbers_give_the_same_statistics() {
        let mut data = fixture::four_nodes();
        data.edges.push(fixture::edge(3, 42, PeerNetwork::Cut));
        let dense = Stats::compute(&data).to_json().unwrap();
        assert!(matches!(Positions::new(&data), Positions::Dense(_)));
        let far = |n: NodeIdx| n * 50_000_000 + 7;
        for n in &mut data.nodes {
            n.node = far(n.node);
        }
        for e in &mut data.edges {
            e.src = far(e.src);
            e.dst = far(e.dst);
        }
        let positions = Positions::new(&data);
        assert!(matches!(positions, Positions::Sparse(_)));
        assert_eq!(positions.get(far(3)), Some(3));
        assert_eq!(positions.get(far(42)), None);
        assert_eq!(positions.get(8), None);
        assert_eq!(Stats::compute(&data).to_json().unwrap(), dense);
    }
}
