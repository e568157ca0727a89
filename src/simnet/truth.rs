//! Ground truth: exactly what a simulated network serves, and what a perfect crawl finds.
//!
//! [`GroundTruth`] is written as pretty JSON so that a crawl stored elsewhere can be checked
//! against it later. [`GroundTruth::expected`] derives, from the truth alone, the nodes and
//! edges a crawler starting at the bootstrap peers must record.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::server::Served;
use super::topology::Topology;
use crate::api::{NetworkId, PeerId, PeerInfo};

/// One address known to the topology.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct TruthNode {
    /// Text form `host:port`.
    pub address: String,
    /// The id it is advertised with (a live node's real certificate fingerprint).
    pub id: Option<PeerId>,
    /// Whether something listens there.
    pub live: bool,
    /// `x-chainweb-node-version` of a live node; `None` for dead addresses.
    pub version: Option<String>,
    /// An entry that stands for the outside world (a private, documentation or public
    /// address, a DNS name, port 0): advertised, but a loopback-only crawler must never
    /// contact it, so a crawl records it as not contacted (reachable NULL).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub outside: bool,
}

/// One peer list, as served.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct TruthList {
    /// The serving node, `host:port`.
    pub src: String,
    /// `cut` or `mempool`.
    pub network: String,
    /// The chain of a mempool list; `None` for cut.
    pub chain: Option<u16>,
    /// The entries, in served order.
    pub items: Vec<PeerInfo>,
}

/// Everything a simulated network serves.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct GroundTruth {
    /// The chainweb version, e.g. `mainnet01`.
    #[serde(with = "network_name")]
    pub network: NetworkId,
    /// The bootstrap peers, text form `id@host:port`.
    pub bootstrap: Vec<String>,
    /// Every address known to the topology: live nodes first, then dead addresses.
    pub nodes: Vec<TruthNode>,
    /// Every list of every live node: per node the cut list, then chain 0, 1, … mempool.
    /// A faulty node's lists are what it would serve without its fault.
    pub lists: Vec<TruthList>,
    /// The faulty nodes of the hostile profile and what a crawl must record for each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<super::fault::TruthFault>,
}

/// One directed edge: (src address, dst address, `cut`|`mempool`, chain).
pub type ExpectedEdge = (String, String, String, Option<u16>);

/// What a perfect crawl from the bootstrap peers finds.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct ExpectedCrawl {
    /// Every address met (bootstrap peers and every entry of every list of a visited
    /// node), `host:port` → `Some(true)` live and visited, `Some(false)` advertised but
    /// nothing listening, `None` not to be contacted (an outside entry) or unknown to the
    /// topology (possible for hand-edited files).
    pub nodes: BTreeMap<String, Option<bool>>,
    /// Every entry of every list served by a visited node.
    pub edges: BTreeSet<ExpectedEdge>,
}

/// Why ground truth could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum TruthError {
    /// The file could not be created, written or read.
    #[error("ground truth file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The file is not ground truth JSON.
    #[error("ground truth file {path} is not valid: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
}

impl GroundTruth {
    /// Records everything `topology` serves.
    pub fn from_topology(topology: &Topology) -> GroundTruth {
        Self::build(topology, &[], &[], |i| {
            topology
                .nodes
                .get(i)
                .map(|n| n.lists.clone())
                .unwrap_or_default()
        })
    }

    /// Records everything a running simnet serves now, `PUT`s included.
    pub fn from_served(served: &Served) -> GroundTruth {
        let extra = served.state.extra.read().unwrap_or_else(|e| e.into_inner());
        Self::build(
            &served.topology,
            &extra.entries,
            &extra.versions,
            |i| match served.state.node(i) {
                Some(db) => db.lists.clone(),
                None => served.topology.nodes[i].lists.clone(),
            },
        )
    }

