//! `GET /chainweb/0.0/{network}/cut` (spec §9) and `GET /chainweb/0.0/{network}/config`
//! (spec §10) of a simulated node.
//!
//! Both follow from the topology alone: a node's cut is made up from its certificate id
//! (each node a little behind mainnet's final cut, by its own amount), and its
//! configuration names its own address, version, bootstrap peers and whether mempool P2P
//! is on. [`node_cut`] and [`node_config`] are public so that tests and ground truth can
//! say what a crawler must record.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hyper::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::server::{Answer, NodeView};
use super::topology::Topology;
use crate::api::{API_PREFIX, NetworkId};

/// Lowest block height of mainnet's final cut (spec §9); simulated chains sit at or below.
const FINAL_CHAIN_HEIGHT: u64 = 6_357_349;

/// A node-info route.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum InfoRoute {
    /// `…/cut`.
    Cut,
    /// `…/config`.
    Config,
}

/// The info route a path names, or `None`.
pub fn route(path: &str, network: NetworkId) -> Option<InfoRoute> {
    let rest = path.strip_prefix(API_PREFIX)?.strip_prefix('/')?;
    let (net, rest) = rest.split_once('/')?;
    if net != network.name() {
        return None;
    }
    match rest {
        "cut" => Some(InfoRoute::Cut),
        "config" => Some(InfoRoute::Config),
        _ => None,
    }
}

/// The answer to a `GET` of an info route.
pub fn answer(node: &NodeView, r: InfoRoute) -> Answer {
    let topo = &node.served.topology;
    let body = match r {
        InfoRoute::Cut => node_cut_text(topo, node.index).map(String::into_bytes),
        InfoRoute::Config => {
            node_config(topo, node.index).and_then(|v| serde_json::to_vec(&v).ok())
        }
    };
    match body {
        Some(body) => Answer::json(StatusCode::OK, body),
        None => Answer::empty(StatusCode::NOT_FOUND),
    }
}

