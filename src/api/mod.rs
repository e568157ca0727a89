//! The chainweb peer API: the wire types shared by the crawler and the simulator.
//!
//! Everything here is pure: parsing never panics and never does I/O, so the same
//! definitions describe what the simulator serves and what the crawler accepts.

pub mod bootstrap;
pub mod headers;
pub mod host;
pub mod network;
pub mod page;
pub mod peer_id;
pub mod peer_info;

#[cfg(test)]
mod fuzz_tests;

pub use bootstrap::{BootstrapError, parse_bootstrap_list};
pub use host::{
    AddressHasher, AddressMap, AddressSet, HostAddress, HostAddressError, Hostname, HostnameError,
};
pub use network::{API_PREFIX, ChainId, NetworkId, PeerNetwork, UnknownNetwork};
pub use page::{DEFAULT_LIMIT, MAX_LIMIT, NextItem, Page, PageError};
pub use peer_id::{PeerId, PeerIdError};
pub use peer_info::{PeerInfo, PeerInfoError};
