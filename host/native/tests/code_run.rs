//! Free code runs in real sandboxes (Docker and the sandbox image): output
//! streamed while the program runs, multi-file compiles, verdicts as for
//! judged cases, artifacts, and no container left behind.
//!
//! Like the end-to-end native tests, these fail when Docker or the image is
//! missing (build it with `gavel image build` or `cargo xtask images`),
//! unless `GAVEL_SKIP_DOCKER_TESTS=1` says to skip them.

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use judge_core::code_run::{Artifact, ArtifactLimits};
use judge_core::{CodeRun, CodeRunOutcome, CodeRunner, OutputTap, RunEnd, RunLimits, Stream};
use native::Native;

/// One connection per test, with an owner of its own so the test can check
/// that it left no container behind while other tests run.
fn connect(test: &str) -> Option<Native> {
    let owner = format!("native-test-{test}-{}", std::process::id());
    match Native::connect(&owner) {
        Ok(native) => Some(native),
        Err(e) if std::env::var("GAVEL_SKIP_DOCKER_TESTS").is_ok_and(|v| v == "1") => {
            eprintln!("skipping: {e}");
            None
        }
        Err(e) => panic!(
            "{e}: build the image with `cargo xtask images`, or set GAVEL_SKIP_DOCKER_TESTS=1 \
             on a machine without Docker"
        ),
    }
}

fn containers_of(test: &str) -> Vec<String> {
    let owner = format!("native-test-{test}-{}", std::process::id());
    let out = Command::new("docker")
        .args(["ps", "-aq", "--filter", &format!("label=gavel.owner={owner}")])
        .output()
        .expect("running docker ps");
    String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect()
}

fn code_run(files: &[(&str, &str)], entry: &str) -> CodeRun {
    CodeRun {
        files: files.iter().map(|(n, d)| (n.to_string(), d.as_bytes().to_vec())).collect(),
        entry: entry.into(),
        stdin: Vec::new(),
        args: Vec::new(),
        env: BTreeMap::new(),
        limits: RunLimits { time_ms: 2000, memory_mb: 128, output_bytes: 1 << 16 },
        artifacts: ArtifactLimits { max_files: 8, max_bytes: 1 << 20 },
    }
}

/// A chunk a tap heard: its stream, its bytes and when it came.
type Chunk = (Stream, Vec<u8>, Instant);
/// What a tap heard.
type Heard = Arc<Mutex<Vec<Chunk>>>;

fn recording_tap() -> (OutputTap, Heard) {
    let heard: Heard = Arc::default();
    let sink = heard.clone();
    let tap: OutputTap = Arc::new(move |stream: Stream, data: &[u8]| {
        sink.lock().unwrap().push((stream, data.to_vec(), Instant::now()));
    });
    (tap, heard)
}

/// Runs `run` as `language`, checks that no container is left, and returns
/// the outcome with what the tap heard.
fn run_code(
    test: &str,
    language: &str,
    run: &CodeRun,
) -> Option<(Result<CodeRunOutcome, String>, Vec<Chunk>)> {
    let native = connect(test)?;
    let (tap, heard) = recording_tap();
    let outcome = native.executor(language).expect("a native language").run_code(run, tap);
    assert_eq!(containers_of(test), Vec::<String>::new(), "a container was left behind");
    let heard = heard.lock().unwrap().clone();
    Some((outcome, heard))
}

fn ran(
    outcome: Result<CodeRunOutcome, String>,
) -> (judge_core::RunOutcome, Vec<Artifact>, Vec<String>) {
    match outcome {
        Ok(CodeRunOutcome::Ran { outcome, artifacts, artifacts_dropped }) => {
            (outcome, artifacts, artifacts_dropped)
        }
        other => panic!("{other:?}"),
    }
}

fn joined(heard: &[Chunk], stream: Stream) -> Vec<u8> {
    heard.iter().filter(|c| c.0 == stream).flat_map(|c| c.1.clone()).collect()
}

