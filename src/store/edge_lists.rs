//! Migration "edge lists": one row per peer list instead of one per advertised entry.
//!
//! # Why
//! A crawl of 10,000 nodes stores about four million edges, and the crawl is meant to run
//! close to what the network allows. One row per edge cost a B-tree descent per entry and
//! most of the writer's time; one row per list (a node's cut list, or its mempool list of
//! one chain) costs one insert per list, about 210,000 for that crawl, and half the space.
//! The profile that led here is in the README's performance section.
//!
//! # Shape
//! `edge_lists (crawl_id, src, net, dsts)`: `dsts` is a JSON array of the advertised node
//! numbers, ascending and without repeats, e.g. `[3,17,240]`; a list with no entries has no
//! row. `edges` is now a view with the old table's columns `(crawl_id, src, net, dst)`, so
//! queries written against the table read the same rows, and it accepts `INSERT` (a trigger
//! adds the destination to its list) for tools and tests that write edges by hand. The
//! trigger takes what the table's `INTEGER` column took (`7`, `'7'`, `7.0`) and refuses
//! anything else, NULL included: a text or fractional value in a list would make the
//! whole crawl unreadable. A repeated edge is merged, where the table raised a UNIQUE
//! error; `UPDATE` and `DELETE` on the view are refused (edit `edge_lists`).
//! `crawl_edges` and `crawl_summary` are recreated over `edge_lists` with the same columns.
//!
//! Only SQL that SQLite 3.38 understands appears in the stored schema: an older shell or
//! Python that cannot parse a view or trigger refuses to open the whole database.
//! `CROSS JOIN` fixes the join order: the planner, left to itself, looks destinations up
//! before expanding the list and scans every node once per list.

use rusqlite::{Connection, params};

use super::sql::net_from_code;
use super::{CrawlId, StoreError};
use crate::api::PeerNetwork;
use crate::crawl::NodeIdx;

/// The SQL of the migration. Appended to `schema::MIGRATIONS`; never edit once shipped.
pub(crate) const MIGRATION_EDGE_LISTS: &str = r#"
CREATE TABLE edge_lists (
    crawl_id INTEGER NOT NULL,
    src      INTEGER NOT NULL,
    net      INTEGER NOT NULL,
    dsts     TEXT NOT NULL CHECK (json_type(dsts) = 'array'),
    PRIMARY KEY (crawl_id, src, net)
) WITHOUT ROWID;

INSERT INTO edge_lists (crawl_id, src, net, dsts)
SELECT crawl_id, src, net, json_group_array(dst)
FROM (SELECT crawl_id, src, net, dst FROM edges ORDER BY crawl_id, src, net, dst)
GROUP BY crawl_id, src, net;

DROP VIEW crawl_edges;
DROP VIEW crawl_summary;
DROP TABLE edges;

CREATE VIEW edges AS
SELECT l.crawl_id, l.src, l.net, j.value AS dst
FROM edge_lists AS l
CROSS JOIN json_each(l.dsts) AS j;

CREATE TRIGGER edges_insert INSTEAD OF INSERT ON edges
BEGIN
    INSERT INTO edge_lists (crawl_id, src, net, dsts)
    SELECT NEW.crawl_id, NEW.src, NEW.net, json_array(
        CASE WHEN d BETWEEN 0 AND 4294967295 THEN d
             ELSE RAISE(ABORT, 'edges.dst must be a node number (an integer from 0)') END)
    FROM (SELECT CASE
        WHEN typeof(NEW.dst) = 'integer' THEN NEW.dst
        WHEN typeof(NEW.dst) = 'real' AND NEW.dst = CAST(NEW.dst AS INTEGER)
            THEN CAST(NEW.dst AS INTEGER)
        WHEN typeof(NEW.dst) = 'text'
             AND CAST(CAST(NEW.dst AS INTEGER) AS TEXT) = trim(NEW.dst)
            THEN CAST(NEW.dst AS INTEGER)
        END AS d)
    WHERE true
    ON CONFLICT (crawl_id, src, net) DO UPDATE SET dsts = (
        SELECT json_group_array(v) FROM (
            SELECT j.value AS v FROM json_each(edge_lists.dsts) AS j
            UNION
            SELECT j.value FROM json_each(excluded.dsts) AS j
            ORDER BY 1
        )
    );
END;

CREATE VIEW crawl_edges AS
SELECT l.crawl_id,
       s.hostname AS src_hostname, s.port AS src_port,
       d.hostname AS dst_hostname, d.port AS dst_port, d.peer_id AS dst_peer_id,
       CASE WHEN l.net < 0 THEN 'cut' ELSE 'mempool' END AS network,
       CASE WHEN l.net < 0 THEN NULL ELSE l.net END AS chain
FROM edge_lists AS l
JOIN crawls AS c ON c.id = l.crawl_id AND c.status <> 'running'
JOIN nodes AS s ON s.crawl_id = l.crawl_id AND s.node = l.src
CROSS JOIN json_each(l.dsts) AS j
CROSS JOIN nodes AS d ON d.crawl_id = l.crawl_id AND d.node = j.value;

