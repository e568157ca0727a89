//! Issue #5: every file in `queries/` runs unchanged against a database of two crawls of a
//! churning simnet and returns rows with the columns its header documents.

use std::path::{Path, PathBuf};

use chainweb_crawler::cli::crawl::{crawl_config, run_crawl};
use chainweb_crawler::simnet::{Simnet, SimnetConfig};
use chainweb_crawler::store::Store;

use crate::support;

/// The `-- Columns: a, b, c` line of a query file.
fn documented_columns(sql: &str) -> Option<Vec<String>> {
    sql.lines()
        .find_map(|l| l.strip_prefix("-- Columns:"))
        .map(|c| c.split(',').map(|s| s.trim().to_string()).collect())
}

fn query_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("queries");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("queries/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    files.sort();
    files
}

/// Two crawls with churn between them, plus one planted clock-skew outlier and one
/// certificate mismatch (a clean simnet has neither).
async fn two_crawls(db: &Path) {
    let mut net = Simnet::start(SimnetConfig {
        nodes: 100,
        seed: 8,
        subnet: support::subnet(),
        ..SimnetConfig::default()
    })
    .await
    .expect("simnet starts");
    for round in 0..2 {
        if round > 0 {
            net.churn(0.15).await.expect("churn");
        }
        let config = crawl_config(
            net.config().network,
            net.bootstrap(),
            &support::loopback_options(),
            None,
        )
        .expect("valid");
        run_crawl(
            config,
            db,
            serde_json::json!({}),
            support::quiet_ui(),
            std::future::pending(),
        )
        .await
        .expect("crawl runs");
    }
    net.shutdown().await;
    let store = Store::open(db).expect("open");
    store
        .connection()
        .execute_batch(
            "UPDATE nodes SET clock_skew_s = 120.5 WHERE crawl_id = 2 AND node = 1;
             UPDATE nodes SET tls_fingerprint = 'planted-mismatch' WHERE crawl_id = 2 AND node = 2;",
        )
        .expect("plant anomalies");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_query_file_runs_and_returns_its_documented_columns() {
    let dir = support::scratch("queries");
    let db = dir.join("crawl.sqlite");
    two_crawls(&db).await;
    // A plain connection, as sqlite3 or pandas would open it: no Store, no pragmas.
    let conn = rusqlite::Connection::open(&db).expect("open");
    let files = query_files();
    assert!(
        files.len() >= 12,
        "at least twelve ready queries: {files:?}"
    );
    let mut counts = std::collections::BTreeMap::new();
    for f in &files {
        let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("?");
        let sql = std::fs::read_to_string(f).expect("read");
        for field in ["-- Question:", "-- Crawl:", "-- Run:"] {
            assert!(sql.contains(field), "{name} documents {field}");
        }
        let want = documented_columns(&sql).unwrap_or_else(|| panic!("{name} has no Columns line"));
        let mut stmt = conn
            .prepare(&sql)
            .unwrap_or_else(|e| panic!("{name} does not prepare: {e}"));
        let got: Vec<String> = stmt.column_names().map(|s| s.to_string()).collect();
        assert_eq!(got, want, "{name}: columns");
        let width = got.len();
        let mut rows = stmt.query([]).expect("query");
        let mut n = 0usize;
        while let Some(r) = rows.next().unwrap_or_else(|e| panic!("{name}: {e}")) {
            // Every column reads as some SQLite value.
            for i in 0..width {
                r.get_ref(i)
                    .unwrap_or_else(|e| panic!("{name} column {i}: {e}"));
            }
            n += 1;
        }
        assert!(n > 0, "{name} returns rows");
        counts.insert(name.to_string(), n);
    }
    same_rows_through_python(&db, &files, &counts);
    exports_follow_the_views(&db, &conn);
    let _ = std::fs::remove_dir_all(dir);
}

/// Python's sqlite3 module (what pandas uses, linked to the system's SQLite, not ours)
/// returns the same number of rows for every file. Skipped where python3 is missing.
fn same_rows_through_python(
    db: &Path,
    files: &[PathBuf],
    counts: &std::collections::BTreeMap<String, usize>,
) {
    const SCRIPT: &str = "import json, os, sqlite3, sys\n\
        c = sqlite3.connect(sys.argv[1])\n\
        print(json.dumps({os.path.basename(f): len(c.execute(open(f).read()).fetchall()) \
        for f in sys.argv[2:]}))\n";
    let out = match std::process::Command::new("python3")
        .arg("-c")
        .arg(SCRIPT)
        .arg(db)
        .args(files)
        .output()
    {
        Ok(o) => o,
        Err(e) => {
            eprintln!("python3 not available ({e}): Python check skipped");
            return;
        }
    };
    assert!(
        out.status.success(),
        "python3: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: std::collections::BTreeMap<String, usize> =
        serde_json::from_slice(&out.stdout).expect("python prints json");
    assert_eq!(&got, counts, "row counts through Python's sqlite3");
}

fn export(db: &Path, args: &[&str]) -> String {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_chainweb-crawler"))
        .args(["export", "--db", db.to_str().expect("utf8")])
        .args(args)
        .output()
        .expect("binary runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).expect("utf8")
}

fn count(conn: &rusqlite::Connection, sql: &str) -> usize {
    conn.query_row(sql, [], |r| r.get::<_, i64>(0))
        .map(|n| n as usize)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// `export` filters agree with the same question asked of the views.
fn exports_follow_the_views(db: &Path, conn: &rusqlite::Connection) {
    let peers = export(db, &["--format", "peers", "--reachable-only"]);
    let listed = chainweb_crawler::api::parse_bootstrap_list(&peers).expect("a bootstrap list");
    assert_eq!(
        listed.len(),
        count(
            conn,
            "SELECT count(*) FROM crawl_nodes WHERE crawl_id = 2 AND reachable = 1"
        )
    );
    assert!(listed.iter().all(|p| p.id.is_some()));
    let csv = export(db, &["--format", "csv", "--network", "chain:3"]);
    assert_eq!(
        csv.lines().next(),
        Some("src_hostname,src_port,dst_hostname,dst_port,dst_peer_id,network,chain")
    );
    assert_eq!(
        csv.lines().count() - 1,
        count(
            conn,
            "SELECT count(*) FROM crawl_edges WHERE crawl_id = 2 AND chain = 3"
        )
    );
    let v3 = export(
        db,
        &[
            "--format",
            "csv",
            "--network",
            "cut",
            "--reachable-only",
            "--version",
            "3.",
        ],
    );
    assert_eq!(
        v3.lines().count() - 1,
        count(
            conn,
            "SELECT count(*) FROM crawl_edges AS e \
             JOIN crawl_nodes AS s ON s.crawl_id = e.crawl_id AND s.hostname = e.src_hostname \
                  AND s.port = e.src_port \
             JOIN crawl_nodes AS d ON d.crawl_id = e.crawl_id AND d.hostname = e.dst_hostname \
                  AND d.port = e.dst_port \
             WHERE e.crawl_id = 2 AND e.network = 'cut' AND s.reachable = 1 AND d.reachable = 1 \
               AND s.node_version LIKE '3.%' AND d.node_version LIKE '3.%'"
        )
    );
    assert!(v3.lines().count() > 1);
}
