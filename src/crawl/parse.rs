//! The fast path for parsing a page: a byte scanner straight into typed fields, with no
//! JSON tree and no allocation per entry.
//!
//! It reads pages spelled as nodes spell them (strings without escapes, the keys `limit`,
//! `items`, `next`, `id`, `address`, `hostname` and `port` only, each once, in any order and
//! with any spacing) whose every entry is a valid PeerInfo, and then gives exactly what
//! [`Page::from_json_bytes`] followed by [`PeerInfo::from_json`] on each item would give.
//! Anything else (an escape, an unknown or repeated key, a malformed entry, a bad cursor)
//! returns `None`, and the caller takes the general path, which records each problem
//! precisely. So this changes speed only, never results.
//!
//! No serde derive on purpose: a derived struct also accepts a JSON array of its fields, so
//! `[1,[],null]` would have passed for a page the general path rejects.
//!
//! [`Page::from_json_bytes`]: crate::api::Page::from_json_bytes

use crate::api::page::NextItem;
use crate::api::{HostAddress, Hostname, PeerId, PeerInfo};

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

/// Parses `body` if it is a page of valid entries spelled as nodes spell them; `None`
/// sends the caller to the general path.
pub fn fast_page(body: &[u8]) -> Option<FastPage> {
    // Validated once for the whole body, so each string is a slice of it.
    let text = std::str::from_utf8(body).ok()?;
    let mut s = Scanner {
        text,
        b: body,
        i: 0,
    };
    let (mut limit, mut items, mut next) = (None, None, None);
    s.object(|s, key| match key {
        b"limit" if limit.is_none() => {
            limit = Some(usize::try_from(s.unsigned()?).ok()?);
            Some(())
        }
        b"items" if items.is_none() => {
            let mut list = Vec::new();
            s.array(|s| {
                list.push(s.entry()?);
                Some(())
            })?;
            items = Some(list);
            Some(())
        }
        b"next" if next.is_none() => {
            next = Some(if s.null() {
                None
            } else {
                Some(s.text()?.parse().ok()?)
            });
            Some(())
        }
        _ => None,
    })?;
    s.ws();
    if s.i != s.b.len() {
        return None;
    }
    Some(FastPage {
        limit: limit?,
        items: items?,
        next: next.flatten(),
    })
}

/// Whether any byte of `w` is a quote, a backslash or below 0x20. (Each test is exact
/// about whether such a byte exists, which is all the caller needs; bytes of 0x80 and up,
/// UTF-8 sequences, never match.)
fn ends_text(w: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero_byte = |v: u64| v.wrapping_sub(ONES) & !v & HIGH != 0;
    zero_byte(w ^ (ONES * u64::from(b'"')))
        || zero_byte(w ^ (ONES * u64::from(b'\\')))
        || w.wrapping_sub(ONES * 0x20) & !w & HIGH != 0
}

/// A position in a body being scanned.
struct Scanner<'a> {
    /// The body, valid UTF-8.
    text: &'a str,
    /// The same, as bytes.
    b: &'a [u8],
    i: usize,
}

impl<'a> Scanner<'a> {
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    /// Skips spacing, then consumes `c` if it is next.
    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn null(&mut self) -> bool {
        self.ws();
        if self.b[self.i..].starts_with(b"null") {
            self.i += 4;
            true
        } else {
            false
        }
    }