    /// The truth of `topology` with entries `extra` appended after its own (each with the
    /// version its callback saw) and each node's current lists from `lists_of`.
    fn build(
        topology: &Topology,
        extra: &[PeerInfo],
        extra_versions: &[Option<String>],
        lists_of: impl Fn(usize) -> Vec<Vec<u32>>,
    ) -> GroundTruth {
        let n = topology.nodes.len();
        // One node per address: an address advertised under several ids (a hub also
        // listed with a null id) is the node its first entry (the live one) says.
        let mut known: std::collections::HashSet<String> = std::collections::HashSet::new();
        let mut nodes: Vec<TruthNode> = Vec::with_capacity(topology.entries.len());
        for (i, e) in topology.entries.iter().enumerate() {
            let address = e.address.to_string();
            if known.insert(address.clone()) {
                nodes.push(TruthNode {
                    address,
                    id: e.id,
                    live: i < n,
                    version: topology.nodes.get(i).map(|nd| nd.version.to_string()),
                    outside: topology.outside.binary_search(&(i as u32)).is_ok(),
                });
            }
        }
        // Addresses first announced by PUT: something answered the callback there.
        for (k, e) in extra.iter().enumerate() {
            let address = e.address.to_string();
            if known.insert(address.clone()) {
                nodes.push(TruthNode {
                    address,
                    id: e.id,
                    live: true,
                    version: extra_versions.get(k).cloned().flatten(),
                    outside: false,
                });
            }
        }
        let entry = |e: u32| {
            let e = e as usize;
            topology
                .entries
                .get(e)
                .or_else(|| extra.get(e.wrapping_sub(topology.entries.len())))
                .cloned()
        };
        let mut lists = Vec::with_capacity(n * (1 + usize::from(topology.network.chains())));
        for (i, node) in topology.nodes.iter().enumerate() {
            let src = node.addr.to_string();
            let node_lists = lists_of(i);
            for net in topology.network.peer_networks() {
                let items = node_lists
                    .get(Topology::list_index(net))
                    .into_iter()
                    .flatten()
                    .filter_map(|&e| entry(e))
                    .collect();
                lists.push(TruthList {
                    src: src.clone(),
                    network: net.kind().to_string(),
                    chain: net.chain().map(|c| c.0),
                    items,
                });
            }
        }
        GroundTruth {
            network: topology.network,
            bootstrap: topology
                .bootstrap_peers()
                .iter()
                .map(ToString::to_string)
                .collect(),
            nodes,
            lists,
            faults: topology.faults.truth.values().cloned().collect(),
        }
    }

    /// Addresses of the faulty nodes.
    pub fn faulty(&self) -> BTreeSet<String> {
        self.faults.iter().map(|f| f.address.clone()).collect()
    }

    /// The nodes and edges a perfect crawler starting at the bootstrap peers must find:
    /// a breadth-first search that follows every address of every cut and mempool list of
    /// every live node it reaches. Faulty nodes are met, with the reachability their fault
    /// gives them, but not followed: their edges are checked fault by fault instead.
    pub fn expected(&self) -> ExpectedCrawl {
        // An outside entry is never contacted: the crawl records it with reachable NULL.
        let mut live: HashMap<&str, Option<bool>> = self
            .nodes
            .iter()
            .map(|n| (n.address.as_str(), (!n.outside).then_some(n.live)))
            .collect();
        let faulty = self.faulty();
        for f in &self.faults {
            live.insert(f.address.as_str(), Some(f.reachable));
        }
        let mut lists_of: HashMap<&str, Vec<&TruthList>> = HashMap::new();
        for l in &self.lists {
            lists_of.entry(l.src.as_str()).or_default().push(l);
        }
        let mut out = ExpectedCrawl::default();
        let mut queue: VecDeque<String> = VecDeque::new();
        let meet = |addr: String, out: &mut ExpectedCrawl, queue: &mut VecDeque<String>| {
            if let std::collections::btree_map::Entry::Vacant(slot) = out.nodes.entry(addr) {
                let state = live.get(slot.key().as_str()).copied().flatten();
                if state == Some(true) {
                    queue.push_back(slot.key().clone());
                }
                slot.insert(state);
            }
        };
        for b in &self.bootstrap {
            // The text form is `id@host:port`; the address is what follows the `@`.
            let addr = b.rsplit_once('@').map_or(b.as_str(), |(_, a)| a);
            meet(addr.to_string(), &mut out, &mut queue);
        }
        while let Some(src) = queue.pop_front() {
            if faulty.contains(&src) {
                continue;
            }
            for list in lists_of.get(src.as_str()).into_iter().flatten() {
                for item in &list.items {
                    let dst = item.address.to_string();
                    out.edges
                        .insert((src.clone(), dst.clone(), list.network.clone(), list.chain));
                    meet(dst, &mut out, &mut queue);
                }
            }
        }
        out
    }

