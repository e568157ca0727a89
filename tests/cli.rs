//! The binary's behaviour on bad input: a clear one-line message, a non-zero exit, no panic.

use std::process::{Command, Output};

use crate::support;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chainweb-crawler"))
        .args(args)
        .output()
        .expect("binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn assert_fails(o: &Output, code: i32, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(code), "stderr: {err}");
    assert!(err.contains(needle), "expected {needle:?} in stderr: {err}");
    assert!(!err.contains("panicked"), "panic: {err}");
}

#[test]
fn unknown_network_is_a_usage_error() {
    let o = run(&["crawl", "--network", "mainnet02"]);
    assert_fails(&o, 2, "unknown network \"mainnet02\"");
}

#[test]
fn malformed_bootstrap_entry_is_a_usage_error() {
    let o = run(&["crawl", "--bootstrap", "not a peer", "--allow-loopback"]);
    assert_fails(&o, 2, "expected [<id>@]<host>:<port>");
    let o = run(&["crawl", "--bootstrap", "127.0.0.1", "--allow-loopback"]);
    assert_fails(&o, 2, "missing ':<port>'");
}

#[test]
fn malformed_bootstrap_file_names_the_line() {
    let dir = support::scratch("cli-bootfile");
    let f = dir.join("boot.txt");
    std::fs::write(&f, "# ok\n127.0.0.1:1789\nbad@127.0.0.1:1789\n").expect("write");
    let o = run(&[
        "crawl",
        "--bootstrap-file",
        f.to_str().expect("utf8"),
        "--loopback-only",
        "--db",
        dir.join("c.sqlite").to_str().expect("utf8"),
        "--out",
        dir.to_str().expect("utf8"),
    ]);
    assert_fails(&o, 2, "line 3");
    assert!(
        !dir.join("c.sqlite").exists(),
        "nothing is created for bad input"
    );
    let o = run(&["crawl", "--bootstrap-file", "/nonexistent/boot.txt"]);
    assert_fails(&o, 1, "cannot read bootstrap file /nonexistent/boot.txt");
}

#[test]
fn unwritable_output_folder_fails_before_crawling() {
    let o = run(&[
        "crawl",
        "--bootstrap",
        "127.0.0.1:9",
        "--loopback-only",
        "--out",
        "/proc/chainweb-crawler-out",
    ]);
    assert_fails(
        &o,
        1,
        "cannot create output folder /proc/chainweb-crawler-out",
    );
    let o = run(&["demo", "--out", "/proc/chainweb-crawler-demo"]);
    assert_fails(&o, 1, "cannot create output folder");
}

#[test]
fn reading_a_missing_database_says_so() {
    let o = run(&["stats", "--db", "/nonexistent/crawl.sqlite"]);
    assert_fails(&o, 1, "database /nonexistent/crawl.sqlite does not exist");
    let o = run(&[
        "export",
        "--db",
        "/nonexistent/crawl.sqlite",
        "--format",
        "dot",
    ]);
    assert_fails(&o, 1, "does not exist");
}

#[test]
fn out_of_range_settings_name_the_flag() {
    let o = run(&[
        "crawl",
        "--bootstrap",
        "127.0.0.1:9",
        "--loopback-only",
        "--concurrency",
        "0",
    ]);
    assert_fails(&o, 2, "--concurrency");
    let o = run(&[
        "crawl",
        "--bootstrap",
        "127.0.0.1:9",
        "--loopback-only",
        "--request-timeout",
        "0",
    ]);
    assert_fails(&o, 2, "--request-timeout");
}

#[test]
fn a_network_without_bootstrap_nodes_is_a_usage_error() {
    let o = run(&["crawl", "--network", "testnet04"]);
    assert_fails(&o, 2, "testnet04 has no built-in bootstrap nodes");
}

#[test]
fn a_url_is_not_a_peer() {
    let o = run(&["crawl", "--bootstrap", "https://node.example.org:443"]);
    assert_fails(&o, 2, "without a scheme or path");
}

