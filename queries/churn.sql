-- Question: How much did the network churn between two crawls: how many nodes joined, left,
--   stayed, became reachable or unreachable, and how many edges were added and removed?
--   (`chainweb-crawler diff` lists them one by one.)
-- Columns: change, count
-- Crawl: the latest sealed crawl against the sealed crawl before it. To pick others, replace
--   the subqueries in `params` by ids, e.g. `SELECT 7 AS crawl_id, 5 AS previous_id`.
-- Run: sqlite3 -header -column output/crawl.sqlite < queries/churn.sql
WITH params AS (
    SELECT (SELECT max(id) FROM crawls WHERE status <> 'running') AS crawl_id,
           (SELECT max(id) FROM crawls WHERE status <> 'running'
             AND id < (SELECT max(id) FROM crawls WHERE status <> 'running')) AS previous_id
),
now AS (SELECT n.* FROM crawl_nodes AS n, params WHERE n.crawl_id = params.crawl_id),
before AS (SELECT n.* FROM crawl_nodes AS n, params WHERE n.crawl_id = params.previous_id),
e_now AS (
    SELECT src_hostname, src_port, dst_hostname, dst_port, network, chain
    FROM crawl_edges AS e, params WHERE e.crawl_id = params.crawl_id
),
e_before AS (
    SELECT src_hostname, src_port, dst_hostname, dst_port, network, chain
    FROM crawl_edges AS e, params WHERE e.crawl_id = params.previous_id
)
SELECT 'nodes_joined' AS change,
       (SELECT count(*) FROM (SELECT hostname, port FROM now
                              EXCEPT SELECT hostname, port FROM before)) AS count
UNION ALL
SELECT 'nodes_left',
       (SELECT count(*) FROM (SELECT hostname, port FROM before
                              EXCEPT SELECT hostname, port FROM now))
UNION ALL
SELECT 'nodes_stayed',
       (SELECT count(*) FROM now JOIN before USING (hostname, port))
UNION ALL
SELECT 'became_reachable',
       (SELECT count(*) FROM now JOIN before AS b USING (hostname, port)
        WHERE now.reachable = 1 AND b.reachable IS NOT 1)
UNION ALL
SELECT 'became_unreachable',
       (SELECT count(*) FROM now JOIN before AS b USING (hostname, port)
        WHERE now.reachable IS NOT 1 AND b.reachable = 1)
UNION ALL
SELECT 'edges_added', (SELECT count(*) FROM (SELECT * FROM e_now EXCEPT SELECT * FROM e_before))
UNION ALL
SELECT 'edges_removed', (SELECT count(*) FROM (SELECT * FROM e_before EXCEPT SELECT * FROM e_now));