    /// Writes the truth as pretty JSON.
    ///
    /// # Errors
    /// [`TruthError::Io`] if the file cannot be written.
    pub fn write_json(&self, path: &Path) -> Result<(), TruthError> {
        let io_err = |source| TruthError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = fs::File::create(path).map_err(io_err)?;
        let mut w = io::BufWriter::new(file);
        serde_json::to_writer_pretty(&mut w, self).map_err(|source| TruthError::Json {
            path: path.to_path_buf(),
            source,
        })?;
        io::Write::write_all(&mut w, b"\n").map_err(io_err)?;
        io::Write::flush(&mut w).map_err(io_err)
    }

    /// Reads truth written by [`GroundTruth::write_json`].
    ///
    /// # Errors
    /// [`TruthError::Io`] if the file cannot be read, [`TruthError::Json`] if it is not
    /// ground truth.
    pub fn read_json(path: &Path) -> Result<GroundTruth, TruthError> {
        let bytes = fs::read(path).map_err(|source| TruthError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        serde_json::from_slice(&bytes).map_err(|source| TruthError::Json {
            path: path.to_path_buf(),
            source,
        })
    }
}

/// Serializes a [`NetworkId`] as its name.
mod network_name {
    use crate::api::NetworkId;

    pub fn serialize<S: serde::Serializer>(n: &NetworkId, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(n.name())
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<NetworkId, D::Error> {
        let name = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simnet::SimnetConfig;

    fn truth(nodes: usize, seed: u64) -> GroundTruth {
        let config = SimnetConfig {
            nodes,
            seed,
            subnet: 91,
            ..SimnetConfig::default()
        };
        GroundTruth::from_topology(&Topology::generate(&config).unwrap())
    }

    #[test]
    fn same_seed_same_truth_other_seed_other_truth() {
        let a = truth(150, 11);
        assert_eq!(a, truth(150, 11));
        let b = truth(150, 12);
        assert_ne!(a.lists, b.lists);
        assert_ne!(a.nodes, b.nodes);
    }

    #[test]
    fn json_round_trips() {
        let t = truth(40, 2);
        let dir = std::env::temp_dir().join(format!("simnet-truth-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("truth.json");
        t.write_json(&path).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"network\": \"mainnet01\""));
        assert_eq!(GroundTruth::read_json(&path).unwrap(), t);
        fs::write(&path, b"{").unwrap();
        assert!(matches!(
            GroundTruth::read_json(&path),
            Err(TruthError::Json { .. })
        ));
        fs::remove_dir_all(&dir).unwrap();
        assert!(matches!(
            GroundTruth::read_json(&path),
            Err(TruthError::Io { .. })
        ));
    }

    #[test]
    fn expected_crawl_follows_every_list_from_bootstrap() {
        let t = truth(300, 4);
        let e = t.expected();
        let unadvertised: Vec<&TruthNode> = t
            .nodes
            .iter()
            .filter(|n| n.live && !e.nodes.contains_key(&n.address))
            .collect();
        assert!(
            !unadvertised.is_empty(),
            "some live nodes are never reached"
        );
        assert!(
            e.nodes.values().any(|v| *v == Some(false)),
            "dead entries are met"
        );
        assert!(e.nodes.values().all(Option::is_some));
        // Every list of a visited node is in the edges, and nothing else is.
        let visited: BTreeSet<&str> = e
            .nodes
            .iter()
            .filter(|(_, v)| **v == Some(true))
            .map(|(k, _)| k.as_str())
            .collect();
        let want: usize = t
            .lists
            .iter()
            .filter(|l| visited.contains(l.src.as_str()))
            .map(|l| l.items.len())
            .sum();
        assert_eq!(e.edges.len(), want);
        assert!(
            e.edges
                .iter()
                .any(|(_, _, net, c)| net == "mempool" && c.is_some())
        );
    }

    #[test]
    fn bootstrap_text_form_carries_ids() {
        let t = truth(60, 8);
        for b in &t.bootstrap {
            let p: PeerInfo = b.parse().unwrap();
            assert!(p.id.is_some());
        }
    }
}
