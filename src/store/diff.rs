//! What changed between two sealed crawls: nodes that joined, left, changed reachability,
//! version or certificate, and edges added and removed per peer network.
//!
//! Nodes are matched by address (hostname and port), edges by source address, destination
//! address and peer network. Everything is read through the public views, so a diff sees
//! exactly what a researcher's query sees (sealed crawls only).

use std::collections::BTreeMap;

use rusqlite::params;
use serde::Serialize;

use super::{CrawlId, Store, StoreError};

/// One advertised peer entry of a diff, addresses as `host:port` (IPv6 in brackets).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct DiffEdge {
    /// The advertising node.
    pub src: String,
    /// The advertised node.
    pub dst: String,
    /// `cut` or `mempool`.
    pub network: String,
    /// The chain of a mempool list.
    pub chain: Option<u16>,
}

/// A value of a node that differs between the two crawls.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Changed<T> {
    /// The node, `host:port`.
    pub address: String,
    /// In the older crawl.
    pub from: T,
    /// In the newer crawl.
    pub to: T,
}

/// Edge counts of one peer network in a diff.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct NetworkDelta {
    /// Entries in the newer crawl only.
    pub added: u64,
    /// Entries in the older crawl only.
    pub removed: u64,
}

/// The difference between crawl `from` and crawl `to`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CrawlDiff {
    /// The older crawl.
    pub from: CrawlId,
    /// The newer crawl.
    pub to: CrawlId,
    /// Addresses known in `to` but not in `from`, in address order.
    pub joined: Vec<String>,
    /// Addresses known in `from` but not in `to`, in address order.
    pub left: Vec<String>,
    /// Nodes in both whose `reachable` differs (`None`: not contacted).
    pub reachability_changed: Vec<Changed<Option<bool>>>,
    /// Nodes reachable in both whose `node_version` differs.
    pub version_changed: Vec<Changed<Option<String>>>,
    /// Nodes reachable in both whose observed certificate (`tls_fingerprint`) differs.
    pub certificate_changed: Vec<Changed<Option<String>>>,
    /// Entries advertised in `to` but not in `from`, by source then destination address.
    pub edges_added: Vec<DiffEdge>,
    /// Entries advertised in `from` but not in `to`, by source then destination address.
    pub edges_removed: Vec<DiffEdge>,
    /// Added and removed entries per peer network (`cut`, `mempool:0`, …).
    pub per_network: BTreeMap<String, NetworkDelta>,
}

/// How addresses are ordered in a diff: as addresses (127.0.0.2 before 127.0.0.10, IPv4,
/// then IPv6, then names), with the text as the tie-break for any a crawl stored that does
/// not parse.
fn address_order(s: &str) -> (Option<crate::api::HostAddress>, &str) {
    (s.parse().ok(), s)
}

/// Changes in address order (see [`address_order`]), then by value.
fn by_address<T: Ord>(a: &Changed<T>, b: &Changed<T>) -> std::cmp::Ordering {
    address_order(&a.address)
        .cmp(&address_order(&b.address))
        .then_with(|| a.cmp(b))
}

/// `host:port` from view columns, IPv6 (any host with a `:`) in brackets.
fn address(host: &str, port: i64) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// The label of a peer network in [`CrawlDiff::per_network`].
pub fn network_label(network: &str, chain: Option<u16>) -> String {
    match chain {
        Some(c) => format!("{network}:{c}"),
        None => network.to_string(),
    }
}

const NODE_SIDE: &str = "SELECT hostname, port FROM crawl_nodes WHERE crawl_id = ?1 \
                         EXCEPT SELECT hostname, port FROM crawl_nodes WHERE crawl_id = ?2 \
                         ORDER BY 1, 2";
const EDGE_SIDE: &str = "SELECT src_hostname, src_port, dst_hostname, dst_port, network, chain \
     FROM crawl_edges WHERE crawl_id = ?1 \
     EXCEPT SELECT src_hostname, src_port, dst_hostname, dst_port, network, chain \
     FROM crawl_edges WHERE crawl_id = ?2";
const BOTH: &str = "SELECT a.hostname, a.port, a.reachable, b.reachable, a.node_version, \
                    b.node_version, a.tls_fingerprint, b.tls_fingerprint \
                    FROM crawl_nodes AS a JOIN crawl_nodes AS b \
                    ON b.crawl_id = ?2 AND b.hostname = a.hostname AND b.port = a.port \
                    WHERE a.crawl_id = ?1 ORDER BY a.hostname, a.port";

