//! The fetcher: everything done to one node, from its own pooled TLS connection.
//!
//! [`visit_node`] is a plain async function: it takes owned inputs, shares no maps with the
//! engine and returns a [`NodeReport`] (handing the cut list over early, as an
//! [`EarlyList`], when asked to). Each response is sent to the store as it arrives, so
//! what was learned before a failure, a deadline or an interrupt is kept. Every loop here is
//! bounded: by the page and item caps, by the cursor check and by the node's deadline.

use std::error::Error as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures::{FutureExt, StreamExt};
use reqwest::header::{HeaderMap, HeaderName};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use crate::api::{
    AddressSet, HostAddress, NetworkId, Page, PeerId, PeerInfo, PeerNetwork, headers,
};
use crate::sanitize::sanitize_bytes;

use super::config::FetchLimits;
use super::event::{Event, NodeIdx, NodeVisit, PageRecord};
use super::failure::FailureKind;
use super::parse::{FastPage, fast_page};
use super::resolve::{DialLog, DnsFailure, PolicyRefused, PolicyResolver};

/// Longest header value or detail text kept.
const MAX_TEXT: usize = 200;
/// Longest raw invalid entry kept.
const MAX_RAW_ENTRY: usize = 300;

/// What every node visit shares: settings, the TLS configuration and the dial log.
#[derive(Debug)]
pub struct FetchContext {
    /// The network crawled.
    pub network: NetworkId,
    /// Per-node bounds.
    pub limits: FetchLimits,
    /// Lists fetched at once from one node.
    pub per_node: usize,
    /// Requests in flight across the whole crawl (`concurrency × per_node` permits): the
    /// bound that matters to the network, while the engine may keep more nodes open than
    /// `concurrency` so that one node's idle slots (its first answer, its last lists) go to
    /// another node instead of going unused.
    pub requests: Arc<tokio::sync::Semaphore>,
    /// TLS settings every node's client is built from.
    pub tls: rustls::ClientConfig,
    /// Resolver applying the egress policy to DNS answers.
    pub resolver: PolicyResolver,
    /// Every destination handed to a connection.
    pub dial_log: Arc<DialLog>,
    /// Pages fetched so far, for progress.
    pub pages: AtomicU64,
    /// Set when the crawl stops (interrupt or deadline, after the grace period): visits
    /// abandon the request in flight and return what they already read.
    pub stop: tokio::sync::watch::Sender<bool>,
    /// Set as soon as the crawl is interrupted (before [`FetchContext::stop`]): a visit
    /// that has not sent its first request gives up instead of contacting a new node.
    pub draining: tokio::sync::watch::Sender<bool>,
    /// Each list's path and `?limit=`, the cut list's first, then chain by chain: built
    /// once, since formatting them per list showed in the profile.
    list_queries: Vec<String>,
}

impl FetchContext {
    /// The context of a crawl with `config`: its limits, resolver and TLS settings, an
    /// empty dial log.
    ///
    /// # Errors
    /// TLS setup failure (see [`super::tls::client_config`]).
    pub fn from_config(config: &super::CrawlConfig) -> Result<FetchContext, rustls::Error> {
        let dial_log = config.dial_log.clone();
        Ok(FetchContext {
            network: config.network,
            limits: config.limits.clone(),
            per_node: config.per_node,
            requests: Arc::new(tokio::sync::Semaphore::new(
                config.concurrency.saturating_mul(config.per_node).max(1),
            )),
            tls: super::tls::client_config()?,
            resolver: PolicyResolver {
                inner: config.resolver.clone(),
                policy: config.policy.clone(),
                log: dial_log.clone(),
            },
            dial_log,
            pages: AtomicU64::new(0),
            stop: tokio::sync::watch::Sender::new(false),
            draining: tokio::sync::watch::Sender::new(false),
            list_queries: (config.network.peer_networks())
                .map(|net| {
                    let limit = config.limits.page_limit;
                    format!("{}?limit={limit}", net.peer_path(config.network))
                })
                .collect(),
        })
    }