CREATE VIEW crawl_summary AS
SELECT c.id AS crawl_id, c.network, c.status, c.started_at, c.ended_at,
       round((julianday(c.ended_at) - julianday(c.started_at)) * 86400.0, 3) AS duration_s,
       (SELECT count(*) FROM nodes AS n WHERE n.crawl_id = c.id) AS nodes_known,
       (SELECT count(*) FROM nodes AS n WHERE n.crawl_id = c.id AND n.reachable = 1)
           AS nodes_reachable,
       (SELECT count(*) FROM nodes AS n WHERE n.crawl_id = c.id AND n.reachable = 0)
           AS nodes_failed,
       (SELECT count(*) FROM nodes AS n WHERE n.crawl_id = c.id AND n.reachable IS NULL)
           AS nodes_not_contacted,
       (SELECT coalesce(sum(json_array_length(l.dsts)), 0) FROM edge_lists AS l
        WHERE l.crawl_id = c.id AND l.net < 0) AS cut_edges,
       (SELECT coalesce(sum(json_array_length(l.dsts)), 0) FROM edge_lists AS l
        WHERE l.crawl_id = c.id AND l.net >= 0) AS mempool_edges,
       c.frontier_left
FROM crawls AS c
WHERE c.status <> 'running';
"#;

/// Adds one list; changes nothing (0 rows) when the list is already stored, which the
/// writer then merges.
pub(crate) const INSERT_LIST: &str = "INSERT INTO edge_lists (crawl_id, src, net, dsts) \
     VALUES (?1, ?2, ?3, ?4) ON CONFLICT (crawl_id, src, net) DO NOTHING";

/// The `dsts` text of a list: `nodes` must be ascending without repeats.
pub(crate) fn encode(nodes: &[NodeIdx]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(2 + nodes.len() * 6);
    s.push('[');
    for (i, n) in nodes.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(s, "{n}");
    }
    s.push(']');
    s
}

/// Reads a `dsts` text back; `None` unless it is a JSON array of node numbers (hand-edited
/// rows included: any JSON spacing is accepted).
pub(crate) fn decode(text: &str) -> Option<Vec<NodeIdx>> {
    serde_json::from_str(text).ok()
}

/// How many entries the lists of crawl `crawl` hold, as a capacity hint for reading
/// them: the edges, or more where a list written by hand repeats a node (reading merges
/// those). A list that is not valid JSON counts 0 here and is reported by
/// [`for_each_list`]; so is any error, since a hint must not fail the read.
pub(crate) fn edge_count_hint(conn: &Connection, crawl: CrawlId) -> usize {
    conn.prepare_cached(
        "SELECT coalesce(sum(CASE WHEN json_valid(dsts) THEN json_array_length(dsts) END), 0) \
         FROM edge_lists WHERE crawl_id = ?1",
    )
    .and_then(|mut stmt| stmt.query_row(params![crawl], |r| r.get::<_, i64>(0)))
    .ok()
    .and_then(|n| usize::try_from(n).ok())
    .unwrap_or(0)
}

