//! The writer: one thread that owns a connection and turns crawl events into rows.
//!
//! The crawl sends [`Event`]s over a bounded channel; when the store falls behind, sends
//! wait, so a slow disk slows the crawl instead of growing memory. The thread commits a
//! batch when it holds [`MAX_BATCH_ROWS`] rows or is [`MAX_BATCH_AGE`] old, so readers see
//! progress, and commits its last batch and returns when every sender has been dropped.
//!
//! Events must name only nodes announced earlier by `NodeLearned` (the engine assigns node
//! numbers as it learns addresses, so this holds naturally); references to unknown node
//! numbers are not stored and are counted in [`WriterStats::unknown_nodes`]; a second
//! `NodeLearned` for a number already stored is ignored and counted in
//! [`WriterStats::duplicate_nodes`]. Neither stops the writer: a crawl's data is worth more
//! than strictness about an engine bug, and the counts make the bug visible.

use std::path::PathBuf;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::{Connection, Transaction, TransactionBehavior, params};
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TryRecvError;

use super::edge_lists;
use super::sql::net_code;
use super::{CrawlId, Store, StoreError};
use crate::crawl::{Event, NodeIdx, NodeVisit, PageRecord};

/// Capacity of the event channel.
pub const WRITER_CHANNEL_CAPACITY: usize = 4096;
/// A batch is committed once it has written this many rows.
pub const MAX_BATCH_ROWS: u64 = 200_000;
/// A batch is committed at the latest this long after its first event.
pub const MAX_BATCH_AGE: Duration = Duration::from_millis(200);
/// How long the writer sleeps when it finds the channel empty inside a batch.
const WRITER_NAP: Duration = Duration::from_millis(1);

/// What the writer wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriterStats {
    /// Events received.
    pub events: u64,
    /// Node rows inserted.
    pub nodes: u64,
    /// Edge rows inserted (duplicates within one list are stored once).
    pub edges: u64,
    /// Response rows inserted.
    pub responses: u64,
    /// Invalid-entry rows inserted.
    pub invalid_entries: u64,
    /// Transactions committed.
    pub transactions: u64,
    /// References to node numbers never announced by `NodeLearned` (not stored).
    pub unknown_nodes: u64,
}

/// Starts the writer thread for crawl `crawl` in the database at `path`.
///
/// Returns the sending side of a bounded channel ([`WRITER_CHANNEL_CAPACITY`]) and the
/// thread's handle. Drop every clone of the sender to stop the writer, then join it: it
/// returns what it wrote, or the error that stopped it. If it stops early (it cannot open
/// the database, or a write fails), sends fail because the receiver is gone; join the
/// thread to learn why.
pub fn spawn_writer(
    path: PathBuf,
    crawl: CrawlId,
) -> (
    mpsc::Sender<Event>,
    JoinHandle<Result<WriterStats, StoreError>>,
) {
    let (tx, rx) = mpsc::channel(WRITER_CHANNEL_CAPACITY);
    let handle = std::thread::Builder::new()
        .name("store-writer".into())
        .spawn(move || {
            let conn = Store::open(&path)?.into_connection();
            Writer::new(conn, crawl)?.run(rx)
        });
    let handle = match handle {
        Ok(h) => h,
        // Spawning a thread fails only when the OS is out of resources; report it through
        // the handle like any other writer failure.
        Err(e) => std::thread::spawn(move || {
            Err(StoreError::Invalid(format!(
                "cannot start writer thread: {e}"
            )))
        }),
    };
    (tx, handle)
}

/// The state of the writer thread.
struct Writer {
    /// Its own connection; no one else writes rows of this crawl.
    conn: Connection,
    /// The crawl all rows belong to.
    crawl: CrawlId,
    /// `known[n]` is true once node `n` has been inserted.
    known: Vec<bool>,
    /// Running totals.
    stats: WriterStats,
    /// Rows written in the open batch.
    batch_rows: u64,
    /// Lists of the open batch, written when it commits.
    lists: Vec<(NodeIdx, i64, Vec<NodeIdx>)>,
}

