//! The seeded generator of a simulated network: who lives where, and who lists whom.
//!
//! Everything here is a pure function of [`SimnetConfig`]: the same configuration always
//! gives the same addresses, certificates (with [`KeyKind::Ed25519`]), versions and peer
//! lists in the same order. The generator never binds a socket; [`super::server`] serves
//! what it produces and [`super::truth`] records it.
//!
//! # The "clean" profile
//! - Live node `i` listens on `127.{subnet}.{i / 250}.{i % 250 + 1}:1789`.
//! - `nodes / 50` bootstrap hubs, at least 3 and at most 12; every node lists each hub
//!   with high probability.
//! - Cut-list sizes follow a Pareto-like law (many short lists, a few long ones); hubs hold
//!   more than one 64-item page (if the network has enough addresses), and with 600 nodes or
//!   more two hubs hold more than 512.
//! - Advertised addresses in `127.{subnet}.{200..=254}.x:1789` are never bound ("dead").
//! - A few live nodes are listed by nobody and are not bootstrap nodes.
//! - Like chainweb, a node keeps one peer database: each entry gets a random mark and a set
//!   of peer networks, and every list (cut, and one mempool list per chain) is that database
//!   filtered by network, in mark order. So lists are never self-referential, never hold
//!   duplicates, and entries shared by two lists appear in the same relative order.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use rand::seq::SliceRandom;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::SimnetError;
use super::cert::{self, KeyKind, NodeCert};
use super::peerdb::{self, DbEntry};
use crate::api::{HostAddress, NetworkId, PeerId, PeerInfo, PeerNetwork};

/// The P2P port every simulated node listens on (chainweb's default).
pub const P2P_PORT: u16 = 1789;
/// Live nodes use the third octets `0..LIVE_BLOCKS`, 250 nodes per block.
const LIVE_BLOCKS: usize = 200;
/// Hosts per third-octet block (`.1` to `.250`).
const BLOCK_SIZE: usize = 250;
/// Most live nodes one simnet can hold.
pub const MAX_NODES: usize = LIVE_BLOCKS * BLOCK_SIZE;
/// Most bootstrap hubs: real networks had 6 to 12 bootstrap nodes, and every node lists
/// nearly every hub, so more hubs would make every list long.
const MAX_HUBS: usize = 12;
/// Dead addresses use the third octets `200..=254`.
const MAX_DEAD: usize = 55 * BLOCK_SIZE;

/// Node versions and their weights: remnants of the upstream 2.3x line beside community 3.x.
const VERSIONS: &[(&str, u32)] = &[("2.32.0", 30), ("2.31.2", 5), ("3.1", 10), ("3.2", 55)];

/// Shape of a simulated network.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum Profile {
    /// Every live node answers correctly; failures are only dead advertised addresses.
    #[default]
    Clean,
    /// The clean network plus one node per fault kind of [`super::fault::Fault`].
    Hostile,
    /// Shaped like the real network: provider cluster, hubs, long lists, stale and
    /// outside entries, two version groups (see [`super::realistic`]).
    Realistic,
}

impl Profile {
    /// The name `--profile` takes.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Clean => "clean",
            Profile::Hostile => "hostile",
            Profile::Realistic => "realistic",
        }
    }
}

impl std::str::FromStr for Profile {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "clean" => Ok(Profile::Clean),
            "hostile" => Ok(Profile::Hostile),
            "realistic" => Ok(Profile::Realistic),
            _ => Err(format!("unknown profile {s:?} (clean, realistic, hostile)")),
        }
    }
}

/// Settings of a simulated network; everything it serves follows from these.
#[derive(Clone, Debug)]
pub struct SimnetConfig {
    /// Number of live nodes (1 to [`MAX_NODES`]).
    pub nodes: usize,
    /// Seed of every random choice.
    pub seed: u64,
    /// The chainweb version the nodes serve (the `{network}` path segment, the chains).
    pub network: NetworkId,
    /// Second octet of every address: `127.{subnet}.x.y`. Give concurrent simnets distinct
    /// subnets so they do not collide.
    pub subnet: u8,
    /// Key type of the node certificates.
    pub key_kind: KeyKind,
    /// The topology profile.
    pub profile: Profile,
    /// Longest time one client connection may stay open (a stuck client cannot pin a task).
    pub connection_deadline: Duration,
    /// Delay before every answer (wide-area latency); zero on plain loopback.
    pub latency: Duration,
    /// Extra delay per node, uniform in `[0, latency_jitter]`, fixed per node by the seed
    /// (see [`super::latency::address_delay`]).
    pub latency_jitter: Duration,
}

