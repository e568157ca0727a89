//! The topology map: which nodes and edges are drawn, where, and how they look.
//!
//! The layout is computed once, from the cut network, and shared by every view: switching
//! to a chain's mempool network redraws only the edges, so nodes stay where the eye left
//! them.
//!
//! # Staying usable at 10,000 nodes
//! - Above [`FULL_MAP_MAX`] known nodes only reachable and bootstrap nodes are drawn, and
//!   at most [`MAP_NODE_CAP`] of them (highest cut in-degree first).
//! - Each view draws at most [`CUT_EDGE_CAP`] (cut) or [`MEMPOOL_EDGE_CAP`] (one chain)
//!   undirected edges, the strongest first: mutual advertisements, then the endpoints'
//!   summed in-degree.
//! - All edges of a view are one SVG `<path>`; nodes are bare `<circle>`s whose details
//!   live in one JSON array read by the hover script.
//!
//! What was left out is counted and printed on the page.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::api::PeerNetwork;
use crate::graph::Positions;
use crate::sanitize::sanitize;
use crate::store::CrawlData;

use super::layout;

/// Up to this many known nodes, every node is drawn.
pub const FULL_MAP_MAX: usize = 3_000;
/// Most nodes drawn.
pub const MAP_NODE_CAP: usize = 10_000;
/// Most edges drawn in the cut view.
pub const CUT_EDGE_CAP: usize = 20_000;
/// Most edges drawn in one chain's mempool view.
pub const MEMPOOL_EDGE_CAP: usize = 4_000;
/// Colours for the most common versions; the rest share the last class.
pub const VERSION_COLOURS: usize = 8;
/// Seed of the layout's jitter.
const LAYOUT_SEED: u64 = 0x00c0_ffee;
/// The map's coordinate space is `0..VIEW` on both axes.
const VIEW: f64 = 1000.0;
const MARGIN: f64 = 20.0;

/// Hover details of one drawn node: address, id, version, skew, cut in- and out-degree,
/// status (`reachable`, `failed: <reason>`, `skipped: <reason>`), bootstrap.
#[derive(Serialize)]
struct NodeInfo(
    String,
    Option<String>,
    Option<String>,
    Option<f64>,
    u64,
    u64,
    String,
    bool,
);

/// One selectable network.
pub struct View {
    /// Shown in the selector.
    pub name: String,
    /// SVG path data of its drawn edges.
    pub d: String,
    /// What was drawn and left out.
    pub note: String,
}

/// A view as the script sees it.
#[derive(Serialize)]
struct ViewJson<'a> {
    name: &'a str,
    d: &'a str,
    note: &'a str,
}

#[derive(Serialize)]
struct MapJson<'a> {
    nodes: Vec<NodeInfo>,
    /// The cut view's path is already in the page's `<path>`, so its `d` is left empty
    /// here (the largest view, not carried twice).
    views: Vec<ViewJson<'a>>,
}

/// The drawn map.
pub struct Map {
    /// `<circle>` elements (the node layer).
    pub circles: String,
    /// Views: cut first, then each chain of the network.
    pub views: Vec<View>,
    /// The JSON data for the script (not yet escaped for `<script>`).
    pub json: String,
    /// Versions with their own colour class (`v0`, `v1`, …); everything else is `v8`.
    pub legend: Vec<(String, u64)>,
    /// What was left out of the nodes, as a sentence.
    pub nodes_note: String,
    /// Nodes drawn.
    pub drawn: usize,
}