/// Calls `each` with every list of crawl `crawl` in key order (`src`, then cut before the
/// chains), each list ascending and once per node: a row written by hand is put in that
/// shape too.
///
/// # Errors
/// [`StoreError::Invalid`] for a list that is not an array of node numbers or has an unknown
/// network code; SQLite errors.
pub(crate) fn for_each_list(
    conn: &Connection,
    crawl: CrawlId,
    mut each: impl FnMut(NodeIdx, PeerNetwork, Vec<NodeIdx>),
) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT src, net, dsts FROM edge_lists WHERE crawl_id = ?1 ORDER BY src, net",
    )?;
    let mut rows = stmt.query(params![crawl])?;
    while let Some(r) = rows.next()? {
        let (src, net): (i64, i64) = (r.get(0)?, r.get(1)?);
        let bad = || StoreError::Invalid(format!("edge list ({src}, {net})"));
        let text = r.get_ref(2)?.as_str().map_err(|_| bad())?;
        let src = NodeIdx::try_from(src).map_err(|_| bad())?;
        let network = net_from_code(net).ok_or_else(bad)?;
        let mut dsts = decode(text).ok_or_else(bad)?;
        if !dsts.is_sorted_by(|a, b| a < b) {
            dsts.sort_unstable();
            dsts.dedup();
        }
        each(src, network, dsts);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_and_decode_are_inverse() {
        for nodes in [vec![], vec![0], vec![1, 5, 70_000, u32::MAX]] {
            let text = encode(&nodes);
            assert_eq!(decode(&text), Some(nodes), "{text}");
        }
        assert_eq!(encode(&[3, 17, 240]), "[3,17,240]");
        assert_eq!(decode(" [ 1 , 2 ] "), Some(vec![1, 2]));
        for bad in ["", "[", "[-1]", "[1.5]", "{}", "[\"1\"]", "[4294967296]"] {
            assert_eq!(decode(bad), None, "{bad}");
        }
    }

    fn migrated() -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        super::super::schema::migrate(&mut conn).unwrap();
        conn.execute_batch(
            "INSERT INTO crawls (id, network, started_at, status)
             VALUES (1, 'mainnet01', '2026-01-01T00:00:00Z', 'complete');",
        )
        .unwrap();
        conn
    }

    fn dsts(conn: &Connection, src: i64, net: i64) -> String {
        conn.query_row(
            "SELECT dsts FROM edge_lists WHERE crawl_id = 1 AND src = ?1 AND net = ?2",
            [src, net],
            |r| r.get(0),
        )
        .unwrap()
    }

    #[test]
    fn edge_count_hint_counts_entries_of_one_crawl() {
        let conn = migrated();
        assert_eq!(edge_count_hint(&conn, CrawlId(1)), 0);
        conn.execute_batch(
            "INSERT INTO crawls (id, network, started_at, status)
             VALUES (2, 'mainnet01', '2026-01-02T00:00:00Z', 'complete');
             INSERT INTO edge_lists VALUES (1, 0, -1, '[1,2,3]'), (1, 0, 0, '[2]'),
                                           (1, 4, -1, '[ 5 , 5 ]'), (2, 0, -1, '[9,8]');",
        )
        .unwrap();
        // The hand-written repeat counts once here and is merged when read: an upper bound.
        assert_eq!(edge_count_hint(&conn, CrawlId(1)), 6);
        let mut read = 0;
        for_each_list(&conn, CrawlId(1), |_, _, dsts| read += dsts.len()).unwrap();
        assert_eq!(read, 5);
        assert_eq!(edge_count_hint(&conn, CrawlId(2)), 2);
        assert_eq!(edge_count_hint(&conn, CrawlId(3)), 0);
        // Malformed JSON (only possible past the CHECK) counts 0 instead of failing, so
        // the read itself reports the list as it always did.
        conn.execute_batch(
            "PRAGMA ignore_check_constraints = ON;
             UPDATE edge_lists SET dsts = '[1,2' WHERE crawl_id = 2;",
        )
        .unwrap();
        assert_eq!(edge_count_hint(&conn, CrawlId(2)), 0);
        let err = for_each_list(&conn, CrawlId(2), |_, _, _| {}).unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)), "{err}");
    }

    /// Hand-written edges land in their lists, sorted and once each, and read back through
    /// the `edges` view as rows.
    #[test]
    fn inserting_into_the_edges_view_merges_into_lists() {
        let conn = migrated();
        conn.execute_batch(
            "INSERT INTO edges VALUES (1, 0, -1, 7), (1, 0, -1, 2), (1, 0, -1, 7), (1, 0, 3, 1);",
        )
        .unwrap();
        assert_eq!(dsts(&conn, 0, -1), "[2,7]");
        assert_eq!(dsts(&conn, 0, 3), "[1]");
        let rows: Vec<(i64, i64, i64)> = conn
            .prepare("SELECT src, net, dst FROM edges ORDER BY net, dst")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows, [(0, -1, 2), (0, -1, 7), (0, 3, 1)]);
    }

    /// What the old table's INTEGER column converted is converted; what it would have
    /// refused, or kept as text, is refused, and nothing is stored.
    #[test]
    fn the_edges_view_takes_node_numbers_only() {
        let conn = migrated();
        conn.execute_batch(
            "INSERT INTO edges VALUES (1, 0, -1, '7'), (1, 0, -1, 3.0), (1, 0, -1, ' 5 ');",
        )
        .unwrap();
        assert_eq!(dsts(&conn, 0, -1), "[3,5,7]");
        for bad in ["NULL", "'7x'", "'abc'", "7.5", "-1", "4294967296", "x'07'"] {
            let err = conn
                .execute_batch(&format!("INSERT INTO edges VALUES (1, 0, -1, {bad})"))
                .unwrap_err();
            assert!(err.to_string().contains("node number"), "{bad}: {err}");
        }
        assert_eq!(dsts(&conn, 0, -1), "[3,5,7]");
        let err = conn
            .execute_batch("INSERT INTO edges VALUES (1, 0, 2, NULL)")
            .unwrap_err();
        assert!(err.to_string().contains("node number"), "{err}");
        let lists: i64 = conn
            .query_row("SELECT count(*) FROM edge_lists", [], |r| r.get(0))
            .unwrap();
        assert_eq!(lists, 1);
    }

    #[test]
    fn a_list_that_is_not_an_array_is_refused() {
        let conn = migrated();
        // Valid JSON of another type fails the check; text that is not JSON fails in it.
        for bad in ["7", "{\"a\":1}", "not json"] {
            let inserted = conn.execute(
                "INSERT INTO edge_lists VALUES (1, 0, -1, ?1)",
                rusqlite::params![bad],
            );
            assert!(inserted.is_err(), "{bad}");
        }
    }
}
