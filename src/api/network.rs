//! Chainweb versions ("networks" on the command line), chains and the peer networks each
//! node serves, with the URL paths of their peer lists.

use std::fmt;
use std::str::FromStr;

use super::bootstrap::{BootstrapError, parse_bootstrap_list};
use super::peer_info::PeerInfo;

/// Prefix of every P2P route: `/chainweb/<api version>`.
pub const API_PREFIX: &str = "/chainweb/0.0";

/// A chainweb version: which blockchain a node belongs to.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum NetworkId {
    /// Kadena mainnet, carried on by the community fork since November 2025.
    Mainnet01,
    /// The old public testnet.
    Testnet04,
    /// The community fork's testnet.
    Testnet06,
    /// Local development networks.
    Development,
}

/// Facts about one network, kept as data.
struct NetworkSpec {
    id: NetworkId,
    name: &'static str,
    chains: u16,
    bootstrap: &'static str,
    min_peer_version: Option<(u32, u32)>,
}

const NETWORKS: &[NetworkSpec] = &[
    NetworkSpec {
        id: NetworkId::Mainnet01,
        name: "mainnet01",
        chains: 20,
        bootstrap: include_str!("bootstrap/mainnet01.txt"),
        min_peer_version: Some((3, 0)),
    },
    NetworkSpec {
        id: NetworkId::Testnet04,
        name: "testnet04",
        chains: 20,
        bootstrap: include_str!("bootstrap/testnet04.txt"),
        min_peer_version: None,
    },
    NetworkSpec {
        id: NetworkId::Testnet06,
        name: "testnet06",
        chains: 20,
        bootstrap: include_str!("bootstrap/testnet06.txt"),
        min_peer_version: Some((3, 0)),
    },
    NetworkSpec {
        id: NetworkId::Development,
        name: "development",
        chains: 20,
        bootstrap: include_str!("bootstrap/development.txt"),
        min_peer_version: None,
    },
];

impl NetworkId {
    /// Every known network.
    pub const ALL: [NetworkId; 4] = [
        NetworkId::Mainnet01,
        NetworkId::Testnet04,
        NetworkId::Testnet06,
        NetworkId::Development,
    ];

    fn spec(self) -> &'static NetworkSpec {
        // NETWORKS has one entry per variant, in declaration order.
        &NETWORKS[self as usize]
    }

    /// The name used in URLs, e.g. `mainnet01`.
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// Number of chains; chain ids are `0..chains()`.
    pub fn chains(self) -> u16 {
        self.spec().chains
    }

    /// All chain ids of this network.
    pub fn chain_ids(self) -> impl Iterator<Item = ChainId> {
        (0..self.chains()).map(ChainId)
    }

    /// Whether `chain` is one of this network's chains.
    pub fn has_chain(self, chain: ChainId) -> bool {
        chain.0 < self.chains()
    }

    /// Every peer network a node of this version serves: cut, then each chain's mempool.
    pub fn peer_networks(self) -> impl Iterator<Item = PeerNetwork> {
        std::iter::once(PeerNetwork::Cut).chain(self.chain_ids().map(PeerNetwork::Mempool))
    }

    /// The lowest node version (major, minor) a node of this network accepts from a new
    /// peer, where the community fork imposes one.
    pub fn min_peer_version(self) -> Option<(u32, u32)> {
        self.spec().min_peer_version
    }

    /// The built-in bootstrap nodes (see `src/api/bootstrap/<name>.txt`).
    ///
    /// # Errors
    /// Only if the shipped list is malformed, which a unit test rules out.
    pub fn bootstrap_peers(self) -> Result<Vec<PeerInfo>, BootstrapError> {
        parse_bootstrap_list(self.spec().bootstrap)
    }
}

impl fmt::Display for NetworkId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown network name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown network {0:?} (known: mainnet01, testnet04, testnet06, development)")]
pub struct UnknownNetwork(pub String);

impl FromStr for NetworkId {
    type Err = UnknownNetwork;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        NETWORKS
            .iter()
            .find(|n| n.name == s)
            .map(|n| n.id)
            .ok_or_else(|| UnknownNetwork(s.to_string()))
    }
}

