-- Question: Which nodes are advertised by others but were not reachable in this crawl, and
--   were they ever reachable in any stored crawl? Sorted by how many nodes advertise them.
-- Columns: hostname, port, advertised_by, reachable, error, crawls_seen, crawls_reached
-- Crawl: the latest sealed crawl. To pick another, replace the subquery in `params` by a
--   crawl id, e.g. `SELECT 3 AS crawl_id` (list them with queries/crawls.sql).
-- Run: sqlite3 -header -column output/crawl.sqlite < queries/never_reachable.sql
WITH params AS (
    SELECT (SELECT max(id) FROM crawls WHERE status <> 'running') AS crawl_id
),
advertised AS (
    SELECT e.dst_hostname AS hostname, e.dst_port AS port,
           count(DISTINCT e.src_hostname || ':' || e.src_port) AS advertised_by
    FROM crawl_edges AS e, params
    WHERE e.crawl_id = params.crawl_id
    GROUP BY 1, 2
),
-- Computed once: joined as a view, SQLite recomputed the history for every row.
history AS MATERIALIZED (
    SELECT h.hostname, h.port, h.crawls_seen, h.crawls_reached
    FROM crawl_node_history AS h
    JOIN crawls AS c ON c.network = h.network
    JOIN params ON c.id = params.crawl_id
)
SELECT a.hostname, a.port, a.advertised_by, n.reachable, n.error,
       h.crawls_seen, h.crawls_reached
FROM advertised AS a
JOIN params
JOIN crawl_nodes AS n
  ON n.crawl_id = params.crawl_id AND n.hostname = a.hostname AND n.port = a.port
LEFT JOIN history AS h ON h.hostname = a.hostname AND h.port = a.port
WHERE n.reachable IS NOT 1
ORDER BY a.advertised_by DESC, a.hostname, a.port;
