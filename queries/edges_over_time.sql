-- Question: How did the number of advertised entries (edges) of each peer network change
--   over the stored crawls? One row per crawl and network (mempool summed over chains),
--   with the number of nodes that served a non-empty list.
-- Columns: crawl_id, started_at, network, edges, sources
-- Crawl: every sealed crawl, oldest first. To limit it, edit `since_id` in `params` (the
--   first crawl id to include; 0 for all).
-- Run: sqlite3 -header -column output/crawl.sqlite < queries/edges_over_time.sql
WITH params AS (
    SELECT 0 AS since_id
)
SELECT e.crawl_id, c.started_at, e.network, count(*) AS edges,
       count(DISTINCT e.src_hostname || ':' || e.src_port) AS sources
FROM crawl_edges AS e
JOIN crawls AS c ON c.id = e.crawl_id
JOIN params
WHERE e.crawl_id >= params.since_id
GROUP BY e.crawl_id, e.network
ORDER BY e.crawl_id, e.network;