    /// The URL of the first page of list `network` at `origin` (`https://host:port`);
    /// later pages add their cursor to it.
    fn list_url(&self, origin: &str, network: PeerNetwork) -> String {
        let slot = network.chain().map_or(0, |c| usize::from(c.0) + 1);
        match self.list_queries.get(slot) {
            Some(query) => [origin, query].concat(),
            // A chain the network does not have; never asked for, but spelled right.
            None => format!(
                "{origin}{}?limit={}",
                network.peer_path(self.network),
                self.limits.page_limit
            ),
        }
    }
}

/// One peer list of one node, as far as it could be read.
#[derive(Debug)]
pub struct ListReport {
    /// Which list.
    pub network: PeerNetwork,
    /// Valid entries, de-duplicated by address, in the order served.
    pub entries: Vec<PeerInfo>,
    /// Entries that are not valid PeerInfo: (reason, raw JSON).
    pub invalid: Vec<(&'static str, String)>,
    /// Why reading the list stopped early, if it did.
    pub error: Option<FailureKind>,
    /// Requests made for this list (retries included).
    pub pages: u32,
    /// Pages that parsed as a page.
    pub ok_pages: u32,
}

/// Everything learned from one node.
#[derive(Debug)]
pub struct NodeReport {
    /// What the node row records.
    pub visit: NodeVisit,
    /// Its lists.
    pub lists: Vec<ListReport>,
    /// Whether a request was sent to it. A visit stopped while it waited for its first
    /// request permit never contacted the node (and recorded nothing about it): the node
    /// is as unvisited as one still in the frontier.
    pub contacted: bool,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Sorts a failed request into a [`FailureKind`] from typed facts, never from message text.
pub fn classify_error(e: &reqwest::Error) -> FailureKind {
    let mut source: Option<&(dyn std::error::Error + 'static)> = e.source();
    while let Some(s) = source {
        if let Some(p) = s.downcast_ref::<PolicyRefused>() {
            return p.0;
        }
        if s.downcast_ref::<DnsFailure>().is_some() {
            return FailureKind::DnsFailed;
        }
        if s.downcast_ref::<rustls::Error>().is_some() {
            return FailureKind::TlsHandshake;
        }
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            if io_wraps_tls(io) {
                return FailureKind::TlsHandshake;
            }
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => return FailureKind::ConnectRefused,
                std::io::ErrorKind::TimedOut if e.is_connect() => {
                    return FailureKind::ConnectTimeout;
                }
                _ => {}
            }
        }
        source = s.source();
    }
    if e.is_timeout() {
        if e.is_connect() {
            FailureKind::ConnectTimeout
        } else {
            FailureKind::Timeout
        }
    } else if e.is_connect() {
        FailureKind::ConnectFailed
    } else {
        FailureKind::Protocol
    }
}

/// Whether an I/O error carries a rustls error, however deeply it is wrapped. `io::Error`
/// hides its payload from `source()`, so nested I/O errors are opened one by one.
fn io_wraps_tls(io: &std::io::Error) -> bool {
    let mut inner = io.get_ref();
    for _ in 0..8 {
        let Some(e) = inner else { return false };
        if e.downcast_ref::<rustls::Error>().is_some() {
            return true;
        }
        let mut src = e.source();
        while let Some(s) = src {
            if s.downcast_ref::<rustls::Error>().is_some() {
                return true;
            }
            src = s.source();
        }
        inner = e
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref);
    }
    false
}

/// The error and its causes on one line, without the URL reqwest puts first (the response
/// record already names the node and list).
fn error_chain(e: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut source = e.source();
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    if parts.is_empty() {
        e.to_string()
    } else {
        parts.join(": ")
    }
}

/// Builds the client for one node: one pooled connection, no proxy, no redirects, no
/// decompression, the crawl's resolver and TLS settings.
///
/// # Errors
/// If reqwest cannot build the client (it only fails on invalid settings).
pub fn node_client(ctx: &FetchContext) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .use_preconfigured_tls(ctx.tls.clone())
        .tls_info(true)
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(ctx.limits.connect_timeout)
        .pool_max_idle_per_host(ctx.per_node)
        .dns_resolver(Arc::new(ctx.resolver.clone()))
        .user_agent(concat!("chainweb-crawler/", env!("CARGO_PKG_VERSION")))
        .build()
}

