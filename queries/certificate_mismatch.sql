-- Question: Which reachable nodes served a certificate whose fingerprint differs from the
--   peer id they are advertised with? (A node that changed its certificate, or an entry
--   claiming another node's id.) Nodes advertised without an id are not listed.
-- Columns: hostname, port, peer_id, tls_fingerprint, node_version
-- Crawl: the latest sealed crawl. To pick another, replace the subquery in `params` by a
--   crawl id, e.g. `SELECT 3 AS crawl_id`.
-- Run: sqlite3 -header -column output/crawl.sqlite < queries/certificate_mismatch.sql
WITH params AS (
    SELECT (SELECT max(id) FROM crawls WHERE status <> 'running') AS crawl_id
)
SELECT n.hostname, n.port, n.peer_id, n.tls_fingerprint, n.node_version
FROM crawl_nodes AS n, params
WHERE n.crawl_id = params.crawl_id
  AND n.reachable = 1
  AND n.peer_id IS NOT NULL
  AND n.tls_fingerprint IS NOT n.peer_id
ORDER BY n.hostname, n.port;
