//! Requests being answered, counted by the simulator: the ground truth a test compares a
//! crawl's concurrency bounds with (the crawler's own counters could share its bugs).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The most requests ever in progress at once, network-wide and on any one node.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestPeaks {
    /// Across every node of the simnet.
    pub in_flight: usize,
    /// On the busiest node.
    pub per_node: usize,
    /// Nodes answering at least one request.
    pub nodes: usize,
}

/// The simnet-wide counters, shared by every node's gauge.
#[derive(Debug, Default)]
pub struct NetworkGauge {
    now: AtomicUsize,
    peak: AtomicUsize,
    node_peak: AtomicUsize,
    busy: AtomicUsize,
    busy_peak: AtomicUsize,
}

impl NetworkGauge {
    /// The peaks so far.
    pub fn peaks(&self) -> RequestPeaks {
        RequestPeaks {
            in_flight: self.peak.load(Ordering::Relaxed),
            per_node: self.node_peak.load(Ordering::Relaxed),
            nodes: self.busy_peak.load(Ordering::Relaxed),
        }
    }

    /// Forgets the peaks (the counts of requests in progress stay).
    pub fn reset(&self) {
        self.peak
            .store(self.now.load(Ordering::Relaxed), Ordering::Relaxed);
        self.node_peak.store(0, Ordering::Relaxed);
        self.busy_peak
            .store(self.busy.load(Ordering::Relaxed), Ordering::Relaxed);
    }
}

/// One node's counter.
#[derive(Debug, Default)]
pub struct NodeGauge {
    now: AtomicUsize,
}

/// A request in progress; counted until dropped.
#[derive(Debug)]
pub struct InProgress {
    network: Arc<NetworkGauge>,
    node: Arc<NodeGauge>,
}

/// Counts a request on `node` and the whole network until the guard is dropped.
pub fn enter(network: &Arc<NetworkGauge>, node: &Arc<NodeGauge>) -> InProgress {
    let total = network.now.fetch_add(1, Ordering::Relaxed) + 1;
    network.peak.fetch_max(total, Ordering::Relaxed);
    let here = node.now.fetch_add(1, Ordering::Relaxed) + 1;
    network.node_peak.fetch_max(here, Ordering::Relaxed);
    if here == 1 {
        let busy = network.busy.fetch_add(1, Ordering::Relaxed) + 1;
        network.busy_peak.fetch_max(busy, Ordering::Relaxed);
    }
    InProgress {
        network: network.clone(),
        node: node.clone(),
    }
}

impl Drop for InProgress {
    fn drop(&mut self) {
        self.network.now.fetch_sub(1, Ordering::Relaxed);
        if self.node.now.fetch_sub(1, Ordering::Relaxed) == 1 {
            self.network.busy.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peaks_follow_overlapping_requests() {
        let net = Arc::new(NetworkGauge::default());
        let (a, b) = (
            Arc::new(NodeGauge::default()),
            Arc::new(NodeGauge::default()),
        );
        let a1 = enter(&net, &a);
        let a2 = enter(&net, &a);
        let b1 = enter(&net, &b);
        drop(a1);
        let _b2 = enter(&net, &b);
        assert_eq!(
            net.peaks(),
            RequestPeaks {
                in_flight: 3,
                per_node: 2,
                nodes: 2
            }
        );
        drop((a2, b1));
        net.reset();
        assert_eq!(
            net.peaks(),
            RequestPeaks {
                in_flight: 1,
                per_node: 0,
                nodes: 1
            }
        );
    }
}
