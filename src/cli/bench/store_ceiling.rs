//! T_store: the storage ceiling. The rows one crawl stored are read back, turned into the
//! events that produced them, and written again by the same writer into the same schema of
//! a fresh database, with nothing else running. Reading them back is not timed.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, anyhow};

use crate::api::{ChainId, HostAddress, Hostname, PeerId, PeerNetwork};
use crate::crawl::{Event, FailureKind, NodeVisit, PageRecord};
use crate::store::{self, CrawlId, Store};

/// What the storage ceiling run wrote.
#[derive(Debug, Clone, Copy, Default)]
pub struct StoreResult {
    /// Node rows.
    pub nodes: u64,
    /// Edge rows.
    pub edges: u64,
    /// Response rows.
    pub responses: u64,
    /// Wall time of the writing alone, in seconds.
    pub elapsed_s: f64,
}

/// Every failure text a simulated crawl can store (the egress-policy ones cannot occur
/// with loopback allowed).
const KINDS: &[FailureKind] = &[
    FailureKind::PortZero,
    FailureKind::FrontierFull,
    FailureKind::NotVisited,
    FailureKind::DnsFailed,
    FailureKind::ConnectRefused,
    FailureKind::ConnectTimeout,
    FailureKind::ConnectFailed,
    FailureKind::TlsHandshake,
    FailureKind::Timeout,
    FailureKind::NodeDeadline,
    FailureKind::Protocol,
    FailureKind::HttpStatus,
    FailureKind::Redirect,
    FailureKind::BodyTooLarge,
    FailureKind::BadBody,
    FailureKind::BadPage,
    FailureKind::LimitIgnored,
    FailureKind::CursorLoop,
    FailureKind::TooManyPages,
    FailureKind::TooManyItems,
    FailureKind::Interrupted,
];

fn kind(s: Option<String>) -> Option<FailureKind> {
    let s = s?;
    Some(
        KINDS
            .iter()
            .copied()
            .find(|k| k.as_str() == s)
            .unwrap_or(FailureKind::Protocol),
    )
}

fn net(code: Option<i64>) -> Option<PeerNetwork> {
    match code? {
        c if c < 0 => Some(PeerNetwork::Cut),
        c => u16::try_from(c)
            .ok()
            .map(|c| PeerNetwork::Mempool(ChainId(c))),
    }
}

fn id(s: Option<String>) -> Option<PeerId> {
    s.and_then(|s| s.parse().ok())
}

/// Rebuilds the events of crawl `crawl` of `db`, in the order the writer needs them.
///
/// # Errors
/// Database failures.
pub fn events_of(db: &Path, crawl: CrawlId) -> Result<Vec<Event>> {
    let store = Store::open(db).context("cannot open the crawl database")?;
    let conn = store.connection();
    let mut events = Vec::new();
    let mut visits = Vec::new();
    let mut stmt = conn.prepare(
        "SELECT node, hostname, port, peer_id, bootstrap, reachable, tls_fingerprint, \
         node_version, server_timestamp, peer_addr, clock_skew_s, pages, error \
         FROM nodes WHERE crawl_id = ?1 ORDER BY node",
    )?;
    let mut rows = stmt.query([crawl.0])?;
    while let Some(r) = rows.next()? {
        let node: u32 = r.get(0)?;
        let host: String = r.get(1)?;
        let hostname: Hostname = host
            .parse()
            .map_err(|_| anyhow!("stored hostname {host:?} does not parse"))?;
        events.push(Event::NodeLearned {
            node,
            address: HostAddress::new(hostname, r.get(2)?),
            advertised_id: id(r.get(3)?),
            bootstrap: r.get(4)?,
        });
        let reachable: Option<bool> = r.get(5)?;
        let error = kind(r.get(12)?);
        match reachable {
            None => visits.push(Event::NodeSkipped {
                node,
                reason: error.unwrap_or(FailureKind::NotVisited),
            }),
            Some(reachable) => visits.push(Event::NodeVisited(NodeVisit {
                node,
                reachable,
                tls_fingerprint: id(r.get(6)?),
                node_version: r.get(7)?,
                server_timestamp: r.get(8)?,
                peer_addr: r.get(9)?,
                clock_skew_s: r.get(10)?,
                pages: r.get::<_, Option<u32>>(11)?.unwrap_or(0),
                error,
            })),
        }
    }
    let mut stmt = conn.prepare(
        "SELECT node, net, page, cursor, status, latency_ms, peer_addr, server_timestamp, \
         node_version, tls_fingerprint, items, next, bytes, error, detail, observed_at_ms \
         FROM responses WHERE crawl_id = ?1 ORDER BY rowid",
    )?;
    let mut rows = stmt.query([crawl.0])?;
    while let Some(r) = rows.next()? {
        events.push(Event::PageFetched(PageRecord {
            node: r.get(0)?,
            network: net(r.get(1)?),
            page: r.get(2)?,
            cursor: r.get(3)?,
            status: r.get(4)?,
            latency_ms: r.get(5)?,
            peer_addr: r.get(6)?,
            server_timestamp: r.get(7)?,
            node_version: r.get(8)?,
            tls_fingerprint: id(r.get(9)?),
            items: r.get(10)?,
            next: r.get(11)?,
            bytes: r.get::<_, i64>(12)?.try_into().unwrap_or(0),
            error: kind(r.get(13)?),
            detail: r.get(14)?,
            observed_at_ms: r.get(15)?,
        }));
    }
    store.for_each_edge_list(crawl, |src, network, dsts| {
        events.push(Event::ListSeen { src, network, dsts });
    })?;
    events.extend(visits);
    Ok(events)
}

/// Writes `events` into a new crawl of a fresh database at `db`, timing only the writing.
///
/// # Errors
/// Database failures.
pub async fn run(
    db: &Path,
    network: crate::api::NetworkId,
    events: Vec<Event>,
) -> Result<StoreResult> {
    let store = Store::open(db).context("cannot create the storage-ceiling database")?;
    let crawl = store.begin_crawl(network, &serde_json::json!({"bench": "store ceiling"}))?;
    let started = Instant::now();
    let (tx, writer) = store::spawn_writer(db.to_path_buf(), crawl);
    for e in events {
        if tx.send(e).await.is_err() {
            break;
        }
    }
    drop(tx);
    let stats = tokio::task::spawn_blocking(move || writer.join())
        .await
        .context("storage-ceiling writer task failed")?
        .map_err(|_| anyhow!("storage-ceiling writer panicked"))??;
    Ok(StoreResult {
        nodes: stats.nodes,
        edges: stats.edges,
        responses: stats.responses,
        elapsed_s: started.elapsed().as_secs_f64(),
    })
}
