//! Peer ids: the SHA-256 fingerprint of a node's TLS certificate.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};

/// A chainweb peer id: SHA-256 over the DER bytes of the node's certificate.
///
/// Its text form is base64url without padding (43 characters). Like chainweb-node, parsing
/// also accepts the padded 44-character form.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PeerId([u8; 32]);

/// Why a string is not a peer id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeerIdError {
    /// Not base64url.
    #[error("peer id is not base64url")]
    NotBase64,
    /// Decoded to the wrong number of bytes.
    #[error("peer id has {0} bytes, expected 32")]
    WrongLength(usize),
}

impl PeerId {
    /// The id of the certificate whose DER encoding is `der`.
    pub fn from_certificate_der(der: &[u8]) -> Self {
        PeerId(Sha256::digest(der).into())
    }

    /// The 32 raw fingerprint bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Wraps 32 raw fingerprint bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        PeerId(bytes)
    }
}

impl fmt::Display for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // 43 characters on the stack: ids are written once per stored response.
        let mut text = [0u8; 44];
        match URL_SAFE_NO_PAD.encode_slice(self.0, &mut text) {
            Ok(n) => f.write_str(std::str::from_utf8(&text[..n]).map_err(|_| fmt::Error)?),
            Err(_) => f.write_str(&URL_SAFE_NO_PAD.encode(self.0)),
        }
    }
}

impl fmt::Debug for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PeerId({self})")
    }
}

impl FromStr for PeerId {
    type Err = PeerIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(text) = s.as_bytes().first_chunk::<43>()
            && s.len() == 43
        {
            // The spelling of every page entry's id, decoded by hand: the general decoder
            // costs several times more per id.
            return decode_unpadded(text)
                .map(PeerId)
                .ok_or(PeerIdError::NotBase64);
        }
        let padded = s.len() == 44 && s.ends_with('=');
        if padded {
            // The usual lengths decode on the stack (every page entry carries an id).
            let engine = if padded { &URL_SAFE } else { &URL_SAFE_NO_PAD };
            let mut bytes = [0u8; 33];
            let n = engine
                .decode_slice(s, &mut bytes)
                .map_err(|_| PeerIdError::NotBase64)?;
            return match <[u8; 32]>::try_from(&bytes[..n]) {
                Ok(id) => Ok(PeerId(id)),
                Err(_) => Err(PeerIdError::WrongLength(n)),
            };
        }
        let decoded = if padded {
            URL_SAFE.decode(s)
        } else {
            URL_SAFE_NO_PAD.decode(s)
        }
        .map_err(|_| PeerIdError::NotBase64)?;
        let bytes: [u8; 32] = decoded
            .as_slice()
            .try_into()
            .map_err(|_| PeerIdError::WrongLength(decoded.len()))?;
        Ok(PeerId(bytes))
    }
}