impl Default for SimnetConfig {
    fn default() -> Self {
        SimnetConfig {
            nodes: 300,
            seed: 1,
            network: NetworkId::Mainnet01,
            subnet: 1,
            key_kind: KeyKind::default(),
            profile: Profile::default(),
            connection_deadline: Duration::from_secs(60),
            latency: Duration::ZERO,
            latency_jitter: Duration::ZERO,
        }
    }
}

/// A live, listening node.
#[derive(Clone, Debug)]
pub struct LiveNode {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its `x-chainweb-node-version`.
    pub version: &'static str,
    /// Its certificate; `cert.id` is its peer id.
    pub cert: NodeCert,
    /// Whether any node lists it or it is a bootstrap node.
    pub advertised: bool,
    /// Its peer lists as indices into [`Topology::entries`], by [`Topology::list_index`]:
    /// [`peerdb::lists_of`] of `db`.
    pub lists: Vec<Vec<u32>>,
    /// Its peer database in mark order, failed (unlisted) entries included.
    pub db: Vec<DbEntry>,
}

/// The generated network.
#[derive(Clone, Debug)]
pub struct Topology {
    /// The chainweb version served.
    pub network: NetworkId,
    /// Live nodes; node `i` is entry `i` of [`Topology::entries`].
    pub nodes: Vec<LiveNode>,
    /// Every address that appears anywhere: the live nodes first (same index), then the
    /// dead addresses, each with the id it is advertised with.
    pub entries: Vec<PeerInfo>,
    /// Indices of the bootstrap hubs in `nodes`.
    pub bootstrap: Vec<usize>,
    /// The faulty nodes of the hostile profile (empty otherwise).
    pub faults: super::fault::FaultPlan,
    /// Entries that stand for the outside world (never to be contacted), sorted.
    pub outside: Vec<u32>,
}

/// The number of peer networks (the cut network and one mempool network per chain), which
/// must fit the 64-bit network sets of the simulated peer databases.
pub(crate) fn peer_networks(config: &SimnetConfig) -> Result<usize, SimnetError> {
    let networks = 1 + usize::from(config.network.chains());
    if networks > 64 {
        return Err(SimnetError::Config(format!(
            "{} has too many chains for the simulator",
            config.network
        )));
    }
    Ok(networks)
}

/// The address of live node `i`.
pub(crate) fn live_addr(subnet: u8, i: usize) -> SocketAddr {
    // Callers keep i < MAX_NODES, so both octets fit in a u8.
    let ip = Ipv4Addr::new(
        127,
        subnet,
        (i / BLOCK_SIZE) as u8,
        (i % BLOCK_SIZE + 1) as u8,
    );
    SocketAddr::new(IpAddr::V4(ip), P2P_PORT)
}

/// The address of dead address `k`: never bound by anything.
fn dead_addr(subnet: u8, k: usize) -> SocketAddr {
    let third = (LIVE_BLOCKS + k / BLOCK_SIZE) as u8;
    let ip = Ipv4Addr::new(127, subnet, third, (k % BLOCK_SIZE + 1) as u8);
    SocketAddr::new(IpAddr::V4(ip), P2P_PORT)
}

/// A Pareto-distributed list size: many near `min`, a heavy tail.
fn pareto(rng: &mut ChaCha8Rng, min: f64, alpha: f64) -> usize {
    // random::<f64>() is in [0, 1); 1 - u is in (0, 1], so the power is finite.
    let u: f64 = 1.0 - rng.random::<f64>();
    (min * u.powf(-1.0 / alpha)).min(1e9) as usize
}

pub(crate) fn pick_version(rng: &mut ChaCha8Rng) -> &'static str {
    let total: u32 = VERSIONS.iter().map(|(_, w)| w).sum();
    let mut x = rng.random_range(0..total);
    for (v, w) in VERSIONS {
        if x < *w {
            return v;
        }
        x -= w;
    }
    VERSIONS[VERSIONS.len() - 1].0
}

/// Chooses up to `amount` distinct items of `pool` other than `exclude`.
pub(crate) fn sample_excluding(
    rng: &mut ChaCha8Rng,
    pool: &[u32],
    amount: usize,
    exclude: u32,
) -> impl Iterator<Item = u32> {
    // One spare draw in case `exclude` is among those drawn.
    let draws = (amount + 1).min(pool.len());
    rand::seq::index::sample(rng, pool.len(), draws)
        .into_iter()
        .map(|j| pool[j])
        .filter(move |&e| e != exclude)
        .take(amount)
}

