//! The "realistic" profile: a simulated network shaped like what is known of the real
//! chainweb network (`shared/spec/real-network.md`, spec §2 and §6).
//!
//! - **Hosting-provider cluster**: 60 % of live nodes listen on one shared non-default port
//!   ([`PROVIDER_PORT`], Flux's 31350) in a few dense /24 blocks (`127.S.10–…`).
//! - **Hubs**: 6 to 12 bootstrap-like nodes on port 443, listed by about 95 % of nodes;
//!   a share of nodes list a hub with a `null` id, as bootstrap nodes are listed.
//! - **Other nodes** are scattered over many /24 blocks (`127.S.20–199`), mostly on 1789,
//!   some on 443, 4443 or 8443.
//! - **Cut lists of 64–300 entries** (hubs near 300), so most lists span several default
//!   pages; directed and not symmetric.
//! - **Stale entries**: 20–40 % of each cut list are addresses where nothing listens
//!   (`127.S.200–254`, and free hosts of the provider blocks on the provider port).
//! - **Outside entries**: 3–8 % of each cut list stand for the world outside: private,
//!   documentation and public IPv4 addresses, DNS names under `.example` and a few port-0
//!   entries. They are advertised but never contacted by a loopback-only crawl
//!   ([`super::truth::TruthNode::outside`]); none is in 127.0.0.0/8.
//! - **Two version groups**: 2.31/2.32 (about a third) and 3.x.
//! - **Mempool lists differ per chain**: some empty, some a sample of the cut list, some
//!   only the hubs, some a few other addresses.
//! - Every node also keeps a few failed entries that it does not list.
//!
//! As with the clean profile, everything is a pure function of the configuration.

use std::collections::{BTreeMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use rand::seq::SliceRandom;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::SimnetError;
use super::cert;
use super::peerdb::{self, DbEntry};
use super::topology::{LiveNode, SimnetConfig, Topology, sample_excluding};
use crate::api::{HostAddress, Hostname, PeerId, PeerInfo};

/// The shared port of the hosting-provider cluster (Flux's Kadena node app).
pub const PROVIDER_PORT: u16 = 31350;
/// Most live nodes of a realistic network.
pub const MAX_REALISTIC_NODES: usize = 20_000;
/// First /24 block (third octet) of the provider cluster; it fills blocks upwards.
const PROVIDER_FIRST_BLOCK: u8 = 10;
/// Provider nodes per /24 block: dense, but with free hosts for stale entries.
const PROVIDER_PER_BLOCK: usize = 200;
/// Blocks of the scattered nodes.
const SCATTER_BLOCKS: std::ops::RangeInclusive<u8> = 20..=199;
/// Blocks of stale addresses.
const DEAD_BLOCKS: std::ops::RangeInclusive<u8> = 200..=254;
/// Version mix: two incompatible groups.
const VERSIONS: &[(&str, u32)] = &[
    ("2.31.2", 8),
    ("2.32.0", 27),
    ("3.0.1", 5),
    ("3.1", 15),
    ("3.2", 45),
];

fn pick_version(rng: &mut ChaCha8Rng) -> &'static str {
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

fn v4(subnet: u8, block: u8, host: u8, port: u16) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, subnet, block, host)), port)
}

/// One of the outside-world entries (never loopback).
fn outside_entry(rng: &mut ChaCha8Rng, k: usize) -> HostAddress {
    let ip = |a: u8, b: u8, c: u8, d: u8| Hostname::Ipv4(Ipv4Addr::new(a, b, c, d));
    let (host, port) = match k % 8 {
        0 => (
            ip(10, rng.random(), rng.random(), rng.random_range(1..255)),
            1789,
        ),
        1 => (ip(192, 168, rng.random(), rng.random_range(1..255)), 1789),
        2 => (
            ip(
                172,
                rng.random_range(16..32),
                rng.random(),
                rng.random_range(1..255),
            ),
            31350,
        ),
        3 => (ip(203, 0, 113, rng.random_range(1..255)), 1789),
        4 => (ip(198, 51, 100, rng.random_range(1..255)), 443),
        // Public-looking addresses: refused by a loopback-only crawl.
        5 => (
            ip(
                rng.random_range(23..90),
                rng.random(),
                rng.random(),
                rng.random_range(1..255),
            ),
            31350,
        ),
        6 => (
            Hostname::Dns(format!("kda-node-{k}.operator{}.example", k % 5).into_boxed_str()),
            443,
        ),
        _ => (
            ip(
                100,
                rng.random_range(64..128),
                rng.random(),
                rng.random_range(1..255),
            ),
            0,
        ),
    };
    HostAddress::new(host, port)
}

