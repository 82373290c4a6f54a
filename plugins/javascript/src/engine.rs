//! The JavaScript runtime behind the plugin, independent of the WIT glue so
//! it runs (and is tested) natively.
//!
//! A run is: a QuickJS-NG runtime with the plugin's limits and the globals of
//! `prelude.js` (made once, before the snapshot the host starts every run
//! from), the run's streams attached, the program evaluated as a script, then
//! a small event loop (promise jobs, timers, Node-style stdin events) and one
//! flush of the buffered output.
//!
//! **Invariant:** nothing here panics on any program or input; every failure
//! of the program is an exit status plus a message on its stderr, whose
//! first line is `Uncaught <Name>: <message>` (the judge shows it).

use std::{
    cell::RefCell,
    io::{Read, Write},
    rc::Rc,
};

use rquickjs::{
    Array, CatchResultExt, CaughtError, Context, Ctx, Exception, Function, Object, Persistent,
    Runtime, TypedArray, Value, context::EvalOptions, function::Opt, qjs,
};

use crate::io::{Io, into_string, split_whitespace, text};

/// The name programs see for themselves in stack traces and `process.argv`.
pub const SCRIPT_NAME: &str = "main.js";

/// Bytes of the C stack (on Wasm: the shadow stack in linear memory, 31 MiB
/// from build.rs) QuickJS may use before a `RangeError`; the last 512 KiB
/// are for the C code that runs past the check (throwing the error). A level
/// of recursion takes 288 bytes (`f(n - 1)`: ~111,000 levels) to 352 (a DFS
/// with `for...of`: ~91,000). The host's Wasm stack (`MAX_WASM_STACK`,
/// 160 MiB of native frames, ~800 bytes a level) outlasts it, so a runaway
/// recursion is this error; C code recursing without QuickJS's check (a
/// parser on absurd nesting) meets that limit instead, a trap the host
/// reports as "recursion too deep". Natively (tests, the `run` example)
/// 1 MiB, within a thread's default stack.
pub const STACK_LIMIT: usize =
    if cfg!(target_arch = "wasm32") { (31 << 20) - (512 << 10) } else { 1 << 20 };

const PRELUDE: &str = include_str!("prelude.js");

/// A runtime with the globals installed, ready for one program.
pub struct Engine {
    // Field order is drop order: values before their context and runtime.
    hooks: Persistent<Object<'static>>,
    rejections: Rc<RefCell<Vec<Rejection>>>,
    context: Context,
    runtime: Runtime,
    io: Rc<RefCell<Io>>,
}

/// A rejected promise without a handler (yet).
struct Rejection {
    promise: Persistent<Value<'static>>,
    reason: Persistent<Value<'static>>,
}

