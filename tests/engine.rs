//! The engine alone against a running simnet, without a database.

use chainweb_crawler::api::NetworkId;
use chainweb_crawler::crawl::{CrawlConfig, EgressPolicy, Engine, Outcome, Progress};
use chainweb_crawler::simnet::{Simnet, SimnetConfig};

use crate::support;

/// A simulated network of `nodes` live nodes on a fresh subnet, each answering after
/// `latency`.
async fn simnet(nodes: usize, seed: u64, latency: std::time::Duration) -> Simnet {
    Simnet::start(SimnetConfig {
        nodes,
        seed,
        subnet: support::subnet(),
        latency,
        ..SimnetConfig::default()
    })
    .await
    .expect("simnet starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_finds_every_edge_of_the_ground_truth() {
    let net = simnet(120, 11, std::time::Duration::ZERO).await;
    let mut config = CrawlConfig::new(NetworkId::Mainnet01, net.bootstrap());
    config.policy = EgressPolicy {
        allow_loopback: true,
        allow_private: false,
        resolve_dns: false,
        allow_public: false,
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

fn loopback_config(net: &Simnet) -> CrawlConfig {
    let mut config = CrawlConfig::new(NetworkId::Mainnet01, net.bootstrap());
    config.policy = EgressPolicy {
        allow_loopback: true,
        allow_private: false,
        resolve_dns: false,
        allow_public: false,
    };
    config
}

/// A store that stops (a full disk, a failed write) must stop the crawl at once instead of
/// crawling the whole network into nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_store_stops_the_crawl() {
    let net = simnet(300, 12, std::time::Duration::ZERO).await;
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    drop(rx);
    let mut config = loopback_config(&net);
    config.concurrency = 4;
    let engine = Engine::new(config, tx, Progress::new(false)).expect("valid config");
    let summary = engine.run(std::future::pending()).await;
    assert!(
        matches!(&summary.outcome, Outcome::Failed(why) if why.contains("database writer stopped")),
        "{:?}",
        summary.outcome
    );
    assert!(
        summary.counters.visited < 300,
        "stopped early: {} visited",
        summary.counters.visited
    );
    net.shutdown().await;
}

/// Nodes whose visit is cut short by an interrupt were contacted: they are recorded as
/// failed with `interrupted`, not as never contacted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn visits_cut_short_by_an_interrupt_are_failed_interrupted() {
    // A bootstrap node that accepts connections and never answers: its visit is still in
    // flight when the grace period after the interrupt ends.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let hanging = listener.local_addr().expect("addr");
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let bootstrap = vec![hanging.to_string().parse().expect("peer")];
    let mut config = CrawlConfig::new(NetworkId::Mainnet01, bootstrap);
    config.policy = EgressPolicy {
        allow_loopback: true,
        allow_private: false,
        resolve_dns: false,
        allow_public: false,
    };
    config.limits.request_timeout = std::time::Duration::from_secs(60);
    config.limits.node_timeout = std::time::Duration::from_secs(60);
    let (tx, rx) = tokio::sync::mpsc::channel(1024);
    let collector = tokio::spawn(support::collect(rx));
    let engine = Engine::new(config, tx, Progress::new(false)).expect("valid");
    let summary = engine
        .run(tokio::time::sleep(std::time::Duration::from_millis(200)))
        .await;
    let got = collector.await.expect("collector");
    holder.abort();
    assert_eq!(summary.outcome, Outcome::Interrupted);
    assert_eq!(
        got.reachable.get(&0),
        Some(&Some(false)),
        "contacted, failed"
    );
    assert_eq!(got.errors.get(&0).map(String::as_str), Some("interrupted"));
    assert_eq!(summary.counters.failed, 1);
    assert_eq!(summary.counters.skipped, 0);
}

/// Pages a node answered before an interrupt are kept: visits still in flight when the
/// grace period ends return what they read (the answered lists become edges) instead of
/// being thrown away.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupt_keeps_the_pages_already_answered() {
    // Each answer takes 1.5 s: a node's 21 lists, 4 at a time, outlast the interrupt.
    let net = simnet(40, 14, std::time::Duration::from_millis(1500)).await;
    let (tx, rx) = tokio::sync::mpsc::channel(1 << 16);
    let collector = tokio::spawn(support::collect(rx));
    let engine = Engine::new(loopback_config(&net), tx, Progress::new(false)).expect("valid");
    let summary = engine
        .run(tokio::time::sleep(std::time::Duration::from_millis(2500)))
        .await;
    let got = collector.await.expect("collector");
    net.shutdown().await;
    assert_eq!(summary.outcome, Outcome::Interrupted);
    assert!(
        got.reachable.values().any(|r| *r == Some(true)),
        "nodes that answered their cut list are reachable: {:?}",
        got.reachable
    );
    assert!(
        !got.edges.is_empty(),
        "the answered cut lists are kept as edges"
    );
    assert!(
        got.errors.values().any(|e| e == "interrupted"),
        "the unfinished lists say why they stopped"
    );
}

