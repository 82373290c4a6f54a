//! The plugin host against real components: the builtin checkers and the
//! misbehaving fixtures from `plugins/`, built by `builtin-plugins`. Hostile
//! components written for the purpose are in `hostile.rs`.

use std::sync::OnceLock;

use judge_core::{CheckVerdict, Checker, Compiled, Executor, RunEnd, RunLimits};
use plugin_host::{CallLimits, CheckerPlugin, HostConfig, LanguagePlugin, Plugin, PluginHost};

fn host() -> &'static PluginHost {
    static HOST: OnceLock<PluginHost> = OnceLock::new();
    HOST.get_or_init(|| {
        let config = HostConfig {
            cache_dir: Some(std::env::temp_dir().join("gavel-test-cache")),
            checker_limits: CallLimits {
                wall_ms: 1_000,
                fuel: 200_000_000,
                memory_bytes: 64 << 20,
                output_bytes: 64 << 10,
            },
            ..HostConfig::default()
        };
        PluginHost::new(config).unwrap()
    })
}

fn load(file_stem: &str) -> Plugin {
    let bytes = std::fs::read(builtin_plugins::fixture_path(file_stem)).unwrap();
    host().load(&bytes).unwrap_or_else(|e| panic!("{file_stem}: {e}"))
}

fn checker(file_stem: &str) -> CheckerPlugin {
    match load(file_stem) {
        Plugin::Checker(c) => c,
        Plugin::Language(_) => panic!("{file_stem} is not a checker"),
    }
}

fn fixture_language() -> LanguagePlugin {
    match load("fixture_language") {
        Plugin::Language(l) => l,
        Plugin::Checker(_) => panic!("not a language"),
    }
}

const LIMITS: RunLimits = RunLimits { time_ms: 500, memory_mb: 32, output_bytes: 1 << 20 };

fn run_fixture(command: &str, stdin: &[u8]) -> judge_core::RunOutcome {
    let lang = fixture_language();
    let Ok(Compiled::Program(program)) = lang.compile(command.as_bytes()) else {
        panic!("compile failed")
    };
    program.run(stdin, &LIMITS)
}

#[test]
fn builtin_checkers_describe_themselves_and_judge() {
    for b in builtin_plugins::BUILTINS.iter().filter(|b| b.kind == builtin_plugins::Kind::Checker) {
        let Plugin::Checker(c) = host().load(b.wasm).unwrap() else {
            panic!("{} is not a checker", b.id)
        };
        assert_eq!(c.info().id, b.id);
        assert_eq!(c.check(b"", b"1 2\n", b"1 2\n", &[]), CheckVerdict::Accepted, "{}", b.id);
        assert!(
            matches!(c.check(b"", b"1 2\n", b"1 3\n", &[]), CheckVerdict::WrongAnswer { .. }),
            "{}",
            b.id
        );
    }
}

/// The builtin checkers run with a 16 KiB shadow stack (`plugins/checker-stack.rs`):
/// large, long-lined and float-heavy outputs must still be judged, not trap.
#[test]
fn builtin_checkers_judge_megabytes_within_their_small_stack() {
    let mut text = String::new();
    for i in 0..60_000u64 {
        text.push_str(&format!("{}.{:06} ", i * 7919 % 1_000_003, i % 1_000_000));
        if i % 7 == 6 {
            text.push('\n');
        }
    }
    text.push_str(&"x".repeat(200_000));
    text.push('\n');
    let reordered: String = text.lines().rev().map(|l| format!("{l}\n")).collect();
    for b in builtin_plugins::BUILTINS.iter().filter(|b| b.kind == builtin_plugins::Kind::Checker) {
        let Plugin::Checker(c) = host().load(b.wasm).unwrap() else { unreachable!() };
        let actual = if b.id == "unordered" { &reordered } else { &text };
        let verdict = c.check(b"", text.as_bytes(), actual.as_bytes(), &[]);
        assert_eq!(verdict, CheckVerdict::Accepted, "{} on {} bytes", b.id, text.len());
    }
}

#[test]
fn builtin_languages_match_their_embedded_metadata() {
    for b in builtin_plugins::BUILTINS.iter().filter(|b| b.kind == builtin_plugins::Kind::Language)
    {
        let Plugin::Language(l) = host().load(b.wasm).unwrap() else {
            panic!("{} is not a language", b.id)
        };
        assert_eq!(l.info().id, b.id);
        assert_eq!(l.extension(), b.extension);
    }
}

#[test]
fn checker_verdicts_cross_the_boundary_intact() {
    let c = checker("fixture_checker");
    let args = |a: &str| vec![a.to_string()];
    assert_eq!(c.check(b"", b"", b"", &args("ok")), CheckVerdict::Accepted);
    assert!(matches!(c.check(b"", b"", b"", &args("pe")), CheckVerdict::PresentationError { .. }));
    assert!(
        matches!(c.check(b"", b"", b"", &args("partial=0.5")), CheckVerdict::Partial { score, .. } if score == 0.5)
    );
    assert!(
        matches!(c.check(b"", b"", b"", &args("fail")), CheckVerdict::Fail { message } if message.contains("fixture fails on purpose"))
    );
}

