//! The nodes as a peer list in PeerInfo text form, `[<id>@]<host>:<port>` one per line: the
//! `--bootstrap-file` format, and what a chainweb node's known-peers setting takes.
//!
//! The id written is the fingerprint of the certificate the node served when it was
//! reachable (the id it really has), else the id it was advertised with, else none, the
//! first that reads back as a peer. Nodes whose address would not read back as a peer (only
//! possible for hand-made data) are left out and counted in the header comment.

use super::{ExportError, Exporter};
use crate::api::PeerInfo;
use crate::store::CrawlData;

/// The peer-list exporter.
#[derive(Clone, Copy, Debug, Default)]
pub struct Peers;

impl Exporter for Peers {
    fn serialize(&self, data: &CrawlData) -> Result<Vec<u8>, ExportError> {
        let mut lines = Vec::with_capacity(data.nodes.len());
        let mut skipped = 0usize;
        for n in &data.nodes {
            // The observed fingerprint first, then the advertised id, then none: the first
            // that reads back as a peer.
            let observed = n
                .tls_fingerprint
                .as_ref()
                .filter(|_| n.reachable == Some(true));
            let candidates = [observed, n.peer_id.as_ref(), None];
            let parsed = candidates.iter().find_map(|id| {
                let text = match id {
                    Some(id) => format!("{id}@{}", n.address_text()),
                    None => n.address_text(),
                };
                text.parse::<PeerInfo>().ok()
            });
            match parsed {
                Some(p) => lines.push(p.to_string()),
                None => skipped += 1,
            }
        }
        let mut out = format!(
            "# chainweb-crawler peers of crawl {}: {} entries, [<id>@]<host>:<port>",
            data.crawl.id,
            lines.len()
        );
        if skipped > 0 {
            out.push_str(&format!(" ({skipped} unreadable entries left out)"));
        }
        out.push('\n');
        for l in lines {
            out.push_str(&l);
            out.push('\n');
        }
        Ok(out.into_bytes())
    }
}
