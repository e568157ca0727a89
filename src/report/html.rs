//! The page: escaping, the summary table, and the assembly of map and charts.

use std::fmt::Write as _;

use crate::api::PeerNetwork;
use crate::graph::Stats;
use crate::graph::stats::Distribution;
use crate::sanitize::sanitize;
use crate::store::CrawlData;

use super::ReportError;
use super::charts::{self, ChainStatus, CrawlCounts};
use super::map::{self, group};

const CSS: &str = include_str!("page.css");
const SCRIPT: &str = include_str!("page.js");
/// Longest peer-controlled text printed in the table.
const TEXT_MAX: usize = 80;

/// HTML-escapes text for element content and quoted attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Peer-controlled text for the page: control characters escaped, capped, HTML-escaped.
pub fn peer_text(s: &str) -> String {
    escape(&sanitize(s, TEXT_MAX))
}

/// Longest peer-controlled label in the summary table: a longer one (a version of 80
/// characters, say) would widen the table over the map; the whole text is in its tooltip.
const LABEL_MAX: usize = 32;

/// A peer-controlled summary label: capped at [`LABEL_MAX`] characters, whole in `title`.
fn peer_label(s: &str) -> String {
    let full = peer_text(s);
    if s.chars().count() <= LABEL_MAX {
        return full;
    }
    format!(
        "<span title=\"{full}\">{}</span>",
        escape(&sanitize(s, LABEL_MAX))
    )
}

