//! Native replacements for the `String.prototype` methods that boa 0.22 makes
//! O(n) per call (`StringIndexOf` skips a `windows` iterator element by element),
//! which turns the usual input idioms into O(n²): `split`, `indexOf`,
//! `includes` and `replaceAll`.
//!
//! Each replacement handles the common, side-effect-free cases (a string
//! receiver, string arguments, a few whitespace/newline regular expressions)
//! and calls the original method for everything else, so semantics never
//! change — only speed.

use boa_engine::{
    Context, JsObject, JsResult, JsString, JsSymbol, JsValue, NativeFunction, js_string,
    object::{FunctionObjectBuilder, builtins::JsArray, builtins::JsRegExp},
    property::PropertyDescriptor,
    string::{JsStr, JsStrVariant},
};
use boa_gc::{Finalize, Trace};

/// Tokens up to this many code units are copied; longer ones are slices that
/// share the receiver's storage.
const COPY_LIMIT: usize = 48;

/// The methods being replaced, kept for the cases the fast paths do not cover.
#[derive(Trace, Finalize)]
struct Originals {
    method: JsObject,
    regexp_split: JsObject,
    regexp_proto: JsObject,
}

type Fast = fn(&JsValue, &[JsValue], &Originals, &mut Context) -> JsResult<Option<JsValue>>;

/// Replaces `split`, `indexOf`, `includes` and `replaceAll` on `String.prototype`.
pub fn install(ctx: &mut Context) -> JsResult<()> {
    let proto = ctx.intrinsics().constructors().string().prototype();
    let regexp_proto = ctx.intrinsics().constructors().regexp().prototype();
    let regexp_split = regexp_proto
        .get(JsSymbol::split(), ctx)?
        .as_object()
        .ok_or_else(|| boa_engine::JsNativeError::typ().with_message("no RegExp split"))?
        .clone();
    let methods: [(JsString, usize, Fast); 4] = [
        (js_string!("split"), 2, split),
        (js_string!("indexOf"), 1, index_of),
        (js_string!("includes"), 1, includes),
        (js_string!("replaceAll"), 2, replace_all),
    ];
    for (name, length, fast) in methods {
        let Some(method) = proto.get(name.clone(), ctx)?.as_object() else {
            continue;
        };
        let originals = Originals {
            method,
            regexp_split: regexp_split.clone(),
            regexp_proto: regexp_proto.clone(),
        };
        let f =
            move |this: &JsValue, args: &[JsValue], o: &Originals, ctx: &mut Context| match fast(
                this, args, o, ctx,
            )? {
                Some(v) => Ok(v),
                None => o.method.call(this, args, ctx),
            };
        let function = FunctionObjectBuilder::new(
            ctx.realm(),
            NativeFunction::from_copy_closure_with_captures(f, originals),
        )
        .name(name.clone())
        .length(length)
        .build();
        proto.define_property_or_throw(
            name,
            PropertyDescriptor::builder()
                .value(function)
                .writable(true)
                .enumerable(false)
                .configurable(true),
            ctx,
        )?;
    }
    Ok(())
}

/// A separator the fast `split` understands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Separator {
    /// A literal string (never empty).
    Literal(Vec<u16>),
    /// One code unit of a class; with `run`, a maximal run of them (`C+`).
    Class { set: CharSet, run: bool },
    /// `\r?\n` and its spellings: `\r\n` or `\n`.
    Newline,
}

/// A set of code units: JavaScript's `\s` and/or a short list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CharSet {
    pub space: bool,
    pub units: Vec<u16>,
}

impl CharSet {
    #[inline]
    fn contains(&self, c: u16) -> bool {
        (self.space && is_js_space(c)) || self.units.contains(&c)
    }
}

/// `\s` in a JavaScript regular expression: WhiteSpace and LineTerminator.
#[inline]
pub fn is_js_space(c: u16) -> bool {
    match c {
        0x09..=0x0D | 0x20 => true,
        0..0xA0 => false,
        0xA0 | 0x1680 | 0x2000..=0x200A | 0x2028 | 0x2029 | 0x202F | 0x205F | 0x3000 | 0xFEFF => {
            true
        }
        _ => false,
    }
}

