-- Question: How stable is each node across the stored crawls: when was it first and last
--   seen, in how many crawls was it known and reachable, and what version did it last
--   report? Least reliable first (reached in the fewest of the crawls it was seen in).
-- Columns: hostname, port, first_seen, last_seen, crawls_seen, crawls_reached, reached_pct, last_version
-- Crawl: every sealed crawl of the network of the latest one. To pick another network,
--   replace the subquery in `params`, e.g. `SELECT 'testnet04' AS network`.
-- Run: sqlite3 -header -column output/crawl.sqlite < queries/node_history.sql
WITH params AS (
    SELECT (SELECT network FROM crawls WHERE status <> 'running' ORDER BY id DESC LIMIT 1)
           AS network
)
SELECT h.hostname, h.port, h.first_seen, h.last_seen, h.crawls_seen, h.crawls_reached,
       round(100.0 * h.crawls_reached / h.crawls_seen, 1) AS reached_pct,
       h.last_version
FROM crawl_node_history AS h, params
WHERE h.network = params.network
ORDER BY reached_pct, h.crawls_seen DESC, h.hostname, h.port;