/// JSON made safe inside `<script>`: `<`, `>` and `&` can only occur inside JSON strings,
/// where their `\u` escapes mean the same, and without them no `</script>` or `<!--` can
/// end the element early.
pub fn script_json(json: &str) -> String {
    json.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// Per chain of the crawl's network: the status counts of the nodes taking part in its
/// mempool network (advertising or advertised in one of its lists).
pub fn chain_statuses(data: &CrawlData) -> Vec<ChainStatus> {
    let positions = crate::graph::Positions::new(data);
    let chains = data.crawl.network.chains() as usize;
    let n = data.nodes.len();
    let mut member = vec![false; chains * n];
    for e in &data.edges {
        if let (PeerNetwork::Mempool(c), Some((s, d))) = (e.network, positions.edge(e))
            && (c.0 as usize) < chains
        {
            member[c.0 as usize * n + s] = true;
            member[c.0 as usize * n + d] = true;
        }
    }
    (0..chains)
        .map(|c| {
            let mut counts = [0u64; 3];
            for (i, node) in data.nodes.iter().enumerate() {
                if member[c * n + i] {
                    let k = match node.reachable {
                        Some(true) => 0,
                        Some(false) => 1,
                        None => 2,
                    };
                    counts[k] += 1;
                }
            }
            ChainStatus {
                chain: c as u16,
                counts,
            }
        })
        .collect()
}

fn row(out: &mut String, depth: usize, label: &str, value: &str) {
    let _ = writeln!(
        out,
        "<tr><th class=\"d{depth}\">{label}</th><td>{value}</td></tr>"
    );
}

fn num(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{v:.2}"))
}

fn dist(d: &Distribution) -> String {
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

/// The summary table: the figures of `stats`, in the same order.
fn summary(s: &Stats) -> String {
    let mut t = String::from("<table class=\"summary\">\n");
    let c = &s.crawl;
    row(
        &mut t,
        0,
        "crawl",
        &format!("{} ({}, {})", c.id, escape(&c.network), escape(&c.status)),
    );
    row(
        &mut t,
        0,
        "time",
        &format!(
            "{} .. {}",
            escape(&c.started_at),
            escape(c.ended_at.as_deref().unwrap_or("-"))
        ),
    );
    let n = &s.nodes;
    row(&mut t, 0, "nodes known", &n.known.to_string());
    row(&mut t, 1, "bootstrap", &n.bootstrap.to_string());
    row(&mut t, 1, "contacted", &n.contacted.to_string());
    row(&mut t, 2, "reachable", &n.reachable.to_string());
    if n.incomplete > 0 {
        row(&mut t, 3, "lists incomplete", &n.incomplete.to_string());
        for (reason, count) in &n.incomplete_by_reason {
            row(&mut t, 4, &peer_text(reason), &count.to_string());
        }
    }
    row(&mut t, 2, "failed", &n.failed.to_string());
    for (reason, count) in &n.failed_by_reason {
        row(&mut t, 3, &peer_text(reason), &count.to_string());
    }
    row(&mut t, 1, "not contacted", &n.skipped.to_string());
    for (reason, count) in &n.skipped_by_reason {
        row(&mut t, 2, &peer_text(reason), &count.to_string());
    }
    let e = &s.edges;
    row(&mut t, 0, "edges", &e.total.to_string());
    row(&mut t, 1, "cut", &e.cut.to_string());
    row(&mut t, 1, "mempool", &e.mempool.to_string());
    for (chain, count) in &e.mempool_by_chain {
        row(&mut t, 2, &format!("chain {chain}"), &count.to_string());
    }
    row(&mut t, 0, "reachable from bootstrap", "");
    row(
        &mut t,
        1,
        "via cut edges",
        &s.reach.from_bootstrap_cut.to_string(),
    );
    row(
        &mut t,
        1,
        "via all edges",
        &s.reach.from_bootstrap_all.to_string(),
    );
    row(&mut t, 0, "cut network, reachable nodes", "");
    row(
        &mut t,
        1,
        "components (SCC)",
        &s.cut_components.count.to_string(),
    );
    row(
        &mut t,
        1,
        "largest component",
        &s.cut_components.largest.to_string(),
    );
    row(
        &mut t,
        0,
        "cut in-degree (all nodes)",
        &dist(&s.cut_in_degree),
    );
    row(
        &mut t,
        0,
        "cut out-degree (reachable)",
        &dist(&s.cut_out_degree),
    );
    row(&mut t, 0, "node versions (reachable)", "");
    for (version, count) in &s.node_versions {
        row(&mut t, 1, &peer_label(version), &count.to_string());
    }
    let k = &s.clock_skew;
    row(
        &mut t,
        0,
        "clock skew (s)",
        &if k.count == 0 {
            "n=0".to_string()
        } else {
            format!(
                "n={} min={} median={} mean={} max={} |skew|&gt;60s: {}",
                k.count,
                num(k.min),
                num(k.median),
                num(k.mean),
                num(k.max),
                k.over_60s
            )
        },
    );
    t.push_str("</table>\n");
    t
}

const DEFINITIONS: &str = "<details><summary>Definitions</summary><ul>\
<li><b>known</b>: every address learned (bootstrap or advertised). <b>contacted</b>: the crawler \
tried it; <b>reachable</b>: it answered its peer lists; <b>failed</b>: contacted without success, \
by reason (<code>unknown</code> when none); <b>not contacted</b>: skipped (policy, limits), by \
reason (<code>unspecified</code> when none).</li>\
<li><b>edges</b>: advertised peer entries: <b>cut</b> from cut-network lists, <b>mempool</b> from \
each chain's mempool-network list.</li>\
<li><b>reachable from bootstrap</b>: nodes reachable from the bootstrap nodes (included) \
following cut edges, and following edges of every network.</li>\
<li><b>components</b>: strongly connected components of the cut network induced on the reachable \
nodes (singletons count).</li>\
<li><b>cut in-degree</b>: cut entries advertising a node, over all known nodes; <b>cut \
out-degree</b>: cut entries a node advertised, over reachable nodes (only they served lists). \
The degree charts use log2 buckets (0, 1, 2-3, 4-7, …) and a logarithmic count axis.</li>\
<li><b>node versions</b>: the <code>x-chainweb-node-version</code> header among reachable nodes; \
<code>unknown</code> when none was sent.</li>\
<li><b>clock skew</b>: the node's <code>x-server-timestamp</code> minus our clock, seconds, over \
nodes that sent one.</li>\
<li><b>chains × status</b>: for each chain, the nodes that advertised or were advertised in its \
mempool-network lists, by status.</li>\
<li><b>nodes per crawl</b>: this crawl and the earlier crawls of the same network in the \
database (at most 200).</li></ul></details>\n";

/// The whole page.
pub fn page(data: &CrawlData, history: &[CrawlCounts]) -> Result<String, ReportError> {
    let stats = Stats::compute(data);
    let m = map::build(data)?;

    let mut versions: Vec<(String, u64)> = stats
        .node_versions
        .iter()
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    versions.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    if versions.len() > 15 {
        let rest: u64 = versions[14..].iter().map(|v| v.1).sum();
        let others = versions.len() - 14;
        versions.truncate(14);
        versions.push((format!("{others} others"), rest));
    }
    let bar = charts::bar_colour();
    let version_bars: Vec<_> = versions.into_iter().map(|(k, v)| (k, v, bar)).collect();
    let (failed_c, skipped_c) = charts::reason_colours();
    let mut reasons: Vec<_> = stats
        .nodes
        .failed_by_reason
        .iter()
        .map(|(k, v)| (format!("failed: {k}"), *v, failed_c))
        .chain(
            stats
                .nodes
                .skipped_by_reason
                .iter()
                .map(|(k, v)| (format!("skipped: {k}"), *v, skipped_c)),
        )
        .collect();
    reasons.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    reasons.truncate(16);
    let skews: Vec<f64> = data.nodes.iter().filter_map(|n| n.clock_skew_s).collect();

    let chart_list: Vec<(&str, String)> = vec![
        (
            "versions",
            charts::horizontal_bars("Node versions (reachable nodes)", &version_bars)?,
        ),
        (
            "in-degree",
            charts::degree_bars("Cut in-degree (all nodes)", &stats.cut_in_degree.histogram)?,
        ),
        (
            "out-degree",
            charts::degree_bars(
                "Cut out-degree (reachable nodes)",
                &stats.cut_out_degree.histogram,
            )?,
        ),
        (
            "skew",
            charts::horizontal_log_bars(
                "Clock skew: server time minus ours",
                &charts::skew_bins(&skews),
            )?,
        ),
        ("chains", charts::chain_grid(&chain_statuses(data))?),
        (
            "reasons",
            charts::horizontal_bars("Failure and skip reasons", &reasons)?,
        ),
        ("history", charts::history(history)?),
    ];

    let c = &data.crawl;
    let mut p = String::with_capacity(m.json.len() * 2 + 200_000);
    let title = format!(
        "chainweb-crawler report: crawl {} of {}",
        c.id.0,
        c.network.name()
    );
    let _ = write!(
        p,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n<h1>{}</h1>\n\
         <p class=\"sub\">Started {} · {} · written by chainweb-crawler {}</p>\n",
        escape(&title),
        escape(&title),
        escape(&c.started_at),
        escape(c.status.as_str()),
        env!("CARGO_PKG_VERSION")
    );
    p.push_str("<div class=\"top\">\n<section id=\"summary\"><h2>Summary</h2>\n");
    p.push_str(&summary(&stats));
    p.push_str(DEFINITIONS);
    p.push_str("</section>\n");

    p.push_str(
        "<section id=\"topology\"><h2>Topology map</h2>\n<div class=\"controls\">\
                <label>Network <select id=\"view\">",
    );
    for (i, v) in m.views.iter().enumerate() {
        let _ = write!(p, "<option value=\"{i}\">{}</option>", escape(&v.name));
    }
    p.push_str("</select></label> <button id=\"reset\" type=\"button\">Reset view</button> \
                <span class=\"hint\">drag to pan, wheel to zoom, hover a node for details</span></div>\n");
    let _ = writeln!(
        p,
        "<p class=\"note\" id=\"nodes-note\">{}</p>\n<p class=\"note\" id=\"view-note\">{}</p>",
        escape(&m.nodes_note),
        escape(m.views.first().map_or("", |v| v.note.as_str()))
    );
    p.push_str("<ul class=\"legend\">");
    for (k, (version, count)) in m.legend.iter().enumerate() {
        let _ = write!(
            p,
            "<li><i class=\"sw v{k}\"></i>{} ({})</li>",
            escape(version),
            group(*count as usize)
        );
    }
    p.push_str(
        "<li><i class=\"sw v8\"></i>other versions</li><li><i class=\"sw f\"></i>unreachable</li>\
         <li><i class=\"sw s\"></i>not contacted (policy, limits)</li>\
         <li><i class=\"sw b\"></i>bootstrap (black ring)</li><li>size: cut in-degree</li></ul>\n",
    );
    let _ = write!(
        p,
        "<div class=\"mapbox\"><svg id=\"map\" xmlns=\"http://www.w3.org/2000/svg\" \
         viewBox=\"0 0 1000 1000\" role=\"img\" aria-label=\"topology map\">\
         <path id=\"map-edges\" d=\"{}\"/><g id=\"map-nodes\">{}</g></svg>\
         <div id=\"tip\" hidden></div></div>\n</section>\n</div>\n",
        m.views.first().map_or("", |v| v.d.as_str()),
        m.circles
    );

    p.push_str("<section id=\"charts\"><h2>Charts</h2>\n<div class=\"grid\">\n");
    for (id, svg) in &chart_list {
        let _ = writeln!(
            p,
            "<figure class=\"chart\" id=\"chart-{id}\">{svg}</figure>"
        );
    }
    p.push_str("</div>\n</section>\n");
    let _ = write!(
        p,
        "<div id=\"report-check\" hidden data-ok=\"0\"></div>\n\
         <script type=\"application/json\" id=\"map-data\">{}</script>\n\
         <script>\n{SCRIPT}</script>\n</body>\n</html>\n",
        script_json(&m.json)
    );
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::fixture;

    #[test]
    fn long_peer_labels_are_capped_with_the_whole_text_in_the_tooltip() {
        let long = format!("{}\"<x>", "2.".repeat(20));
        let label = peer_label(&long);
        assert!(label.starts_with("<span title=\""), "{label}");
        let shown = label.rsplit_once("\">").map(|(_, v)| v).unwrap_or("");
        assert!(
            shown.chars().count() <= LABEL_MAX + "</span>".len() + 1,
            "{label}"
        );
        assert!(
            label.contains("&quot;&lt;x&gt;"),
            "the tooltip holds the escaped whole"
        );
        assert_eq!(peer_label("3.2"), "3.2");
    }

    #[test]
    fn escapes_markup_and_controls() {
        assert_eq!(
            escape("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
        assert_eq!(peer_text("a\u{7}<b>"), "a\\u{7}&lt;b&gt;");
        assert_eq!(
            script_json(r#"["</script><!--&"]"#),
            r#"["\u003c/script\u003e\u003c!--\u0026"]"#
        );
    }

    #[test]
    fn chain_statuses_count_members_once() {
        let s = chain_statuses(&fixture::four_nodes());
        assert_eq!(s.len(), 20);
        assert_eq!(s[0].counts, [2, 0, 0]);
        assert_eq!(s[5].counts, [1, 1, 0]);
        assert_eq!(s[1].counts, [0, 0, 0]);
    }

    #[test]
    fn page_has_every_part_and_is_deterministic() {
        let data = fixture::four_nodes();
        let a = page(&data, &[]).unwrap();
        assert_eq!(a, page(&data, &[]).unwrap());
        for id in [
            "id=\"summary\"",
            "id=\"map\"",
            "id=\"chart-versions\"",
            "id=\"chart-in-degree\"",
            "id=\"chart-out-degree\"",
            "id=\"chart-skew\"",
            "id=\"chart-chains\"",
            "id=\"chart-reasons\"",
            "id=\"chart-history\"",
            "<details>",
        ] {
            assert!(a.contains(id), "missing {id}");
        }
        // No external resources.
        assert!(!a.contains("src=\"http"));
        assert!(!a.contains("href=\"http"));
    }
}
