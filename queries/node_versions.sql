-- Question: Which node versions run in the network: how many reachable nodes report each
--   version (x-chainweb-node-version), and what share of the reachable nodes is that?
-- Columns: node_version, nodes, share_pct
-- Crawl: the latest sealed crawl. To pick another, replace the subquery in `params` by a
--   crawl id, e.g. `SELECT 3 AS crawl_id` (list them with `SELECT id, network, status, started_at FROM crawls`).
-- Run: sqlite3 -header -column output/crawl.sqlite < queries/node_versions.sql
WITH params AS (
    SELECT (SELECT max(id) FROM crawls WHERE status <> 'running') AS crawl_id
)
SELECT coalesce(n.node_version, 'unknown') AS node_version,
       count(*) AS nodes,
       round(100.0 * count(*) / sum(count(*)) OVER (), 2) AS share_pct
FROM crawl_nodes AS n, params
WHERE n.crawl_id = params.crawl_id AND n.reachable = 1
GROUP BY 1
ORDER BY nodes DESC, node_version;