const INSERT_NODE: &str = "INSERT INTO nodes (crawl_id, node, hostname, port, peer_id, bootstrap) \
                           VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
const SKIP_NODE: &str =
    "UPDATE nodes SET reachable = NULL, error = ?3 WHERE crawl_id = ?1 AND node = ?2";
const VISIT_NODE: &str = "UPDATE nodes SET reachable = ?3, tls_fingerprint = ?4, \
                          node_version = ?5, server_timestamp = ?6, peer_addr = ?7, \
                          clock_skew_s = ?8, pages = ?9, error = ?10 \
                          WHERE crawl_id = ?1 AND node = ?2";
const INSERT_RESPONSE: &str = "INSERT INTO responses (crawl_id, node, net, page, cursor, status, \
                               latency_ms, peer_addr, server_timestamp, node_version, \
                               tls_fingerprint, items, next, bytes, error, detail, \
                               observed_at_ms) \
                               VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, \
                               ?13, ?14, ?15, ?16, ?17)";
const INSERT_INVALID: &str =
    "INSERT INTO invalid_entries (crawl_id, src, net, reason, raw) VALUES (?1, ?2, ?3, ?4, ?5)";

impl Writer {
    fn new(conn: Connection, crawl: CrawlId) -> Result<Writer, StoreError> {
        // A 64 MiB page cache keeps the edge B-tree's hot pages in memory.
        conn.pragma_update(None, "cache_size", -65_536)?;
        // Numbers of nodes already stored (a writer restarted on an existing crawl).
        let mut known = Vec::new();
        {
            let mut stmt = conn.prepare("SELECT node FROM nodes WHERE crawl_id = ?1")?;
            let rows = stmt.query_map([crawl], |r| r.get::<_, i64>(0))?;
            for n in rows {
                if let Ok(n) = usize::try_from(n?) {
                    mark(&mut known, n);
                }
            }
        }
        Ok(Writer {
            conn,
            crawl,
            known,
            stats: WriterStats::default(),
            batch_rows: 0,
            lists: Vec::new(),
        })
    }

    /// The main loop: one transaction per batch until every sender is gone.
    fn run(mut self, mut rx: mpsc::Receiver<Event>) -> Result<WriterStats, StoreError> {
        while let Some(first) = rx.blocking_recv() {
            let deadline = Instant::now() + MAX_BATCH_AGE;
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut batch = Batch {
                tx: &tx,
                crawl: self.crawl,
                known: &mut self.known,
                stats: &mut self.stats,
                rows: &mut self.batch_rows,
                lists: &mut self.lists,
            };
            batch.apply(first)?;
            let mut closed = false;
            while *batch.rows < MAX_BATCH_ROWS {
                let event = match rx.try_recv() {
                    Ok(event) => event,
                    Err(TryRecvError::Disconnected) => {
                        closed = true;
                        break;
                    }
                    Err(TryRecvError::Empty) => {
                        let left = deadline.saturating_duration_since(Instant::now());
                        if left.is_zero() {
                            break;
                        }
                        // Nap instead of waiting for the next event: a sender that finds the
                        // writer parked must wake it, and at tens of thousands of events a
                        // second those wake-ups cost the crawl more CPU than the rows. A
                        // millisecond fills a small part of the channel.
                        std::thread::sleep(left.min(WRITER_NAP));
                        continue;
                    }
                };
                batch.apply(event)?;
                if Instant::now() >= deadline {
                    break;
                }
            }
            batch.insert_lists()?;
            tx.commit()?;
            self.stats.transactions += 1;
            self.batch_rows = 0;
            if closed {
                break;
            }
        }
        Ok(self.stats)
    }
}

fn mark(known: &mut Vec<bool>, n: usize) {
    if known.len() <= n {
        known.resize(n + 1, false);
    }
    known[n] = true;
}

