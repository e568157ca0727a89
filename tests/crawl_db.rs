//! Issue #2: a simnet crawled into SQLite equals the simulator's ground truth exactly.

use std::collections::BTreeMap;

use chainweb_crawler::api::NetworkId;
use chainweb_crawler::cli::crawl::{crawl_config, run_crawl};
use chainweb_crawler::crawl::{EgressPolicy, Outcome};
use chainweb_crawler::simnet::{Simnet, SimnetConfig};
use chainweb_crawler::store::{CrawlStatus, Store};
use chainweb_crawler::verify;

use crate::support;

/// The options `demo` uses, from the documented defaults.
fn loopback_options() -> chainweb_crawler::cli::args::CrawlOptions {
    use clap::Parser;
    #[derive(Parser)]
    struct W {
        #[command(flatten)]
        o: chainweb_crawler::cli::args::CrawlOptions,
    }
    W::try_parse_from(["t", "--loopback-only", "--page-limit", "40"])
        .expect("valid flags")
        .o
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crawl_of_200_nodes_matches_ground_truth_per_network() {
    let dir = support::scratch("crawl-200");
    let db = dir.join("crawl.sqlite");
    let net = Simnet::start(SimnetConfig {
        nodes: 200,
        seed: 2,
        subnet: support::subnet(),
        ..SimnetConfig::default()
    })
    .await
    .expect("simnet starts");
    let options = loopback_options();
    let config =
        crawl_config(NetworkId::Mainnet01, net.bootstrap(), &options, None).expect("valid");
    assert_eq!(
        config.policy,
        EgressPolicy {
            allow_loopback: true,
            allow_private: false,
            resolve_dns: false,
            allow_public: false,
        },
        "a loopback-only crawl resolves no names and contacts nothing but loopback"
    );
    let ui = chainweb_crawler::cli::output::Ui {
        progress: false,
        notes: false,
    };
    let finished = run_crawl(
        config,
        &db,
        serde_json::json!({}),
        ui,
        std::future::pending(),
    )
    .await
    .expect("crawl runs");
    assert_eq!(finished.summary.outcome, Outcome::Complete);
    let expected = net.truth().expected();
    net.shutdown().await;

    let store = Store::open(&db).expect("open");
    assert_eq!(
        store.crawl(finished.id).expect("crawl row").status,
        CrawlStatus::Complete
    );
    let data = store.load_crawl(finished.id).expect("load");
    let cmp = verify::compare(&expected, &data);
    assert!(
        cmp.is_exact(),
        "{}\nmissing {:?}\nextra {:?}",
        cmp.to_text(),
        cmp.missing_sample,
        cmp.extra_sample
    );
    assert_eq!(cmp.networks.len(), 21, "cut and 20 mempool networks");

    // The public view, as a researcher would query it, agrees per network.
    let mut by_view: BTreeMap<(String, Option<i64>), i64> = BTreeMap::new();
    let conn = store.connection();
    let mut stmt = conn
        .prepare("SELECT network, chain, count(*) FROM crawl_edges WHERE crawl_id = ?1 GROUP BY network, chain")
        .expect("prepare");
    let rows = stmt
        .query_map([finished.id.0], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))
        .expect("query");
    for row in rows {
        let (k, v) = row.expect("row");
        by_view.insert(k, v);
    }
    let mut by_truth: BTreeMap<(String, Option<i64>), i64> = BTreeMap::new();
    for e in &expected.edges {
        *by_truth
            .entry((e.2.clone(), e.3.map(i64::from)))
            .or_default() += 1;
    }
    assert_eq!(by_view, by_truth);

    // Every node is in crawl_nodes once, with reachability as the truth says.
    let nodes: i64 = conn
        .query_row(
            "SELECT count(*) FROM crawl_nodes WHERE crawl_id = ?1",
            [finished.id.0],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(nodes as usize, expected.nodes.len());
    let dead: i64 = conn
        .query_row(
            "SELECT count(*) FROM crawl_nodes WHERE crawl_id = ?1 AND reachable = 0 AND error = 'connect_refused'",
            [finished.id.0],
            |r| r.get(0),
        )
        .expect("count");
    let dead_truth = expected
        .nodes
        .values()
        .filter(|r| **r == Some(false))
        .count();
    assert_eq!(dead as usize, dead_truth);
    // Every reachable node proved the certificate the truth says it has.
    let mismatched: i64 = conn
        .query_row(
            "SELECT count(*) FROM crawl_nodes WHERE crawl_id = ?1 AND reachable = 1 AND (tls_fingerprint IS NULL OR node_version IS NULL OR server_timestamp IS NULL OR peer_addr IS NULL)",
            [finished.id.0],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(
        mismatched, 0,
        "reachable nodes carry fingerprint and the three headers"
    );
    // Each answered page records what it held: its items add up to the edges (simnet lists
    // hold no duplicates), and every page but the last of its list carries a `next`.
    let (items, with_next, pages, lists): (i64, i64, i64, i64) = conn
        .query_row(
            "SELECT sum(items), count(next), count(*),
                    count(DISTINCT hostname || ':' || port || '/' || network || '/' || ifnull(chain, ''))
             FROM crawl_responses WHERE crawl_id = ?1 AND status = 200",
            [finished.id.0],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .expect("responses");
    assert_eq!(items as usize, expected.edges.len(), "items per page");
    assert!(pages > lists, "page limit 40 makes some lists span pages");
    assert_eq!(
        with_next,
        pages - lists,
        "`next` of every page but the last"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_bootstrap_reachable_seals_the_crawl_as_failed() {
    let dir = support::scratch("crawl-none");
    let db = dir.join("crawl.sqlite");
    // Nothing listens on this subnet.
    let bootstrap = vec![
        format!("127.{}.9.9:1789", support::subnet())
            .parse()
            .expect("peer"),
    ];
    let config =
        crawl_config(NetworkId::Mainnet01, bootstrap, &loopback_options(), None).expect("valid");
    let ui = chainweb_crawler::cli::output::Ui {
        progress: false,
        notes: false,
    };
    let finished = run_crawl(
        config,
        &db,
        serde_json::json!({}),
        ui,
        std::future::pending(),
    )
    .await
    .expect("crawl runs");
    assert!(matches!(finished.summary.outcome, Outcome::Failed(_)));
    let store = Store::open(&db).expect("open");
    let crawl = store.crawl(finished.id).expect("row");
    assert_eq!(crawl.status, CrawlStatus::Failed);
    assert!(
        crawl
            .error
            .unwrap_or_default()
            .contains("no bootstrap node")
    );
    let _ = std::fs::remove_dir_all(dir);
}
