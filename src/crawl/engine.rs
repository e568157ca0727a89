//! The engine: one task that owns all crawl state.
//!
//! It holds the frontier, the address index and a `JoinSet` of node visits, spawning a
//! visit only while fewer than [`CrawlConfig::max_open_visits`] are open, so it shares no
//! maps with them; the visits share only the crawl's request permits. The crawl is over
//! when the frontier and the `JoinSet` are both empty. On cancellation it stops scheduling,
//! gives in-flight visits a short grace period, tells them to stop, aborts those that do
//! not return, and still returns a [`Summary`].

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::api::{AddressMap, HostAddress, PeerInfo};

use super::config::CrawlConfig;
use super::event::{Event, NodeIdx, NodeVisit};
use super::failure::FailureKind;
use super::fetch::{EarlyList, FetchContext, ListReport, NodeReport, visit_node};
use super::progress::{Counters, Progress};
use super::resolve::DialLog;

/// How long in-flight visits may finish after a cancel before they are aborted.
const CANCEL_GRACE: Duration = Duration::from_secs(2);
/// How long visits told to stop may take to return before they are aborted.
const STOP_GRACE: Duration = Duration::from_secs(1);

/// How a crawl ended.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Every reachable node was visited.
    Complete,
    /// Stopped by the caller (Ctrl-C) before the frontier was empty.
    Interrupted,
    /// Nothing could be crawled; the text says why.
    Failed(String),
}

/// What a crawl did, for printing and for sealing the crawl row.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Summary {
    /// How it ended.
    pub outcome: Outcome,
    /// Final counters.
    pub counters: Counters,
    /// Bootstrap nodes that answered.
    pub bootstrap_reachable: u64,
    /// Bootstrap nodes tried.
    pub bootstrap_total: u64,
    /// Nodes still waiting to be visited when the crawl stopped.
    pub frontier_left: u64,
    /// Entries that did not become nodes because the crawl reached `max_nodes` (each is
    /// stored as an invalid entry with reason `frontier_full`).
    pub dropped_entries: u64,
    /// Wall time in seconds.
    pub elapsed_s: f64,
    /// Whether the crawl stopped because `max_duration` passed (the outcome is then
    /// [`Outcome::Interrupted`]).
    pub deadline_reached: bool,
}

/// The crawl engine. Build it with [`Engine::new`], then [`Engine::run`] it once.
pub struct Engine {
    config: CrawlConfig,
    ctx: Arc<FetchContext>,
    events: mpsc::Sender<Event>,
    progress: Progress,
    /// Address of each node, by node number.
    addresses: Vec<HostAddress>,
    /// Node number of each address.
    index: AddressMap<NodeIdx>,
    /// Whether each node is a bootstrap node.
    bootstrap: Vec<bool>,
    /// Nodes waiting to be visited, in the order learned.
    frontier: VecDeque<NodeIdx>,
    /// Node visits in flight.
    tasks: JoinSet<NodeReport>,
    /// Which node each task visits, for reporting aborted ones.
    in_flight: HashMap<tokio::task::Id, NodeIdx>,
    /// Cut lists handed over by visits still reading their mempool lists.
    early_tx: mpsc::Sender<EarlyList>,
    early_rx: mpsc::Receiver<EarlyList>,
    counters: Counters,
    bootstrap_reachable: u64,
    dropped_entries: u64,
    /// Set when the event channel closed: the store stopped (it failed), so crawling on
    /// would only lose what is learned.
    store_gone: bool,
}

/// Why an engine could not be built.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The settings are out of range.
    #[error("{0}")]
    Config(String),
    /// TLS could not be set up.
    #[error("tls setup failed: {0}")]
    Tls(#[from] rustls::Error),
}

impl Engine {
    /// Validates the settings and prepares a crawl that reports to `events`.
    ///
    /// # Errors
    /// Invalid settings.
    pub fn new(
        config: CrawlConfig,
        events: mpsc::Sender<Event>,
        progress: Progress,
    ) -> Result<Self, EngineError> {
        config.validate().map_err(EngineError::Config)?;
        let ctx = Arc::new(FetchContext::from_config(&config)?);
        // One list per open visit at most, so a visit never waits to hand it over.
        let (early_tx, early_rx) = mpsc::channel(config.max_open_visits().max(1));
        Ok(Engine {
            config,
            ctx,
            events,
            progress,
            addresses: Vec::new(),
            index: AddressMap::default(),
            bootstrap: Vec::new(),
            frontier: VecDeque::new(),
            tasks: JoinSet::new(),
            in_flight: HashMap::new(),
            early_tx,
            early_rx,
            counters: Counters::default(),
            bootstrap_reachable: 0,
            dropped_entries: 0,
            store_gone: false,
        })
    }