/// Lays out and draws the map of `data`.
///
/// # Errors
/// Only if JSON serialization fails, which plain data cannot make it do.
pub fn build(data: &CrawlData) -> Result<Map, serde_json::Error> {
    // The edges as positions in `data.nodes`, read in place: a petgraph copy of a
    // 10,000-node crawl's 4 million edges cost the report about 80 MB for two plain scans.
    let positions = Positions::new(data);
    let edges = || {
        data.edges
            .iter()
            .filter_map(|e| positions.edge(e).map(|(s, d)| (s, d, e.network)))
    };
    let n = data.nodes.len();
    let mut cut_in = vec![0u64; n];
    let mut cut_out = vec![0u64; n];
    for (s, d, network) in edges() {
        if network == PeerNetwork::Cut {
            cut_out[s] += 1;
            cut_in[d] += 1;
        }
    }

    // Which nodes are drawn.
    let full = n <= FULL_MAP_MAX;
    let mut chosen: Vec<usize> = (0..n)
        .filter(|&i| full || data.nodes[i].reachable == Some(true) || data.nodes[i].bootstrap)
        .collect();
    if chosen.len() > MAP_NODE_CAP {
        chosen.sort_by(|&a, &b| cut_in[b].cmp(&cut_in[a]).then(a.cmp(&b)));
        chosen.truncate(MAP_NODE_CAP);
        chosen.sort_unstable();
    }
    let mut slot = vec![u32::MAX; n];
    for (k, &i) in chosen.iter().enumerate() {
        slot[i] = k as u32;
    }
    let left_out =
        |pred: &dyn Fn(usize) -> bool| (0..n).filter(|&i| slot[i] == u32::MAX && pred(i)).count();
    let out_reachable = left_out(&|i| data.nodes[i].reachable == Some(true));
    let out_failed = left_out(&|i| data.nodes[i].reachable == Some(false));
    let out_skipped = left_out(&|i| data.nodes[i].reachable.is_none());
    let nodes_note = if chosen.len() == n {
        format!("All {} known nodes drawn.", group(n))
    } else {
        format!(
            "{} of {} known nodes drawn; left out: {} unreachable, {} not contacted, {} reachable \
             (above {} known nodes the map shows reachable and bootstrap nodes only, at most {}, \
             highest in-degree first).",
            group(chosen.len()),
            group(n),
            group(out_failed),
            group(out_skipped),
            group(out_reachable),
            group(FULL_MAP_MAX),
            group(MAP_NODE_CAP)
        )
    };

    // Directed edges between drawn nodes, per network, as drawn slots.
    let mut per_net: BTreeMap<PeerNetwork, Vec<(u32, u32)>> = BTreeMap::new();
    for (s, d, network) in edges() {
        let (s, d) = (slot[s], slot[d]);
        if s != u32::MAX && d != u32::MAX && s != d {
            per_net.entry(network).or_default().push((s, d));
        }
    }
    let cut_pairs: Vec<(u32, u32)> = per_net.get(&PeerNetwork::Cut).cloned().unwrap_or_default();
    let points = layout::layout(chosen.len(), &cut_pairs, LAYOUT_SEED);
    let coords: Vec<String> = points
        .iter()
        .map(|&(x, y)| {
            format!(
                "{:.1} {:.1}",
                MARGIN + x * (VIEW - 2.0 * MARGIN),
                MARGIN + y * (VIEW - 2.0 * MARGIN)
            )
        })
        .collect();

    let mut views = vec![view(
        "cut network".to_string(),
        &cut_pairs,
        CUT_EDGE_CAP,
        &coords,
    )];
    for chain in data.crawl.network.chain_ids() {
        let pairs = per_net
            .get(&PeerNetwork::Mempool(chain))
            .map_or(&[][..], Vec::as_slice);
        views.push(view(
            format!("chain {} mempool", chain.0),
            pairs,
            MEMPOOL_EDGE_CAP,
            &coords,
        ));
    }

    // Version colours: the most common versions among drawn reachable nodes.
    let mut versions: BTreeMap<String, u64> = BTreeMap::new();
    for &i in &chosen {
        let node = &data.nodes[i];
        if node.reachable == Some(true) {
            let v = sanitize(node.node_version.as_deref().unwrap_or("unknown"), 80);
            *versions.entry(v).or_insert(0) += 1;
        }
    }
    let mut legend: Vec<(String, u64)> = versions.into_iter().collect();
    legend.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    legend.truncate(VERSION_COLOURS);

    let max_in = chosen.iter().map(|&i| cut_in[i]).max().unwrap_or(0).max(1) as f64;
    let mut circles = String::with_capacity(chosen.len() * 70);
    let mut infos = Vec::with_capacity(chosen.len());
    for (k, &i) in chosen.iter().enumerate() {
        let node = &data.nodes[i];
        let (x, y) = coords[k].split_once(' ').unwrap_or(("0", "0"));
        let r = 2.5 + 9.0 * (cut_in[i] as f64 / max_in).sqrt();
        let version = node.node_version.as_deref().map(|v| sanitize(v, 80));
        let class = match node.reachable {
            Some(true) => {
                let v = version.as_deref().unwrap_or("unknown");
                let c = legend
                    .iter()
                    .position(|(name, _)| name == v)
                    .unwrap_or(VERSION_COLOURS);
                format!("v{c}")
            }
            Some(false) => "f".to_string(),
            None => "s".to_string(),
        };
        let boot = if node.bootstrap { " b" } else { "" };
        let _ = write!(
            circles,
            "<circle class=\"n {class}{boot}\" data-i=\"{k}\" cx=\"{x}\" cy=\"{y}\" r=\"{r:.1}\"/>"
        );
        let status = match node.reachable {
            Some(true) => "reachable".to_string(),
            Some(false) => format!(
                "failed: {}",
                sanitize(node.error.as_deref().unwrap_or("unknown"), 80)
            ),
            None => format!(
                "not contacted: {}",
                sanitize(node.error.as_deref().unwrap_or("unspecified"), 80)
            ),
        };
        infos.push(NodeInfo(
            sanitize(&node.address_text(), 200),
            node.peer_id.as_deref().map(|p| sanitize(p, 80)),
            version,
            node.clock_skew_s.filter(|s| s.is_finite()),
            cut_in[i],
            cut_out[i],
            status,
            node.bootstrap,
        ));
    }
    let json = serde_json::to_string(&MapJson {
        nodes: infos,
        views: views
            .iter()
            .enumerate()
            .map(|(i, v)| ViewJson {
                name: &v.name,
                d: if i == 0 { "" } else { &v.d },
                note: &v.note,
            })
            .collect(),
    })?;
    Ok(Map {
        circles,
        views,
        json,
        legend,
        nodes_note,
        drawn: chosen.len(),
    })
}

