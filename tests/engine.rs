//! The engine alone against a running simnet, without a database.

use chainweb_crawler::api::NetworkId;
use chainweb_crawler::crawl::{CrawlConfig, EgressPolicy, Engine, Outcome, Progress};
use chainweb_crawler::simnet::{Simnet, SimnetConfig};

use crate::support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_finds_every_edge_of_the_ground_truth() {
    let net = Simnet::start(SimnetConfig {
        nodes: 120,
        seed: 11,
        subnet: support::subnet(),
        ..SimnetConfig::default()
    })
    .await
    .expect("simnet starts");
    let mut config = CrawlConfig::new(NetworkId::Mainnet01, net.bootstrap());
    config.policy = EgressPolicy {
        allow_loopback: true,
        allow_private: false,
        resolve_dns: false,
        allow_public: true,
    };
    config.limits.page_limit = 50;
    let (tx, rx) = tokio::sync::mpsc::channel(1024);
    let collector = tokio::spawn(support::collect(rx));
    let engine = Engine::new(config, tx, Progress::new(false)).expect("valid config");
    let dial_log = engine.dial_log();
    let summary = engine.run(std::future::pending()).await;
    let got = collector.await.expect("collector");
    assert_eq!(summary.outcome, Outcome::Complete);
    let want = net.truth().expected();
    let got_nodes: std::collections::BTreeMap<String, Option<bool>> = got
        .nodes
        .iter()
        .map(|(i, a)| (a.clone(), got.reachable[i]))
        .collect();
    assert_eq!(got_nodes, want.nodes, "nodes and reachability");
    let missing: Vec<_> = want.edges.difference(&got.edges).take(5).collect();
    let extra: Vec<_> = got.edges.difference(&want.edges).take(5).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?} extra {extra:?}"
    );
    assert_eq!(got.edges.len(), want.edges.len());
    assert!(dial_log.snapshot().iter().all(|a| a.ip().is_loopback()));
    net.shutdown().await;
}
