//! The globals a contestant expects, native and cheap to install:
//!
//! - V8 `d8` shell: `print`, `printErr`, `write`, `readline`, `quit`;
//! - Node: `console`, `process` (`argv`, `exit`, `exitCode`, `stdout.write`,
//!   `stderr.write`, `stdin` events), `require` of `fs`, `readline`, `events`,
//!   `util`, `os`; `setTimeout` and friends, `queueMicrotask`, `global`,
//!   `module`/`exports`, `performance.now`.
//!
//! `console.error`/`warn`/`trace`/`time*` write to stderr. Output goes through the
//! buffers of [`super::io::Output`]; stdin through [`super::io::Input`].

use std::time::Instant;

use boa_engine::{
    Context, JsNativeError, JsObject, JsResult, JsString, JsValue, NativeFunction, Source,
    error::PanicError,
    job::PromiseJob,
    js_string,
    native_function::NativeFunctionPointer,
    object::{
        FunctionObjectBuilder, ObjectInitializer,
        builtins::{JsArray, JsArrayBuffer, JsFunction, JsTypedArray, JsUint8Array},
    },
    property::{Attribute, PropertyDescriptor},
};

use super::host::{SCRIPT_NAME, SharedHost, Timer};
use super::inspect;
use super::utf8::{push_utf8, string_from_utf8};

/// The host state of this run.
fn shared(ctx: &Context) -> JsResult<SharedHost> {
    ctx.get_data::<SharedHost>()
        .cloned()
        .ok_or_else(|| JsNativeError::error().with_message("runtime not initialised").into())
}

fn function(ctx: &Context, f: NativeFunctionPointer, name: &str, length: usize) -> JsFunction {
    FunctionObjectBuilder::new(ctx.realm(), NativeFunction::from_fn_ptr(f))
        .name(JsString::from(name))
        .length(length)
        .constructor(false)
        .build()
}

/// Defines `name` on `target` as a writable, configurable, non-enumerable
/// property (like a built-in), so `const readline = require('readline')` and
/// `var print = …` still work.
fn define(
    target: &JsObject,
    name: &str,
    value: impl Into<JsValue>,
    ctx: &mut Context,
) -> JsResult<()> {
    target.define_property_or_throw(
        JsString::from(name),
        PropertyDescriptor::builder()
            .value(value)
            .writable(true)
            .enumerable(false)
            .configurable(true),
        ctx,
    )?;
    Ok(())
}

fn define_fn(
    target: &JsObject,
    name: &str,
    f: NativeFunctionPointer,
    len: usize,
    ctx: &mut Context,
) -> JsResult<()> {
    let f = function(ctx, f, name, len);
    define(target, name, f, ctx)
}

/// Which stream a writer function writes to.
#[derive(Clone, Copy)]
enum Stream {
    Out,
    Err,
}

fn write_bytes(ctx: &Context, stream: Stream, bytes: &[u8]) -> JsResult<()> {
    let host = shared(ctx)?;
    let mut h = host.borrow_mut();
    match stream {
        Stream::Out => h.stdout.write(bytes),
        Stream::Err => h.stderr.write(bytes),
    }
    Ok(())
}

/// d8's `print`/`write`: `ToString` of each argument, space-separated.
fn write_plain(
    args: &[JsValue],
    ctx: &mut Context,
    stream: Stream,
    newline: bool,
) -> JsResult<JsValue> {
    let mut out = Vec::new();
    for (i, arg) in args.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        push_utf8(&mut out, arg.to_string(ctx)?.as_str());
    }
    if newline {
        out.push(b'\n');
    }
    write_bytes(ctx, stream, &out)?;
    Ok(JsValue::undefined())
}

fn print(_: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    write_plain(args, ctx, Stream::Out, true)
}

fn print_err(_: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    write_plain(args, ctx, Stream::Err, true)
}

fn write(_: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    write_plain(args, ctx, Stream::Out, false)
}

/// d8's `readline()`: the next line without `\n`/`\r\n`; `undefined` at the end.
fn readline(_: &JsValue, _: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    let host = shared(ctx)?;
    let mut h = host.borrow_mut();
    Ok(match h.input.read_line() {
        Some(line) => string_from_utf8(line).into(),
        None => JsValue::undefined(),
    })
}

