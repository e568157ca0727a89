//! Churn: between crawls, a simulated network loses nodes, gains nodes, rewires its peer
//! lists, upgrades versions and replaces certificates, deterministically.
//!
//! [`step`] turns one [`Topology`] into the next, as a pure function of the old topology,
//! the [`SimnetConfig`], the round number and the probability `p`; [`Simnet::churn`](super::Simnet::churn)
//! applies it to a running network. What a perfect crawl sees
//! change is [`ExpectedChurn::between`] the two rounds' ground truths: the figure `diff`
//! must report exactly.
//!
//! # One step with probability `p`
//! - Each live node that is not a bootstrap hub stops with probability `p`; half of the
//!   nodes listing it forget it, the others keep advertising it (a stale entry).
//! - About `p × nodes` new nodes start, on addresses never used before; each lists most hubs
//!   and a few live nodes, and one to three live nodes start listing it.
//! - Each surviving node drops one entry of its cut list with probability `p`, and adds one
//!   with probability `p`.
//! - Each surviving node changes version with probability `p / 2`, and each surviving
//!   non-hub node gets a new certificate (so a new peer id, which the others then
//!   advertise) with probability `p / 4`.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use rand::seq::IndexedRandom;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::SimnetError;
use super::cert;
use super::topology::{LiveNode, MAX_NODES, SimnetConfig, Topology, live_addr, pick_version};
use super::truth::{ExpectedEdge, GroundTruth};
use crate::api::{HostAddress, PeerInfo};

/// What one churn step did to the simulated network.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Applied {
    /// Live nodes that stopped listening.
    pub nodes_stopped: usize,
    /// New nodes that started listening.
    pub nodes_started: usize,
    /// Surviving nodes with a new certificate.
    pub certificates_replaced: usize,
    /// Surviving nodes with a new version.
    pub versions_changed: usize,
    /// Entries added to peer lists (announcements of new nodes included).
    pub entries_added: usize,
    /// Entries removed from peer lists (forgotten stopped nodes included).
    pub entries_removed: usize,
}

/// A value of a node that differs between two rounds.
pub type ChangedValue<T> = (String, T, T);

/// What a perfect crawl of each round sees change: computed from ground truth alone.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ExpectedChurn {
    /// Addresses a crawl meets in the new round only, sorted.
    pub joined: Vec<String>,
    /// Addresses a crawl meets in the old round only, sorted.
    pub left: Vec<String>,
    /// Addresses met in both whose reachability differs: (address, old, new).
    pub reachability_changed: Vec<ChangedValue<Option<bool>>>,
    /// Nodes reachable in both rounds whose version differs.
    pub version_changed: Vec<ChangedValue<Option<String>>>,
    /// Nodes reachable in both rounds whose certificate id differs.
    pub certificate_changed: Vec<ChangedValue<Option<String>>>,
    /// Entries a crawl records in the new round only.
    pub edges_added: BTreeSet<ExpectedEdge>,
    /// Entries a crawl records in the old round only.
    pub edges_removed: BTreeSet<ExpectedEdge>,
}

impl ExpectedChurn {
    /// The changes between a crawl of `before` and a crawl of `after`.
    pub fn between(before: &GroundTruth, after: &GroundTruth) -> ExpectedChurn {
        let (eb, ea) = (before.expected(), after.expected());
        let facts = |t: &GroundTruth| -> HashMap<String, (Option<String>, Option<String>)> {
            t.nodes
                .iter()
                .map(|n| {
                    (
                        n.address.clone(),
                        (n.version.clone(), n.id.map(|i| i.to_string())),
                    )
                })
                .collect()
        };
        let (fb, fa) = (facts(before), facts(after));
        let mut out = ExpectedChurn {
            joined: ea
                .nodes
                .keys()
                .filter(|k| !eb.nodes.contains_key(*k))
                .cloned()
                .collect(),
            left: eb
                .nodes
                .keys()
                .filter(|k| !ea.nodes.contains_key(*k))
                .cloned()
                .collect(),
            edges_added: ea.edges.difference(&eb.edges).cloned().collect(),
            edges_removed: eb.edges.difference(&ea.edges).cloned().collect(),
            ..ExpectedChurn::default()
        };
        for (addr, &old) in &eb.nodes {
            let Some(&new) = ea.nodes.get(addr) else {
                continue;
            };
            if old != new {
                out.reachability_changed.push((addr.clone(), old, new));
            }
            if old == Some(true) && new == Some(true) {
                let (Some((vb, ib)), Some((va, ia))) = (fb.get(addr), fa.get(addr)) else {
                    continue;
                };
                if vb != va {
                    out.version_changed
                        .push((addr.clone(), vb.clone(), va.clone()));
                }
                if ib != ia {
                    out.certificate_changed
                        .push((addr.clone(), ib.clone(), ia.clone()));
                }
            }
        }
        out
    }

    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.joined.is_empty()
            && self.left.is_empty()
            && self.reachability_changed.is_empty()
            && self.version_changed.is_empty()
            && self.certificate_changed.is_empty()
            && self.edges_added.is_empty()
            && self.edges_removed.is_empty()
    }
}

