//! Conformance of simnet with chainweb's `PUT …/peer` (spec §4), the node-info routes
//! (spec §9, §10) and the listing rules of spec §2 that need a running node: failed
//! entries unlisted, each node's own stable order, HEAD everywhere GET is served. Subnets
//! 160–175 belong to this module.

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::test_client::{bounded, client, config};
use super::*;
use crate::api::{ChainId, NetworkId, Page, PeerNetwork};

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

async fn send(req: reqwest::RequestBuilder) -> Answer {
    let resp = req.send().await.expect("request");
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.text().await.expect("body");
    Answer {
        status,
        headers,
        body,
    }
}

fn path(net: PeerNetwork) -> String {
    net.peer_path(NetworkId::Mainnet01)
}

async fn put(c: &reqwest::Client, node: &HostAddress, net: PeerNetwork, body: Value) -> Answer {
    send(
        c.put(format!("{}{}", node.origin(), path(net)))
            .header("content-type", "application/json")
            .body(body.to_string()),
    )
    .await
}

async fn get_list(c: &reqwest::Client, node: &HostAddress, net: PeerNetwork) -> Vec<PeerInfo> {
    let a = send(c.get(format!("{}{}?limit=512", node.origin(), path(net)))).await;
    assert_eq!(a.status, StatusCode::OK);
    let page = Page::<Value>::from_json_bytes(a.body.as_bytes()).expect("page");
    assert!(page.next.is_none(), "test lists fit one page");
    page.items
        .iter()
        .map(|v| PeerInfo::from_json(v).expect("entry"))
        .collect()
}

fn entry(p: &PeerInfo) -> Value {
    serde_json::to_value(p).expect("json")
}

fn version_of(net: &Simnet, i: usize) -> &'static str {
    net.topology().nodes[i].version
}

fn major(v: &str) -> u32 {
    v.split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0)
}

/// Node `a` and a live node `b` that `a` does not know, with a version `a` accepts.
fn unknown_pair(net: &Simnet) -> (usize, usize) {
    let t = net.topology();
    for a in 0..t.nodes.len() {
        let known: Vec<u32> = t.nodes[a].db.iter().map(|e| e.entry).collect();
        for b in 0..t.nodes.len() {
            let ok = major(version_of(net, a)) < 3 || major(version_of(net, b)) >= 3;
            if b != a && ok && !known.contains(&(b as u32)) {
                return (a, b);
            }
        }
    }
    panic!("no unknown pair");
}

fn assert_x_headers(h: &HeaderMap, version: &str) {
    assert_eq!(h.get("x-chainweb-node-version").unwrap(), version);
    assert!(h.get("x-server-timestamp").is_some());
    assert!(h.get("x-peer-addr").is_some());
    assert_eq!(h.get("server").unwrap(), "Chainweb P2P API");
}