/// One open transaction and the writer state it updates.
struct Batch<'a> {
    tx: &'a Transaction<'a>,
    crawl: CrawlId,
    known: &'a mut Vec<bool>,
    stats: &'a mut WriterStats,
    rows: &'a mut u64,
    /// Lists seen in this batch, written at its end: `(src, net, dsts)`.
    lists: &'a mut Vec<(NodeIdx, i64, Vec<NodeIdx>)>,
}

impl Batch<'_> {
    /// Writes the batch's lists, one row each, in `(src, net)` order: lists arrive in the
    /// order visits finish, scattered over the table; in key order most rows go past its
    /// end, where SQLite appends without searching from the root. Every list's destinations
    /// are stored ascending and once (see `edge_lists`).
    fn insert_lists(&mut self) -> Result<(), StoreError> {
        let mut lists = std::mem::take(self.lists);
        lists.sort_unstable_by_key(|(src, net, _)| (*src, *net));
        let mut insert = self.tx.prepare_cached(edge_lists::INSERT_LIST)?;
        for (src, net, mut dsts) in lists {
            dsts.sort_unstable();
            dsts.dedup();
            if dsts.is_empty() {
                continue;
            }
            let text = edge_lists::encode(&dsts);
            if insert.execute(params![self.crawl, src, net, text])? == 1 {
                self.stats.edges += dsts.len() as u64;
            } else {
                self.merge_list(src, net, dsts)?;
            }
        }
        Ok(())
    }

    /// A list already stored (sent twice, or by a writer restarted on the crawl): only the
    /// destinations it lacks are added, and counted.
    fn merge_list(&mut self, src: NodeIdx, net: i64, dsts: Vec<NodeIdx>) -> Result<(), StoreError> {
        let stored: String = self.tx.query_row(
            "SELECT dsts FROM edge_lists WHERE crawl_id = ?1 AND src = ?2 AND net = ?3",
            params![self.crawl, src, net],
            |r| r.get(0),
        )?;
        let mut merged = edge_lists::decode(&stored)
            .ok_or_else(|| StoreError::Invalid(format!("edge list ({src}, {net}): {stored}")))?;
        let before = merged.len();
        merged.extend(dsts);
        merged.sort_unstable();
        merged.dedup();
        self.tx.execute(
            "UPDATE edge_lists SET dsts = ?4 WHERE crawl_id = ?1 AND src = ?2 AND net = ?3",
            params![self.crawl, src, net, edge_lists::encode(&merged)],
        )?;
        self.stats.edges += (merged.len() - before) as u64;
        Ok(())
    }

    fn is_known(&self, n: NodeIdx) -> bool {
        self.known.get(n as usize).copied().unwrap_or(false)
    }

    /// Counts an event about an unknown node; returns whether the node is known.
    fn check(&mut self, n: NodeIdx) -> bool {
        let known = self.is_known(n);
        if !known {
            self.stats.unknown_nodes += 1;
        }
        known
    }

    fn apply(&mut self, event: Event) -> Result<(), StoreError> {
        self.stats.events += 1;
        match event {
            Event::NodeLearned {
                node,
                address,
                advertised_id,
                bootstrap,
            } => {
                self.tx.prepare_cached(INSERT_NODE)?.execute(params![
                    self.crawl,
                    node,
                    address.hostname.to_string(),
                    address.port,
                    advertised_id,
                    bootstrap,
                ])?;
                mark(self.known, node as usize);
                self.stats.nodes += 1;
                *self.rows += 1;
            }
            Event::NodeSkipped { node, reason } => {
                if self.check(node) {
                    self.tx.prepare_cached(SKIP_NODE)?.execute(params![
                        self.crawl,
                        node,
                        reason.as_str()
                    ])?;
                    *self.rows += 1;
                }
            }
            Event::NodeVisited(visit) => {
                if self.check(visit.node) {
                    self.visit(&visit)?;
                }
            }
            Event::PageFetched(page) => {
                if self.check(page.node) {
                    self.page(&page)?;
                }
            }
            Event::ListSeen {
                src,
                network,
                mut dsts,
            } => {
                if self.check(src) {
                    dsts.retain(|&d| self.check(d));
                    // Written when the batch commits, all lists in key order (see
                    // `insert_lists`); counted now, so the batch stays bounded.
                    *self.rows += dsts.len() as u64;
                    self.lists.push((src, net_code(network), dsts));
                }
            }
            Event::InvalidEntry {
                src,
                network,
                reason,
                raw,
            } => {
                if self.check(src) {
                    self.tx.prepare_cached(INSERT_INVALID)?.execute(params![
                        self.crawl,
                        src,
                        net_code(network),
                        reason,
                        raw
                    ])?;
                    self.stats.invalid_entries += 1;
                    *self.rows += 1;
                }
            }
        }
        Ok(())
    }

    fn visit(&mut self, v: &NodeVisit) -> Result<(), StoreError> {
        self.tx.prepare_cached(VISIT_NODE)?.execute(params![
            self.crawl,
            v.node,
            v.reachable,
            v.tls_fingerprint,
            v.node_version,
            v.server_timestamp,
            v.peer_addr,
            v.clock_skew_s,
            v.pages,
            v.error.map(|e| e.as_str()),
        ])?;
        *self.rows += 1;
        Ok(())
    }

    fn page(&mut self, p: &PageRecord) -> Result<(), StoreError> {
        self.tx.prepare_cached(INSERT_RESPONSE)?.execute(params![
            self.crawl,
            p.node,
            p.network.map(net_code),
            p.page,
            p.cursor,
            p.status,
            p.latency_ms,
            p.peer_addr,
            p.server_timestamp,
            p.node_version,
            p.tls_fingerprint,
            p.items,
            p.next,
            i64::try_from(p.bytes).unwrap_or(i64::MAX),
            p.error.map(|e| e.as_str()),
            p.detail,
            p.observed_at_ms,
        ])?;
        self.stats.responses += 1;
        *self.rows += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{ChainId, HostAddress, NetworkId, PeerId, PeerNetwork};
    use crate::crawl::FailureKind;
    use crate::crawl::policy::AddrClass;
    use crate::store::tests::Scratch;
    use crate::store::{CrawlStatus, EdgeRow};

    fn learned(node: NodeIdx, addr: &str, id: Option<PeerId>, bootstrap: bool) -> Event {
        Event::NodeLearned {
            node,
            address: addr.parse::<HostAddress>().unwrap(),
            advertised_id: id,
            bootstrap,
        }
    }

    #[test]
    fn round_trip_through_the_channel() {
        let dir = Scratch::new("writer");
        let path = dir.0.join("crawls.db");
        let store = Store::open(&path).unwrap();
        let crawl = store
            .begin_crawl(NetworkId::Development, &serde_json::json!({"x": 1}))
            .unwrap();
        let (tx, handle) = spawn_writer(path.clone(), crawl);

        let id_a = PeerId::from_certificate_der(b"a");
        let id_b = PeerId::from_certificate_der(b"b");
        let fp_a = PeerId::from_certificate_der(b"a-observed");
        // Node 0 (bootstrap, reachable), 1 (reachable), 2 (fails), 3 (skipped by policy),
        // 4 (learned, never contacted: finish_crawl marks it not_visited), and many more
        // nodes so that a large edge list goes through.
        let many = 2_000u32;
        let mut events = vec![
            learned(0, "Node-A.example:443", Some(id_a), true),
            learned(1, "[2001:DB8::1]:1789", Some(id_b), false),
            learned(2, "127.0.0.2:443", None, false),
            learned(3, "10.0.0.1:443", None, false),
            learned(4, "127.0.0.4:443", None, false),
        ];
        for n in 5..many {
            events.push(learned(
                n,
                &format!("127.0.{}.{}:443", n / 250, n % 250 + 1),
                None,
                false,
            ));
        }
        events.push(Event::NodeSkipped {
            node: 3,
            reason: FailureKind::Policy(AddrClass::Private),
        });
        events.push(Event::PageFetched(PageRecord {
            node: 0,
            network: Some(PeerNetwork::Cut),
            page: 0,
            status: Some(200),
            latency_ms: 12.5,
            items: 3,
            bytes: 321,
            observed_at_ms: 1_700_000_000_000,
            ..PageRecord::default()
        }));
        events.push(Event::ListSeen {
            src: 0,
            network: PeerNetwork::Cut,
            dsts: vec![1, 2, 3, 1],
        });
        events.push(Event::ListSeen {
            src: 0,
            network: PeerNetwork::Mempool(ChainId(3)),
            dsts: vec![1],
        });
        // A big list: node 1 advertises every node on every chain of a 20-chain network.
        for chain in 0..20 {
            events.push(Event::ListSeen {
                src: 1,
                network: PeerNetwork::Mempool(ChainId(chain)),
                dsts: (0..many).collect(),
            });
        }
        events.push(Event::InvalidEntry {
            src: 1,
            network: PeerNetwork::Cut,
            reason: "invalid_hostname",
            raw: r#"{"id":null,"address":{"hostname":"","port":1}}"#.into(),
        });
        events.push(Event::ListSeen {
            src: 1,
            network: PeerNetwork::Cut,
            dsts: vec![0, 9_999_999],
        });
        // Node 0's cut list again: only node 4 is new to it.
        events.push(Event::ListSeen {
            src: 0,
            network: PeerNetwork::Cut,
            dsts: vec![4, 2],
        });
        events.push(Event::NodeVisited(NodeVisit {
            node: 0,
            reachable: true,
            tls_fingerprint: Some(fp_a),
            node_version: Some("2.31".into()),
            server_timestamp: Some(1_700_000_001),
            peer_addr: Some("127.0.0.1".into()),
            clock_skew_s: Some(1.5),
            pages: 21,
            error: None,
        }));
        events.push(Event::NodeVisited(NodeVisit {
            node: 1,
            reachable: true,
            pages: 22,
            ..NodeVisit::default()
        }));
        events.push(Event::NodeVisited(NodeVisit {
            node: 2,
            reachable: false,
            error: Some(FailureKind::ConnectRefused),
            ..NodeVisit::default()
        }));

        let sender = std::thread::spawn(move || {
            for e in events {
                tx.blocking_send(e).unwrap();
            }
        });
        sender.join().unwrap();
        let stats = handle.join().unwrap().unwrap();
        let expected_edges = 3 + 1 + 20 * u64::from(many) + 1 + 1;
        assert_eq!(stats.nodes, u64::from(many));
        assert_eq!(stats.edges, expected_edges);
        assert_eq!(stats.responses, 1);
        assert_eq!(stats.invalid_entries, 1);
        assert_eq!(stats.unknown_nodes, 1);
        assert!(stats.transactions >= 1);

        store
            .finish_crawl(crawl, CrawlStatus::Complete, 0, None)
            .unwrap();

        // The public views, row for row, for the first five nodes.
        let conn = store.connection();
        type NodeView = (
            i64,
            String,
            i64,
            Option<String>,
            Option<i64>,
            Option<String>,
            Option<String>,
            Option<i64>,
            Option<String>,
            Option<String>,
        );
        let rows: Vec<NodeView> = conn
            .prepare(
                "SELECT * FROM crawl_nodes WHERE crawl_id = ?1 \
                 AND hostname IN ('node-a.example', '2001:db8::1', '127.0.0.2', '10.0.0.1', \
                 '127.0.0.4') ORDER BY hostname",
            )
            .unwrap()
            .query_map([crawl], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                    r.get(9)?,
                ))
            })
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let c = crawl.0;
        let s = |x: &str| Some(x.to_string());
        assert_eq!(
            rows,
            vec![
                (
                    c,
                    "10.0.0.1".into(),
                    443,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    s("policy_private")
                ),
                (
                    c,
                    "127.0.0.2".into(),
                    443,
                    None,
                    Some(0),
                    None,
                    None,
                    None,
                    None,
                    s("connect_refused")
                ),
                (
                    c,
                    "127.0.0.4".into(),
                    443,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    s("not_visited")
                ),
                (
                    c,
                    "2001:db8::1".into(),
                    1789,
                    Some(id_b.to_string()),
                    Some(1),
                    None,
                    None,
                    None,
                    None,
                    None
                ),
                (
                    c,
                    "node-a.example".into(),
                    443,
                    Some(id_a.to_string()),
                    Some(1),
                    Some(fp_a.to_string()),
                    s("2.31"),
                    Some(1_700_000_001),
                    s("127.0.0.1"),
                    None
                ),
            ]
        );

        type EdgeView = (
            i64,
            String,
            i64,
            String,
            i64,
            Option<String>,
            String,
            Option<i64>,
        );
        let edges: Vec<EdgeView> = conn
            .prepare(
                "SELECT * FROM crawl_edges WHERE crawl_id = ?1 AND src_hostname = 'node-a.example' \
                 ORDER BY network, chain, dst_hostname",
            )
            .unwrap()
            .query_map([crawl], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                ))
            })
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let a = || "node-a.example".to_string();
        assert_eq!(
            edges,
            vec![
                (
                    c,
                    a(),
                    443,
                    "10.0.0.1".into(),
                    443,
                    None,
                    "cut".into(),
                    None
                ),
                (
                    c,
                    a(),
                    443,
                    "127.0.0.2".into(),
                    443,
                    None,
                    "cut".into(),
                    None
                ),
                (
                    c,
                    a(),
                    443,
                    "127.0.0.4".into(),
                    443,
                    None,
                    "cut".into(),
                    None
                ),
                (
                    c,
                    a(),
                    443,
                    "2001:db8::1".into(),
                    1789,
                    Some(id_b.to_string()),
                    "cut".into(),
                    None
                ),
                (
                    c,
                    a(),
                    443,
                    "2001:db8::1".into(),
                    1789,
                    Some(id_b.to_string()),
                    "mempool".into(),
                    Some(3)
                ),
            ]
        );
        let total: i64 = conn
            .query_row(
                "SELECT count(*) FROM crawl_edges WHERE crawl_id = ?1",
                [crawl],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(total as u64, expected_edges);

        let (status, latency, network): (i64, f64, String) = conn
            .query_row(
                "SELECT status, latency_ms, network FROM crawl_responses WHERE crawl_id = ?1",
                [crawl],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!((status, latency, network.as_str()), (200, 12.5, "cut"));

        // The in-memory form, sorted.
        let data = store.load_crawl(crawl).unwrap();
        assert_eq!(data.nodes.len(), many as usize);
        assert!(data.nodes.windows(2).all(|w| w[0].node < w[1].node));
        assert_eq!(data.edges.len() as u64, expected_edges);
        assert!(
            data.edges
                .windows(2)
                .all(|w| w[0].sort_key() < w[1].sort_key())
        );
        assert_eq!(
            &data.edges[..5],
            &[
                EdgeRow {
                    src: 0,
                    dst: 1,
                    network: PeerNetwork::Cut
                },
                EdgeRow {
                    src: 0,
                    dst: 2,
                    network: PeerNetwork::Cut
                },
                EdgeRow {
                    src: 0,
                    dst: 3,
                    network: PeerNetwork::Cut
                },
                EdgeRow {
                    src: 0,
                    dst: 4,
                    network: PeerNetwork::Cut
                },
                EdgeRow {
                    src: 0,
                    dst: 1,
                    network: PeerNetwork::Mempool(ChainId(3))
                },
            ]
        );
        let n0 = &data.nodes[0];
        assert!(n0.bootstrap);
        assert_eq!(n0.clock_skew_s, Some(1.5));
        assert_eq!(n0.reachable, Some(true));
        let counts = store.edge_counts(crawl).unwrap();
        assert_eq!(counts.len(), 21);
        assert_eq!(counts[0].network, PeerNetwork::Cut);
        assert_eq!(counts[0].edges, 5);
        assert_eq!(counts[4].network, PeerNetwork::Mempool(ChainId(3)));
        assert_eq!(counts[4].edges, u64::from(many) + 1);
    }

    #[test]
    fn writer_reports_an_unopenable_database() {
        let dir = Scratch::new("writer-bad");
        let path = dir.0.join("bad.db");
        std::fs::write(&path, vec![b'x'; 4096]).unwrap();
        let (tx, handle) = spawn_writer(path, CrawlId(1));
        let err = handle.join().unwrap().unwrap_err();
        assert!(matches!(err, StoreError::NotADatabase { .. }), "{err}");
        assert!(tx.is_closed());
    }
}

