-- Question: Which nodes that were reachable in the previous crawl are gone from the latest
--   one, or no longer reachable there? With the history of each across all stored crawls.
-- Columns: hostname, port, now, error, previous_version, crawls_seen, crawls_reached, first_seen
-- Crawl: the latest sealed crawl against the sealed crawl before it. To pick others, replace
--   the subqueries in `params` by ids, e.g. `SELECT 7 AS crawl_id, 5 AS previous_id`.
-- Run: sqlite3 -header -column output/crawl.sqlite < queries/disappeared.sql
WITH params AS (
    SELECT (SELECT max(id) FROM crawls WHERE status <> 'running') AS crawl_id,
           (SELECT max(id) FROM crawls WHERE status <> 'running'
             AND id < (SELECT max(id) FROM crawls WHERE status <> 'running')) AS previous_id
)
SELECT b.hostname, b.port,
       CASE WHEN n.hostname IS NULL THEN 'absent' ELSE 'unreachable' END AS now,
       n.error,
       b.node_version AS previous_version,
       h.crawls_seen, h.crawls_reached, h.first_seen
FROM crawl_nodes AS b
JOIN params ON b.crawl_id = params.previous_id
JOIN crawls AS c ON c.id = b.crawl_id
LEFT JOIN crawl_nodes AS n
  ON n.crawl_id = params.crawl_id AND n.hostname = b.hostname AND n.port = b.port
LEFT JOIN crawl_node_history AS h
  ON h.network = c.network AND h.hostname = b.hostname AND h.port = b.port
WHERE b.reachable = 1 AND n.reachable IS NOT 1
ORDER BY now, b.hostname, b.port;
