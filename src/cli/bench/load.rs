//! T_net: the network ceiling. A plain load loop fetches every page a crawl needs from the
//! same simnet, with the crawler's TLS and HTTP client settings (one client, so one TLS
//! handshake, per node) and the crawl's scheduling (the same request budget and node
//! window), but reads bodies without parsing them and stores nothing, and needs no cursor
//! from a previous page.

use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::sync::{Notify, Semaphore};

use crate::crawl::config::VisitWindow;
use crate::crawl::fetch::{FetchContext, node_client};

use super::plan::{NodePages, Plan};

/// What the load loop did.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoadResult {
    /// Pages answered with 200 and read to the end.
    pub pages: u64,
    /// Requests that failed or got another status.
    pub failed: u64,
    /// Body bytes read.
    pub bytes: u64,
    /// Wall time in seconds.
    pub elapsed_s: f64,
}

/// Fetches every page of `plan` with the crawl's request budget and node window: at most
/// `concurrency × per_node` requests in flight, `per_node` at once on a node, and nodes
/// opened by the crawl's [`VisitWindow`]. It looks again whenever a request ends, so no
/// idle budget waits for a node to finish.
pub async fn run(
    plan: &Plan,
    ctx: Arc<FetchContext>,
    concurrency: usize,
    per_node: usize,
) -> LoadResult {
    let started = Instant::now();
    let (concurrency, per_node) = (concurrency.max(1), per_node.max(1));
    let budget = Budget {
        permits: Semaphore::new(concurrency.saturating_mul(per_node)),
        released: Notify::new(),
    };
    let window = VisitWindow::new(concurrency, per_node);
    let mut waiting = plan.live.iter();
    let mut open = FuturesUnordered::new();
    let mut total = LoadResult::default();
    loop {
        let mut promised = 0;
        loop {
            let available = budget.permits.available_permits();
            if !window.admits(open.len(), available, &mut promised) {
                break;
            }
            let Some(node) = waiting.next() else { break };
            open.push(fetch_node(plan, &ctx, node, per_node, &budget));
        }
        tokio::select! {
            done = open.next() => match done {
                Some(r) => {
                    total.pages += r.pages;
                    total.failed += r.failed;
                    total.bytes += r.bytes;
                }
                None => break,
            },
            () = budget.released.notified() => {}
        }
    }
    total.elapsed_s = started.elapsed().as_secs_f64();
    total
}

/// The requests in flight across all nodes, and a signal each time one ends.
struct Budget {
    permits: Semaphore,
    released: Notify,
}

async fn fetch_node(
    plan: &Plan,
    ctx: &FetchContext,
    node: &NodePages,
    per_node: usize,
    budget: &Budget,
) -> LoadResult {
    let mut out = LoadResult::default();
    let Ok(client) = node_client(ctx) else {
        out.failed += node.lists.iter().map(|&(_, p)| u64::from(p)).sum::<u64>();
        return out;
    };
    let origin = format!("https://{}", node.address);
    let mut urls = node
        .lists
        .iter()
        .flat_map(|&(net, pages)| (0..pages).map(move |p| (net, p)))
        .map(|(net, p)| plan.url(&origin, net, p));
    let timeout = ctx.limits.request_timeout;
    let client = &client;
    let get = |url: String| async move {
        // Never closed; without a permit the request would still run.
        let permit = budget.permits.acquire().await.ok();
        let fetched = async {
            let resp = client.get(url).timeout(timeout).send().await.ok()?;
            if resp.status() != reqwest::StatusCode::OK {
                return None;
            }
            resp.bytes().await.ok().map(|b| b.len() as u64)
        }
        .await;
        drop(permit);
        budget.released.notify_one();
        fetched
    };
    // The first request alone opens the node's one connection (one TLS handshake, as in
    // the crawl); requests sent while no connection exists would each open their own.
    let mut results: Vec<Option<u64>> = Vec::new();
    if let Some(first) = urls.next() {
        results.push(get(first).await);
    }
    results.extend(
        futures::stream::iter(urls)
            .map(get)
            .buffer_unordered(per_node.max(1))
            .collect::<Vec<_>>()
            .await,
    );
    for r in results {
        match r {
            Some(b) => {
                out.pages += 1;
                out.bytes += b;
            }
            None => out.failed += 1,
        }
    }
    out
}
