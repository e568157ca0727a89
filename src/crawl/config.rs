//! Validated crawl settings, built from the command line (or a test) and never from clap
//! types directly.

use std::sync::Arc;
use std::time::Duration;

use crate::api::{MAX_LIMIT, NetworkId, PeerInfo};

use super::policy::EgressPolicy;
use super::resolve::{DialLog, NameResolver, SystemResolver};

/// Bounds on the work done for one node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchLimits {
    /// `limit` asked for in each page request (1..=512).
    pub page_limit: usize,
    /// Deadline for TCP connect plus TLS handshake.
    pub connect_timeout: Duration,
    /// Deadline for one request, from sending it to the end of the body.
    pub request_timeout: Duration,
    /// Deadline for all the work on one node, not counting the time its whole visit waits
    /// for the crawl's request permits (while one of its lists is answered, it counts).
    pub node_timeout: Duration,
    /// Largest response body accepted (chainweb-node caps its own at 2 MiB).
    pub max_body_bytes: usize,
    /// Pages fetched per list at most.
    pub max_pages_per_list: u32,
    /// Entries accepted per list at most.
    pub max_items_per_list: usize,
    /// Extra attempts for a transient failure.
    pub retries: u32,
    /// Wait before the first retry; doubled for each further one.
    pub retry_backoff: Duration,
}

impl Default for FetchLimits {
    fn default() -> Self {
        FetchLimits {
            page_limit: MAX_LIMIT,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(10),
            node_timeout: Duration::from_secs(60),
            max_body_bytes: 2 * 1024 * 1024,
            max_pages_per_list: 100,
            max_items_per_list: 20_000,
            retries: 1,
            retry_backoff: Duration::from_millis(250),
        }
    }
}

/// Everything the engine needs to run one crawl.
#[derive(Debug, Clone)]
pub struct CrawlConfig {
    /// Which chainweb network (version) to crawl.
    pub network: NetworkId,
    /// Where to start.
    pub bootstrap: Vec<PeerInfo>,
    /// What may be contacted.
    pub policy: EgressPolicy,
    /// How DNS names are looked up.
    pub resolver: Arc<dyn NameResolver>,
    /// Nodes being crawled at once: with `per_node` it bounds the requests in flight to
    /// `concurrency × per_node`. Up to twice as many nodes may be open, so the request slots
    /// one node leaves idle (waiting for its first answer, finishing its last lists) are
    /// used by another.
    pub concurrency: usize,
    /// Lists fetched at once from one node.
    pub per_node: usize,
    /// Per-node bounds.
    pub limits: FetchLimits,
    /// Most nodes a crawl will learn; addresses beyond it are counted, not followed.
    pub max_nodes: usize,
    /// How long the whole crawl may take; `None` for no limit. When it passes, the crawl
    /// stops as if cancelled.
    pub max_duration: Option<Duration>,
    /// Where every destination handed to a connection is recorded (keep a clone to see
    /// where a crawl went).
    pub dial_log: Arc<DialLog>,
}

impl CrawlConfig {
    /// Default settings for a network, with the given bootstrap list.
    pub fn new(network: NetworkId, bootstrap: Vec<PeerInfo>) -> Self {
        CrawlConfig {
            network,
            bootstrap,
            policy: EgressPolicy::default(),
            resolver: Arc::new(SystemResolver),
            concurrency: 64,
            per_node: 4,
            limits: FetchLimits::default(),
            max_nodes: 1_000_000,
            max_duration: None,
            dial_log: Arc::default(),
        }
    }

    /// Most node visits open at once (see [`CrawlConfig::concurrency`]).
    pub fn max_open_visits(&self) -> usize {
        self.visit_window().max_open
    }

    /// When the crawl opens another visit.
    pub fn visit_window(&self) -> VisitWindow {
        VisitWindow::new(self.concurrency, self.per_node)
    }

    /// Checks the settings once, so the engine can rely on them.
    ///
    /// # Errors
    /// A message naming the setting that is out of range.
    pub fn validate(&self) -> Result<(), String> {
        if self.bootstrap.is_empty() {
            return Err(format!(
                "no bootstrap nodes: network {} has no built-in list; pass --bootstrap or --bootstrap-file",
                self.network
            ));
        }
        if self.concurrency == 0 || self.concurrency > 4096 {
            return Err("--concurrency must be between 1 and 4096".into());
        }
        if self.per_node == 0 || self.per_node > 21 {
            return Err("--per-node must be between 1 and 21".into());
        }
        if self.limits.page_limit == 0 || self.limits.page_limit > MAX_LIMIT {
            return Err(format!("--page-limit must be between 1 and {MAX_LIMIT}"));
        }
        if self.limits.max_body_bytes < 1024 {
            return Err("--max-body-bytes must be at least 1024".into());
        }
        if self.limits.max_pages_per_list == 0 || self.limits.max_items_per_list == 0 {
            return Err("page and item caps must be positive".into());
        }
        if self.limits.request_timeout.is_zero() || self.limits.node_timeout.is_zero() {
            return Err("timeouts must be positive".into());
        }
        if self.max_duration.is_some_and(|d| d.is_zero()) {
            return Err("--max-duration must be positive".into());
        }
        if self.max_nodes == 0 {
            return Err("--max-nodes must be positive".into());
        }
        Ok(())
    }
}

/// The crawl's rule for opening one more node visit: up to `concurrency` freely, and beyond
/// that, up to twice as many, only while a node's worth of request permits lies idle (nodes
/// waiting for their first answer or finishing their last lists leave their slots to
/// further nodes; visits that would only queue for permits would add wake-ups). The
/// bench's load loop schedules by the same rule, so its ceiling is the crawl's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VisitWindow {
    /// Visits opened without looking at the permits.
    pub concurrency: usize,
    /// Permits one visit uses at most.
    pub per_node: usize,
    /// Most visits open at once.
    pub max_open: usize,
}

impl VisitWindow {
    /// The window of `concurrency` visits of `per_node` requests each.
    pub fn new(concurrency: usize, per_node: usize) -> VisitWindow {
        VisitWindow {
            concurrency,
            per_node,
            max_open: concurrency.saturating_mul(2),
        }
    }

    /// Whether another visit may open while `open` are open and `available` permits are
    /// free. Visits opened in the same pass have not taken their permits yet: `promised`
    /// (zero at the start of a pass) counts a node's worth for each one beyond
    /// `concurrency`.
    pub fn admits(&self, open: usize, available: usize, promised: &mut usize) -> bool {
        let idle = available.saturating_sub(*promised) >= self.per_node;
        if open >= self.max_open || (open >= self.concurrency && !idle) {
            return false;
        }
        if open >= self.concurrency {
            *promised += self.per_node;
        }
        true
    }
}

#[cfg(test)]
mod window_tests {
    use super::VisitWindow;

    #[test]
    fn opens_beyond_concurrency_only_on_idle_permits_up_to_twice() {
        let w = VisitWindow::new(2, 4);
        let mut promised = 0;
        // Below concurrency: always, and nothing promised.
        assert!(w.admits(0, 0, &mut promised));
        assert!(w.admits(1, 0, &mut promised));
        assert_eq!(promised, 0);
        // Beyond it: only with a node's worth of permits not yet promised.
        assert!(!w.admits(2, 3, &mut promised));
        assert!(w.admits(2, 8, &mut promised));
        assert_eq!(promised, 4);
        assert!(w.admits(3, 8, &mut promised));
        assert_eq!(promised, 8);
        // Never past twice the concurrency.
        let mut promised = 0;
        assert!(!w.admits(4, 100, &mut promised));
    }
}