/// The bounds hold where they matter, at the nodes, as the simulator counts them: never
/// more than `concurrency × per_node` requests in flight, never more than `per_node` on one
/// node; and the bound is used, with more nodes open than `concurrency` while some of them
/// wait for their first answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_in_flight_stay_within_the_bounds_and_fill_them() {
    let net = simnet(80, 14, std::time::Duration::from_millis(20)).await;
    let mut config = loopback_config(&net);
    config.concurrency = 3;
    config.per_node = 2;
    let (tx, rx) = tokio::sync::mpsc::channel(1024);
    let collector = tokio::spawn(support::collect(rx));
    let engine = Engine::new(config, tx, Progress::new(false)).expect("valid config");
    let summary = engine.run(std::future::pending()).await;
    let got = collector.await.expect("collector");
    assert_eq!(summary.outcome, Outcome::Complete);
    assert_eq!(got.edges, net.truth().expected().edges);
    let peaks = net.request_peaks();
    assert_eq!(peaks.in_flight, 6, "{peaks:?}");
    assert_eq!(peaks.per_node, 2, "{peaks:?}");
    assert!(peaks.nodes > 3, "idle slots went to more nodes: {peaks:?}");
    net.shutdown().await;
}

/// Waiting for one of the crawl's request permits is not the node's fault: a visit that
/// waits longer than `node_timeout` for them still reads every list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_for_a_request_permit_does_not_count_toward_the_node_deadline() {
    use chainweb_crawler::crawl::fetch::{FetchContext, visit_node};
    let net = simnet(3, 15, std::time::Duration::ZERO).await;
    let mut config = loopback_config(&net);
    config.limits.node_timeout = std::time::Duration::from_millis(300);
    let ctx = std::sync::Arc::new(FetchContext::from_config(&config).expect("context"));
    // Every permit taken, as by other visits, for longer than the node deadline.
    let all = u32::try_from(ctx.requests.available_permits()).expect("permits");
    let held = ctx
        .requests
        .clone()
        .acquire_many_owned(all)
        .await
        .expect("held");
    let release = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(800)).await;
        drop(held);
    });
    let (tx, rx) = tokio::sync::mpsc::channel(1024);
    let collector = tokio::spawn(support::collect(rx));
    let address = config.bootstrap[0].address.clone();
    let report = visit_node(ctx, 0, address, tx, None).await;
    release.await.expect("release");
    drop(collector);
    assert!(report.visit.reachable, "{:?}", report.visit);
    assert_eq!(report.visit.error, None, "{:?}", report.visit);
    assert_eq!(report.lists.len(), 21);
    assert!(report.lists.iter().all(|l| l.error.is_none()));
}

/// A node's cut list reaches the engine as soon as it is read: the nodes it names are
/// being crawled while the node's own mempool lists are still being fetched, instead of
/// after its whole visit (a slow start of one visit per bootstrap node).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_list_is_followed_before_the_visit_that_read_it_ends() {
    use chainweb_crawler::crawl::Event;
    let net = simnet(40, 16, std::time::Duration::from_millis(50)).await;
    let mut config = loopback_config(&net);
    config.bootstrap.truncate(1);
    let (tx, mut rx) = tokio::sync::mpsc::channel(4096);
    let collector = tokio::spawn(async move {
        // The node of every page, in the order the pages were answered.
        let mut order = Vec::new();
        while let Some(e) = rx.recv().await {
            if let Event::PageFetched(p) = e {
                order.push(p.node);
            }
        }
        order
    });
    let engine = Engine::new(config, tx, Progress::new(false)).expect("valid config");
    let summary = engine.run(std::future::pending()).await;
    let order = collector.await.expect("collector");
    assert_eq!(summary.outcome, Outcome::Complete);
    let last_of_bootstrap = order
        .iter()
        .rposition(|&n| n == 0)
        .expect("the bootstrap node answered");
    assert!(
        order[..last_of_bootstrap].iter().any(|&n| n != 0),
        "no other node was asked before the bootstrap node's last page: {:?}",
        &order[..order.len().min(40)]
    );
    net.shutdown().await;
}

