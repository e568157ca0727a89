//! Sub-crawls for exports: one peer network, reachable nodes only, nodes of one version.

use crate::api::{ChainId, PeerNetwork};
use crate::store::CrawlData;

/// Which peer networks to keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum NetworkFilter {
    /// Every network.
    #[default]
    All,
    /// The cut network.
    Cut,
    /// Every chain's mempool network.
    Mempool,
    /// One chain's mempool network.
    Chain(ChainId),
}

impl NetworkFilter {
    /// Whether an edge of `network` is kept.
    pub fn keeps(self, network: PeerNetwork) -> bool {
        match (self, network) {
            (NetworkFilter::All, _) => true,
            (NetworkFilter::Cut, PeerNetwork::Cut) => true,
            (NetworkFilter::Mempool, PeerNetwork::Mempool(_)) => true,
            (NetworkFilter::Chain(c), PeerNetwork::Mempool(m)) => c == m,
            _ => false,
        }
    }
}

impl std::str::FromStr for NetworkFilter {
    type Err = String;

    /// `all`, `cut`, `mempool` or `chain:N`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "all" => Ok(NetworkFilter::All),
            "cut" => Ok(NetworkFilter::Cut),
            "mempool" => Ok(NetworkFilter::Mempool),
            _ => s
                .strip_prefix("chain:")
                .and_then(|c| c.parse::<u16>().ok())
                .map(|c| NetworkFilter::Chain(ChainId(c)))
                .ok_or_else(|| format!("expected cut, mempool, chain:N or all, got {s:?}")),
        }
    }
}

/// What an export keeps.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Filter {
    /// The peer networks whose edges are kept; with anything but `All`, only nodes that
    /// are an endpoint of a kept edge remain.
    pub network: NetworkFilter,
    /// Keep only nodes with `reachable = 1`.
    pub reachable_only: bool,
    /// Keep only nodes whose `node_version` starts with this.
    pub version_prefix: Option<String>,
}

impl Filter {
    /// Whether the filter keeps everything.
    pub fn is_all(&self) -> bool {
        *self == Filter::default()
    }

    /// The crawl with only the kept nodes, and the kept edges between them.
    pub fn apply(&self, data: &CrawlData) -> CrawlData {
        let node_ok = |n: &crate::store::NodeRow| {
            (!self.reachable_only || n.reachable == Some(true))
                && self
                    .version_prefix
                    .as_deref()
                    .is_none_or(|p| n.node_version.as_deref().is_some_and(|v| v.starts_with(p)))
        };
        let max = data
            .nodes
            .iter()
            .map(|n| n.node as usize + 1)
            .max()
            .unwrap_or(0);
        let mut keep = vec![false; max];
        for n in &data.nodes {
            keep[n.node as usize] = node_ok(n);
        }
        let kept = |i: u32| keep.get(i as usize).copied().unwrap_or(false);
        let edges: Vec<_> = data
            .edges
            .iter()
            .filter(|e| self.network.keeps(e.network) && kept(e.src) && kept(e.dst))
            .copied()
            .collect();
        let mut in_network = vec![self.network == NetworkFilter::All; max];
        for e in &edges {
            in_network[e.src as usize] = true;
            in_network[e.dst as usize] = true;
        }
        let nodes = data
            .nodes
            .iter()
            .filter(|n| kept(n.node) && in_network[n.node as usize])
            .cloned()
            .collect();
        CrawlData {
            crawl: data.crawl.clone(),
            nodes,
            edges,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::fixture;

    #[test]
    fn filters_nodes_and_edges() {
        let data = fixture::four_nodes();
        assert_eq!(Filter::default().apply(&data), data);
        assert_eq!("chain:3".parse(), Ok(NetworkFilter::Chain(ChainId(3))));
        assert!("chain:x".parse::<NetworkFilter>().is_err());
        let cut = Filter {
            network: NetworkFilter::Cut,
            ..Filter::default()
        }
        .apply(&data);
        assert!(cut.edges.iter().all(|e| e.network == PeerNetwork::Cut));
        assert!(!cut.edges.is_empty());
        let reachable = Filter {
            reachable_only: true,
            ..Filter::default()
        }
        .apply(&data);
        assert!(reachable.nodes.iter().all(|n| n.reachable == Some(true)));
        assert!(reachable.nodes.len() < data.nodes.len());
        let none = Filter {
            version_prefix: Some("no-such-version".into()),
            ..Filter::default()
        }
        .apply(&data);
        assert!(none.nodes.is_empty() && none.edges.is_empty());
    }
}