/// Adds to a node's database a few dead addresses it has tried and failed (failure count
/// 1 to 3): known to the node, never listed (spec §2: only entries without failures are).
fn add_failed_entries(rng: &mut ChaCha8Rng, db: &mut Vec<DbEntry>, dead: &[u32], networks: usize) {
    if dead.is_empty() || !rng.random_bool(0.3) {
        return;
    }
    let all = if networks >= 64 {
        u64::MAX
    } else {
        (1u64 << networks) - 1
    };
    for _ in 0..rng.random_range(1..=3usize) {
        let entry = dead[rng.random_range(0..dead.len())];
        if db.iter().any(|e| e.entry == entry) {
            continue;
        }
        let at = rng.random_range(0..=db.len());
        let failures = rng.random_range(1..=3u8);
        db.insert(
            at,
            DbEntry {
                entry,
                networks: all,
                failures,
            },
        );
    }
}

impl Topology {
    /// Position of a peer network's list in [`LiveNode::lists`]: cut first, then chains.
    pub fn list_index(network: PeerNetwork) -> usize {
        match network {
            PeerNetwork::Cut => 0,
            PeerNetwork::Mempool(c) => 1 + usize::from(c.0),
        }
    }

    /// Generates the network described by `config`.
    ///
    /// # Errors
    /// [`SimnetError::Config`] for a node count outside 1..=[`MAX_NODES`], and
    /// [`SimnetError::Cert`] if a certificate cannot be made.
    pub fn generate(config: &SimnetConfig) -> Result<Topology, SimnetError> {
        if config.profile == Profile::Realistic {
            return super::realistic::generate(config);
        }
        let n = config.nodes;
        if n == 0 || n > MAX_NODES {
            return Err(SimnetError::Config(format!(
                "nodes must be between 1 and {MAX_NODES}, not {n}"
            )));
        }
        let networks = peer_networks(config)?;
        let chains = networks - 1;

        // Keys come from their own stream so the topology does not depend on the key kind.
        let mut key_rng = ChaCha8Rng::seed_from_u64(config.seed);
        key_rng.set_stream(1);
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        // Failed entries come from a third stream, so adding them left the lists unchanged.
        let mut fail_rng = ChaCha8Rng::seed_from_u64(config.seed);
        fail_rng.set_stream(2);

        // Live nodes: certificates and versions.
        let mut nodes = Vec::with_capacity(n);
        for i in 0..n {
            let addr = live_addr(config.subnet, i);
            let mut key_seed = [0u8; 32];
            key_rng.fill_bytes(&mut key_seed);
            let cert = cert::generate(config.key_kind, addr.ip(), key_seed)?;
            nodes.push(LiveNode {
                addr,
                version: pick_version(&mut rng),
                cert,
                advertised: true,
                lists: Vec::new(),
                db: Vec::new(),
            });
        }

        // Roles: hubs, unadvertised nodes, the rest.
        let hubs_n = (n / 50).clamp(3, MAX_HUBS).min(n);
        let mut perm: Vec<u32> = (0..n as u32).collect();
        perm.shuffle(&mut rng);
        let hubs: Vec<u32> = perm[..hubs_n].to_vec();
        let unadvertised_n = if n > hubs_n + 1 { (n / 100).max(1) } else { 0 };
        for &u in &perm[hubs_n..hubs_n + unadvertised_n] {
            nodes[u as usize].advertised = false;
        }
        let mut pool: Vec<u32> = perm[hubs_n + unadvertised_n..].to_vec();
        pool.sort_unstable();

        // Dead addresses: about one for every ten live nodes, most with a made-up id.
        let dead_n = (n / 10).clamp(2, MAX_DEAD);
        let mut entries: Vec<PeerInfo> = nodes
            .iter()
            .map(|node| PeerInfo::new(Some(node.cert.id), HostAddress::from(node.addr)))
            .collect();
        let mut dead: Vec<u32> = Vec::with_capacity(dead_n);
        for k in 0..dead_n {
            let id = if rng.random_bool(0.7) {
                let mut b = [0u8; 32];
                rng.fill_bytes(&mut b);
                Some(PeerId::from_bytes(b))
            } else {
                None
            };
            dead.push(entries.len() as u32);
            entries.push(PeerInfo::new(
                id,
                HostAddress::from(dead_addr(config.subnet, k)),
            ));
        }

        let others = pool.len() + dead.len() + hubs.len();
        for (i, node) in nodes.iter_mut().enumerate() {
            let me = i as u32;
            let is_hub = hubs.contains(&me);
            let mut size = pareto(&mut rng, 6.0, 1.1);
            if is_hub {
                size = size.max(rng.random_range(65..=200));
                let hub_rank = hubs.iter().position(|&h| h == me).unwrap_or(usize::MAX);
                if n >= 600 && hub_rank < 2 {
                    size = size.max(rng.random_range(513..=700));
                }
            }
            let size = size.min(others);

            // The node's peer database: entry -> bit set of networks (bit 0 = cut).
            let mut db: BTreeMap<u32, u64> = BTreeMap::new();
            let mut cut: Vec<u32> = Vec::with_capacity(size);
            for &h in &hubs {
                if h != me && rng.random_bool(0.95) {
                    cut.push(h);
                }
            }
            let rest = size.saturating_sub(cut.len());
            let dead_k = (0..rest).filter(|_| rng.random_bool(0.13)).count();
            cut.extend(sample_excluding(&mut rng, &dead, dead_k, me));
            let live_k = size.saturating_sub(cut.len());
            cut.extend(sample_excluding(&mut rng, &pool, live_k, me));
            for &e in &cut {
                *db.entry(e).or_default() |= 1;
            }

            // Mempool lists: subsets of the cut list, hub-only lists, mixes, empty lists.
            for c in 0..chains {
                let bit = 1u64 << (c + 1);
                let mut tag = |e: u32| *db.entry(e).or_default() |= bit;
                let mode = rng.random_range(0..100u32);
                if mode < 10 {
                    continue;
                }
                if !(55..85).contains(&mode) {
                    let p = rng.random_range(0.05..0.6);
                    for &e in &cut {
                        if rng.random_bool(p) {
                            tag(e);
                        }
                    }
                }
                if (55..85).contains(&mode) {
                    for &h in &hubs {
                        if h != me && rng.random_bool(0.9) {
                            tag(h);
                        }
                    }
                }
                if mode >= 55 {
                    let extra = rng.random_range(0..=8usize);
                    let picked: Vec<u32> = if rng.random_bool(0.15) {
                        sample_excluding(&mut rng, &dead, extra.min(2), me).collect()
                    } else {
                        sample_excluding(&mut rng, &pool, extra, me).collect()
                    };
                    for e in picked {
                        tag(e);
                    }
                }
            }

            // Random marks: one order for the whole database, each list filtered from it.
            let mut order: Vec<(u32, u64)> = db.into_iter().collect();
            order.shuffle(&mut rng);
            let mut db: Vec<DbEntry> = order
                .into_iter()
                .map(|(entry, networks)| DbEntry {
                    entry,
                    networks,
                    failures: 0,
                })
                .collect();
            add_failed_entries(&mut fail_rng, &mut db, &dead, networks);
            node.lists = peerdb::lists_of(&db, networks);
            node.db = db;
        }

        let mut bootstrap: Vec<usize> = hubs.iter().map(|&h| h as usize).collect();
        bootstrap.sort_unstable();
        let mut topology = Topology {
            network: config.network,
            nodes,
            entries,
            bootstrap,
            faults: super::fault::FaultPlan::default(),
            outside: Vec::new(),
        };
        if config.profile == Profile::Hostile {
            topology.faults = super::fault::plan(&mut topology, config)?;
        }
        Ok(topology)
    }

