//! Crawls of simnets that look like the real network or that changed while running:
//! the realistic profile, `add-peer` through the binary, and ground truth after `PUT`s.

use std::collections::BTreeMap;
use std::process::{Command, Output};

use chainweb_crawler::api::NetworkId;
use chainweb_crawler::crawl::{CrawlConfig, EgressPolicy, Engine, Outcome, Progress};
use chainweb_crawler::simnet::{ExpectedCrawl, Profile, Simnet, SimnetConfig};

use crate::support;

fn loopback_only() -> EgressPolicy {
    EgressPolicy {
        allow_loopback: true,
        allow_private: false,
        resolve_dns: false,
        allow_public: false,
    }
}

/// Crawls `net` from its bootstrap nodes and checks nodes, reachability and edges against
/// `want` exactly; returns the skip reasons by address.
async fn crawl_matches(net: &Simnet, want: &ExpectedCrawl) -> BTreeMap<String, String> {
    let mut config = CrawlConfig::new(NetworkId::Mainnet01, net.bootstrap());
    config.policy = loopback_only();
    let (tx, rx) = tokio::sync::mpsc::channel(1024);
    let collector = tokio::spawn(support::collect(rx));
    let engine = Engine::new(config, tx, Progress::new(false)).expect("valid config");
    let dial_log = engine.dial_log();
    let summary = engine.run(std::future::pending()).await;
    let got = collector.await.expect("collector");
    assert_eq!(summary.outcome, Outcome::Complete);
    let got_nodes: BTreeMap<String, Option<bool>> = got
        .nodes
        .iter()
        .map(|(i, a)| (a.clone(), got.reachable[i]))
        .collect();
    assert_eq!(&got_nodes, &want.nodes, "nodes and reachability");
    let missing: Vec<_> = want.edges.difference(&got.edges).take(5).collect();
    let extra: Vec<_> = got.edges.difference(&want.edges).take(5).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?} extra {extra:?}"
    );
    assert!(dial_log.snapshot().iter().all(|a| a.ip().is_loopback()));
    got.errors
        .iter()
        .map(|(i, e)| (got.nodes[i].clone(), e.clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn realistic_crawl_matches_truth_and_never_leaves_loopback() {
    let net = Simnet::start(SimnetConfig {
        nodes: 200,
        seed: 5,
        subnet: support::subnet(),
        profile: Profile::Realistic,
        ..SimnetConfig::default()
    })
    .await
    .expect("simnet starts");
    let truth = net.truth();
    let want = truth.expected();
    let errors = crawl_matches(&net, &want).await;
    // Every outside entry met was recorded as skipped by policy (or port 0), never
    // contacted; every skip is an outside entry.
    let outside: Vec<&str> = truth
        .nodes
        .iter()
        .filter(|n| n.outside && want.nodes.contains_key(&n.address))
        .map(|n| n.address.as_str())
        .collect();
    assert!(outside.len() > 10, "{}", outside.len());
    for a in &outside {
        let e = errors.get(*a).map(String::as_str).unwrap_or("");
        assert!(e.starts_with("policy_") || e == "port_zero", "{a}: {e}");
    }
    let reasons: std::collections::BTreeSet<&str> = errors.values().map(String::as_str).collect();
    for r in [
        "policy_public",
        "policy_private",
        "policy_dns",
        "policy_documentation",
    ] {
        assert!(reasons.contains(r), "{r} in {reasons:?}");
    }
    net.shutdown().await;
}

fn add_peer(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chainweb-crawler"))
        .arg("add-peer")
        .args(args)
        .output()
        .expect("binary runs")
}

async fn add_peer_async(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        add_peer(&refs)
    })
    .await
    .expect("command task")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_peer_against_a_running_simnet_then_crawl_matches_current_truth() {
    let subnet = support::subnet();
    let net = Simnet::start(SimnetConfig {
        nodes: 50,
        seed: 9,
        subnet,
        ..SimnetConfig::default()
    })
    .await
    .expect("simnet starts");
    let t = net.topology();
    let live = net.live_addresses();
    let major = |i: usize| t.nodes[i].version.starts_with('3');
    // A 2.x node (accepts every version) and a live node it does not know yet.
    let (a, b) = (0..t.nodes.len())
        .flat_map(|a| (0..t.nodes.len()).map(move |b| (a, b)))
        .find(|&(a, b)| a != b && !major(a) && t.nodes[a].db.iter().all(|e| e.entry != b as u32))
        .expect("a pair");
    let node = t.entries[a].to_string();
    let peer = t.entries[b].to_string();

    // `--flag=value`: a base64url id may start with '-', which would read as a flag.
    let o = add_peer_async(vec![format!("--node={node}"), format!("--peer={peer}")]).await;
    assert_eq!(
        o.status.code(),
        Some(0),
        "{} {}",
        stdout(&o),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(stdout(&o).starts_with("added"), "{}", stdout(&o));
    let truth = net.current_truth();
    let cut = truth
        .lists
        .iter()
        .find(|l| l.src == live[a].to_string() && l.network == "cut")
        .expect("cut list");
    assert!(cut.items.contains(&t.entries[b]));

    // Nothing listens there: the 400 reason is printed.
    let dead = format!("127.{subnet}.250.250:1789");
    let o = add_peer_async(vec![format!("--node={node}"), format!("--peer={dead}")]).await;
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).starts_with(r#"rejected (400): Invalid hostaddress: IsNotReachable ""#),
        "{}",
        stdout(&o)
    );
    // The node itself.
    let o = add_peer_async(vec![
        format!("--node={node}"),
        format!("--peer={node}"),
        "--network".into(),
        "mempool".into(),
        "--chain".into(),
        "3".into(),
    ])
    .await;
    assert_eq!(
        stdout(&o).trim(),
        "rejected (400): Invalid hostaddress: IsLocalPeerAddress"
    );
    // A non-loopback target is refused before any connection.
    let o = add_peer_async(vec![
        "--node".into(),
        "8.8.8.8:1789".into(),
        format!("--peer={node}"),
    ])
    .await;
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a loopback address"));

    // A crawl now finds exactly the changed network.
    let want = net.current_truth().expected();
    assert_ne!(want, net.truth().expected());
    crawl_matches(&net, &want).await;
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cut_heights_are_stored_per_node() {
    use chainweb_crawler::cli::crawl::{
        crawl_config, node_info_settings, record_cut_heights, run_crawl,
    };
    use clap::Parser;
    #[derive(Parser)]
    struct W {
        #[command(flatten)]
        o: chainweb_crawler::cli::args::CrawlOptions,
    }
    let net = Simnet::start(SimnetConfig {
        nodes: 60,
        seed: 4,
        subnet: support::subnet(),
        profile: Profile::Realistic,
        ..SimnetConfig::default()
    })
    .await
    .expect("simnet starts");
    let dir = support::scratch("cut-heights");
    let db = dir.join("c.sqlite");
    let options = W::try_parse_from(["t", "--loopback-only", "--cut-heights"])
        .expect("flags")
        .o;
    let config = crawl_config(NetworkId::Mainnet01, net.bootstrap(), &options, None).expect("ok");
    let (settings, resolver) = node_info_settings(&config, &options).expect("asked for");
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
    .expect("crawl");
    record_cut_heights(&db, finished.id, &settings, resolver, &ui)
        .await
        .expect("cut heights");
    let store = chainweb_crawler::store::Store::open(&db).expect("open");
    let conn = store.connection();
    let mut stmt = conn
        .prepare("SELECT hostname, port, cut_height, self_hostname, self_port, mempool_p2p, error FROM crawl_node_info WHERE crawl_id = ?1")
        .expect("prepare");
    type Row = (
        String,
        u16,
        Option<i64>,
        Option<String>,
        Option<u16>,
        Option<bool>,
        Option<String>,
    );
    let rows: Vec<Row> = stmt
        .query_map([finished.id.0], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    let t = net.topology();
    let visited = net
        .truth()
        .expected()
        .nodes
        .values()
        .filter(|v| **v == Some(true))
        .count();
    assert_eq!(rows.len(), visited);
    let ports: std::collections::BTreeSet<u16> = rows.iter().map(|r| r.1).collect();
    assert!(ports.len() > 1, "several ports: {ports:?}");
    for (host, port, height, self_host, self_port, mempool, error) in rows {
        let i = t
            .nodes
            .iter()
            .position(|n| n.addr.ip().to_string() == host && n.addr.port() == port)
            .expect("a live node");
        let want = chainweb_crawler::simnet::info::cut_height(&t, i).map(|h| h as i64);
        assert_eq!(height, want, "{host}:{port}");
        assert_eq!(self_host.as_deref(), Some(host.as_str()));
        assert_eq!(self_port, Some(port));
        assert_eq!(
            mempool,
            Some(chainweb_crawler::simnet::info::mempool_p2p_enabled(&t, i))
        );
        assert_eq!(error, None);
    }
    net.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rsa_4096_certificates_are_crawled_and_fingerprinted_like_the_default() {
    use chainweb_crawler::cli::crawl::{crawl_config, run_crawl};
    use chainweb_crawler::simnet::KeyKind;
    use clap::Parser;
    #[derive(Parser)]
    struct W {
        #[command(flatten)]
        o: chainweb_crawler::cli::args::CrawlOptions,
    }
    for key_kind in [KeyKind::Rsa4096, KeyKind::Ed25519] {
        let net = Simnet::start(SimnetConfig {
            nodes: 3,
            seed: 2,
            subnet: support::subnet(),
            key_kind,
            ..SimnetConfig::default()
        })
        .await
        .expect("simnet starts");
        let dir = support::scratch("rsa-certs");
        let db = dir.join("c.sqlite");
        let options = W::try_parse_from(["t", "--loopback-only"])
            .expect("flags")
            .o;
        let config =
            crawl_config(NetworkId::Mainnet01, net.bootstrap(), &options, None).expect("ok");
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
        .expect("crawl");
        let store = chainweb_crawler::store::Store::open(&db).expect("open");
        let mut stmt = store
            .connection()
            .prepare("SELECT hostname, port, tls_fingerprint FROM crawl_nodes WHERE crawl_id = ?1 AND reachable = 1")
            .expect("prepare");
        let rows: Vec<(String, u16, String)> = stmt
            .query_map([finished.id.0], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        assert_eq!(rows.len(), 3, "{key_kind:?}");
        for (host, port, fp) in rows {
            let want = net
                .truth()
                .nodes
                .iter()
                .find(|n| n.address == format!("{host}:{port}"))
                .and_then(|n| n.id)
                .expect("live node with id");
            assert_eq!(fp, want.to_string(), "{key_kind:?} {host}");
        }
        net.shutdown().await;
        let _ = std::fs::remove_dir_all(dir);
    }
}
