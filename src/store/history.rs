//! Migration "sealed views and history": the public views show sealed crawls only, and
//! companion views summarize each crawl and each node's history across crawls.
//!
//! # Why sealed crawls only
//! The writer commits a running crawl every few hundred milliseconds so that it never holds
//! the database for long. A dashboard that read `crawl_nodes` of the newest crawl id while
//! it ran would see half a crawl and draw a collapse of the network. Every public view
//! therefore joins `crawls` and keeps only crawls whose status is not `running`:
//! `Store::finish_crawl` sets the status and marks unvisited nodes in one transaction, so a
//! crawl appears in the views whole, at once. A crawl whose process died is left `running`
//! and stays hidden; its rows remain in the internal tables (and `prune` removes it).
//!
//! The views are dropped and recreated with the same columns in the same order (the
//! contract in `schema::PUBLIC_VIEWS`), so queries written against schema 1 keep working;
//! `crawl_nodes` gains two columns at its end, `bootstrap` and `clock_skew_s`, which schema 1
//! kept internal.

/// The SQL of the migration. Appended to `schema::MIGRATIONS`; never edit once shipped.
pub(crate) const MIGRATION_SEALED_VIEWS_AND_HISTORY: &str = r#"
DROP VIEW crawl_nodes;
DROP VIEW crawl_edges;
DROP VIEW crawl_responses;
DROP VIEW crawl_invalid_entries;

CREATE VIEW crawl_nodes AS
SELECT n.crawl_id, n.hostname, n.port, n.peer_id, n.reachable, n.tls_fingerprint,
       n.node_version, n.server_timestamp, n.peer_addr, n.error,
       n.bootstrap, n.clock_skew_s
FROM nodes AS n
JOIN crawls AS c ON c.id = n.crawl_id AND c.status <> 'running';

CREATE VIEW crawl_edges AS
SELECT e.crawl_id,
       s.hostname AS src_hostname, s.port AS src_port,
       d.hostname AS dst_hostname, d.port AS dst_port, d.peer_id AS dst_peer_id,
       CASE WHEN e.net < 0 THEN 'cut' ELSE 'mempool' END AS network,
       CASE WHEN e.net < 0 THEN NULL ELSE e.net END AS chain
FROM edges AS e
JOIN crawls AS c ON c.id = e.crawl_id AND c.status <> 'running'
JOIN nodes AS s ON s.crawl_id = e.crawl_id AND s.node = e.src
JOIN nodes AS d ON d.crawl_id = e.crawl_id AND d.node = e.dst;

CREATE VIEW crawl_responses AS
SELECT r.crawl_id, n.hostname, n.port,
       CASE WHEN r.net IS NULL THEN NULL WHEN r.net < 0 THEN 'cut' ELSE 'mempool' END
           AS network,
       CASE WHEN r.net >= 0 THEN r.net END AS chain,
       r.page, r.cursor, r.status, r.latency_ms, r.peer_addr, r.server_timestamp,
       r.node_version, r.tls_fingerprint, r.items, r.next, r.bytes, r.error, r.detail,
       strftime('%Y-%m-%dT%H:%M:%fZ', r.observed_at_ms / 1000.0, 'unixepoch') AS observed_at
FROM responses AS r
JOIN crawls AS c ON c.id = r.crawl_id AND c.status <> 'running'
JOIN nodes AS n ON n.crawl_id = r.crawl_id AND n.node = r.node;

CREATE VIEW crawl_invalid_entries AS
SELECT i.crawl_id, n.hostname AS src_hostname, n.port AS src_port,
       CASE WHEN i.net < 0 THEN 'cut' ELSE 'mempool' END AS network,
       CASE WHEN i.net < 0 THEN NULL ELSE i.net END AS chain,
       i.reason, i.raw
FROM invalid_entries AS i
JOIN crawls AS c ON c.id = i.crawl_id AND c.status <> 'running'
JOIN nodes AS n ON n.crawl_id = i.crawl_id AND n.node = i.src;

