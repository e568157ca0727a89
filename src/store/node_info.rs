//! The `node_info` table: each reachable node's cut height and self-reported address, as
//! `crawl --cut-heights` read them (view `crawl_node_info`).

use super::{CrawlId, Store, StoreError};

/// What one node's `GET …/cut` and `GET …/config` said.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeInfoRow {
    /// The node's address as stored in `nodes` (hostname text, port).
    pub hostname: String,
    /// Its port.
    pub port: u16,
    /// `height` of its cut (sum of the chains' heights).
    pub cut_height: Option<u64>,
    /// `p2p.peer.hostaddress.hostname` of its configuration.
    pub self_hostname: Option<String>,
    /// `p2p.peer.hostaddress.port` of its configuration.
    pub self_port: Option<u16>,
    /// `mempoolP2p.enabled` of its configuration.
    pub mempool_p2p: Option<bool>,
    /// Why something could not be read (`cut: …; config: …`).
    pub error: Option<String>,
}

impl Store {
    /// The addresses (hostname text, port) of every node of `crawl` that answered.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn reachable_nodes(&self, crawl: CrawlId) -> Result<Vec<(String, u16)>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT hostname, port FROM nodes WHERE crawl_id = ?1 AND reachable = 1 ORDER BY node",
        )?;
        let rows = stmt.query_map([crawl.0], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Stores node information of `crawl`, one row per node (a repeated node replaces its
    /// row); rows for addresses the crawl does not know are ignored.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn record_node_info(&self, crawl: CrawlId, rows: &[NodeInfoRow]) -> Result<(), StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        {
            let mut stmt = tx.prepare(
                "INSERT OR REPLACE INTO node_info \
                 (crawl_id, node, cut_height, self_hostname, self_port, mempool_p2p, error) \
                 SELECT crawl_id, node, ?4, ?5, ?6, ?7, ?8 FROM nodes \
                 WHERE crawl_id = ?1 AND hostname = ?2 AND port = ?3",
            )?;
            for r in rows {
                stmt.execute(rusqlite::params![
                    crawl.0,
                    r.hostname,
                    r.port,
                    r.cut_height.and_then(|h| i64::try_from(h).ok()),
                    r.self_hostname,
                    r.self_port,
                    r.mempool_p2p,
                    r.error,
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}