fn header_text(h: &HeaderMap, name: &HeaderName) -> Option<String> {
    h.get(name).map(|v| sanitize_bytes(v.as_bytes(), MAX_TEXT))
}

// Parsed once: looking a header up by `&str` validates and classifies the name on every
// response.
static PEER_ADDR: HeaderName = HeaderName::from_static(headers::PEER_ADDR);
static SERVER_TIMESTAMP: HeaderName = HeaderName::from_static(headers::SERVER_TIMESTAMP);
static NODE_VERSION: HeaderName = HeaderName::from_static(headers::NODE_VERSION);

/// The outcome of one HTTP exchange.
struct Exchange {
    record: PageRecord,
    body: Option<Vec<u8>>,
}

/// Reads a body chunk by chunk, stopping as soon as it passes the cap: a huge or endless
/// body costs at most `cap` bytes of memory.
async fn read_capped(resp: &mut reqwest::Response, cap: usize) -> Result<Vec<u8>, FailureKind> {
    if resp.content_length().is_some_and(|n| n > cap as u64) {
        return Err(FailureKind::BodyTooLarge);
    }
    let hint = resp.content_length().map_or(16 * 1024, |n| n as usize);
    let mut body = Vec::with_capacity(hint.min(cap));
    while let Some(chunk) = resp.chunk().await.map_err(|e| classify_error(&e))? {
        if body.len() + chunk.len() > cap {
            return Err(FailureKind::BodyTooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

async fn exchange_once(
    client: &reqwest::Client,
    url: &str,
    timeout: Duration,
    cap: usize,
) -> Exchange {
    let started = Instant::now();
    let mut record = PageRecord::default();
    let result = client.get(url).timeout(timeout).send().await;
    let mut resp = match result {
        Ok(r) => r,
        Err(e) => {
            record.error = Some(classify_error(&e));
            record.detail = Some(sanitize_bytes(error_chain(&e).as_bytes(), MAX_TEXT));
            record.latency_ms = started.elapsed().as_secs_f64() * 1000.0;
            record.observed_at_ms = now_ms();
            return Exchange { record, body: None };
        }
    };
    let status = resp.status();
    record.status = Some(status.as_u16());
    let h = resp.headers();
    record.peer_addr = header_text(h, &PEER_ADDR);
    record.server_timestamp = header_text(h, &SERVER_TIMESTAMP);
    record.node_version = header_text(h, &NODE_VERSION);
    record.tls_fingerprint = resp
        .extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|t| t.peer_certificate())
        .map(PeerId::from_certificate_der);
    let mut body = None;
    if status.is_redirection() {
        record.error = Some(FailureKind::Redirect);
        record.detail = header_text(resp.headers(), &reqwest::header::LOCATION)
            .map(|l| format!("location: {l}"));
    } else if status != reqwest::StatusCode::OK {
        record.error = Some(FailureKind::HttpStatus);
    } else {
        match read_capped(&mut resp, cap).await {
            Ok(b) => {
                record.bytes = b.len() as u64;
                body = Some(b);
            }
            Err(kind) => record.error = Some(kind),
        }
    }
    record.latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    record.observed_at_ms = now_ms();
    Exchange { record, body }
}

/// A node's deadline, which stands still while its visit waits for the crawl's request
/// permits: a full crawl is not the node's fault. It stands still only while the whole
/// visit waits (some list queued for a permit, none being answered or backing off): while
/// one list is being answered the node is being worked on, and if the waits of its other
/// lists counted, a slow node in a busy crawl would keep its visit open for as long as it
/// likes.
#[derive(Debug)]
struct VisitClock {
    deadline: Instant,
    stall: std::sync::Mutex<Stall>,
}

#[derive(Debug)]
struct Stall {
    /// Lists waiting for a permit now.
    waiting: usize,
    /// Lists holding a permit (or backing off between attempts) now.
    busy: usize,
    /// When the visit last became stalled (see [`Stall::stalled`]).
    since: Instant,
    /// Stalled time before that.
    total: Duration,
}

impl Stall {
    fn stalled(&self) -> bool {
        self.waiting > 0 && self.busy == 0
    }
}

/// A list of the visit at work on the node: it holds a permit or backs off between
/// attempts. The node's clock runs until it is dropped.
struct Busy<'a>(&'a VisitClock);

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.change(|s| s.busy = s.busy.saturating_sub(1));
    }
}