/// The node deadline stands still only while the whole visit waits for permits: while one
/// of its lists is being answered, the node's clock runs even if its other lists queue for
/// a permit. Otherwise a slow node in a busy crawl keeps its visit open for as long as it
/// likes (one list always waiting), and --node-timeout no longer bounds it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_node_still_meets_its_deadline_while_its_lists_queue_for_permits() {
    use chainweb_crawler::crawl::FailureKind;
    use chainweb_crawler::crawl::fetch::{FetchContext, visit_node};
    // 21 lists of one page each: about 3 s of answers, one at a time.
    let net = simnet(3, 16, std::time::Duration::from_millis(150)).await;
    let mut config = loopback_config(&net);
    config.concurrency = 1;
    config.per_node = 2;
    config.limits.node_timeout = std::time::Duration::from_millis(1000);
    let ctx = std::sync::Arc::new(FetchContext::from_config(&config).expect("context"));
    // Another visit holds one of the two permits for the whole test: this one gets the
    // other, so one of its lists is always answered while the next waits.
    let _held = ctx.requests.clone().acquire_owned().await.expect("held");
    let (tx, rx) = tokio::sync::mpsc::channel(1024);
    let collector = tokio::spawn(support::collect(rx));
    let address = config.bootstrap[0].address.clone();
    let started = std::time::Instant::now();
    let report = visit_node(ctx, 0, address, tx, None).await;
    drop(collector);
    assert!(report.visit.reachable, "{:?}", report.visit);
    assert!(
        report
            .lists
            .iter()
            .any(|l| l.error == Some(FailureKind::NodeDeadline)),
        "the node's deadline stopped its visit after {:?}: {:?}",
        started.elapsed(),
        report.lists.iter().map(|l| l.error).collect::<Vec<_>>()
    );
    net.shutdown().await;
}

/// A visit opened beyond `--concurrency` that never got a request permit before the crawl
/// stopped never contacted its node: the node stays `not_visited` (no response rows, not
/// counted as contacted, not in the dial log) instead of being recorded as an interrupted
/// contact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visit_stopped_before_its_first_request_leaves_the_node_unvisited() {
    // Far longer than the interrupt grace: the first probe is still in flight when the
    // crawl is told to stop, holding the crawl's only permit.
    let net = simnet(6, 17, std::time::Duration::from_secs(30)).await;
    let mut config = loopback_config(&net);
    config.concurrency = 1;
    config.per_node = 1;
    assert!(config.bootstrap.len() >= 2, "a second visit can open");
    let (tx, rx) = tokio::sync::mpsc::channel(1024);
    let collector = tokio::spawn(support::collect(rx));
    let engine = Engine::new(config, tx, Progress::new(false)).expect("valid config");
    let dial_log = engine.dial_log();
    let summary = engine
        .run(tokio::time::sleep(std::time::Duration::from_millis(200)))
        .await;
    let got = collector.await.expect("collector");
    assert_eq!(summary.outcome, Outcome::Interrupted);
    let interrupted = got.errors.values().filter(|e| *e == "interrupted").count();
    assert_eq!(interrupted, 1, "only the node in flight: {:?}", got.errors);
    assert_eq!(summary.counters.visited, 1, "{:?}", summary.counters);
    assert_eq!(dial_log.snapshot().len(), 1, "{:?}", dial_log.snapshot());
    // The one request sent, interrupted; nothing recorded for the node never contacted.
    assert_eq!(got.pages, 1 + 20, "the probe and the lists it left unread");
    net.shutdown().await;
}

