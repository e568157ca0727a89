//! GraphML of every network, with typed attributes that networkx reads back as
//! `str` / `int` / `bool`.
//!
//! Keys are declared in this fixed order. Node attributes: `hostname` (string), `port`
//! (int), `peer_id` (string), `reachable` (boolean), `node_version` (string), `error`
//! (string); edge attributes: `network` (string, `cut` or `mempool`), `chain` (int). An
//! attribute whose value is unknown is omitted: `reachable` is absent for nodes that were
//! not contacted (their `error` says why), `chain` is absent on cut edges. Nodes are `n<node
//! number>`, edges `e<position>` in sorted order; parallel edges (one per network) make
//! networkx read the file as a `MultiDiGraph`.
//!
//! All text is XML-escaped; tab, newline and carriage return are written as character
//! references so they survive attribute-value normalization, and characters XML 1.0 does not
//! allow (other C0 controls, U+FFFE, U+FFFF) become the visible text `\u{..}`, so the file
//! is always well-formed.

use std::fmt::Write as _;

use super::{ExportError, Exporter, drain, escape_char, known_edges};
use crate::store::CrawlData;

/// The GraphML exporter.
#[derive(Clone, Copy, Debug, Default)]
pub struct GraphMl;

/// Attribute keys, in declaration order: (id, for, type).
const KEYS: &[(&str, &str, &str)] = &[
    ("hostname", "node", "string"),
    ("port", "node", "int"),
    ("peer_id", "node", "string"),
    ("reachable", "node", "boolean"),
    ("node_version", "node", "string"),
    ("error", "node", "string"),
    ("network", "edge", "string"),
    ("chain", "edge", "int"),
];

/// Whether XML 1.0 allows `c` literally (tab, newline and carriage return aside).
fn xml_char(c: char) -> bool {
    matches!(c as u32, 0x20..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x10FFFF)
}

/// Appends `s` escaped for XML text and attribute values.
fn escaped(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => {
                let _ = write!(out, "&#{};", c as u32);
            }
            c if xml_char(c) => out.push(c),
            c => escape_char(out, c),
        }
    }
}

fn data(out: &mut String, key: &str, value: &str) {
    let _ = write!(out, "      <data key=\"{key}\">");
    escaped(out, value);
    out.push_str("</data>\n");
}

impl Exporter for GraphMl {
    fn serialize(&self, crawl: &CrawlData) -> Result<Vec<u8>, ExportError> {
        let mut bytes = Vec::new();
        self.write_to(crawl, &mut bytes)?;
        Ok(bytes)
    }

