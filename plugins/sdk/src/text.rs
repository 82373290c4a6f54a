//! Helpers for checkers: whitespace tokens, strict floats, `key=value` args.
//! Everything works on bytes: outputs need not be UTF-8.

/// Whether `b` separates tokens: space, `\t`, `\n`, `\r`, `\x0b`, `\x0c`.
#[inline]
pub fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// The whitespace-separated tokens of `text`, without allocating.
pub fn tokens(text: &[u8]) -> Tokens<'_> {
    Tokens { rest: text }
}

/// Iterator returned by [`tokens`].
#[derive(Debug, Clone)]
pub struct Tokens<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Tokens<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        let start = self.rest.iter().position(|&b| !is_space(b))?;
        let rest = &self.rest[start..];
        let len = rest.iter().position(|&b| is_space(b)).unwrap_or(rest.len());
        self.rest = &rest[len..];
        Some(&rest[..len])
    }
}

/// The length of the common prefix of `a` and `b`. Checkers compare big
/// outputs with it: 16 bytes at a time with Wasm SIMD, 8 elsewhere.
pub fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let len = a.len().min(b.len());
    let (a, b) = (&a[..len], &b[..len]);
    #[cfg(target_arch = "wasm32")]
    let mut at = simd::equal_blocks(a, b);
    #[cfg(not(target_arch = "wasm32"))]
    let mut at = 0;
    while at + 8 <= len {
        let word = |s: &[u8]| u64::from_le_bytes(s[at..at + 8].try_into().unwrap_or_default());
        let (x, y) = (word(a), word(b));
        if x != y {
            return at + (x ^ y).trailing_zeros() as usize / 8;
        }
        at += 8;
    }
    at + a[at..].iter().zip(&b[at..]).take_while(|(x, y)| x == y).count()
}

#[cfg(target_arch = "wasm32")]
mod simd {
    use core::arch::wasm32::{i8x16_eq, u8x16_all_true, v128, v128_load};

    /// How many leading bytes of `a` and `b` (of equal length) are equal, in
    /// whole 16-byte blocks.
    #[target_feature(enable = "simd128")]
    pub fn equal_blocks(a: &[u8], b: &[u8]) -> usize {
        let mut at = 0;
        while at + 16 <= a.len() {
            // SAFETY: both slices hold 16 bytes from `at`; `v128_load` has no
            // alignment requirement.
            let (x, y) = unsafe {
                (
                    v128_load(a.as_ptr().add(at).cast::<v128>()),
                    v128_load(b.as_ptr().add(at).cast::<v128>()),
                )
            };
            if !u8x16_all_true(i8x16_eq(x, y)) {
                break;
            }
            at += 16;
        }
        at
    }
}

/// Parses a token as a float the way contestants print them (`12`, `-0.5`,
/// `1e-9`, `nan`, `inf`); `None` when it is not a number.
pub fn parse_float(token: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(token).ok()?;
    let first = *s.as_bytes().first()?;
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.' | b'n' | b'N' | b'i' | b'I'))
    {
        return None;
    }
    s.parse::<f64>().ok()
}

/// Splits `key=value` arguments; a bare `key` has an empty value.
pub fn key_values(args: &[String]) -> impl Iterator<Item = (&str, &str)> {
    args.iter().map(|a| a.split_once('=').unwrap_or((a.as_str(), "")))
}

/// A short, printable excerpt of a token or line for messages.
pub fn excerpt(bytes: &[u8]) -> String {
    const MAX: usize = 40;
    let shown = String::from_utf8_lossy(&bytes[..bytes.len().min(MAX)]).into_owned();
    if bytes.len() > MAX { format!("{shown}…") } else { shown }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_prefix_finds_the_first_difference() {
        let a: Vec<u8> = (0..100u8).collect();
        for cut in 0..a.len() {
            let mut b = a.clone();
            b[cut] ^= 1;
            assert_eq!(common_prefix(&a, &b), cut);
        }
        assert_eq!(common_prefix(&a, &a), a.len());
        assert_eq!(common_prefix(&a, &a[..37]), 37);
        assert_eq!(common_prefix(b"", b"x"), 0);
    }

    #[test]
    fn tokens_skip_any_whitespace() {
        let t: Vec<&[u8]> = tokens(b"  1\t22\r\n\n333 \x0b4").collect();
        assert_eq!(t, [&b"1"[..], b"22", b"333", b"4"]);
        assert_eq!(tokens(b" \n ").count(), 0);
        assert_eq!(tokens(b"").count(), 0);
    }

    #[test]
    fn floats_parse_strictly() {
        assert_eq!(parse_float(b"1e-9"), Some(1e-9));
        assert_eq!(parse_float(b"-0.5"), Some(-0.5));
        assert!(parse_float(b"nan").unwrap().is_nan());
        assert_eq!(parse_float(b"inf"), Some(f64::INFINITY));
        assert_eq!(parse_float(b"abc"), None);
        assert_eq!(parse_float(b"1.2.3"), None);
        assert_eq!(parse_float(b""), None);
    }

    #[test]
    fn args_split_on_the_first_equals() {
        let args = vec!["abs=1e-6".to_string(), "strict".to_string()];
        let kv: Vec<_> = key_values(&args).collect();
        assert_eq!(kv, [("abs", "1e-6"), ("strict", "")]);
    }

    #[test]
    fn excerpts_are_short() {
        assert_eq!(excerpt(b"abc"), "abc");
        assert!(excerpt(&[b'x'; 100]).ends_with('…'));
    }
}
