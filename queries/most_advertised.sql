-- Question: Which nodes are advertised most (highest in-degree) in each peer network? The
--   ten most advertised nodes per network (cut, and each chain's mempool network).
-- Columns: network, chain, rank, hostname, port, in_degree, reachable
-- Crawl: the latest sealed crawl. To pick another, replace the subquery in `params` by a
--   crawl id, e.g. `SELECT 3 AS crawl_id`. Change `top` to list more or fewer per network.
-- Run: sqlite3 -header -column output/crawl.sqlite < queries/most_advertised.sql
WITH params AS (
    SELECT (SELECT max(id) FROM crawls WHERE status <> 'running') AS crawl_id, 10 AS top
),
degree AS (
    SELECT e.network, e.chain, e.dst_hostname AS hostname, e.dst_port AS port,
           count(*) AS in_degree
    FROM crawl_edges AS e, params
    WHERE e.crawl_id = params.crawl_id
    GROUP BY 1, 2, 3, 4
),
ranked AS (
    SELECT d.*, row_number() OVER (
        PARTITION BY d.network, d.chain ORDER BY d.in_degree DESC, d.hostname, d.port
    ) AS rank
    FROM degree AS d
)
SELECT r.network, r.chain, r.rank, r.hostname, r.port, r.in_degree, n.reachable
FROM ranked AS r
JOIN params
JOIN crawl_nodes AS n
  ON n.crawl_id = params.crawl_id AND n.hostname = r.hostname AND n.port = r.port
WHERE r.rank <= params.top
ORDER BY r.network, r.chain, r.rank;