#[test]
fn a_failed_crawl_is_reported_even_when_quiet() {
    let dir = support::scratch("cli-quiet-failed");
    // Port 9 on loopback: nothing listens, so the only bootstrap node refuses.
    let o = run(&[
        "-q",
        "crawl",
        "--bootstrap",
        "127.0.0.1:9",
        "--loopback-only",
        "--db",
        dir.join("c.sqlite").to_str().expect("utf8"),
        "--out",
        dir.to_str().expect("utf8"),
    ]);
    assert_fails(&o, 1, "no bootstrap node could be reached");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn an_empty_file_is_not_taken_for_a_database() {
    let dir = support::scratch("cli-empty-db");
    let db = dir.join("empty.sqlite");
    std::fs::write(&db, b"").expect("write");
    let o = run(&["stats", "--db", db.to_str().expect("utf8")]);
    assert_fails(&o, 1, "is empty, not a chainweb-crawler database");
    assert_eq!(
        std::fs::metadata(&db).expect("meta").len(),
        0,
        "left unchanged"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn error_messages_name_each_cause_once() {
    let dir = support::scratch("cli-dup-cause");
    let db = dir.join("dir.sqlite");
    std::fs::create_dir_all(&db).expect("a folder where the database should be");
    let o = run(&["stats", "--db", db.to_str().expect("utf8")]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    let first = err.find("cannot open").expect("names the failure");
    assert!(
        !err[first + 1..].contains("cannot open"),
        "repeated cause: {err}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn help_explains_every_subcommand() {
    let o = run(&["--help"]);
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    for cmd in ["demo", "crawl", "simnet", "stats", "export", "Exit codes"] {
        assert!(out.contains(cmd), "--help lacks {cmd}: {out}");
    }
}

#[test]
fn corrupt_database_is_refused_and_left_untouched() {
    let dir = support::scratch("cli-corrupt-db");
    let db = dir.join("c.sqlite");
    let garbage = b"this is not a database, and it must stay exactly like this\n".repeat(100);
    std::fs::write(&db, &garbage).expect("write");
    let db_s = db.to_str().expect("utf8");
    let o = run(&[
        "crawl",
        "--bootstrap",
        "127.0.0.1:9",
        "--loopback-only",
        "--db",
        db_s,
        "--out",
        dir.to_str().expect("utf8"),
    ]);
    assert_fails(&o, 1, "is not a SQLite database");
    let o = run(&["stats", "--db", db_s]);
    assert_fails(&o, 1, "is not a SQLite database");
    assert_eq!(std::fs::read(&db).expect("read"), garbage, "file untouched");
}

#[test]
fn locked_database_fails_clearly_and_keeps_what_is_stored() {
    use chainweb_crawler::store::{CrawlStatus, Store};
    let dir = support::scratch("cli-locked-db");
    let db = dir.join("c.sqlite");
    let id = sealed_empty_crawl(&db);
    // Another process holds the database: an exclusive transaction, as a writer would.
    let other = rusqlite::Connection::open(&db).expect("open");
    other
        .execute_batch("BEGIN EXCLUSIVE; UPDATE crawls SET error = NULL;")
        .expect("lock");
    let o = run(&[
        "crawl",
        "--bootstrap",
        "127.0.0.1:9",
        "--loopback-only",
        "--db",
        db.to_str().expect("utf8"),
        "--out",
        dir.to_str().expect("utf8"),
    ]);
    assert_fails(&o, 1, "database");
    assert!(stderr(&o).contains("locked"), "{}", stderr(&o));
    other.execute_batch("ROLLBACK").expect("unlock");
    drop(other);
    let store = Store::open(&db).expect("reopen");
    let crawls = store.list_crawls().expect("list");
    assert_eq!(crawls.len(), 1, "nothing added, nothing lost");
    assert_eq!(crawls[0].id, id);
    assert_eq!(crawls[0].status, CrawlStatus::Complete);
}

/// Creates `db` with one sealed mainnet01 crawl that has no rows, and returns its id.
fn sealed_empty_crawl(db: &std::path::Path) -> chainweb_crawler::store::CrawlId {
    use chainweb_crawler::store::{CrawlStatus, Store};
    let store = Store::open(db).expect("create");
    let id = store
        .begin_crawl(
            chainweb_crawler::api::NetworkId::Mainnet01,
            &serde_json::json!({}),
        )
        .expect("begin");
    store
        .finish_crawl(id, CrawlStatus::Complete, 0, None)
        .expect("seal");
    id
}

#[test]
fn full_disk_on_output_fails_clearly() {
    use chainweb_crawler::store::Store;
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        return; // Not Linux: nothing to simulate a full disk with.
    };
    let dir = support::scratch("cli-full-disk");
    let db = dir.join("c.sqlite");
    sealed_empty_crawl(&db);
    let o = Command::new(env!("CARGO_BIN_EXE_chainweb-crawler"))
        .args([
            "export",
            "--db",
            db.to_str().expect("utf8"),
            "--format",
            "json",
        ])
        .stdout(full)
        .output()
        .expect("binary runs");
    assert_fails(&o, 1, "cannot write to stdout");
    assert!(stderr(&o).contains("No space left"), "{}", stderr(&o));
    let store = Store::open(&db).expect("reopen");
    assert_eq!(store.list_crawls().expect("list").len(), 1, "nothing lost");
}

/// A chain the crawl's network does not have is a usage error, not an empty export; and a
/// file that cannot be written is named as the user gave it, not by its temporary name.
#[test]
fn export_names_what_is_wrong() {
    let dir = support::scratch("cli-export-errors");
    let db = dir.join("c.sqlite");
    sealed_empty_crawl(&db);
    let db_arg = db.to_str().expect("utf8");
    let o = run(&[
        "export",
        "--db",
        db_arg,
        "--format",
        "csv",
        "--network",
        "chain:20",
    ]);
    assert_fails(&o, 2, "mainnet01 has chains 0 to 19, not 20");
    let o = run(&[
        "export",
        "--db",
        db_arg,
        "--format",
        "csv",
        "--network",
        "chain:19",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let missing = dir.join("no-such-dir").join("edges.csv");
    let o = run(&[
        "export",
        "--db",
        db_arg,
        "--format",
        "csv",
        "-o",
        missing.to_str().expect("utf8"),
    ]);
    assert_fails(&o, 1, &format!("cannot write {}", missing.display()));
    assert!(!stderr(&o).contains("tmp-write"), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn impossible_combinations_are_usage_errors() {
    let o = run(&["export", "--format", "dot", "--network", "chain:3"]);
    assert_fails(&o, 2, "draws the cut network only");
    let o = run(&["crawl", "--every", "1s", "--count", "0"]);
    assert_fails(&o, 2, "--count");
    let o = run(&["simnet", "--nodes", "0"]);
    assert_fails(&o, 2, "nodes");
    let o = run(&["simnet", "--churn", "1.5"]);
    assert_fails(&o, 2, "--churn must be between 0 and 1");
}

#[test]
fn a_missing_metrics_folder_fails_before_crawling() {
    let dir = support::scratch("cli-metrics-dir");
    let db = dir.join("c.sqlite");
    let o = run(&[
        "crawl",
        "--bootstrap",
        "127.0.0.1:9",
        "--loopback-only",
        "--db",
        db.to_str().expect("utf8"),
        "--out",
        dir.to_str().expect("utf8"),
        "--metrics-file",
        "/nonexistent-folder/x.prom",
    ]);
    assert_fails(&o, 1, "/nonexistent-folder");
    assert!(!db.exists(), "no crawl was started");
    let _ = std::fs::remove_dir_all(dir);
}

/// `-q` prints only requested data: a crawl's statistics table is for a person, so cron
/// and systemd runs stay silent; and never-contacted addresses count 0 crawls reached.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quiet_crawl_prints_nothing() {
    use chainweb_crawler::simnet::{Profile, Simnet, SimnetConfig};
    let dir = support::scratch("cli-quiet-crawl");
    let net = Simnet::start(SimnetConfig {
        nodes: 60,
        seed: 5,
        subnet: support::subnet(),
        profile: Profile::Realistic,
        ..SimnetConfig::default()
    })
    .await
    .expect("simnet starts");
    let boot = dir.join("boot.txt");
    net.write_bootstrap_file(&boot).expect("bootstrap file");
    let db = dir.join("c.sqlite");
    let args: Vec<String> = [
        "-q",
        "crawl",
        "--loopback-only",
        "--bootstrap-file",
        boot.to_str().expect("utf8"),
        "--db",
        db.to_str().expect("utf8"),
        "--out",
        dir.to_str().expect("utf8"),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let o = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run(&args)
    })
    .await
    .expect("binary ran");
    net.shutdown().await;
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    assert!(
        o.stdout.is_empty(),
        "stdout: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(o.stderr.is_empty(), "stderr: {}", stderr(&o));
    let store = chainweb_crawler::store::Store::open(&db).expect("open");
    let (never, nulls): (i64, i64) = store
        .connection()
        .query_row(
            "SELECT sum(crawls_reached = 0), sum(crawls_reached IS NULL) FROM crawl_node_history",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("history");
    assert!(never > 0, "never-reached addresses are listed");
    assert_eq!(nulls, 0, "crawls_reached is a count, never NULL");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn bench_refuses_what_it_cannot_measure() {
    let o = run(&["bench", "--nodes", "0"]);
    assert_fails(&o, 2, "--nodes");
    let o = run(&["bench", "--profile", "hostile"]);
    assert_fails(&o, 2, "well-behaved networks");
    // Settings a run would refuse are usage errors before any simnet starts, not failures
    // of a run after its simnet is up (or after the runs before it).
    for (args, why) in [
        (
            &["bench", "--concurrency", "0"][..],
            "--concurrency must be",
        ),
        (&["bench", "--per-node", "22"][..], "--per-node must be"),
        (&["bench", "--page-limit", "0"][..], "--page-limit must be"),
        (
            &["bench", "--page-limit", "513"][..],
            "--page-limit must be",
        ),
        (
            &["bench", "--nodes", "50,25000"][..],
            "takes 1 to 20000 nodes, not 25000",
        ),
        (&["bench", "--nodes", "50,50"][..], "--nodes lists 50 twice"),
        (
            &["bench", "--latency-ms", "0,0"][..],
            "--latency-ms lists 0 twice",
        ),
    ] {
        let o = run(args);
        assert_fails(&o, 2, why);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            !err.contains("starting a"),
            "{args:?} started a simnet: {err}"
        );
    }
}

#[test]
fn diff_refuses_crawls_of_two_networks() {
    use chainweb_crawler::api::NetworkId;
    use chainweb_crawler::store::{CrawlStatus, Store};
    let dir = support::scratch("cli-diff-networks");
    let db = dir.join("two.sqlite");
    {
        let store = Store::open(&db).expect("open");
        for network in [NetworkId::Mainnet01, NetworkId::Testnet06] {
            let id = store
                .begin_crawl(network, &serde_json::json!({}))
                .expect("begin");
            store
                .finish_crawl(id, CrawlStatus::Complete, 0, None)
                .expect("seal");
        }
    }
    let o = run(&["diff", "--db", db.to_str().expect("utf8")]);
    assert_fails(&o, 2, "diff compares crawls of one network");
    let _ = std::fs::remove_dir_all(dir);
}

/// Runs the binary under a shell that first sets the open-file limits (`ulimit` flags).
fn run_with_file_limit(limit: &str, args: &[&str]) -> Output {
    let script = format!("ulimit {limit} && exec \"$0\" \"$@\"");
    Command::new("sh")
        .args(["-c", &script, env!("CARGO_BIN_EXE_chainweb-crawler")])
        .args(args)
        .output()
        .expect("sh runs")
}

/// The usual soft limit of open files is too low for a few hundred nodes; the program
/// raises it to the hard limit instead of failing to bind or connect.
#[test]
fn a_low_soft_limit_on_open_files_is_raised() {
    let dir = support::scratch("cli-fd-soft");
    let out = dir.join("out");
    let o = run_with_file_limit(
        "-S -n 128",
        &[
            "--progress",
            "never",
            "demo",
            "--nodes",
            "200",
            "--subnet",
            "243",
            "--out",
            out.to_str().expect("utf-8 path"),
        ],
    );
    assert!(o.status.success(), "stderr: {}", stderr(&o));
    assert!(stderr(&o).contains("EXACT"), "{}", stderr(&o));
}

/// When even the hard limit is too low, the error says so and what to do.
#[test]
fn a_hard_limit_on_open_files_too_low_for_the_simnet_is_explained() {
    let o = run_with_file_limit("-n 128", &["simnet", "--nodes", "200", "--subnet", "244"]);
    assert_fails(&o, 1, "every node needs an open file");
    assert_fails(&o, 1, "ulimit -Hn");
}

/// A crawl that could not hold its connections open would store healthy nodes as
/// unreachable: it refuses to start instead.
#[test]
fn a_concurrency_beyond_the_open_file_limit_is_a_usage_error() {
    let o = run_with_file_limit(
        "-n 256",
        &[
            "crawl",
            "--bootstrap",
            "127.0.0.1:1",
            "--loopback-only",
            "--concurrency",
            "200",
        ],
    );
    assert_fails(&o, 2, "--concurrency 200 opens up to 400 connections");
}
