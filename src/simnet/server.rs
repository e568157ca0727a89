//! The HTTPS server of one simulated node: chainweb's peer routes, paging and headers.
//!
//! Each live node runs [`run`] on its own bound listener, with its own certificate. It serves
//! `GET` and `HEAD` of `/chainweb/0.0/{network}/cut/peer` and
//! `/chainweb/0.0/{network}/chain/{c}/mempool/peer` exactly as spec §2 describes, `PUT` on
//! both ([`super::put`]), `GET` of `cut` and `config` ([`super::info`]), and adds the headers
//! of spec §5 to every response, errors included (except 413, as chainweb).
//!
//! # Tasks and shutdown
//! One task per listener and one per connection (kept in the listener's `JoinSet`). Every
//! loop also waits for the shutdown signal; on shutdown the listener stops accepting, asks
//! each connection to finish gracefully, waits at most [`GRACE`] for it, and returns only
//! when every connection task has ended. A connection also ends at its deadline, so a stuck
//! client cannot pin a task. Panics of connection tasks are passed on to whoever awaits the
//! listener task. (HTTP/2 streams run on hyper's executor as short-lived tasks that end
//! with their connection.)
//!
//! # Performance
//! Pages are assembled from JSON bytes serialized once per address at start; a request
//! copies only the bytes of the entries it returns.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::BodyExt;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderValue, SERVER};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use super::peerdb::LiveState;
use super::topology::Topology;
use super::{info, put};
use crate::api::page::parse_limit;
use crate::api::{API_PREFIX, ChainId, NetworkId, NextItem, PeerNetwork, headers};
use crate::api::{DEFAULT_LIMIT, MAX_LIMIT};

/// How long a TLS handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a connection may take to finish after it was asked to stop.
pub const GRACE: Duration = Duration::from_secs(1);
/// Most connections one node serves at once; further clients wait in the accept queue.
const MAX_CONNECTIONS: usize = 256;
/// The content type servant gives JSON answers.
pub const JSON_CONTENT_TYPE: &str = "application/json;charset=utf-8";

/// What every node of one simnet serves, shared by all of them.
#[derive(Debug)]
pub struct Served {
    /// The network, lists and versions as generated.
    pub topology: Topology,
    /// The JSON of every entry of [`Topology::entries`], serialized once.
    pub entry_json: Vec<Bytes>,
    /// Live node address → its index in `topology.nodes`.
    pub index_of: HashMap<SocketAddr, usize>,
    /// What `PUT` changed since start (a churn step starts afresh).
    pub state: LiveState,
    /// The client of `PUT`'s reachability callback, built on first use.
    pub callback: std::sync::OnceLock<Option<reqwest::Client>>,
}

impl Served {
    /// Serializes every entry once.
    ///
    /// # Errors
    /// Only if serde_json fails on a `PeerInfo`, which cannot happen for valid entries.
    pub fn new(topology: Topology) -> Result<Served, serde_json::Error> {
        let entry_json = topology
            .entries
            .iter()
            .map(|e| serde_json::to_vec(e).map(Bytes::from))
            .collect::<Result<_, _>>()?;
        let state = LiveState::new(topology.nodes.len(), &topology.entries);
        let index_of = topology
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.addr, i))
            .collect();
        Ok(Served {
            topology,
            entry_json,
            index_of,
            state,
            callback: std::sync::OnceLock::new(),
        })
    }
}

/// What a whole simnet serves now; a churn step replaces it at once for every node.
pub type SharedServed = Arc<RwLock<Arc<Served>>>;

/// One node as its listener knows it: by address, since a churn step may move it to
/// another index (or remove it).
#[derive(Clone, Debug)]
pub struct NodeHandle {
    /// Everything served.
    pub served: SharedServed,
    /// Where this node listens.
    pub addr: SocketAddr,
    /// How long it waits before each answer (injected latency; zero by default).
    pub delay: Duration,
    /// Requests being answered by the whole simnet.
    pub gauge: Arc<super::gauge::NetworkGauge>,
    /// Requests being answered by this node.
    pub node_gauge: Arc<super::gauge::NodeGauge>,
}

/// One node as one request sees it: a snapshot of what is served and the node's place in it.
#[derive(Clone, Debug)]
pub struct NodeView {
    /// Everything served, as of the request.
    pub served: Arc<Served>,
    /// Which node of `served.topology.nodes` this is.
    pub index: usize,
}

