//! A native fast path for the most common sort of competitive programs:
//! `numbers.sort((a, b) => a - b)` (and `b - a`).
//!
//! boa 0.22 calls the comparator through the interpreter for every
//! comparison (about 0.9 s natively for 2·10⁵ numbers). When the comparator's
//! source text is exactly a subtraction of its two parameters and every element
//! is a number (no NaN, no hole), the result of any correct sort is fully
//! determined (the comparator is pure, and `Array.prototype.sort` is stable),
//! so sorting the numbers natively gives the same array. Everything else goes
//! to the original method.

use std::cmp::Ordering;

use boa_engine::{
    Context, JsObject, JsResult, JsValue, NativeFunction, js_string, object::FunctionObjectBuilder,
    property::PropertyDescriptor,
};

/// Arrays shorter than this are left to the original method (it is fast enough).
const MIN_LEN: u64 = 16;
/// Comparators with longer source text are not even looked at.
const MAX_SOURCE: usize = 120;

/// Replaces `Array.prototype.sort`.
pub fn install(ctx: &mut Context) -> JsResult<()> {
    let proto = ctx.intrinsics().constructors().array().prototype();
    let Some(original) = proto.get(js_string!("sort"), ctx)?.as_object() else { return Ok(()) };
    let function_to_string = ctx
        .intrinsics()
        .constructors()
        .function()
        .prototype()
        .get(js_string!("toString"), ctx)?
        .as_object();
    let Some(function_to_string) = function_to_string else { return Ok(()) };
    let f =
        |this: &JsValue, args: &[JsValue], captures: &(JsObject, JsObject), ctx: &mut Context| {
            let (original, to_string) = captures;
            match fast_sort(this, args, to_string, ctx)? {
                Some(sorted) => Ok(sorted),
                None => original.call(this, args, ctx),
            }
        };
    let sort = FunctionObjectBuilder::new(
        ctx.realm(),
        NativeFunction::from_copy_closure_with_captures(f, (original, function_to_string)),
    )
    .name(js_string!("sort"))
    .length(1)
    .build();
    proto.define_property_or_throw(
        js_string!("sort"),
        PropertyDescriptor::builder()
            .value(sort)
            .writable(true)
            .enumerable(false)
            .configurable(true),
        ctx,
    )?;
    Ok(())
}

/// Which way a recognised comparator sorts.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum Direction {
    Ascending,
    Descending,
}

/// Recognises `(a, b) => a - b`, `function (a, b) { return b - a; }` and the
/// like (any two distinct identifiers, optional braces, `return`, `;`).
pub fn numeric_comparator(source: &str) -> Option<Direction> {
    let s = source.trim();
    // `braced`: the body is a statement block, so it must be `return …`.
    let (params, body, braced) = if let Some(rest) = s.strip_prefix("function") {
        let open = rest.find('(')?;
        let name = rest[..open].trim();
        if !name.is_empty() && !is_identifier(name) {
            return None;
        }
        let rest = &rest[open + 1..];
        let close = rest.find(')')?;
        let body = rest[close + 1..].trim().strip_prefix('{')?.strip_suffix('}')?;
        (&rest[..close], body, true)
    } else {
        let arrow = s.find("=>")?;
        let params = s[..arrow].trim().strip_prefix('(')?.strip_suffix(')')?;
        let body = s[arrow + 2..].trim();
        match body.strip_prefix('{') {
            Some(b) => (params, b.strip_suffix('}')?, true),
            None => (params, body, false),
        }
    };
    let mut names = params.split(',').map(str::trim);
    let (a, b) = (names.next()?, names.next()?);
    if names.next().is_some() || !is_identifier(a) || !is_identifier(b) || a == b {
        return None;
    }
    let body = body.trim();
    let expression = if braced {
        let rest = body.strip_prefix("return")?;
        if !rest.starts_with(|c: char| c.is_whitespace() || c == '(') {
            return None;
        }
        rest.trim()
    } else {
        body
    };
    let expression = expression.trim_end_matches(';').trim();
    let expression = match expression.strip_prefix('(').and_then(|e| e.strip_suffix(')')) {
        Some(inner) => inner.trim(),
        None => expression,
    };
    let (left, right) = expression.split_once('-')?;
    let (left, right) = (left.trim(), right.trim());
    match (left, right) {
        (l, r) if l == a && r == b => Some(Direction::Ascending),
        (l, r) if l == b && r == a => Some(Direction::Descending),
        _ => None,
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
        && !matches!(
            s,
            "return" | "function" | "this" | "arguments" | "new" | "typeof" | "void" | "delete"
        )
}

/// The sorted array, or `None` when the original method must decide.
fn fast_sort(
    this: &JsValue,
    args: &[JsValue],
    to_string: &JsObject,
    ctx: &mut Context,
) -> JsResult<Option<JsValue>> {
    let Some(array) = this.as_object() else { return Ok(None) };
    let Some(comparator) = args.first().and_then(JsValue::as_object) else { return Ok(None) };
    if !array.is_array() || !comparator.is_callable() {
        return Ok(None);
    }
    let len = array.get(js_string!("length"), ctx)?.to_length(ctx)?;
    if len < MIN_LEN || len > u64::from(u32::MAX) {
        return Ok(None);
    }
    let source = to_string.call(&comparator.clone().into(), &[], ctx)?;
    let Some(source) = source.as_string() else { return Ok(None) };
    if source.len() > MAX_SOURCE {
        return Ok(None);
    }
    let Some(direction) = numeric_comparator(&source.to_std_string_lossy()) else {
        return Ok(None);
    };
    let mut items = Vec::with_capacity(len as usize);
    for i in 0..len {
        let v = array.get(i, ctx)?;
        match v.as_number() {
            Some(n) if !n.is_nan() => items.push((n, v)),
            _ => return Ok(None),
        }
    }
    // Stable, and -0 equals 0 as `a - b` says.
    let order =
        |x: &(f64, JsValue), y: &(f64, JsValue)| x.0.partial_cmp(&y.0).unwrap_or(Ordering::Equal);
    match direction {
        Direction::Ascending => items.sort_by(order),
        Direction::Descending => items.sort_by(|x, y| order(y, x)),
    }
    for (i, (_, v)) in items.into_iter().enumerate() {
        array.set(i, v, true, ctx)?;
    }
    Ok(Some(this.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparators() {
        use Direction::*;
        for (source, expected) in [
            ("(a, b) => a - b", Some(Ascending)),
            ("(a,b)=>b-a", Some(Descending)),
            ("(x, y) => { return x - y; }", Some(Ascending)),
            ("function (p, q) { return q - p }", Some(Descending)),
            ("function cmp(a, b) {\n  return (a - b);\n}", Some(Ascending)),
            ("(a, b) => a[0] - b[0]", None),
            ("(a, b) => a - b - 1", None),
            ("(a, b) => { a - b }", None),
            ("(a, a) => a - a", None),
            ("(a, b) => a.x - b.x", None),
            ("(a, b) => a - c", None),
            ("a => a - b", None),
            ("(a, b) => { f(); return a - b }", None),
        ] {
            assert_eq!(numeric_comparator(source), expected, "{source}");
        }
    }
}
