//! Shared test harness: scratch folders, distinct simnet subnets, event collection.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU8, Ordering};

use chainweb_crawler::crawl::Event;

/// Second octets for in-process simnets of this binary (unit tests use lower ones, CLI
/// subprocess tests higher ones), so tests running in parallel never share an address.
static NEXT_SUBNET: AtomicU8 = AtomicU8::new(50);

/// A fresh simnet subnet for one test.
pub fn subnet() -> u8 {
    let s = NEXT_SUBNET.fetch_add(1, Ordering::Relaxed);
    assert!(
        s < 90,
        "test subnets exhausted (50..90 belong to this binary)"
    );
    s
}

/// An empty scratch folder unique to this test and process.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir()
        .join("chainweb-crawler-tests")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// What a crawl reported, rebuilt from its events without a database.
#[derive(Debug, Default)]
pub struct Collected {
    /// Node number → address text.
    pub nodes: BTreeMap<u32, String>,
    /// Node number → reachable (None when skipped).
    pub reachable: BTreeMap<u32, Option<bool>>,
    /// Edges as (src, dst, kind, chain) address texts.
    pub edges: BTreeSet<(String, String, String, Option<u16>)>,
    /// Failure reasons per node.
    pub errors: BTreeMap<u32, String>,
    /// Responses recorded.
    pub pages: usize,
}

/// Drains a crawl's events into a [`Collected`].
pub async fn collect(mut rx: tokio::sync::mpsc::Receiver<Event>) -> Collected {
    let mut c = Collected::default();
    let mut lists = Vec::new();
    while let Some(e) = rx.recv().await {
        match e {
            Event::NodeLearned { node, address, .. } => {
                c.nodes.insert(node, address.to_string());
                c.reachable.insert(node, None);
            }
            Event::NodeSkipped { node, reason } => {
                c.errors.insert(node, reason.as_str().to_string());
            }
            Event::PageFetched(_) => c.pages += 1,
            Event::ListSeen { src, network, dsts } => lists.push((src, network, dsts)),
            Event::InvalidEntry { .. } => {}
            Event::NodeVisited(v) => {
                c.reachable.insert(v.node, Some(v.reachable));
                if let Some(e) = v.error {
                    c.errors.insert(v.node, e.as_str().to_string());
                }
            }
        }
    }
    for (src, network, dsts) in lists {
        for d in dsts {
            c.edges.insert((
                c.nodes[&src].clone(),
                c.nodes[&d].clone(),
                network.kind().to_string(),
                network.chain().map(|x| x.0),
            ));
        }
    }
    c
}

/// The crawl options of a loopback crawl, from the documented defaults.
pub fn loopback_options() -> chainweb_crawler::cli::args::CrawlOptions {
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

/// A UI that prints nothing.
pub fn quiet_ui() -> chainweb_crawler::cli::output::Ui {
    chainweb_crawler::cli::output::Ui {
        progress: false,
        notes: false,
    }
}
