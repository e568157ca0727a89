-- Question: Which nodes are in the cut network but absent from the mempool network of some
--   chain? A node is in a network when at least one node advertised it in that network's
--   list; the chains counted are those whose mempool network has any entry in the crawl.
-- Columns: hostname, port, reachable, missing_chains, missing
-- Crawl: the latest sealed crawl. To pick another, replace the subquery in `params` by a
--   crawl id, e.g. `SELECT 3 AS crawl_id`.
-- Run: sqlite3 -header -column output/crawl.sqlite < queries/cut_not_in_mempool.sql
WITH params AS (
    SELECT (SELECT max(id) FROM crawls WHERE status <> 'running') AS crawl_id
),
members AS (
    SELECT DISTINCT e.network, e.chain, e.dst_hostname AS hostname, e.dst_port AS port
    FROM crawl_edges AS e, params
    WHERE e.crawl_id = params.crawl_id
),
chains AS (
    SELECT DISTINCT chain FROM members WHERE network = 'mempool'
),
gaps AS (
    SELECT m.hostname, m.port, ch.chain
    FROM members AS m
    CROSS JOIN chains AS ch
    WHERE m.network = 'cut'
      AND NOT EXISTS (
          SELECT 1 FROM members AS x
          WHERE x.network = 'mempool' AND x.chain = ch.chain
            AND x.hostname = m.hostname AND x.port = m.port
      )
)
SELECT g.hostname, g.port, n.reachable, count(*) AS missing_chains,
       group_concat(g.chain, ',') AS missing
FROM gaps AS g
JOIN params
JOIN crawl_nodes AS n
  ON n.crawl_id = params.crawl_id AND n.hostname = g.hostname AND n.port = g.port
GROUP BY g.hostname, g.port
ORDER BY missing_chains DESC, g.hostname, g.port;