/// Checks that `source` is a well-formed script; the error says where it is not.
pub fn compile(source: &[u8]) -> Result<(), String> {
    let text = std::str::from_utf8(source).map_err(|e| {
        let line = source[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count() + 1;
        format!("{SCRIPT_NAME}: invalid UTF-8 on line {line} (byte {})", e.valid_up_to())
    })?;
    let fail = |e: rquickjs::Error| format!("{SCRIPT_NAME}: cannot start QuickJS: {e}");
    let runtime = Runtime::new().map_err(fail)?;
    let context = Context::full(&runtime).map_err(fail)?;
    context.with(|ctx| {
        limit_stack(&ctx);
        let name = std::ffi::CString::new(SCRIPT_NAME).expect("no NUL in the name");
        // Parse only: JS_EVAL_FLAG_COMPILE_ONLY returns the compiled function.
        let flags = (qjs::JS_EVAL_TYPE_GLOBAL | qjs::JS_EVAL_FLAG_COMPILE_ONLY) as i32;
        let mut bytes = text.as_bytes().to_vec();
        bytes.push(0);
        // SAFETY: `bytes` is NUL-terminated and outlives the call; the
        // returned value is owned by the `Value` that frees it.
        let compiled = unsafe {
            let raw = qjs::JS_Eval(
                ctx.as_raw().as_ptr(),
                bytes.as_ptr().cast(),
                text.len() as _,
                name.as_ptr(),
                flags,
            );
            Value::from_raw(ctx.clone(), raw)
        };
        if !compiled.is_exception() {
            return Ok(());
        }
        let error = ctx.catch();
        let text = match error.as_object() {
            Some(e) => {
                let field = |k: &str| e.get::<_, Option<String>>(k).ok().flatten();
                let head = format!(
                    "{}: {}",
                    field("name").unwrap_or_else(|| "SyntaxError".into()),
                    field("message").unwrap_or_default()
                );
                match field("stack").filter(|s| !s.trim().is_empty()) {
                    Some(stack) => format!("{head}\n{}", stack.trim_end()),
                    None => head,
                }
            }
            None => "SyntaxError".to_owned(),
        };
        Err(format!("{SCRIPT_NAME}: {text}"))
    })
}

impl Engine {
    /// A runtime with the plugin's limits and globals, before any run.
    pub fn new() -> Result<Engine, String> {
        let fail = |e: rquickjs::Error| format!("cannot set up the runtime: {e}");
        let runtime = Runtime::new().map_err(fail)?;
        let context = Context::full(&runtime).map_err(fail)?;
        context.with(|ctx| limit_stack(&ctx));
        let io = Rc::new(RefCell::new(Io::default()));
        let rejections: Rc<RefCell<Vec<Rejection>>> = Rc::default();
        let tracked = rejections.clone();
        runtime.set_host_promise_rejection_tracker(Some(Box::new(
            move |ctx, promise, reason, handled| {
                let mut list = tracked.borrow_mut();
                if handled {
                    list.retain(|r| r.promise.clone().restore(&ctx).is_ok_and(|p| p != promise));
                } else {
                    list.push(Rejection {
                        promise: Persistent::save(&ctx, promise),
                        reason: Persistent::save(&ctx, reason),
                    });
                }
            },
        )));
        let hooks = context.with(|ctx| -> Result<_, String> {
            let native = natives(&ctx, &io).map_err(|e| format!("installing natives: {e}"))?;
            let options = eval_options("prelude.js");
            let install: Function = ctx
                .eval_with_options(PRELUDE, options)
                .catch(&ctx)
                .map_err(|e| format!("prelude: {e}"))?;
            let hooks: Object = install
                .call((native, Array::new(ctx.clone()).map_err(fail)?))
                .catch(&ctx)
                .map_err(|e| format!("prelude: {e}"))?;
            Ok(Persistent::save(&ctx, hooks))
        })?;
        Ok(Engine { hooks, rejections, context, runtime, io })
    }

    /// Runs `program` (a script accepted by [`compile`]) with `args` after
    /// the script name in `process.argv`; returns its exit status.
    pub fn run(
        self,
        program: &[u8],
        args: &[String],
        stdin: Box<dyn Read>,
        stdout: Box<dyn Write>,
        stderr: Box<dyn Write>,
    ) -> u8 {
        self.io.borrow_mut().attach(stdin, stdout, stderr);
        let status = match self.execute(program, args) {
            Ok(code) => code,
            Err(text) => {
                if let Some(code) = self.io.borrow().exit {
                    code
                } else {
                    let mut text = format!("Uncaught {text}");
                    if !text.ends_with('\n') {
                        text.push('\n');
                    }
                    self.io.borrow_mut().write(2, text.as_bytes());
                    1
                }
            }
        };
        self.io.borrow_mut().flush();
        self.rejections.borrow_mut().clear();
        (status & 0xff) as u8
    }

    /// The script, then the event loop; `Err` is an uncaught error's text.
    fn execute(&self, program: &[u8], args: &[String]) -> Result<i32, String> {
        let source = into_string(program.to_vec());
        self.context.with(|ctx| {
            let hooks = self.hooks.clone().restore(&ctx).map_err(|e| e.to_string())?;
            let argv = process_argv(&ctx, &hooks, args);
            argv.map_err(|e| e.to_string())?;
            ctx.eval_with_options::<Value, _>(source, eval_options(SCRIPT_NAME))
                .catch(&ctx)
                .map(drop)
                .map_err(|e| self.describe(&ctx, e))
        })?;
        loop {
            match self.runtime.execute_pending_job() {
                Ok(true) => continue,
                Ok(false) => {}
                Err(job) => {
                    return Err(job.0.with(|ctx| {
                        let error = ctx.catch();
                        self.describe(&ctx, CaughtError::from_error(&ctx, ctx.throw(error)))
                    }));
                }
            }
            if let Some(first) = self.rejections.borrow_mut().drain(..).next() {
                return Err(self.context.with(|ctx| {
                    let reason = first
                        .reason
                        .restore(&ctx)
                        .unwrap_or_else(|_| Value::new_undefined(ctx.clone()));
                    let text = self.describe(&ctx, CaughtError::Value(reason));
                    // Node's wording: the first line says where it was thrown.
                    match text.split_once('\n') {
                        Some((head, stack)) => format!("{head} (in promise)\n{stack}"),
                        None => format!("{text} (in promise)"),
                    }
                }));
            }
            let busy = self.context.with(|ctx| {
                let hooks = self.hooks.clone().restore(&ctx).map_err(|e| e.to_string())?;
                let drive: Function = hooks.get("drive").map_err(|e| e.to_string())?;
                drive.call::<_, bool>(()).catch(&ctx).map_err(|e| self.describe(&ctx, e))
            })?;
            if !busy {
                break;
            }
        }
        self.context.with(|ctx| {
            let hooks = self.hooks.clone().restore(&ctx).map_err(|e| e.to_string())?;
            let code: Function = hooks.get("exitCode").map_err(|e| e.to_string())?;
            let code: Option<f64> = code.call(()).unwrap_or(None);
            Ok(code.map_or(0, |c| c as i32))
        })
    }

    /// `Name: message` and the stack of an uncaught error.
    fn describe<'js>(&self, ctx: &Ctx<'js>, error: CaughtError<'js>) -> String {
        let value = match error {
            CaughtError::Exception(e) => e.into_value(),
            CaughtError::Value(v) => v,
            CaughtError::Error(e) => return format!("InternalError: {e}"),
        };
        let described = self.hooks.clone().restore(ctx).and_then(|hooks| {
            let describe: Function = hooks.get("describe")?;
            describe.call::<_, String>((value.clone(),))
        });
        described.unwrap_or_else(|_| {
            // Describing failed (no memory left, say): the bare minimum.
            value
                .as_exception()
                .map(|e| format!("Error: {}", e.message().unwrap_or_default()))
                .unwrap_or_else(|| "a value that cannot be shown".to_owned())
        })
    }
}

