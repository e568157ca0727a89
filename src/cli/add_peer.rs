//! `add-peer`: announce a peer to one node (`PUT …/peer`) and print the node's answer.
//!
//! The target must be a loopback address unless `--allow-remote` is given; even then the
//! crawler's egress policy applies (no private, documentation, reserved or DNS targets:
//! give an IP literal), and the request goes to that one address only.

use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::api::{ChainId, HostAddress, PeerNetwork};
use crate::crawl::EgressPolicy;
use crate::sanitize::sanitize_bytes;

use super::Exit;
use super::args::{AddPeerArgs, PeerNetworkKind};

/// Longest reason printed from a node's answer.
const MAX_REASON: usize = 2000;

/// Checks that the target may be contacted: loopback always, other IP literals with
/// `allow_remote` and within the egress policy, DNS names never.
///
/// # Errors
/// A message saying why the target is refused.
pub fn check_target(target: &HostAddress, allow_remote: bool) -> Result<()> {
    let policy = EgressPolicy {
        allow_loopback: true,
        allow_private: false,
        resolve_dns: false,
        allow_public: true,
    };
    let loopback = target.hostname.ip().is_some_and(|ip| ip.is_loopback());
    if !loopback && !allow_remote {
        bail!(
            "--node {target} is not a loopback address; add-peer only talks to simulated \
             networks unless --allow-remote is given"
        );
    }
    if let Err(reason) = policy.check(target) {
        bail!("--node {target} is refused by the egress policy ({reason})");
    }
    Ok(())
}

/// The peer network named by `--network` and `--chain`.
fn peer_network(a: &AddPeerArgs) -> Result<PeerNetwork> {
    match (a.network, a.chain) {
        (PeerNetworkKind::Cut, None) => Ok(PeerNetwork::Cut),
        (PeerNetworkKind::Cut, Some(_)) => bail!("--chain goes with --network mempool only"),
        (PeerNetworkKind::Mempool, None) => bail!("--network mempool needs --chain N"),
        (PeerNetworkKind::Mempool, Some(c)) => {
            let chain = ChainId(c);
            if !a.chainweb_version.has_chain(chain) {
                bail!("{} has no chain {c}", a.chainweb_version);
            }
            Ok(PeerNetwork::Mempool(chain))
        }
    }
}

/// What the node's answer means, as printed.
pub fn describe_answer(status: u16, body: &[u8]) -> (bool, String) {
    let text = sanitize_bytes(body, MAX_REASON);
    match status {
        204 => (true, "added: the node accepted the peer (204)".to_string()),
        400 => (false, format!("rejected (400): {text}")),
        _ if text.is_empty() => (false, format!("unexpected answer: HTTP {status}")),
        _ => (false, format!("unexpected answer: HTTP {status}: {text}")),
    }
}

/// `chainweb-crawler add-peer`.
pub async fn run(a: AddPeerArgs) -> Result<Exit> {
    check_target(&a.node.address, a.allow_remote)?;
    let net = peer_network(&a)?;
    if !(a.timeout.is_finite() && a.timeout > 0.0 && a.timeout <= 600.0) {
        bail!("--timeout must be between 0 and 600 seconds");
    }
    let tls = crate::crawl::tls::client_config().context("cannot set up TLS")?;
    let client = reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs_f64(a.timeout))
        .build()
        .context("cannot build the HTTP client")?;
    let url = format!(
        "{}{}",
        a.node.address.origin(),
        net.peer_path(a.chainweb_version)
    );
    let body = serde_json::to_vec(&a.peer).context("cannot encode the peer")?;
    let resp = client
        .put(&url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .with_context(|| format!("cannot reach {}", a.node.address))?;
    let status = resp.status().as_u16();
    let body = resp
        .bytes()
        .await
        .with_context(|| format!("cannot read the answer of {}", a.node.address))?;
    let (ok, text) = describe_answer(status, &body);
    {
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), "{text}");
    }
    Ok(if ok { Exit::Success } else { Exit::Failure })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_loopback_unless_allowed() {
        let t = |s: &str| s.parse::<HostAddress>().unwrap();
        assert!(check_target(&t("127.3.0.1:1789"), false).is_ok());
        assert!(check_target(&t("[::1]:1789"), false).is_ok());
        assert!(check_target(&t("8.8.8.8:1789"), false).is_err());
        assert!(check_target(&t("8.8.8.8:1789"), true).is_ok());
        assert!(check_target(&t("10.0.0.1:1789"), true).is_err());
        assert!(check_target(&t("node.example.org:443"), true).is_err());
        assert!(check_target(&t("127.0.0.1:0"), false).is_err());
    }

    #[test]
    fn answers_read_plainly() {
        assert!(describe_answer(204, b"").0);
        assert_eq!(
            describe_answer(400, b"Invalid hostaddress: IsLocalPeerAddress"),
            (
                false,
                "rejected (400): Invalid hostaddress: IsLocalPeerAddress".to_string()
            )
        );
        assert_eq!(
            describe_answer(413, b""),
            (false, "unexpected answer: HTTP 413".to_string())
        );
    }
}