#[test]
fn python_output_reaches_the_tap_while_the_program_runs() {
    let source = "import sys, time\n\
                  print('first')\n\
                  print('oops', file=sys.stderr)\n\
                  time.sleep(0.8)\n\
                  print('second')\n";
    let run = code_run(&[("app.py", source)], "app.py");
    let Some((outcome, heard)) = run_code("stream", "python3", &run) else { return };
    let returned = Instant::now();
    let (outcome, _, _) = ran(outcome);
    assert_eq!(outcome.end, RunEnd::Exited { code: 0 }, "{outcome:?}");
    assert_eq!(outcome.stdout, b"first\nsecond\n");
    assert_eq!(outcome.stderr, b"oops\n");
    // The chunks are the outcome's output, each on its own stream.
    assert_eq!(joined(&heard, Stream::Stdout), outcome.stdout);
    assert_eq!(joined(&heard, Stream::Stderr), outcome.stderr);
    // "first" came on its own, long before "second" was even written.
    let when = |text: &[u8]| {
        heard.iter().find(|c| c.1.windows(text.len()).any(|w| w == text)).expect("a chunk").2
    };
    let (first, second) = (when(b"first"), when(b"second"));
    assert!(second - first >= Duration::from_millis(500), "{:?}", second - first);
    assert!(returned - first >= Duration::from_millis(500), "{:?}", returned - first);
}

#[test]
fn c_compiles_the_entry_with_its_header_and_gets_args_env_and_stdin() {
    let header = "#define GREETING \"hello\"\n";
    let source = "#include <stdio.h>\n#include <stdlib.h>\n#include \"greet.h\"\n\
                  int main(int argc, char **argv) {\n\
                    char line[64];\n\
                    if (!fgets(line, sizeof line, stdin)) return 9;\n\
                    printf(\"%s %s %s %s\", GREETING, argv[1], argv[2], getenv(\"WHO\"));\n\
                    printf(\" %s\", line);\n\
                    return argc;\n\
                  }\n";
    let mut run = code_run(&[("prog.c", source), ("greet.h", header)], "prog.c");
    run.args = vec!["a b".into(), "c".into()];
    run.env.insert("WHO".into(), "world".into());
    run.stdin = b"from stdin\n".to_vec();
    let Some((outcome, heard)) = run_code("c", "c", &run) else { return };
    let (outcome, artifacts, dropped) = ran(outcome);
    assert_eq!(outcome.end, RunEnd::Exited { code: 3 }, "{outcome:?}");
    assert_eq!(String::from_utf8_lossy(&outcome.stdout), "hello a b c world from stdin\n");
    assert_eq!(joined(&heard, Stream::Stdout), outcome.stdout);
    // Neither the sources nor the compiled binary come back.
    assert_eq!((artifacts, dropped), (vec![], vec![]));
}

