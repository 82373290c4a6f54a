//! Interactive cases through the real plugin host: an interactor and a
//! contestant, both WASI programs (WebAssembly text, so no toolchain is
//! needed), connected by the host's pipes. Each case ends by the rule of
//! `judge_core::interactive::decide`: a hostile interactor (a loop, a flood
//! of stderr, one that never reads and floods the contestant instead) ends
//! as JE with its reason; a deadlock ends within the idleness limit; the
//! interactor's WA stops a contestant still waiting; a normal exchange is
//! accepted and its transcript kept.

use std::time::{Duration, Instant};

use judge_core::interactive::{Interaction, Interactor, Ruling, Side, decide};
use judge_core::{CheckVerdict, RunLimits};
use plugin_host::{FuelCalibration, HostConfig, PluginHost, WasiInteractor, WasiProgram};

/// A WASI command whose `_start` is `body`: `$write` (fd, ptr, len),
/// `$read` (fd → bytes read, into 256..1256) and `$exit` are at hand, and
/// memory from 16 holds `data`.
fn program(data: &str, body: &str) -> Vec<u8> {
    let data = data.replace('\n', "\\0a");
    let text = format!(
        r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "{data}")
  (func $write (param $fd i32) (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func $read (param $fd i32) (result i32)
    (i32.store (i32.const 0) (i32.const 256))
    (i32.store (i32.const 4) (i32.const 1000))
    (drop (call $fd_read (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 8)))
    (i32.load (i32.const 8)))
  (func (export "_start") {body}))"#
    );
    wat::parse_str(text).expect("valid WAT")
}

/// Reads stdin until its end, then returns (exit 0).
const READ_ALL: &str =
    "(block $end (loop $more (br_if $end (i32.eqz (call $read (i32.const 0)))) (br $more)))";
/// Reads once (waiting for something), then returns.
const READ_ONCE: &str = "(drop (call $read (i32.const 0)))";

fn host() -> PluginHost {
    PluginHost::new(HostConfig::default()).expect("an engine")
}

fn load(host: &PluginHost, data: &str, body: &str) -> WasiProgram {
    host.load_program(&program(data, body)).expect("a WASI program")
}

fn calibration() -> FuelCalibration {
    FuelCalibration::new(6_000_000, 2_000_000).unwrap()
}

/// Runs one case: the interactor `(data, body)` against the contestant's.
fn interact(interactor: (&str, &str), contestant: (&str, &str)) -> (Interaction, Duration) {
    let host = host();
    let spec = judge_core::problem::Interactor {
        path: "interactor.wasm".into(),
        time_ms: None,
        memory_mb: Some(16),
        then_checker: false,
    };
    let interactor =
        WasiInteractor::new(load(&host, interactor.0, interactor.1), calibration(), spec);
    let contestant = load(&host, contestant.0, contestant.1).judged(calibration());
    let limits = RunLimits { time_ms: 100, memory_mb: 16, output_bytes: 1 << 20 };
    let started = Instant::now();
    let interaction = plugin_host::on_big_stack(|| {
        interactor.interact(&contestant, b"input", b"answer", &limits)
    });
    (interaction, started.elapsed())
}

fn interactor_failure(interaction: &Interaction) -> String {
    match decide(interaction) {
        Ruling::Interactor(CheckVerdict::Fail { message }) => message,
        other => panic!("expected the interactor's failure (JE), got {other:?}"),
    }
}

#[test]
fn hostile_interactors_end_as_judgement_errors_with_the_reason() {
    let (looping, _) = interact(("", "(loop $spin (br $spin))"), ("", READ_ALL));
    let message = interactor_failure(&looping);
    assert!(message.contains("the interactor failed: instruction budget"), "{message}");

    let flood =
        "(loop $again (call $write (i32.const 2) (i32.const 16) (i32.const 6)) (br $again))";
    let (stderr, _) = interact(("flood\n", flood), ("", READ_ALL));
    let message = interactor_failure(&stderr);
    assert!(message.contains("output limit of 1048576 bytes exceeded"), "{message}");

    // Never reads: writes to the contestant forever instead.
    let never_reads =
        "(loop $again (call $write (i32.const 1) (i32.const 16) (i32.const 6)) (br $again))";
    let (flooded, _) = interact(("query\n", never_reads), ("", READ_ALL));
    let message = interactor_failure(&flooded);
    assert!(message.contains("output limit"), "{message}");
    assert!(flooded.transcript.cut, "the transcript keeps only the start of a flood");
}

/// Sleeps 30 s (one monotonic-clock subscription): neither running nor reading.
const SLEEP: &str = "(i32.store8 (i32.const 520) (i32.const 0))
    (i32.store (i32.const 528) (i32.const 1))
    (i64.store (i32.const 536) (i64.const 30000000000))
    (i64.store (i32.const 544) (i64.const 0))
    (i32.store16 (i32.const 552) (i32.const 0))
    (drop (call $poll (i32.const 512) (i32.const 600) (i32.const 1) (i32.const 700)))";

#[test]
fn an_interactor_that_neither_runs_nor_reads_is_a_judgement_error_within_its_budget() {
    let (sleeping, elapsed) = interact(("", SLEEP), ("", READ_ALL));
    assert_eq!(sleeping.first, Side::Interactor, "{sleeping:?}");
    let message = interactor_failure(&sleeping);
    assert!(message.contains("made no progress"), "{message}");
    // Its budget (2 × 100 ms at the calibration: a 2.8 s backstop) and the
    // grace for a stopped store, not the 30 s it asked to sleep.
    assert!(elapsed < Duration::from_secs(15), "{elapsed:?}");
}

#[test]
fn a_deadlock_ends_as_idle_within_the_idleness_limit() {
    let (deadlock, elapsed) = interact(("", READ_ONCE), ("", READ_ONCE));
    match decide(&deadlock) {
        Ruling::Idle(reason) => assert!(reason.starts_with("deadlock"), "{reason}"),
        other => panic!("expected idleness, got {other:?}"),
    }
    assert!(elapsed < Duration::from_secs(5), "the deadlock held the case for {elapsed:?}");
}

#[test]
fn the_interactors_wrong_answer_stops_a_waiting_contestant() {
    let wa = "(call $write (i32.const 2) (i32.const 16) (i32.const 6)) (call $exit (i32.const 1))";
    let (interaction, elapsed) = interact(("wrong\n", wa), ("", READ_ONCE));
    assert_eq!(interaction.first, Side::Interactor);
    assert_eq!(
        decide(&interaction),
        Ruling::Interactor(CheckVerdict::WrongAnswer { message: "wrong".into() })
    );
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
}

#[test]
fn an_exchange_is_accepted_with_its_transcript() {
    let greet = "(call $write (i32.const 1) (i32.const 16) (i32.const 6))";
    let reply_then_accept = format!(
        "(call $write (i32.const 1) (i32.const 16) (i32.const 3)) {READ_ALL} (call $exit (i32.const 0))"
    );
    let (interaction, _) = interact(("n=1\n", &reply_then_accept), ("hello\n", greet));
    assert_eq!(decide(&interaction), Ruling::Accepted);
    let entries: Vec<(Side, &str)> =
        interaction.transcript.entries.iter().map(|e| (e.from, e.text.as_str())).collect();
    assert!(entries.contains(&(Side::Contestant, "hello\n")), "{entries:?}");
    assert!(entries.contains(&(Side::Interactor, "n=1")), "{entries:?}");
}