/// `console.log` and friends: Node's `util.format` of the arguments.
fn log_to(args: &[JsValue], ctx: &mut Context, stream: Stream, prefix: &str) -> JsResult<JsValue> {
    let mut out = prefix.as_bytes().to_vec();
    inspect::format_args(ctx, args, &mut out)?;
    out.push(b'\n');
    write_bytes(ctx, stream, &out)?;
    Ok(JsValue::undefined())
}

fn console_log(_: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    log_to(args, ctx, Stream::Out, "")
}

fn console_error(_: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    log_to(args, ctx, Stream::Err, "")
}

fn console_trace(_: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    log_to(args, ctx, Stream::Err, "Trace: ")
}

fn console_assert(_: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    if args.first().is_some_and(JsValue::to_boolean) {
        return Ok(JsValue::undefined());
    }
    let rest = args.get(1..).unwrap_or_default();
    if rest.is_empty() {
        return log_to(rest, ctx, Stream::Err, "Assertion failed");
    }
    log_to(rest, ctx, Stream::Err, "Assertion failed: ")
}

fn console_time(_: &JsValue, _: &[JsValue], _: &mut Context) -> JsResult<JsValue> {
    Ok(JsValue::undefined())
}

/// `console.timeEnd`/`timeLog`: the elapsed time since the run started, on stderr
/// (never on stdout, where it would spoil the answer).
fn console_time_end(_: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    let label = match args.first() {
        Some(v) if !v.is_undefined() => v.to_string(ctx)?.to_std_string_lossy(),
        _ => "default".to_owned(),
    };
    let elapsed = started(ctx).elapsed().as_secs_f64() * 1000.0;
    write_bytes(ctx, Stream::Err, format!("{label}: {elapsed:.3}ms\n").as_bytes())?;
    Ok(JsValue::undefined())
}

/// When the run started (for `performance.now` and `console.timeEnd`).
struct Started(Instant);

fn started(ctx: &Context) -> Instant {
    ctx.get_data::<Started>().map_or_else(Instant::now, |s| s.0)
}

fn performance_now(_: &JsValue, _: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    Ok((started(ctx).elapsed().as_secs_f64() * 1000.0).into())
}

/// `process.stdout.write(chunk)`, `process.stderr.write(chunk)`: strings and
/// byte arrays are written as they are; anything else through `ToString`.
fn stream_write(args: &[JsValue], ctx: &mut Context, stream: Stream) -> JsResult<JsValue> {
    let chunk = args.first().cloned().unwrap_or_default();
    let mut out = Vec::new();
    if let Some(bytes) = byte_array(&chunk, ctx)? {
        out = bytes;
    } else {
        push_utf8(&mut out, chunk.to_string(ctx)?.as_str());
    }
    write_bytes(ctx, stream, &out)?;
    // A trailing callback is called once the data is "flushed".
    if let Some(cb) = args.iter().skip(1).find_map(|a| a.as_callable()) {
        let cb = cb.clone();
        enqueue_call(ctx, cb, Vec::new());
    }
    Ok(true.into())
}

fn stdout_write(_: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    stream_write(args, ctx, Stream::Out)
}

fn stderr_write(_: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    stream_write(args, ctx, Stream::Err)
}

/// The bytes of a typed array (a Node `Buffer` is a `Uint8Array`).
fn byte_array(value: &JsValue, ctx: &mut Context) -> JsResult<Option<Vec<u8>>> {
    let Some(obj) = value.as_object() else { return Ok(None) };
    let Ok(array) = JsTypedArray::from_object(obj.clone()) else { return Ok(None) };
    let offset = array.byte_offset(ctx)?;
    let length = array.byte_length(ctx)?;
    let Some(buffer) = array.buffer(ctx)?.as_object() else { return Ok(None) };
    let Ok(buffer) = JsArrayBuffer::from_object(buffer.clone()) else { return Ok(None) };
    Ok(buffer.data().and_then(|data| data.get(offset..offset + length).map(<[u8]>::to_vec)))
}

/// A Node-`Buffer`-like value: a `Uint8Array` whose `toString()` decodes UTF-8.
fn make_buffer(bytes: &[u8], ctx: &mut Context) -> JsResult<JsValue> {
    let buffer = JsArrayBuffer::new(bytes.len(), ctx)?;
    if let Some(mut data) = buffer.data_mut() {
        data.copy_from_slice(bytes);
    }
    let array = JsUint8Array::from_array_buffer(buffer, ctx)?;
    let object: JsObject = array.into();
    define_fn(&object, "toString", buffer_to_string, 0, ctx)?;
    Ok(object.into())
}