/// The round's random stream: a function of the seed and the round only.
fn round_rng(seed: u64, round: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ round.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    rng.set_stream(7);
    rng
}

/// The topology after one churn step of probability `p` (see the module docs).
///
/// `next_index` is the number of live-address slots ever used; new nodes take the next
/// ones, so a stopped node's address is never reused.
///
/// # Errors
/// [`SimnetError::Config`] for `p` outside 0..=1; [`SimnetError::Cert`] if a certificate
/// cannot be made.
pub fn step(
    old: &Topology,
    config: &SimnetConfig,
    round: u64,
    p: f64,
    next_index: &mut usize,
) -> Result<(Topology, Applied), SimnetError> {
    if !(0.0..=1.0).contains(&p) {
        return Err(SimnetError::Config(format!(
            "churn must be a probability between 0 and 1, not {p}"
        )));
    }
    if config.profile != super::Profile::Clean {
        // Faults and outside entries are planned per index, which a churn step reshuffles.
        return Err(SimnetError::Config(
            "churn is only simulated for the clean profile".into(),
        ));
    }
    let mut rng = round_rng(config.seed, round);
    let mut applied = Applied::default();
    let n_old = old.nodes.len();
    let hubs: HashSet<usize> = old.bootstrap.iter().copied().collect();
    let stops: Vec<bool> = (0..n_old)
        .map(|i| !hubs.contains(&i) && rng.random_bool(p))
        .collect();
    applied.nodes_stopped = stops.iter().filter(|&&s| s).count();
    let survivors: Vec<usize> = (0..n_old).filter(|&i| !stops[i]).collect();
    let joiners = ((n_old as f64 * p).round() as usize).min(MAX_NODES.saturating_sub(*next_index));
    applied.nodes_started = joiners;

    // New entry numbering: survivors, joiners, then every old dead or stopped address.
    let mut map: Vec<u32> = vec![0; old.entries.len()];
    let mut entries: Vec<PeerInfo> = Vec::with_capacity(old.entries.len() + joiners);
    let mut nodes: Vec<LiveNode> = Vec::with_capacity(survivors.len() + joiners);
    for &i in &survivors {
        map[i] = entries.len() as u32;
        entries.push(old.entries[i].clone());
        nodes.push(old.nodes[i].clone());
    }
    let first_joiner = nodes.len();
    for _ in 0..joiners {
        let addr = live_addr(config.subnet, *next_index);
        *next_index += 1;
        let mut key_seed = [0u8; 32];
        rng.fill_bytes(&mut key_seed);
        let cert = cert::generate(config.key_kind, addr.ip(), key_seed)?;
        entries.push(PeerInfo::new(Some(cert.id), HostAddress::from(addr)));
        nodes.push(LiveNode {
            addr,
            version: pick_version(&mut rng),
            cert,
            advertised: true,
            lists: Vec::new(),
            db: Vec::new(),
        });
    }
    let stopped: HashSet<u32> = (0..n_old).filter(|&i| stops[i]).map(|i| i as u32).collect();
    for (e, slot) in map.iter_mut().enumerate() {
        if e >= n_old || stops[e] {
            *slot = entries.len() as u32;
            entries.push(old.entries[e].clone());
        }
    }
    let live_n = nodes.len();
    let networks = 1 + usize::from(old.network.chains());
    let hub_new: Vec<u32> = old.bootstrap.iter().map(|&h| map[h]).collect();

    // Survivors: remap, forget some stopped nodes, rewire, upgrade, re-certify.
    for (k, &i) in survivors.iter().enumerate() {
        let me = k as u32;
        let forget: HashSet<u32> = old.nodes[i]
            .lists
            .iter()
            .flatten()
            .filter(|e| stopped.contains(e))
            .copied()
            .collect::<BTreeSet<u32>>()
            .into_iter()
            .filter(|_| rng.random_bool(0.5))
            .collect();
        let node = &mut nodes[k];
        node.lists = old.nodes[i]
            .lists
            .iter()
            .map(|l| {
                let before = l.len();
                let kept: Vec<u32> = l
                    .iter()
                    .filter(|e| !forget.contains(e))
                    .map(|&e| map[e as usize])
                    .collect();
                applied.entries_removed += before - kept.len();
                kept
            })
            .collect();
        if rng.random_bool(p) && !node.lists[0].is_empty() {
            let e = node.lists[0][rng.random_range(0..node.lists[0].len())];
            for l in &mut node.lists {
                let before = l.len();
                l.retain(|&x| x != e);
                applied.entries_removed += before - l.len();
            }
        }
        if rng.random_bool(p) {
            let e = rng.random_range(0..live_n) as u32;
            if e != me && !node.lists[0].contains(&e) {
                let at = rng.random_range(0..=node.lists[0].len());
                node.lists[0].insert(at, e);
                applied.entries_added += 1;
            }
        }
        if rng.random_bool(p / 2.0) {
            for _ in 0..8 {
                let v = pick_version(&mut rng);
                if v != node.version {
                    node.version = v;
                    applied.versions_changed += 1;
                    break;
                }
            }
        }
        if !hubs.contains(&i) && rng.random_bool(p / 4.0) {
            let mut key_seed = [0u8; 32];
            rng.fill_bytes(&mut key_seed);
            node.cert = cert::generate(config.key_kind, node.addr.ip(), key_seed)?;
            entries[k].id = Some(node.cert.id);
            applied.certificates_replaced += 1;
        }
    }

    // Joiners: their own lists, and a few live nodes announce them.
    let survivor_pool: Vec<u32> = (0..first_joiner as u32).collect();
    for j in first_joiner..live_n {
        let me = j as u32;
        let mut cut: Vec<u32> = hub_new
            .iter()
            .copied()
            .filter(|&h| h != me && rng.random_bool(0.95))
            .collect();
        let extra = rng.random_range(3..=8usize);
        for &e in survivor_pool.choose_multiple(&mut rng, extra) {
            if !cut.contains(&e) {
                cut.push(e);
            }
        }
        let mut lists = vec![cut.clone()];
        for _ in 1..networks {
            lists.push(
                cut.iter()
                    .copied()
                    .filter(|_| rng.random_bool(0.5))
                    .collect(),
            );
        }
        nodes[j].lists = lists;
        let announcers = rng.random_range(1..=3usize);
        for &a in survivor_pool.choose_multiple(&mut rng, announcers) {
            let lists = &mut nodes[a as usize].lists;
            lists[0].push(me);
            applied.entries_added += 1;
            if networks > 1 && rng.random_bool(0.5) {
                lists[1].push(me);
                applied.entries_added += 1;
            }
        }
    }

    let mut listed: HashSet<u32> = hub_new.iter().copied().collect();
    for node in &nodes {
        listed.extend(node.lists.iter().flatten().copied());
    }
    for (i, node) in nodes.iter_mut().enumerate() {
        node.advertised = listed.contains(&(i as u32));
        // What a later PUT starts from: the database behind the new lists.
        node.db = super::peerdb::db_of_lists(&node.lists);
    }
    let mut bootstrap: Vec<usize> = hub_new.iter().map(|&h| h as usize).collect();
    bootstrap.sort_unstable();
    Ok((
        Topology {
            network: old.network,
            nodes,
            entries,
            bootstrap,
            faults: Default::default(),
            outside: Vec::new(),
        },
        applied,
    ))
}

