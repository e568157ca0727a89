//! Bounding a database of scheduled crawls: delete all but the newest sealed crawls, and
//! read one crawl's headline figures from the `crawl_summary` view.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{CrawlId, Store, StoreError};

/// One row of the `crawl_summary` view.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CrawlSummary {
    /// The crawl.
    pub crawl_id: CrawlId,
    /// The chainweb network crawled.
    pub network: String,
    /// `complete`, `interrupted` or `failed`.
    pub status: String,
    /// Start, ISO-8601 UTC.
    pub started_at: String,
    /// End, ISO-8601 UTC.
    pub ended_at: Option<String>,
    /// Seconds from start to end.
    pub duration_s: Option<f64>,
    /// Nodes known.
    pub nodes_known: i64,
    /// Nodes that answered their peer lists.
    pub nodes_reachable: i64,
    /// Nodes contacted without success.
    pub nodes_failed: i64,
    /// Nodes never contacted.
    pub nodes_not_contacted: i64,
    /// Entries of cut lists.
    pub cut_edges: i64,
    /// Entries of mempool lists.
    pub mempool_edges: i64,
    /// Addresses left unvisited.
    pub frontier_left: Option<i64>,
}

impl Store {
    /// The `crawl_summary` row of a sealed crawl, `None` for an unknown or running crawl.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn crawl_summary(&self, id: CrawlId) -> Result<Option<CrawlSummary>, StoreError> {
        let mut stmt = self.connection().prepare_cached(
            "SELECT crawl_id, network, status, started_at, ended_at, duration_s, nodes_known, \
             nodes_reachable, nodes_failed, nodes_not_contacted, cut_edges, mempool_edges, \
             frontier_left FROM crawl_summary WHERE crawl_id = ?1",
        )?;
        Ok(stmt
            .query_row(params![id], |r| {
                Ok(CrawlSummary {
                    crawl_id: r.get(0)?,
                    network: r.get(1)?,
                    status: r.get(2)?,
                    started_at: r.get(3)?,
                    ended_at: r.get(4)?,
                    duration_s: r.get(5)?,
                    nodes_known: r.get(6)?,
                    nodes_reachable: r.get(7)?,
                    nodes_failed: r.get(8)?,
                    nodes_not_contacted: r.get(9)?,
                    cut_edges: r.get(10)?,
                    mempool_edges: r.get(11)?,
                    frontier_left: r.get(12)?,
                })
            })
            .optional()?)
    }

    /// Deletes every sealed crawl but the newest `keep` ones, with all their rows, in one
    /// transaction; returns the deleted ids. Running crawls are never touched. Freed pages
    /// are reused by later crawls, so a database pruned after every crawl stops growing;
    /// [`Store::vacuum`] gives them back to the file system.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn prune(&self, keep: usize) -> Result<Vec<CrawlId>, StoreError> {
        let sealed = self.sealed_crawls()?;
        let cut = sealed.len().saturating_sub(keep);
        let doomed: Vec<CrawlId> = sealed[..cut].to_vec();
        let tx = self.connection().unchecked_transaction()?;
        for id in &doomed {
            // Edges carry no foreign key (see the schema); the rest cascades from `crawls`.
            tx.execute("DELETE FROM edge_lists WHERE crawl_id = ?1", params![id])?;
            tx.execute("DELETE FROM responses WHERE crawl_id = ?1", params![id])?;
            tx.execute(
                "DELETE FROM invalid_entries WHERE crawl_id = ?1",
                params![id],
            )?;
            tx.execute("DELETE FROM nodes WHERE crawl_id = ?1", params![id])?;
            tx.execute("DELETE FROM crawls WHERE id = ?1", params![id])?;
        }
        tx.commit()?;
        Ok(doomed)
    }

    /// Rewrites the file without free pages (`VACUUM`); readers wait meanwhile.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn vacuum(&self) -> Result<(), StoreError> {
        self.connection().execute_batch("VACUUM")?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::api::NetworkId;
    use crate::store::{CrawlId, CrawlStatus, Store};

    #[test]
    fn prune_keeps_the_newest_sealed_crawls_and_spares_running_ones() {
        let store = Store::open_in_memory().unwrap();
        let mut ids = Vec::new();
        for i in 0..4 {
            let id = store
                .begin_crawl(NetworkId::Development, &serde_json::json!({}))
                .unwrap();
            store
                .connection()
                .execute_batch(&format!(
                    "INSERT INTO nodes (crawl_id, node, hostname, port, reachable) \
                     VALUES ({id}, 0, '127.0.0.1', 1789, 1), ({id}, 1, '127.0.0.2', 1789, 1);
                     INSERT INTO edges VALUES ({id}, 0, -1, 1);
                     INSERT INTO responses (crawl_id, node, net, page, latency_ms, items, \
                     bytes, observed_at_ms) VALUES ({id}, 0, -1, 0, 1.0, 1, 10, 0);"
                ))
                .unwrap();
            if i < 3 {
                store
                    .finish_crawl(id, CrawlStatus::Complete, 0, None)
                    .unwrap();
            }
            ids.push(id);
        }
        assert_eq!(store.prune(2).unwrap(), vec![ids[0]]);
        assert_eq!(store.prune(2).unwrap(), Vec::<CrawlId>::new());
        let left: Vec<i64> = store
            .connection()
            .prepare("SELECT DISTINCT crawl_id FROM edge_lists ORDER BY 1")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(left, vec![ids[1].0, ids[2].0, ids[3].0]);
        let responses: i64 = store
            .connection()
            .query_row("SELECT count(*) FROM responses", [], |r| r.get(0))
            .unwrap();
        assert_eq!(responses, 3);
        let s = store.crawl_summary(ids[2]).unwrap().unwrap();
        assert_eq!((s.nodes_known, s.nodes_reachable, s.cut_edges), (2, 2, 1));
        assert!(store.crawl_summary(ids[3]).unwrap().is_none(), "running");
        store.vacuum().unwrap();
    }
}
