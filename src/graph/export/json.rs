//! JSON of the crawl, its nodes and its edges.
//!
//! One object: `crawl` (`id`, `network`, `status`, `started_at`, `ended_at`,
//! `frontier_left`, `error`, `parameters`), `nodes` (objects with `node`, `hostname`,
//! `port`, `peer_id`, `reachable`, `bootstrap`, `tls_fingerprint`, `node_version`,
//! `server_timestamp`, `peer_addr`, `clock_skew_s`, `error`; unknown values `null`) and
//! `edges` (objects with `src`, `dst` — node numbers — `network` (`cut` / `mempool`) and
//! `chain` (`null` for cut)). Each node and edge is on a line of its own, so the file diffs
//! well and stays compact at millions of edges. JSON can carry any string, so text is only
//! JSON-escaped, never altered. The file ends with a newline.

use serde::Serialize;

use super::{ExportError, Exporter, known_edges};
use crate::store::{CrawlData, NodeRow};

/// The JSON exporter.
#[derive(Clone, Copy, Debug, Default)]
pub struct Json;

#[derive(Serialize)]
struct CrawlOut<'a> {
    id: i64,
    network: &'a str,
    status: &'a str,
    started_at: &'a str,
    ended_at: Option<&'a str>,
    frontier_left: Option<u64>,
    error: Option<&'a str>,
    parameters: &'a serde_json::Value,
}

#[derive(Serialize)]
struct NodeOut<'a> {
    node: u32,
    hostname: &'a str,
    port: u16,
    peer_id: Option<&'a str>,
    reachable: Option<bool>,
    bootstrap: bool,
    tls_fingerprint: Option<&'a str>,
    node_version: Option<&'a str>,
    server_timestamp: Option<i64>,
    peer_addr: Option<&'a str>,
    clock_skew_s: Option<f64>,
    error: Option<&'a str>,
}

impl<'a> From<&'a NodeRow> for NodeOut<'a> {
    fn from(n: &'a NodeRow) -> Self {
        NodeOut {
            node: n.node,
            hostname: &n.hostname,
            port: n.port,
            peer_id: n.peer_id.as_deref(),
            reachable: n.reachable,
            bootstrap: n.bootstrap,
            tls_fingerprint: n.tls_fingerprint.as_deref(),
            node_version: n.node_version.as_deref(),
            server_timestamp: n.server_timestamp,
            peer_addr: n.peer_addr.as_deref(),
            clock_skew_s: n.clock_skew_s,
            error: n.error.as_deref(),
        }
    }
}

#[derive(Serialize)]
struct EdgeOut {
    src: u32,
    dst: u32,
    network: &'static str,
    chain: Option<u16>,
}

/// Writes `items` as a JSON array, one item per line.
fn array<T: Serialize>(
    out: &mut Vec<u8>,
    items: impl Iterator<Item = T>,
) -> Result<(), ExportError> {
    out.push(b'[');
    let mut first = true;
    for item in items {
        out.extend_from_slice(if first { b"\n" } else { b",\n" });
        first = false;
        serde_json::to_writer(&mut *out, &item)?;
    }
    out.extend_from_slice(if first { b"]" } else { b"\n]" });
    Ok(())
}

impl Exporter for Json {
    fn serialize(&self, data: &CrawlData) -> Result<Vec<u8>, ExportError> {
        let c = &data.crawl;
        let crawl = CrawlOut {
            id: c.id.0,
            network: c.network.name(),
            status: c.status.as_str(),
            started_at: &c.started_at,
            ended_at: c.ended_at.as_deref(),
            frontier_left: c.frontier_left,
            error: c.error.as_deref(),
            parameters: &c.parameters,
        };
        let mut out = Vec::with_capacity(64 * (data.nodes.len() + data.edges.len()) + 256);
        out.extend_from_slice(b"{\n\"crawl\": ");
        serde_json::to_writer(&mut out, &crawl)?;
        out.extend_from_slice(b",\n\"nodes\": ");
        array(&mut out, data.nodes.iter().map(NodeOut::from))?;
        out.extend_from_slice(b",\n\"edges\": ");
        array(
            &mut out,
            known_edges(data).map(|e| EdgeOut {
                src: e.src,
                dst: e.dst,
                network: e.network.kind(),
                chain: e.network.chain().map(|c| c.0),
            }),
        )?;
        out.extend_from_slice(b"\n}\n");
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::fixture::{assert_text_eq, four_nodes};

    fn json(data: &CrawlData) -> String {
        String::from_utf8(Json.serialize(data).unwrap()).unwrap()
    }

    #[test]
    fn four_nodes_snapshot() {
        assert_text_eq(
            r#"{
"crawl": {"id":1,"network":"mainnet01","status":"complete","started_at":"2026-01-31T12:00:00.000Z","ended_at":"2026-01-31T12:01:00.000Z","frontier_left":0,"error":null,"parameters":{"concurrency":8}},
"nodes": [
{"node":0,"hostname":"a.example","port":443,"peer_id":"AAAA","reachable":true,"bootstrap":true,"tls_fingerprint":"AAAA","node_version":"2.31","server_timestamp":1769860800,"peer_addr":"203.0.113.9","clock_skew_s":1.5,"error":null},
{"node":1,"hostname":"127.0.0.1","port":1789,"peer_id":null,"reachable":true,"bootstrap":false,"tls_fingerprint":null,"node_version":"2.31","server_timestamp":null,"peer_addr":null,"clock_skew_s":-90.0,"error":null},
{"node":2,"hostname":"2001:db8::1","port":443,"peer_id":null,"reachable":false,"bootstrap":false,"tls_fingerprint":null,"node_version":null,"server_timestamp":null,"peer_addr":null,"clock_skew_s":null,"error":"connect_refused"},
{"node":3,"hostname":"10.0.0.1","port":443,"peer_id":null,"reachable":null,"bootstrap":false,"tls_fingerprint":null,"node_version":null,"server_timestamp":null,"peer_addr":null,"clock_skew_s":null,"error":"policy_private"}
],
"edges": [
{"src":0,"dst":1,"network":"cut","chain":null},
{"src":0,"dst":2,"network":"cut","chain":null},
{"src":0,"dst":3,"network":"cut","chain":null},
{"src":0,"dst":1,"network":"mempool","chain":0},
{"src":1,"dst":0,"network":"cut","chain":null},
{"src":1,"dst":0,"network":"mempool","chain":0},
{"src":1,"dst":2,"network":"mempool","chain":5}
]
}
"#,
            &json(&four_nodes()),
        );
    }

    #[test]
    fn strings_round_trip_exactly() {
        let data = super::super::tests::nasty();
        let text = json(&data);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let nodes = v["nodes"].as_array().unwrap();
        for (n, row) in nodes.iter().zip(&data.nodes) {
            assert_eq!(n["hostname"].as_str(), Some(row.hostname.as_str()));
            assert_eq!(n["node_version"].as_str(), row.node_version.as_deref());
        }
        assert_eq!(v["edges"].as_array().unwrap().len(), data.edges.len());
        let empty = CrawlData {
            nodes: vec![],
            edges: vec![],
            ..data
        };
        let text = json(&empty);
        assert!(
            text.contains("\"nodes\": [],\n\"edges\": []\n}\n"),
            "{text}"
        );
        serde_json::from_str::<serde_json::Value>(&text).unwrap();
    }
}
