-- Question: Which crawls does the database hold, and what are their headline figures?
-- Columns: crawl_id, network, status, started_at, duration_s, nodes_known, nodes_reachable, nodes_failed, nodes_not_contacted, cut_edges, mempool_edges
-- Crawl: every sealed crawl, newest first (a running crawl appears once it is sealed).
-- Run: sqlite3 -header -column output/crawl.sqlite < queries/crawls.sql
SELECT crawl_id, network, status, started_at, duration_s, nodes_known, nodes_reachable,
       nodes_failed, nodes_not_contacted, cut_edges, mempool_edges
FROM crawl_summary
ORDER BY crawl_id DESC;