impl VisitClock {
    fn new(timeout: Duration) -> VisitClock {
        let now = Instant::now();
        VisitClock {
            deadline: now + timeout,
            stall: std::sync::Mutex::new(Stall {
                waiting: 0,
                busy: 0,
                since: now,
                total: Duration::ZERO,
            }),
        }
    }

    fn stall(&self) -> std::sync::MutexGuard<'_, Stall> {
        self.stall
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Applies `f` to the counts, starting or ending a stalled interval as it turns out.
    fn change(&self, f: impl FnOnce(&mut Stall)) {
        let mut s = self.stall();
        let before = s.stalled();
        f(&mut s);
        match (before, s.stalled()) {
            (false, true) => s.since = Instant::now(),
            (true, false) => {
                let stalled = s.since.elapsed();
                s.total += stalled;
            }
            _ => {}
        }
    }

    fn begin_wait(&self) {
        self.change(|s| s.waiting += 1);
    }

    /// The wait is over (with a permit, or because the crawl stops): the list is at work
    /// until the returned guard is dropped.
    fn end_wait(&self) -> Busy<'_> {
        self.change(|s| {
            s.waiting = s.waiting.saturating_sub(1);
            s.busy += 1;
        });
        Busy(self)
    }

    /// The deadline as of now.
    fn deadline(&self) -> Instant {
        let s = self.stall();
        let ongoing = if s.stalled() {
            s.since.elapsed()
        } else {
            Duration::ZERO
        };
        self.deadline + s.total + ongoing
    }
}

/// The record of a request abandoned because the crawl is stopping.
fn interrupted() -> Exchange {
    let record = PageRecord {
        error: Some(FailureKind::Interrupted),
        observed_at_ms: now_ms(),
        ..PageRecord::default()
    };
    Exchange { record, body: None }
}

/// Everything one list walk needs that stays the same across its pages.
struct ListWalk<'a> {
    ctx: &'a FetchContext,
    client: &'a reqwest::Client,
    node: NodeIdx,
    origin: &'a str,
    clock: &'a VisitClock,
    events: &'a mpsc::Sender<Event>,
    /// Whether a request of this visit has been sent.
    contacted: &'a std::sync::atomic::AtomicBool,
    /// The node's socket address, entered in the dial log with the visit's first request.
    dial: Option<std::net::SocketAddr>,
}

