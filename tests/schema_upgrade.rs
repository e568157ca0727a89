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

fn count(store: &Store, sql: &str) -> i64 {
    store
        .connection()
        .query_row(sql, [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

#[test]
fn schema_v1_database_upgrades_and_reads_through_the_views() {
    let db = v1_copy("schema-v1");
    {
        let raw = rusqlite::Connection::open(&db).expect("open raw");
        let v: i64 = raw
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .expect("version");
        assert_eq!(v, 1, "the fixture is a schema-v1 database");
    }
    let store = Store::open(&db).expect("the current program opens a v1 database");
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
