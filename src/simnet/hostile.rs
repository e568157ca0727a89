//! Serving the faults of the hostile profile (see [`super::fault`]).
//!
//! [`respond`] wraps the ordinary handler of [`super::server`]: a well-behaved node gets its
//! answer unchanged, a faulty one gets its fault. Faults below HTTP (a listener that never
//! answers, trickles bytes or speaks plain HTTP on the TLS port) run on their own raw
//! listener, [`run_raw`]. Big bodies are generated as they are sent: the enormous page is a
//! stream of one shared chunk and the compressed bomb is built once, so a hostile simnet
//! costs little memory itself.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::Frame;
use hyper::header::{CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, HeaderValue, LOCATION};
use hyper::{Request, Response, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use super::fault::{self, Fault};
use super::server::{self, NodeView, wait_shutdown};
use crate::api::{PeerNetwork, headers};

/// The body type of every simnet answer.
pub type Body = BoxBody<Bytes, Infallible>;

/// Pause between two bytes of a [`Fault::OneByteAtATime`] answer.
const TRICKLE: Duration = Duration::from_millis(200);
/// Made-up peers per page of the endless list.
const ENDLESS_PAGE: usize = 8;
/// Chunk size of the enormous page.
const CHUNK: usize = 64 * 1024;

fn full(b: impl Into<Bytes>) -> Body {
    Full::new(b.into()).boxed()
}

fn now_s() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// An answer with the node's ordinary headers.
fn answer(
    node: &NodeView,
    peer: SocketAddr,
    status: StatusCode,
    content_type: &'static str,
    body: Body,
    len: Option<usize>,
) -> Response<Body> {
    let version = node
        .served
        .topology
        .nodes
        .get(node.index)
        .map_or("", |n| n.version);
    let mut b = Response::builder()
        .status(status)
        .header(headers::SERVER_TIMESTAMP, now_s())
        .header(headers::PEER_ADDR, peer.to_string())
        .header(headers::NODE_VERSION, version)
        .header(CONTENT_TYPE, content_type);
    if let Some(n) = len {
        b = b.header(CONTENT_LENGTH, n);
    }
    b.body(body)
        .unwrap_or_else(|_| Response::new(full(Bytes::new())))
}

fn json_answer(node: &NodeView, peer: SocketAddr, body: Vec<u8>) -> Response<Body> {
    let len = body.len();
    answer(
        node,
        peer,
        StatusCode::OK,
        "application/json;charset=utf-8",
        full(body),
        Some(len),
    )
}

/// A page of raw JSON items with the given `next`.
fn page_json(items: &[Bytes], next: Option<i64>) -> Vec<u8> {
    let mut body = format!("{{\"limit\":{},\"items\":[", items.len()).into_bytes();
    for (k, item) in items.iter().enumerate() {
        if k > 0 {
            body.push(b',');
        }
        body.extend_from_slice(item);
    }
    body.extend_from_slice(b"],\"next\":");
    match next {
        Some(n) => body.extend_from_slice(format!("\"inclusive:{n}\"").as_bytes()),
        None => body.extend_from_slice(b"null"),
    }
    body.push(b'}');
    body
}

fn made_up(subnet: u8, from: u64, count: usize) -> Vec<Bytes> {
    (from..from + count as u64)
        .map(|k| Bytes::from(fault::made_up_peer(subnet, k).to_json().to_string()))
        .collect()
}

/// The answer of node `node` to `req`: its ordinary answer, or its fault.
pub async fn respond<B>(node: &NodeView, peer: SocketAddr, req: &Request<B>) -> Response<Body> {
    let plain = || server::handle_sync(node, peer, req).map(BodyExt::boxed);
    let topo = &node.served.topology;
    let Some(fault) = topo.faults.get(node.index) else {
        return plain();
    };
    let subnet = match topo.nodes.get(node.index).map(|n| n.addr.ip()) {
        Some(std::net::IpAddr::V4(ip)) => ip.octets()[1],
        _ => 0,
    };
    let net = server::route(req.uri().path(), topo.network);
    let paging = server::page_request(req.uri().query()).ok();
    let hubs = || -> Vec<Bytes> {
        topo.list(node.index, PeerNetwork::Cut)
            .unwrap_or(&[])
            .iter()
            .filter_map(|&e| node.served.entry_json.get(e as usize).cloned())
            .collect()
    };
    let with_header = |name: &'static str, value: String| {
        let mut r = plain();
        if let Ok(v) = HeaderValue::from_str(&value) {
            r.headers_mut().insert(name, v);
        }
        r
    };
    use Fault::*;
    match fault {
        Slow => {
            tokio::time::sleep(fault::SLOW_DELAY).await;
            plain()
        }
        Status(code) => {
            let status = StatusCode::from_u16(*code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            answer(
                node,
                peer,
                status,
                "text/plain",
                full("try again later"),
                Some(15),
            )
        }
        Html => {
            let body = "<!DOCTYPE html><html><body><h1>It works!</h1></body></html>";
            answer(
                node,
                peer,
                StatusCode::OK,
                "text/html",
                full(body),
                Some(body.len()),
            )
        }
        Truncated => {
            let mut body = page_json(&hubs(), None);
            body.truncate(body.len() / 2);
            json_answer(node, peer, body)
        }
        Empty => json_answer(node, peer, Vec::new()),
        WrongShape => {
            let body = format!("{{\"peers\":[{}],\"total\":3}}", hubs().len());
            json_answer(node, peer, body.into_bytes())
        }
        RedirectToNode(to) => {
            let target = format!(
                "https://{to}{}",
                req.uri().path_and_query().map_or("/", |p| p.as_str())
            );
            let mut r = answer(
                node,
                peer,
                StatusCode::FOUND,
                "text/plain",
                full(""),
                Some(0),
            );
            if let Ok(v) = HeaderValue::from_str(&target) {
                r.headers_mut().insert(LOCATION, v);
            }
            r
        }
        RedirectForbidden => {
            let mut r = answer(
                node,
                peer,
                StatusCode::TEMPORARY_REDIRECT,
                "text/plain",
                full(""),
                Some(0),
            );
            r.headers_mut().insert(
                LOCATION,
                HeaderValue::from_static("http://169.254.169.254/latest/meta-data/"),
            );
            r
        }
        MissingHeaders => {
            let mut r = plain();
            for h in [
                headers::SERVER_TIMESTAMP,
                headers::PEER_ADDR,
                headers::NODE_VERSION,
            ] {
                r.headers_mut().remove(h);
            }
            r
        }
        GarbledHeaders => {
            let mut r = with_header(headers::SERVER_TIMESTAMP, "soon".into());
            r.headers_mut().insert(
                headers::NODE_VERSION,
                HeaderValue::from_static("not-a-version"),
            );
            r
        }
        HugeHeaders => {
            let mut r = with_header(headers::SERVER_TIMESTAMP, "9".repeat(40));
            for (h, v) in [(headers::NODE_VERSION, "2."), (headers::PEER_ADDR, "x")] {
                if let Ok(v) = HeaderValue::from_str(&v.repeat(2000)) {
                    r.headers_mut().insert(h, v);
                }
            }
            r
        }
        ClockPast => with_header(headers::SERVER_TIMESTAMP, fault::PAST_TIMESTAMP.to_string()),
        ClockFuture => with_header(
            headers::SERVER_TIMESTAMP,
            (now_s() + fault::FUTURE_SKEW_S).to_string(),
        ),
        NothingListening | NeverAnswers | OneByteAtATime | PlainHttp | CertMismatch(_) => plain(),
        // The rest misbehave on the cut list only; their mempool lists are empty.
        _ if net != Some(PeerNetwork::Cut) => plain(),
        LimitIgnored => {
            let limit = paging.map_or(64, |p| p.1);
            let mut items = hubs();
            let more = (limit * 2 + 1).saturating_sub(items.len());
            items.extend(made_up(subnet, 0, more));
            json_answer(node, peer, page_json(&items, None))
        }
        EnormousPage => {
            let entry = fault::made_up_peer(subnet, 0).to_json().to_string();
            let mut chunk = Vec::with_capacity(CHUNK + entry.len() + 1);
            while chunk.len() < CHUNK {
                chunk.extend_from_slice(entry.as_bytes());
                chunk.push(b',');
            }
            let chunk = Bytes::from(chunk);
            let head = Bytes::from_static(b"{\"limit\":1,\"items\":[");
            let tail = Bytes::from(format!("{entry}],\"next\":null}}"));
            let n = fault::ENORMOUS_BYTES / chunk.len();
            let frames = std::iter::once(head)
                .chain(std::iter::repeat_n(chunk, n))
                .chain(std::iter::once(tail))
                .map(|b| Ok::<_, Infallible>(Frame::data(b)));
            let body = StreamBody::new(futures::stream::iter(frames)).boxed();
            answer(
                node,
                peer,
                StatusCode::OK,
                "application/json;charset=utf-8",
                body,
                None,
            )
        }
        CompressedBomb => {
            let bomb = gzip_bomb();
            let mut r = answer(
                node,
                peer,
                StatusCode::OK,
                "application/json;charset=utf-8",
                full(bomb.clone()),
                Some(bomb.len()),
            );
            r.headers_mut()
                .insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            r
        }
        CursorRepeat => {
            let items = hubs();
            json_answer(node, peer, page_json(&items[..items.len().min(1)], Some(1)))
        }
        CursorCycle => {
            let items = hubs();
            let start = paging.map_or(0, |p| p.0).clamp(0, 2) as usize;
            let next = if start == 0 { 2 } else { 1 };
            let one = items
                .get(start..(start + 1).min(items.len()))
                .unwrap_or(&[]);
            json_answer(node, peer, page_json(one, Some(next)))
        }
        EndlessPages => {
            let (start, limit) = paging.unwrap_or((0, 64));
            let start = start.max(0);
            // Fewer than asked (as a node may serve), so the page cap, not the item cap,
            // is what stops it under the default settings.
            let items = made_up(subnet, start as u64, limit.clamp(1, ENDLESS_PAGE));
            let next = start.saturating_add(items.len() as i64);
            json_answer(node, peer, page_json(&items, Some(next)))
        }
        BadEntries => {
            let raw = topo.faults.raw_lists.get(&node.index);
            let raw = raw.map_or(&[][..], Vec::as_slice);
            let (start, limit) = paging.unwrap_or((0, 64));
            let index: Vec<u32> = (0..raw.len() as u32).collect();
            json_answer(node, peer, server::page_body(raw, &index, start, limit))
        }
    }
}

/// Serves a fault below HTTP on `listener` until `shutdown`; each connection ends at
/// `deadline` at the latest.
pub async fn run_raw(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    fault: Fault,
    mut shutdown: watch::Receiver<bool>,
    deadline: Duration,
) {
    let mut conns = JoinSet::new();
    loop {
        while conns.try_join_next().is_some() {}
        let stream = tokio::select! {
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            () = wait_shutdown(&mut shutdown) => break,
        };
        let (acceptor, fault, mut stop) = (acceptor.clone(), fault.clone(), shutdown.clone());
        conns.spawn(async move {
            tokio::select! {
                () = serve_raw(stream, acceptor, fault) => {}
                () = tokio::time::sleep(deadline) => {}
                () = wait_shutdown(&mut stop) => {}
            }
        });
    }
    conns.abort_all();
    while conns.join_next().await.is_some() {}
}

async fn serve_raw(mut stream: TcpStream, acceptor: TlsAcceptor, fault: Fault) {
    match fault {
        Fault::NeverAnswers => {
            // Hold the connection open, read nothing, say nothing.
            std::future::pending::<()>().await;
        }
        Fault::PlainHttp => {
            let mut buf = [0u8; 2048];
            let _ = stream.read(&mut buf).await;
            let body = "This is a plain HTTP port.\n";
            let resp = format!(
                "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(resp.as_bytes()).await;
            let _ = stream.shutdown().await;
        }
        Fault::OneByteAtATime => {
            let Ok(mut tls) = acceptor.accept(stream).await else {
                return;
            };
            // Read the request head, then answer one byte at a time.
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
                match tls.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            let body = br#"{"limit":0,"items":[],"next":null}"#;
            let mut resp = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json;charset=utf-8\r\nContent-Length: {}\r\n{}: {}\r\n\r\n",
                body.len(),
                headers::SERVER_TIMESTAMP,
                now_s()
            )
            .into_bytes();
            resp.extend_from_slice(body);
            for b in resp {
                if tls.write_all(&[b]).await.is_err() || tls.flush().await.is_err() {
                    return;
                }
                tokio::time::sleep(TRICKLE).await;
            }
        }
        _ => {}
    }
}

/// The compressed bomb: a valid gzip member of [`fault::BOMB_BYTES`] zero bytes, about
/// 400 KiB on the wire. Built once per process.
pub fn gzip_bomb() -> Bytes {
    static BOMB: OnceLock<Bytes> = OnceLock::new();
    BOMB.get_or_init(|| Bytes::from(build_gzip_zeros(fault::BOMB_MATCHES)))
        .clone()
}

/// Writes bits least significant first, as deflate does.
struct BitWriter {
    out: Vec<u8>,
    acc: u64,
    bits: u32,
}

impl BitWriter {
    fn put(&mut self, value: u64, n: u32) {
        self.acc |= value << self.bits;
        self.bits += n;
        while self.bits >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.bits -= 8;
        }
    }

    /// A Huffman code: its bits go most significant first.
    fn code(&mut self, code: u64, n: u32) {
        let mut rev = 0;
        for i in 0..n {
            rev |= ((code >> i) & 1) << (n - 1 - i);
        }
        self.put(rev, n);
    }
}