/// Generates a realistic network (see the module docs).
///
/// # Errors
/// [`SimnetError::Config`] for a node count outside 1..=[`MAX_REALISTIC_NODES`], and
/// [`SimnetError::Cert`] if a certificate cannot be made.
pub fn generate(config: &SimnetConfig) -> Result<Topology, SimnetError> {
    let n = config.nodes;
    if n == 0 || n > MAX_REALISTIC_NODES {
        return Err(SimnetError::Config(format!(
            "the realistic profile takes 1 to {MAX_REALISTIC_NODES} nodes, not {n}"
        )));
    }
    let networks = super::topology::peer_networks(config)?;
    let chains = networks - 1;
    let s = config.subnet;
    let mut key_rng = ChaCha8Rng::seed_from_u64(config.seed);
    key_rng.set_stream(1);
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed ^ 0x7265_616c);

    // Roles and addresses.
    let hubs_n = (n / 50).clamp(6, 12).min(n);
    let provider_n = ((n - hubs_n) as f64 * 0.6).round() as usize;
    let mut used: HashSet<SocketAddr> = HashSet::new();
    let mut addrs: Vec<SocketAddr> = Vec::with_capacity(n);
    let mut provider_hosts: Vec<(u8, u8)> = Vec::new();
    // Hubs: block 1, port 443.
    for h in 0..hubs_n {
        let a = v4(s, 1, (h + 1) as u8, 443);
        used.insert(a);
        addrs.push(a);
    }
    for k in 0..provider_n {
        let block = PROVIDER_FIRST_BLOCK + (k / PROVIDER_PER_BLOCK) as u8;
        // Spread over the block's 254 hosts, leaving gaps for stale entries.
        let host = (1 + (k % PROVIDER_PER_BLOCK) * 254 / PROVIDER_PER_BLOCK) as u8;
        provider_hosts.push((block, host));
        let a = v4(s, block, host, PROVIDER_PORT);
        used.insert(a);
        addrs.push(a);
    }
    let ports = [1789u16, 1789, 1789, 1789, 1789, 443, 4443, 8443];
    while addrs.len() < n {
        let block = rng.random_range(SCATTER_BLOCKS);
        let host = rng.random_range(1..=254u8);
        let port = ports[rng.random_range(0..ports.len())];
        let a = v4(s, block, host, port);
        if used.insert(a) {
            addrs.push(a);
        }
    }

    let mut nodes = Vec::with_capacity(n);
    for (i, &addr) in addrs.iter().enumerate() {
        let mut key_seed = [0u8; 32];
        key_rng.fill_bytes(&mut key_seed);
        let cert = cert::generate(config.key_kind, addr.ip(), key_seed)?;
        let version = if i < hubs_n {
            // Hubs are kept current by their operators.
            "3.2"
        } else {
            pick_version(&mut rng)
        };
        nodes.push(LiveNode {
            addr,
            version,
            cert,
            advertised: true,
            lists: Vec::new(),
            db: Vec::new(),
        });
    }
    let mut entries: Vec<PeerInfo> = nodes
        .iter()
        .map(|nd| PeerInfo::new(Some(nd.cert.id), HostAddress::from(nd.addr)))
        .collect();

    // A few live nodes nobody lists.
    let hubs: Vec<u32> = (0..hubs_n as u32).collect();
    let mut rest: Vec<u32> = (hubs_n as u32..n as u32).collect();
    rest.shuffle(&mut rng);
    let unadvertised_n = if n > hubs_n + 10 { (n / 100).max(1) } else { 0 };
    for &u in &rest[..unadvertised_n] {
        nodes[u as usize].advertised = false;
    }
    let mut pool: Vec<u32> = rest[unadvertised_n..].to_vec();
    pool.sort_unstable();

    // Stale addresses: free provider hosts on the provider port, and the dead blocks.
    let dead_n = (n * 2 / 5).max(10);
    let mut dead: Vec<u32> = Vec::with_capacity(dead_n);
    while dead.len() < dead_n {
        let a = if rng.random_bool(0.4) && !provider_hosts.is_empty() {
            let (block, _) = provider_hosts[rng.random_range(0..provider_hosts.len())];
            v4(s, block, rng.random_range(1..=254), PROVIDER_PORT)
        } else {
            let port = ports[rng.random_range(0..ports.len())];
            v4(
                s,
                rng.random_range(DEAD_BLOCKS),
                rng.random_range(1..=254),
                port,
            )
        };
        if !used.insert(a) {
            continue;
        }
        let id = rng.random_bool(0.85).then(|| {
            let mut b = [0u8; 32];
            rng.fill_bytes(&mut b);
            PeerId::from_bytes(b)
        });
        dead.push(entries.len() as u32);
        entries.push(PeerInfo::new(id, HostAddress::from(a)));
    }

    // Outside entries.
    let outside_n = (n / 8).max(16);
    let mut outside: Vec<u32> = Vec::with_capacity(outside_n);
    let mut seen_outside: HashSet<HostAddress> = HashSet::new();
    let mut k = 0;
    while outside.len() < outside_n {
        let a = outside_entry(&mut rng, k);
        k += 1;
        if !seen_outside.insert(a.clone()) {
            continue;
        }
        let id = rng.random_bool(0.7).then(|| {
            let mut b = [0u8; 32];
            rng.fill_bytes(&mut b);
            PeerId::from_bytes(b)
        });
        outside.push(entries.len() as u32);
        entries.push(PeerInfo::new(id, a));
    }

    // Hubs as bootstrap nodes are listed: with a null id.
    let hub_null: Vec<u32> = hubs
        .iter()
        .map(|&h| {
            entries.push(PeerInfo::new(None, entries[h as usize].address.clone()));
            (entries.len() - 1) as u32
        })
        .collect();

    for (i, node) in nodes.iter_mut().enumerate() {
        let me = i as u32;
        let is_hub = i < hubs_n;
        let size = if is_hub {
            rng.random_range(270..=300usize)
        } else {
            64 + (236.0 * rng.random::<f64>().powf(1.7)) as usize
        };
        let mut cut: Vec<u32> = Vec::with_capacity(size);
        let null_ids = rng.random_bool(0.3);
        for (h, &hub) in hubs.iter().enumerate() {
            if hub != me && rng.random_bool(0.95) {
                cut.push(if null_ids { hub_null[h] } else { hub });
            }
        }
        let stale_k = (size as f64 * rng.random_range(0.2..0.4)).round() as usize;
        let outside_k = (size as f64 * rng.random_range(0.03..0.08)).round() as usize;
        let live_k = size.saturating_sub(cut.len() + stale_k + outside_k);
        cut.extend(sample_excluding(&mut rng, &dead, stale_k, me));
        cut.extend(sample_excluding(&mut rng, &outside, outside_k, me));
        cut.extend(sample_excluding(&mut rng, &pool, live_k, me));

        let mut db: BTreeMap<u32, u64> = BTreeMap::new();
        for &e in &cut {
            *db.entry(e).or_default() |= 1;
        }
        let hub_entries: Vec<u32> = cut
            .iter()
            .copied()
            .filter(|&e| (e as usize) < hubs_n || hub_null.contains(&e))
            .collect();
        for c in 0..chains {
            let bit = 1u64 << (c + 1);
            let mode = rng.random_range(0..100u32);
            let picked: Vec<u32> = match mode {
                0..15 => Vec::new(),
                15..50 => {
                    let p = rng.random_range(0.03..0.3);
                    cut.iter().copied().filter(|_| rng.random_bool(p)).collect()
                }
                50..75 => hub_entries
                    .iter()
                    .copied()
                    .filter(|_| rng.random_bool(0.9))
                    .collect(),
                _ => {
                    let extra = rng.random_range(1..=12usize);
                    let mut v: Vec<u32> = sample_excluding(&mut rng, &pool, extra, me).collect();
                    v.extend(sample_excluding(&mut rng, &dead, extra / 4, me));
                    // One address per node's database: a hub stays in the form it has.
                    v.retain(|&e| !(null_ids && (e as usize) < hubs_n));
                    v
                }
            };
            for e in picked {
                *db.entry(e).or_default() |= bit;
            }
        }

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
        // A few addresses it tried and failed: known, unlisted.
        for _ in 0..rng.random_range(0..=4usize) {
            let e = dead[rng.random_range(0..dead.len())];
            if db.iter().all(|d| d.entry != e) {
                let at = rng.random_range(0..=db.len());
                db.insert(
                    at,
                    DbEntry {
                        entry: e,
                        networks: 1,
                        failures: rng.random_range(1..=5),
                    },
                );
            }
        }
        node.lists = peerdb::lists_of(&db, networks);
        node.db = db;
    }

    Ok(Topology {
        network: config.network,
        nodes,
        entries,
        bootstrap: (0..hubs_n).collect(),
        outside,
        faults: Default::default(),
    })
}