/// Recognises the regular-expression sources the fast path handles: one
/// character class optionally followed by `+` (`\s+`, `\s`, `\n`, ` +`,
/// `[ \t]+`, `,`), and the newline spellings (`\r?\n`, `\r\n|\n`, `\n|\r\n`).
/// Letters are refused so the `i` flag never matters; no other flag changes
/// what these patterns match.
pub fn parse_regex_separator(source: &str) -> Option<Separator> {
    if matches!(source, r"\r?\n" | r"\r\n|\n" | r"\n|\r\n" | r"\r\n|\r|\n") {
        // `\r\n|\r|\n` also splits on a lone `\r`: handle it as a class below.
        if source != r"\r\n|\r|\n" {
            return Some(Separator::Newline);
        }
        return None;
    }
    let (body, run) = match source.strip_suffix('+') {
        Some(body) if !body.ends_with('\\') => (body, true),
        _ => (source, false),
    };
    let mut set = CharSet::default();
    let mut items = body.chars().peekable();
    let bracketed = body.starts_with('[') && body.ends_with(']') && body.len() >= 3;
    if bracketed {
        items = body[1..body.len() - 1].chars().peekable();
        if items.peek() == Some(&'^') {
            return None;
        }
    }
    let mut count = 0;
    while let Some(c) = items.next() {
        let unit = match c {
            '\\' => match items.next()? {
                's' => {
                    set.space = true;
                    count += 1;
                    continue;
                }
                'n' => 0x0A,
                'r' => 0x0D,
                't' => 0x09,
                'f' => 0x0C,
                'v' => 0x0B,
                p if p.is_ascii_punctuation() => p as u16,
                _ => return None,
            },
            c if c.is_alphabetic() => return None,
            '^' | '$' | '.' | '|' | '?' | '*' | '+' | '(' | ')' | '[' | ']' | '{' | '}' | '/' => {
                return None;
            }
            // A lone `-` inside brackets would be a range only between two items.
            '-' if bracketed && count > 0 && items.peek().is_some() => return None,
            c if (c as u32) < 0x10000 => c as u32 as u16,
            _ => return None,
        };
        set.units.push(unit);
        count += 1;
    }
    if count == 0 || (!bracketed && count != 1) {
        return None;
    }
    Some(Separator::Class { set, run })
}

/// Where each piece of `s` split by `sep` starts and ends, at most `limit` pieces,
/// following `String.prototype.split` / `RegExp.prototype[@@split]` for
/// separators that never match the empty string.
pub fn split_ranges<T: Copy + Into<u16>>(
    s: &[T],
    sep: &Separator,
    limit: usize,
) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    if limit == 0 {
        return out;
    }
    let unit = |i: usize| -> u16 { s[i].into() };
    let n = s.len();
    // The separator match starting at `q`: its end, if any.
    let mut p = 0;
    let mut q = 0;
    match sep {
        Separator::Literal(lit) => {
            if n == 0 {
                out.push((0, 0));
                return out;
            }
            let first = lit[0];
            let m = lit.len();
            while q + m <= n {
                if unit(q) == first && (1..m).all(|k| unit(q + k) == lit[k]) {
                    out.push((p, q));
                    if out.len() == limit {
                        return out;
                    }
                    q += m;
                    p = q;
                } else {
                    q += 1;
                }
            }
        }
        Separator::Class { set, run } => {
            while q < n {
                if set.contains(unit(q)) {
                    let mut e = q + 1;
                    if *run {
                        while e < n && set.contains(unit(e)) {
                            e += 1;
                        }
                    }
                    out.push((p, q));
                    if out.len() == limit {
                        return out;
                    }
                    p = e;
                    q = e;
                } else {
                    q += 1;
                }
            }
        }
        Separator::Newline => {
            while q < n {
                let c = unit(q);
                let e = if c == u16::from(b'\n') {
                    q + 1
                } else if c == u16::from(b'\r') && q + 1 < n && unit(q + 1) == u16::from(b'\n') {
                    q + 2
                } else {
                    q += 1;
                    continue;
                };
                out.push((p, q));
                if out.len() == limit {
                    return out;
                }
                p = e;
                q = e;
            }
        }
    }
    out.push((p, n));
    out
}

/// A piece of `s`: a copy when short, a shared slice otherwise.
fn piece(s: &JsString, (a, b): (usize, usize)) -> JsValue {
    if b - a > COPY_LIMIT {
        return s.slice(a, b).into();
    }
    let string = match s.as_str().variant() {
        JsStrVariant::Latin1(v) => JsString::from(JsStr::latin1(&v[a..b])),
        JsStrVariant::Utf16(v) => JsString::from(JsStr::utf16(&v[a..b])),
    };
    string.into()
}

