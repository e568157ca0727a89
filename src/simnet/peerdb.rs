//! One simulated node's peer database, as chainweb keeps it (spec §6.1), and the state of
//! every node's database while a simnet runs.
//!
//! A chainweb node keeps one database for all its peer networks: each entry has a random
//! mark (its position here), a set of networks and a consecutive-failure count. A `GET` of
//! a network lists the entries tagged with it **whose failure count is 0**, in mark order.
//! [`lists_of`] derives exactly that. The generator ([`super::topology`]) builds each
//! node's database; `PUT` ([`super::put`]) changes it at run time through [`LiveState`].
//!
//! # Run-time changes
//! Nodes whose database never changed serve the generated lists (no lock contention, no
//! copy). A change copies that node's database once, applies the change, and re-derives its
//! lists; new addresses (or known addresses with another id) get entries appended after the
//! topology's. Every change bumps a generation counter so that ground truth can be
//! rewritten ([`super::Simnet::changes`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use bytes::Bytes;
use tokio::sync::watch;

use crate::api::{HostAddress, PeerInfo};

/// One entry of a node's peer database.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct DbEntry {
    /// Index into the simnet's entries (the address and the id it is known with).
    pub entry: u32,
    /// Bit set of peer networks, bit `Topology::list_index(network)` (bit 0 = cut).
    pub networks: u64,
    /// Consecutive failures; only entries with 0 are listed.
    pub failures: u8,
}

/// The served lists of a database: per network (cut first, then chains), the entries
/// tagged with it and without failures, in mark order.
pub fn lists_of(db: &[DbEntry], networks: usize) -> Vec<Vec<u32>> {
    let mut lists = vec![Vec::new(); networks];
    for e in db.iter().filter(|e| e.failures == 0) {
        for (net, list) in lists.iter_mut().enumerate() {
            if e.networks & (1 << net) != 0 {
                list.push(e.entry);
            }
        }
    }
    lists
}

/// A database holding exactly the entries of `lists` (per network, cut first), for a
/// topology whose lists were made without one (a churn step): entries in order of first
/// appearance, each tagged with every list it is in, none failed.
pub fn db_of_lists(lists: &[Vec<u32>]) -> Vec<DbEntry> {
    let mut db: Vec<DbEntry> = Vec::new();
    let mut at: std::collections::HashMap<u32, usize> = std::collections::HashMap::new();
    for (net, list) in lists.iter().enumerate() {
        for &entry in list {
            let i = *at.entry(entry).or_insert_with(|| {
                db.push(DbEntry {
                    entry,
                    networks: 0,
                    failures: 0,
                });
                db.len() - 1
            });
            db[i].networks |= 1 << net;
        }
    }
    db
}

/// A node's database after a run-time change, with its derived lists.
#[derive(Clone, Debug)]
pub struct NodeDb {
    /// The entries in mark order.
    pub db: Vec<DbEntry>,
    /// [`lists_of`] of `db`.
    pub lists: Vec<Vec<u32>>,
}

/// Entries added at run time (after the topology's), with their JSON.
#[derive(Debug, Default)]
pub struct ExtraEntries {
    /// The entries, index `k` standing for entry `base + k`.
    pub entries: Vec<PeerInfo>,
    /// Their JSON, serialized once.
    pub json: Vec<Bytes>,
    /// The node version the callback saw at each new address (for ground truth).
    pub versions: Vec<Option<String>>,
}

/// Mutable state of a running simnet: changed databases and added entries.
#[derive(Debug)]
pub struct LiveState {
    /// Per node: `None` while its database is as generated.
    pub nodes: Vec<RwLock<Option<Arc<NodeDb>>>>,
    /// Per node: held across one read-modify-write of its database.
    writers: Vec<Mutex<()>>,
    /// Entries added after start.
    pub extra: RwLock<ExtraEntries>,
    /// Topology entries by (address, id), to reuse an index when one exists.
    pub index: HashMap<(HostAddress, Option<crate::api::PeerId>), u32>,
    /// Number of changes so far.
    pub generation: watch::Sender<u64>,
}

impl LiveState {
    /// The state of a simnet whose `entries` are the topology's, with `nodes` nodes.
    pub fn new(nodes: usize, entries: &[PeerInfo]) -> LiveState {
        let index = entries
            .iter()
            .enumerate()
            .map(|(i, e)| ((e.address.clone(), e.id), i as u32))
            .collect();
        LiveState {
            nodes: (0..nodes).map(|_| RwLock::new(None)).collect(),
            writers: (0..nodes).map(|_| Mutex::new(())).collect(),
            extra: RwLock::new(ExtraEntries::default()),
            index,
            generation: watch::channel(0).0,
        }
    }

    /// The changed database of node `i`, if it changed.
    pub fn node(&self, i: usize) -> Option<Arc<NodeDb>> {
        // A poisoned lock only means a panicking writer; the data is still whole.
        self.nodes
            .get(i)?
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Serializes changes of node `i`'s database (`None` for an unknown node).
    pub fn write_lock(&self, i: usize) -> Option<MutexGuard<'_, ()>> {
        self.writers
            .get(i)
            .map(|m| m.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Replaces node `i`'s database and announces the change.
    pub fn set_node(&self, i: usize, db: NodeDb) {
        if let Some(slot) = self.nodes.get(i) {
            *slot.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(db));
            self.generation.send_modify(|g| *g += 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_skip_failed_entries_and_keep_mark_order() {
        let db = [
            DbEntry {
                entry: 5,
                networks: 0b011,
                failures: 0,
            },
            DbEntry {
                entry: 2,
                networks: 0b001,
                failures: 1,
            },
            DbEntry {
                entry: 9,
                networks: 0b111,
                failures: 0,
            },
            DbEntry {
                entry: 1,
                networks: 0b100,
                failures: 0,
            },
        ];
        assert_eq!(lists_of(&db, 3), vec![vec![5, 9], vec![5, 9], vec![9, 1]]);
    }
}
