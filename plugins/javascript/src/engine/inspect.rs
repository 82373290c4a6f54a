//! `console.log` formatting: a subset of Node's `util.format` / `util.inspect`
//! that matches Node's output for the values programs usually print
//! (primitives, arrays, plain objects, class instances, `Map`, `Set`, typed
//! arrays, errors), including Node's line breaking at 80 columns and its
//! grouping of long arrays into columns.

use boa_engine::{
    Context, JsObject, JsResult, JsString, JsValue, JsVariant,
    builtins::{date::Date, error::Error, promise::PromiseState, regexp::RegExp},
    js_string,
    object::builtins::{JsArray, JsMap, JsPromise, JsSet, JsTypedArray},
};

use super::utf8::push_utf8;

/// Nesting shown before objects print as `[Object]` (Node's default `depth: 2`).
const DEPTH: usize = 2;
/// Items of an array shown before `... n more items`.
const MAX_ARRAY: usize = 100;
const BREAK_LENGTH: usize = 80;

/// `util.inspect(value)`; errors thrown while inspecting (by getters or
/// proxies) become a placeholder instead of propagating.
pub fn inspect(ctx: &mut Context, value: &JsValue) -> String {
    let mut inspector = Inspector { seen: Vec::new(), indentation: 0, current_depth: 0 };
    inspector.value(ctx, value, 0).unwrap_or_else(|_| "[object]".to_owned())
}

/// `util.format(...args)` appended to `out` as UTF-8.
pub fn format_args(ctx: &mut Context, args: &[JsValue], out: &mut Vec<u8>) -> JsResult<()> {
    let mut rest = args;
    if let Some(first) = args.first().and_then(JsValue::as_string) {
        rest = &args[1..];
        if rest.is_empty() || !first.iter().any(|c| c == u16::from(b'%')) {
            push_utf8(out, first.as_str());
        } else {
            rest = format_specifiers(ctx, &first, rest, out)?;
        }
        for arg in rest {
            out.push(b' ');
            push_arg(ctx, arg, out);
        }
        return Ok(());
    }
    for (i, arg) in rest.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        push_arg(ctx, arg, out);
    }
    Ok(())
}

/// A top-level argument: strings as they are, anything else inspected.
fn push_arg(ctx: &mut Context, arg: &JsValue, out: &mut Vec<u8>) {
    match arg.variant() {
        JsVariant::String(s) => push_utf8(out, s.as_str()),
        JsVariant::Integer32(i) => out.extend_from_slice(i.to_string().as_bytes()),
        _ => out.extend_from_slice(inspect(ctx, arg).as_bytes()),
    }
}

/// Expands `%s %d %i %f %j %o %O %c %%` in `format`; returns the unused arguments.
fn format_specifiers<'a>(
    ctx: &mut Context,
    format: &JsString,
    mut args: &'a [JsValue],
    out: &mut Vec<u8>,
) -> JsResult<&'a [JsValue]> {
    let text = format.to_std_string_lossy();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            let mut tmp = [0; 4];
            out.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
            continue;
        }
        let Some(&spec) = chars.peek() else {
            out.push(b'%');
            break;
        };
        if spec == '%' {
            chars.next();
            out.push(b'%');
            continue;
        }
        if !"sdifjoOc".contains(spec) || args.is_empty() {
            out.push(b'%');
            continue;
        }
        chars.next();
        let arg = &args[0];
        args = &args[1..];
        let piece = match spec {
            's' => match arg.variant() {
                JsVariant::String(s) => s.to_std_string_lossy(),
                JsVariant::Object(_) | JsVariant::BigInt(_) | JsVariant::Symbol(_) => {
                    inspect(ctx, arg)
                }
                _ => number_or_string(ctx, arg)?,
            },
            'd' | 'i' | 'f' => match arg.variant() {
                JsVariant::BigInt(b) if spec != 'f' => format!("{b}n"),
                JsVariant::Symbol(_) | JsVariant::Object(_) => "NaN".to_owned(),
                _ => {
                    let n = arg.to_number(ctx)?;
                    let n = if spec == 'i' { n.trunc() } else { n };
                    number_string(ctx, n)?
                }
            },
            'j' => {
                let json = ctx.intrinsics().objects().json();
                let stringify = json.get(js_string!("stringify"), ctx)?;
                match stringify
                    .as_callable()
                    .map(|f| f.call(&json.clone().into(), std::slice::from_ref(arg), ctx))
                {
                    Some(Ok(v)) if !v.is_undefined() => v.to_string(ctx)?.to_std_string_lossy(),
                    Some(Ok(_)) => "undefined".to_owned(),
                    _ => "[Circular]".to_owned(),
                }
            }
            'c' => String::new(),
            _ => inspect(ctx, arg),
        };
        out.extend_from_slice(piece.as_bytes());
    }
    Ok(args)
}