/// `ToUint32(limit)` when that has no side effects; `None` means "use the original".
fn plain_limit(limit: Option<&JsValue>) -> Option<usize> {
    match limit {
        None => Some(u32::MAX as usize),
        Some(v) if v.is_undefined() => Some(u32::MAX as usize),
        Some(v) => {
            let n = v.as_number()?;
            // ToUint32 of a number.
            if !n.is_finite() {
                return Some(0);
            }
            Some(n.trunc().rem_euclid(4_294_967_296.0) as u32 as usize)
        }
    }
}

fn split(
    this: &JsValue,
    args: &[JsValue],
    o: &Originals,
    ctx: &mut Context,
) -> JsResult<Option<JsValue>> {
    let Some(s) = this.as_string() else { return Ok(None) };
    let Some(sep_value) = args.first() else { return Ok(None) };
    let sep = if let Some(t) = sep_value.as_string() {
        if t.is_empty() {
            return Ok(None);
        }
        Separator::Literal(t.iter().collect())
    } else if let Some(obj) = sep_value.as_object() {
        // Only a plain RegExp whose @@split is the built-in one.
        if obj.prototype().as_ref() != Some(&o.regexp_proto) {
            return Ok(None);
        }
        let splitter = obj.get(JsSymbol::split(), ctx)?;
        if splitter.as_object().as_ref() != Some(&o.regexp_split) {
            return Ok(None);
        }
        let Ok(rx) = JsRegExp::from_object(obj.clone()) else { return Ok(None) };
        match parse_regex_separator(&rx.source(ctx)?) {
            Some(sep) => sep,
            None => return Ok(None),
        }
    } else {
        return Ok(None);
    };
    let Some(limit) = plain_limit(args.get(1)) else { return Ok(None) };
    let s = s.clone();
    let ranges = match s.as_str().variant() {
        JsStrVariant::Latin1(v) => split_ranges(v, &sep, limit),
        JsStrVariant::Utf16(v) => split_ranges(v, &sep, limit),
    };
    let array = JsArray::from_iter(ranges.into_iter().map(|r| piece(&s, r)), ctx);
    Ok(Some(array.into()))
}

/// First index of `needle` in `hay` at or after `from`.
pub fn find<T: Copy + Into<u16>>(hay: &[T], needle: &[u16], from: usize) -> Option<usize> {
    let m = needle.len();
    if m == 0 {
        return (from <= hay.len()).then_some(from);
    }
    let first = needle[0];
    let mut i = from;
    while i + m <= hay.len() {
        if hay[i].into() == first && (1..m).all(|k| hay[i + k].into() == needle[k]) {
            return Some(i);
        }
        i += 1;
    }
    None
}

fn find_in(hay: &JsString, needle: &JsString, from: usize) -> Option<usize> {
    let needle: Vec<u16> = needle.iter().collect();
    match hay.as_str().variant() {
        JsStrVariant::Latin1(v) => {
            if needle.len() == 1 && needle[0] < 0x100 {
                return crate::engine::io::memchr(needle[0] as u8, v.get(from..)?)
                    .map(|i| i + from);
            }
            find(v, &needle, from)
        }
        JsStrVariant::Utf16(v) => find(v, &needle, from),
    }
}

/// `ToIntegerOrInfinity(position)` clamped to `[0, len]`, when side-effect free.
fn plain_position(pos: Option<&JsValue>, len: usize) -> Option<usize> {
    match pos {
        None => Some(0),
        Some(v) if v.is_undefined() => Some(0),
        Some(v) => {
            let n = v.as_number()?;
            if n.is_nan() || n <= 0.0 {
                Some(0)
            } else {
                Some(if n >= len as f64 { len } else { n as usize })
            }
        }
    }
}

fn index_of(
    this: &JsValue,
    args: &[JsValue],
    _: &Originals,
    _: &mut Context,
) -> JsResult<Option<JsValue>> {
    let (Some(s), Some(needle)) = (this.as_string(), args.first().and_then(JsValue::as_string))
    else {
        return Ok(None);
    };
    let Some(from) = plain_position(args.get(1), s.len()) else { return Ok(None) };
    Ok(Some(find_in(&s, &needle, from).map_or(-1.0, |i| i as f64).into()))
}

