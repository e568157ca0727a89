//! Issue #5: `crawl --every` crawls back to back into one database while a dashboard
//! reads it: the reader never sees a partial crawl and never gets "database is locked";
//! `--keep` bounds the database; metrics and summary files follow each crawl.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chainweb_crawler::simnet::{Simnet, SimnetConfig};
use chainweb_crawler::store::Store;

use crate::support;

/// What the reader saw: per crawl id, every distinct (nodes, edges) count observed.
type Seen = BTreeMap<i64, Vec<(i64, i64)>>;

/// Polls the public views until `stop`, with no busy timeout at all: in WAL mode a reader
/// must never need one.
fn poll(db: std::path::PathBuf, stop: Arc<AtomicBool>) -> Result<(Seen, u64), String> {
    let conn = rusqlite::Connection::open_with_flags(
        &db,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| format!("open: {e}"))?;
    conn.busy_timeout(std::time::Duration::ZERO)
        .map_err(|e| e.to_string())?;
    let mut seen: Seen = BTreeMap::new();
    let mut polls = 0u64;
    while !stop.load(Ordering::Relaxed) {
        // One statement, so one snapshot for both counts.
        let mut stmt = conn
            .prepare_cached(
                "SELECT n.crawl_id, n.nodes, \
                 (SELECT count(*) FROM crawl_edges AS e WHERE e.crawl_id = n.crawl_id) \
                 FROM (SELECT crawl_id, count(*) AS nodes FROM crawl_nodes GROUP BY crawl_id) AS n",
            )
            .map_err(|e| format!("prepare: {e}"))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get(1)?, r.get(2)?)))
            .map_err(|e| format!("poll {polls}: {e}"))?;
        for row in rows {
            let (id, nodes, edges) = row.map_err(|e| format!("poll {polls}: {e}"))?;
            let v = seen.entry(id).or_default();
            if !v.contains(&(nodes, edges)) {
                v.push((nodes, edges));
            }
        }
        polls += 1;
    }
    Ok((seen, polls))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_never_see_a_partial_crawl_while_crawl_every_runs() {
    let dir = support::scratch("crawl-every");
    let db = dir.join("crawl.sqlite");
    let boot = dir.join("boot.txt");
    let metrics = dir.join("crawler.prom");
    let summary = dir.join("summary.json");
    let net = Simnet::start(SimnetConfig {
        nodes: 120,
        seed: 5,
        subnet: support::subnet(),
        ..SimnetConfig::default()
    })
    .await
    .expect("simnet starts");
    net.write_bootstrap_file(&boot).expect("bootstrap file");
    let expected = net.truth().expected();
    drop(Store::open(&db).expect("create the database"));

    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let (db, stop) = (db.clone(), stop.clone());
        std::thread::spawn(move || poll(db, stop))
    };
    let args: Vec<String> = [
        "--progress",
        "never",
        "crawl",
        "--loopback-only",
        "--bootstrap-file",
        boot.to_str().expect("utf8"),
        "--db",
        db.to_str().expect("utf8"),
        "--out",
        dir.to_str().expect("utf8"),
        "--every",
        "100ms",
        "--count",
        "4",
        "--keep",
        "2",
        "--metrics-file",
        metrics.to_str().expect("utf8"),
        "--summary-file",
        summary.to_str().expect("utf8"),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_chainweb-crawler"))
        .args(&args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("binary starts");
    let mut stderr = child.stderr.take().expect("stderr");
    let status = tokio::time::timeout(std::time::Duration::from_secs(120), child.wait())
        .await
        .expect("four crawls finish in time")
        .expect("wait");
    let mut err = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut stderr, &mut err)
        .await
        .expect("stderr");
    stop.store(true, Ordering::Relaxed);
    let (seen, polls) = reader
        .join()
        .expect("reader thread")
        .unwrap_or_else(|e| panic!("the reader failed: {e}"));
    net.shutdown().await;
    assert_eq!(status.code(), Some(0), "{err}");
    assert_eq!(err.matches(") complete:").count(), 4, "{err}");

    // Every crawl the reader ever saw had all its nodes and edges at once.
    let whole = (expected.nodes.len() as i64, expected.edges.len() as i64);
    assert!(polls > 10, "the reader polled {polls} times");
    assert!(!seen.is_empty(), "the reader saw crawls");
    for (id, counts) in &seen {
        assert_eq!(counts, &vec![whole], "crawl {id} as the reader saw it");
    }
    // --keep 2: the two newest of the four crawls are left.
    let store = Store::open(&db).expect("open");
    let ids: Vec<i64> = store
        .sealed_crawls()
        .expect("crawls")
        .iter()
        .map(|c| c.0)
        .collect();
    assert_eq!(ids, vec![3, 4]);
    // The metrics file describes the last crawl in the Prometheus text format.
    let text = std::fs::read_to_string(&metrics).expect("metrics file");
    assert!(
        text.contains("chainweb_crawler_last_crawl_id 4\n"),
        "{text}"
    );
    assert!(text.contains("chainweb_crawler_crawls_total 4\n"), "{text}");
    assert!(text.contains(&format!(
        "chainweb_crawler_last_crawl_nodes{{state=\"known\"}} {}\n",
        whole.0
    )));
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (name, value) = line.rsplit_once(' ').expect("name value");
        assert!(name.starts_with("chainweb_crawler_"), "{line}");
        assert!(value.parse::<f64>().is_ok(), "{line}");
    }
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&summary).expect("summary")).expect("json");
    assert_eq!(s["crawl_id"], 4);
    assert_eq!(s["status"], "complete");
    assert_eq!(s["nodes_known"], whole.0);
    let _ = std::fs::remove_dir_all(dir);
}

/// The systemd example in the README: SIGINT while `crawl --every` waits ends it with 130
/// and leaves every crawl sealed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_between_scheduled_crawls_exits_130() {
    let dir = support::scratch("crawl-every-sigint");
    let db = dir.join("crawl.sqlite");
    let boot = dir.join("boot.txt");
    let summary = dir.join("summary.json");
    let net = Simnet::start(SimnetConfig {
        nodes: 30,
        seed: 6,
        subnet: support::subnet(),
        ..SimnetConfig::default()
    })
    .await
    .expect("simnet starts");
    net.write_bootstrap_file(&boot).expect("bootstrap file");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_chainweb-crawler"))
        .args([
            "-q",
            "crawl",
            "--loopback-only",
            "--bootstrap-file",
            boot.to_str().expect("utf8"),
            "--db",
            db.to_str().expect("utf8"),
            "--out",
            dir.to_str().expect("utf8"),
            "--every",
            "1h",
            "--summary-file",
            summary.to_str().expect("utf8"),
        ])
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("binary starts");
    // The first crawl is over once its summary is written; then it waits an hour.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !summary.exists() {
        assert!(std::time::Instant::now() < deadline, "first crawl in time");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let pid = child.id().expect("pid").to_string();
    let kill = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill runs");
    assert!(kill.success());
    let status = tokio::time::timeout(std::time::Duration::from_secs(20), child.wait())
        .await
        .expect("stops in time")
        .expect("wait");
    net.shutdown().await;
    assert_eq!(status.code(), Some(130));
    let store = Store::open(&db).expect("open");
    let crawls = store.list_crawls().expect("crawls");
    assert_eq!(crawls.len(), 1);
    assert_eq!(
        crawls[0].status,
        chainweb_crawler::store::CrawlStatus::Complete
    );
    let _ = std::fs::remove_dir_all(dir);
}