-- One row per sealed crawl with its headline figures.
CREATE VIEW crawl_summary AS
SELECT c.id AS crawl_id, c.network, c.status, c.started_at, c.ended_at,
       round((julianday(c.ended_at) - julianday(c.started_at)) * 86400.0, 3) AS duration_s,
       (SELECT count(*) FROM nodes AS n WHERE n.crawl_id = c.id) AS nodes_known,
       (SELECT count(*) FROM nodes AS n WHERE n.crawl_id = c.id AND n.reachable = 1)
           AS nodes_reachable,
       (SELECT count(*) FROM nodes AS n WHERE n.crawl_id = c.id AND n.reachable = 0)
           AS nodes_failed,
       (SELECT count(*) FROM nodes AS n WHERE n.crawl_id = c.id AND n.reachable IS NULL)
           AS nodes_not_contacted,
       (SELECT count(*) FROM edges AS e WHERE e.crawl_id = c.id AND e.net < 0) AS cut_edges,
       (SELECT count(*) FROM edges AS e WHERE e.crawl_id = c.id AND e.net >= 0)
           AS mempool_edges,
       c.frontier_left
FROM crawls AS c
WHERE c.status <> 'running';

-- One row per address (and chainweb network) ever known in a sealed crawl.
CREATE VIEW crawl_node_history AS
WITH seen AS (
    SELECT c.network, n.hostname, n.port, n.crawl_id, n.reachable, n.node_version
    FROM nodes AS n
    JOIN crawls AS c ON c.id = n.crawl_id AND c.status <> 'running'
),
g AS (
    SELECT network, hostname, port,
           min(crawl_id) AS first_crawl_id,
           max(crawl_id) AS last_crawl_id,
           count(*) AS crawls_seen,
           coalesce(sum(reachable = 1), 0) AS crawls_reached,
           max(CASE WHEN reachable = 1 THEN crawl_id END) AS last_reached_crawl_id,
           max(CASE WHEN node_version IS NOT NULL THEN crawl_id END) AS version_crawl_id
    FROM seen
    GROUP BY network, hostname, port
)
SELECT g.network, g.hostname, g.port,
       g.first_crawl_id, f.started_at AS first_seen,
       g.last_crawl_id, l.started_at AS last_seen,
       g.crawls_seen, g.crawls_reached,
       g.last_reached_crawl_id,
       ln.reachable AS last_reachable,
       v.node_version AS last_version,
       ln.peer_id AS last_peer_id,
       ln.tls_fingerprint AS last_tls_fingerprint
FROM g
JOIN crawls AS f ON f.id = g.first_crawl_id
JOIN crawls AS l ON l.id = g.last_crawl_id
JOIN nodes AS ln ON ln.crawl_id = g.last_crawl_id AND ln.hostname = g.hostname
                AND ln.port = g.port
LEFT JOIN nodes AS v ON v.crawl_id = g.version_crawl_id AND v.hostname = g.hostname
                    AND v.port = g.port;
"#;

#[cfg(test)]
mod tests {
    use crate::api::NetworkId;
    use crate::store::{CrawlStatus, Store};

    fn count(store: &Store, sql: &str) -> i64 {
        store.connection().query_row(sql, [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn views_show_a_crawl_only_once_it_is_sealed() {
        let store = Store::open_in_memory().unwrap();
        let id = store
            .begin_crawl(NetworkId::Development, &serde_json::json!({}))
            .unwrap();
        store
            .connection()
            .execute_batch(&format!(
                "INSERT INTO nodes (crawl_id, node, hostname, port, reachable) \
                 VALUES ({id}, 0, '127.0.0.1', 1789, 1), ({id}, 1, '127.0.0.2', 1789, NULL);
                 INSERT INTO edges VALUES ({id}, 0, -1, 1), ({id}, 0, 3, 1);"
            ))
            .unwrap();
        for view in [
            "crawl_nodes",
            "crawl_edges",
            "crawl_responses",
            "crawl_summary",
            "crawl_node_history",
        ] {
            assert_eq!(count(&store, &format!("SELECT count(*) FROM {view}")), 0);
        }
        store
            .finish_crawl(id, CrawlStatus::Complete, 0, None)
            .unwrap();
        assert_eq!(count(&store, "SELECT count(*) FROM crawl_nodes"), 2);
        assert_eq!(count(&store, "SELECT count(*) FROM crawl_edges"), 2);
        assert_eq!(
            count(
                &store,
                "SELECT nodes_known * 1000 + nodes_reachable * 100 + nodes_not_contacted * 10 \
                 + cut_edges + mempool_edges FROM crawl_summary"
            ),
            2000 + 100 + 10 + 2
        );
        assert_eq!(
            count(
                &store,
                "SELECT count(*) FROM crawl_node_history WHERE crawls_seen = 1"
            ),
            2
        );
    }
}