    fn write_to(&self, crawl: &CrawlData, w: &mut dyn std::io::Write) -> Result<(), ExportError> {
        let mut out = String::with_capacity(2 * super::CHUNK);
        out.push_str(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\" \
             xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
             xsi:schemaLocation=\"http://graphml.graphdrawing.org/xmlns \
             http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd\">\n",
        );
        for (id, domain, ty) in KEYS {
            let _ = writeln!(
                out,
                "  <key id=\"{id}\" for=\"{domain}\" attr.name=\"{id}\" attr.type=\"{ty}\"/>"
            );
        }
        let _ = writeln!(
            out,
            "  <graph id=\"crawl-{}\" edgedefault=\"directed\">",
            crawl.crawl.id
        );
        for n in &crawl.nodes {
            let _ = writeln!(out, "    <node id=\"n{}\">", n.node);
            data(&mut out, "hostname", &n.hostname);
            data(&mut out, "port", &n.port.to_string());
            if let Some(id) = &n.peer_id {
                data(&mut out, "peer_id", id);
            }
            if let Some(r) = n.reachable {
                data(&mut out, "reachable", if r { "true" } else { "false" });
            }
            if let Some(v) = &n.node_version {
                data(&mut out, "node_version", v);
            }
            if let Some(e) = &n.error {
                data(&mut out, "error", e);
            }
            out.push_str("    </node>\n");
            drain(&mut out, w, false)?;
        }
        for (i, e) in known_edges(crawl).enumerate() {
            let _ = writeln!(
                out,
                "    <edge id=\"e{i}\" source=\"n{}\" target=\"n{}\">",
                e.src, e.dst
            );
            data(&mut out, "network", e.network.kind());
            if let Some(chain) = e.network.chain() {
                data(&mut out, "chain", &chain.to_string());
            }
            out.push_str("    </edge>\n");
            drain(&mut out, w, false)?;
        }
        out.push_str("  </graph>\n</graphml>\n");
        drain(&mut out, w, true)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::fixture::{assert_text_eq, four_nodes};

    fn graphml(data: &CrawlData) -> String {
        String::from_utf8(GraphMl.serialize(data).unwrap()).unwrap()
    }

    const HEADER: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">
  <key id="hostname" for="node" attr.name="hostname" attr.type="string"/>
  <key id="port" for="node" attr.name="port" attr.type="int"/>
  <key id="peer_id" for="node" attr.name="peer_id" attr.type="string"/>
  <key id="reachable" for="node" attr.name="reachable" attr.type="boolean"/>
  <key id="node_version" for="node" attr.name="node_version" attr.type="string"/>
  <key id="error" for="node" attr.name="error" attr.type="string"/>
  <key id="network" for="edge" attr.name="network" attr.type="string"/>
  <key id="chain" for="edge" attr.name="chain" attr.type="int"/>
  <graph id="crawl-1" edgedefault="directed">
"#;

    #[test]
    fn four_nodes_snapshot() {
        let expected = format!(
            "{HEADER}{}",
            r#"    <node id="n0">
      <data key="hostname">a.example</data>
      <data key="port">443</data>
      <data key="peer_id">AAAA</data>
      <data key="reachable">true</data>
      <data key="node_version">2.31</data>
    </node>
    <node id="n1">
      <data key="hostname">127.0.0.1</data>
      <data key="port">1789</data>
      <data key="reachable">true</data>
      <data key="node_version">2.31</data>
    </node>
    <node id="n2">
      <data key="hostname">2001:db8::1</data>
      <data key="port">443</data>
      <data key="reachable">false</data>
      <data key="error">connect_refused</data>
    </node>
    <node id="n3">
      <data key="hostname">10.0.0.1</data>
      <data key="port">443</data>
      <data key="error">policy_private</data>
    </node>
    <edge id="e0" source="n0" target="n1">
      <data key="network">cut</data>
    </edge>
    <edge id="e1" source="n0" target="n2">
      <data key="network">cut</data>
    </edge>
    <edge id="e2" source="n0" target="n3">
      <data key="network">cut</data>
    </edge>
    <edge id="e3" source="n0" target="n1">
      <data key="network">mempool</data>
      <data key="chain">0</data>
    </edge>
    <edge id="e4" source="n1" target="n0">
      <data key="network">cut</data>
    </edge>
    <edge id="e5" source="n1" target="n0">
      <data key="network">mempool</data>
      <data key="chain">0</data>
    </edge>
    <edge id="e6" source="n1" target="n2">
      <data key="network">mempool</data>
      <data key="chain">5</data>
    </edge>
  </graph>
</graphml>
"#
        );
        assert_text_eq(&expected, &graphml(&four_nodes()));
    }

    #[test]
    fn text_is_escaped() {
        let text = graphml(&super::super::tests::nasty());
        let node = |id: &str| {
            let start = text.find(&format!("<node id=\"{id}\">")).unwrap();
            let end = start + text[start..].find("</node>").unwrap();
            text[start..end].to_string()
        };
        assert_text_eq(
            "<node id=\"n0\">
      <data key=\"hostname\">q&quot;uote&lt;lt&gt;&amp;amp\\back&#10;nl&#13;&#9;c\\u{1}\u{7f}\u{85}é&apos;</data>
      <data key=\"port\">443</data>
      <data key=\"peer_id\">AAAA</data>
      <data key=\"reachable\">true</data>
      <data key=\"node_version\">v\\u{0}\\u{1b}[31m</data>
    ",
            &node("n0"),
        );
        assert_text_eq(
            "<node id=\"n1\">
      <data key=\"hostname\">]]&gt;--&gt;&lt;/graphml&gt;</data>
      <data key=\"port\">1789</data>
      <data key=\"peer_id\">\\u{fffe}\\u{ffff}</data>
      <data key=\"reachable\">true</data>
      <data key=\"node_version\">2.31</data>
    ",
            &node("n1"),
        );
        // Nothing outside XML 1.0's character set remains.
        assert!(text.chars().all(|c| xml_char(c) || c == '\n'));
    }
}
