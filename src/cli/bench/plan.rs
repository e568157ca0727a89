//! What a perfect crawl of a simulated network must fetch, derived from its ground truth:
//! the pages of every node it reaches, the counts to compare with, and the lower bound on
//! crawl time under injected latency.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::time::Duration;

use crate::api::{NetworkId, PeerNetwork};
use crate::simnet::GroundTruth;

/// One live node a crawl reaches, and how many pages each of its lists takes.
#[derive(Debug, Clone)]
pub struct NodePages {
    /// `host:port`.
    pub address: String,
    /// Every list it serves, with the number of pages a walk of it takes (at least one).
    pub lists: Vec<(PeerNetwork, u32)>,
}

/// The crawl a simulated network calls for.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The network served.
    pub network: NetworkId,
    /// Items per page.
    pub page_limit: usize,
    /// Live nodes reached from the bootstrap peers, in the order they can be reached.
    pub live: Vec<NodePages>,
    /// Addresses met (live and dead): the nodes a crawl must know.
    pub nodes_met: usize,
    /// Peer entries served by reached nodes: the edges a crawl must record.
    pub edges: u64,
    /// Successful page requests a crawl needs.
    pub pages: u64,
    /// Longest chain of page fetches that depend on each other (a node's address must
    /// have arrived before it is contacted; page k+1 of a list needs page k's cursor), in
    /// units of the delays: seconds.
    pub chain_s: f64,
    /// The sum of every needed page's delay, in seconds.
    pub delay_sum_s: f64,
}

/// The lower bound on crawl time, and what it is made of (all in seconds).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LowerBound {
    /// The longest chain of dependent fetches.
    pub chain_s: f64,
    /// Every page's delay spread over `concurrency × per_node` requests in flight.
    pub requests_s: f64,
    /// The larger of the two.
    pub bound_s: f64,
}

impl Plan {
    /// The URL of page `page` of `network` on `origin` (`https://host:port`), exactly as the
    /// crawler asks for it.
    pub fn url(&self, origin: &str, network: PeerNetwork, page: u32) -> String {
        let mut url = format!(
            "{origin}{}?limit={}",
            network.peer_path(self.network),
            self.page_limit
        );
        if page > 0 {
            url.push_str(&format!(
                "&next=inclusive:{}",
                page as usize * self.page_limit
            ));
        }
        url
    }

    /// Lists a crawl walks, and how many of them take more than one page.
    pub fn list_counts(&self) -> (u64, u64) {
        let lists = self.live.iter().flat_map(|n| &n.lists);
        lists.fold((0, 0), |(all, long), &(_, pages)| {
            (all + 1, long + u64::from(pages > 1))
        })
    }

    /// The lower bound on crawl time with at most `concurrency × per_node` requests in
    /// flight, given the delays the plan was built with. (How many nodes are open
    /// at once does not enter: the crawl may open more nodes than `concurrency` to keep its
    /// requests busy.)
    pub fn lower_bound(&self, concurrency: usize, per_node: usize) -> LowerBound {
        let (c, p) = (concurrency.max(1), per_node.max(1));
        let requests_s = self.delay_sum_s / (c * p) as f64;
        LowerBound {
            chain_s: self.chain_s,
            requests_s,
            bound_s: self.chain_s.max(requests_s),
        }
    }

