//! Making peer-controlled text safe to store and to print.
//!
//! Hostnames, header values and error texts come from nodes we do not control. Before they
//! reach a terminal or a log they pass through here: control and bidi characters are
//! escaped, and the length is capped.

/// Escapes control and bidirectional-override characters as `\u{..}` and caps the result at
/// `max_chars` characters (an ellipsis marks a cut).
pub fn sanitize(s: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max_chars.saturating_add(8)));
    for (n, c) in s.chars().enumerate() {
        if n >= max_chars {
            out.push('…');
            break;
        }
        if c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// [`sanitize`] for raw bytes that may not be UTF-8.
pub fn sanitize_bytes(b: &[u8], max_chars: usize) -> String {
    // Header values are nearly always short printable ASCII, which passes unchanged: one
    // copy instead of a UTF-8 check, a char-by-char rebuild and a second allocation.
    if b.len() <= max_chars
        && b.iter().all(|c| (0x20..0x7f).contains(c))
        && let Ok(text) = std::str::from_utf8(b)
    {
        return text.to_owned();
    }
    sanitize(&String::from_utf8_lossy(b), max_chars)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_controls_and_caps_length() {
        assert_eq!(sanitize("2.32.0", 10), "2.32.0");
        assert_eq!(sanitize("a\nb\u{1b}[31m", 20), "a\\u{a}b\\u{1b}[31m");
        assert_eq!(sanitize("abc\u{202e}d", 20), "abc\\u{202e}d");
        assert_eq!(sanitize("abcdef", 3), "abc…");
        // No cap at all is a cap too, not an overflow.
        assert_eq!(sanitize("a\u{1b}", usize::MAX), "a\\u{1b}");
        assert_eq!(sanitize_bytes(b"ab", usize::MAX), "ab");
        assert_eq!(sanitize_bytes(b"\xff1", 5), "\u{fffd}1");
    }

    /// The printable-ASCII shortcut gives exactly what the general path gives, at and
    /// around the length cap and for every byte value.
    #[test]
    fn bytes_shortcut_matches_the_general_path() {
        let general = |b: &[u8], n: usize| sanitize(&String::from_utf8_lossy(b), n);
        let mut bodies: Vec<Vec<u8>> = (0u8..=255).map(|c| vec![b'a', c, b'z']).collect();
        bodies.extend([
            b"".to_vec(),
            b"2.32.0".to_vec(),
            b"abcdef".to_vec(),
            b"~ \x7f".to_vec(),
        ]);
        for b in &bodies {
            for n in [0, 1, 2, 3, 4, 6, 7, 100] {
                assert_eq!(sanitize_bytes(b, n), general(b, n), "{b:?} capped at {n}");
            }
        }
    }
}