/// One view: its strongest `cap` undirected edges as path data.
fn view(name: String, directed: &[(u32, u32)], cap: usize, coords: &[String]) -> View {
    // (low, high, bits): bit 1 low→high advertised, bit 2 high→low.
    let mut keyed: Vec<(u32, u32, u8)> = directed
        .iter()
        .map(|&(s, d)| (s.min(d), s.max(d), if s < d { 1 } else { 2 }))
        .collect();
    keyed.sort_unstable();
    let mut pairs: Vec<(u32, u32, u8)> = Vec::with_capacity(keyed.len());
    for (a, b, bits) in keyed {
        match pairs.last_mut() {
            Some(last) if (last.0, last.1) == (a, b) => last.2 |= bits,
            _ => pairs.push((a, b, bits)),
        }
    }
    let mut indeg = vec![0u64; coords.len()];
    for &(_, d) in directed {
        if let Some(v) = indeg.get_mut(d as usize) {
            *v += 1;
        }
    }
    let deg = |v: u32| indeg.get(v as usize).copied().unwrap_or(0);
    let total = pairs.len();
    let mut ranked: Vec<((u32, u32), bool, u64)> = pairs
        .iter()
        .map(|&(a, b, bits)| ((a, b), bits == 3, deg(a) + deg(b)))
        .collect();
    if total > cap {
        ranked.sort_unstable_by(|x, y| y.1.cmp(&x.1).then(y.2.cmp(&x.2)).then(x.0.cmp(&y.0)));
        ranked.truncate(cap);
        ranked.sort_unstable_by_key(|r| r.0);
    }
    let mut d = String::with_capacity(ranked.len() * 24);
    for ((a, b), ..) in &ranked {
        if let (Some(pa), Some(pb)) = (coords.get(*a as usize), coords.get(*b as usize)) {
            let _ = write!(d, "M{pa}L{pb}");
        }
    }
    let note = if total == 0 {
        format!("{name}: no edges between drawn nodes.")
    } else if total > cap {
        format!(
            "{name}: {} of {} node pairs with edges drawn, {} left out (the strongest kept: \
             mutual first, then by the endpoints' in-degree).",
            group(cap),
            group(total),
            group(total - cap)
        )
    } else {
        format!(
            "{name}: all {} node pairs with edges drawn ({} advertisements).",
            group(total),
            group(directed.len())
        )
    };
    View { name, d, note }
}

/// `12345` → `12,345`.
pub fn group(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::fixture;

    #[test]
    fn groups_thousands() {
        assert_eq!(group(0), "0");
        assert_eq!(group(999), "999");
        assert_eq!(group(1000), "1,000");
        assert_eq!(group(1234567), "1,234,567");
    }

    #[test]
    fn four_nodes_map() {
        let m = build(&fixture::four_nodes()).unwrap();
        assert_eq!(m.drawn, 4);
        assert_eq!(m.circles.matches("<circle").count(), 4);
        assert!(m.circles.contains("class=\"n v0 b\""));
        assert!(m.circles.contains("class=\"n f\""));
        assert!(m.circles.contains("class=\"n s\""));
        // Cut + 20 chains of mainnet01.
        assert_eq!(m.views.len(), 21);
        // Cut pairs: {0,1} mutual, {0,2}, {0,3}.
        assert_eq!(m.views[0].d.matches('M').count(), 3);
        assert_eq!(m.views[1].d.matches('M').count(), 1);
        assert!(m.views[2].d.is_empty());
        assert_eq!(m.legend, vec![("2.31".to_string(), 2)]);
    }

    #[test]
    fn edge_cap_keeps_mutual_pairs() {
        let coords: Vec<String> = (0..4).map(|i| format!("{i} {i}")).collect();
        let v = view("x".into(), &[(0, 1), (2, 3), (3, 2), (1, 2)], 1, &coords);
        assert_eq!(v.d, "M2 2L3 3");
        assert!(v.note.contains("1 of 3"), "{}", v.note);
    }
}