fn number_or_string(ctx: &mut Context, v: &JsValue) -> JsResult<String> {
    if let Some(n) = v.as_number() {
        return number_string(ctx, n);
    }
    Ok(v.to_string(ctx)?.to_std_string_lossy())
}

struct Inspector {
    seen: Vec<JsObject>,
    indentation: usize,
    /// Depth of the object formatted last (Node's `ctx.currentDepth`).
    current_depth: usize,
}

impl Inspector {
    fn value(&mut self, ctx: &mut Context, v: &JsValue, depth: usize) -> JsResult<String> {
        Ok(match v.variant() {
            JsVariant::Undefined => "undefined".to_owned(),
            JsVariant::Null => "null".to_owned(),
            JsVariant::Boolean(b) => b.to_string(),
            JsVariant::Integer32(i) => i.to_string(),
            JsVariant::Float64(f) => number_string(ctx, f)?,
            JsVariant::BigInt(b) => format!("{b}n"),
            JsVariant::String(s) => quote(&s.to_std_string_lossy()),
            JsVariant::Symbol(s) => s.descriptive_string().to_std_string_lossy(),
            JsVariant::Object(o) => self.object(ctx, &o, depth)?,
        })
    }

    fn object(&mut self, ctx: &mut Context, o: &JsObject, depth: usize) -> JsResult<String> {
        if self.seen.iter().any(|s| s == o) {
            return Ok("[Circular *1]".to_owned());
        }
        if o.is_callable() {
            let name = o.get(js_string!("name"), ctx)?;
            let name = name.as_string().map(|s| s.to_std_string_lossy()).unwrap_or_default();
            return Ok(if name.is_empty() {
                "[Function (anonymous)]".to_owned()
            } else {
                format!("[Function: {name}]")
            });
        }
        if o.is::<Error>() {
            return error_text(ctx, o);
        }
        if o.is::<RegExp>() || o.is::<Date>() {
            let method =
                if o.is::<Date>() { js_string!("toISOString") } else { js_string!("toString") };
            let f = o.get(method, ctx)?;
            return Ok(match f.as_callable().map(|f| f.call(&o.clone().into(), &[], ctx)) {
                Some(Ok(s)) => s.to_string(ctx)?.to_std_string_lossy(),
                _ => "Invalid Date".to_owned(),
            });
        }
        let constructor = constructor_name(ctx, o)?;
        let is_array = o.is_array();
        let typed = JsTypedArray::from_object(o.clone()).ok();
        let is_map = JsMap::from_object(o.clone()).is_ok();
        let is_set = JsSet::from_object(o.clone()).is_ok();

        let too_deep = depth > DEPTH;
        let (open, close, array_like) = if is_array || typed.is_some() {
            let len = o.get(js_string!("length"), ctx)?.to_length(ctx)?;
            let prefix = match (&typed, constructor.as_deref()) {
                (Some(_), Some(name)) => format!("{name}({len}) "),
                (None, Some(name)) if name != "Array" => format!("{name}({len}) "),
                _ => String::new(),
            };
            if too_deep {
                return Ok("[Array]".to_owned());
            }
            (format!("{prefix}["), "]", true)
        } else {
            let name = constructor.clone();
            if too_deep {
                return Ok(format!("[{}]", name.as_deref().unwrap_or("Object")));
            }
            let prefix = match name.as_deref() {
                None => "[Object: null prototype] ".to_owned(),
                Some("Object") => String::new(),
                Some(n) if is_map || is_set => {
                    let size = o.get(js_string!("size"), ctx)?.to_length(ctx)?;
                    format!("{n}({size}) ")
                }
                Some(n) => format!("{n} "),
            };
            (format!("{prefix}{{"), "}", false)
        };

        self.seen.push(o.clone());
        self.current_depth = depth;
        self.indentation += 2;
        let entries = if array_like {
            self.array_entries(ctx, o, depth)
        } else if is_map || is_set {
            self.collection_entries(ctx, o, depth, is_map)
        } else if let Ok(p) = JsPromise::from_object(o.clone()) {
            match p.state() {
                PromiseState::Pending => Ok(vec!["<pending>".to_owned()]),
                PromiseState::Fulfilled(v) => self.value(ctx, &v, depth + 1).map(|s| vec![s]),
                PromiseState::Rejected(v) => {
                    self.value(ctx, &v, depth + 1).map(|s| vec![format!("<rejected> {s}")])
                }
            }
        } else {
            self.property_entries(ctx, o, depth)
        };
        self.indentation -= 2;
        self.seen.pop();
        let mut entries = entries?;
        if entries.is_empty() {
            let open = open.trim_end_matches(['{', '[']);
            return Ok(format!("{open}{}{close}", if array_like { "[" } else { "{" }));
        }
        let count = entries.len();
        if array_like && count > 6 {
            entries = self.group(ctx, o, entries)?;
        }
        if self.current_depth - depth < 3 && count == entries.len() {
            let start = entries.len() + self.indentation + open.len() + 10;
            let total: usize =
                entries.iter().map(|e| e.chars().count()).sum::<usize>() + entries.len() + start;
            if total + entries.len() <= BREAK_LENGTH {
                let joined = entries.join(", ");
                if !joined.contains('\n') {
                    return Ok(format!("{open} {joined} {close}"));
                }
            }
        }
        let indent = " ".repeat(self.indentation);
        Ok(format!(
            "{open}\n{indent}  {}\n{indent}{close}",
            entries.join(&format!(",\n{indent}  "))
        ))
    }

