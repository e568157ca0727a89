//! Comparing a stored crawl with a simulator's ground truth, exactly.
//!
//! The demo prints this comparison and the integration tests assert on it: every node and
//! every edge the perfect crawler would find, per network, and nothing else.

use std::collections::{BTreeMap, BTreeSet};

use crate::simnet::truth::ExpectedCrawl;
use crate::store::CrawlData;

/// An edge as compared: (source, destination, network kind, chain).
pub type EdgeKey = (String, String, String, Option<u16>);

/// How one network's edges compare.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct NetworkComparison {
    /// `cut` or `chain:N`.
    pub network: String,
    /// Edges in the ground truth.
    pub expected: usize,
    /// Edges the crawl found.
    pub found: usize,
    /// Edges found that are also in the ground truth.
    pub matched: usize,
}

impl NetworkComparison {
    /// Share of the ground truth's edges that were found (1 when there were none).
    pub fn recall(&self) -> f64 {
        ratio(self.matched, self.expected)
    }

    /// Share of the edges found that are in the ground truth (1 when none were found).
    pub fn precision(&self) -> f64 {
        ratio(self.matched, self.found)
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

/// The whole comparison.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Comparison {
    /// Per network, cut first, then chains in order.
    pub networks: Vec<NetworkComparison>,
    /// Nodes in the ground truth's discoverable set.
    pub nodes_expected: usize,
    /// Nodes in the crawl.
    pub nodes_found: usize,
    /// Nodes in both.
    pub nodes_matched: usize,
    /// Nodes whose reachability differs from the truth (live but not reachable, or the
    /// reverse), by address.
    pub reachability_mismatches: Vec<String>,
    /// Up to 20 expected edges the crawl missed, for diagnosis.
    pub missing_sample: Vec<EdgeKey>,
    /// Up to 20 edges the crawl found that the truth does not have.
    pub extra_sample: Vec<EdgeKey>,
}

impl Comparison {
    /// True when nodes, reachability and every network's edges match exactly.
    pub fn is_exact(&self) -> bool {
        self.nodes_expected == self.nodes_matched
            && self.nodes_found == self.nodes_matched
            && self.reachability_mismatches.is_empty()
            && self
                .networks
                .iter()
                .all(|n| n.matched == n.expected && n.matched == n.found)
    }

    /// A short human-readable report.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "ground truth comparison: nodes {}/{} found, {} extra, {} reachability mismatches\n",
            self.nodes_matched,
            self.nodes_expected,
            self.nodes_found - self.nodes_matched,
            self.reachability_mismatches.len()
        );
        let (mut e, mut f, mut m) = (0, 0, 0);
        for n in &self.networks {
            e += n.expected;
            f += n.found;
            m += n.matched;
        }
        let all = NetworkComparison {
            network: "all".into(),
            expected: e,
            found: f,
            matched: m,
        };
        for n in self.networks.iter().take(1).chain(std::iter::once(&all)) {
            s.push_str(&format!(
                "  {:<8} edges expected {:>7}  found {:>7}  recall {:>7.3}%  precision {:>7.3}%\n",
                n.network,
                n.expected,
                n.found,
                n.recall() * 100.0,
                n.precision() * 100.0
            ));
        }
        let worst = self.networks.iter().min_by(|a, b| {
            a.recall()
                .min(a.precision())
                .total_cmp(&b.recall().min(b.precision()))
        });
        if let Some(w) = worst {
            s.push_str(&format!(
                "  worst network {}: recall {:.3}%, precision {:.3}%\n",
                w.network,
                w.recall() * 100.0,
                w.precision() * 100.0
            ));
        }
        s.push_str(if self.is_exact() {
            "  result: EXACT match with the ground truth\n"
        } else {
            "  result: MISMATCH\n"
        });
        s
    }
}

fn net_label(kind: &str, chain: Option<u16>) -> String {
    match chain {
        Some(c) => format!("chain:{c}"),
        None => kind.to_string(),
    }
}