impl NodeHandle {
    /// The node as of now; `None` once a churn step has removed it.
    pub fn view(&self) -> Option<NodeView> {
        let served = self
            .served
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let index = served.index_of.get(&self.addr).copied()?;
        Some(NodeView { served, index })
    }
}

/// Waits until the shutdown flag is set or its sender is gone.
pub async fn wait_shutdown(rx: &mut watch::Receiver<bool>) {
    // An error means the sender was dropped: the simnet is gone, so stop too.
    let _ = rx.wait_for(|stop| *stop).await;
}

/// Re-raises the panic of a finished task, if it panicked.
fn pass_on_panic(res: Result<(), tokio::task::JoinError>) {
    if let Err(e) = res
        && e.is_panic()
    {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// Serves one node on `listener` until `shutdown` fires; returns when all its connection
/// tasks have ended.
pub async fn run(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    node: NodeHandle,
    mut shutdown: watch::Receiver<bool>,
    deadline: Duration,
) {
    let mut conns = JoinSet::new();
    let limit = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        while let Some(res) = conns.try_join_next() {
            pass_on_panic(res);
        }
        // Take a permit before accepting, so a full node leaves clients in the backlog.
        let permit = tokio::select! {
            p = limit.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = wait_shutdown(&mut shutdown) => break,
        };
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(_) => {
                    // Out of file descriptors or a connection reset before accept: let
                    // the machine breathe, then go on.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            () = wait_shutdown(&mut shutdown) => break,
        };
        conns.spawn(serve_connection(
            stream,
            peer,
            acceptor.clone(),
            node.clone(),
            shutdown.clone(),
            deadline,
            permit,
        ));
    }
    drop(listener);
    while let Some(res) = conns.join_next().await {
        pass_on_panic(res);
    }
}

/// Serves one client connection until it closes, its deadline passes or shutdown.
async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    acceptor: TlsAcceptor,
    node: NodeHandle,
    mut shutdown: watch::Receiver<bool>,
    deadline: Duration,
    _permit: OwnedSemaphorePermit,
) {
    let until = tokio::time::Instant::now() + deadline;
    let tls = tokio::select! {
        r = tokio::time::timeout(HANDSHAKE_TIMEOUT.min(deadline), acceptor.accept(stream)) => match r {
            Ok(Ok(tls)) => tls,
            // A failed or slow handshake is the client's problem; nothing to log in a simulator.
            _ => return,
        },
        () = wait_shutdown(&mut shutdown) => return,
    };
    let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
        let delay = node.delay;
        let in_progress = super::gauge::enter(&node.gauge, &node.node_gauge);
        let node = node.view();
        async move {
            let _in_progress = in_progress;
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            let resp = match node {
                // The hostile profile's hook: well-behaved nodes are answered by `handle`.
                Some(node) if node.served.topology.faults.get(node.index).is_some() => {
                    super::hostile::respond(&node, peer, &req).await
                }
                Some(node) => handle(node, peer, req).await.map(BodyExt::boxed),
                // Removed by a churn step while the connection was open.
                None => {
                    let mut r = Response::new(Full::new(Bytes::new()).boxed());
                    *r.status_mut() = StatusCode::NOT_FOUND;
                    r
                }
            };
            Ok::<_, Infallible>(resp)
        }
    });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new());
    builder.http2().timer(TokioTimer::new());
    let conn = builder.serve_connection(TokioIo::new(tls), svc);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => return,
        () = wait_shutdown(&mut shutdown) => {}
        () = tokio::time::sleep_until(until) => {}
    }
    conn.as_mut().graceful_shutdown();
    let _ = tokio::time::timeout(GRACE, conn).await;
}

/// The peer network a path names on this node, or `None` (404).
pub(crate) fn route(path: &str, network: NetworkId) -> Option<PeerNetwork> {
    let rest = path.strip_prefix(API_PREFIX)?.strip_prefix('/')?;
    let (net, rest) = rest.split_once('/')?;
    if net != network.name() {
        return None;
    }
    if rest == "cut/peer" {
        return Some(PeerNetwork::Cut);
    }
    let (chain, rest) = rest.strip_prefix("chain/")?.split_once('/')?;
    if rest != "mempool/peer" {
        return None;
    }
    let chain: ChainId = chain.parse().ok()?;
    network
        .has_chain(chain)
        .then_some(PeerNetwork::Mempool(chain))
}

