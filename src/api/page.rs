//! Pages of a peer list and the `next` cursor.

use std::fmt;
use std::str::FromStr;

use serde_json::Value;

/// Items per page when a request gives no `limit`.
pub const DEFAULT_LIMIT: usize = 64;
/// Largest page a node serves; larger requested limits are silently clamped.
pub const MAX_LIMIT: usize = 512;

/// The paging cursor: a position in the node's list.
///
/// Nodes only ever emit `inclusive:<n>`, the position of the first entry not yet returned.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum NextItem {
    /// The page starts at this position.
    Inclusive(i64),
    /// The page starts right after this position.
    Exclusive(i64),
}

/// Why a string is not a cursor.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NextItemError {
    /// No `:` between the kind and the position.
    #[error("missing ':' in next item: {0:?}")]
    MissingColon(String),
    /// Neither `inclusive` nor `exclusive`.
    #[error("unrecognized next item: {0:?}")]
    UnknownKind(String),
    /// The position is not an integer.
    #[error("next item position is not an integer: {0:?}")]
    BadPosition(String),
}

impl NextItem {
    /// The position of the first entry this cursor selects (saturating for `exclusive`).
    pub fn start(self) -> i64 {
        match self {
            NextItem::Inclusive(n) => n,
            NextItem::Exclusive(n) => n.saturating_add(1),
        }
    }
}

impl fmt::Display for NextItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NextItem::Inclusive(n) => write!(f, "inclusive:{n}"),
            NextItem::Exclusive(n) => write!(f, "exclusive:{n}"),
        }
    }
}

impl FromStr for NextItem {
    type Err = NextItemError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (kind, pos) = s
            .split_once(':')
            .ok_or_else(|| NextItemError::MissingColon(s.to_string()))?;
        // Haskell's `read`, which chainweb uses here, tolerates surrounding spaces.
        let pos: i64 = pos
            .trim()
            .parse()
            .map_err(|_| NextItemError::BadPosition(pos.to_string()))?;
        match kind {
            "inclusive" => Ok(NextItem::Inclusive(pos)),
            "exclusive" => Ok(NextItem::Exclusive(pos)),
            _ => Err(NextItemError::UnknownKind(s.to_string())),
        }
    }
}

/// One page of a peer list as served: `{"limit": n, "items": [...], "next": cursor|null}`.
///
/// `limit` is the number of items in this page, not the limit asked for.
#[derive(Clone, PartialEq, Debug)]
pub struct Page<T> {
    /// Number of items in this page.
    pub limit: usize,
    /// The entries.
    pub items: Vec<T>,
    /// Where the next page starts, or `None` after the last page.
    pub next: Option<NextItem>,
}

impl<T: serde::Serialize> serde::Serialize for Page<T> {
    /// Keys in chainweb's order, `next` always present.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Page", 3)?;
        st.serialize_field("limit", &self.limit)?;
        st.serialize_field("items", &self.items)?;
        st.serialize_field("next", &self.next.map(|n| n.to_string()))?;
        st.end()
    }
}

/// Why a response body is not a page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    /// Not JSON at all (HTML, truncated, empty).
    #[error("body is not JSON: {0}")]
    NotJson(String),
    /// JSON, but not shaped like a page.
    #[error("body is not a page: {0}")]
    WrongShape(&'static str),
    /// The `next` cursor does not parse.
    #[error("{0}")]
    Next(#[from] NextItemError),
}

impl Page<Value> {
    /// Parses an untrusted response body into a page whose items are still raw JSON, so one
    /// bad entry does not lose the rest of the page. Never panics.
    ///
    /// # Errors
    /// Returns why the body is not a page.
    pub fn from_json_bytes(body: &[u8]) -> Result<Self, PageError> {
        let v: Value =
            serde_json::from_slice(body).map_err(|e| PageError::NotJson(e.to_string()))?;
        let Value::Object(mut obj) = v else {
            return Err(PageError::WrongShape("not an object"));
        };
        let limit = match obj.get("limit") {
            Some(l) => l
                .as_u64()
                .and_then(|l| usize::try_from(l).ok())
                .ok_or(PageError::WrongShape("limit is not a non-negative integer"))?,
            None => return Err(PageError::WrongShape("no limit")),
        };
        let items = match obj.remove("items") {
            Some(Value::Array(items)) => items,
            Some(_) => return Err(PageError::WrongShape("items is not an array")),
            None => return Err(PageError::WrongShape("no items")),
        };
        let next = match obj.get("next") {
            Some(Value::Null) | None => None,
            Some(Value::String(s)) => Some(s.parse()?),
            Some(_) => return Err(PageError::WrongShape("next is not a string or null")),
        };
        Ok(Page { limit, items, next })
    }
}

/// Why a `limit` query value is rejected (the node answers 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    /// Empty or not a number.
    #[error("could not parse: `{0}' (input does not start with a digit)")]
    NotANumber(String),
    /// A negative number.
    #[error("underflow: {0} (should be a non-negative integer)")]
    Negative(String),
    /// A number followed by other characters.
    #[error("could not parse: `{0}'")]
    TrailingJunk(String),
}

