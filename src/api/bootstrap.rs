//! Bootstrap lists: one PeerInfo text form per line, `#` starts a comment.
//!
//! The same format serves the built-in lists in `src/api/bootstrap/` and `--bootstrap-file`.

use super::peer_info::{PeerInfo, PeerInfoTextError};

/// A line of a bootstrap list that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {text:?}: {error}")]
pub struct BootstrapError {
    /// 1-based line number.
    pub line: usize,
    /// The offending text (comment stripped).
    pub text: String,
    /// What is wrong with it.
    pub error: PeerInfoTextError,
}

/// Parses a bootstrap list, keeping the order of first appearance and dropping repeats.
///
/// # Errors
/// The first malformed line.
pub fn parse_bootstrap_list(text: &str) -> Result<Vec<PeerInfo>, BootstrapError> {
    let mut peers: Vec<PeerInfo> = Vec::new();
    // Editors on some systems start UTF-8 files with a byte-order mark.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let peer: PeerInfo = line.parse().map_err(|error| BootstrapError {
            line: i + 1,
            text: line.to_string(),
            error,
        })?;
        if !peers.iter().any(|p| p.address == peer.address) {
            peers.push(peer);
        }
    }
    Ok(peers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leading_byte_order_mark_is_ignored() {
        let peers = parse_bootstrap_list("\u{feff}127.0.0.1:1789\n").unwrap();
        assert_eq!(peers[0].to_string(), "127.0.0.1:1789");
    }

    #[test]
    fn parses_comments_blanks_and_repeats() {
        let text = "# header\n\n127.0.0.1:1789  # a node\n127.0.0.1:1789\n[::1]:443\n";
        let peers = parse_bootstrap_list(text).unwrap();
        assert_eq!(peers.len(), 2);
        assert_eq!(peers[1].to_string(), "[::1]:443");
    }

    #[test]
    fn names_the_bad_line() {
        let err = parse_bootstrap_list("1.2.3.4:1\nnot an address\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(
            err.to_string().starts_with("line 2: \"not an address\""),
            "{err}"
        );
    }
}