/// Decodes `%XX` escapes and `+` (as a space), as WAI does for query strings.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The first occurrence of query parameter `name`: `None` if absent, `Some(None)` for a bare
/// `?name` (which servant treats as absent), `Some(Some(v))` for `name=v`.
fn query_param(query: Option<&str>, name: &str) -> Option<Option<String>> {
    query?.split('&').find_map(|pair| {
        let (k, v) = match pair.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (pair, None),
        };
        (percent_decode(k) == name).then(|| v.map(percent_decode))
    })
}

/// Parses `next` as chainweb does, with the message servant puts in its 400 answer.
///
/// chainweb splits at the first colon and checks the prefix before reading the position, so
/// a bare `inclusive` fails on the position, not on the colon. The messages follow Haskell's
/// `show` of the exception (the exact escaping is not confirmed by a run, see spec §2).
fn parse_next(s: &str) -> Result<NextItem, String> {
    let (kind, pos) = match s.split_once(':') {
        Some((k, p)) => (k, Some(p)),
        None => (s, None),
    };
    let make: fn(i64) -> NextItem = match kind {
        "inclusive" => NextItem::Inclusive,
        "exclusive" => NextItem::Exclusive,
        _ => {
            let msg = if pos.is_none() {
                format!("missing ':' in next item: \"{s}\".")
            } else {
                format!("unrecognized next item: \"{s}\".")
            };
            return Err(format!("TextFormatException {msg:?}"));
        }
    };
    let pos = pos.unwrap_or("").trim();
    if pos.starts_with('+') {
        return Err("Prelude.read: no parse".to_string());
    }
    pos.parse::<i64>()
        .map(make)
        .map_err(|_| "Prelude.read: no parse".to_string())
}

/// The JSON body of the page of `list` starting at `start`, at most `limit` items, built
/// from pre-serialized entries. Same bytes as serializing an [`crate::api::Page`].
pub fn page_body(entry_json: &[Bytes], list: &[u32], start: i64, limit: usize) -> Vec<u8> {
    page_body_by(|e| entry_json.get(e as usize), list, start, limit)
}

/// [`page_body`] with entries looked up by `entry` (an unknown index is left out).
fn page_body_by<'a>(
    entry: impl Fn(u32) -> Option<&'a Bytes>,
    list: &[u32],
    start: i64,
    limit: usize,
) -> Vec<u8> {
    let len = list.len();
    let start = match usize::try_from(start) {
        Ok(s) if s < len => s,
        // Negative or past the end: chainweb's seek finds nothing.
        _ => return br#"{"limit":0,"items":[],"next":null}"#.to_vec(),
    };
    let end = start.saturating_add(limit).min(len);
    let items: Vec<&Bytes> = list[start..end].iter().filter_map(|&e| entry(e)).collect();
    let size: usize = items.iter().map(|b| b.len() + 1).sum();
    let mut body = Vec::with_capacity(size + 64);
    body.extend_from_slice(format!("{{\"limit\":{},\"items\":[", items.len()).as_bytes());
    for (k, json) in items.iter().enumerate() {
        if k > 0 {
            body.push(b',');
        }
        body.extend_from_slice(json);
    }
    body.extend_from_slice(b"],\"next\":");
    if end < len {
        body.extend_from_slice(format!("\"inclusive:{end}\"").as_bytes());
    } else {
        body.extend_from_slice(b"null");
    }
    body.push(b'}');
    body
}

/// One answer before the common headers are added.
#[derive(Debug)]
pub struct Answer {
    /// The status.
    pub status: StatusCode,
    /// The body (dropped for `HEAD`).
    pub body: Vec<u8>,
    /// The `Content-Type`, if servant would set one.
    pub content_type: Option<&'static str>,
    /// Whether chainweb's middlewares add the `x-` headers (not to 413s, spec §5).
    pub chainweb_headers: bool,
}

impl Answer {
    /// An answer with chainweb's headers.
    pub fn new(status: StatusCode, body: Vec<u8>, content_type: Option<&'static str>) -> Answer {
        Answer {
            status,
            body,
            content_type,
            chainweb_headers: true,
        }
    }

    /// A JSON answer (servant's content type).
    pub fn json(status: StatusCode, body: Vec<u8>) -> Answer {
        Answer::new(status, body, Some(JSON_CONTENT_TYPE))
    }

