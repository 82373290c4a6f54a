//! Gavel's `rustpython` language plugin: Python 3 on RustPython 0.5 with its
//! standard library frozen into the component (`import math, collections,
//! heapq, re, json` need no files).
//!
//! Booting the interpreter (builtins, `sys`, importlib, encodings) is most of
//! a run's cost, so the plugin targets the `preinit-language` world: `init`
//! boots it, installs the standard streams (`streams.rs`, `prelude.py`) and
//! imports the modules contestants use most; the host snapshots that state
//! once and every `compile` and `run` starts from the snapshot. Without a
//! snapshot the first call boots the interpreter itself.
//!
//! `compile` only checks the syntax and returns the source: compiling it again
//! in `run` costs far less than a run's start.

mod streams;

use std::cell::OnceCell;

use gavel_sdk::language::{Info, Language};
use rustpython_vm::compiler::{CompileError, Mode};
use rustpython_vm::{AsObject, Interpreter, PyResult, Settings, VirtualMachine};

/// The name programs see for themselves (tracebacks, `sys.argv[0]`).
const SCRIPT_NAME: &str = "main.py";

/// Python's default recursion limit; the Wasm stack (see `build.rs`) holds it.
const RECURSION_LIMIT: usize = 1000;

/// Modules imported at `init`, so programs that use them start faster.
const WARM_MODULES: &str = "import math, collections, heapq, re, json, itertools, functools, \
    bisect, string, operator, copy, typing, dataclasses, fractions, decimal, datetime, array, \
    linecache, traceback";

thread_local! {
    /// The interpreter: booted by `init` (and then part of the snapshot), or
    /// on first use when the host did not pre-initialise the plugin.
    static INTERPRETER: OnceCell<Interpreter> = const { OnceCell::new() };
    /// Why `prelude.py` failed, if it did.
    static BOOT_ERROR: OnceCell<String> = const { OnceCell::new() };
}

/// Creates the interpreter and installs Gavel's streams and builtins; a
/// failure of the latter (a bug of this plugin) is kept for `run` to report.
fn boot() -> Interpreter {
    let mut settings = Settings::default();
    settings.isolated = true;
    settings.ignore_environment = true;
    settings.import_site = false;
    settings.install_signal_handlers = false;
    settings.user_site_directory = false;
    settings.write_bytecode = false;
    let builder = Interpreter::builder(settings);
    let modules = rustpython_stdlib::stdlib_module_defs(&builder.ctx);
    let interpreter = builder
        .add_native_modules(&modules)
        .add_frozen_modules(rustpython_pylib::FROZEN_STDLIB)
        .build();
    interpreter.enter(|vm| {
        vm.recursion_limit.set(RECURSION_LIMIT);
        if let Err(e) = install_prelude(vm) {
            let message = e.as_object().repr(vm).map_or_else(|_| "?".into(), |r| r.to_string());
            BOOT_ERROR.with(|error| drop(error.set(message)));
        }
    });
    interpreter
}

/// Runs `prelude.py` with the native stream functions as its globals.
fn install_prelude(vm: &VirtualMachine) -> PyResult<()> {
    let scope = vm.new_scope_with_builtins();
    for (name, function) in streams::natives(vm) {
        scope.globals.set_item(name, function, vm)?;
    }
    vm.run_string(scope, include_str!("prelude.py"), "<gavel prelude>".into()).map(drop)
}

fn with_vm<R>(f: impl FnOnce(&VirtualMachine) -> R) -> R {
    INTERPRETER.with(|cell| cell.get_or_init(boot).enter(f))
}

struct Python;

impl Language for Python {
    fn info() -> Info {
        Info {
            id: "rustpython".into(),
            name: "Python 3 (RustPython 0.5.0)".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            source_file: SCRIPT_NAME.into(),
            // The host's figure from before languages carried their own.
            fuel_per_ms: 5_000_000,
            fuel_per_cpu_ms: 5_000_000,
        }
    }

    fn init() {
        // A failed warm-up only costs speed: the run imports what it needs.
        with_vm(|vm| drop(vm.run_simple_string(WARM_MODULES)));
    }

    fn compile(source: Vec<u8>) -> Result<Vec<u8>, String> {
        let text = std::str::from_utf8(&source).map_err(|e| {
            let line = source[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count() + 1;
            format!("{SCRIPT_NAME}, line {line}: SyntaxError: the source is not valid UTF-8")
        })?;
        with_vm(|vm| match vm.compile(text, Mode::Exec, SCRIPT_NAME.into()) {
            Ok(_) => Ok(()),
            Err(error) => Err(syntax_error_message(vm, &error, text)),
        })?;
        Ok(source)
    }

    fn run(program: Vec<u8>, args: Vec<String>) -> u8 {
        let source = String::from_utf8_lossy(&program);
        if let Some(error) = with_vm(|_| BOOT_ERROR.with(|error| error.get().cloned())) {
            eprintln!("the rustpython plugin could not start: {error}");
            return 1;
        }
        let status = with_vm(|vm| {
            let status = match run_main(vm, &source, args) {
                Ok(()) => 0,
                // Prints the traceback (or `sys.exit`'s message) to stderr.
                Err(exception) => vm.handle_exit_exception(exception),
            };
            // A program may have replaced `sys.stdout` with its own file.
            for name in ["stdout", "stderr"] {
                if let Ok(stream) = vm.sys_module.get_attr(name, vm) {
                    let _ = vm.call_method(&stream, "flush", ());
                }
            }
            status
        });
        streams::flush_all();
        // `sys.exit(n)` outside 0..=255 (negative ones arrive wrapped) must
        // not look like success.
        u8::try_from(status).unwrap_or(u8::MAX)
    }
}

/// Sets `sys.argv` and runs `source` as `__main__`.
fn run_main(vm: &VirtualMachine, source: &str, args: Vec<String>) -> PyResult<()> {
    let argv = std::iter::once(SCRIPT_NAME.to_owned()).chain(args);
    let argv = argv.map(|arg| vm.ctx.new_str(arg).into()).collect();
    vm.sys_module.set_attr("argv", vm.ctx.new_list(argv), vm)?;
    let scope = vm.new_scope_with_main()?;
    scope.globals.set_item("__file__", vm.ctx.new_str(SCRIPT_NAME).into(), vm)?;
    vm.run_string(scope, source, SCRIPT_NAME.into()).map(drop)
}

/// `main.py, line 3: SyntaxError: expected ':'` and the line with a caret
/// under the error, as CPython reports it.
fn syntax_error_message(vm: &VirtualMachine, error: &CompileError, source: &str) -> String {
    let exception = vm.new_syntax_error(error, Some(source));
    let kind = exception.class().name().to_string();
    let message = exception
        .as_object()
        .get_attr("msg", vm)
        .and_then(|msg| msg.str(vm))
        .map_or_else(|_| error.to_string(), |msg| msg.to_string());
    let (line, column) = error.python_location();
    let mut text = format!("{SCRIPT_NAME}, line {line}: {kind}: {message}");
    if let Some(code) = source.lines().nth(line.wrapping_sub(1)) {
        let indent = code.len() - code.trim_start().len();
        let caret = column.saturating_sub(1).saturating_sub(indent);
        text += &format!("\n    {}\n    {}^", code.trim(), " ".repeat(caret));
    }
    text
}

gavel_sdk::export_language!(Python, preinit);