/// Write throughput, run by hand:
/// `cargo test --release --lib store::writer::bench -- --ignored --nocapture`
/// (`BENCH_SRCS` sets the number of advertising nodes; each serves 1,100 entries).
#[cfg(test)]
mod bench {
    use super::*;
    use crate::api::{ChainId, HostAddress, NetworkId, PeerNetwork};
    use crate::store::tests::Scratch;

    #[test]
    #[ignore = "benchmark"]
    fn writer_throughput() {
        let srcs: u32 = std::env::var("BENCH_SRCS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(2_000);
        let nodes = 10_000u32;
        let dir = Scratch::new("bench");
        let path = dir.0.join("bench.db");
        let store = Store::open(&path).unwrap();
        let crawl = store
            .begin_crawl(NetworkId::Mainnet01, &serde_json::json!({}))
            .unwrap();
        let start = Instant::now();
        let (tx, handle) = spawn_writer(path.clone(), crawl);
        let producer = std::thread::spawn(move || {
            for n in 0..nodes {
                let address: HostAddress =
                    format!("10.{}.{}.{}:443", n >> 16, (n >> 8) & 255, n & 255)
                        .parse()
                        .unwrap();
                tx.blocking_send(Event::NodeLearned {
                    node: n,
                    address,
                    advertised_id: None,
                    bootstrap: n < 6,
                })
                .unwrap();
            }
            let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
            let mut next = move || {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x % u64::from(nodes)) as u32
            };
            for src in 0..srcs {
                let mut lists = vec![(PeerNetwork::Cut, 100)];
                lists.extend((0..20).map(|c| (PeerNetwork::Mempool(ChainId(c)), 50)));
                for (network, len) in lists {
                    // Served order, not sorted; the rare duplicate is stored once.
                    let dsts: Vec<u32> = (0..len).map(|_| next()).collect();
                    tx.blocking_send(Event::ListSeen { src, network, dsts })
                        .unwrap();
                }
            }
        });
        producer.join().unwrap();
        let stats = handle.join().unwrap().unwrap();
        let secs = start.elapsed().as_secs_f64();
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0)
            + std::fs::metadata(path.with_extension("db-wal"))
                .map(|m| m.len())
                .unwrap_or(0);
        eprintln!(
            "writer: {} edges, {} nodes in {secs:.2} s = {:.0} edge rows/s, {} transactions, \
             {:.1} bytes/edge on disk",
            stats.edges,
            stats.nodes,
            stats.edges as f64 / secs,
            stats.transactions,
            size as f64 / stats.edges as f64
        );
        let t = Instant::now();
        let data = store.load_crawl(crawl).unwrap();
        eprintln!(
            "load_crawl: {} edges in {:.2} s",
            data.edges.len(),
            t.elapsed().as_secs_f64()
        );
    }
}