fn crc32_zeros(len: usize) -> u32 {
    let mut table = [0u32; 256];
    for (i, t) in table.iter_mut().enumerate() {
        let mut c = i as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xedb8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
        *t = c;
    }
    let mut crc = 0xffff_ffffu32;
    for _ in 0..len {
        crc = table[(crc & 0xff) as usize] ^ (crc >> 8);
    }
    !crc
}

/// One fixed-Huffman deflate block: a literal zero, then `matches` copies of 258 bytes at
/// distance 1, then end of block; wrapped in a gzip header and trailer.
fn build_gzip_zeros(matches: usize) -> Vec<u8> {
    let size = 1 + 258 * matches;
    let mut w = BitWriter {
        out: vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff],
        acc: 0,
        bits: 0,
    };
    w.put(1, 1); // BFINAL
    w.put(1, 2); // BTYPE = fixed Huffman
    w.code(0x30, 8); // literal 0
    for _ in 0..matches {
        w.code(0xc5, 8); // length code 285: 258 bytes
        w.code(0, 5); // distance code 0: distance 1
    }
    w.code(0, 7); // end of block
    if w.bits > 0 {
        w.put(0, 8 - w.bits);
    }
    let mut out = w.out;
    out.extend_from_slice(&crc32_zeros(size).to_le_bytes());
    out.extend_from_slice(&(size as u32).to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_of_zeros_is_well_formed() {
        // Small enough to check by hand: "1f8b..." header, fixed block, CRC of 259 zeros.
        let g = build_gzip_zeros(1);
        assert_eq!(&g[..3], &[0x1f, 0x8b, 8]);
        let n = g.len();
        assert_eq!(u32::from_le_bytes(g[n - 4..].try_into().unwrap()), 259);
        assert_eq!(
            u32::from_le_bytes(g[n - 8..n - 4].try_into().unwrap()),
            crc32_zeros(259)
        );
        // CRC-32 of four zero bytes is a known constant.
        assert_eq!(crc32_zeros(4), 0x2144_df1c);
        let bomb = gzip_bomb();
        assert!(bomb.len() < 512 * 1024, "{}", bomb.len());
        const { assert!(fault::BOMB_BYTES > 60 * 1024 * 1024) };
    }
}