    fn array_entries(
        &mut self,
        ctx: &mut Context,
        o: &JsObject,
        depth: usize,
    ) -> JsResult<Vec<String>> {
        let len = o.get(js_string!("length"), ctx)?.to_length(ctx)? as usize;
        let shown = len.min(MAX_ARRAY);
        let mut out = Vec::with_capacity(shown + 1);
        let mut i = 0;
        while i < shown {
            if !o.has_property(i, ctx)? {
                let start = i;
                while i < shown && !o.has_property(i, ctx)? {
                    i += 1;
                }
                let n = i - start;
                out.push(format!("<{n} empty item{}>", if n == 1 { "" } else { "s" }));
                continue;
            }
            let v = o.get(i, ctx)?;
            out.push(self.value(ctx, &v, depth + 1)?);
            i += 1;
        }
        if len > shown {
            let n = len - shown;
            out.push(format!("... {n} more item{}", if n == 1 { "" } else { "s" }));
        }
        Ok(out)
    }

    fn collection_entries(
        &mut self,
        ctx: &mut Context,
        o: &JsObject,
        depth: usize,
        is_map: bool,
    ) -> JsResult<Vec<String>> {
        let array_from =
            ctx.intrinsics().constructors().array().constructor().get(js_string!("from"), ctx)?;
        let Some(from) = array_from.as_callable() else { return Ok(Vec::new()) };
        let items = from.call(&JsValue::undefined(), &[o.clone().into()], ctx)?;
        let Some(items) = items.as_object() else { return Ok(Vec::new()) };
        let items = JsArray::from_object(items)?;
        let len = items.length(ctx)? as usize;
        let mut out = Vec::new();
        for i in 0..len.min(MAX_ARRAY) {
            let item = items.at(i as i64, ctx)?;
            if is_map {
                let Some(pair) = item.as_object() else { continue };
                let k = pair.get(0, ctx)?;
                let v = pair.get(1, ctx)?;
                let k = self.value(ctx, &k, depth + 1)?;
                let v = self.value(ctx, &v, depth + 1)?;
                out.push(format!("{k} => {v}"));
            } else {
                out.push(self.value(ctx, &item, depth + 1)?);
            }
        }
        if len > MAX_ARRAY {
            out.push(format!("... {} more items", len - MAX_ARRAY));
        }
        Ok(out)
    }

    fn property_entries(
        &mut self,
        ctx: &mut Context,
        o: &JsObject,
        depth: usize,
    ) -> JsResult<Vec<String>> {
        let object_ctor = ctx.intrinsics().constructors().object().constructor();
        let keys_fn = object_ctor.get(js_string!("keys"), ctx)?;
        let Some(keys_fn) = keys_fn.as_callable() else { return Ok(Vec::new()) };
        let keys = keys_fn.call(&object_ctor.into(), &[o.clone().into()], ctx)?;
        let Some(keys) = keys.as_object() else { return Ok(Vec::new()) };
        let keys = JsArray::from_object(keys)?;
        let mut out = Vec::new();
        for i in 0..keys.length(ctx)? {
            let key = keys.at(i as i64, ctx)?.to_string(ctx)?;
            let v = o.get(key.clone(), ctx)?;
            let key = key.to_std_string_lossy();
            let v = self.value(ctx, &v, depth + 1)?;
            let key = if is_identifier(&key) { key } else { quote(&key) };
            out.push(format!("{key}: {v}"));
        }
        Ok(out)
    }