    /// Every destination this crawl handed to a connection.
    pub fn dial_log(&self) -> Arc<DialLog> {
        self.ctx.dial_log.clone()
    }

    async fn emit(&mut self, event: Event) {
        if self.events.send(event).await.is_err() {
            self.store_gone = true;
        }
    }

    /// Returns the node number of an address, learning it (and deciding whether to visit
    /// it) the first time. `None` once the crawl holds `max_nodes` nodes.
    async fn learn(&mut self, peer: &PeerInfo, bootstrap: bool) -> Option<NodeIdx> {
        if let Some(&idx) = self.index.get(&peer.address) {
            return Some(idx);
        }
        if self.addresses.len() >= self.config.max_nodes {
            self.dropped_entries += 1;
            return None;
        }
        let idx = NodeIdx::try_from(self.addresses.len()).ok()?;
        self.addresses.push(peer.address.clone());
        self.bootstrap.push(bootstrap);
        self.index.insert(peer.address.clone(), idx);
        self.counters.known += 1;
        self.emit(Event::NodeLearned {
            node: idx,
            address: peer.address.clone(),
            advertised_id: peer.id,
            bootstrap,
        })
        .await;
        match self.config.policy.check(&peer.address) {
            Ok(()) => self.frontier.push_back(idx),
            Err(reason) => {
                self.counters.skipped += 1;
                self.emit(Event::NodeSkipped { node: idx, reason }).await;
            }
        }
        Some(idx)
    }

    fn spawn_visits(&mut self) {
        // Requests in flight are bounded by the fetch context's permits; the window says
        // when one more visit opens (see `VisitWindow`).
        let window = self.config.visit_window();
        let mut promised = 0;
        loop {
            let available = self.ctx.requests.available_permits();
            if !window.admits(self.tasks.len(), available, &mut promised) {
                break;
            }
            let Some(idx) = self.frontier.pop_front() else {
                break;
            };
            let Some(address) = self.addresses.get(idx as usize).cloned() else {
                continue;
            };
            let handle = self.tasks.spawn(visit_node(
                self.ctx.clone(),
                idx,
                address,
                self.events.clone(),
                Some(self.early_tx.clone()),
            ));
            self.in_flight.insert(handle.id(), idx);
        }
    }

    /// Learns a list's entries and records its edges and invalid entries.
    async fn absorb_list(&mut self, src: NodeIdx, list: &ListReport) {
        let mut dsts = Vec::with_capacity(list.entries.len());
        let mut dropped = Vec::new();
        for entry in &list.entries {
            match self.learn(entry, false).await {
                Some(dst) => dsts.push(dst),
                None => dropped.push(entry),
            }
        }
        self.counters.edges += dsts.len() as u64;
        if !dsts.is_empty() {
            self.emit(Event::ListSeen {
                src,
                network: list.network,
                dsts,
            })
            .await;
        }
        // Past `max_nodes` an entry cannot become a node; it is kept as an entry, so
        // nothing served is lost.
        for entry in dropped {
            self.emit(Event::InvalidEntry {
                src,
                network: list.network,
                reason: FailureKind::FrontierFull.as_str(),
                raw: entry.to_json().to_string(),
            })
            .await;
        }
        for (reason, raw) in &list.invalid {
            self.emit(Event::InvalidEntry {
                src,
                network: list.network,
                reason,
                raw: raw.clone(),
            })
            .await;
        }
    }

    /// Absorbs every cut list handed over so far.
    async fn absorb_early(&mut self) {
        while let Ok(early) = self.early_rx.try_recv() {
            self.absorb_list(early.node, &early.list).await;
        }
    }

    async fn absorb(&mut self, report: NodeReport) {
        let src = report.visit.node;
        if !report.contacted && report.visit.error == Some(FailureKind::Interrupted) {
            // Stopped while it waited for its first request permit: never contacted, so
            // back to the frontier, whose leftovers are recorded as not visited.
            self.frontier.push_front(src);
            return;
        }
        for list in &report.lists {
            self.absorb_list(src, list).await;
        }
        if !report.visit.reachable
            && let Some(reason @ FailureKind::Policy(_)) = report.visit.error
        {
            // A name that resolved only to refused addresses: like a refused literal, it
            // was never contacted.
            self.counters.skipped += 1;
            self.emit(Event::NodeSkipped { node: src, reason }).await;
            return;
        }
        self.counters.visited += 1;
        if report.visit.reachable {
            self.counters.reachable += 1;
            if self.bootstrap.get(src as usize).copied().unwrap_or(false) {
                self.bootstrap_reachable += 1;
            }
        } else {
            self.counters.failed += 1;
        }
        self.emit(Event::NodeVisited(report.visit)).await;
    }