/// Figures that show how a topology compares with the real network.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ProfileFigures {
    /// Live nodes.
    pub nodes: usize,
    /// Smallest, median and largest cut list.
    pub cut_sizes: (usize, usize, usize),
    /// How many cut lists take 1, 2, … default (64-entry) pages.
    pub pages_per_list: BTreeMap<usize, usize>,
    /// Share of advertised cut entries where nothing listens.
    pub stale_share: f64,
    /// Share of advertised cut entries that stand for the outside world.
    pub outside_share: f64,
    /// Share of advertised cut entries with a null id.
    pub null_id_share: f64,
    /// Live nodes per version.
    pub versions: BTreeMap<String, usize>,
    /// Live nodes per port.
    pub ports: BTreeMap<u16, usize>,
    /// Live nodes in the most crowded /24 blocks (largest first, at most 8).
    pub top_blocks: Vec<usize>,
    /// Number of /24 blocks holding live nodes.
    pub blocks: usize,
    /// Share of nodes that list each hub, on average.
    pub hub_listing_share: f64,
    /// Share of directed live-to-live cut edges whose reverse edge exists.
    pub reciprocity: f64,
    /// Share of mempool lists that are empty.
    pub empty_mempool_share: f64,
}

/// Computes [`ProfileFigures`] of a topology.
pub fn figures(t: &Topology) -> ProfileFigures {
    let n = t.nodes.len();
    let mut sizes: Vec<usize> = t.nodes.iter().map(|nd| nd.lists[0].len()).collect();
    sizes.sort_unstable();
    let mut pages_per_list = BTreeMap::new();
    for &sz in &sizes {
        *pages_per_list.entry(sz.div_ceil(64).max(1)).or_insert(0) += 1;
    }
    let outside: HashSet<u32> = t.outside.iter().copied().collect();
    let live_addrs: HashSet<HostAddress> = t
        .nodes
        .iter()
        .map(|nd| HostAddress::from(nd.addr))
        .collect();
    let (mut total, mut stale, mut out, mut null) = (0usize, 0usize, 0usize, 0usize);
    let mut edges: HashSet<(usize, usize)> = HashSet::new();
    let index: std::collections::HashMap<HostAddress, usize> = t
        .nodes
        .iter()
        .enumerate()
        .map(|(i, nd)| (HostAddress::from(nd.addr), i))
        .collect();
    let hubs: HashSet<HostAddress> = t.bootstrap_peers().into_iter().map(|p| p.address).collect();
    let mut hub_hits = 0usize;
    for (i, nd) in t.nodes.iter().enumerate() {
        for &e in &nd.lists[0] {
            let p = &t.entries[e as usize];
            total += 1;
            if outside.contains(&e) {
                out += 1;
            } else if !live_addrs.contains(&p.address) {
                stale += 1;
            }
            if p.id.is_none() {
                null += 1;
            }
            if hubs.contains(&p.address) {
                hub_hits += 1;
            }
            if let Some(&j) = index.get(&p.address) {
                edges.insert((i, j));
            }
        }
    }
    let reciprocal = edges
        .iter()
        .filter(|(a, b)| edges.contains(&(*b, *a)))
        .count();
    let mut versions = BTreeMap::new();
    let mut ports = BTreeMap::new();
    let mut blocks: BTreeMap<[u8; 3], usize> = BTreeMap::new();
    for nd in &t.nodes {
        *versions.entry(nd.version.to_string()).or_insert(0) += 1;
        *ports.entry(nd.addr.port()).or_insert(0) += 1;
        if let IpAddr::V4(ip) = nd.addr.ip() {
            let [a, b, c, _] = ip.octets();
            *blocks.entry([a, b, c]).or_insert(0) += 1;
        }
    }
    let mut top: Vec<usize> = blocks.values().copied().collect();
    top.sort_unstable_by(|a, b| b.cmp(a));
    top.truncate(8);
    let mempool: Vec<&Vec<u32>> = t.nodes.iter().flat_map(|nd| &nd.lists[1..]).collect();
    let share = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    ProfileFigures {
        nodes: n,
        cut_sizes: (
            sizes.first().copied().unwrap_or(0),
            sizes.get(n / 2).copied().unwrap_or(0),
            sizes.last().copied().unwrap_or(0),
        ),
        pages_per_list,
        stale_share: share(stale, total),
        outside_share: share(out, total),
        null_id_share: share(null, total),
        versions,
        ports,
        top_blocks: top,
        blocks: blocks.len(),
        hub_listing_share: share(hub_hits, n * hubs.len().max(1)),
        reciprocity: share(reciprocal, edges.len()),
        empty_mempool_share: share(
            mempool.iter().filter(|l| l.is_empty()).count(),
            mempool.len(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simnet::Profile;

    fn realistic(nodes: usize, seed: u64) -> Topology {
        generate(&SimnetConfig {
            nodes,
            seed,
            subnet: 93,
            profile: Profile::Realistic,
            ..SimnetConfig::default()
        })
        .unwrap()
    }

    #[test]
    fn realistic_profile_looks_like_the_real_network() {
        let t = realistic(1000, 7);
        let f = figures(&t);
        eprintln!("{}", serde_json::to_string_pretty(&f).unwrap());
        assert!(
            f.cut_sizes.0 >= 60 && f.cut_sizes.2 <= 300,
            "{:?}",
            f.cut_sizes
        );
        assert!(f.pages_per_list.keys().filter(|&&p| p >= 2).count() >= 3);
        assert!((0.2..=0.4).contains(&f.stale_share), "{}", f.stale_share);
        assert!(
            (0.03..=0.08).contains(&f.outside_share),
            "{}",
            f.outside_share
        );
        assert!(f.null_id_share > 0.02, "{}", f.null_id_share);
        let provider = f.ports[&PROVIDER_PORT] as f64 / 1000.0;
        assert!((0.5..=0.7).contains(&provider), "{provider}");
        assert!(
            f.top_blocks[0] >= 150 && f.blocks > 100,
            "{:?}",
            f.top_blocks
        );
        assert!(f.hub_listing_share > 0.9, "{}", f.hub_listing_share);
        assert!(f.reciprocity < 0.5, "{}", f.reciprocity);
        assert!((0.1..=0.2).contains(&f.empty_mempool_share));
        let old: usize = f
            .versions
            .iter()
            .filter(|(v, _)| v.starts_with('2'))
            .map(|(_, c)| c)
            .sum();
        assert!((250..=450).contains(&old), "{:?}", f.versions);
        // Lists never list their node, never hold an address twice; outside entries are
        // never loopback.
        for (i, nd) in t.nodes.iter().enumerate() {
            let me = HostAddress::from(nd.addr);
            for l in &nd.lists {
                let addrs: HashSet<&HostAddress> =
                    l.iter().map(|&e| &t.entries[e as usize].address).collect();
                assert_eq!(addrs.len(), l.len(), "node {i}");
                assert!(!addrs.contains(&me));
            }
        }
        for &o in &t.outside {
            let a = &t.entries[o as usize].address;
            assert!(!a.hostname.ip().is_some_and(|ip| ip.is_loopback()), "{a}");
        }
        assert!(t.outside.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn realistic_is_reproducible_and_small_networks_work() {
        let a = realistic(120, 3);
        let b = realistic(120, 3);
        assert_eq!(a.entries, b.entries);
        for n in [1, 5, 20] {
            let t = realistic(n, 1);
            assert_eq!(t.nodes.len(), n);
        }
    }
}