/// The same at the level of one visit, with every permit held: stopped before its first
/// request, a visit records nothing, dials nothing and says it never contacted the node.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visit_that_never_got_a_permit_records_nothing() {
    use chainweb_crawler::crawl::fetch::{FetchContext, visit_node};
    let net = simnet(3, 18, std::time::Duration::ZERO).await;
    let config = loopback_config(&net);
    let ctx = std::sync::Arc::new(FetchContext::from_config(&config).expect("context"));
    let all = u32::try_from(ctx.requests.available_permits()).expect("permits");
    let _held = ctx
        .requests
        .clone()
        .acquire_many_owned(all)
        .await
        .expect("held");
    let stopper = {
        let ctx = ctx.clone();
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            ctx.stop.send_replace(true);
        })
    };
    let (tx, rx) = tokio::sync::mpsc::channel(1024);
    let collector = tokio::spawn(support::collect(rx));
    let address = config.bootstrap[0].address.clone();
    let report = visit_node(ctx.clone(), 0, address, tx, None).await;
    stopper.await.expect("stopper");
    let got = collector.await.expect("collector");
    assert!(!report.contacted, "{:?}", report.visit);
    assert_eq!(
        report.visit.error,
        Some(chainweb_crawler::crawl::FailureKind::Interrupted)
    );
    assert_eq!(got.pages, 0, "no response rows");
    assert!(ctx.dial_log.snapshot().is_empty(), "nothing dialled");
    net.shutdown().await;
}

/// After an interrupt no node is contacted for the first time: visits already talking to
/// their node finish within the grace period, but one still queued for its first permit
/// does not start when a permit frees up; its node stays `not_visited`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_new_node_is_contacted_after_an_interrupt() {
    // The first probe frees the only permit within the interrupt grace.
    let net = simnet(6, 19, std::time::Duration::from_millis(700)).await;
    let mut config = loopback_config(&net);
    config.concurrency = 1;
    config.per_node = 1;
    let (tx, rx) = tokio::sync::mpsc::channel(1024);
    let collector = tokio::spawn(support::collect(rx));
    let engine = Engine::new(config, tx, Progress::new(false)).expect("valid config");
    let dial_log = engine.dial_log();
    let summary = engine
        .run(tokio::time::sleep(std::time::Duration::from_millis(100)))
        .await;
    let got = collector.await.expect("collector");
    assert_eq!(summary.outcome, Outcome::Interrupted);
    assert_eq!(dial_log.snapshot().len(), 1, "{:?}", dial_log.snapshot());
    assert_eq!(summary.counters.visited, 1, "{:?}", got.errors);
    net.shutdown().await;
}

/// With jitter, no node answers sooner than `address_delay` of its address, the delay the
/// bench computes its lower bound from: the simnet serves the delays the bench plans with.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jittered_nodes_answer_after_the_delay_their_address_gives() {
    use chainweb_crawler::crawl::Event;
    use chainweb_crawler::simnet::latency::address_delay;
    use std::collections::HashMap;
    use std::time::Duration;
    let (seed, jitter) = (23, Duration::from_millis(300));
    let net = Simnet::start(SimnetConfig {
        nodes: 30,
        seed,
        subnet: support::subnet(),
        latency_jitter: jitter,
        ..SimnetConfig::default()
    })
    .await
    .expect("simnet starts");
    let config = loopback_config(&net);
    let (tx, mut rx) = tokio::sync::mpsc::channel(4096);
    let collector = tokio::spawn(async move {
        let mut address = HashMap::new();
        let mut fastest: HashMap<_, f64> = HashMap::new();
        while let Some(e) = rx.recv().await {
            match e {
                Event::NodeLearned {
                    node, address: a, ..
                } => {
                    address.insert(node, a);
                }
                Event::PageFetched(p) if p.status == Some(200) => {
                    let f = fastest.entry(p.node).or_insert(f64::MAX);
                    *f = f.min(p.latency_ms);
                }
                _ => {}
            }
        }
        (address, fastest)
    });
    let engine = Engine::new(config, tx, Progress::new(false)).expect("valid config");
    let summary = engine.run(std::future::pending()).await;
    let (address, fastest) = collector.await.expect("collector");
    assert_eq!(summary.outcome, Outcome::Complete);
    assert!(fastest.len() >= 20, "{} nodes answered", fastest.len());
    let mut longest = Duration::ZERO;
    for (node, ms) in &fastest {
        let addr = address[node].socket_addr().expect("a literal address");
        let planned = address_delay(seed, addr, Duration::ZERO, jitter);
        longest = longest.max(planned);
        assert!(
            *ms + 1.0 >= planned.as_secs_f64() * 1000.0,
            "{addr} answered in {ms:.1} ms, before its {planned:?} delay"
        );
    }
    // The delays differ enough between nodes for the check to tell keys apart.
    assert!(longest > Duration::from_millis(150), "{longest:?}");
    net.shutdown().await;
}
