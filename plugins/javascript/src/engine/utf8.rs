//! JavaScript strings to and from UTF-8 bytes, as the standard streams and
//! `console.log` formatting need them; shared by `globals` and `inspect`.

use boa_engine::{
    JsString,
    string::{JsStr, JsStrVariant},
};

/// Appends a JavaScript string as UTF-8 (lone surrogates become U+FFFD).
pub fn push_utf8(out: &mut Vec<u8>, s: JsStr<'_>) {
    match s.variant() {
        JsStrVariant::Latin1(bytes) => {
            if bytes.is_ascii() {
                out.extend_from_slice(bytes);
            } else {
                for &b in bytes {
                    let mut tmp = [0; 4];
                    out.extend_from_slice(char::from(b).encode_utf8(&mut tmp).as_bytes());
                }
            }
        }
        JsStrVariant::Utf16(units) => {
            for c in char::decode_utf16(units.iter().copied()) {
                let mut tmp = [0; 4];
                out.extend_from_slice(c.unwrap_or('\u{FFFD}').encode_utf8(&mut tmp).as_bytes());
            }
        }
    }
}

/// A JavaScript string from (possibly invalid) UTF-8 bytes.
pub fn string_from_utf8(bytes: &[u8]) -> JsString {
    if bytes.is_ascii() {
        JsString::from(JsStr::latin1(bytes))
    } else {
        JsString::from(&*String::from_utf8_lossy(bytes))
    }
}