    /// An empty answer without content type.
    pub fn empty(status: StatusCode) -> Answer {
        Answer::new(status, Vec::new(), None)
    }
}

/// The page a node serves for `net` now (after any `PUT`).
fn serve_page(node: &NodeView, net: PeerNetwork, start: i64, limit: usize) -> Vec<u8> {
    let served = &node.served;
    let Some(changed) = served.state.node(node.index) else {
        let list = served.topology.list(node.index, net).unwrap_or(&[]);
        return page_body(&served.entry_json, list, start, limit);
    };
    let list = changed
        .lists
        .get(Topology::list_index(net))
        .map_or(&[][..], Vec::as_slice);
    let base = served.entry_json.len();
    let extra = served.state.extra.read().unwrap_or_else(|e| e.into_inner());
    page_body_by(
        |e| {
            let e = e as usize;
            served
                .entry_json
                .get(e)
                .or_else(|| extra.json.get(e.wrapping_sub(base)))
        },
        list,
        start,
        limit,
    )
}

/// The answer to every request but a `PUT` of a peer list (which needs the body).
fn answer_sync(node: &NodeView, method: &Method, path: &str, query: Option<&str>) -> Answer {
    let topo = &node.served.topology;
    let is_get = method == Method::HEAD || method == Method::GET;
    if let Some(net) = route(path, topo.network) {
        if !is_get {
            return Answer::empty(StatusCode::METHOD_NOT_ALLOWED);
        }
        match page_request(query) {
            Err(reason) => Answer::new(StatusCode::BAD_REQUEST, reason.into_bytes(), None),
            Ok((start, limit)) => Answer::json(StatusCode::OK, serve_page(node, net, start, limit)),
        }
    } else if let Some(r) = info::route(path, topo.network) {
        if is_get {
            info::answer(node, r)
        } else {
            Answer::empty(StatusCode::METHOD_NOT_ALLOWED)
        }
    } else {
        Answer::empty(StatusCode::NOT_FOUND)
    }
}

fn version_of(node: &NodeView) -> &'static str {
    node.served
        .topology
        .nodes
        .get(node.index)
        .map_or("", |n| n.version)
}

/// Answers a request without reading its body: what the hostile profile's faulty nodes
/// serve when their fault leaves a request alone.
pub(crate) fn handle_sync<B>(
    node: &NodeView,
    peer: SocketAddr,
    req: &Request<B>,
) -> Response<Full<Bytes>> {
    let answer = answer_sync(node, req.method(), req.uri().path(), req.uri().query());
    respond(answer, peer, version_of(node), req.method() == Method::HEAD)
}

/// Answers one request (never fails: errors are HTTP answers).
async fn handle(node: NodeView, peer: SocketAddr, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let is_head = req.method() == Method::HEAD;
    let answer = match route(req.uri().path(), node.served.topology.network) {
        Some(net) if req.method() == Method::PUT => put::put_peer(&node, net, req).await,
        _ => answer_sync(&node, req.method(), req.uri().path(), req.uri().query()),
    };
    respond(answer, peer, version_of(&node), is_head)
}

/// Adds chainweb's and warp's headers to an answer.
fn respond(a: Answer, peer: SocketAddr, version: &str, is_head: bool) -> Response<Full<Bytes>> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut builder = Response::builder().status(a.status);
    if a.chainweb_headers {
        builder = builder
            .header(headers::SERVER_TIMESTAMP, now)
            .header(headers::PEER_ADDR, peer.to_string())
            .header(headers::NODE_VERSION, version);
    }
    if let Some(ct) = a.content_type {
        builder = builder.header(CONTENT_TYPE, HeaderValue::from_static(ct));
    }
    builder = builder
        .header(CONTENT_LENGTH, a.body.len())
        .header(SERVER, HeaderValue::from_static(headers::SERVER_NAME));
    let body = if is_head {
        Bytes::new()
    } else {
        Bytes::from(a.body)
    };
    builder
        .body(Full::new(body))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