/// Parses a `limit` query value as chainweb does: a non-negative integer of any size,
/// clamped to [`MAX_LIMIT`].
///
/// # Errors
/// Returns the reason a node gives in its 400 answer.
pub fn parse_limit(s: &str) -> Result<usize, LimitError> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        if let Some(rest) = s.strip_prefix('-')
            && !rest.is_empty()
            && rest.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(LimitError::Negative(s.to_string()));
        }
        return Err(LimitError::NotANumber(s.to_string()));
    }
    if digits != s.len() {
        return Err(LimitError::TrailingJunk(s.to_string()));
    }
    Ok(s.parse::<usize>().map_or(MAX_LIMIT, |n| n.min(MAX_LIMIT)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        assert_eq!(
            "inclusive:2".parse::<NextItem>(),
            Ok(NextItem::Inclusive(2))
        );
        assert_eq!("exclusive:4".parse::<NextItem>().unwrap().start(), 5);
        assert_eq!(
            "inclusive: 7 ".parse::<NextItem>(),
            Ok(NextItem::Inclusive(7))
        );
        assert_eq!(NextItem::Inclusive(64).to_string(), "inclusive:64");
        assert!(matches!(
            "inclusive".parse::<NextItem>(),
            Err(NextItemError::MissingColon(_))
        ));
        assert!(matches!(
            "Inclusive:1".parse::<NextItem>(),
            Err(NextItemError::UnknownKind(_))
        ));
        assert!(matches!(
            "inclusive:x".parse::<NextItem>(),
            Err(NextItemError::BadPosition(_))
        ));
        assert_eq!(NextItem::Exclusive(i64::MAX).start(), i64::MAX);
    }

    /// The seed's two-page walk with `limit=2`.
    #[test]
    fn parses_seed_two_page_walk() {
        let first = br#"{"limit":2,"items":[{"id":"aEdeq9bOZws1X5IpBF5aGM6vV6gh_EicHSMoPs5wb40","address":{"hostname":"13.251.43.216","port":1789}},{"id":null,"address":{"hostname":"fr1.chainweb.com","port":443}}],"next":"inclusive:2"}"#;
        let p = Page::from_json_bytes(first).unwrap();
        assert_eq!(p.limit, 2);
        assert_eq!(p.items.len(), 2);
        assert_eq!(p.next, Some(NextItem::Inclusive(2)));
        let second = br#"{"limit":1,"items":[{"id":null,"address":{"hostname":"34.75.215.49","port":1789}}],"next":null}"#;
        let p = Page::from_json_bytes(second).unwrap();
        assert_eq!((p.limit, p.items.len(), p.next), (1, 1, None));
    }

    #[test]
    fn rejects_bodies_that_are_not_pages() {
        for body in [
            &b""[..],
            b"<html>",
            b"{\"limit\":1,",
            b"[]",
            b"{\"items\":[]}",
            b"{\"limit\":-1,\"items\":[],\"next\":null}",
            b"{\"limit\":1,\"items\":{},\"next\":null}",
            b"{\"limit\":1,\"items\":[],\"next\":5}",
            b"{\"limit\":1,\"items\":[],\"next\":\"later\"}",
        ] {
            assert!(
                Page::from_json_bytes(body).is_err(),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn serializes_keys_in_chainweb_order() {
        let p = Page {
            limit: 0,
            items: Vec::<Value>::new(),
            next: None,
        };
        assert_eq!(
            serde_json::to_string(&p).unwrap(),
            r#"{"limit":0,"items":[],"next":null}"#
        );
        let p = Page {
            limit: 1,
            items: vec![json!(1)],
            next: Some(NextItem::Inclusive(1)),
        };
        assert_eq!(
            serde_json::to_string(&p).unwrap(),
            r#"{"limit":1,"items":[1],"next":"inclusive:1"}"#
        );
    }

    #[test]
    fn limit_parsing_matches_chainweb() {
        assert_eq!(parse_limit("0"), Ok(0));
        assert_eq!(parse_limit("64"), Ok(64));
        assert_eq!(parse_limit("513"), Ok(512));
        assert_eq!(parse_limit("99999999999999999999999999"), Ok(512));
        assert!(matches!(parse_limit(""), Err(LimitError::NotANumber(_))));
        assert!(matches!(parse_limit("abc"), Err(LimitError::NotANumber(_))));
        assert!(matches!(parse_limit("-1"), Err(LimitError::Negative(_))));
        assert!(matches!(
            parse_limit("5x"),
            Err(LimitError::TrailingJunk(_))
        ));
    }
}