    /// Runs the crawl until the frontier is exhausted or `cancel` completes.
    pub async fn run(mut self, cancel: impl Future<Output = ()>) -> Summary {
        let started = Instant::now();
        let bootstrap = self.config.bootstrap.clone();
        for peer in &bootstrap {
            self.learn(peer, true).await;
        }
        let bootstrap_total = bootstrap.len() as u64;
        tokio::pin!(cancel);
        let mut cancelled = false;
        let grace = tokio::time::sleep(Duration::MAX.min(Duration::from_secs(86_400 * 365)));
        tokio::pin!(grace);
        let mut ticker = tokio::time::interval(Duration::from_millis(100));
        let stop_at = self.config.max_duration.map(|d| started + d);
        let deadline = tokio::time::sleep_until(
            stop_at
                .unwrap_or_else(|| Instant::now() + Duration::from_secs(86_400 * 365))
                .into(),
        );
        tokio::pin!(deadline);
        let mut deadline_reached = false;
        loop {
            if self.store_gone && !cancelled {
                cancelled = true;
                self.tasks.abort_all();
            }
            if !cancelled {
                self.spawn_visits();
            }
            if self.tasks.is_empty() {
                // Lists handed over by visits that have ended since the last turn.
                self.absorb_early().await;
                if !cancelled {
                    self.spawn_visits();
                }
                if self.tasks.is_empty() {
                    break;
                }
            }
            tokio::select! {
                () = &mut cancel, if !cancelled => {
                    cancelled = true;
                    self.ctx.draining.send_replace(true);
                    grace.as_mut().reset((Instant::now() + CANCEL_GRACE).into());
                }
                () = &mut deadline, if !cancelled && stop_at.is_some() => {
                    cancelled = true;
                    deadline_reached = true;
                    self.ctx.draining.send_replace(true);
                    grace.as_mut().reset((Instant::now() + CANCEL_GRACE).into());
                }
                () = &mut grace, if cancelled => {
                    if *self.ctx.stop.borrow() {
                        // Visits that did not return after being told to stop.
                        self.tasks.abort_all();
                        // Once is enough: an elapsed timer would fire on every turn.
                        grace.as_mut().reset((Instant::now() + Duration::from_secs(86_400)).into());
                    } else {
                        // Tell visits to stop: each returns the lists it has read, so the
                        // pages already answered become edges rather than being lost.
                        self.ctx.stop.send_replace(true);
                        grace.as_mut().reset((Instant::now() + STOP_GRACE).into());
                    }
                }
                Some(early) = self.early_rx.recv() => {
                    self.absorb_list(early.node, &early.list).await;
                }
                joined = self.tasks.join_next_with_id() => match joined {
                    Some(Ok((id, report))) => {
                        self.in_flight.remove(&id);
                        self.absorb(report).await;
                    }
                    Some(Err(e)) => {
                        if let Some(node) = self.in_flight.remove(&e.id()) {
                            // The node was contacted; its visit did not end.
                            let reason = if e.is_cancelled() {
                                FailureKind::Interrupted
                            } else {
                                FailureKind::Protocol
                            };
                            self.counters.visited += 1;
                            self.counters.failed += 1;
                            self.emit(Event::NodeVisited(NodeVisit {
                                node,
                                error: Some(reason),
                                ..NodeVisit::default()
                            }))
                            .await;
                        }
                    }
                    None => {}
                },
                _ = ticker.tick() => {}
            }
            self.counters.pages = self.ctx.pages.load(Ordering::Relaxed);
            self.progress.update(&self.counters);
        }
        let frontier_left = self.frontier.len() as u64;
        while let Some(node) = self.frontier.pop_front() {
            self.counters.skipped += 1;
            self.emit(Event::NodeSkipped {
                node,
                reason: FailureKind::NotVisited,
            })
            .await;
        }
        self.counters.pages = self.ctx.pages.load(Ordering::Relaxed);
        self.progress.update(&self.counters);
        self.progress.finish();
        let outcome = if self.store_gone {
            Outcome::Failed("the database writer stopped; the crawl was abandoned".into())
        } else if cancelled {
            Outcome::Interrupted
        } else if self.bootstrap_reachable == 0 {
            Outcome::Failed(format!(
                "no bootstrap node could be reached ({bootstrap_total} tried)"
            ))
        } else {
            Outcome::Complete
        };
        Summary {
            outcome,
            counters: self.counters,
            bootstrap_reachable: self.bootstrap_reachable,
            bootstrap_total,
            frontier_left,
            dropped_entries: self.dropped_entries,
            elapsed_s: started.elapsed().as_secs_f64(),
            deadline_reached,
        }
    }
}
