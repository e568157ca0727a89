//! The fast path for parsing a page: straight into typed, borrowed fields, with no JSON
//! tree and no allocation per entry.
//!
//! It accepts only well-formed pages whose every entry is a valid PeerInfo, and then gives
//! exactly what [`Page::from_json_bytes`] followed by [`PeerInfo::from_json`] on each item
//! would give. Anything else (a malformed entry, a duplicate key, a bad cursor) returns
//! `None`, and the caller takes the general path, which records each problem precisely. So
//! this changes speed only, never results.

use std::borrow::Cow;

use serde::{Deserialize, Deserializer};

use crate::api::page::NextItem;
use crate::api::{HostAddress, Hostname, PeerId, PeerInfo};

/// `Some(value)` for a present key (even `null`), so a missing key stays `None`.
fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

#[derive(Deserialize)]
struct WireAddress<'a> {
    #[serde(borrow)]
    hostname: Cow<'a, str>,
    port: u64,
}

#[derive(Deserialize)]
struct WireEntry<'a> {
    #[serde(borrow, default, deserialize_with = "present")]
    id: Option<Option<Cow<'a, str>>>,
    #[serde(borrow)]
    address: WireAddress<'a>,
}

#[derive(Deserialize)]
struct WirePage<'a> {
    limit: u64,
    #[serde(borrow)]
    items: Vec<WireEntry<'a>>,
    #[serde(borrow, default)]
    next: Option<Cow<'a, str>>,
}

/// A page whose entries are all valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FastPage {
    /// `limit` as served.
    pub limit: usize,
    /// The entries, in order.
    pub items: Vec<PeerInfo>,
    /// The cursor of the next page.
    pub next: Option<NextItem>,
}

fn entry(e: WireEntry<'_>) -> Option<PeerInfo> {
    let id = match e.id? {
        None => None,
        Some(s) => Some(s.parse::<PeerId>().ok()?),
    };
    let hostname: Hostname = e.address.hostname.parse().ok()?;
    let port = u16::try_from(e.address.port).ok()?;
    Some(PeerInfo::new(id, HostAddress::new(hostname, port)))
}

/// Parses `body` if it is a page of valid entries; `None` sends the caller to the
/// general path.
pub fn fast_page(body: &[u8]) -> Option<FastPage> {
    let wire: WirePage<'_> = serde_json::from_slice(body).ok()?;
    let limit = usize::try_from(wire.limit).ok()?;
    let next = match wire.next {
        None => None,
        Some(s) => Some(s.parse().ok()?),
    };
    let items = wire
        .items
        .into_iter()
        .map(entry)
        .collect::<Option<Vec<_>>>()?;
    Some(FastPage { limit, items, next })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Page;

    /// The general path, for comparison.
    fn slow(body: &str) -> Option<FastPage> {
        let page = Page::from_json_bytes(body.as_bytes()).ok()?;
        let items = page
            .items
            .iter()
            .map(|v| PeerInfo::from_json(v).ok())
            .collect::<Option<Vec<_>>>()?;
        Some(FastPage {
            limit: page.limit,
            items,
            next: page.next,
        })
    }

    #[test]
    fn agrees_with_the_general_path() {
        let id = PeerId::from_certificate_der(b"x").to_string();
        let bodies = [
            r#"{"limit":0,"items":[],"next":null}"#.to_string(),
            r#"{"limit":1,"items":[{"id":null,"address":{"hostname":"127.0.0.1","port":1789}}],"next":"inclusive:1"}"#.to_string(),
            format!(r#"{{"items":[{{"address":{{"port":443,"hostname":"Node.Example"}},"id":"{id}","x":1}}],"limit":1}}"#),
            r#"{"limit":1,"items":[{"id":null,"address":{"hostname":"a\u002eexample","port":1}}],"next":null}"#.to_string(),
            // Each of these has something the general path rejects or records as invalid.
            r#"{"limit":1,"items":[{"address":{"hostname":"127.0.0.1","port":1789}}],"next":null}"#.to_string(),
            r#"{"limit":1,"items":[{"id":"nope","address":{"hostname":"127.0.0.1","port":1789}}]}"#.to_string(),
            r#"{"limit":1,"items":[{"id":null,"address":{"hostname":"127.0.0.1","port":65536}}]}"#.to_string(),
            r#"{"limit":1,"items":[{"id":null,"address":{"hostname":"127.0.0.1","port":1.0}}]}"#.to_string(),
            r#"{"limit":1,"items":[{"id":null,"address":{"hostname":"bad host","port":1}}]}"#.to_string(),
            r#"{"limit":1,"items":[{"id":null,"address":{"hostname":"127.0.0.1","port":1}}],"next":"foo"}"#.to_string(),
            r#"{"limit":-1,"items":[]}"#.to_string(),
            r#"{"limit":1}"#.to_string(),
            r#"{"items":[]}"#.to_string(),
            r#"[]"#.to_string(),
            r#"{"limit":1,"items":[1]}"#.to_string(),
        ];
        for (k, body) in bodies.iter().enumerate() {
            let fast = fast_page(body.as_bytes());
            assert_eq!(fast, slow(body), "body {k}: {body}");
            assert_eq!(fast.is_some(), k < 4, "body {k}: {body}");
        }
        // A duplicate key: the general path keeps the last value; the fast path declines.
        let dup = r#"{"limit":1,"limit":0,"items":[]}"#;
        assert_eq!(fast_page(dup.as_bytes()), None);
        assert!(slow(dup).is_some());
    }
}