impl ListWalk<'_> {
    /// One page request with retries for transient failures. Every failed attempt that is
    /// retried is recorded here; the final one is returned unrecorded, so the caller can add
    /// what the body says (items, next, page-level errors) before [`ListWalk::finish`].
    ///
    /// Each attempt first takes one of the crawl's request permits (the wait does not count
    /// toward the node deadline, see [`VisitClock`]).
    ///
    /// `base` is the list's URL without a cursor (see [`FetchContext::list_url`]).
    async fn fetch(
        &self,
        network: PeerNetwork,
        page: u32,
        base: &str,
        cursor: Option<&str>,
    ) -> Exchange {
        let limits = &self.ctx.limits;
        let url = match cursor {
            None => std::borrow::Cow::Borrowed(base),
            Some(c) => std::borrow::Cow::Owned([base, "&next=", c].concat()),
        };
        let mut attempt = 0;
        let mut stop = self.ctx.stop.subscribe();
        let mut draining = self.ctx.draining.subscribe();
        loop {
            let first = !self.contacted.load(Ordering::Relaxed);
            self.clock.begin_wait();
            let permit = tokio::select! {
                // The semaphore is never closed; without a permit the request still runs.
                p = self.ctx.requests.acquire() => p.ok(),
                _ = stop.wait_for(|s| *s) => None,
                _ = draining.wait_for(|d| *d), if first => None,
            };
            // Held to the end of this attempt, its backoff included.
            let _busy = self.clock.end_wait();
            if *stop.borrow() || (first && *draining.borrow()) {
                return interrupted();
            }
            let deadline = self.clock.deadline();
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                let record = PageRecord {
                    error: Some(FailureKind::NodeDeadline),
                    observed_at_ms: now_ms(),
                    ..PageRecord::default()
                };
                return Exchange { record, body: None };
            }
            let timeout = limits.request_timeout.min(remaining);
            if !self.contacted.swap(true, Ordering::Relaxed)
                && let Some(sa) = self.dial
            {
                self.ctx.dial_log.record(sa);
            }
            let mut ex = tokio::select! {
                ex = exchange_once(self.client, &url, timeout, limits.max_body_bytes) => ex,
                _ = stop.wait_for(|s| *s) => return interrupted(),
            };
            drop(permit);
            if ex.record.error == Some(FailureKind::Timeout) && timeout < limits.request_timeout {
                ex.record.error = Some(FailureKind::NodeDeadline);
            }
            // 429 and 503 say "later": as transient as a timeout.
            let busy = matches!(ex.record.status, Some(429 | 503));
            let retry = (ex.record.error.is_some_and(FailureKind::is_transient) || busy)
                && attempt < limits.retries;
            if !retry {
                return ex;
            }
            self.finish(network, page, cursor, ex.record).await;
            let backoff = limits.retry_backoff.saturating_mul(1 << attempt.min(10));
            tokio::time::sleep(backoff.min(deadline.saturating_duration_since(Instant::now())))
                .await;
            attempt += 1;
        }
    }

    /// Fills in the record's position and sends it to the store.
    async fn finish(
        &self,
        network: PeerNetwork,
        page: u32,
        cursor: Option<&str>,
        mut record: PageRecord,
    ) -> PageRecord {
        record.node = self.node;
        record.network = Some(network);
        record.page = page;
        record.cursor = cursor.map(str::to_string);
        self.ctx.pages.fetch_add(1, Ordering::Relaxed);
        // A closed channel means the crawl is shutting down; the record has nowhere to go.
        let _ = self.events.send(Event::PageFetched(record.clone())).await;
        record
    }

    /// Walks one list page by page until `next` is null or a bound stops it. `probe`, if
    /// given, is told after the first page whether the node is worth its other lists.
    async fn walk(
        &self,
        network: PeerNetwork,
        last: &mut Option<PageRecord>,
        mut probe: Option<oneshot::Sender<bool>>,
    ) -> ListReport {
        let limits = &self.ctx.limits;
        let mut report = ListReport {
            network,
            entries: Vec::new(),
            invalid: Vec::new(),
            error: None,
            pages: 0,
            ok_pages: 0,
        };
        let mut seen = AddressSet::default();
        let base = self.ctx.list_url(self.origin, network);
        let mut cursor: Option<String> = None;
        let mut last_start: i64 = 0;
        for page_no in 0.. {
            if page_no >= limits.max_pages_per_list {
                report.error = Some(FailureKind::TooManyPages);
                break;
            }
            let ex = self.fetch(network, page_no, &base, cursor.as_deref()).await;
            if ex.record.error == Some(FailureKind::Interrupted)
                && !self.contacted.load(Ordering::Relaxed)
            {
                // Stopped before the visit's first request: nothing to record, nothing
                // else to walk (the probe's receivers see it dropped).
                report.error = ex.record.error;
                break;
            }
            if let Some(tx) = probe.take() {
                // Worth going on if it answered at all, or failed in a way that says
                // nothing about reaching it.
                let go = ex.record.status.is_some()
                    || ex.record.error.is_some_and(|k| !is_unreachable(k));
                let _ = tx.send(go);
            }
            report.pages += 1;
            let mut record = ex.record;
            let parsed = match (&record.error, ex.body) {
                (None, Some(body)) => match fast_page(&body) {
                    // The common case: every entry valid, parsed without a JSON tree.
                    Some(p) => Ok(Parsed::Fast(p)),
                    None => match Page::from_json_bytes(&body) {
                        Ok(p) => Ok(Parsed::General(p)),
                        Err(crate::api::PageError::NotJson(_)) => Err(FailureKind::BadBody),
                        Err(_) => Err(FailureKind::BadPage),
                    },
                },
                (Some(kind), _) => Err(*kind),
                (None, None) => Err(FailureKind::Protocol),
            };
            let page = match parsed {
                Ok(p) => p,
                Err(kind) => {
                    // The response row says why too, not only the node row.
                    record.error = Some(kind);
                    report.error = Some(kind);
                    let answered = record.status.is_some();
                    let record = self
                        .finish(network, page_no, cursor.as_deref(), record)
                        .await;
                    if answered {
                        *last = Some(record);
                    }
                    break;
                }
            };
            let (count, next) = match &page {
                Parsed::Fast(p) => (p.items.len(), p.next),
                Parsed::General(p) => (p.items.len(), p.next),
            };
            report.ok_pages += 1;
            record.items = u32::try_from(count).unwrap_or(u32::MAX);
            record.next = next.map(|n| n.to_string());
            if count > limits.page_limit {
                // Served more than asked: keep what fits under the item cap, flag the list.
                report.error.get_or_insert(FailureKind::LimitIgnored);
                record.error = Some(FailureKind::LimitIgnored);
            }
            let room = limits
                .max_items_per_list
                .saturating_sub(report.entries.len());
            report.entries.reserve(count.min(room));
            seen.reserve(count.min(room));
            let items: Box<dyn Iterator<Item = Result<PeerInfo, (&'static str, String)>>> =
                match page {
                    Parsed::Fast(p) => Box::new(p.items.into_iter().map(Ok)),
                    Parsed::General(p) => Box::new(p.items.into_iter().map(|item| {
                        PeerInfo::from_json(&item).map_err(|e| (e.kind(), item.to_string()))
                    })),
                };
            for item in items {
                if report.entries.len() >= limits.max_items_per_list {
                    report.error = Some(FailureKind::TooManyItems);
                    record.error = Some(FailureKind::TooManyItems);
                    break;
                }
                match item {
                    Ok(p) => {
                        if seen.insert(p.address.clone()) {
                            report.entries.push(p);
                        }
                    }
                    Err((kind, raw)) => {
                        if report.invalid.len() < limits.max_items_per_list {
                            report
                                .invalid
                                .push((kind, sanitize_bytes(raw.as_bytes(), MAX_RAW_ENTRY)));
                        }
                    }
                }
            }
            // Positions only move forward; an empty page that points on, or a cursor that
            // does not advance, would loop forever.
            let looping = next.is_some_and(|n| count == 0 || n.start() <= last_start);
            if looping && record.error.is_none() {
                record.error = Some(FailureKind::CursorLoop);
            }
            *last = Some(
                self.finish(network, page_no, cursor.as_deref(), record)
                    .await,
            );
            if report.error == Some(FailureKind::TooManyItems) {
                break;
            }
            let Some(next) = next else { break };
            if looping {
                report.error = Some(FailureKind::CursorLoop);
                break;
            }
            last_start = next.start();
            cursor = Some(next.to_string());
        }
        report
    }
}