/// Compares a stored crawl with what a perfect crawler would have found.
pub fn compare(expected: &ExpectedCrawl, data: &CrawlData) -> Comparison {
    compare_well_behaved(expected, data, &BTreeSet::new())
}

/// Compares the well-behaved part of a stored crawl with the ground truth: edges served by
/// the `faulty` addresses, and nodes met only through them, are left out (the hostile test
/// checks those fault by fault); the faulty nodes themselves are compared as nodes.
pub fn compare_well_behaved(
    expected: &ExpectedCrawl,
    data: &CrawlData,
    faulty: &BTreeSet<String>,
) -> Comparison {
    let text: Vec<String> = data.nodes.iter().map(|n| n.address_text()).collect();
    let kept_edge = |src: u32| text.get(src as usize).is_some_and(|a| !faulty.contains(a));
    let mut kept_node: Vec<bool> = data.nodes.iter().map(|n| n.bootstrap).collect();
    for e in &data.edges {
        if kept_edge(e.src)
            && let Some(k) = kept_node.get_mut(e.dst as usize)
        {
            *k = true;
        }
    }
    let data = CrawlData {
        crawl: data.crawl.clone(),
        nodes: data
            .nodes
            .iter()
            .zip(&kept_node)
            .map(|(n, &k)| {
                let mut n = n.clone();
                if !k {
                    // Renamed out of the comparison, keeping node numbers in place.
                    n.hostname = String::new();
                }
                n
            })
            .collect(),
        edges: data
            .edges
            .iter()
            .filter(|e| kept_edge(e.src))
            .cloned()
            .collect(),
    };
    compare_all(expected, &data)
}

fn compare_all(expected: &ExpectedCrawl, data: &CrawlData) -> Comparison {
    let addr = |i: u32| -> String {
        data.nodes
            .get(i as usize)
            .map(|n| n.address_text())
            .unwrap_or_default()
    };
    let found_nodes: BTreeMap<String, Option<bool>> = data
        .nodes
        .iter()
        .filter(|n| !n.hostname.is_empty())
        .map(|n| (n.address_text(), n.reachable))
        .collect();
    let found_edges: BTreeSet<EdgeKey> = data
        .edges
        .iter()
        .map(|e| {
            (
                addr(e.src),
                addr(e.dst),
                e.network.kind().to_string(),
                e.network.chain().map(|c| c.0),
            )
        })
        .collect();
    let mut per: BTreeMap<(u8, u16), NetworkComparison> = BTreeMap::new();
    let key = |e: &EdgeKey| match e.3 {
        None => (0u8, 0u16),
        Some(c) => (1, c),
    };
    for e in &expected.edges {
        let n = per.entry(key(e)).or_default();
        n.network = net_label(&e.2, e.3);
        n.expected += 1;
        if found_edges.contains(e) {
            n.matched += 1;
        }
    }
    for e in &found_edges {
        let n = per.entry(key(e)).or_default();
        n.network = net_label(&e.2, e.3);
        n.found += 1;
    }
    let nodes_matched = expected
        .nodes
        .keys()
        .filter(|a| found_nodes.contains_key(*a))
        .count();
    let reachability_mismatches = expected
        .nodes
        .iter()
        .filter(|(a, want)| found_nodes.get(*a).is_some_and(|got| got != *want))
        .map(|(a, _)| a.clone())
        .collect();
    Comparison {
        networks: per.into_values().collect(),
        nodes_expected: expected.nodes.len(),
        nodes_found: found_nodes.len(),
        nodes_matched,
        reachability_mismatches,
        missing_sample: expected
            .edges
            .difference(&found_edges)
            .take(20)
            .cloned()
            .collect(),
        extra_sample: found_edges
            .difference(&expected.edges)
            .take(20)
            .cloned()
            .collect(),
    }
}
