//! A compact, read-only adjacency view of a crawl that petgraph's algorithms run on.
//!
//! # Why not a `Graph`
//! A `DiGraph` of a 10,000-node crawl's 4.1 million edges takes about 20 bytes an edge
//! (weight, both endpoints, both next-edge links), and the statistics built two of them:
//! with the loaded crawl that made statistics and exports peak near 280 MB under the
//! binary's allocator. Reachability and components need only each node's targets, so this
//! keeps one `u32` per edge that passes a filter, grouped by source (compressed sparse
//! rows), and implements the petgraph traits that [`petgraph::visit::Bfs`] and
//! [`petgraph::algo::tarjan_scc`] ask for.
//!
//! Nodes are positions in `CrawlData::nodes`, as in [`super::CrawlGraph`]; edges whose
//! endpoints are unknown are left out.

use petgraph::visit::{
    GraphBase, IntoNeighbors, IntoNodeIdentifiers, NodeIndexable, VisitMap, Visitable,
};

use super::Positions;
use crate::store::{CrawlData, EdgeRow};

/// Each node's targets along the edges a filter kept.
#[derive(Clone, Debug)]
pub struct Adjacency {
    /// Node `n`'s targets are `targets[offsets[n]..offsets[n + 1]]`.
    offsets: Vec<usize>,
    targets: Vec<u32>,
}

impl Adjacency {
    /// The adjacency of `data` along the edges `keep` accepts, given the positions of both
    /// endpoints (`positions` is `data`'s). Edges keep the order of `data.edges` within each
    /// source.
    pub(crate) fn build(
        data: &CrawlData,
        positions: &Positions,
        mut keep: impl FnMut(&EdgeRow, usize, usize) -> bool,
    ) -> Self {
        let n = data.nodes.len();
        let mut kept = |e: &EdgeRow| positions.edge(e).filter(|&(s, d)| keep(e, s, d));
        // Two passes (count, then place) so the targets are allocated once, at their size.
        let mut offsets = vec![0usize; n + 1];
        for e in &data.edges {
            if let Some((s, _)) = kept(e) {
                offsets[s + 1] += 1;
            }
        }
        for i in 0..n {
            offsets[i + 1] += offsets[i];
        }
        let mut next = offsets.clone();
        let mut targets = vec![0u32; offsets[n]];
        for e in &data.edges {
            if let Some((s, d)) = kept(e) {
                // Positions come from `u32`s (see `Positions::new`).
                targets[next[s]] = d as u32;
                next[s] += 1;
            }
        }
        Adjacency { offsets, targets }
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Number of edges kept.
    pub fn edge_count(&self) -> usize {
        self.targets.len()
    }

    /// The targets of node `n`.
    pub fn targets(&self, n: u32) -> &[u32] {
        let n = n as usize;
        match (self.offsets.get(n), self.offsets.get(n + 1)) {
            (Some(&a), Some(&b)) => &self.targets[a..b],
            _ => &[],
        }
    }
}

impl GraphBase for Adjacency {
    type EdgeId = ();
    type NodeId = u32;
}

impl<'a> IntoNeighbors for &'a Adjacency {
    type Neighbors = std::iter::Copied<std::slice::Iter<'a, u32>>;

    fn neighbors(self, n: u32) -> Self::Neighbors {
        self.targets(n).iter().copied()
    }
}

impl IntoNodeIdentifiers for &Adjacency {
    type NodeIdentifiers = std::ops::Range<u32>;

    fn node_identifiers(self) -> Self::NodeIdentifiers {
        // Positions are `u32`s (see `Positions::new`).
        0..self.node_count() as u32
    }
}

impl NodeIndexable for Adjacency {
    fn node_bound(&self) -> usize {
        self.node_count()
    }

    fn to_index(&self, n: u32) -> usize {
        n as usize
    }

    fn from_index(&self, i: usize) -> u32 {
        i as u32
    }
}

/// Which nodes a traversal of an [`Adjacency`] has seen.
#[derive(Clone, Debug)]
pub struct Seen(Vec<bool>);

impl VisitMap<u32> for Seen {
    fn visit(&mut self, n: u32) -> bool {
        !std::mem::replace(&mut self.0[n as usize], true)
    }