fn includes(
    this: &JsValue,
    args: &[JsValue],
    _: &Originals,
    _: &mut Context,
) -> JsResult<Option<JsValue>> {
    let (Some(s), Some(needle)) = (this.as_string(), args.first().and_then(JsValue::as_string))
    else {
        return Ok(None);
    };
    let Some(from) = plain_position(args.get(1), s.len()) else { return Ok(None) };
    Ok(Some(find_in(&s, &needle, from).is_some().into()))
}

fn replace_all(
    this: &JsValue,
    args: &[JsValue],
    _: &Originals,
    _: &mut Context,
) -> JsResult<Option<JsValue>> {
    let (Some(s), Some(needle), Some(with)) = (
        this.as_string(),
        args.first().and_then(JsValue::as_string),
        args.get(1).and_then(JsValue::as_string),
    ) else {
        return Ok(None);
    };
    if needle.is_empty() || with.iter().any(|c| c == u16::from(b'$')) {
        return Ok(None);
    }
    let mut out: Vec<u16> = Vec::with_capacity(s.len());
    let with: Vec<u16> = with.iter().collect();
    let mut last = 0;
    let mut from = 0;
    while let Some(i) = find_in(&s, &needle, from) {
        out.extend(s.as_str().get(last..i).into_iter().flat_map(|p| p.iter()));
        out.extend_from_slice(&with);
        last = i + needle.len();
        from = last;
    }
    out.extend(s.as_str().get(last..).into_iter().flat_map(|p| p.iter()));
    // Latin-1 when possible keeps later operations on the fast byte paths.
    let string = if out.iter().all(|&c| c < 0x100) {
        let bytes: Vec<u8> = out.iter().map(|&c| c as u8).collect();
        JsString::from(JsStr::latin1(&bytes))
    } else {
        JsString::from(&out[..])
    };
    Ok(Some(string.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(s: &str, sep: &Separator) -> Vec<String> {
        let units: Vec<u16> = s.encode_utf16().collect();
        split_ranges(&units, sep, usize::MAX)
            .into_iter()
            .map(|(a, b)| String::from_utf16(&units[a..b]).unwrap())
            .collect()
    }

    #[test]
    fn regex_sources() {
        let ws = |run| Separator::Class { set: CharSet { space: true, units: vec![] }, run };
        assert_eq!(parse_regex_separator(r"\s+"), Some(ws(true)));
        assert_eq!(parse_regex_separator(r"\s"), Some(ws(false)));
        assert_eq!(parse_regex_separator(r"\r?\n"), Some(Separator::Newline));
        assert_eq!(
            parse_regex_separator(r"[ \t]+"),
            Some(Separator::Class { set: CharSet { space: false, units: vec![32, 9] }, run: true })
        );
        for refused in
            [r"\s*", r"a", r"[a-z]+", r"\d+", r"(\s)", r"\s+|,", r"[^ ]", r"\r\n|\r|\n", "", "+"]
        {
            assert_eq!(parse_regex_separator(refused), None, "{refused}");
        }
    }

    #[test]
    fn split_matches_javascript() {
        let ws = Separator::Class { set: CharSet { space: true, units: vec![] }, run: true };
        assert_eq!(pieces("  1 2\n3  ", &ws), ["", "1", "2", "3", ""]);
        assert_eq!(pieces("", &ws), [""]);
        let sp = Separator::Literal(vec![32]);
        assert_eq!(pieces("1  2", &sp), ["1", "", "2"]);
        assert_eq!(pieces("", &sp), [""]);
        let nl = Separator::Newline;
        assert_eq!(pieces("a\r\nb\n\rc\r", &nl), ["a", "b", "\rc\r"]);
        let lit = Separator::Literal("ab".encode_utf16().collect());
        assert_eq!(pieces("xababyab", &lit), ["x", "", "y", ""]);
        let units: Vec<u16> = "a b c".encode_utf16().collect();
        assert_eq!(split_ranges(&units, &sp, 2), [(0, 1), (2, 3)]);
    }

    #[test]
    fn find_units() {
        let hay: Vec<u16> = "abcabc".encode_utf16().collect();
        assert_eq!(find(&hay, &[98, 99], 0), Some(1));
        assert_eq!(find(&hay, &[98, 99], 2), Some(4));
        assert_eq!(find(&hay, &[], 6), Some(6));
        assert_eq!(find(&hay, &[], 7), None);
    }
}