impl Store {
    /// The sealed crawls, oldest first (what `diff` picks its default pair from).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn sealed_crawls(&self) -> Result<Vec<CrawlId>, StoreError> {
        let mut stmt = self
            .connection()
            .prepare_cached("SELECT id FROM crawls WHERE status <> 'running' ORDER BY id")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// What changed from crawl `from` to crawl `to`.
    ///
    /// # Errors
    /// [`StoreError::NoSuchCrawl`] for an unknown id, [`StoreError::Invalid`] for a crawl
    /// still running (the views do not show it yet); SQLite errors.
    pub fn diff(&self, from: CrawlId, to: CrawlId) -> Result<CrawlDiff, StoreError> {
        for id in [from, to] {
            if self.crawl(id)?.status == super::CrawlStatus::Running {
                return Err(StoreError::Invalid(format!(
                    "crawl {id} is still running (or its process died); diff reads sealed crawls"
                )));
            }
        }
        let conn = self.connection();
        // One read transaction: both crawls are read from one snapshot.
        let tx = conn.unchecked_transaction()?;
        let nodes = |a: CrawlId, b: CrawlId| -> Result<Vec<String>, StoreError> {
            let mut stmt = tx.prepare_cached(NODE_SIDE)?;
            let rows = stmt.query_map(params![a, b], |r| {
                Ok(address(&r.get::<_, String>(0)?, r.get(1)?))
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        };
        let mut joined = nodes(to, from)?;
        let mut left = nodes(from, to)?;
        joined.sort_by(|a, b| address_order(a).cmp(&address_order(b)));
        left.sort_by(|a, b| address_order(a).cmp(&address_order(b)));
        let edges = |a: CrawlId, b: CrawlId| -> Result<Vec<DiffEdge>, StoreError> {
            let mut stmt = tx.prepare_cached(EDGE_SIDE)?;
            let rows = stmt.query_map(params![a, b], |r| {
                let chain: Option<i64> = r.get(5)?;
                Ok(DiffEdge {
                    src: address(&r.get::<_, String>(0)?, r.get(1)?),
                    dst: address(&r.get::<_, String>(2)?, r.get(3)?),
                    network: r.get(4)?,
                    chain: chain.and_then(|c| u16::try_from(c).ok()),
                })
            })?;
            let mut out: Vec<DiffEdge> = rows.collect::<Result<_, _>>()?;
            out.sort_by_cached_key(|e| {
                (
                    e.src.parse::<crate::api::HostAddress>().ok(),
                    e.dst.parse::<crate::api::HostAddress>().ok(),
                    e.clone(),
                )
            });
            Ok(out)
        };
        let edges_added = edges(to, from)?;
        let edges_removed = edges(from, to)?;
        let mut per_network: BTreeMap<String, NetworkDelta> = BTreeMap::new();
        for e in &edges_added {
            per_network
                .entry(network_label(&e.network, e.chain))
                .or_default()
                .added += 1;
        }
        for e in &edges_removed {
            per_network
                .entry(network_label(&e.network, e.chain))
                .or_default()
                .removed += 1;
        }
        let mut reachability_changed = Vec::new();
        let mut version_changed = Vec::new();
        let mut certificate_changed = Vec::new();
        {
            let mut stmt = tx.prepare_cached(BOTH)?;
            let mut rows = stmt.query(params![from, to])?;
            while let Some(r) = rows.next()? {
                let addr = address(&r.get::<_, String>(0)?, r.get(1)?);
                let (ra, rb): (Option<bool>, Option<bool>) = (r.get(2)?, r.get(3)?);
                let (va, vb): (Option<String>, Option<String>) = (r.get(4)?, r.get(5)?);
                let (fa, fb): (Option<String>, Option<String>) = (r.get(6)?, r.get(7)?);
                if ra != rb {
                    reachability_changed.push(Changed {
                        address: addr.clone(),
                        from: ra,
                        to: rb,
                    });
                }
                if ra == Some(true) && rb == Some(true) {
                    if va != vb {
                        version_changed.push(Changed {
                            address: addr.clone(),
                            from: va,
                            to: vb,
                        });
                    }
                    if fa != fb {
                        certificate_changed.push(Changed {
                            address: addr,
                            from: fa,
                            to: fb,
                        });
                    }
                }
            }
        }
        tx.commit()?;
        reachability_changed.sort_by(by_address);
        version_changed.sort_by(by_address);
        certificate_changed.sort_by(by_address);
        Ok(CrawlDiff {
            from,
            to,
            joined,
            left,
            reachability_changed,
            version_changed,
            certificate_changed,
            edges_added,
            edges_removed,
            per_network,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::NetworkId;
    use crate::store::CrawlStatus;

    /// A store with two running crawls of one network, to fill by hand.
    fn two_open_crawls() -> (Store, CrawlId, CrawlId) {
        let store = Store::open_in_memory().unwrap();
        let a = store
            .begin_crawl(NetworkId::Development, &serde_json::json!({}))
            .unwrap();
        let b = store
            .begin_crawl(NetworkId::Development, &serde_json::json!({}))
            .unwrap();
        (store, a, b)
    }

    /// Addresses are listed as addresses: 127.0.0.2 before 127.0.0.10, IPv4 before IPv6
    /// before names, whatever their text order.
    #[test]
    fn diff_lists_addresses_in_address_order() {
        let (store, a, b) = two_open_crawls();
        store
            .connection()
            .execute_batch(&format!(
                "INSERT INTO nodes (crawl_id, node, hostname, port) VALUES
                 ({a}, 0, '127.0.0.1', 1789),
                 ({b}, 0, '127.0.0.1', 1789),
                 ({b}, 1, 'a.example', 443),
                 ({b}, 2, '127.0.0.10', 1789),
                 ({b}, 3, '::2', 1789),
                 ({b}, 4, '127.0.0.2', 1789),
                 ({b}, 5, '127.0.0.2', 80);
                 INSERT INTO edges VALUES ({b}, 0, -1, 2), ({b}, 0, -1, 4),
                                          ({b}, 2, -1, 0), ({b}, 4, -1, 0);"
            ))
            .unwrap();
        for id in [a, b] {
            store
                .finish_crawl(id, CrawlStatus::Complete, 0, None)
                .unwrap();
        }
        let d = store.diff(a, b).unwrap();
        assert_eq!(
            d.joined,
            vec![
                "127.0.0.2:80",
                "127.0.0.2:1789",
                "127.0.0.10:1789",
                "[::2]:1789",
                "a.example:443"
            ]
        );
        let pairs: Vec<(&str, &str)> = d
            .edges_added
            .iter()
            .map(|e| (e.src.as_str(), e.dst.as_str()))
            .collect();
        assert_eq!(
            pairs,
            vec![
                ("127.0.0.1:1789", "127.0.0.2:1789"),
                ("127.0.0.1:1789", "127.0.0.10:1789"),
                ("127.0.0.2:1789", "127.0.0.1:1789"),
                ("127.0.0.10:1789", "127.0.0.1:1789"),
            ]
        );
    }

    #[test]
    fn diff_of_two_hand_made_crawls() {
        let (store, a, b) = two_open_crawls();
        store
            .connection()
            .execute_batch(&format!(
                "INSERT INTO nodes (crawl_id, node, hostname, port, reachable, node_version, \
                 tls_fingerprint) VALUES
                 ({a}, 0, '127.0.0.1', 1789, 1, '3.1', 'f0'),
                 ({a}, 1, '127.0.0.2', 1789, 1, '3.1', 'f1'),
                 ({a}, 2, '::1', 1789, 1, '3.1', 'f2'),
                 ({b}, 0, '127.0.0.1', 1789, 1, '3.2', 'f0'),
                 ({b}, 1, '127.0.0.2', 1789, 0, NULL, NULL),
                 ({b}, 2, '127.0.0.3', 1789, 1, '3.1', 'f3');
                 INSERT INTO edges VALUES ({a}, 0, -1, 1), ({a}, 0, 4, 2),
                                          ({b}, 0, -1, 1), ({b}, 0, -1, 2), ({b}, 0, 4, 1);"
            ))
            .unwrap();
        assert!(matches!(store.diff(a, b), Err(StoreError::Invalid(_))));
        store
            .finish_crawl(a, CrawlStatus::Complete, 0, None)
            .unwrap();
        store
            .finish_crawl(b, CrawlStatus::Complete, 0, None)
            .unwrap();
        assert_eq!(store.sealed_crawls().unwrap(), vec![a, b]);
        let d = store.diff(a, b).unwrap();
        assert_eq!(d.joined, vec!["127.0.0.3:1789"]);
        assert_eq!(d.left, vec!["[::1]:1789"]);
        assert_eq!(
            d.reachability_changed,
            vec![Changed {
                address: "127.0.0.2:1789".into(),
                from: Some(true),
                to: Some(false)
            }]
        );
        assert_eq!(d.version_changed.len(), 1);
        assert_eq!(d.version_changed[0].to.as_deref(), Some("3.2"));
        assert!(d.certificate_changed.is_empty());
        let edge = |dst: &str, network: &str, chain| DiffEdge {
            src: "127.0.0.1:1789".into(),
            dst: dst.into(),
            network: network.into(),
            chain,
        };
        assert_eq!(
            d.edges_added,
            vec![
                edge("127.0.0.2:1789", "mempool", Some(4)),
                edge("127.0.0.3:1789", "cut", None)
            ]
        );
        assert_eq!(
            d.edges_removed,
            vec![edge("[::1]:1789", "mempool", Some(4))]
        );
        assert_eq!(
            d.per_network.get("mempool:4"),
            Some(&NetworkDelta {
                added: 1,
                removed: 1
            })
        );
        let same = store.diff(b, b).unwrap();
        assert!(same.joined.is_empty() && same.edges_added.is_empty());
    }
}
