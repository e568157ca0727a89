-- Question: Which nodes' clocks are off by more than a threshold? clock_skew_s is the
--   node's x-server-timestamp minus our clock when its answer arrived, in seconds (the
--   header has whole seconds, so half a second is added: see docs/schema.md).
-- Columns: hostname, port, clock_skew_s, server_timestamp, node_version
-- Crawl: the latest sealed crawl. To pick another, replace the subquery in `params` by a
--   crawl id, e.g. `SELECT 3 AS crawl_id`. Edit `threshold_s` (default 5 seconds).
-- Run: sqlite3 -header -column output/crawl.sqlite < queries/clock_skew_outliers.sql
WITH params AS (
    SELECT (SELECT max(id) FROM crawls WHERE status <> 'running') AS crawl_id,
           5.0 AS threshold_s
)
SELECT n.hostname, n.port, round(n.clock_skew_s, 3) AS clock_skew_s, n.server_timestamp,
       n.node_version
FROM crawl_nodes AS n, params
WHERE n.crawl_id = params.crawl_id
  AND abs(n.clock_skew_s) > params.threshold_s
ORDER BY abs(n.clock_skew_s) DESC, n.hostname, n.port;