/// Sets QuickJS's stack limit to [`STACK_LIMIT`] below where its runtime
/// was made. Directly: rquickjs's `set_max_stack_size` turns any limit above
/// 16 MiB into none at all.
fn limit_stack(ctx: &Ctx<'_>) {
    // SAFETY: the context, and so its runtime, is alive for the call; the
    // runtime was made near the top of the stack, more than STACK_LIMIT
    // above its bottom (on Wasm: at ~31 MiB), so QuickJS's
    // `stack_top - limit` does not wrap.
    unsafe {
        let runtime = qjs::JS_GetRuntime(ctx.as_raw().as_ptr());
        qjs::JS_SetMaxStackSize(runtime, STACK_LIMIT as _);
    }
}

fn eval_options(file: &str) -> EvalOptions {
    let mut options = EvalOptions::default();
    options.global = true;
    options.strict = false;
    options.filename = Some(file.to_owned());
    options
}

/// Puts `args` after the script name in `process.argv`.
fn process_argv<'js>(
    ctx: &Ctx<'js>,
    _hooks: &Object<'js>,
    args: &[String],
) -> rquickjs::Result<()> {
    let process: Object = ctx.globals().get("process")?;
    let argv: Array = process.get("argv")?;
    for (i, arg) in args.iter().enumerate() {
        argv.set(i + 2, arg.as_str())?;
    }
    Ok(())
}

