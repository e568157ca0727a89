//! Issue #5: `diff` and `prune` as the binary runs them, on a copy of the schema-v1 fixture.

use std::process::{Command, Output};

use crate::support;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chainweb-crawler"))
        .args(args)
        .output()
        .expect("binary runs")
}

fn fixture_copy(name: &str) -> std::path::PathBuf {
    let dir = support::scratch(name);
    let db = dir.join("crawl.sqlite");
    std::fs::copy(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/schema-v1.sqlite"),
        &db,
    )
    .expect("copy");
    db
}

#[test]
fn diff_defaults_to_the_last_two_crawls_and_prune_keeps_the_newest() {
    let db = fixture_copy("cli-diff");
    let db_s = db.to_str().expect("utf8");
    let o = run(&["diff", "--db", db_s, "--json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let d: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!((d["from"].as_i64(), d["to"].as_i64()), (Some(1), Some(2)));
    // The fixture's two crawls: 127.33.0.7 joined, 127.33.0.5 left, every live node got a
    // new certificate (other seed).
    assert_eq!(d["joined"], serde_json::json!(["127.33.0.7:1789"]));
    assert_eq!(d["left"], serde_json::json!(["127.33.0.5:1789"]));
    assert_eq!(d["certificate_changed"].as_array().map(Vec::len), Some(6));
    let table = run(&["diff", "--db", db_s, "--from", "1", "--to", "2"]);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.starts_with("diff of crawl 1 → crawl 2\n"), "{text}");
    assert!(text.contains("nodes joined"), "{text}");

    let o = run(&["prune", "--db", db_s, "--keep", "1", "--vacuum"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("deleted 1 crawl(s): 1"));
    let o = run(&["diff", "--db", db_s]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no sealed crawl before crawl 2"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = run(&["prune", "--db", db_s, "--keep", "0"]);
    assert_eq!(o.status.code(), Some(2), "--keep 0 is a usage error");
    let o = run(&["diff", "--db", "/nonexistent/x.sqlite"]);
    assert_eq!(o.status.code(), Some(1));
}