#[tokio::test]
async fn put_of_a_live_peer_is_204_and_then_listed() {
    bounded(async {
        let net = Simnet::start(config(160, 40)).await.unwrap();
        let c = client(false);
        let (a, b) = unknown_pair(&net);
        let live = net.live_addresses();
        let peer = &net.topology().entries[b];
        let mut changes = net.changes();
        let before = get_list(&c, &live[a], PeerNetwork::Cut).await;
        assert!(!before.contains(peer));

        let r = put(&c, &live[a], PeerNetwork::Cut, entry(peer)).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
        assert!(r.body.is_empty());
        assert_eq!(
            r.headers.get("content-type").unwrap(),
            "application/json;charset=utf-8"
        );
        assert_x_headers(&r.headers, version_of(&net, a));
        assert!(changes.has_changed().unwrap());
        changes.mark_unchanged();

        let after = get_list(&c, &live[a], PeerNetwork::Cut).await;
        assert_eq!(after.len(), before.len() + 1);
        assert!(after.contains(peer));
        // Only the cut network learned it.
        let mp = get_list(&c, &live[a], PeerNetwork::Mempool(ChainId(0))).await;
        assert!(!mp.contains(peer));
        // The others keep their relative order (the new entry got one random mark).
        let without: Vec<&PeerInfo> = after.iter().filter(|p| *p != peer).collect();
        assert_eq!(without, before.iter().collect::<Vec<_>>());

        // Ground truth follows the change, and still equals what is served.
        let truth = net.current_truth();
        let cut = truth
            .lists
            .iter()
            .find(|l| l.src == live[a].to_string() && l.network == "cut")
            .unwrap();
        assert_eq!(cut.items, after);
        assert_ne!(&truth, net.truth());

        // Announcing it again changes nothing and is 204 at once.
        let r = put(&c, &live[a], PeerNetwork::Cut, entry(peer)).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        assert!(!changes.has_changed().unwrap());
        assert_eq!(get_list(&c, &live[a], PeerNetwork::Cut).await, after);
        net.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn put_rejections_are_400_with_chainweb_reasons() {
    bounded(async {
        let net = Simnet::start(config(161, 30)).await.unwrap();
        let c = client(true);
        let live = net.live_addresses();
        let node = &live[2];
        let version = version_of(&net, 2);
        let body_of = |host: &str| json!({"id": null, "address": {"hostname": host, "port": 1789}});
        let cases = [
            (
                entry(&net.topology().entries[2]),
                "Invalid hostaddress: IsLocalPeerAddress".to_string(),
            ),
            (
                body_of("10.1.2.3"),
                "Invalid hostaddress: IsReservedHostAddress".to_string(),
            ),
            (
                body_of("localhost"),
                "Invalid hostaddress: IsReservedHostAddress".to_string(),
            ),
            (
                body_of("203.0.113.9"),
                "Invalid hostaddress: IsReservedHostAddress".to_string(),
            ),
            // Public and DNS: simnet never dials them.
            (
                body_of("8.8.8.8"),
                r#"Invalid hostaddress: IsNotReachable "HostCannotConnect \"8.8.8.8\" [simnet dials only loopback addresses]""#.to_string(),
            ),
            (
                body_of("node.example.org"),
                r#"Invalid hostaddress: IsNotReachable "HostCannotConnect \"node.example.org\" [simnet dials only loopback addresses]""#.to_string(),
            ),
        ];
        for (body, want) in cases {
            let r = put(&c, node, PeerNetwork::Cut, body.clone()).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
            assert_eq!(r.body, want, "{body}");
            assert_eq!(
                r.headers.get("content-type").unwrap(),
                "text/plain;charset=utf-8"
            );
            assert_x_headers(&r.headers, version);
        }
        // Nothing listens there: the callback's connection fails.
        let r = put(&c, node, PeerNetwork::Cut, body_of("127.161.250.250")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(
            r.body
                .starts_with(r#"Invalid hostaddress: IsNotReachable "ConnectionFailure "#),
            "{}",
            r.body
        );
        // Not a PeerInfo: servant's 400 without content type.
        for bad in [json!({"id": null}), json!([1]), json!({"id": null, "address": {"hostname": "a_b", "port": 1}})] {
            let r = put(&c, node, PeerNetwork::Cut, bad.clone()).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
            assert!(r.body.starts_with("Error in $"), "{}", r.body);
            assert!(r.headers.get("content-type").is_none());
            assert_x_headers(&r.headers, version);
        }
        let u = format!("{}{}", node.origin(), path(PeerNetwork::Cut));
        // Not JSON: 415; JSON not accepted: 406.
        let r = send(c.put(&u).header("content-type", "text/plain").body("{}")).await;
        assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_x_headers(&r.headers, version);
        let r = send(
            c.put(&u)
                .header("content-type", "application/json")
                .header("accept", "text/html")
                .body(body_of("127.0.0.9").to_string()),
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_ACCEPTABLE);
        // Over 2 MiB: 413 before anything else, without chainweb's headers.
        let big = vec![b' '; put::MAX_BODY + 1];
        let r = send(c.put(&u).header("content-type", "text/plain").body(big)).await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(r.headers.get("x-chainweb-node-version").is_none());
        // Nothing was added by any of these.
        assert_eq!(&net.current_truth(), net.truth());
        net.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn callback_uses_the_same_network_path_and_checks_versions() {
    bounded(async {
        let main = Simnet::start(config(162, 30)).await.unwrap();
        let other = Simnet::start(SimnetConfig {
            network: NetworkId::Testnet04,
            ..config(163, 3)
        })
        .await
        .unwrap();
        let c = client(false);
        let live = main.live_addresses();
        // A testnet04 node answers 404 on mainnet01's path.
        let stranger = entry(&PeerInfo::new(None, other.live_addresses()[0].clone()));
        let r = put(&c, &live[0], PeerNetwork::Mempool(ChainId(4)), stranger).await;
        assert_eq!(
            r.body,
            r#"Invalid hostaddress: IsNotReachable "Error status code: 404""#
        );
        // A 3.x node refuses a 2.x newcomer; a 2.x node takes a 3.x one.
        let t = main.topology();
        let is3 = |i: usize| major(t.nodes[i].version) >= 3;
        let known = |a: usize, b: usize| t.nodes[a].db.iter().any(|e| e.entry == b as u32);
        let pair = (0..t.nodes.len())
            .flat_map(|a| (0..t.nodes.len()).map(move |b| (a, b)))
            .find(|&(a, b)| is3(a) && !is3(b) && !known(a, b))
            .expect("a 3.x node that does not know a 2.x node");
        let (a, b) = pair;
        let r = put(&c, &live[a], PeerNetwork::Cut, entry(&t.entries[b])).await;
        let v = t.nodes[b].version.replace('.', ",");
        assert_eq!(
            r.body,
            format!(
                "Invalid hostaddress: NodeVersionNotAccepted (NodeVersion {{_getNodeVersion = [{v}]}})"
            )
        );
        main.shutdown().await;
        other.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn known_address_with_another_id_replaces_the_entry() {
    bounded(async {
        let net = Simnet::start(config(164, 40)).await.unwrap();
        let c = client(false);
        let live = net.live_addresses();
        let t = net.topology();
        // A node whose cut list holds a live node that is also on a mempool list.
        let (a, known) = (0..t.nodes.len())
            .find_map(|a| {
                let lists = &t.nodes[a].lists;
                lists[0]
                    .iter()
                    .find(|e| {
                        (**e as usize) < t.nodes.len() && lists[1..].iter().any(|l| l.contains(e))
                    })
                    .map(|&e| (a, e as usize))
            })
            .expect("an entry on two networks");
        let old = t.entries[known].clone();
        let renamed = PeerInfo::new(
            Some(crate::api::PeerId::from_bytes([9; 32])),
            old.address.clone(),
        );
        // The callback is skipped: the address is known (the id is not checked).
        let r = put(&c, &live[a], PeerNetwork::Cut, entry(&renamed)).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
        let cut = get_list(&c, &live[a], PeerNetwork::Cut).await;
        assert!(cut.contains(&renamed) && !cut.contains(&old));
        // Replacing drops the other networks.
        for chain in NetworkId::Mainnet01.chain_ids() {
            let l = get_list(&c, &live[a], PeerNetwork::Mempool(chain)).await;
            assert!(
                l.iter().all(|p| p.address != old.address),
                "chain {chain:?}"
            );
        }
        let truth = net.current_truth();
        let listed = truth
            .lists
            .iter()
            .find(|l| l.src == live[a].to_string() && l.network == "cut")
            .unwrap();
        assert_eq!(listed.items, cut);
        // The same address is still one node of the truth.
        let addr = old.address.to_string();
        assert_eq!(truth.nodes.iter().filter(|n| n.address == addr).count(), 1);
        net.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn failed_entries_are_never_listed_and_orders_are_per_node() {
    bounded(async {
        let net = Simnet::start(config(165, 60)).await.unwrap();
        let c = client(true);
        let t = net.topology();
        let live = net.live_addresses();
        let mut failed_seen = 0;
        for (i, node) in t.nodes.iter().enumerate() {
            let failed: Vec<&PeerInfo> = node
                .db
                .iter()
                .filter(|e| e.failures > 0)
                .map(|e| &t.entries[e.entry as usize])
                .collect();
            if failed.is_empty() {
                continue;
            }
            failed_seen += failed.len();
            for pn in [PeerNetwork::Cut, PeerNetwork::Mempool(ChainId(3))] {
                let served = get_list(&c, &live[i], pn).await;
                assert!(served.iter().all(|p| !failed.contains(&p)), "node {i}");
            }
        }
        assert!(failed_seen > 5, "{failed_seen}");

        // Stable: the same page twice. Random per node: two nodes that share entries list
        // some pair of them in opposite orders; no list is sorted by address.
        let hubs: Vec<HostAddress> = net.bootstrap().into_iter().map(|p| p.address).collect();
        let a = get_list(&c, &hubs[0], PeerNetwork::Cut).await;
        assert_eq!(a, get_list(&c, &hubs[0], PeerNetwork::Cut).await);
        let b = get_list(&c, &hubs[1], PeerNetwork::Cut).await;
        let common: Vec<&PeerInfo> = a.iter().filter(|p| b.contains(p)).collect();
        let in_b: Vec<usize> = common
            .iter()
            .map(|p| b.iter().position(|q| q == *p).unwrap())
            .collect();
        assert!(common.len() > 10);
        assert!(
            in_b.windows(2).any(|w| w[0] > w[1]),
            "same order on two nodes"
        );
        let mut sorted = a.clone();
        sorted.sort_by_key(|p| p.address.clone());
        assert_ne!(sorted, a);
        net.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn cut_and_config_are_served_with_head() {
    bounded(async {
        let net = Simnet::start(config(166, 8)).await.unwrap();
        let c = client(false);
        let live = net.live_addresses();
        let t = net.topology();
        for (i, node) in live.iter().enumerate().take(3) {
            let base = format!("{}/chainweb/0.0/mainnet01", node.origin());
            let cut = send(c.get(format!("{base}/cut"))).await;
            assert_eq!(cut.status, StatusCode::OK);
            assert_x_headers(&cut.headers, t.nodes[i].version);
            assert!(cut.body.starts_with(r#"{"hashes":{"#), "{}", cut.body);
            let v: Value = serde_json::from_str(&cut.body).unwrap();
            assert_eq!(v["height"].as_u64(), info::cut_height(&t, i));
            assert_eq!(v["origin"], Value::Null);
            assert_eq!(v["instance"], "mainnet01");
            let cfg = send(c.get(format!("{base}/config"))).await;
            let v: Value = serde_json::from_str(&cfg.body).unwrap();
            assert_eq!(v["chainwebVersion"], "mainnet01");
            assert_eq!(
                v["p2p"]["peer"]["hostaddress"],
                json!({"hostname": node.hostname.to_string(), "port": node.port})
            );
            assert_eq!(
                v["mempoolP2p"]["enabled"].as_bool(),
                Some(info::mempool_p2p_enabled(&t, i))
            );
            // HEAD on every GET route: headers, no body.
            for p in [
                "/cut".to_string(),
                "/config".to_string(),
                "/cut/peer".to_string(),
                "/chain/7/mempool/peer".to_string(),
            ] {
                let h = send(c.request(Method::HEAD, format!("{base}{p}"))).await;
                assert_eq!(h.status, StatusCode::OK, "{p}");
                assert!(h.body.is_empty());
                assert_x_headers(&h.headers, t.nodes[i].version);
            }
            // Only GET and HEAD.
            let r = send(c.post(format!("{base}/cut"))).await;
            assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
        }
        net.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn development_skips_the_reserved_check_but_never_dials_out() {
    bounded(async {
        let net = Simnet::start(SimnetConfig {
            network: NetworkId::Development,
            ..config(167, 3)
        })
        .await
        .unwrap();
        let c = client(false);
        let node = &net.live_addresses()[0];
        let u = format!(
            "{}{}",
            node.origin(),
            PeerNetwork::Cut.peer_path(NetworkId::Development)
        );
        let r = send(
            c.put(&u)
                .header("content-type", "application/json;charset=utf-8")
                .body(json!({"id": null, "address": {"hostname": "10.1.2.3", "port": 1789}}).to_string()),
        )
        .await;
        assert_eq!(
            r.body,
            r#"Invalid hostaddress: IsNotReachable "HostCannotConnect \"10.1.2.3\" [simnet dials only loopback addresses]""#
        );
        net.shutdown().await;
    })
    .await;
}