    /// Builds the plan from `truth`; `delay(address)` is the answer delay of the live node
    /// listening on `address` (`host:port`, as the truth writes it).
    pub fn from_truth(
        truth: &GroundTruth,
        page_limit: usize,
        delay: impl Fn(&str) -> Duration,
    ) -> Plan {
        let page_limit = page_limit.max(1);
        let index: HashMap<&str, usize> = truth
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.address.as_str(), i))
            .collect();
        // Live node number i is truth node i (live nodes come first).
        let live_n = truth.nodes.iter().take_while(|n| n.live).count();
        let mut lists_of: Vec<Vec<usize>> = vec![Vec::new(); live_n];
        for (k, l) in truth.lists.iter().enumerate() {
            if let Some(&i) = index.get(l.src.as_str())
                && i < live_n
            {
                lists_of[i].push(k);
            }
        }
        let pages_of =
            |len: usize| u32::try_from(len.div_ceil(page_limit).max(1)).unwrap_or(u32::MAX);
        // Addresses the truth does not know are met but never contacted.
        let mut unknown: HashSet<String> = HashSet::new();

        // Earliest start of every node (µs), Dijkstra over "page p of u lists v".
        let mut start: HashMap<usize, u64> = HashMap::new();
        let mut heap = BinaryHeap::new();
        for b in &truth.bootstrap {
            let addr = b.rsplit_once('@').map_or(b.as_str(), |(_, a)| a);
            let i = index.get(addr).copied().unwrap_or(usize::MAX);
            if start.insert(i, 0).is_none() {
                heap.push(Reverse((0u64, i)));
            }
        }
        let mut done: Vec<bool> = vec![false; truth.nodes.len()];
        let mut order = Vec::new();
        let mut chain_us = 0u64;
        let mut delay_sum = Duration::ZERO;
        let (mut edges, mut pages) = (0u64, 0u64);
        while let Some(Reverse((t, u))) = heap.pop() {
            if u >= done.len() || done[u] || start.get(&u) != Some(&t) {
                continue;
            }
            done[u] = true;
            if u >= live_n {
                continue;
            }
            let delay_u = delay(&truth.nodes[u].address);
            let d = u64::try_from(delay_u.as_micros()).unwrap_or(u64::MAX);
            let mut node = NodePages {
                address: truth.nodes[u].address.clone(),
                lists: Vec::new(),
            };
            for &k in &lists_of[u] {
                let list = &truth.lists[k];
                let Some(net) = PeerNetwork::from_parts(&list.network, list.chain) else {
                    continue;
                };
                let n_pages = pages_of(list.items.len());
                node.lists.push((net, n_pages));
                pages += u64::from(n_pages);
                edges += list.items.len() as u64;
                delay_sum += delay_u * n_pages;
                chain_us = chain_us.max(t.saturating_add(d.saturating_mul(u64::from(n_pages))));
                for (pos, item) in list.items.iter().enumerate() {
                    let addr = item.address.to_string();
                    let Some(&v) = index.get(addr.as_str()) else {
                        unknown.insert(addr);
                        continue;
                    };
                    let page = (pos / page_limit) as u64 + 1;
                    let tv = t.saturating_add(d.saturating_mul(page));
                    let better = start.get(&v).is_none_or(|&old| tv < old);
                    if better {
                        start.insert(v, tv);
                        heap.push(Reverse((tv, v)));
                    }
                }
            }
            order.push(node);
        }
        let nodes_met = start.keys().filter(|&&i| i != usize::MAX).count() + unknown.len();
        Plan {
            network: truth.network,
            page_limit,
            live: order,
            nodes_met,
            edges,
            pages,
            chain_s: chain_us as f64 / 1e6,
            delay_sum_s: delay_sum.as_secs_f64(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simnet::{TruthList, TruthNode};

    fn node(address: &str, live: bool) -> TruthNode {
        TruthNode {
            address: address.to_string(),
            id: None,
            live,
            version: None,
            outside: false,
        }
    }

    fn cut(src: &str, items: &[&str]) -> TruthList {
        TruthList {
            src: src.to_string(),
            network: "cut".to_string(),
            chain: None,
            items: items.iter().map(|a| a.parse().unwrap()).collect(),
        }
    }

    #[test]
    fn pages_counts_and_dependency_chain() {
        let (a, b, c, d, e) = (
            "127.0.0.1:1789",
            "127.0.0.2:1789",
            "127.0.0.3:1789",
            "127.0.0.4:1789",
            "127.0.0.5:1789",
        );
        // a lists b (page 0) and c (page 1); b lists d; c lists the dead e; d lists nothing.
        // A live node nobody lists (f) is never reached.
        let truth = GroundTruth {
            faults: Vec::new(),
            network: NetworkId::Mainnet01,
            bootstrap: vec![a.to_string()],
            nodes: vec![
                node(a, true),
                node(b, true),
                node(c, true),
                node(d, true),
                node("127.0.0.6:1789", true),
                node(e, false),
            ],
            lists: vec![
                cut(a, &[b, c]),
                cut(b, &[d]),
                cut(c, &[e]),
                cut(d, &[]),
                cut("127.0.0.6:1789", &[a]),
            ],
        };
        let plan = Plan::from_truth(&truth, 1, |_| Duration::from_secs(1));
        assert_eq!(plan.live.len(), 4);
        assert_eq!(plan.nodes_met, 5);
        assert_eq!(plan.edges, 4);
        // a: 2 pages; b, c, d: 1 page each (an empty list still takes one request).
        assert_eq!(plan.pages, 5);
        assert_eq!(plan.list_counts(), (4, 1));
        assert_eq!(plan.delay_sum_s, 5.0);
        // b starts at 1, d at 2 and ends at 3; c starts at 2 and ends at 3.
        assert_eq!(plan.chain_s, 3.0);
        let b = plan.lower_bound(1, 1);
        assert_eq!((b.requests_s, b.bound_s), (5.0, 5.0));
        // 4 requests at once, as 4 nodes × 1 or 1 node × 4: the chain binds.
        let b = plan.lower_bound(4, 1);
        assert_eq!((b.requests_s, b.bound_s), (1.25, 3.0));
        assert_eq!(plan.lower_bound(1, 4), b);
        assert_eq!(
            plan.url("https://127.0.0.1:1789", PeerNetwork::Cut, 2),
            "https://127.0.0.1:1789/chainweb/0.0/mainnet01/cut/peer?limit=1&next=inclusive:2"
        );
        // Slower nodes lengthen the chain through them only.
        let plan = Plan::from_truth(&truth, 1, |addr| {
            Duration::from_secs(if addr == "127.0.0.2:1789" { 5 } else { 1 })
        });
        // b starts at 1 and ends at 6; d starts at 6 and ends at 7.
        assert_eq!(plan.chain_s, 7.0);
    }
}
