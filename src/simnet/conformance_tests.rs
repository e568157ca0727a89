//! Conformance of running simnet nodes with chainweb's peer API (spec §2, §3, §5), through a
//! real HTTPS client. Each test uses its own subnet so tests can run in parallel.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::test_client::{bounded, client, config};
use super::*;
use crate::api::{NetworkId, NextItem, Page, PeerNetwork, parse_bootstrap_list};

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

async fn request(c: &reqwest::Client, method: Method, url: &str) -> Answer {
    let resp = c.request(method, url).send().await.expect("request");
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.bytes().await.expect("body");
    Answer {
        status,
        headers,
        body,
    }
}

fn url(addr: &HostAddress, path_and_query: &str) -> String {
    format!("https://{addr}{path_and_query}")
}

/// The headers every answer carries (spec §5).
fn assert_chainweb_headers(h: &HeaderMap, version: &str) {
    let get = |name: &str| {
        h.get(name)
            .unwrap_or_else(|| panic!("missing {name}"))
            .to_str()
            .expect("ascii header")
            .to_string()
    };
    let peer: SocketAddr = get("x-peer-addr").parse().expect("x-peer-addr is ip:port");
    assert!(peer.ip().is_loopback() && peer.port() != 0, "{peer}");
    let ts: u64 = get("x-server-timestamp").parse().expect("whole seconds");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(ts.abs_diff(now) <= 5, "{ts} vs {now}");
    assert_eq!(get("x-chainweb-node-version"), version);
    assert_eq!(get("server"), "Chainweb P2P API");
}

fn version_of<'a>(truth: &'a GroundTruth, addr: &HostAddress) -> &'a str {
    let text = addr.to_string();
    truth
        .nodes
        .iter()
        .find(|n| n.address == text)
        .and_then(|n| n.version.as_deref())
        .expect("live node has a version")
}

fn cut_list<'a>(truth: &'a GroundTruth, addr: &HostAddress) -> &'a [PeerInfo] {
    let text = addr.to_string();
    &truth
        .lists
        .iter()
        .find(|l| l.src == text && l.network == "cut")
        .expect("node has a cut list")
        .items
}

fn parse_page(body: &[u8]) -> (usize, Vec<PeerInfo>, Option<NextItem>) {
    let page = Page::from_json_bytes(body).expect("a page");
    let items = page
        .items
        .iter()
        .map(|v| PeerInfo::from_json(v).expect("valid entry"))
        .collect();
    (page.limit, items, page.next)
}

