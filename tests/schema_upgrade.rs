//! Issue #5: a database written by the first released schema opens, upgrades and reads
//! through the public views with the current program.

use chainweb_crawler::graph::Stats;
use chainweb_crawler::store::schema::SCHEMA_VERSION;
use chainweb_crawler::store::{CrawlId, CrawlStatus, Store};

use crate::support;

/// A private copy of the v1 fixture (the committed file is never written).
fn v1_copy(name: &str) -> std::path::PathBuf {
    let dir = support::scratch(name);
    let db = dir.join("v1.sqlite");
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
        .join("schema-v1.sqlite");
    std::fs::copy(&fixture, &db).expect("copy the fixture");
    db
}

/// Every `(crawl_id, src, net, dst)` of the table or view `edges`, in key order.
fn edge_rows(conn: &rusqlite::Connection) -> Vec<(i64, i64, i64, i64)> {
    conn.prepare("SELECT crawl_id, src, net, dst FROM edges ORDER BY 1, 2, 3, 4")
        .expect("edges")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .expect("edge rows")
        .collect::<Result<_, _>>()
        .expect("edge rows")
}

fn count(store: &Store, sql: &str) -> i64 {
    store
        .connection()
        .query_row(sql, [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

#[test]
fn schema_v1_database_upgrades_and_reads_through_the_views() {
    let db = v1_copy("schema-v1");
    let raw_edges;
    {
        let raw = rusqlite::Connection::open(&db).expect("open raw");
        let v: i64 = raw
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .expect("version");
        assert_eq!(v, 1, "the fixture is a schema-v1 database");
        raw_edges = edge_rows(&raw);
    }
    let store = Store::open(&db).expect("the current program opens a v1 database");
    // Schema 4 moved the edges into one row per list: the same rows read back.
    assert_eq!(edge_rows(store.connection()), raw_edges);
    assert_eq!(raw_edges.len(), 449 + 450);
    assert_eq!(
        count(&store, "SELECT user_version FROM pragma_user_version"),
        SCHEMA_VERSION
    );
    let crawls = store.list_crawls().expect("crawls");
    assert_eq!(
        crawls.iter().map(|c| (c.id, c.status)).collect::<Vec<_>>(),
        vec![
            (CrawlId(1), CrawlStatus::Complete),
            (CrawlId(2), CrawlStatus::Complete)
        ]
    );
    for id in [1, 2] {
        assert_eq!(
            count(
                &store,
                &format!("SELECT count(*) FROM crawl_nodes WHERE crawl_id = {id}")
            ),
            9
        );
        assert_eq!(
            count(
                &store,
                &format!("SELECT count(*) FROM crawl_nodes WHERE crawl_id = {id} AND reachable")
            ),
            7
        );
    }
    assert_eq!(
        count(
            &store,
            "SELECT count(*) FROM crawl_edges WHERE crawl_id = 1"
        ),
        449
    );
    assert_eq!(
        count(
            &store,
            "SELECT count(*) FROM crawl_edges WHERE crawl_id = 2"
        ),
        450
    );
    assert_eq!(count(&store, "SELECT count(*) FROM crawl_responses"), 298);
    // The statistics and exports read the upgraded crawl as they read a new one.
    let data = store.load_crawl(CrawlId(2)).expect("load");
    let stats = Stats::compute(&data);
    assert!(stats.to_json().expect("json").contains("\"reachable\""));
    // Opening again is a no-op: the upgrade is applied once.
    drop(store);
    let store = Store::open(&db).expect("reopen");
    assert_eq!(
        count(&store, "SELECT user_version FROM pragma_user_version"),
        SCHEMA_VERSION
    );
}

/// The public views and their columns, written out literally: the contract with
/// researchers and dashboards (docs/schema.md). Columns may be appended at the end in a new
/// migration; losing, renaming or reordering one fails here. Kept apart from
/// `schema::PUBLIC_VIEWS` on purpose, so that editing the schema and its list together
/// still fails.
const CONTRACT: &[(&str, &str)] = &[
    (
        "crawl_nodes",
        "crawl_id, hostname, port, peer_id, reachable, tls_fingerprint, node_version, \
         server_timestamp, peer_addr, error, bootstrap, clock_skew_s",
    ),
    (
        "crawl_edges",
        "crawl_id, src_hostname, src_port, dst_hostname, dst_port, dst_peer_id, network, chain",
    ),
    (
        "crawl_responses",
        "crawl_id, hostname, port, network, chain, page, cursor, status, latency_ms, \
         peer_addr, server_timestamp, node_version, tls_fingerprint, items, next, bytes, \
         error, detail, observed_at",
    ),
    (
        "crawl_invalid_entries",
        "crawl_id, src_hostname, src_port, network, chain, reason, raw",
    ),
    (
        "crawl_summary",
        "crawl_id, network, status, started_at, ended_at, duration_s, nodes_known, \
         nodes_reachable, nodes_failed, nodes_not_contacted, cut_edges, mempool_edges, \
         frontier_left",
    ),
    (
        "crawl_node_history",
        "network, hostname, port, first_crawl_id, first_seen, last_crawl_id, last_seen, \
         crawls_seen, crawls_reached, last_reached_crawl_id, last_reachable, last_version, \
         last_peer_id, last_tls_fingerprint",
    ),
    (
        "crawl_node_info",
        "crawl_id, hostname, port, cut_height, self_hostname, self_port, mempool_p2p, error",
    ),
];

/// Views over internal tables, not part of the contract (documented as internal).
const INTERNAL_VIEWS: &[&str] = &["edges"];

/// Each contract view's columns start with the contract's (appended columns allowed), and
/// every view in the database is in the contract.
fn assert_contract(conn: &rusqlite::Connection, what: &str) {
    for (view, columns) in CONTRACT {
        let stmt = conn
            .prepare(&format!("SELECT * FROM {view}"))
            .unwrap_or_else(|e| panic!("{what}: view {view} is missing: {e}"));
        let names: Vec<&str> = stmt.column_names().collect();
        let want: Vec<&str> = columns.split(", ").collect();
        assert!(
            names.len() >= want.len() && names[..want.len()] == want[..],
            "{what}: view {view} has columns {names:?}, the contract says {want:?}"
        );
    }
    let mut stmt = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'view' ORDER BY name")
        .expect("list views");
    let views: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .expect("views")
        .collect::<Result<_, _>>()
        .expect("views");
    for v in &views {
        assert!(
            CONTRACT.iter().any(|(name, _)| name == v) || INTERNAL_VIEWS.contains(&v.as_str()),
            "{what}: view {v} is not in the contract: document it in docs/schema.md and add it here"
        );
    }
    // The library's own list agrees with the contract.
    for (view, columns) in chainweb_crawler::store::schema::PUBLIC_VIEWS {
        let want = CONTRACT
            .iter()
            .find(|(name, _)| name == view)
            .map(|(_, c)| c.split(", ").collect::<Vec<_>>());
        assert_eq!(want.as_deref(), Some(*columns), "PUBLIC_VIEWS entry {view}");
    }
}

#[test]
fn public_views_keep_their_columns_in_new_and_upgraded_databases() {
    let dir = support::scratch("schema-contract");
    let fresh = Store::open(&dir.join("new.sqlite")).expect("new database");
    assert_contract(fresh.connection(), "new database");
    let upgraded = Store::open(&v1_copy("schema-contract-v1")).expect("upgraded database");
    assert_contract(upgraded.connection(), "upgraded v1 database");
}

#[test]
fn node_history_spans_the_fixture_crawls() {
    let store = Store::open(&v1_copy("schema-history")).expect("open");
    let conn = store.connection();
    // The two crawls share 8 addresses; 127.33.0.5 was met only by the first crawl and
    // 127.33.0.7 only by the second (other seeds, other lists).
    let rows: Vec<(String, i64, i64, i64, i64, Option<String>)> = conn
        .prepare(
            "SELECT hostname, first_crawl_id, last_crawl_id, crawls_seen, crawls_reached, \
             last_version FROM crawl_node_history ORDER BY hostname",
        )
        .expect("prepare")
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(rows.len(), 10, "{rows:?}");
    let row = |h: &str| rows.iter().find(|r| r.0 == h).cloned().expect(h);
    assert_eq!(
        row("127.33.0.5"),
        ("127.33.0.5".into(), 1, 1, 1, 1, Some("2.32.0".into()))
    );
    assert_eq!(
        row("127.33.0.7"),
        ("127.33.0.7".into(), 2, 2, 1, 1, Some("2.32.0".into()))
    );
    assert_eq!(
        row("127.33.200.1"),
        ("127.33.200.1".into(), 1, 2, 2, 0, None)
    );
    let reached: i64 = rows.iter().map(|r| r.4).sum();
    assert_eq!(reached, 14, "7 reachable nodes in each crawl");
    // Versions come from the newest crawl that reported one.
    let latest: Vec<(String, Option<String>)> = conn
        .prepare(
            "SELECT hostname, node_version FROM crawl_nodes WHERE crawl_id = 2 \
             ORDER BY hostname",
        )
        .expect("prepare")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    for (h, v) in &latest {
        if v.is_some() {
            assert_eq!(v, &row(h).5, "{h}");
        }
    }
}
