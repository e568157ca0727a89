//! Summary statistics of one crawl, as a stable JSON shape and an aligned text table.
//!
//! # JSON shape
//! [`Stats`] serializes (serde) to one object; every field below is always present (absent
//! values are `null`), maps are sorted by key, and new fields are only ever added.
//!
//! ```text
//! {
//!   "crawl":   { "id", "network", "status", "started_at", "ended_at" },
//!   "nodes":   { "known", "contacted", "reachable", "incomplete",
//!                "incomplete_by_reason": {reason: n}, "failed", "failed_by_reason": {reason: n},
//!                "skipped", "skipped_by_reason": {reason: n}, "bootstrap" },
//!   "edges":   { "total", "cut", "mempool", "mempool_by_chain": {"<chain>": n} },
//!   "reach":   { "from_bootstrap_cut", "from_bootstrap_all" },
//!   "cut_components": { "count", "largest" },
//!   "cut_in_degree":  { "count", "min", "max", "mean", "median",
//!                       "histogram": [ { "min", "max", "count" } ] },
//!   "cut_out_degree": { same as cut_in_degree },
//!   "node_versions":  { version: n },
//!   "clock_skew": { "count", "min", "median", "max", "mean", "over_60s" }
//! }
//! ```
//!
//! # Definitions
//! - *contacted*: `reachable` is not NULL; *failed*: `reachable = 0` (by `error`, `unknown`
//!   when none); *skipped*: not contacted (by `error`, `unspecified` when none);
//!   *incomplete*: reachable nodes that carry an `error`, i.e. some list of theirs could not
//!   be read to its end, so their out-edges are a lower bound.
//! - *reach*: nodes reachable from the bootstrap nodes (included) following cut edges, and
//!   following edges of every network.
//! - *cut_components*: strongly connected components of the cut network induced on the
//!   reachable nodes (singletons count).
//! - *cut_out_degree*: cut entries advertised, over the reachable nodes (only they served
//!   lists); *cut_in_degree*: cut entries advertising a node, over all known nodes.
//!   Histogram buckets are log2: `[0, 0]`, `[1, 1]`, `[2, 3]`, `[4, 7]`, …, up to the
//!   bucket of the maximum, empty buckets included.
//! - *node_versions*: among reachable nodes; `unknown` when none was sent.
//! - *clock_skew*: `clock_skew_s` (server time minus ours, seconds) over nodes that have one;
//!   `over_60s` counts `|skew| > 60`.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;

use petgraph::algo::tarjan_scc;
use petgraph::visit::{Bfs, VisitMap, Visitable};
use serde::Serialize;

use super::Positions;
use super::adjacency::Adjacency;
use crate::api::PeerNetwork;
use crate::store::CrawlData;

/// Longest version or reason text printed in the table; nodes choose these strings.
const LABEL_MAX: usize = 80;

/// Statistics of one crawl. See the module docs for the JSON shape and definitions.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Stats {
    /// Which crawl.
    pub crawl: CrawlInfo,
    /// Node counts.
    pub nodes: NodeStats,
    /// Edge counts.
    pub edges: EdgeStats,
    /// Reachability from the bootstrap nodes.
    pub reach: ReachStats,
    /// Strongly connected components of the cut network among reachable nodes.
    pub cut_components: ComponentStats,
    /// In-degrees in the cut network, over all known nodes.
    pub cut_in_degree: Distribution,
    /// Out-degrees in the cut network, over reachable nodes.
    pub cut_out_degree: Distribution,
    /// Node version → number of reachable nodes.
    pub node_versions: BTreeMap<String, u64>,
    /// Clock skew of the nodes that reported a server timestamp.
    pub clock_skew: SkewStats,
}

/// Identification of the crawl.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CrawlInfo {
    /// Crawl id.
    pub id: i64,
    /// Chainweb network name.
    pub network: String,
    /// `running`, `complete`, `interrupted` or `failed`.
    pub status: String,
    /// Start, ISO-8601 UTC.
    pub started_at: String,
    /// End, ISO-8601 UTC.
    pub ended_at: Option<String>,
}