#[tokio::test]
async fn paging_follows_chainweb() {
    bounded(async {
        let net = Simnet::start(config(101, 120)).await.unwrap();
        let c = client(false);
        let truth = net.truth();
        // A hub: more than one default page.
        let hub = net.bootstrap()[0].address.clone();
        let list = cut_list(truth, &hub).to_vec();
        let len = list.len();
        assert!(len > 64, "hub list has {len} entries");
        let cut = PeerNetwork::Cut.peer_path(NetworkId::Mainnet01);
        let get = |q: String| {
            let c = c.clone();
            let u = url(&hub, &format!("{cut}{q}"));
            async move { request(&c, Method::GET, &u).await }
        };

        // The seed's two-page walk.
        let a = get("?limit=2".into()).await;
        assert_eq!(a.status, StatusCode::OK);
        assert_eq!(
            a.headers.get("content-type").unwrap(),
            "application/json;charset=utf-8"
        );
        assert_chainweb_headers(&a.headers, version_of(truth, &hub));
        assert!(a.body.starts_with(br#"{"limit":2,"items":[{"id":"#));
        assert_eq!(
            parse_page(&a.body),
            (2, list[..2].to_vec(), Some(NextItem::Inclusive(2)))
        );
        let b = get("?limit=2&next=inclusive%3A2".into()).await;
        assert_eq!(
            parse_page(&b.body),
            (2, list[2..4].to_vec(), Some(NextItem::Inclusive(4)))
        );
        let b = get("?next=inclusive:2&limit=2".into()).await;
        assert_eq!(parse_page(&b.body).1, list[2..4].to_vec());

        // Default limit 64.
        let d = get(String::new()).await;
        assert_eq!(
            parse_page(&d.body),
            (64, list[..64].to_vec(), Some(NextItem::Inclusive(64)))
        );
        let d = get("?limit".into()).await;
        assert_eq!(parse_page(&d.body).0, 64);
        // A page that exactly exhausts the list has next null.
        let all = get(format!("?limit={len}")).await;
        assert_eq!(parse_page(&all.body), (len, list.clone(), None));
        let last = get(format!("?next=inclusive:{}", len - 1)).await;
        assert_eq!(parse_page(&last.body), (1, list[len - 1..].to_vec(), None));
        // limit=0: empty page pointing at the same position, if an entry is there.
        let z = get("?limit=0&next=inclusive:3".into()).await;
        assert_eq!(
            &z.body[..],
            br#"{"limit":0,"items":[],"next":"inclusive:3"}"#
        );
        let z = get(format!("?limit=0&next=inclusive:{len}")).await;
        assert_eq!(&z.body[..], br#"{"limit":0,"items":[],"next":null}"#);
        // Past the end, negative: 200 with the empty page.
        for q in [
            format!("?next=inclusive:{}", len + 5),
            "?next=inclusive:-1".into(),
            format!("?next=exclusive:{}", len - 1),
            format!("?next=exclusive:{}", i64::MAX),
        ] {
            let p = get(q.clone()).await;
            assert_eq!(p.status, StatusCode::OK, "{q}");
            assert_eq!(&p.body[..], br#"{"limit":0,"items":[],"next":null}"#, "{q}");
        }
        // exclusive:N starts at N+1.
        let x = get("?next=exclusive:0&limit=3".into()).await;
        assert_eq!(
            parse_page(&x.body),
            (3, list[1..4].to_vec(), Some(NextItem::Inclusive(4)))
        );
        // Mempool lists page the same way.
        let mp = PeerNetwork::Mempool(crate::api::ChainId(19)).peer_path(NetworkId::Mainnet01);
        let m = request(&c, Method::GET, &url(&hub, &format!("{mp}?limit=512"))).await;
        assert_eq!(m.status, StatusCode::OK);
        let want = &truth
            .lists
            .iter()
            .find(|l| l.src == hub.to_string() && l.chain == Some(19))
            .unwrap()
            .items;
        assert_eq!(&parse_page(&m.body).1, want);
        net.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn limit_is_clamped_to_512() {
    bounded(async {
        let net = Simnet::start(config(102, 600)).await.unwrap();
        let c = client(true);
        let truth = net.truth();
        let big = net
            .bootstrap()
            .into_iter()
            .map(|p| p.address)
            .find(|a| cut_list(truth, a).len() > 512)
            .expect("a hub with more than 512 entries");
        let list = cut_list(truth, &big).to_vec();
        let cut = PeerNetwork::Cut.peer_path(NetworkId::Mainnet01);
        for q in [
            "?limit=513",
            "?limit=100000",
            "?limit=99999999999999999999999999",
        ] {
            let a = request(&c, Method::GET, &url(&big, &format!("{cut}{q}"))).await;
            assert_eq!(
                parse_page(&a.body),
                (512, list[..512].to_vec(), Some(NextItem::Inclusive(512))),
                "{q}"
            );
        }
        let a = request(
            &c,
            Method::GET,
            &url(&big, &format!("{cut}?limit=1000&next=inclusive:512")),
        )
        .await;
        assert_eq!(
            parse_page(&a.body),
            (list.len() - 512, list[512..].to_vec(), None)
        );
        net.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn bad_parameters_are_400_with_reason_and_headers() {
    bounded(async {
        let net = Simnet::start(config(103, 20)).await.unwrap();
        let c = client(false);
        let node = net.live_addresses()[3].clone();
        let version = version_of(net.truth(), &node).to_string();
        let cut = PeerNetwork::Cut.peer_path(NetworkId::Mainnet01);
        let cases = [
            ("?limit=abc", "Error parsing query parameter limit failed: could not parse: `abc' (input does not start with a digit)"),
            ("?limit=-1", "Error parsing query parameter limit failed: underflow: -1 (should be a non-negative integer)"),
            ("?limit=5x", "Error parsing query parameter limit failed: could not parse: `5x'"),
            ("?limit=", "Error parsing query parameter limit failed: could not parse: `' (input does not start with a digit)"),
            ("?next=foo", r#"Error parsing query parameter next failed: TextFormatException "missing ':' in next item: \"foo\".""#),
            ("?next=middle:3", r#"Error parsing query parameter next failed: TextFormatException "unrecognized next item: \"middle:3\".""#),
            ("?next=inclusive:x", "Error parsing query parameter next failed: Prelude.read: no parse"),
        ];
        for (q, reason) in cases {
            let a = request(&c, Method::GET, &url(&node, &format!("{cut}{q}"))).await;
            assert_eq!(a.status, StatusCode::BAD_REQUEST, "{q}");
            assert_eq!(String::from_utf8_lossy(&a.body), reason, "{q}");
            assert!(a.headers.get("content-type").is_none(), "{q}");
            assert_chainweb_headers(&a.headers, &version);
        }
        net.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn unknown_routes_are_404_with_headers() {
    bounded(async {
        let net = Simnet::start(config(104, 10)).await.unwrap();
        let c = client(false);
        let node = net.live_addresses()[1].clone();
        let version = version_of(net.truth(), &node).to_string();
        for path in [
            "/",
            "/chainweb/0.0/testnet04/cut/peer",
            "/chainweb/0.0/mainnet01/chain/20/mempool/peer",
            "/chainweb/0.0/mainnet01/chain/01/mempool/peer",
            "/chainweb/0.0/mainnet01/chain/0/peer",
            "/chainweb/0.0/mainnet01/cut/",
            "/chainweb/0.0/testnet04/cut",
            "/info",
        ] {
            let a = request(&c, Method::GET, &url(&node, path)).await;
            assert_eq!(a.status, StatusCode::NOT_FOUND, "{path}");
            assert!(a.body.is_empty(), "{path}");
            assert_chainweb_headers(&a.headers, &version);
        }
        let a = request(
            &c,
            Method::POST,
            &url(&node, "/chainweb/0.0/mainnet01/cut/peer"),
        )
        .await;
        assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED);
        assert_chainweb_headers(&a.headers, &version);
        net.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn head_has_the_headers_and_no_body() {
    bounded(async {
        let net = Simnet::start(config(105, 10)).await.unwrap();
        let c = client(false);
        let node = net.live_addresses()[0].clone();
        let version = version_of(net.truth(), &node).to_string();
        let u = url(&node, &PeerNetwork::Cut.peer_path(NetworkId::Mainnet01));
        let get = request(&c, Method::GET, &u).await;
        let head = request(&c, Method::HEAD, &u).await;
        assert_eq!(head.status, StatusCode::OK);
        assert!(head.body.is_empty());
        assert_chainweb_headers(&head.headers, &version);
        assert_eq!(
            head.headers.get("content-type").unwrap(),
            "application/json;charset=utf-8"
        );
        assert_eq!(
            head.headers
                .get("content-length")
                .unwrap()
                .to_str()
                .unwrap(),
            get.body.len().to_string()
        );
        net.shutdown().await;
    })
    .await;
}

/// Pages through one list with default paging, checking each page's shape.
async fn walk(c: &reqwest::Client, node: &HostAddress, path: &str) -> Vec<PeerInfo> {
    let mut items = Vec::new();
    let mut next: Option<NextItem> = None;
    loop {
        let u = match next {
            None => url(node, path),
            Some(n) => url(node, &format!("{path}?next={n}")),
        };
        let a = request(c, Method::GET, &u).await;
        assert_eq!(a.status, StatusCode::OK, "{u}");
        let (limit, page, n) = parse_page(&a.body);
        assert_eq!(limit, page.len());
        assert!(limit <= 64);
        items.extend(page);
        match n {
            Some(n) => {
                assert_eq!(n, NextItem::Inclusive(items.len() as i64));
                next = Some(n);
            }
            None => return items,
        }
    }
}

#[tokio::test]
async fn walking_every_list_reproduces_the_truth() {
    bounded(async {
        let net = Simnet::start(config(106, 70)).await.unwrap();
        let c = client(true);
        let truth = net.truth().clone();
        let mut served = Vec::new();
        for node in net.live_addresses() {
            for pn in NetworkId::Mainnet01.peer_networks() {
                let items = walk(&c, &node, &pn.peer_path(NetworkId::Mainnet01)).await;
                served.push(TruthList {
                    src: node.to_string(),
                    network: pn.kind().to_string(),
                    chain: pn.chain().map(|ch| ch.0),
                    items,
                });
            }
        }
        assert_eq!(served, truth.lists);
        // The raw JSON of an entry matches the truth's JSON form.
        let first = truth.lists.iter().find(|l| !l.items.is_empty()).unwrap();
        let raw = request(
            &c,
            Method::GET,
            &url(
                &first.src.parse().unwrap(),
                "/chainweb/0.0/mainnet01/cut/peer?limit=1",
            ),
        )
        .await;
        let v: Value = serde_json::from_slice(&raw.body).unwrap();
        assert_eq!(
            v["items"][0],
            serde_json::to_value(&first.items[0]).unwrap()
        );
        net.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn http2_is_negotiated() {
    bounded(async {
        let net = Simnet::start(config(107, 4)).await.unwrap();
        let node = net.live_addresses()[0].clone();
        let u = url(&node, &PeerNetwork::Cut.peer_path(NetworkId::Mainnet01));
        let r = client(true).get(&u).send().await.unwrap();
        assert_eq!(r.version(), reqwest::Version::HTTP_2);
        let r = client(false).get(&u).send().await.unwrap();
        assert_eq!(r.version(), reqwest::Version::HTTP_11);
        net.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn served_certificates_carry_the_advertised_ids() {
    bounded(async {
        for (subnet, key_kind) in [(108, KeyKind::Ed25519), (115, KeyKind::EcdsaP256)] {
            let cfg = SimnetConfig {
                key_kind,
                ..config(subnet, 5)
            };
            let net = Simnet::start(cfg).await.unwrap();
            let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
            let tls = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .dangerous()
                .with_custom_certificate_verifier(std::sync::Arc::new(CaptureAny))
                .with_no_client_auth();
            let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(tls));
            for (i, node) in net.live_addresses().iter().enumerate() {
                let sa = node.socket_addr().unwrap();
                let tcp = tokio::net::TcpStream::connect(sa).await.unwrap();
                let name = rustls::pki_types::ServerName::IpAddress(sa.ip().into());
                let s = connector.connect(name, tcp).await.unwrap();
                let der = s.get_ref().1.peer_certificates().unwrap()[0].clone();
                assert_eq!(
                    Some(crate::api::PeerId::from_certificate_der(&der)),
                    net.truth().nodes[i].id,
                    "{key_kind:?}"
                );
            }
            net.shutdown().await;
        }
    })
    .await;
}

/// Accepts anything, for the certificate check above (handshake signatures unchecked).
#[derive(Debug)]
struct CaptureAny;

impl rustls::client::danger::ServerCertVerifier for CaptureAny {
    fn verify_server_cert(
        &self,
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &[rustls::pki_types::CertificateDer<'_>],
        _: &rustls::pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
    }
    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        rustls::crypto::ring::default_provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[tokio::test]
async fn dead_addresses_refuse_connections() {
    bounded(async {
        let net = Simnet::start(config(109, 30)).await.unwrap();
        let dead: Vec<&TruthNode> = net.truth().nodes.iter().filter(|n| !n.live).collect();
        assert!(!dead.is_empty());
        for d in dead {
            let sa: SocketAddr = d.address.parse().unwrap();
            assert!(tokio::net::TcpStream::connect(sa).await.is_err(), "{sa}");
        }
        net.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn binding_a_used_address_is_a_typed_error() {
    bounded(async {
        let net = Simnet::start(config(110, 3)).await.unwrap();
        match Simnet::start(config(110, 3)).await {
            Err(SimnetError::Bind { addr, .. }) => {
                assert_eq!(addr.to_string(), "127.110.0.1:1789");
            }
            other => panic!("expected a bind error, got {other:?}"),
        }
        net.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn shutdown_ends_open_connections_and_listeners() {
    bounded(async {
        let net = Simnet::start(config(111, 5)).await.unwrap();
        let node = net.live_addresses()[2].clone();
        let c = client(false);
        let u = url(&node, &PeerNetwork::Cut.peer_path(NetworkId::Mainnet01));
        // Leave a keep-alive connection open, and a raw TCP connection mid-handshake.
        assert_eq!(c.get(&u).send().await.unwrap().status(), StatusCode::OK);
        let _raw = tokio::net::TcpStream::connect(node.socket_addr().unwrap())
            .await
            .unwrap();
        assert_eq!(net.running_tasks(), 5);
        tokio::time::timeout(Duration::from_secs(5), net.shutdown())
            .await
            .expect("shutdown is prompt");
        assert!(
            tokio::net::TcpStream::connect(node.socket_addr().unwrap())
                .await
                .is_err()
        );
    })
    .await;
}

#[tokio::test]
async fn dropping_the_simnet_stops_it() {
    bounded(async {
        let net = Simnet::start(config(112, 3)).await.unwrap();
        let sa = net.live_addresses()[0].socket_addr().unwrap();
        drop(net);
        let mut closed = false;
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(sa).await.is_err() {
                closed = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(closed, "listener still open after drop");
    })
    .await;
}

#[tokio::test]
async fn stuck_client_is_cut_off_at_the_deadline() {
    bounded(async {
        let mut cfg = config(113, 2);
        cfg.connection_deadline = Duration::from_millis(300);
        let net = Simnet::start(cfg).await.unwrap();
        let sa = net.live_addresses()[0].socket_addr().unwrap();
        let mut raw = tokio::net::TcpStream::connect(sa).await.unwrap();
        let mut buf = [0u8; 16];
        let n = tokio::time::timeout(
            Duration::from_secs(3),
            tokio::io::AsyncReadExt::read(&mut raw, &mut buf),
        )
        .await
        .expect("server closed the stuck connection");
        assert!(matches!(n, Ok(0) | Err(_)));
        net.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn bootstrap_file_parses_back() {
    bounded(async {
        let net = Simnet::start(config(114, 160)).await.unwrap();
        let dir = std::env::temp_dir().join(format!("simnet-bootstrap-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bootstrap.txt");
        net.write_bootstrap_file(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with('#'));
        assert_eq!(parse_bootstrap_list(&text).unwrap(), net.bootstrap());
        assert_eq!(net.bootstrap().len(), 3);
        assert!(net.bootstrap().iter().all(|p| p.id.is_some()));
        std::fs::remove_dir_all(&dir).unwrap();
        net.shutdown().await;
    })
    .await;
}

/// Start-up and shutdown timings of a large simnet: `SIMNET_NODES=10000 cargo test --lib
/// large_simnet_timing -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "timing run, not a check"]
async fn large_simnet_timing() {
    let nodes = std::env::var("SIMNET_NODES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let t0 = std::time::Instant::now();
    let net = Simnet::start(config(120, nodes)).await.unwrap();
    let started = t0.elapsed();
    let lists = net.truth().lists.len();
    let entries: usize = net.truth().lists.iter().map(|l| l.items.len()).sum();
    let expected = net.truth().expected();
    let c = client(false);
    let node = net.live_addresses()[nodes - 1].clone();
    let a = request(
        &c,
        Method::GET,
        &url(&node, "/chainweb/0.0/mainnet01/cut/peer"),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    let t1 = std::time::Instant::now();
    net.shutdown().await;
    println!(
        "{nodes} nodes: start {started:?}, shutdown {:?}; {lists} lists, {entries} entries, \
         expected crawl {} nodes / {} edges",
        t1.elapsed(),
        expected.nodes.len(),
        expected.edges.len()
    );
}