    /// A string without escapes or control characters; its text between the quotes.
    fn text(&mut self) -> Option<&'a str> {
        if !self.eat(b'"') {
            return None;
        }
        let start = self.i;
        let rest = &self.b[start..];
        // Eight bytes at a time up to the word holding the first quote, backslash or
        // control byte; then byte by byte to it. Ids are 43 bytes: most of a page.
        let mut len = 0;
        while let Some(word) = rest.get(len..).and_then(<[u8]>::first_chunk::<8>) {
            if ends_text(u64::from_le_bytes(*word)) {
                break;
            }
            len += 8;
        }
        len += rest[len..]
            .iter()
            .position(|&c| c == b'"' || c == b'\\' || c < 0x20)?;
        self.i = start + len;
        if self.b[self.i] != b'"' {
            return None;
        }
        self.i += 1;
        // Both ends are ASCII quotes, so character boundaries.
        self.text.get(start..start + len)
    }

    /// A JSON integer from 0 up, as serde_json reads one into `u64` (no sign, fraction,
    /// exponent or leading zero).
    fn unsigned(&mut self) -> Option<u64> {
        self.ws();
        let start = self.i;
        let mut n: u64 = 0;
        while let Some(&d @ b'0'..=b'9') = self.b.get(self.i) {
            n = n.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
            self.i += 1;
        }
        let digits = self.i - start;
        if digits == 0 || (digits > 1 && self.b[start] == b'0') {
            return None;
        }
        match self.b.get(self.i) {
            Some(b'.' | b'e' | b'E') => None,
            _ => Some(n),
        }
    }

    /// `{ "key": value, ... }`, calling `field` with each key at its value.
    fn object(&mut self, mut field: impl FnMut(&mut Self, &[u8]) -> Option<()>) -> Option<()> {
        if !self.eat(b'{') {
            return None;
        }
        if self.eat(b'}') {
            return Some(());
        }
        loop {
            let key = self.text()?;
            if !self.eat(b':') {
                return None;
            }
            field(self, key.as_bytes())?;
            if self.eat(b'}') {
                return Some(());
            }
            if !self.eat(b',') {
                return None;
            }
        }
    }

    /// `[ value, ... ]`, calling `item` at each value.
    fn array(&mut self, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        if !self.eat(b'[') {
            return None;
        }
        if self.eat(b']') {
            return Some(());
        }
        loop {
            item(self)?;
            if self.eat(b']') {
                return Some(());
            }
            if !self.eat(b',') {
                return None;
            }
        }
    }

    /// `{"id": <id>|null, "address": {"hostname": <host>, "port": <u16>}}`.
    fn entry(&mut self) -> Option<PeerInfo> {
        let (mut id, mut address) = (None, None);
        self.object(|s, key| match key {
            b"id" if id.is_none() => {
                id = Some(if s.null() {
                    None
                } else {
                    Some(s.text()?.parse::<PeerId>().ok()?)
                });
                Some(())
            }
            b"address" if address.is_none() => {
                let (mut host, mut port) = (None, None);
                s.object(|s, key| match key {
                    b"hostname" if host.is_none() => {
                        host = Some(s.text()?.parse::<Hostname>().ok()?);
                        Some(())
                    }
                    b"port" if port.is_none() => {
                        port = Some(u16::try_from(s.unsigned()?).ok()?);
                        Some(())
                    }
                    _ => None,
                })?;
                address = Some(HostAddress::new(host?, port?));
                Some(())
            }
            _ => None,
        })?;
        Some(PeerInfo::new(id?, address?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Page;

    /// The general path, for comparison.
    fn slow(body: &[u8]) -> Option<FastPage> {
        let page = Page::from_json_bytes(body).ok()?;
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
            // Valid pages the general path reads, spelled otherwise than nodes spell them.
            format!(r#"{{"items":[{{"address":{{"port":443,"hostname":"Node.Example"}},"id":"{id}","x":1}}],"limit":1}}"#),
            r#"{"limit":1,"items":[{"id":null,"address":{"hostname":"a\u002eexample","port":1}}],"next":null}"#.to_string(),
            // Each of these has something the general path rejects or records as invalid.
            // Pages, entries and addresses spelled as arrays of their fields (a serde derive
            // reads those as the structs):
            r#"[1,[],null]"#.to_string(),
            r#"{"limit":1,"items":[{"id":null,"address":["127.0.0.1",1789]}]}"#.to_string(),
            r#"{"limit":1,"items":[[null,{"hostname":"127.0.0.1","port":1789}]]}"#.to_string(),
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
            let (fast, general) = (fast_page(body.as_bytes()), slow(body.as_bytes()));
            assert_eq!(fast.is_some(), k < 2, "body {k}: {body}");
            assert_eq!(general.is_some(), k < 4, "body {k}: {body}");
            if fast.is_some() {
                assert_eq!(fast, general, "body {k}: {body}");
            }
        }
        // A duplicate key: the general path keeps the last value; the fast path declines.
        let dup = r#"{"limit":1,"limit":0,"items":[]}"#;
        assert_eq!(fast_page(dup.as_bytes()), None);
        assert!(slow(dup.as_bytes()).is_some());
    }

    /// Tokens joined with random JSON spacing.
    fn spaced(rng: &mut impl rand::Rng, tokens: &[&str]) -> String {
        const WS: [&str; 5] = ["", " ", "\n", "\t ", "\r\n"];
        let mut out = String::new();
        for t in tokens {
            out.push_str(WS[rng.random_range(0..WS.len())]);
            out.push_str(t);
        }
        out
    }

    /// The word test finds a quote, backslash or control byte whenever one is there, at
    /// any position and beside any other byte, and never otherwise.
    #[test]
    fn word_test_is_exact() {
        use rand::{Rng, SeedableRng};
        let naive = |w: u64| {
            w.to_le_bytes()
                .iter()
                .any(|&c| c == b'"' || c == b'\\' || c < 0x20)
        };
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(8);
        for c in 0..=255u8 {
            for pos in 0..8 {
                for fill in [b'a', 0x7f, 0x80, 0xff, b'!', b'#', b'[', b']'] {
                    let mut w = [fill; 8];
                    w[pos] = c;
                    let w = u64::from_le_bytes(w);
                    assert_eq!(ends_text(w), naive(w), "{c:#x} at {pos} among {fill:#x}");
                }
            }
        }
        for _ in 0..100_000 {
            let w: u64 = rng.random();
            assert_eq!(ends_text(w), naive(w), "{w:#x}");
        }
    }

    /// Whenever the scanner gives a page, the general path gives the same one; on bodies
    /// spelled the way it reads, it gives one exactly when the general path reads every
    /// entry.
    #[test]
    fn agrees_with_the_general_path_on_generated_and_mangled_pages() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let ids: Vec<String> = (0..4u8)
            .map(|k| format!("\"{}\"", PeerId::from_certificate_der(&[k])))
            .chain(["null".into(), "\"short\"".into()])
            .collect();
        let hosts = [
            "\"127.0.0.1\"",
            "\"10.2.3.4\"",
            "\"Node.Example\"",
            "\"2001:db8::1\"",
            "\"127.000.0.1\"",
            "\"a_b\"",
            "\"\"",
        ];
        let (mut scanned, mut declined_by_both) = (0, 0);
        for round in 0..4000 {
            let n = rng.random_range(0..5);
            let mut items = Vec::new();
            for _ in 0..n {
                let id = ids[rng.random_range(0..ids.len())].as_str();
                let host = hosts[rng.random_range(0..hosts.len())];
                let port = rng.random_range(0..70_000u32).to_string();
                let address = if rng.random_bool(0.5) {
                    spaced(
                        &mut rng,
                        &[
                            "{",
                            "\"hostname\"",
                            ":",
                            host,
                            ",",
                            "\"port\"",
                            ":",
                            &port,
                            "}",
                        ],
                    )
                } else {
                    spaced(
                        &mut rng,
                        &[
                            "{",
                            "\"port\"",
                            ":",
                            &port,
                            ",",
                            "\"hostname\"",
                            ":",
                            host,
                            "}",
                        ],
                    )
                };
                items.push(if rng.random_bool(0.5) {
                    spaced(
                        &mut rng,
                        &[
                            "{",
                            "\"id\"",
                            ":",
                            id,
                            ",",
                            "\"address\"",
                            ":",
                            &address,
                            "}",
                        ],
                    )
                } else {
                    spaced(
                        &mut rng,
                        &[
                            "{",
                            "\"address\"",
                            ":",
                            &address,
                            ",",
                            "\"id\"",
                            ":",
                            id,
                            "}",
                        ],
                    )
                });
            }
            let next = match rng.random_range(0..4) {
                0 => "null".to_string(),
                1 => format!("\"inclusive:{}\"", rng.random_range(0..1000)),
                2 => "\"exclusive:5\"".to_string(),
                _ => "\"later\"".to_string(),
            };
            let limit = n.to_string();
            let list = format!("[{}]", items.join(","));
            let mut body = spaced(
                &mut rng,
                &[
                    "{",
                    "\"limit\"",
                    ":",
                    &limit,
                    ",",
                    "\"items\"",
                    ":",
                    &list,
                    ",",
                    "\"next\"",
                    ":",
                    &next,
                    "}",
                    " ",
                ],
            )
            .into_bytes();
            let mangled = round % 2 == 1;
            if mangled {
                const BYTES: &[u8] = b" \"\\:,{}[]0a.-e\x01\xc3n1";
                for _ in 0..rng.random_range(1..4) {
                    let i = rng.random_range(0..body.len());
                    body[i] = BYTES[rng.random_range(0..BYTES.len())];
                }
            }
            let text = String::from_utf8_lossy(&body).into_owned();
            let (fast, general) = (fast_page(&body), slow(&body));
            match &fast {
                Some(_) => {
                    scanned += 1;
                    assert_eq!(fast, general, "{text}");
                }
                None if !mangled => {
                    assert_eq!(
                        general, None,
                        "the fast path declined a page the general path reads: {text}"
                    );
                    declined_by_both += 1;
                }
                None => {}
            }
        }
        // Both outcomes are exercised.
        assert!(
            scanned > 500 && declined_by_both > 500,
            "{scanned} {declined_by_both}"
        );
    }

    /// Time per entry of the fast and the general path on a full page (run with
    /// `--release -- --ignored`).
    #[test]
    #[ignore = "benchmark"]
    fn scanner_throughput() {
        let id = PeerId::from_certificate_der(b"x");
        let items: Vec<String> = (0..512)
            .map(|k| {
                format!(
                    r#"{{"id":"{id}","address":{{"hostname":"127.62.{}.{}","port":443}}}}"#,
                    k / 250,
                    k % 250 + 1
                )
            })
            .collect();
        let body = format!(
            r#"{{"limit":512,"items":[{}],"next":"inclusive:512"}}"#,
            items.join(",")
        )
        .into_bytes();
        for (name, f) in [
            ("fast", fast_page as fn(&[u8]) -> Option<FastPage>),
            ("general", slow),
        ] {
            let t = std::time::Instant::now();
            let rounds = 400;
            for _ in 0..rounds {
                assert_eq!(
                    f(std::hint::black_box(&body)).map(|p| p.items.len()),
                    Some(512)
                );
            }
            let ns = t.elapsed().as_nanos() as f64 / f64::from(rounds * 512);
            eprintln!("{name}: {ns:.0} ns per entry");
        }
    }
}
