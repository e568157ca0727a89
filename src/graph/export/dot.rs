//! Graphviz DOT of the cut network.
//!
//! Node ids are node numbers; each node's `label` is `host:port`. Nodes that could not be
//! contacted are drawn `dashed`, nodes never contacted `dotted`. Labels are DOT quoted
//! strings: `"` and `\` are backslash-escaped (so Graphviz's own `\N`, `\l`… escapes never
//! fire) and control characters become the visible text `\u{..}`.

use std::fmt::Write as _;

use super::{ExportError, Exporter, drain, escape_char, known_edges};
use crate::api::PeerNetwork;
use crate::store::CrawlData;

/// The DOT exporter.
#[derive(Clone, Copy, Debug, Default)]
pub struct Dot;

/// `s` as a DOT quoted string.
fn quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                // A backslash that DOT shows literally, then the escape's text.
                out.push('\\');
                escape_char(out, c);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

impl Exporter for Dot {
    fn serialize(&self, data: &CrawlData) -> Result<Vec<u8>, ExportError> {
        let mut bytes = Vec::new();
        self.write_to(data, &mut bytes)?;
        Ok(bytes)
    }

    // Streamed like GraphML: a crawl of 10,000 nodes has about 1.5 million cut edges, and
    // the whole text in one string was a transient of tens of megabytes at its peak.
    fn write_to(&self, data: &CrawlData, w: &mut dyn std::io::Write) -> Result<(), ExportError> {
        let mut out = String::with_capacity(2 * super::CHUNK);
        let _ = writeln!(out, "digraph crawl_{} {{", data.crawl.id);
        let _ = writeln!(
            out,
            "  // chainweb-crawler crawl {} ({}), cut network",
            data.crawl.id, data.crawl.network
        );
        out.push_str("  node [shape=box];\n");
        for n in &data.nodes {
            let _ = write!(out, "  {} [label=", n.node);
            quoted(&mut out, &n.address_text());
            match n.reachable {
                Some(true) => {}
                Some(false) => out.push_str(", style=dashed"),
                None => out.push_str(", style=dotted"),
            }
            out.push_str("];\n");
            drain(&mut out, w, false)?;
        }
        for e in known_edges(data).filter(|e| e.network == PeerNetwork::Cut) {
            let _ = writeln!(out, "  {} -> {};", e.src, e.dst);
            drain(&mut out, w, false)?;
        }
        out.push_str("}\n");
        drain(&mut out, w, true)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::fixture::{assert_text_eq, four_nodes};

    fn dot(data: &CrawlData) -> String {
        String::from_utf8(Dot.serialize(data).unwrap()).unwrap()
    }

    #[test]
    fn four_nodes_snapshot() {
        assert_text_eq(
            r#"digraph crawl_1 {
  // chainweb-crawler crawl 1 (mainnet01), cut network
  node [shape=box];
  0 [label="a.example:443"];
  1 [label="127.0.0.1:1789"];
  2 [label="[2001:db8::1]:443", style=dashed];
  3 [label="10.0.0.1:443", style=dotted];
  0 -> 1;
  0 -> 2;
  0 -> 3;
  1 -> 0;
}
"#,
            &dot(&four_nodes()),
        );
    }

    #[test]
    fn labels_are_escaped() {
        let text = dot(&super::super::tests::nasty());
        assert_text_eq(
            r#"digraph crawl_1 {
  // chainweb-crawler crawl 1 (mainnet01), cut network
  node [shape=box];
  0 [label="q\"uote<lt>&amp\\back\\u{a}nl\\u{d}\\u{9}c\\u{1}\\u{7f}\\u{85}é':443"];
  1 [label="]]>--></graphml>:1789"];
  2 [label="[2001:db8::1]:443", style=dashed];
  3 [label="10.0.0.1:443", style=dotted];
  9 [label="\\N\\G\\L{}[];=:0", style=dotted];
  0 -> 1;
  0 -> 2;
  0 -> 3;
  1 -> 0;
  1 -> 9;
}
"#,
            &text,
        );
        // Every line is one statement: no raw control characters survive.
        assert!(!text.chars().any(|c| c.is_control() && c != '\n'));
    }
}
