//! Bounded fuzzing of every parser that reads what a peer sends: pages, PeerInfo entries,
//! cursors, `limit`, headers, host addresses and bootstrap lines. A seeded generator mutates
//! valid inputs and builds random JSON; a fixed number of cases keeps it in the normal
//! `cargo test` run (well under a second). The property is that nothing panics, and that
//! whatever parses re-serializes to something that parses to the same value.

use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use super::*;

const CASES: usize = 100_000;

const SEEDS: &[&str] = &[
    r#"{"limit":2,"items":[{"id":null,"address":{"hostname":"127.0.0.1","port":1789}},{"id":"n0LVUSjFqDOTG0Kq9hRNpNVuYl1EKsHwPwv8gNgCFwQ","address":{"hostname":"node.example.org","port":443}}],"next":"inclusive:2"}"#,
    r#"{"limit":0,"items":[],"next":null}"#,
    r#"{"id":null,"address":{"hostname":"::ffff:127.0.0.1","port":0}}"#,
    "inclusive:64",
    "exclusive:-9223372036854775808",
    "2.32.0",
    "[::1]:1789",
    "n0LVUSjFqDOTG0Kq9hRNpNVuYl1EKsHwPwv8gNgCFwQ@127.1.0.1:1789",
];

/// Some bytes that parsers find interesting.
const SPICE: &[&[u8]] = &[
    b"\"",
    b"{",
    b"}",
    b"[",
    b"]",
    b":",
    b",",
    b"null",
    b"-",
    b"0x",
    b"1e999",
    b"\\u0000",
    b"\xff",
    b"\xc3\xa9",
    b"99999999999999999999",
    b"inclusive:",
    b"@",
    b"[",
    b"%",
];

fn mutate(rng: &mut ChaCha8Rng, input: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..rng.random_range(1..6) {
        let at = if v.is_empty() {
            0
        } else {
            rng.random_range(0..=v.len())
        };
        match rng.random_range(0..5) {
            0 if at < v.len() => {
                v.remove(at);
            }
            1 => v.insert(at, rng.random()),
            2 => {
                let s = SPICE[rng.random_range(0..SPICE.len())];
                v.splice(at..at, s.iter().copied());
            }
            3 => v.truncate(at),
            _ if at < v.len() => v[at] ^= 1 << rng.random_range(0..8),
            _ => {}
        }
    }
    v
}

fn random_json(rng: &mut ChaCha8Rng, depth: u32) -> Value {
    match rng.random_range(0..if depth > 3 { 5 } else { 8 }) {
        0 => Value::Null,
        1 => json!(rng.random::<bool>()),
        2 => json!(rng.random::<i64>()),
        3 => json!(rng.random::<f64>() * 1e6),
        4 => {
            let mut b = [0u8; 12];
            rng.fill_bytes(&mut b);
            json!(String::from_utf8_lossy(&b))
        }
        5 => Value::Array(
            (0..rng.random_range(0..4))
                .map(|_| random_json(rng, depth + 1))
                .collect(),
        ),
        _ => {
            let keys = [
                "id", "address", "hostname", "port", "limit", "items", "next", "x",
            ];
            let mut m = serde_json::Map::new();
            for _ in 0..rng.random_range(0..5) {
                let k = keys[rng.random_range(0..keys.len())];
                m.insert(k.to_string(), random_json(rng, depth + 1));
            }
            Value::Object(m)
        }
    }
}

fn exercise(bytes: &[u8]) {
    if let Ok(page) = Page::from_json_bytes(bytes) {
        for item in &page.items {
            if let Ok(p) = PeerInfo::from_json(item) {
                assert_eq!(PeerInfo::from_json(&p.to_json()), Ok(p.clone()));
                let text = p.to_string();
                assert_eq!(text.parse::<PeerInfo>().ok(), Some(p), "{text}");
            }
        }
    }
    if let Ok(v) = serde_json::from_slice::<Value>(bytes) {
        let _ = PeerInfo::from_json(&v);
    }
    let text = String::from_utf8_lossy(bytes);
    if let Ok(n) = text.parse::<NextItem>() {
        assert_eq!(n.to_string().parse::<NextItem>(), Ok(n));
        let _ = n.start();
    }
    let _ = page::parse_limit(&text);
    let _ = headers::parse_node_version(&text);
    if let Ok(a) = text.parse::<HostAddress>() {
        assert_eq!(a.to_string().parse::<HostAddress>(), Ok(a));
    }
    let _ = text.parse::<Hostname>();
    let _ = text.parse::<PeerId>();
    let _ = parse_bootstrap_list(&text);
    let _ = crate::sanitize::sanitize_bytes(bytes, 200);
}

#[test]
fn parsers_never_panic_on_mutated_input() {
    let mut rng = ChaCha8Rng::seed_from_u64(0x5eed);
    for i in 0..CASES {
        let seed = SEEDS[i % SEEDS.len()].as_bytes();
        exercise(&mutate(&mut rng, seed));
    }
}

#[test]
fn parsers_never_panic_on_random_json() {
    let mut rng = ChaCha8Rng::seed_from_u64(0xf00d);
    for _ in 0..CASES / 4 {
        let items: Vec<Value> = (0..rng.random_range(0..4))
            .map(|_| random_json(&mut rng, 1))
            .collect();
        let page = json!({"limit": random_json(&mut rng, 3), "items": items, "next": random_json(&mut rng, 3)});
        exercise(page.to_string().as_bytes());
        exercise(random_json(&mut rng, 0).to_string().as_bytes());
    }
    // Deep nesting is refused by serde_json's recursion limit, not a stack overflow.
    exercise(&[b'['; 100_000]);
}