/// The base64url alphabet.
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Each byte's value as a base64url digit; 0xFF for bytes outside the alphabet.
const DIGITS: [u8; 256] = {
    let mut t = [0xFF; 256];
    let mut i = 0;
    while i < 64 {
        t[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    t
};

/// 43 base64url characters without padding into 32 bytes, as strictly as the `base64`
/// crate's `URL_SAFE_NO_PAD`: only the alphabet, and the last character's two bits beyond
/// the 256th must be zero (so every id has one spelling).
fn decode_unpadded(s: &[u8; 43]) -> Option<[u8; 32]> {
    let d = |c: u8| u32::from(DIGITS[usize::from(c)]);
    let mut out = [0u8; 32];
    // Digits are below 64; an 0xFF anywhere shows in the bits above them.
    let mut seen = 0u32;
    for g in 0..10 {
        let (a, b, c, e) = (
            d(s[4 * g]),
            d(s[4 * g + 1]),
            d(s[4 * g + 2]),
            d(s[4 * g + 3]),
        );
        seen |= a | b | c | e;
        let n = (a << 18) | (b << 12) | (c << 6) | e;
        out[3 * g] = (n >> 16) as u8;
        out[3 * g + 1] = (n >> 8) as u8;
        out[3 * g + 2] = n as u8;
    }
    let (a, b, c) = (d(s[40]), d(s[41]), d(s[42]));
    seen |= a | b | c;
    let n = (a << 12) | (b << 6) | c;
    if seen >= 64 || n & 0b11 != 0 {
        return None;
    }
    out[30] = (n >> 10) as u8;
    out[31] = (n >> 2) as u8;
    Some(out)
}

impl serde::Serialize for PeerId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for PeerId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Parsed where the text lies: serde's `Cow<str>` would copy every id first.
        struct Text;
        impl serde::de::Visitor<'_> for Text {
            type Value = PeerId;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<PeerId, E> {
                s.parse().map_err(E::custom)
            }
        }
        d.deserialize_str(Text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_seed_ids() {
        for s in [
            "aEdeq9bOZws1X5IpBF5aGM6vV6gh_EicHSMoPs5wb40",
            "SMq0oMEVVBNNl3GfMBJfbHVBIRIVa0v6qwoKZflQtAA",
            "AFqlaMJ8IfuwQiuyo_qxa83U_2DTkrJjhGftplwvWZc",
        ] {
            let id: PeerId = s.parse().unwrap();
            assert_eq!(id.to_string(), s);
        }
    }

    #[test]
    fn accepts_padded_form_and_rejects_bad_lengths() {
        let id: PeerId = "aEdeq9bOZws1X5IpBF5aGM6vV6gh_EicHSMoPs5wb40="
            .parse()
            .unwrap();
        assert_eq!(
            id.to_string(),
            "aEdeq9bOZws1X5IpBF5aGM6vV6gh_EicHSMoPs5wb40"
        );
        assert_eq!("abcd".parse::<PeerId>(), Err(PeerIdError::WrongLength(3)));
        assert_eq!("a!".parse::<PeerId>(), Err(PeerIdError::NotBase64));
        assert!("".parse::<PeerId>().is_err());
    }

    /// The stack decode of the usual lengths gives what decoding to a vector gives.
    #[test]
    fn stack_decode_agrees_with_vector_decode() {
        fn by_vector(s: &str) -> Result<PeerId, PeerIdError> {
            let engine = if s.len() == 44 && s.ends_with('=') {
                &URL_SAFE
            } else {
                &URL_SAFE_NO_PAD
            };
            let v = engine.decode(s).map_err(|_| PeerIdError::NotBase64)?;
            <[u8; 32]>::try_from(v.as_slice())
                .map(PeerId)
                .map_err(|_| PeerIdError::WrongLength(v.len()))
        }
        let id = "aEdeq9bOZws1X5IpBF5aGM6vV6gh_EicHSMoPs5wb40";
        let mut cases = vec![
            id.to_string(),
            format!("{id}="),
            // Two pads: 31 bytes.
            format!("{}==", &id[..42]),
            // Non-zero trailing bits, a bad character, padding in the wrong place.
            format!("{}1", &id[..42]),
            format!("{}!", &id[..42]),
            format!("={}", &id[..42]),
            format!("{id}A"),
        ];
        for c in ["-", "_", "+", "/", "A", "z"] {
            cases.push(format!("{c}{}", &id[1..]));
        }
        for s in &cases {
            assert_eq!(s.parse::<PeerId>(), by_vector(s), "{s}");
        }
    }

    /// The hand-written decode of 43 characters agrees with the `base64` crate on every
    /// last character (each trailing-bit pattern) and on seeded random strings of the
    /// alphabet with, now and then, a byte from outside it.
    #[test]
    fn unpadded_decode_agrees_with_the_crate() {
        use rand::{Rng, SeedableRng};
        let crate_decode = |s: &str| -> Option<[u8; 32]> {
            <[u8; 32]>::try_from(URL_SAFE_NO_PAD.decode(s).ok()?.as_slice()).ok()
        };
        let id = "aEdeq9bOZws1X5IpBF5aGM6vV6gh_EicHSMoPs5wb40";
        let mut cases: Vec<Vec<u8>> = (0..=255u8)
            .map(|c| [&id.as_bytes()[..42], &[c]].concat())
            .collect();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(43);
        let outside = b"+/=!. \x00\x7f\xc3\xff";
        for _ in 0..20_000 {
            cases.push(
                (0..43)
                    .map(|_| {
                        if rng.random_ratio(1, 200) {
                            outside[rng.random_range(0..outside.len())]
                        } else {
                            ALPHABET[rng.random_range(0..64)]
                        }
                    })
                    .collect(),
            );
        }
        let mut valid = 0;
        for bytes in &cases {
            let text: &[u8; 43] = bytes.as_slice().try_into().unwrap();
            let want = std::str::from_utf8(bytes).ok().and_then(crate_decode);
            assert_eq!(decode_unpadded(text), want, "{bytes:?}");
            if let Ok(s) = std::str::from_utf8(bytes) {
                assert_eq!(s.parse::<PeerId>().ok(), want.map(PeerId), "{s}");
            }
            valid += usize::from(want.is_some());
        }
        // Both kinds were tried in numbers.
        assert!(valid > 1000 && cases.len() - valid > 1000, "{valid}");
    }

    #[test]
    fn deserializes_from_json_text_with_or_without_escapes() {
        let id = "aEdeq9bOZws1X5IpBF5aGM6vV6gh_EicHSMoPs5wb40";
        let want: PeerId = id.parse().unwrap();
        let plain: PeerId = serde_json::from_str(&format!("\"{id}\"")).unwrap();
        let escaped: PeerId = serde_json::from_str(&format!("\"\\u0061{}\"", &id[1..])).unwrap();
        assert_eq!((plain, escaped), (want, want));
        let e = serde_json::from_str::<PeerId>("1").unwrap_err().to_string();
        assert!(e.contains("expected a string"), "{e}");
        let e = serde_json::from_str::<PeerId>("\"abcd\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("3 bytes"), "{e}");
    }

    #[test]
    fn fingerprint_is_sha256_of_der() {
        // SHA-256 of the empty input, base64url.
        assert_eq!(
            PeerId::from_certificate_der(b"").to_string(),
            "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"
        );
    }
}