/// Node counts.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct NodeStats {
    /// Nodes known (bootstrap or advertised).
    pub known: u64,
    /// Nodes the crawler tried to contact.
    pub contacted: u64,
    /// Nodes that answered their peer lists.
    pub reachable: u64,
    /// Reachable nodes of which some list could not be read to its end (a failed list, a
    /// cap such as `--max-pages-per-list`, a cursor loop): their edges are incomplete.
    pub incomplete: u64,
    /// Incomplete reachable nodes per reason (the first list failure).
    pub incomplete_by_reason: BTreeMap<String, u64>,
    /// Nodes contacted without success.
    pub failed: u64,
    /// Failed nodes per reason.
    pub failed_by_reason: BTreeMap<String, u64>,
    /// Nodes not contacted.
    pub skipped: u64,
    /// Skipped nodes per reason.
    pub skipped_by_reason: BTreeMap<String, u64>,
    /// Nodes from the bootstrap list.
    pub bootstrap: u64,
}

/// Edge counts.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct EdgeStats {
    /// All advertised entries.
    pub total: u64,
    /// Entries of cut lists.
    pub cut: u64,
    /// Entries of all mempool lists.
    pub mempool: u64,
    /// Entries of mempool lists per chain id.
    pub mempool_by_chain: BTreeMap<u16, u64>,
}

/// Reachability from the bootstrap set.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ReachStats {
    /// Nodes reachable following cut edges, bootstrap nodes included.
    pub from_bootstrap_cut: u64,
    /// Nodes reachable following edges of any network, bootstrap nodes included.
    pub from_bootstrap_all: u64,
}

/// Strongly connected components.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ComponentStats {
    /// Number of components (singletons included).
    pub count: u64,
    /// Nodes in the largest one (0 when there are no nodes).
    pub largest: u64,
}

/// A distribution of non-negative integers.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Distribution {
    /// Number of values.
    pub count: u64,
    /// Smallest value.
    pub min: Option<u64>,
    /// Largest value.
    pub max: Option<u64>,
    /// Arithmetic mean.
    pub mean: Option<f64>,
    /// Median (mean of the two middle values for an even count).
    pub median: Option<f64>,
    /// Log2 buckets from `[0, 0]` up to the bucket of `max`.
    pub histogram: Vec<Bucket>,
}

/// One histogram bucket: how many values lie in `min..=max`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Bucket {
    /// Smallest value of the bucket.
    pub min: u64,
    /// Largest value of the bucket.
    pub max: u64,
    /// Values in it.
    pub count: u64,
}

/// Clock skew summary, seconds.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SkewStats {
    /// Nodes with a skew.
    pub count: u64,
    /// Smallest skew.
    pub min: Option<f64>,
    /// Median skew.
    pub median: Option<f64>,
    /// Largest skew.
    pub max: Option<f64>,
    /// Mean skew.
    pub mean: Option<f64>,
    /// Nodes with `|skew| > 60` s.
    pub over_60s: u64,
}

impl Distribution {
    /// The distribution of `values`.
    pub fn of(mut values: Vec<u64>) -> Distribution {
        values.sort_unstable();
        let count = values.len() as u64;
        let (Some(&min), Some(&max)) = (values.first(), values.last()) else {
            return Distribution::default();
        };
        let sum: u128 = values.iter().map(|&v| u128::from(v)).sum();
        let mut histogram: Vec<Bucket> = (0..=bucket_of(max))
            .map(|b| {
                let (lo, hi) = bucket_bounds(b);
                Bucket {
                    min: lo,
                    max: hi,
                    count: 0,
                }
            })
            .collect();
        for &v in &values {
            histogram[bucket_of(v)].count += 1;
        }
        Distribution {
            count,
            min: Some(min),
            max: Some(max),
            mean: Some(sum as f64 / count as f64),
            median: median_sorted(&values.iter().map(|&v| v as f64).collect::<Vec<_>>()),
            histogram,
        }
    }
}

/// Log2 bucket of a value: 0 holds 0, bucket k ≥ 1 holds `2^(k-1) ..= 2^k - 1`.
fn bucket_of(v: u64) -> usize {
    (u64::BITS - v.leading_zeros()) as usize
}

fn bucket_bounds(b: usize) -> (u64, u64) {
    match b {
        0 => (0, 0),
        64 => (1 << 63, u64::MAX),
        b => (1 << (b - 1), (1 << b) - 1),
    }
}

fn median_sorted(values: &[f64]) -> Option<f64> {
    let n = values.len();
    match n {
        0 => None,
        n if n % 2 == 1 => Some(values[n / 2]),
        n => Some((values[n / 2 - 1] + values[n / 2]) / 2.0),
    }
}

