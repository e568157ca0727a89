//! Issue #5: three crawls of a churning simnet into one database; `diff` reports exactly
//! the churn the simulator applied, as its ground truth says a perfect crawl sees it.

use std::collections::BTreeSet;

use chainweb_crawler::cli::crawl::{crawl_config, run_crawl};
use chainweb_crawler::crawl::Outcome;
use chainweb_crawler::simnet::churn::ExpectedChurn;
use chainweb_crawler::simnet::{Simnet, SimnetConfig};
use chainweb_crawler::store::{CrawlDiff, CrawlId, Store};

use crate::support;

async fn crawl(net: &Simnet, db: &std::path::Path) -> CrawlId {
    let config = crawl_config(
        net.config().network,
        net.bootstrap(),
        &support::loopback_options(),
        None,
    )
    .expect("valid");
    let finished = run_crawl(
        config,
        db,
        serde_json::json!({}),
        support::quiet_ui(),
        std::future::pending(),
    )
    .await
    .expect("crawl runs");
    assert_eq!(finished.summary.outcome, Outcome::Complete);
    finished.id
}

/// The diff in the simulator's terms.
fn as_expected(d: &CrawlDiff) -> ExpectedChurn {
    ExpectedChurn {
        joined: d.joined.clone(),
        left: d.left.clone(),
        reachability_changed: d
            .reachability_changed
            .iter()
            .map(|c| (c.address.clone(), c.from, c.to))
            .collect(),
        version_changed: d
            .version_changed
            .iter()
            .map(|c| (c.address.clone(), c.from.clone(), c.to.clone()))
            .collect(),
        certificate_changed: d
            .certificate_changed
            .iter()
            .map(|c| (c.address.clone(), c.from.clone(), c.to.clone()))
            .collect(),
        edges_added: d
            .edges_added
            .iter()
            .map(|e| (e.src.clone(), e.dst.clone(), e.network.clone(), e.chain))
            .collect::<BTreeSet<_>>(),
        edges_removed: d
            .edges_removed
            .iter()
            .map(|e| (e.src.clone(), e.dst.clone(), e.network.clone(), e.chain))
            .collect::<BTreeSet<_>>(),
    }
}

fn sorted(mut c: ExpectedChurn) -> ExpectedChurn {
    c.joined.sort();
    c.left.sort();
    c.reachability_changed.sort();
    c.version_changed.sort();
    c.certificate_changed.sort();
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diff_of_three_churning_crawls_equals_the_simulated_churn() {
    let dir = support::scratch("churn-diff");
    let db = dir.join("crawl.sqlite");
    let mut net = Simnet::start(SimnetConfig {
        nodes: 150,
        seed: 21,
        subnet: support::subnet(),
        ..SimnetConfig::default()
    })
    .await
    .expect("simnet starts");
    let first = crawl(&net, &db).await;
    let churn1 = net.churn(0.1).await.expect("churn 1");
    let second = crawl(&net, &db).await;
    let churn2 = net.churn(0.1).await.expect("churn 2");
    let third = crawl(&net, &db).await;
    net.shutdown().await;

    let store = Store::open(&db).expect("open");
    assert_eq!(
        store.sealed_crawls().expect("crawls"),
        vec![first, second, third]
    );
    for (from, to, churn) in [(first, second, &churn1), (second, third, &churn2)] {
        let e = &churn.expected;
        // The step changed every kind of thing a diff reports.
        assert!(
            !e.joined.is_empty()
                && !e.reachability_changed.is_empty()
                && !e.version_changed.is_empty()
                && !e.edges_added.is_empty()
                && !e.edges_removed.is_empty(),
            "round {} changed too little: {:?}",
            churn.round,
            churn.applied
        );
        let diff = store.diff(from, to).expect("diff");
        assert_eq!(
            sorted(as_expected(&diff)),
            sorted(e.clone()),
            "diff {from}..{to} against the churn of round {}",
            churn.round
        );
        let added: u64 = diff.per_network.values().map(|n| n.added).sum();
        assert_eq!(added as usize, e.edges_added.len());
    }
    // Some certificates were replaced in one of the two rounds.
    assert!(
        churn1.applied.certificates_replaced + churn2.applied.certificates_replaced > 0
            && !(churn1.expected.certificate_changed.is_empty()
                && churn2.expected.certificate_changed.is_empty())
    );
    let _ = std::fs::remove_dir_all(dir);
}