fn digest(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// Per chain block height of node `i`'s cut.
fn chain_heights(topo: &Topology, i: usize) -> Option<Vec<u64>> {
    let node = topo.nodes.get(i)?;
    let id = node.cert.id;
    let bytes = id.as_bytes();
    // Most nodes are up to date; some lag by up to a few thousand blocks.
    let lag = match bytes[0] % 8 {
        0 => u64::from(u16::from_le_bytes([bytes[1], bytes[2]]) % 5000),
        _ => u64::from(bytes[3] % 3),
    };
    Some(
        (0..topo.network.chains())
            .map(|c| {
                FINAL_CHAIN_HEIGHT + u64::from(bytes[4 + usize::from(c % 20)] % 4)
                    - lag.min(FINAL_CHAIN_HEIGHT)
            })
            .collect(),
    )
}

/// The cut height (sum of the chains' heights) node `i` reports.
pub fn cut_height(topo: &Topology, i: usize) -> Option<u64> {
    chain_heights(topo, i).map(|h| h.iter().sum())
}

/// Node `i`'s cut as a JSON value (keys sorted; see [`node_cut_text`] for the served form).
pub fn node_cut(topo: &Topology, i: usize) -> Option<Value> {
    serde_json::from_str(&node_cut_text(topo, i)?).ok()
}

/// The body of node `i`'s `GET …/cut`, keys in chainweb's order.
pub fn node_cut_text(topo: &Topology, i: usize) -> Option<String> {
    let heights = chain_heights(topo, i)?;
    let id = topo.nodes.get(i)?.cert.id;
    let mut hashes = serde_json::Map::new();
    for (c, h) in heights.iter().enumerate() {
        let hash = digest(&[id.as_bytes(), &c.to_le_bytes(), &h.to_le_bytes()]);
        hashes.insert(
            c.to_string(),
            json!({"height": h, "hash": URL_SAFE_NO_PAD.encode(hash)}),
        );
    }
    let height: u64 = heights.iter().sum();
    let mut weight = [0u8; 32];
    weight[..16].copy_from_slice(&(u128::from(height) * 1_000_003).to_le_bytes());
    let cut_id = digest(&[b"cut", id.as_bytes()]);
    // serde_json's map sorts keys; build the text so that the order is chainweb's.
    let text = format!(
        r#"{{"hashes":{},"origin":null,"weight":{},"height":{},"instance":{},"id":{}}}"#,
        Value::Object(hashes),
        Value::String(URL_SAFE_NO_PAD.encode(weight)),
        height,
        Value::String(topo.network.name().to_string()),
        Value::String(URL_SAFE_NO_PAD.encode(cut_id)),
    );
    Some(text)
}

/// Whether node `i` runs mempool P2P (about nine in ten do).
pub fn mempool_p2p_enabled(topo: &Topology, i: usize) -> bool {
    topo.nodes
        .get(i)
        .is_some_and(|n| n.cert.id.as_bytes()[1] % 10 != 0)
}

/// The body of node `i`'s `GET …/config`: the parts a crawler reads, keys sorted as
/// chainweb's generic JSON object prints them.
pub fn node_config(topo: &Topology, i: usize) -> Option<Value> {
    let node = topo.nodes.get(i)?;
    let peers: Vec<Value> = topo
        .bootstrap_peers()
        .iter()
        .filter(|p| p.address != crate::api::HostAddress::from(node.addr))
        .map(|p| serde_json::to_value(p).unwrap_or(Value::Null))
        .collect();
    Some(json!({
        "chainwebVersion": topo.network.name(),
        "mempoolP2p": {
            "configuration": {"maxSessionCount": 6, "pollInterval": 30, "sessionTimeout": 300},
            "enabled": mempool_p2p_enabled(topo, i),
        },
        "nodeVersion": node.version,
        "p2p": {
            "bootstrapReachability": 0.5,
            "ignoreBootstrapNodes": false,
            "maxPeerCount": 1000,
            "maxSessionCount": 8,
            "peer": {
                "certificateChain": null,
                "certificateChainFile": null,
                "hostaddress": {"hostname": node.addr.ip().to_string(), "port": node.addr.port()},
                "interface": "*",
                "key": null,
                "keyFile": null,
            },
            "peers": peers,
            "private": false,
            "sessionTimeout": 300,
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simnet::SimnetConfig;

    #[test]
    fn routes() {
        let m = NetworkId::Mainnet01;
        assert_eq!(
            route("/chainweb/0.0/mainnet01/cut", m),
            Some(InfoRoute::Cut)
        );
        assert_eq!(
            route("/chainweb/0.0/mainnet01/config", m),
            Some(InfoRoute::Config)
        );
        assert_eq!(route("/chainweb/0.0/testnet04/cut", m), None);
        assert_eq!(route("/chainweb/0.0/mainnet01/cut/", m), None);
    }

    #[test]
    fn cut_is_consistent() {
        let t = Topology::generate(&SimnetConfig {
            nodes: 20,
            subnet: 92,
            ..SimnetConfig::default()
        })
        .unwrap();
        let cut = node_cut(&t, 3).unwrap();
        let text = node_cut_text(&t, 3).unwrap();
        // Top-level keys in chainweb's order (the hashes object comes first).
        assert!(text.starts_with(r#"{"hashes":{"#));
        let tail = &text[text.find(r#"},"origin":"#).unwrap()..];
        let pos: Vec<usize> = [
            "\"origin\"",
            "\"weight\"",
            "\"height\"",
            "\"instance\"",
            "\"id\"",
        ]
        .iter()
        .map(|k| tail.find(k).unwrap())
        .collect();
        assert!(pos.windows(2).all(|w| w[0] < w[1]), "{text}");
        let hashes = cut["hashes"].as_object().unwrap();
        assert_eq!(hashes.len(), 20);
        let sum: u64 = hashes.values().map(|v| v["height"].as_u64().unwrap()).sum();
        assert_eq!(cut["height"].as_u64(), Some(sum));
        assert_eq!(cut_height(&t, 3), Some(sum));
        for v in hashes.values() {
            assert_eq!(v["hash"].as_str().unwrap().len(), 43);
        }
        assert_eq!(cut["instance"], "mainnet01");
        let cfg = node_config(&t, 3).unwrap();
        assert_eq!(
            cfg["p2p"]["peer"]["hostaddress"]["hostname"],
            t.nodes[3].addr.ip().to_string()
        );
        assert_eq!(cfg["chainwebVersion"], "mainnet01");
    }
}