/// How many nodes a breadth-first search from every node of `starts` reaches, the starts
/// included.
fn reach_count(adj: &Adjacency, starts: &[usize]) -> u64 {
    let mut bfs = Bfs {
        stack: VecDeque::new(),
        discovered: adj.visit_map(),
    };
    for &s in starts {
        // Positions come from `u32`s (see `Positions::new`).
        let s = s as u32;
        if bfs.discovered.visit(s) {
            bfs.stack.push_back(s);
        }
    }
    let mut count = 0;
    while bfs.next(adj).is_some() {
        count += 1;
    }
    count
}

impl Stats {
    /// Computes the statistics of a crawl.
    pub fn compute(data: &CrawlData) -> Stats {
        let positions = Positions::new(data);
        let reachable: Vec<bool> = data
            .nodes
            .iter()
            .map(|n| n.reachable == Some(true))
            .collect();

        let mut nodes = NodeStats {
            known: data.nodes.len() as u64,
            ..NodeStats::default()
        };
        let mut node_versions = BTreeMap::new();
        let mut skews = Vec::new();
        for n in &data.nodes {
            if n.bootstrap {
                nodes.bootstrap += 1;
            }
            match n.reachable {
                Some(true) => {
                    nodes.contacted += 1;
                    nodes.reachable += 1;
                    if let Some(r) = &n.error {
                        nodes.incomplete += 1;
                        *nodes.incomplete_by_reason.entry(r.clone()).or_insert(0) += 1;
                    }
                    let v = n.node_version.as_deref().unwrap_or("unknown").to_string();
                    *node_versions.entry(v).or_insert(0) += 1;
                }
                Some(false) => {
                    nodes.contacted += 1;
                    nodes.failed += 1;
                    let r = n.error.as_deref().unwrap_or("unknown").to_string();
                    *nodes.failed_by_reason.entry(r).or_insert(0) += 1;
                }
                None => {
                    nodes.skipped += 1;
                    let r = n.error.as_deref().unwrap_or("unspecified").to_string();
                    *nodes.skipped_by_reason.entry(r).or_insert(0) += 1;
                }
            }
            if let Some(s) = n.clock_skew_s.filter(|s| s.is_finite()) {
                skews.push(s);
            }
        }

        let mut edges = EdgeStats::default();
        let mut in_degree = vec![0u64; data.nodes.len()];
        let mut out_degree = vec![0u64; data.nodes.len()];
        for e in &data.edges {
            edges.total += 1;
            match e.network {
                PeerNetwork::Cut => {
                    edges.cut += 1;
                    if let Some((s, d)) = positions.edge(e) {
                        out_degree[s] += 1;
                        in_degree[d] += 1;
                    }
                }
                PeerNetwork::Mempool(chain) => {
                    edges.mempool += 1;
                    *edges.mempool_by_chain.entry(chain.0).or_insert(0) += 1;
                }
            }
        }
        // The cut network among reachable nodes, for the components. Unreachable nodes have
        // no edges in it, so each is a singleton component of its own; leave those out.
        let cut = Adjacency::build(data, &positions, |e, s, d| {
            e.network == PeerNetwork::Cut && reachable[s] && reachable[d]
        });
        let sccs: Vec<Vec<u32>> = tarjan_scc(&cut)
            .into_iter()
            .filter(|c| c.first().is_some_and(|&n| reachable[n as usize]))
            .collect();
        drop(cut);
        let cut_components = ComponentStats {
            count: sccs.len() as u64,
            largest: sccs.iter().map(Vec::len).max().unwrap_or(0) as u64,
        };

        let bootstrap: Vec<usize> = (0..data.nodes.len())
            .filter(|&i| data.nodes[i].bootstrap)
            .collect();
        // One adjacency at a time, so only one is ever held.
        let reach = ReachStats {
            from_bootstrap_cut: reach_count(
                &Adjacency::build(data, &positions, |e, _, _| e.network == PeerNetwork::Cut),
                &bootstrap,
            ),
            from_bootstrap_all: reach_count(
                &Adjacency::build(data, &positions, |_, _, _| true),
                &bootstrap,
            ),
        };

        skews.sort_by(f64::total_cmp);
        let clock_skew = SkewStats {
            count: skews.len() as u64,
            min: skews.first().copied(),
            median: median_sorted(&skews),
            max: skews.last().copied(),
            mean: (!skews.is_empty()).then(|| skews.iter().sum::<f64>() / skews.len() as f64),
            over_60s: skews.iter().filter(|s| s.abs() > 60.0).count() as u64,
        };

        Stats {
            crawl: CrawlInfo {
                id: data.crawl.id.0,
                network: data.crawl.network.name().to_string(),
                status: data.crawl.status.as_str().to_string(),
                started_at: data.crawl.started_at.clone(),
                ended_at: data.crawl.ended_at.clone(),
            },
            nodes,
            edges,
            reach,
            cut_components,
            cut_in_degree: Distribution::of(in_degree),
            cut_out_degree: Distribution::of(
                out_degree
                    .iter()
                    .zip(&reachable)
                    .filter(|(_, r)| **r)
                    .map(|(d, _)| *d)
                    .collect(),
            ),
            node_versions,
            clock_skew,
        }
    }

