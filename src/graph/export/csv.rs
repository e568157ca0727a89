//! CSV of the edges, one row per advertised entry, with the columns of the `crawl_edges`
//! view (without `crawl_id`), RFC 4180 quoting.

use std::fmt::Write as _;

use super::{ExportError, Exporter, escape_char, known_edges};
use crate::store::CrawlData;

/// The CSV exporter.
#[derive(Clone, Copy, Debug, Default)]
pub struct Csv;

/// The header row.
pub const CSV_HEADER: &str =
    "src_hostname,src_port,dst_hostname,dst_port,dst_peer_id,network,chain";

/// One field: quoted when it holds a comma, quote or line break; control characters as
/// visible escapes.
fn field(out: &mut String, s: &str) {
    let quote = s.contains([',', '"', '\n', '\r']);
    if quote {
        out.push('"');
    }
    for c in s.chars() {
        match c {
            '"' => out.push_str("\"\""),
            '\n' | '\r' => out.push(c),
            c if c.is_control() => escape_char(out, c),
            c => out.push(c),
        }
    }
    if quote {
        out.push('"');
    }
}

impl Exporter for Csv {
    fn serialize(&self, data: &CrawlData) -> Result<Vec<u8>, ExportError> {
        let positions = super::super::Positions::new(data);
        let mut out = String::with_capacity(64 * data.edges.len() + 80);
        out.push_str(CSV_HEADER);
        out.push_str("\r\n");
        for e in known_edges(data) {
            let (Some(s), Some(d)) = (positions.get(e.src), positions.get(e.dst)) else {
                continue;
            };
            let (s, d) = (&data.nodes[s], &data.nodes[d]);
            field(&mut out, &s.hostname);
            let _ = write!(out, ",{},", s.port);
            field(&mut out, &d.hostname);
            let _ = write!(out, ",{},", d.port);
            field(&mut out, d.peer_id.as_deref().unwrap_or(""));
            let _ = write!(out, ",{},", e.network.kind());
            if let Some(c) = e.network.chain() {
                let _ = write!(out, "{}", c.0);
            }
            out.push_str("\r\n");
        }
        Ok(out.into_bytes())
    }
}
