//! Exporters: one file per format behind one trait, each turning a [`CrawlData`] into bytes.
//!
//! Writing the bytes (to a file, or stdout for `-`) is the caller's job, in one place.
//! Every format is deterministic: nodes in node-number order, edges in
//! [`EdgeRow::sort_key`](crate::store::EdgeRow::sort_key) order, attributes in a fixed
//! order. Text a peer controls is escaped for each format so the file is always valid:
//! characters a format cannot carry are written as visible Rust-style escapes (`\u{1}`).
//! Edges whose endpoints are not among the nodes (only possible in hand-made data) are
//! left out.

mod csv;
mod dot;
mod graphml;
mod json;
mod peers;

use std::fmt::Write as _;

pub use csv::{CSV_HEADER, Csv};
pub use dot::Dot;
pub use graphml::GraphMl;
pub use json::Json;
pub use peers::Peers;

use crate::store::{CrawlData, EdgeRow};

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// JSON serialization failed.
    #[error("json serialization: {0}")]
    Json(#[from] serde_json::Error),
    /// Writing the file failed.
    #[error("write failed: {0}")]
    Io(#[from] std::io::Error),
}

/// A serializer of a crawl into one file format.
pub trait Exporter {
    /// The whole file.
    ///
    /// # Errors
    /// [`ExportError`] if the data cannot be encoded.
    fn serialize(&self, data: &CrawlData) -> Result<Vec<u8>, ExportError>;

    /// Writes the whole file to `w`. Formats whose files grow with the edges override it
    /// to write in small chunks, so a file never has to fit in memory.
    ///
    /// # Errors
    /// [`ExportError`] if the data cannot be encoded or written.
    fn write_to(&self, data: &CrawlData, w: &mut dyn std::io::Write) -> Result<(), ExportError> {
        w.write_all(&self.serialize(data)?)?;
        Ok(())
    }
}

/// Text is built in a small buffer and handed to the writer whenever it holds this much.
const CHUNK: usize = 64 * 1024;

/// Hands `out` to `w` once it holds [`CHUNK`] bytes (or always, with `force`).
fn drain(out: &mut String, w: &mut dyn std::io::Write, force: bool) -> std::io::Result<()> {
    if force || out.len() >= CHUNK {
        w.write_all(out.as_bytes())?;
        out.clear();
    }
    Ok(())
}

/// The export formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExportFormat {
    /// Graphviz DOT of the cut network ([`Dot`]).
    Dot,
    /// GraphML of every network ([`GraphMl`]).
    GraphMl,
    /// JSON of nodes and edges ([`Json`]).
    Json,
    /// CSV of the edges ([`Csv`]).
    Csv,
    /// The nodes as a peer list in PeerInfo text form ([`Peers`]).
    Peers,
}

impl ExportFormat {
    /// Every format.
    pub const ALL: [ExportFormat; 5] = [
        ExportFormat::Dot,
        ExportFormat::GraphMl,
        ExportFormat::Json,
        ExportFormat::Csv,
        ExportFormat::Peers,
    ];

    /// The usual file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Dot => "dot",
            ExportFormat::GraphMl => "graphml",
            ExportFormat::Json => "json",
            ExportFormat::Csv => "csv",
            ExportFormat::Peers => "peers.txt",
        }
    }

    /// The exporter of this format.
    pub fn exporter(self) -> Box<dyn Exporter> {
        match self {
            ExportFormat::Dot => Box::new(Dot),
            ExportFormat::GraphMl => Box::new(GraphMl),
            ExportFormat::Json => Box::new(Json),
            ExportFormat::Csv => Box::new(Csv),
            ExportFormat::Peers => Box::new(Peers),
        }
    }
}

/// `c` as a visible escape, `\u{1}`.
fn escape_char(out: &mut String, c: char) {
    let _ = write!(out, "\\u{{{:x}}}", c as u32);
}

/// The edges whose endpoints are both known, in the data's (sorted) order.
fn known_edges(data: &CrawlData) -> impl Iterator<Item = &EdgeRow> {
    let positions = super::Positions::new(data);
    data.edges
        .iter()
        .filter(move |e| positions.edge(e).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::fixture;
    use crate::store::NodeRow;

    /// A crawl whose host names and versions hold every character that needs escaping.
    pub(crate) fn nasty() -> CrawlData {
        let mut data = fixture::four_nodes();
        data.nodes[0].hostname = "q\"uote<lt>&amp\\back\nnl\r\tc\u{1}\u{7f}\u{85}é'".into();
        data.nodes[0].node_version = Some("v\u{0}\u{1b}[31m".into());
        data.nodes[1].hostname = "]]>--></graphml>".into();
        data.nodes[1].peer_id = Some("\u{fffe}\u{ffff}".into());
        data.nodes.push(NodeRow {
            node: 9,
            hostname: "\\N\\G\\L{}[];=".into(),
            port: 0,
            ..NodeRow::default()
        });
        data.edges
            .push(fixture::edge(1, 9, crate::api::PeerNetwork::Cut));
        data.edges.sort_by_key(EdgeRow::sort_key);
        data
    }

    #[test]
    fn every_format_is_deterministic() {
        let data = nasty();
        for format in ExportFormat::ALL {
            let e = format.exporter();
            let a = e.serialize(&data).unwrap();
            let b = e.serialize(&data.clone()).unwrap();
            assert_eq!(a, b, "{format:?}");
            assert!(std::str::from_utf8(&a).is_ok(), "{format:?}");
        }
    }
}

/// Writes the fixtures in every format for checking with outside tools, run by hand:
/// `EXPORT_SAMPLES=/tmp/x cargo test --lib graph::export::samples -- --ignored`, then e.g.
/// `dot -Tsvg /tmp/x/nasty.dot` and `networkx.read_graphml('/tmp/x/nasty.graphml')`.
#[cfg(test)]
mod samples {
    use super::*;

    #[test]
    #[ignore = "writes files for manual checks"]
    fn write_samples() {
        let Some(dir) = std::env::var_os("EXPORT_SAMPLES") else {
            return;
        };
        let dir = std::path::PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (name, data) in [
            ("four", crate::graph::fixture::four_nodes()),
            ("nasty", tests::nasty()),
        ] {
            for format in ExportFormat::ALL {
                let bytes = format.exporter().serialize(&data).unwrap();
                std::fs::write(dir.join(format!("{name}.{}", format.extension())), bytes).unwrap();
            }
        }
    }
}