    /// Pretty JSON ending with a newline.
    ///
    /// # Errors
    /// Only if serialization fails, which plain data cannot make it do.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        let mut s = serde_json::to_string_pretty(self)?;
        s.push('\n');
        Ok(s)
    }

    /// A readable plain-text table, labels aligned, ending with a newline. Strings a peer
    /// controls (node versions) have control characters shown as `\u{..}` escapes.
    pub fn to_table(&self) -> String {
        let mut rows: Vec<(String, String)> = Vec::new();
        let mut row = |label: &str, value: String| rows.push((label.to_string(), value));
        let c = &self.crawl;
        row("crawl", format!("{} ({}, {})", c.id, c.network, c.status));
        row(
            "time",
            format!(
                "{} .. {}",
                c.started_at,
                c.ended_at.as_deref().unwrap_or("-")
            ),
        );
        let n = &self.nodes;
        row("nodes known", n.known.to_string());
        row("  bootstrap", n.bootstrap.to_string());
        row("  contacted", n.contacted.to_string());
        row("    reachable", n.reachable.to_string());
        if n.incomplete > 0 {
            row("      lists incomplete", n.incomplete.to_string());
            for (reason, count) in &n.incomplete_by_reason {
                row(
                    &format!("        {}", crate::sanitize::sanitize(reason, LABEL_MAX)),
                    count.to_string(),
                );
            }
        }
        row("    failed", n.failed.to_string());
        for (reason, count) in &n.failed_by_reason {
            row(
                &format!("      {}", crate::sanitize::sanitize(reason, LABEL_MAX)),
                count.to_string(),
            );
        }
        row("  not contacted", n.skipped.to_string());
        for (reason, count) in &n.skipped_by_reason {
            row(
                &format!("    {}", crate::sanitize::sanitize(reason, LABEL_MAX)),
                count.to_string(),
            );
        }
        let e = &self.edges;
        row("edges", e.total.to_string());
        row("  cut", e.cut.to_string());
        row("  mempool", e.mempool.to_string());
        for (chain, count) in &e.mempool_by_chain {
            row(&format!("    chain {chain}"), count.to_string());
        }
        row("reachable from bootstrap", String::new());
        row("  via cut edges", self.reach.from_bootstrap_cut.to_string());
        row("  via all edges", self.reach.from_bootstrap_all.to_string());
        row("cut network, reachable nodes", String::new());
        row("  components (SCC)", self.cut_components.count.to_string());
        row(
            "  largest component",
            self.cut_components.largest.to_string(),
        );
        row("cut in-degree (all nodes)", summary(&self.cut_in_degree));
        row("  histogram", histogram(&self.cut_in_degree));
        row("cut out-degree (reachable)", summary(&self.cut_out_degree));
        row("  histogram", histogram(&self.cut_out_degree));
        row("node versions (reachable)", String::new());
        for (version, count) in &self.node_versions {
            row(
                &format!("  {}", crate::sanitize::sanitize(version, LABEL_MAX)),
                count.to_string(),
            );
        }
        let s = &self.clock_skew;
        row(
            "clock skew (s)",
            if s.count == 0 {
                "n=0".to_string()
            } else {
                format!(
                    "n={} min={} median={} mean={} max={} |skew|>60s: {}",
                    s.count,
                    num(s.min),
                    num(s.median),
                    num(s.mean),
                    num(s.max),
                    s.over_60s
                )
            },
        );

        let width = rows
            .iter()
            .map(|(l, _)| l.chars().count())
            .max()
            .unwrap_or(0);
        let mut out = String::new();
        for (label, value) in rows {
            if value.is_empty() {
                let _ = writeln!(out, "{label}");
            } else {
                let pad = width - label.chars().count();
                let _ = writeln!(out, "{label}{:pad$}  {value}", "");
            }
        }
        out
    }
}

