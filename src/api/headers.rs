//! Header names and values of the P2P API.

/// The client's socket address as the node saw it.
pub const PEER_ADDR: &str = "x-peer-addr";
/// The node's clock, whole POSIX seconds.
pub const SERVER_TIMESTAMP: &str = "x-server-timestamp";
/// The node's package version, dot-separated integers such as `2.32.0`.
pub const NODE_VERSION: &str = "x-chainweb-node-version";
/// The `Server` header a chainweb node's P2P API sends.
pub const SERVER_NAME: &str = "Chainweb P2P API";

/// Parses a node version header as chainweb does: dot-separated non-negative integers.
pub fn parse_node_version(s: &str) -> Option<Vec<u32>> {
    s.split('.').map(|p| p.parse::<u32>().ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_versions() {
        assert_eq!(parse_node_version("2.32.0"), Some(vec![2, 32, 0]));
        assert_eq!(parse_node_version("3.2"), Some(vec![3, 2]));
        assert_eq!(parse_node_version("3.x"), None);
        assert_eq!(parse_node_version(""), None);
    }
}