    fn is_visited(&self, n: &u32) -> bool {
        self.0[*n as usize]
    }

    fn unvisit(&mut self, n: u32) -> bool {
        std::mem::replace(&mut self.0[n as usize], false)
    }
}

impl Visitable for Adjacency {
    type Map = Seen;

    fn visit_map(&self) -> Seen {
        Seen(vec![false; self.node_count()])
    }

    fn reset_map(&self, map: &mut Seen) {
        map.0.clear();
        map.0.resize(self.node_count(), false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::PeerNetwork;
    use crate::graph::fixture;
    use petgraph::algo::tarjan_scc;
    use petgraph::visit::Bfs;

    #[test]
    fn keeps_the_filtered_edges_by_source_in_order() {
        let data = fixture::four_nodes();
        let positions = Positions::new(&data);
        let all = Adjacency::build(&data, &positions, |_, _, _| true);
        assert_eq!(all.node_count(), data.nodes.len());
        let known = data.edges.iter().filter(|e| positions.edge(e).is_some());
        assert_eq!(all.edge_count(), known.clone().count());
        for s in 0..all.node_count() {
            let expected: Vec<u32> = known
                .clone()
                .filter_map(|e| positions.edge(e))
                .filter(|&(es, _)| es == s)
                .map(|(_, d)| d as u32)
                .collect();
            assert_eq!(all.targets(s as u32), expected.as_slice(), "node {s}");
        }
        let cut = Adjacency::build(&data, &positions, |e, _, _| e.network == PeerNetwork::Cut);
        let cut_edges = data
            .edges
            .iter()
            .filter(|e| e.network == PeerNetwork::Cut && positions.edge(e).is_some())
            .count();
        assert_eq!(cut.edge_count(), cut_edges);
        assert!(cut.edge_count() < all.edge_count());
        assert!(cut.targets(99).is_empty());
    }

    #[test]
    fn dangling_edges_are_left_out() {
        let mut data = fixture::four_nodes();
        let before = Adjacency::build(&data, &Positions::new(&data), |_, _, _| true).edge_count();
        data.edges.push(fixture::edge(3, 42, PeerNetwork::Cut));
        data.edges.push(fixture::edge(42, 0, PeerNetwork::Cut));
        assert_eq!(
            Adjacency::build(&data, &Positions::new(&data), |_, _, _| true).edge_count(),
            before
        );
    }

    #[test]
    fn petgraph_algorithms_agree_with_a_digraph_of_the_same_edges() {
        let data = fixture::four_nodes();
        let adj = Adjacency::build(&data, &Positions::new(&data), |_, _, _| true);
        let mut g = petgraph::graph::DiGraph::<(), ()>::new();
        let nodes: Vec<_> = (0..adj.node_count()).map(|_| g.add_node(())).collect();
        for s in 0..adj.node_count() {
            for &d in adj.targets(s as u32) {
                g.add_edge(nodes[s], nodes[d as usize], ());
            }
        }
        let mut ours: Vec<Vec<usize>> = tarjan_scc(&adj)
            .into_iter()
            .map(|c| {
                let mut c: Vec<usize> = c.into_iter().map(|n| n as usize).collect();
                c.sort_unstable();
                c
            })
            .collect();
        let mut theirs: Vec<Vec<usize>> = tarjan_scc(&g)
            .into_iter()
            .map(|c| {
                let mut c: Vec<usize> = c.into_iter().map(|n| n.index()).collect();
                c.sort_unstable();
                c
            })
            .collect();
        ours.sort();
        theirs.sort();
        assert_eq!(ours, theirs);
        for (start, &node) in nodes.iter().enumerate() {
            let mut a = Vec::new();
            let mut bfs = Bfs::new(&adj, start as u32);
            while let Some(n) = bfs.next(&adj) {
                a.push(n as usize);
            }
            let mut b = Vec::new();
            let mut bfs = Bfs::new(&g, node);
            while let Some(n) = bfs.next(&g) {
                b.push(n.index());
            }
            a.sort_unstable();
            b.sort_unstable();
            assert_eq!(a, b, "reach from {start}");
        }
    }
}