fn num(v: Option<f64>) -> String {
    match v {
        Some(v) => format!("{v:.2}"),
        None => "-".to_string(),
    }
}

fn summary(d: &Distribution) -> String {
    if d.count == 0 {
        return "n=0".to_string();
    }
    format!(
        "n={} min={} median={} mean={} max={}",
        d.count,
        d.min.unwrap_or(0),
        num(d.median),
        num(d.mean),
        d.max.unwrap_or(0)
    )
}

fn histogram(d: &Distribution) -> String {
    let parts: Vec<String> = d
        .histogram
        .iter()
        .map(|b| {
            if b.min == b.max {
                format!("{}:{}", b.min, b.count)
            } else {
                format!("{}-{}:{}", b.min, b.max, b.count)
            }
        })
        .collect();
    if parts.is_empty() {
        "-".to_string()
    } else {
        parts.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::fixture::{self, assert_text_eq, edge};
    use crate::store::NodeRow;

    /// Seven nodes: cut cycles 0→1→2→0 and 3↔4, 5→0, and 0→6 where 6 is unreachable.
    fn components_fixture() -> CrawlData {
        let node = |n: u32, reachable: Option<bool>| NodeRow {
            node: n,
            hostname: format!("10.0.0.{n}"),
            port: 443,
            reachable,
            bootstrap: n == 3,
            ..NodeRow::default()
        };
        let cut = PeerNetwork::Cut;
        let mut nodes: Vec<NodeRow> = (0..6).map(|n| node(n, Some(true))).collect();
        nodes.push(node(6, Some(false)));
        CrawlData {
            crawl: fixture::record(),
            nodes,
            edges: vec![
                edge(0, 1, cut),
                edge(0, 6, cut),
                edge(1, 2, cut),
                edge(2, 0, cut),
                edge(3, 4, cut),
                edge(4, 3, cut),
                edge(5, 0, cut),
            ],
        }
    }

    #[test]
    fn components_and_degrees() {
        let s = Stats::compute(&components_fixture());
        assert_eq!(
            s.cut_components,
            ComponentStats {
                count: 3,
                largest: 3
            }
        );
        // Out-degree over the 6 reachable nodes: 0 has 2, the others 1.
        let out = &s.cut_out_degree;
        assert_eq!((out.count, out.min, out.max), (6, Some(1), Some(2)));
        assert_eq!(out.median, Some(1.0));
        assert!((out.mean.unwrap() - 7.0 / 6.0).abs() < 1e-12);
        // In-degree over all 7 nodes: [2, 1, 1, 1, 1, 0, 1].
        let inn = &s.cut_in_degree;
        assert_eq!((inn.count, inn.min, inn.max), (7, Some(0), Some(2)));
        assert_eq!((inn.mean, inn.median), (Some(1.0), Some(1.0)));
        assert_eq!(
            inn.histogram,
            vec![
                Bucket {
                    min: 0,
                    max: 0,
                    count: 1
                },
                Bucket {
                    min: 1,
                    max: 1,
                    count: 5
                },
                Bucket {
                    min: 2,
                    max: 3,
                    count: 1
                },
            ]
        );
        // The bootstrap node 3 reaches only 4.
        assert_eq!(s.reach.from_bootstrap_cut, 2);
        assert_eq!(s.nodes.failed_by_reason.get("unknown"), Some(&1));
    }

    #[test]
    fn histogram_buckets_are_log2() {
        let d = Distribution::of(vec![0, 1, 2, 3, 4, 7, 8, 1000]);
        let buckets: Vec<(u64, u64, u64)> = d
            .histogram
            .iter()
            .map(|b| (b.min, b.max, b.count))
            .collect();
        assert_eq!(
            buckets,
            vec![
                (0, 0, 1),
                (1, 1, 1),
                (2, 3, 2),
                (4, 7, 2),
                (8, 15, 1),
                (16, 31, 0),
                (32, 63, 0),
                (64, 127, 0),
                (128, 255, 0),
                (256, 511, 0),
                (512, 1023, 1),
            ]
        );
        assert_eq!(d.median, Some(3.5));
        assert_eq!(Distribution::of(vec![]), Distribution::default());
        assert_eq!(bucket_bounds(bucket_of(u64::MAX)), (1 << 63, u64::MAX));
    }

    #[test]
    fn reachable_nodes_with_a_list_failure_count_as_incomplete() {
        let mut data = fixture::four_nodes();
        let n = data
            .nodes
            .iter_mut()
            .find(|n| n.reachable == Some(true))
            .expect("a reachable node");
        n.error = Some("too_many_pages".into());
        let s = Stats::compute(&data);
        assert_eq!(s.nodes.reachable, 2, "still reachable");
        assert_eq!(s.nodes.incomplete, 1);
        assert_eq!(s.nodes.incomplete_by_reason.get("too_many_pages"), Some(&1));
        assert!(s.to_table().contains("lists incomplete"));
    }

    #[test]
    fn four_node_stats_json_and_table() {
        let s = Stats::compute(&fixture::four_nodes());
        assert_eq!(s.nodes.known, 4);
        assert_eq!(s.reach.from_bootstrap_cut, 4);
        let json = s.to_json().unwrap();
        assert_text_eq(
            r#"{
  "crawl": {
    "id": 1,
    "network": "mainnet01",
    "status": "complete",
    "started_at": "2026-01-31T12:00:00.000Z",
    "ended_at": "2026-01-31T12:01:00.000Z"
  },
  "nodes": {
    "known": 4,
    "contacted": 3,
    "reachable": 2,
    "incomplete": 0,
    "incomplete_by_reason": {},
    "failed": 1,
    "failed_by_reason": {
      "connect_refused": 1
    },
    "skipped": 1,
    "skipped_by_reason": {
      "policy_private": 1
    },
    "bootstrap": 1
  },
  "edges": {
    "total": 7,
    "cut": 4,
    "mempool": 3,
    "mempool_by_chain": {
      "0": 2,
      "5": 1
    }
  },
  "reach": {
    "from_bootstrap_cut": 4,
    "from_bootstrap_all": 4
  },
  "cut_components": {
    "count": 1,
    "largest": 2
  },
  "cut_in_degree": {
    "count": 4,
    "min": 1,
    "max": 1,
    "mean": 1.0,
    "median": 1.0,
    "histogram": [
      {
        "min": 0,
        "max": 0,
        "count": 0
      },
      {
        "min": 1,
        "max": 1,
        "count": 4
      }
    ]
  },
  "cut_out_degree": {
    "count": 2,
    "min": 1,
    "max": 3,
    "mean": 2.0,
    "median": 2.0,
    "histogram": [
      {
        "min": 0,
        "max": 0,
        "count": 0
      },
      {
        "min": 1,
        "max": 1,
        "count": 1
      },
      {
        "min": 2,
        "max": 3,
        "count": 1
      }
    ]
  },
  "node_versions": {
    "2.31": 2
  },
  "clock_skew": {
    "count": 2,
    "min": -90.0,
    "median": -44.25,
    "max": 1.5,
    "mean": -44.25,
    "over_60s": 1
  }
}
"#,
            &json,
        );
        assert_text_eq(
            "crawl                         1 (mainnet01, complete)
time                          2026-01-31T12:00:00.000Z .. 2026-01-31T12:01:00.000Z
nodes known                   4
  bootstrap                   1
  contacted                   3
    reachable                 2
    failed                    1
      connect_refused         1
  not contacted               1
    policy_private            1
edges                         7
  cut                         4
  mempool                     3
    chain 0                   2
    chain 5                   1
reachable from bootstrap
  via cut edges               4
  via all edges               4
cut network, reachable nodes
  components (SCC)            1
  largest component           2
cut in-degree (all nodes)     n=4 min=1 median=1.00 mean=1.00 max=1
  histogram                   0:0 1:4
cut out-degree (reachable)    n=2 min=1 median=2.00 mean=2.00 max=3
  histogram                   0:0 1:1 2-3:1
node versions (reachable)
  2.31                        2
clock skew (s)                n=2 min=-90.00 median=-44.25 mean=-44.25 max=1.50 |skew|>60s: 1
",
            &s.to_table(),
        );
    }
}