    /// Node's `groupArrayElements`: many short items laid out in columns.
    fn group(&self, ctx: &mut Context, o: &JsObject, output: Vec<String>) -> JsResult<Vec<String>> {
        let mut output_len = output.len();
        let has_more = output.last().is_some_and(|s| {
            s.starts_with("... ") && s.ends_with(" more items") || s.ends_with(" more item")
        });
        if has_more {
            output_len -= 1;
        }
        let separator_space = 2;
        let data_len: Vec<usize> = output[..output_len].iter().map(|s| s.chars().count()).collect();
        let total_length: usize = data_len.iter().map(|l| l + separator_space).sum();
        let max_length = data_len.iter().copied().max().unwrap_or(0);
        let actual_max = max_length + separator_space;
        if actual_max * 3 + self.indentation < BREAK_LENGTH
            && (total_length as f64 / actual_max as f64 > 5.0 || max_length <= 6)
        {
            let average_bias =
                (actual_max as f64 - total_length as f64 / output.len() as f64).sqrt();
            let biased_max = (actual_max as f64 - 3.0 - average_bias).max(1.0);
            let columns = ((2.5 * biased_max * output_len as f64).sqrt() / biased_max)
                .round()
                .min(((BREAK_LENGTH - self.indentation) / actual_max) as f64)
                .min(12.0)
                .min(15.0) as usize;
            if columns <= 1 {
                return Ok(output);
            }
            let mut max_line_length = Vec::with_capacity(columns);
            for i in 0..columns {
                let mut line_length = 0;
                let mut j = i;
                while j < output_len {
                    line_length = line_length.max(data_len[j]);
                    j += columns;
                }
                max_line_length.push(line_length + separator_space);
            }
            // Numbers are right-aligned, anything else left-aligned.
            let mut numeric = true;
            for i in 0..output_len {
                let v = o.get(i, ctx)?;
                if !(v.is_number() || v.is_bigint()) {
                    numeric = false;
                    break;
                }
            }
            let mut tmp = Vec::new();
            let mut i = 0;
            while i < output_len {
                let max = (i + columns).min(output_len);
                let mut line = String::new();
                let mut j = i;
                while j < max - 1 {
                    let cell = format!("{}, ", output[j]);
                    line.push_str(&pad(&cell, max_line_length[j - i], numeric));
                    j += 1;
                }
                if numeric {
                    line.push_str(&pad(&output[j], max_line_length[j - i] - separator_space, true));
                } else {
                    line.push_str(&output[j]);
                }
                tmp.push(line);
                i += columns;
            }
            if has_more {
                tmp.push(output[output_len].clone());
            }
            return Ok(tmp);
        }
        Ok(output)
    }
}

fn pad(s: &str, width: usize, start: bool) -> String {
    let len = s.chars().count();
    if len >= width {
        return s.to_owned();
    }
    let fill = " ".repeat(width - len);
    if start { format!("{fill}{s}") } else { format!("{s}{fill}") }
}

fn number_string(ctx: &mut Context, f: f64) -> JsResult<String> {
    if f == 0.0 && f.is_sign_negative() {
        return Ok("-0".to_owned());
    }
    Ok(JsValue::from(f).to_string(ctx)?.to_std_string_lossy())
}

/// The name of `o.constructor` found on its prototype chain; `None` for a null prototype.
fn constructor_name(ctx: &mut Context, o: &JsObject) -> JsResult<Option<String>> {
    if o.prototype().is_none() {
        return Ok(None);
    }
    let ctor = o.get(js_string!("constructor"), ctx)?;
    let Some(ctor) = ctor.as_object() else { return Ok(Some("Object".to_owned())) };
    let name = ctor.get(js_string!("name"), ctx)?;
    Ok(Some(
        name.as_string()
            .map(|s| s.to_std_string_lossy())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "Object".to_owned()),
    ))
}

/// `Name: message` and the stack lines of an Error object.
pub fn error_text(ctx: &mut Context, o: &JsObject) -> JsResult<String> {
    let field = |name: JsString, ctx: &mut Context| -> JsResult<String> {
        let v = o.get(name, ctx)?;
        Ok(if v.is_undefined() { String::new() } else { v.to_string(ctx)?.to_std_string_lossy() })
    };
    let name = field(js_string!("name"), ctx)?;
    let message = field(js_string!("message"), ctx)?;
    let stack = field(js_string!("stack"), ctx)?;
    let mut text = match (name.is_empty(), message.is_empty()) {
        (true, _) => format!("Error: {message}"),
        (false, true) => name,
        (false, false) => format!("{name}: {message}"),
    };
    let stack = stack.trim_end();
    if !stack.is_empty() {
        text.push('\n');
        text.push_str(stack);
    }
    Ok(text)
}

fn is_identifier(key: &str) -> bool {
    let mut chars = key.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// A string literal as Node prints it: single quotes unless the string has
/// some (then double quotes, then backticks), with control characters escaped.
pub fn quote(s: &str) -> String {
    let q = if !s.contains('\'') {
        '\''
    } else if !s.contains('"') {
        '"'
    } else if !s.contains('`') && !s.contains("${") {
        '`'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(q);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\\' => out.push_str("\\\\"),
            c if c == q => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02X}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push(q);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(quote("ab"), "'ab'");
        assert_eq!(quote("it's"), "\"it's\"");
        assert_eq!(quote("a\nb"), "'a\\nb'");
    }
}