#[test]
fn a_compile_error_names_the_entry_and_nothing_runs() {
    let run = code_run(&[("broken.cpp", "int main() { return nope; }\n")], "broken.cpp");
    let Some((outcome, heard)) = run_code("ce", "cpp", &run) else { return };
    match outcome {
        Ok(CodeRunOutcome::CompileError(message)) => {
            assert!(message.contains("broken.cpp") && message.contains("nope"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert!(heard.is_empty());
}

#[test]
fn limits_end_a_run_as_they_end_a_judged_case() {
    let Some(native) = connect("limits") else { return };
    let (tap, heard) = recording_tap();
    let c = native.executor("c").unwrap();

    let mut spin = code_run(&[("spin.py", "while True:\n    pass\n")], "spin.py");
    spin.limits.time_ms = 500;
    let (outcome, _, _) = ran(native.executor("python3").unwrap().run_code(&spin, tap.clone()));
    assert!(matches!(outcome.end, RunEnd::TimeLimit { .. }), "{outcome:?}");

    // `volatile`: gcc -O2 may not optimise the allocation away.
    let hog = "#include <stdlib.h>\n\
               int main(void) { size_t n = 512u << 20; volatile char *p = malloc(n);\n\
               if (!p) return 2; for (size_t i = 0; i < n; i += 4096) p[i] = 1;\n\
               return p[n / 2] - 1; }\n";
    let mut hog = code_run(&[("hog.c", hog)], "hog.c");
    hog.limits.memory_mb = 64;
    let (outcome, _, _) = ran(c.run_code(&hog, tap.clone()));
    assert!(matches!(outcome.end, RunEnd::MemoryLimit { .. }), "{outcome:?}");

    let chatty = "#include <stdio.h>\nint main(void) { for (;;) puts(\"spam spam spam\"); }\n";
    let mut chatty = code_run(&[("chatty.c", chatty)], "chatty.c");
    chatty.limits.output_bytes = 1000;
    let before = heard.lock().unwrap().len();
    let (outcome, _, _) = ran(c.run_code(&chatty, tap));
    assert!(matches!(outcome.end, RunEnd::OutputLimit { .. }), "{outcome:?}");
    // The tap never hears more than the cap, and hears what the outcome holds.
    let streamed = joined(&heard.lock().unwrap()[before..], Stream::Stdout);
    assert!(streamed.len() <= 1000, "{}", streamed.len());
    assert_eq!(streamed, outcome.stdout);
    assert_eq!(containers_of("limits"), Vec::<String>::new(), "a container was left behind");
}

#[test]
fn files_the_program_writes_come_back_as_artifacts() {
    let main = "import helper\n\
                open('out.txt', 'w').write(helper.TEXT)\n\
                import os\n\
                os.makedirs('sub')\n\
                open('sub/x.txt', 'w').write('x')\n\
                os.symlink('/etc/passwd', 'link')\n\
                print(open('data.txt').read())\n";
    let run = code_run(
        &[("main.py", main), ("helper.py", "TEXT = 'from helper'\n"), ("data.txt", "input")],
        "main.py",
    );
    let Some((outcome, _)) = run_code("artifacts", "python3", &run) else { return };
    let (outcome, artifacts, dropped) = ran(outcome);
    assert_eq!(outcome.end, RunEnd::Exited { code: 0 }, "{outcome:?}");
    assert_eq!(outcome.stdout, b"input\n");
    // Not the input files, the module, its bytecode or the link.
    assert_eq!(
        artifacts,
        [
            Artifact { name: "out.txt".into(), data: b"from helper".to_vec() },
            Artifact { name: "sub/x.txt".into(), data: b"x".to_vec() },
        ]
    );
    assert_eq!(dropped, Vec::<String>::new());
}

#[test]
fn artifacts_over_the_limits_are_dropped_by_name() {
    let main = "for name in 'abcd':\n    open(name, 'w').write('.' * 10)\n\
                open('big', 'w').write('.' * 1000)\n";
    let mut run = code_run(&[("main.py", main)], "main.py");
    run.artifacts = ArtifactLimits { max_files: 3, max_bytes: 100 };
    let Some((outcome, _)) = run_code("dropped", "python3", &run) else { return };
    let (_, artifacts, dropped) = ran(outcome);
    let names: Vec<&str> = artifacts.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c"]);
    assert_eq!(dropped, ["big", "d"]);
}

#[test]
fn files_named_like_a_compile_output_are_refused() {
    let Some(native) = connect("refused") else { return };
    let (tap, heard) = recording_tap();
    let run = code_run(&[("main.c", "int main(void) { return 0; }"), ("main", "x")], "main.c");
    let error = native.executor("c").unwrap().run_code(&run, tap.clone()).unwrap_err();
    assert!(error.contains("\"main\""), "{error}");
    let invalid = code_run(&[("a.py", "")], "b.py");
    assert!(
        native.executor("python3").unwrap().run_code(&invalid, tap).unwrap_err().contains("entry")
    );
    assert!(heard.lock().unwrap().is_empty());
    assert_eq!(containers_of("refused"), Vec::<String>::new());
}

/// Judged submissions share the compile commands and the supervisor: they
/// still compile under the fixed source name and run without streaming.
#[test]
fn judged_submissions_are_unchanged() {
    use judge_core::{Compiled, Executor};
    let Some(native) = connect("judged") else { return };
    let limits = RunLimits { time_ms: 2000, memory_mb: 128, output_bytes: 1 << 16 };
    for (language, source) in [
        ("python3", "print(int(input()) * 2)\n"),
        (
            "c",
            "#include <stdio.h>\nint main(void) { int n; scanf(\"%d\", &n); printf(\"%d\\n\", 2 * n); }\n",
        ),
    ] {
        let executor = native.executor(language).unwrap();
        let Compiled::Program(program) = executor.compile(source.as_bytes()).unwrap() else {
            panic!("{language} did not compile");
        };
        let outcome = program.run(b"21\n", &limits);
        assert_eq!((outcome.end, outcome.stdout), (RunEnd::Exited { code: 0 }, b"42\n".to_vec()));
        let Compiled::Error(message) = executor.compile(b"(").unwrap() else { panic!() };
        assert!(
            message.contains(&format!("main.{}", if language == "c" { "c" } else { "py" })),
            "{message}"
        );
    }
    assert_eq!(containers_of("judged"), Vec::<String>::new(), "a container was left behind");
}
