//! T_net: the network ceiling. A plain load loop fetches every page a crawl needs from the
//! same simnet, with the crawler's TLS and HTTP client settings (one client, so one TLS
//! handshake, per node) and the same bound on requests in flight, but reads bodies without
//! parsing them and stores nothing, and needs no cursor from a previous page.

use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt;

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

/// Fetches every page of `plan`: `concurrency` nodes at once, `per_node` requests at once
/// on each.
pub async fn run(
    plan: &Plan,
    ctx: Arc<FetchContext>,
    concurrency: usize,
    per_node: usize,
) -> LoadResult {
    let started = Instant::now();
    let mut total = futures::stream::iter(plan.live.iter())
        .map(|node| fetch_node(plan, &ctx, node, per_node))
        .buffer_unordered(concurrency.max(1))
        .fold(LoadResult::default(), |mut acc, r| async move {
            acc.pages += r.pages;
            acc.failed += r.failed;
            acc.bytes += r.bytes;
            acc
        })
        .await;
    total.elapsed_s = started.elapsed().as_secs_f64();
    total
}

async fn fetch_node(
    plan: &Plan,
    ctx: &FetchContext,
    node: &NodePages,
    per_node: usize,
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
        let resp = client.get(url).timeout(timeout).send().await.ok()?;
        if resp.status() != reqwest::StatusCode::OK {
            return None;
        }
        resp.bytes().await.ok().map(|b| b.len() as u64)
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
