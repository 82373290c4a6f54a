//! The hostile-plugin catalogue: components written to break the loader or
//! the first call, in WebAssembly text, each with the clear error or failure
//! it must end in — never a panic, never a hang.
//!
//! One table, one test: add a case by adding a row to [`CASES`].

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use Expect::{CheckFails, Loads, Refused};
use Refusal::{Info, Invalid, NotAComponent, Start, WrongWorld};
use judge_core::{CheckVerdict, Checker};
use plugin_host::{CallLimits, HostConfig, Plugin, PluginError, PluginHost};

/// A hostile plugin and what must become of it.
struct Case {
    name: &'static str,
    wasm: Wasm,
    expect: Expect,
}

/// The plugin's bytes.
enum Wasm {
    Bytes(&'static [u8]),
    /// WebAssembly text: a core module or a component.
    Wat(&'static str),
}

/// Which [`PluginError`] a refusal is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    NotAComponent,
    WrongWorld,
    Start,
    Info,
    Invalid,
}

/// The outcome. Its text must appear in the message; `a|b` means either
/// (for a budget that two limits race to end).
enum Expect {
    /// `load` refuses it with this error.
    Refused(Refusal, &'static str),
    /// It loads as a checker; its first `check` fails with this message
    /// (the empty text: it answers `accepted`).
    CheckFails(&'static str),
    /// It loads (a control, or a case whose defence is elsewhere).
    Loads,
}

/// Whether `message` says what `expected` asks for.
fn says(message: &str, expected: &str) -> bool {
    expected.split('|').any(|text| message.contains(text))
}

/// How long any case may take, loading and first call together.
const BOUND: Duration = Duration::from_secs(5);

/// A checker-world component, optionally with imports, around the core
/// module `$m` whose body is the last argument: it must define `memory`,
/// `realloc`, `info` and `check` (see `checker_core!`).
macro_rules! checker {
    ($core:expr) => {
        checker!("", $core)
    };
    ($imports:expr, $core:expr) => {
        concat!(
            "(component ",
            $imports,
            " (core module $m ",
            $core,
            r#")
  (core instance $i (instantiate $m))
  (type $plugin-info' (record (field "id" string) (field "name" string) (field "version" string)))
  (export $plugin-info "plugin-info" (type $plugin-info'))
  (type $partial' (record (field "score" f64) (field "message" string)))
  (export $partial "partial-score" (type $partial'))
  (type $verdict' (variant (case "accepted") (case "wrong-answer" string)
    (case "presentation-error" string) (case "partial" $partial) (case "fail" string)))
  (export $verdict "verdict" (type $verdict'))
  (func (export "info") (result $plugin-info)
    (canon lift (core func $i "info") (memory $i "memory") (realloc (func $i "realloc"))))
  (func (export "check") (param "input" (list u8)) (param "expected" (list u8))
    (param "actual" (list u8)) (param "args" (list string)) (result $verdict)
    (canon lift (core func $i "check") (memory $i "memory") (realloc (func $i "realloc")))))"#
        )
    };
}

/// The core of a checker whose `info` answers `hostile` three times (a
/// record of three strings at 0), with 1 page of memory unless told; the
/// arguments add `check` (e.g. `accept!()`) and anything else. Data segments
/// given here overwrite the ones above.
macro_rules! checker_core {
    ($($extra:expr),*) => {
        checker_core!(memory: "1", $($extra),*)
    };
    (memory: $pages:expr, $($extra:expr),*) => {
        concat!(
            r#"(memory (export "memory") "#,
            $pages,
            r#")
  (data (i32.const 0) "\20\00\00\00\07\00\00\00\20\00\00\00\07\00\00\00\20\00\00\00\07\00\00\00")
  (data (i32.const 32) "hostile")
  (global $bump (mut i32) (i32.const 1024))
  (func (export "realloc") (param i32 i32 i32 i32) (result i32)
    (global.get $bump)
    (global.set $bump (i32.add (global.get $bump) (i32.const 4096))))
  (func (export "info") (result i32) (i32.const 0))
"#,
            $($extra,)*
        )
    };
}

/// A language-world component whose core module's body is the argument: it
/// must define `memory`, `realloc`, `info`, `compile`, `run` and `init`
/// (see `language_core!`).
macro_rules! language {
    ($core:expr) => {
        concat!(
            "(component (core module $m ",
            $core,
            r#")
  (core instance $i (instantiate $m))
  (type $language-info' (record (field "id" string) (field "name" string)
    (field "version" string) (field "source-file" string)
    (field "fuel-per-ms" u64) (field "fuel-per-cpu-ms" u64)))
  (export $language-info "language-info" (type $language-info'))
  (func (export "info") (result $language-info)
    (canon lift (core func $i "info") (memory $i "memory") (realloc (func $i "realloc"))))
  (func (export "compile") (param "source" (list u8)) (result (result (list u8) (error string)))
    (canon lift (core func $i "compile") (memory $i "memory") (realloc (func $i "realloc"))))
  (func (export "run") (param "program" (list u8)) (param "args" (list string)) (result u8)
    (canon lift (core func $i "run") (memory $i "memory") (realloc (func $i "realloc"))))
  (func (export "init") (canon lift (core func $i "init"))))"#
        )
    };
}

/// The core of a language whose `info` says `hostile` / `main.hostile` and
/// 5 M fuel per ms (both figures), whose `compile` returns an empty program
/// and whose `run` exits 0; the argument is its `init` (data segments given
/// there overwrite the ones above).
macro_rules! language_core {
    ($init:expr) => {
        concat!(
            r#"(memory (export "memory") 1)
  (data (i32.const 0) "\40\00\00\00\07\00\00\00\40\00\00\00\07\00\00\00")
  (data (i32.const 16) "\40\00\00\00\07\00\00\00\47\00\00\00\0c\00\00\00")
  (data (i32.const 32) "\40\4b\4c\00\00\00\00\00\40\4b\4c\00\00\00\00\00")
  (data (i32.const 64) "hostilemain.hostile")
  (global $bump (mut i32) (i32.const 1024))
  (func (export "realloc") (param i32 i32 i32 i32) (result i32)
    (global.get $bump)
    (global.set $bump (i32.add (global.get $bump) (i32.const 4096))))
  (func (export "info") (result i32) (i32.const 0))
  (func (export "compile") (param i32 i32) (result i32) (i32.const 256))
  (func (export "run") (param i32 i32 i32 i32) (result i32) (i32.const 0))
"#,
            $init
        )
    };
}

/// A `check` that answers `accepted`.
macro_rules! accept {
    () => {
        r#"(func (export "check") (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32) (i32.const 256))"#
    };
}

const CASES: &[Case] = &[
    Case {
        name: "not wasm at all",
        wasm: Wasm::Bytes(b"hello"),
        expect: Refused(NotAComponent, "missing the `\\0asm` header"),
    },
    Case {
        name: "an empty file",
        wasm: Wasm::Bytes(b""),
        expect: Refused(NotAComponent, "missing the `\\0asm` header"),
    },
    Case {
        name: "a core module header",
        wasm: Wasm::Bytes(b"\0asm\x01\0\0\0"),
        expect: Refused(NotAComponent, "a core module, not a component"),
    },
    Case {
        name: "a core module",
        wasm: Wasm::Wat(r#"(module (func (export "check")))"#),
        expect: Refused(NotAComponent, "a core module, not a component"),
    },
    Case {
        name: "a component header and garbage",
        wasm: Wasm::Bytes(b"\0asm\x0d\0\x01\0garbage"),
        expect: Refused(NotAComponent, ""),
    },
    Case {
        name: "a truncated component",
        wasm: Wasm::Bytes(b"\0asm\x0d\0\x01\0\x01\x7f\0"),
        expect: Refused(NotAComponent, ""),
    },
    Case {
        name: "an empty component",
        wasm: Wasm::Wat("(component)"),
        expect: Refused(WrongWorld, "it exports []"),
    },
    Case {
        name: "a component exporting another function",
        wasm: Wasm::Wat(
            r#"(component
  (core module $m (func (export "f")))
  (core instance $i (instantiate $m))
  (func (export "hello") (canon lift (core func $i "f"))))"#,
        ),
        expect: Refused(WrongWorld, "it exports [hello]"),
    },
    Case {
        name: "a `check` of the wrong type",
        wasm: Wasm::Wat(
            r#"(component
  (core module $m (func (export "f")))
  (core instance $i (instantiate $m))
  (func (export "info") (canon lift (core func $i "f")))
  (func (export "check") (canon lift (core func $i "f"))))"#,
        ),
        expect: Refused(WrongWorld, "type-checking export func `check`: expected 4-tuple"),
    },
    Case {
        name: "a `run` without the rest of the language world",
        wasm: Wasm::Wat(
            r#"(component
  (core module $m (func (export "f")))
  (core instance $i (instantiate $m))
  (func (export "run") (canon lift (core func $i "f"))))"#,
        ),
        expect: Refused(WrongWorld, "no export `compile` found"),
    },
    Case {
        name: "an import Gavel does not provide",
        wasm: Wasm::Wat(checker!(
            r#"(import "evil:net/socket" (instance (export "connect" (func (param "host" string)))))"#,
            checker_core!(accept!())
        )),
        expect: Refused(Invalid, "imports something Gavel does not provide"),
    },
    Case {
        name: "an import of WASI's HTTP, which Gavel does not link",
        wasm: Wasm::Wat(checker!(
            r#"(import "wasi:http/outgoing-handler@0.2.0" (instance (export "handle" (func))))"#,
            checker_core!(accept!())
        )),
        expect: Refused(Invalid, "imports something Gavel does not provide"),
    },
    Case {
        name: "an infinite loop at instantiation",
        wasm: Wasm::Wat(checker!(checker_core!(
            accept!(),
            "(func $spin (loop $again (br $again))) (start $spin)"
        ))),
        expect: Refused(Start, "fuel exhausted|wall-clock limit of 2000 ms exceeded"),
    },
    Case {
        name: "a memory of 4 GiB at instantiation",
        wasm: Wasm::Wat(checker!(checker_core!(memory: "65536", accept!()))),
        expect: Refused(Start, "memory limit of 256 MiB exceeded (asked for 4096 MiB)"),
    },
    Case {
        name: "memory grown forever at instantiation",
        wasm: Wasm::Wat(checker!(checker_core!(
            accept!(),
            "(func $grow (loop $again (drop (memory.grow (i32.const 16))) (br $again))) (start $grow)"
        ))),
        expect: Refused(Start, "memory limit of 256 MiB exceeded"),
    },
    Case {
        name: "a table of ten million entries",
        wasm: Wasm::Wat(checker!(checker_core!(accept!(), "(table 10000000 funcref)"))),
        expect: Refused(Invalid, "needs more than a plugin instance may have: module table"),
    },
    Case {
        name: "nine memories",
        wasm: Wasm::Wat(checker!(checker_core!(
            accept!(),
            "(memory 1) (memory 1) (memory 1) (memory 1) (memory 1) (memory 1) (memory 1) (memory 1)"
        ))),
        expect: Refused(Invalid, "needs more than a plugin instance may have: module memory"),
    },
    Case {
        name: "an `info` whose strings point out of memory",
        wasm: Wasm::Wat(checker!(checker_core!(
            r#"(data (i32.const 0) "\00\00\ff\ff\ff\ff\ff\7f")"#,
            accept!()
        ))),
        expect: Refused(Info, "out of bounds"),
    },
    Case {
        name: "an `info` with a bad id",
        wasm: Wasm::Wat(checker!(checker_core!(r#"(data (i32.const 32) "Hostile")"#, accept!()))),
        expect: Refused(Invalid, "plugin id \"Hostile\" must be"),
    },
    Case {
        name: "a `check` that loops forever",
        wasm: Wasm::Wat(checker!(checker_core!(
            r#"(func (export "check") (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)
                 (loop $again (br $again)) (unreachable))"#
        ))),
        expect: CheckFails("fuel exhausted|wall-clock limit of 1000 ms exceeded"),
    },
    Case {
        name: "a `check` that grows memory forever",
        wasm: Wasm::Wat(checker!(checker_core!(
            r#"(func (export "check") (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)
                 (loop $again (drop (memory.grow (i32.const 1))) (br $again)) (unreachable))"#
        ))),
        expect: CheckFails("memory limit of 64 MiB exceeded"),
    },
    Case {
        name: "a `check` that recurses forever",
        wasm: Wasm::Wat(checker!(checker_core!(
            r#"(func $down (export "check") (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)
                 (call $down (local.get 0) (local.get 1) (local.get 2) (local.get 3)
                   (local.get 4) (local.get 5) (local.get 6) (local.get 7)))"#
        ))),
        expect: CheckFails("stack overflow"),
    },
    Case {
        name: "a pre-initialised language whose `init` loops forever",
        wasm: Wasm::Wat(language!(language_core!(
            r#"(func (export "init") (loop $again (br $again)))"#
        ))),
        expect: Refused(
            Invalid,
            "pre-initialising: `init` failed: wall-clock limit of 2000 ms exceeded",
        ),
    },
    Case {
        // Linked (an interpreter's standard library imports it), with every
        // call's WASI context allowing no TCP, UDP, lookup or address.
        name: "an import of WASI's sockets",
        wasm: Wasm::Wat(checker!(
            r#"(import "wasi:sockets/network@0.2.0" (instance $net (export "network" (type (sub resource)))))
  (alias export $net "network" (type $network))
  (import "wasi:sockets/instance-network@0.2.0" (instance
    (alias outer 1 $network (type $outer))
    (export "network" (type $n (eq $outer)))
    (export "instance-network" (func (result (own $n))))))"#,
            checker_core!(accept!())
        )),
        expect: CheckFails(""),
    },
    Case {
        name: "a checker built for another version of gavel:plugin",
        wasm: Wasm::Wat(checker!(
            r#"(import "gavel:plugin/types@0.1.0" (instance))"#,
            checker_core!(accept!())
        )),
        expect: Refused(
            Invalid,
            "built for gavel:plugin@0.1.0 (it imports `gavel:plugin/types@0.1.0`), but this Gavel speaks gavel:plugin@0.2.0",
        ),
    },
    Case {
        name: "a language that declares no fuel calibration",
        wasm: Wasm::Wat(language!(language_core!(
            r#"(data (i32.const 32) "\00\00\00\00\00\00\00\00\40\4b\4c\00\00\00\00\00")
  (func (export "init"))"#
        ))),
        expect: Refused(Invalid, "fuel-per-ms 0 is outside 100000..=1000000000"),
    },
    Case {
        name: "a pre-initialised language that works (the control)",
        wasm: Wasm::Wat(language!(language_core!(r#"(func (export "init"))"#))),
        expect: Loads,
    },
    Case {
        name: "a checker that works (the control)",
        wasm: Wasm::Wat(checker!(checker_core!(accept!()))),
        expect: CheckFails(""),
    },
];

fn host() -> &'static PluginHost {
    static HOST: OnceLock<PluginHost> = OnceLock::new();
    HOST.get_or_init(|| {
        let config = HostConfig {
            // As in production: compiled components are cached on disk.
            cache_dir: Some(std::env::temp_dir().join("gavel-test-cache")),
            checker_limits: CallLimits {
                wall_ms: 1_000,
                fuel: 200_000_000,
                memory_bytes: 64 << 20,
                output_bytes: 64 << 10,
            },
            // The production budget (a minute) would only slow the test.
            init_limits: CallLimits {
                wall_ms: 2_000,
                fuel: 100_000_000_000,
                memory_bytes: 64 << 20,
                output_bytes: 64 << 10,
            },
            ..HostConfig::default()
        };
        PluginHost::new(config).unwrap()
    })
}

fn refusal(e: &PluginError) -> Refusal {
    match e {
        PluginError::NotAComponent(_) => NotAComponent,
        PluginError::WrongWorld(_) => WrongWorld,
        PluginError::Start(_) => Start,
        PluginError::Info(_) => Info,
        PluginError::Invalid(_) => Invalid,
    }
}

/// What became of a case, or `Err` with what was wrong.
fn try_case(case: &Case) -> Result<String, String> {
    let bytes = match case.wasm {
        Wasm::Bytes(b) => b.to_vec(),
        Wasm::Wat(text) => wat::parse_str(text).map_err(|e| format!("bad WAT: {e}"))?,
    };
    let loaded = host().load(&bytes);
    match (&case.expect, loaded) {
        (Refused(kind, text), Err(e)) => {
            let message = e.to_string();
            if refusal(&e) == *kind && says(&message, text) {
                Ok(message)
            } else {
                Err(format!("refused as {:?} with {message:?}", refusal(&e)))
            }
        }
        (Refused(..), Ok(p)) => Err(format!("loaded as {:?}", p.info())),
        (CheckFails(text), Ok(Plugin::Checker(c))) => match c.check(b"", b"", b"", &[]) {
            CheckVerdict::Fail { message } if !text.is_empty() && says(&message, text) => {
                Ok(message)
            }
            CheckVerdict::Accepted if text.is_empty() => Ok("accepted".into()),
            other => Err(format!("first check gave {other:?}")),
        },
        (Loads, Ok(p)) => Ok(format!("loaded as {}", p.info().kind)),
        (Loads, Err(e)) => Err(format!("refused: {e}")),
        (CheckFails(_), Ok(p)) => Err(format!("loaded as a language {:?}", p.info())),
        (CheckFails(_), Err(e)) => Err(format!("refused: {e}")),
    }
}

#[test]
fn hostile_plugins_end_in_a_clear_error() {
    let mut wrong = Vec::new();
    for case in CASES {
        let started = Instant::now();
        let outcome =
            std::panic::catch_unwind(|| try_case(case)).unwrap_or_else(|_| Err("panicked".into()));
        let took = started.elapsed();
        println!("{}: {outcome:?} in {took:.2?}", case.name);
        match outcome {
            Err(why) => wrong.push(format!("{}: {why}", case.name)),
            Ok(_) if took > BOUND => wrong.push(format!("{}: took {took:?}", case.name)),
            Ok(_) => {}
        }
    }
    assert!(wrong.is_empty(), "cases that went wrong:\n{}", wrong.join("\n"));
}