#[test]
fn misbehaving_checkers_end_as_failures_with_the_reason() {
    let c = checker("fixture_checker");
    for (mode, reason) in [
        ("loop", "fuel exhausted"),
        ("trap", "unreachable"),
        ("panic", "unreachable"),
        ("alloc", "memory limit of 64 MiB exceeded"),
    ] {
        match c.check(b"", b"", b"", &[mode.to_string()]) {
            CheckVerdict::Fail { message } => {
                assert!(message.contains(reason), "{mode}: {message:?} lacks {reason:?}")
            }
            other => panic!("{mode}: expected a failure, got {other:?}"),
        }
    }
    // The host survives and the checker still works afterwards.
    assert_eq!(c.check(b"", b"", b"", &["ok".to_string()]), CheckVerdict::Accepted);
}

#[test]
fn a_checker_loop_is_stopped_by_the_wall_clock_when_fuel_is_plentiful() {
    let c = checker("fixture_checker").with_limits(CallLimits {
        wall_ms: 200,
        fuel: u64::MAX / 2,
        memory_bytes: 64 << 20,
        output_bytes: 1024,
    });
    let started = std::time::Instant::now();
    let verdict = c.check(b"", b"", b"", &["loop".to_string()]);
    assert!(
        matches!(&verdict, CheckVerdict::Fail { message } if message.contains("wall-clock")),
        "{verdict:?}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}

#[test]
fn language_fixture_echoes_stdin_and_reports_usage() {
    let out = run_fixture("echo", b"hello\n");
    assert_eq!(out.end, RunEnd::Exited { code: 0 });
    assert_eq!(out.stdout, b"hello\n");
    assert!(out.memory_kb > 0);
    assert!(out.fuel.unwrap() > 0);
}

#[test]
fn language_fixture_limits_map_to_verdicts() {
    type Expectation = fn(&RunEnd) -> bool;
    let cases: [(&str, Expectation); 6] = [
        ("loop", |e| matches!(e, RunEnd::TimeLimit { .. })),
        ("alloc", |e| matches!(e, RunEnd::MemoryLimit { reason } if reason.contains("32 MiB"))),
        ("flood", |e| matches!(e, RunEnd::OutputLimit { .. })),
        ("trap", |e| matches!(e, RunEnd::Crashed { reason } if reason.contains("unreachable"))),
        ("panic", |e| matches!(e, RunEnd::Crashed { .. })),
        ("exit 3", |e| *e == RunEnd::Exited { code: 3 }),
    ];
    for (command, expected) in cases {
        let out = run_fixture(command, b"");
        assert!(expected(&out.end), "{command}: got {:?}", out.end);
    }
}

#[test]
fn preinit_languages_start_from_the_snapshot_taken_after_init() {
    // `init` sets a flag in the plugin's memory; only a run that starts from
    // the host's snapshot sees it.
    let out = run_fixture("preinit", b"");
    assert_eq!(out.end, RunEnd::Exited { code: 0 });
    assert_eq!(out.stdout, b"snapshot\n");
}

#[test]
fn stderr_is_kept_apart_from_stdout() {
    let out = run_fixture("stderr to stderr", b"");
    assert_eq!(out.end, RunEnd::Exited { code: 0 });
    assert!(out.stdout.is_empty());
    assert_eq!(out.stderr, b"to stderr\n");
}

#[test]
fn compile_errors_carry_the_plugins_message() {
    let lang = fixture_language();
    let compiled = lang.compile(b"compile-error missing semicolon").unwrap();
    assert!(
        matches!(&compiled, Compiled::Error(m) if m == "main.fix:1: missing semicolon"),
        "{compiled:?}"
    );
}

#[test]
fn compiled_components_are_cached_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let config = HostConfig { cache_dir: Some(dir.path().to_path_buf()), ..HostConfig::default() };
    let host = PluginHost::new(config).unwrap();
    let bytes = std::fs::read(builtin_plugins::fixture_path("exact")).unwrap();
    host.load(&bytes).unwrap();
    let entries: Vec<_> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    let name = entries[0].to_string_lossy().into_owned();
    assert!(
        name.starts_with(&plugin_host::engine::digest(&bytes)) && name.ends_with(".cwasm"),
        "{name}"
    );
    // A second host with the same settings loads it from there.
    let again = PluginHost::new(HostConfig {
        cache_dir: Some(dir.path().to_path_buf()),
        ..HostConfig::default()
    });
    assert_eq!(again.unwrap().load(&bytes).unwrap().info().id, "exact");
}

#[test]
fn a_cancelled_token_stops_a_running_call_at_once_and_every_later_one() {
    let lang = fixture_language();
    let Ok(Compiled::Program(program)) = lang.compile(b"loop") else { panic!("compile failed") };
    let limits = RunLimits { time_ms: 20_000, memory_mb: 32, output_bytes: 1024 };
    let token = plugin_host::CancelToken::new();
    let canceller = token.clone();
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(100));
        canceller.cancel();
    });
    let started = std::time::Instant::now();
    let out = plugin_host::with_cancel(&token, || program.run(b"", &limits));
    assert!(
        matches!(&out.end, RunEnd::Crashed { reason } if reason.contains("cancelled")),
        "{:?}",
        out.end
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(2), "{:?}", started.elapsed());
    // Calls made after the cancellation end before they start working.
    let started = std::time::Instant::now();
    let out = plugin_host::with_cancel(&token, || program.run(b"", &limits));
    assert!(matches!(&out.end, RunEnd::Crashed { reason } if reason.contains("cancelled")));
    assert!(started.elapsed() < std::time::Duration::from_millis(500));
    // Without the token, the same program runs to its time limit as before.
    let out = program.run(b"", &LIMITS);
    assert!(matches!(out.end, RunEnd::TimeLimit { .. }), "{:?}", out.end);
}
