-- Question: How many nodes does each peer network hold (the cut network and each chain's
--   mempool network), and how many of them are reachable? A node belongs to a network when
--   at least one node advertised it in that network's peer list.
-- Columns: network, chain, advertised_nodes, reachable_nodes, reachable_pct
-- Crawl: the latest sealed crawl. To pick another, replace the subquery in `params` by a
--   crawl id, e.g. `SELECT 3 AS crawl_id`.
-- Run: sqlite3 -header -column output/crawl.sqlite < queries/reachable_per_network.sql
WITH params AS (
    SELECT (SELECT max(id) FROM crawls WHERE status <> 'running') AS crawl_id
),
members AS (
    SELECT DISTINCT e.network, e.chain, e.dst_hostname AS hostname, e.dst_port AS port
    FROM crawl_edges AS e, params
    WHERE e.crawl_id = params.crawl_id
)
SELECT m.network,
       m.chain,
       count(*) AS advertised_nodes,
       sum(n.reachable = 1) AS reachable_nodes,
       round(100.0 * sum(n.reachable = 1) / count(*), 2) AS reachable_pct
FROM members AS m
JOIN crawl_nodes AS n
  ON n.crawl_id = (SELECT crawl_id FROM params)
 AND n.hostname = m.hostname AND n.port = m.port
GROUP BY m.network, m.chain
ORDER BY m.network, m.chain;