fn buffer_to_string(this: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    let bytes = byte_array(this, ctx)?.unwrap_or_default();
    let len = bytes.len();
    let index = |v: Option<&JsValue>, default: usize, ctx: &mut Context| -> JsResult<usize> {
        match v {
            Some(v) if !v.is_undefined() => Ok(v.to_number(ctx)?.clamp(0.0, len as f64) as usize),
            _ => Ok(default),
        }
    };
    let start = index(args.get(1), 0, ctx)?;
    let end = index(args.get(2), len, ctx)?.max(start);
    Ok(string_from_utf8(&bytes[start..end]).into())
}

/// `fs.readFileSync(0 | '/dev/stdin' [, encoding | {encoding}])`: the rest of stdin.
fn read_file_sync(_: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    let target = args.first().cloned().unwrap_or_default();
    let is_stdin = match target.as_number() {
        Some(fd) => fd == 0.0,
        None => target.as_string().is_some_and(|s| {
            matches!(s.to_std_string_lossy().as_str(), "/dev/stdin" | "/proc/self/fd/0" | "0")
        }),
    };
    if !is_stdin {
        let name = target.to_string(ctx)?.to_std_string_lossy();
        return Err(JsNativeError::error()
            .with_message(format!(
                "ENOENT: no such file or directory, open '{name}' (only stdin can be read)"
            ))
            .into());
    }
    let encoding = encoding_of(args.get(1), ctx)?;
    read_all(encoding.is_some(), ctx)
}

/// The encoding option of `readFileSync`/`setEncoding`, if any.
fn encoding_of(option: Option<&JsValue>, ctx: &mut Context) -> JsResult<Option<JsString>> {
    let Some(option) = option else { return Ok(None) };
    if let Some(s) = option.as_string() {
        return Ok(Some(s));
    }
    if let Some(obj) = option.as_object() {
        let enc = obj.get(js_string!("encoding"), ctx)?;
        if let Some(s) = enc.as_string() {
            return Ok(Some(s));
        }
    }
    Ok(None)
}

/// The rest of stdin as a string (`as_string`) or a Buffer-like array.
fn read_all(as_string: bool, ctx: &mut Context) -> JsResult<JsValue> {
    let host = shared(ctx)?;
    let mut h = host.borrow_mut();
    let bytes = h.input.read_all();
    if as_string {
        return Ok(string_from_utf8(bytes).into());
    }
    let bytes = bytes.to_vec();
    drop(h);
    make_buffer(&bytes, ctx)
}

/// `N.readAll(encoding)` for `support.js`.
fn support_read_all(_: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    let as_string = args.first().is_some_and(|v| !v.is_null_or_undefined());
    read_all(as_string, ctx)
}

/// `fs.writeSync(fd, data)`, `fs.writeFileSync('/dev/stdout' | 1, data)`.
fn write_sync(_: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    let target = args.first().cloned().unwrap_or_default();
    let stream = match target.as_number() {
        Some(1.0) => Stream::Out,
        Some(2.0) => Stream::Err,
        _ => match target.as_string().map(|s| s.to_std_string_lossy()).as_deref() {
            Some("/dev/stdout" | "/proc/self/fd/1") => Stream::Out,
            Some("/dev/stderr" | "/proc/self/fd/2") => Stream::Err,
            _ => {
                let name = target.to_string(ctx)?.to_std_string_lossy();
                return Err(JsNativeError::error()
                    .with_message(format!("EACCES: permission denied, open '{name}' (only stdout and stderr can be written)"))
                    .into());
            }
        },
    };
    stream_write(args.get(1..).unwrap_or_default(), ctx, stream)
}

fn exists_sync(_: &JsValue, _: &[JsValue], _: &mut Context) -> JsResult<JsValue> {
    Ok(false.into())
}

/// `process.exit([code])`: unwinds with an error no `catch` can stop.
fn process_exit(_: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    let code = match args.first() {
        Some(v) if !v.is_undefined() => to_code(v, ctx)?,
        _ => exit_code(ctx),
    };
    shared(ctx)?.borrow_mut().exit = Some(code);
    Err(PanicError::new("process.exit").into())
}