    /// The bootstrap hubs as peer entries, with their ids.
    pub fn bootstrap_peers(&self) -> Vec<PeerInfo> {
        self.bootstrap
            .iter()
            .map(|&i| self.entries[i].clone())
            .collect()
    }

    /// The list node `node` serves for `network`, if both exist.
    pub fn list(&self, node: usize, network: PeerNetwork) -> Option<&[u32]> {
        self.nodes
            .get(node)?
            .lists
            .get(Self::list_index(network))
            .map(Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn config(nodes: usize, seed: u64) -> SimnetConfig {
        SimnetConfig {
            nodes,
            seed,
            subnet: 90,
            ..SimnetConfig::default()
        }
    }

    #[test]
    fn addresses_follow_the_scheme() {
        assert_eq!(live_addr(1, 0).to_string(), "127.1.0.1:1789");
        assert_eq!(live_addr(1, 249).to_string(), "127.1.0.250:1789");
        assert_eq!(live_addr(1, 250).to_string(), "127.1.1.1:1789");
        assert_eq!(
            live_addr(7, MAX_NODES - 1).to_string(),
            "127.7.199.250:1789"
        );
        assert_eq!(dead_addr(1, 0).to_string(), "127.1.200.1:1789");
        assert_eq!(dead_addr(1, MAX_DEAD - 1).to_string(), "127.1.254.250:1789");
    }

    #[test]
    fn rejects_bad_node_counts() {
        assert!(matches!(
            Topology::generate(&config(0, 1)),
            Err(SimnetError::Config(_))
        ));
        assert!(matches!(
            Topology::generate(&config(MAX_NODES + 1, 1)),
            Err(SimnetError::Config(_))
        ));
    }

    #[test]
    fn tiny_networks_work() {
        for n in 1..8 {
            let t = Topology::generate(&config(n, 3)).unwrap();
            assert_eq!(t.nodes.len(), n);
            assert!(!t.bootstrap.is_empty());
        }
    }

    #[test]
    fn clean_profile_properties() {
        let n = 700;
        let t = Topology::generate(&config(n, 5)).unwrap();
        assert_eq!(t.bootstrap.len(), 12);
        let hubs: HashSet<u32> = t.bootstrap.iter().map(|&i| i as u32).collect();
        let mut listed = HashSet::new();
        let (mut total, mut dead_entries) = (0usize, 0usize);
        let mut hub_hits = 0usize;
        let mut cut_sizes = Vec::new();
        for (i, node) in t.nodes.iter().enumerate() {
            assert_eq!(node.lists.len(), 21);
            for list in &node.lists {
                let set: HashSet<u32> = list.iter().copied().collect();
                assert_eq!(set.len(), list.len(), "duplicate in a list of node {i}");
                assert!(!set.contains(&(i as u32)), "node {i} lists itself");
                total += list.len();
                dead_entries += list.iter().filter(|&&e| e as usize >= n).count();
                listed.extend(list.iter().copied());
            }
            cut_sizes.push(node.lists[0].len());
            hub_hits += node.lists[0].iter().filter(|e| hubs.contains(e)).count();
            // Mempool lists differ from the cut list and some are empty.
            assert!(node.lists[1..].iter().any(|l| l != &node.lists[0]));
        }
        // Each node lists most hubs.
        assert!(
            hub_hits as f64 > 0.9 * (n * hubs.len()) as f64,
            "{hub_hits}"
        );
        // Heavy tail: several lists longer than a page, a few longer than the largest page.
        assert!(cut_sizes.iter().filter(|&&s| s > 64).count() >= 20);
        assert!(cut_sizes.iter().filter(|&&s| s > 512).count() >= 2);
        assert!(cut_sizes.iter().filter(|&&s| s < 20).count() > n / 3);
        // Dead entries: 5-15 % of all entries.
        let share = dead_entries as f64 / total as f64;
        assert!((0.05..=0.15).contains(&share), "dead share {share}");
        // Unadvertised live nodes are listed by nobody and are not bootstrap nodes.
        let unadvertised: Vec<usize> = (0..n).filter(|&i| !t.nodes[i].advertised).collect();
        assert_eq!(unadvertised.len(), 7);
        for i in unadvertised {
            assert!(!listed.contains(&(i as u32)));
            assert!(!t.bootstrap.contains(&i));
        }
        // Some empty mempool lists; both version families.
        assert!(
            t.nodes
                .iter()
                .any(|nd| nd.lists[1..].iter().any(Vec::is_empty))
        );
        let versions: HashSet<&str> = t.nodes.iter().map(|nd| nd.version).collect();
        assert!(versions.contains("2.32.0") && versions.contains("3.2"));
        // Every live entry carries the node's real id.
        for (i, node) in t.nodes.iter().enumerate() {
            assert_eq!(t.entries[i].id, Some(node.cert.id));
        }
    }

    #[test]
    fn lists_share_one_order() {
        let t = Topology::generate(&config(200, 9)).unwrap();
        for node in &t.nodes {
            let pos: std::collections::HashMap<u32, usize> = node.lists[0]
                .iter()
                .enumerate()
                .map(|(p, &e)| (e, p))
                .collect();
            for list in &node.lists[1..] {
                let in_cut: Vec<usize> = list.iter().filter_map(|e| pos.get(e).copied()).collect();
                assert!(in_cut.windows(2).all(|w| w[0] < w[1]));
            }
        }
    }
}
