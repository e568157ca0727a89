-- Question: Why were nodes not reachable? A histogram of the failure and skip reasons
--   (`error`), split into nodes contacted without success (reachable = 0) and nodes never
--   contacted (reachable NULL). docs/schema.md defines every reason.
-- Columns: outcome, error, nodes, share_pct
-- Crawl: the latest sealed crawl. To pick another, replace the subquery in `params` by a
--   crawl id, e.g. `SELECT 3 AS crawl_id`.
-- Run: sqlite3 -header -column output/crawl.sqlite < queries/failure_reasons.sql
WITH params AS (
    SELECT (SELECT max(id) FROM crawls WHERE status <> 'running') AS crawl_id
)
SELECT CASE WHEN n.reachable = 0 THEN 'failed' ELSE 'not_contacted' END AS outcome,
       coalesce(n.error, 'unknown') AS error,
       count(*) AS nodes,
       round(100.0 * count(*) / sum(count(*)) OVER (), 2) AS share_pct
FROM crawl_nodes AS n, params
WHERE n.crawl_id = params.crawl_id AND n.reachable IS NOT 1
GROUP BY 1, 2
ORDER BY nodes DESC, outcome, error;