fn to_code(v: &JsValue, ctx: &mut Context) -> JsResult<i32> {
    let n = v.to_number(ctx)?;
    Ok(if n.is_finite() { n as i64 as i32 } else { 0 })
}

/// `process.exitCode` (0 when unset or not a number).
pub(crate) fn exit_code(ctx: &mut Context) -> i32 {
    let global = ctx.global_object();
    let Ok(process) = global.get(js_string!("process"), ctx) else { return 0 };
    let Some(process) = process.as_object() else { return 0 };
    match process.get(js_string!("exitCode"), ctx) {
        Ok(v) if !v.is_null_or_undefined() => to_code(&v, ctx).unwrap_or(0),
        _ => 0,
    }
}

/// `require(name)`.
fn require(_: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    let name = args.first().cloned().unwrap_or_default().to_string(ctx)?.to_std_string_lossy();
    let bare = name.strip_prefix("node:").unwrap_or(&name);
    match bare {
        "fs" => Ok(fs_module(ctx)?.into()),
        "readline" | "readline/promises" | "events" => {
            let support = support(ctx)?;
            let module = match bare {
                "events" => {
                    let emitter = support.get(js_string!("EventEmitter"), ctx)?;
                    if let Some(e) = emitter.as_object() {
                        define(&e, "EventEmitter", emitter.clone(), ctx)?;
                    }
                    emitter
                }
                "readline" => support.get(js_string!("readline"), ctx)?,
                _ => {
                    let rl = support.get(js_string!("readline"), ctx)?;
                    match rl.as_object() {
                        Some(rl) => rl.get(js_string!("promises"), ctx)?,
                        None => rl,
                    }
                }
            };
            Ok(module)
        }
        "process" => ctx.global_object().get(js_string!("process"), ctx),
        "util" => {
            let util = ObjectInitializer::new(ctx).build();
            define_fn(&util, "inspect", util_inspect, 2, ctx)?;
            define_fn(&util, "format", util_format, 1, ctx)?;
            Ok(util.into())
        }
        "os" => {
            let os = ObjectInitializer::new(ctx).build();
            define(&os, "EOL", js_string!("\n"), ctx)?;
            Ok(os.into())
        }
        _ => Err(JsNativeError::error()
            .with_message(format!(
                "Cannot find module '{name}' (available: fs, readline, events, util, os, process)"
            ))
            .into()),
    }
}

fn fs_module(ctx: &mut Context) -> JsResult<JsObject> {
    let fs = ObjectInitializer::new(ctx).build();
    define_fn(&fs, "readFileSync", read_file_sync, 2, ctx)?;
    define_fn(&fs, "writeSync", write_sync, 2, ctx)?;
    define_fn(&fs, "writeFileSync", write_sync, 2, ctx)?;
    define_fn(&fs, "existsSync", exists_sync, 1, ctx)?;
    Ok(fs)
}

fn util_inspect(_: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    let value = args.first().cloned().unwrap_or_default();
    Ok(JsString::from(inspect::inspect(ctx, &value)).into())
}

fn util_format(_: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    let mut out = Vec::new();
    inspect::format_args(ctx, args, &mut out)?;
    Ok(string_from_utf8(&out).into())
}

const SUPPORT_JS: &str = include_str!("support.js");

/// The exports of `support.js`, evaluated on first use.
fn support(ctx: &mut Context) -> JsResult<JsObject> {
    let host = shared(ctx)?;
    if let Some(s) = host.borrow().support.clone() {
        return Ok(s);
    }
    let factory = ctx.eval(Source::from_bytes(SUPPORT_JS))?;
    let natives = ObjectInitializer::new(ctx).build();
    define_fn(&natives, "readLine", readline, 0, ctx)?;
    define_fn(&natives, "readAll", support_read_all, 1, ctx)?;
    let factory = factory
        .as_callable()
        .ok_or_else(|| JsNativeError::error().with_message("support.js is not a function"))?;
    let exports = factory.call(&JsValue::undefined(), &[natives.into()], ctx)?;
    let exports = exports
        .as_object()
        .ok_or_else(|| JsNativeError::error().with_message("support.js returned no object"))?;
    host.borrow_mut().support = Some(exports.clone());
    Ok(exports)
}