/// The start position and item limit of a page request, or the 400 reason.
pub(crate) fn page_request(query: Option<&str>) -> Result<(i64, usize), String> {
    let limit = match query_param(query, "limit") {
        Some(Some(v)) => parse_limit(&v)
            .map_err(|e| format!("Error parsing query parameter limit failed: {e}"))?,
        _ => DEFAULT_LIMIT,
    };
    let start = match query_param(query, "next") {
        Some(Some(v)) => parse_next(&v)
            .map_err(|e| format!("Error parsing query parameter next failed: {e}"))?
            .start(),
        _ => 0,
    };
    Ok((start, limit.min(MAX_LIMIT)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Page, PeerInfo};

    #[test]
    fn routes() {
        let m = NetworkId::Mainnet01;
        assert_eq!(
            route("/chainweb/0.0/mainnet01/cut/peer", m),
            Some(PeerNetwork::Cut)
        );
        assert_eq!(
            route("/chainweb/0.0/mainnet01/chain/19/mempool/peer", m),
            Some(PeerNetwork::Mempool(ChainId(19)))
        );
        for bad in [
            "/chainweb/0.0/mainnet01/chain/20/mempool/peer",
            "/chainweb/0.0/mainnet01/chain/01/mempool/peer",
            "/chainweb/0.0/mainnet01/chain/1/peer",
            "/chainweb/0.0/testnet04/cut/peer",
            "/chainweb/0.0/mainnet01/cut/peer/",
            "/chainweb/0.0/mainnet01/cut",
            "/chainweb/0.1/mainnet01/cut/peer",
            "/",
        ] {
            assert_eq!(route(bad, m), None, "{bad}");
        }
    }

    #[test]
    fn query_parameters() {
        assert_eq!(
            query_param(Some("limit=5&next=inclusive%3A2"), "next"),
            Some(Some("inclusive:2".into()))
        );
        assert_eq!(query_param(Some("limit"), "limit"), Some(None));
        assert_eq!(
            query_param(Some("limit="), "limit"),
            Some(Some(String::new()))
        );
        assert_eq!(
            query_param(Some("limit=1&limit=2"), "limit"),
            Some(Some("1".into()))
        );
        assert_eq!(query_param(None, "limit"), None);
        assert_eq!(percent_decode("a%2"), "a%2");
        assert_eq!(percent_decode("%zz+%41"), "%zz A");
        assert_eq!(page_request(Some("limit")), Ok((0, 64)));
        assert_eq!(page_request(Some("limit=100000")), Ok((0, 512)));
        assert_eq!(
            page_request(Some("limit=")),
            Err("Error parsing query parameter limit failed: could not parse: `' (input does not start with a digit)".into())
        );
    }

    #[test]
    fn next_parsing_follows_chainweb_order() {
        assert_eq!(parse_next("inclusive:2"), Ok(NextItem::Inclusive(2)));
        assert_eq!(parse_next("exclusive:-1"), Ok(NextItem::Exclusive(-1)));
        assert_eq!(
            parse_next("inclusive"),
            Err("Prelude.read: no parse".into())
        );
        assert_eq!(
            parse_next("inclusive:x"),
            Err("Prelude.read: no parse".into())
        );
        assert_eq!(
            parse_next("foo"),
            Err(r#"TextFormatException "missing ':' in next item: \"foo\".""#.into())
        );
        assert_eq!(
            parse_next("Inclusive:1"),
            Err(r#"TextFormatException "unrecognized next item: \"Inclusive:1\".""#.into())
        );
    }

    #[test]
    fn page_body_matches_page_serialization() {
        let entries: Vec<PeerInfo> = (1..=5)
            .map(|i| format!("127.0.0.{i}:1789").parse().unwrap())
            .collect();
        let json: Vec<Bytes> = entries
            .iter()
            .map(|e| Bytes::from(serde_json::to_vec(e).unwrap()))
            .collect();
        let list: Vec<u32> = vec![4, 0, 2, 1, 3];
        for (start, limit) in [
            (0, 2),
            (2, 2),
            (4, 2),
            (3, 2),
            (0, 0),
            (4, 0),
            (5, 1),
            (-1, 3),
            (0, 64),
        ] {
            let got = page_body(&json, &list, start, limit);
            let want = if !(0..5).contains(&start) {
                Page {
                    limit: 0,
                    items: vec![],
                    next: None,
                }
            } else {
                let s = start as usize;
                let e = (s + limit).min(5);
                Page {
                    limit: e - s,
                    items: list[s..e]
                        .iter()
                        .map(|&i| entries[i as usize].clone())
                        .collect(),
                    next: (e < 5).then_some(NextItem::Inclusive(e as i64)),
                }
            };
            assert_eq!(
                String::from_utf8(got).unwrap(),
                serde_json::to_string(&want).unwrap(),
                "{start} {limit}"
            );
        }
    }
}
