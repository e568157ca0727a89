//! The fast path for parsing a page: straight into typed, borrowed fields, with no JSON
//! tree and no allocation per entry.
//!
//! It accepts only well-formed pages whose every entry is a valid PeerInfo, and then gives
//! exactly what [`Page::from_json_bytes`] followed by [`PeerInfo::from_json`] on each item
//! would give. Anything else (a malformed entry, a duplicate key, a bad cursor) returns
//! `None`, and the caller takes the general path, which records each problem precisely. So
//! this changes speed only, never results.

use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

use serde::de::{self, Deserialize, Deserializer, Visitor};

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

/// A JSON string parsed where it lies in the body (or in serde_json's scratch buffer when
/// it has escapes): no owned copy of the text per field. (Ids deserialize so themselves.)
struct Parsed<T>(T);

impl<'de, T: FromStr> Deserialize<'de> for Parsed<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Text<T>(PhantomData<T>);
        impl<T: FromStr> Visitor<'_> for Text<T> {
            type Value = T;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<T, E> {
                s.parse().map_err(|_| E::custom("invalid field"))
            }
        }
        d.deserialize_str(Text(PhantomData)).map(Parsed)
    }
}

#[derive(serde::Deserialize)]
struct WireAddress {
    hostname: Parsed<Hostname>,
    port: u16,
}

#[derive(serde::Deserialize)]
struct WireEntry {
    #[serde(default, deserialize_with = "present")]
    id: Option<Option<PeerId>>,
    address: WireAddress,
}

/// An entry that is a valid PeerInfo; any other entry fails the whole page, which sends
/// the caller to the general path.
struct Entry(PeerInfo);

impl<'de> Deserialize<'de> for Entry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let e = WireEntry::deserialize(d)?;
        // The key must be there, even as `null`.
        let id = e.id.ok_or_else(|| de::Error::missing_field("id"))?;
        let address = HostAddress::new(e.address.hostname.0, e.address.port);
        Ok(Entry(PeerInfo::new(id, address)))
    }
}

#[derive(serde::Deserialize)]
struct WirePage {
    limit: u64,
    items: Vec<Entry>,
    #[serde(default)]
    next: Option<Parsed<NextItem>>,
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

/// Parses `body` if it is a page of valid entries; `None` sends the caller to the
/// general path.
pub fn fast_page(body: &[u8]) -> Option<FastPage> {
    let wire: WirePage = serde_json::from_slice(body).ok()?;
    let limit = usize::try_from(wire.limit).ok()?;
    // `Entry` wraps a PeerInfo, so this collects in place, without a second vector.
    let items = wire.items.into_iter().map(|e| e.0).collect();
    Some(FastPage {
        limit,
        items,
        next: wire.next.map(|n| n.0),
    })
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
