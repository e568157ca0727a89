-- Question: How concentrated is the hosting of reachable nodes: what share of them sits in
--   each IPv4 /24 block, and on each port? (IPv6 addresses and DNS names count as their
--   own block, `other`.) Sorted by share within each grouping.
-- Columns: grouping, block, nodes, share_pct
-- Crawl: the latest sealed crawl. To pick another, replace the subquery in `params` by a
--   crawl id, e.g. `SELECT 3 AS crawl_id`.
-- Run: sqlite3 -header -column output/crawl.sqlite < queries/hosting_concentration.sql
WITH params AS (
    SELECT (SELECT max(id) FROM crawls WHERE status <> 'running') AS crawl_id
),
reachable AS (
    SELECT n.hostname, n.port,
           CASE WHEN n.hostname GLOB '[0-9]*.[0-9]*.[0-9]*.[0-9]*'
                THEN rtrim(n.hostname, '0123456789') || '0/24'
                ELSE 'other' END AS block24
    FROM crawl_nodes AS n, params
    WHERE n.crawl_id = params.crawl_id AND n.reachable = 1
),
grouped AS (
    SELECT '/24' AS grouping, block24 AS block, count(*) AS nodes FROM reachable GROUP BY 2
    UNION ALL
    SELECT 'port', CAST(port AS TEXT), count(*) FROM reachable GROUP BY 2
)
SELECT grouping, block, nodes,
       round(100.0 * nodes / (SELECT count(*) FROM reachable), 2) AS share_pct
FROM grouped
ORDER BY grouping, nodes DESC, block;