/// A page as parsed: by the fast path, or by the general one that keeps invalid entries.
enum Parsed {
    Fast(FastPage),
    General(Page<Value>),
}

/// Whether a failure means the node could not be talked to at all.
fn is_unreachable(kind: FailureKind) -> bool {
    use FailureKind::*;
    matches!(
        kind,
        DnsFailed
            | ConnectRefused
            | ConnectTimeout
            | ConnectFailed
            | TlsHandshake
            | Timeout
            | NodeDeadline
            | Protocol
            | Policy(_)
    )
}

/// How a list walk relates to the node's first answer.
enum Gate {
    /// This walk's first page is the probe: tell the others whether to go on.
    Probe(oneshot::Sender<bool>),
    /// Start only once the probe says the node answers.
    After(futures::future::Shared<oneshot::Receiver<bool>>),
}

/// A node's cut list, handed to the engine as soon as it is read: its addresses can be
/// visited while the node's mempool lists are still being fetched.
#[derive(Debug)]
pub struct EarlyList {
    /// The node that served it.
    pub node: NodeIdx,
    /// The list; the visit's own report keeps its counts and error, without the entries.
    pub list: ListReport,
}

/// Walks one list of a visit, or nothing if the probe said the node cannot be reached.
/// The probing (cut) list's entries go to `early` when it is given.
async fn walk_list(
    walk: &ListWalk<'_>,
    network: PeerNetwork,
    gate: Gate,
    early: Option<&mpsc::Sender<EarlyList>>,
) -> Option<(ListReport, Option<PageRecord>)> {
    let probe = match gate {
        Gate::Probe(tx) => Some(tx),
        Gate::After(rx) => {
            if !rx.await.unwrap_or(false) {
                return None;
            }
            None
        }
    };
    let mut last = None;
    let mut report = walk.walk(network, &mut last, probe).await;
    if let Some(early) = early
        && !(report.entries.is_empty() && report.invalid.is_empty())
    {
        let list = ListReport {
            network: report.network,
            entries: std::mem::take(&mut report.entries),
            invalid: std::mem::take(&mut report.invalid),
            error: report.error,
            pages: report.pages,
            ok_pages: report.ok_pages,
        };
        // A closed channel means the engine is gone; the report then keeps the entries.
        if let Err(mpsc::error::SendError(back)) = early
            .send(EarlyList {
                node: walk.node,
                list,
            })
            .await
        {
            report.entries = back.list.entries;
            report.invalid = back.list.invalid;
        }
    }
    Some((report, last))
}