/// The live addresses of a topology and their certificate ids, for finding the listeners
/// a step stops, replaces or starts.
pub(crate) fn listeners(t: &Topology) -> BTreeMap<std::net::SocketAddr, crate::api::PeerId> {
    t.nodes.iter().map(|n| (n.addr, n.cert.id)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> SimnetConfig {
        SimnetConfig {
            nodes: 200,
            seed: 3,
            subnet: 92,
            ..SimnetConfig::default()
        }
    }

    #[test]
    fn a_step_is_deterministic_and_changes_every_kind_of_thing() {
        let c = config();
        let t0 = Topology::generate(&c).unwrap();
        let mut next = c.nodes;
        let (t1, applied) = step(&t0, &c, 1, 0.1, &mut next).unwrap();
        let mut next2 = c.nodes;
        let (t1b, applied_b) = step(&t0, &c, 1, 0.1, &mut next2).unwrap();
        assert_eq!(applied, applied_b);
        assert_eq!(
            GroundTruth::from_topology(&t1),
            GroundTruth::from_topology(&t1b)
        );
        assert_eq!(next, c.nodes + applied.nodes_started);
        assert!(
            applied.nodes_stopped > 5 && applied.nodes_started == 20,
            "{applied:?}"
        );
        assert!(applied.versions_changed > 0 && applied.certificates_replaced > 0);
        assert_eq!(t1.bootstrap.len(), t0.bootstrap.len());
        // Lists stay well formed: no self entries, no duplicates, valid indices.
        for (i, node) in t1.nodes.iter().enumerate() {
            for l in &node.lists {
                let set: HashSet<u32> = l.iter().copied().collect();
                assert_eq!(set.len(), l.len());
                assert!(!set.contains(&(i as u32)));
                assert!(l.iter().all(|&e| (e as usize) < t1.entries.len()));
            }
            assert_eq!(t1.entries[i].id, Some(node.cert.id));
        }
        let churn = ExpectedChurn::between(
            &GroundTruth::from_topology(&t0),
            &GroundTruth::from_topology(&t1),
        );
        assert!(!churn.joined.is_empty() && !churn.edges_added.is_empty());
        assert!(!churn.reachability_changed.is_empty() && !churn.edges_removed.is_empty());
        assert!(!churn.version_changed.is_empty());
        let zero = step(&t0, &c, 1, 0.0, &mut next.clone()).unwrap();
        assert!(
            ExpectedChurn::between(
                &GroundTruth::from_topology(&t0),
                &GroundTruth::from_topology(&zero.0)
            )
            .is_empty()
        );
        assert!(step(&t0, &c, 1, 1.5, &mut next).is_err());
    }
}