/// `process.stdin` (a getter, so programs that never touch it do not load
/// `support.js`).
fn process_stdin(_: &JsValue, _: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    support(ctx)?.get(js_string!("stdin"), ctx)
}

/// Emits pending stdin events (`readline` lines, `data`/`end`) if a program
/// registered for them; true when something ran.
pub(crate) fn drive_stdin_events(ctx: &mut Context, host: &SharedHost) -> JsResult<bool> {
    let Some(support) = host.borrow().support.clone() else { return Ok(false) };
    let drive = support.get(js_string!("drive"), ctx)?;
    let Some(drive) = drive.as_callable() else { return Ok(false) };
    Ok(drive.call(&JsValue::undefined(), &[], ctx)?.to_boolean())
}

/// Queues `callback(...args)` as a microtask.
fn enqueue_call(ctx: &mut Context, callback: JsObject, args: Vec<JsValue>) {
    let job = PromiseJob::new(move |ctx| callback.call(&JsValue::undefined(), &args, ctx));
    ctx.enqueue_job(job.into());
}

fn queue_microtask(_: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    let Some(callback) = args.first().and_then(JsValue::as_callable) else {
        return Err(JsNativeError::typ()
            .with_message("The \"callback\" argument must be of type function")
            .into());
    };
    enqueue_call(ctx, callback.clone(), Vec::new());
    Ok(JsValue::undefined())
}

fn next_tick(_: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    let Some(callback) = args.first().and_then(JsValue::as_callable) else {
        return Err(JsNativeError::typ()
            .with_message("The \"callback\" argument must be of type function")
            .into());
    };
    enqueue_call(ctx, callback.clone(), args[1..].to_vec());
    Ok(JsValue::undefined())
}

/// `setTimeout`/`setInterval`/`setImmediate`: timers run in order of due time
/// on a virtual clock once the program and its promise jobs are done; nothing
/// ever waits for real time.
fn add_timer(
    args: &[JsValue],
    ctx: &mut Context,
    repeat: bool,
    immediate: bool,
) -> JsResult<JsValue> {
    let Some(callback) = args.first().and_then(JsValue::as_callable) else {
        return Err(JsNativeError::typ()
            .with_message("The \"callback\" argument must be of type function")
            .into());
    };
    let (delay, rest) = if immediate {
        (0, args.get(1..).unwrap_or_default())
    } else {
        let delay = match args.get(1) {
            Some(v) => v.to_number(ctx)?,
            None => 0.0,
        };
        // Node clamps to at least 1 ms.
        let delay = if delay.is_finite() && delay >= 1.0 { delay.min(1e12) as u64 } else { 1 };
        (delay, args.get(2..).unwrap_or_default())
    };
    let host = shared(ctx)?;
    let mut h = host.borrow_mut();
    h.timer_seq += 1;
    let id = h.timer_seq;
    let due = if immediate { h.now } else { h.now + delay };
    h.timers.insert(
        (due, id),
        Timer {
            id,
            callback: callback.clone(),
            args: rest.to_vec(),
            repeat: repeat.then_some(delay),
        },
    );
    Ok((id as f64).into())
}

fn set_timeout(_: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    add_timer(args, ctx, false, false)
}

fn set_interval(_: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    add_timer(args, ctx, true, false)
}

fn set_immediate(_: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    add_timer(args, ctx, false, true)
}

fn clear_timer(_: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    let Some(id) = args.first().and_then(JsValue::as_number) else {
        return Ok(JsValue::undefined());
    };
    let host = shared(ctx)?;
    host.borrow_mut().timers.retain(|_, t| t.id as f64 != id);
    Ok(JsValue::undefined())
}

/// Runs the earliest timer; false when none is pending.
pub(crate) fn run_next_timer(ctx: &mut Context, host: &SharedHost) -> JsResult<bool> {
    let timer = {
        let mut h = host.borrow_mut();
        let Some(((due, _), timer)) = h.timers.pop_first() else { return Ok(false) };
        h.now = h.now.max(due);
        if let Some(every) = timer.repeat {
            let key = (h.now + every, timer.id);
            h.timers.insert(
                key,
                Timer {
                    id: timer.id,
                    callback: timer.callback.clone(),
                    args: timer.args.clone(),
                    repeat: Some(every),
                },
            );
        }
        timer
    };
    timer.callback.call(&JsValue::undefined(), &timer.args, ctx)?;
    Ok(true)
}