/// Contacts one node and reads every peer list it serves: the first page of its cut list
/// alone; if the node answers at all, the rest of the cut list and every chain's mempool
/// list, `per_node` requests at a time.
///
/// With `early`, the cut list's entries are sent there as soon as the list is read, and the
/// returned report keeps only its counts and error.
pub async fn visit_node(
    ctx: Arc<FetchContext>,
    node: NodeIdx,
    address: HostAddress,
    events: mpsc::Sender<Event>,
    early: Option<mpsc::Sender<EarlyList>>,
) -> NodeReport {
    let clock = VisitClock::new(ctx.limits.node_timeout);
    let mut visit = NodeVisit {
        node,
        ..NodeVisit::default()
    };
    let client = match node_client(&ctx) {
        Ok(c) => c,
        Err(_) => {
            visit.error = Some(FailureKind::ConnectFailed);
            return NodeReport {
                visit,
                lists: Vec::new(),
                contacted: false,
            };
        }
    };
    let contacted = std::sync::atomic::AtomicBool::new(false);
    let origin = address.origin();
    let walk = ListWalk {
        ctx: &ctx,
        client: &client,
        node,
        origin: &origin,
        clock: &clock,
        events: &events,
        contacted: &contacted,
        dial: address.socket_addr(),
    };
    // The cut list's first page goes alone: it opens the node's one connection (one TLS
    // handshake) and tells whether the node answers at all. The rest of the cut list and
    // every chain's mempool list then share the node's `per_node` slots, the cut list first
    // since its pages carry most of the addresses still to visit.
    let (probe_tx, probe_rx) = oneshot::channel::<bool>();
    let probe = probe_rx.shared();
    // Boxed: a walk's state is kilobytes, and the stream below moves each one it starts.
    let mut lists_to_walk = Vec::with_capacity(usize::from(ctx.network.chains()) + 1);
    lists_to_walk.push(Box::pin(walk_list(
        &walk,
        PeerNetwork::Cut,
        Gate::Probe(probe_tx),
        early.as_ref(),
    )));
    for c in ctx.network.chain_ids() {
        lists_to_walk.push(Box::pin(walk_list(
            &walk,
            PeerNetwork::Mempool(c),
            Gate::After(probe.clone()),
            None,
        )));
    }
    // Unordered, so a long list does not hold back the slots of shorter ones; the lists
    // are put back in order (cut, then chain by chain) below.
    let mut walked: Vec<(ListReport, Option<PageRecord>)> = futures::stream::iter(lists_to_walk)
        .buffer_unordered(ctx.per_node)
        .filter_map(|r| async move { r })
        .collect()
        .await;
    walked.sort_by_key(|(report, _)| report.network.chain());
    let mut last_ok: Option<PageRecord> = None;
    let mut lists = Vec::with_capacity(walked.len());
    for (report, last) in walked {
        // The cut list's last answer describes the node when there is one.
        if let Some(r) = last {
            last_ok.get_or_insert(r);
        }
        lists.push(report);
    }
    visit.pages = lists.iter().map(|l| l.pages).sum();
    let first_error = lists.iter().find_map(|l| l.error);
    visit.reachable = lists.iter().any(|l| l.ok_pages > 0);
    match &last_ok {
        Some(r) => {
            visit.tls_fingerprint = r.tls_fingerprint;
            visit.node_version = r.node_version.clone();
            visit.peer_addr = r.peer_addr.clone();
            visit.server_timestamp = r
                .server_timestamp
                .as_deref()
                .and_then(|t| t.trim().parse().ok());
            // The header has whole seconds: the node's clock was somewhere in [ts, ts + 1),
            // so the midpoint is the unbiased estimate.
            visit.clock_skew_s = visit
                .server_timestamp
                .map(|ts: i64| ts as f64 + 0.5 - r.observed_at_ms as f64 / 1000.0);
            visit.error = first_error;
        }
        None => {
            visit.error = first_error.or(Some(FailureKind::ConnectFailed));
        }
    }
    NodeReport {
        visit,
        lists,
        contacted: contacted.into_inner(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn client() -> reqwest::Client {
        reqwest::Client::builder()
            .use_preconfigured_tls(super::super::tls::client_config().expect("tls config"))
            .no_proxy()
            .build()
            .expect("client")
    }

    /// A listener on loopback that answers every connection with `reply` and closes.
    /// The prebuilt list URLs are the ones the path and limit spell, for every list of
    /// every network (and a chain a network lacks still gets its URL).
    #[test]
    fn list_urls_are_spelled_from_path_and_limit() {
        for network in NetworkId::ALL {
            let mut config = super::super::CrawlConfig::new(network, Vec::new());
            config.limits.page_limit = 64;
            let ctx = FetchContext::from_config(&config).unwrap();
            let beyond = PeerNetwork::Mempool(crate::api::ChainId(network.chains()));
            for net in network.peer_networks().chain([beyond]) {
                assert_eq!(
                    ctx.list_url("https://127.0.0.1:1789", net),
                    format!("https://127.0.0.1:1789{}?limit=64", net.peer_path(network)),
                );
            }
        }
    }

    async fn answering(reply: &'static [u8]) -> std::net::SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                let mut buf = [0u8; 1024];
                let _ = s.read(&mut buf).await;
                let _ = s.write_all(reply).await;
            }
        });
        addr
    }

    async fn failure_of(addr: std::net::SocketAddr) -> FailureKind {
        let url = format!("https://{addr}/");
        let ex = exchange_once(&client(), &url, Duration::from_secs(5), 1024).await;
        ex.record.error.expect("the exchange must fail")
    }

    #[tokio::test]
    async fn plain_http_on_the_tls_port_is_a_tls_failure() {
        let addr = answering(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok").await;
        assert_eq!(failure_of(addr).await, FailureKind::TlsHandshake);
    }

    #[tokio::test]
    async fn garbage_handshake_is_a_tls_failure() {
        let addr = answering(&[0x16, 0x03, 0x03, 0xff, 0xff, 0, 0, 0, 0]).await;
        assert_eq!(failure_of(addr).await, FailureKind::TlsHandshake);
    }

    #[tokio::test]
    async fn closed_port_is_connect_refused() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        drop(listener);
        assert_eq!(failure_of(addr).await, FailureKind::ConnectRefused);
    }
}