/// A chain id. Which ids exist depends on the network ([`NetworkId::has_chain`]).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct ChainId(pub u16);

impl fmt::Display for ChainId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for ChainId {
    type Err = std::num::ParseIntError;

    /// Decimal without sign or leading zeros, as the route segment must be.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() > 1 && s.starts_with('0') || s.starts_with('+') {
            // Force the standard "invalid digit" error for spellings chainweb does not route.
            return "x".parse::<u16>().map(ChainId);
        }
        s.parse().map(ChainId)
    }
}

/// One of the peer networks a node serves a list for.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum PeerNetwork {
    /// The consensus network.
    Cut,
    /// The mempool network of one chain.
    Mempool(ChainId),
}

impl PeerNetwork {
    /// `cut` or `mempool`, as stored in the `network` column.
    pub fn kind(self) -> &'static str {
        match self {
            PeerNetwork::Cut => "cut",
            PeerNetwork::Mempool(_) => "mempool",
        }
    }

    /// The chain of a mempool network.
    pub fn chain(self) -> Option<ChainId> {
        match self {
            PeerNetwork::Cut => None,
            PeerNetwork::Mempool(c) => Some(c),
        }
    }

    /// Rebuilds a network from its stored `network` and `chain` columns.
    pub fn from_parts(kind: &str, chain: Option<u16>) -> Option<Self> {
        match (kind, chain) {
            ("cut", None) => Some(PeerNetwork::Cut),
            ("mempool", Some(c)) => Some(PeerNetwork::Mempool(ChainId(c))),
            _ => None,
        }
    }

    /// The path of this network's peer list, e.g. `/chainweb/0.0/mainnet01/chain/3/mempool/peer`.
    pub fn peer_path(self, network: NetworkId) -> String {
        match self {
            PeerNetwork::Cut => format!("{API_PREFIX}/{network}/cut/peer"),
            PeerNetwork::Mempool(c) => format!("{API_PREFIX}/{network}/chain/{c}/mempool/peer"),
        }
    }
}

impl fmt::Display for PeerNetwork {
    /// `cut` or `chain:N`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PeerNetwork::Cut => f.write_str("cut"),
            PeerNetwork::Mempool(c) => write!(f, "chain:{c}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_table_is_consistent() {
        for id in NetworkId::ALL {
            assert_eq!(id.spec().id, id);
            assert_eq!(id.name().parse::<NetworkId>(), Ok(id));
            assert_eq!(id.peer_networks().count(), 21);
            id.bootstrap_peers().expect("shipped bootstrap list parses");
        }
        assert!("mainnet".parse::<NetworkId>().is_err());
    }

    #[test]
    fn mainnet_bootstraps_are_the_community_hosts() {
        let peers = NetworkId::Mainnet01.bootstrap_peers().unwrap();
        let names: Vec<String> = peers.iter().map(|p| p.to_string()).collect();
        assert_eq!(names.len(), 6);
        assert!(names.contains(&"fr-1.chainweb-community.org:443".to_string()));
        assert!(names.contains(&"us-e1.bootstrap.kadinic.com:443".to_string()));
        assert_eq!(NetworkId::Testnet06.bootstrap_peers().unwrap().len(), 2);
    }

    #[test]
    fn paths_and_chain_ids() {
        assert_eq!(
            PeerNetwork::Cut.peer_path(NetworkId::Mainnet01),
            "/chainweb/0.0/mainnet01/cut/peer"
        );
        assert_eq!(
            PeerNetwork::Mempool(ChainId(19)).peer_path(NetworkId::Testnet04),
            "/chainweb/0.0/testnet04/chain/19/mempool/peer"
        );
        assert_eq!("7".parse::<ChainId>(), Ok(ChainId(7)));
        assert!("07".parse::<ChainId>().is_err());
        assert!("+7".parse::<ChainId>().is_err());
        assert!(!NetworkId::Mainnet01.has_chain(ChainId(20)));
        assert_eq!(
            PeerNetwork::from_parts("mempool", Some(3)),
            Some(PeerNetwork::Mempool(ChainId(3)))
        );
        assert_eq!(PeerNetwork::from_parts("cut", Some(3)), None);
    }
}