/// Installs every global on a fresh context.
pub(crate) fn install(ctx: &mut Context, args: &[String]) -> JsResult<()> {
    ctx.insert_data(Started(Instant::now()));
    let global = ctx.global_object();

    // d8 shell.
    define_fn(&global, "print", print, 0, ctx)?;
    define_fn(&global, "printErr", print_err, 0, ctx)?;
    define_fn(&global, "write", write, 0, ctx)?;
    define_fn(&global, "readline", readline, 0, ctx)?;
    define_fn(&global, "quit", process_exit, 1, ctx)?;

    // console.
    let console = ObjectInitializer::new(ctx).build();
    for (name, f) in [
        ("log", console_log as NativeFunctionPointer),
        ("info", console_log),
        ("debug", console_log),
        ("dir", console_log),
        ("error", console_error),
        ("warn", console_error),
        ("trace", console_trace),
        ("assert", console_assert),
        ("time", console_time),
        ("timeEnd", console_time_end),
        ("timeLog", console_time_end),
    ] {
        define_fn(&console, name, f, 0, ctx)?;
    }
    define(&global, "console", console, ctx)?;

    // process.
    let argv: Vec<JsValue> = ["node", SCRIPT_NAME]
        .into_iter()
        .map(JsString::from)
        .chain(args.iter().map(|a| JsString::from(a.as_str())))
        .map(JsValue::from)
        .collect();
    let argv = JsArray::from_iter(argv, ctx);
    let stdout =
        ObjectInitializer::new(ctx).property(js_string!("fd"), 1, Attribute::all()).build();
    define_fn(&stdout, "write", stdout_write, 1, ctx)?;
    define(&stdout, "isTTY", false, ctx)?;
    let stderr =
        ObjectInitializer::new(ctx).property(js_string!("fd"), 2, Attribute::all()).build();
    define_fn(&stderr, "write", stderr_write, 1, ctx)?;
    define(&stderr, "isTTY", false, ctx)?;
    let stdin_getter = function(ctx, process_stdin, "get stdin", 0);
    let env = ObjectInitializer::new(ctx).build();
    let process = ObjectInitializer::new(ctx)
        .property(js_string!("argv"), argv, Attribute::all())
        .property(js_string!("env"), env, Attribute::all())
        .property(js_string!("platform"), js_string!("linux"), Attribute::all())
        .property(js_string!("exitCode"), JsValue::undefined(), Attribute::all())
        .property(js_string!("stdout"), stdout, Attribute::all())
        .property(js_string!("stderr"), stderr, Attribute::all())
        .accessor(
            js_string!("stdin"),
            Some(stdin_getter),
            None,
            Attribute::CONFIGURABLE | Attribute::ENUMERABLE,
        )
        .build();
    define_fn(&process, "exit", process_exit, 1, ctx)?;
    define_fn(&process, "nextTick", next_tick, 1, ctx)?;
    define(&global, "process", process, ctx)?;

    // Node module system and globals.
    define_fn(&global, "require", require, 1, ctx)?;
    let exports = ObjectInitializer::new(ctx).build();
    let module = ObjectInitializer::new(ctx)
        .property(js_string!("exports"), exports.clone(), Attribute::all())
        .build();
    define(&global, "module", module, ctx)?;
    define(&global, "exports", exports, ctx)?;
    define(&global, "global", global.clone(), ctx)?;
    define_fn(&global, "setTimeout", set_timeout, 2, ctx)?;
    define_fn(&global, "setInterval", set_interval, 2, ctx)?;
    define_fn(&global, "setImmediate", set_immediate, 1, ctx)?;
    define_fn(&global, "clearTimeout", clear_timer, 1, ctx)?;
    define_fn(&global, "clearInterval", clear_timer, 1, ctx)?;
    define_fn(&global, "clearImmediate", clear_timer, 1, ctx)?;
    define_fn(&global, "queueMicrotask", queue_microtask, 1, ctx)?;
    let performance = ObjectInitializer::new(ctx).build();
    define_fn(&performance, "now", performance_now, 0, ctx)?;
    define(&global, "performance", performance, ctx)?;
    Ok(())
}