/// The native helpers `prelude.js` builds on (see its header).
fn natives<'js>(ctx: &Ctx<'js>, io: &Rc<RefCell<Io>>) -> rquickjs::Result<Object<'js>> {
    let n = Object::new(ctx.clone())?;
    let i = io.clone();
    n.set(
        "readLine",
        Function::new(ctx.clone(), move |ctx: Ctx<'js>| {
            let mut io = i.borrow_mut();
            match io.read_line() {
                Some(line) => rquickjs::String::from_str(ctx.clone(), &text(line)).map(Value::from),
                None => Ok(Value::new_undefined(ctx)),
            }
        })?,
    )?;
    let i = io.clone();
    n.set(
        "readAll",
        Function::new(ctx.clone(), move |ctx: Ctx<'js>| {
            rquickjs::String::from_str(ctx, &text(i.borrow_mut().read_bytes()))
        })?,
    )?;
    let i = io.clone();
    n.set(
        "readBytes",
        Function::new(ctx.clone(), move |ctx: Ctx<'js>| {
            TypedArray::<u8>::new_copy(ctx, i.borrow_mut().read_bytes())
        })?,
    )?;
    n.set(
        "decode",
        Function::new(ctx.clone(), |bytes: TypedArray<'js, u8>| {
            // SAFETY: no JavaScript runs while the slice is alive.
            let text = unsafe { bytes.as_bytes().map(String::from_utf8_lossy) };
            text.map(|t| t.into_owned()).unwrap_or_default()
        })?,
    )?;
    let i = io.clone();
    n.set(
        "write",
        Function::new(ctx.clone(), move |fd: i32, text: rquickjs::String<'js>| {
            let text = text.to_string()?;
            i.borrow_mut().write(fd, text.as_bytes());
            rquickjs::Result::Ok(())
        })?,
    )?;
    let i = io.clone();
    n.set(
        "exit",
        Function::new(ctx.clone(), move |ctx: Ctx<'js>, code: Opt<Value<'js>>| {
            let code = code.0.and_then(|v| v.as_number()).unwrap_or(0.0) as i32;
            i.borrow_mut().exit = Some(code);
            let error = Exception::from_message(ctx.clone(), "process.exit")?;
            // SAFETY: marks a live error object of this context; QuickJS
            // then unwinds past every `catch` and `finally`.
            unsafe { qjs::JS_SetUncatchableError(ctx.as_raw().as_ptr(), error.as_raw()) };
            rquickjs::Result::<()>::Err(ctx.throw(error.into_value()))
        })?,
    )?;
    n.set(
        "sortNumbers",
        Function::new(ctx.clone(), |array: Array<'js>, descending: bool| {
            sort_numbers(&array, descending)
        })?,
    )?;
    n.set(
        "splitWs",
        Function::new(ctx.clone(), |ctx: Ctx<'js>, text: rquickjs::String<'js>, spaces: bool| {
            let text = text.to_string()?;
            let array = Array::new(ctx.clone())?;
            for (i, piece) in split_whitespace(&text, spaces).into_iter().enumerate() {
                array.set(i, piece)?;
            }
            rquickjs::Result::Ok(array)
        })?,
    )?;
    Ok(n)
}

/// Sorts `array` in place by numeric value, as `(a, b) => a - b` (or
/// `b - a`) would, stably; `false` (nothing changed) when an element is not
/// a number or is NaN, for the caller to fall back on the generic sort.
fn sort_numbers<'js>(array: &Array<'js>, descending: bool) -> rquickjs::Result<bool> {
    let mut keyed = Vec::with_capacity(array.len());
    for i in 0..array.len() {
        let value: Value = array.get(i)?;
        match value.as_number() {
            Some(n) if !n.is_nan() => keyed.push((n, value)),
            _ => return Ok(false),
        }
    }
    // Never NaN, so partial_cmp always answers; -0 and 0 compare equal, as
    // their difference is 0.
    let order = |a: &f64, b: &f64| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal);
    if descending {
        keyed.sort_by(|(a, _), (b, _)| order(b, a));
    } else {
        keyed.sort_by(|(a, _), (b, _)| order(a, b));
    }
    for (i, (_, value)) in keyed.into_iter().enumerate() {
        array.set(i, value)?;
    }
    Ok(true)
}
