//! The supervisor binary on the host (no container): requests in, measured
//! facts out. Outside a container it kills a run's process group instead of
//! every process, and uses a temp work dir; the rest is the code that runs
//! as PID 1 in each sandbox.

use std::io::Write;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use supervisor::wire::{self, Exit, OutputStream, Request, Response, RunReport, RunRequest};

/// An output frame of a streaming run, with when it arrived.
type Chunk = (OutputStream, Vec<u8>, Instant);

struct Supervisor {
    child: Child,
    input: ChildStdin,
    output: ChildStdout,
    work: tempfile::TempDir,
    /// Apart from the work dir, as `/tmp` is in a container.
    _io: tempfile::TempDir,
}

impl Supervisor {
    fn start() -> Supervisor {
        let work = tempfile::tempdir().unwrap();
        let io = tempfile::tempdir().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_gavel-supervisor"))
            .arg(work.path())
            .arg(io.path().join("io"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let input = child.stdin.take().unwrap();
        let output = child.stdout.take().unwrap();
        Supervisor { child, input, output, work, _io: io }
    }

    fn call(&mut self, request: &Request) -> Response {
        wire::write_frame(&mut self.input, &request.encode()).unwrap();
        let body = wire::read_frame(&mut self.output).unwrap().expect("an answer");
        Response::decode(&body).unwrap()
    }

    fn run(&mut self, argv: &[&str], stdin: &[u8], cpu_ms: u64, wall_ms: u64) -> RunReport {
        match self.call(&Request::Run(run_request(argv, stdin, cpu_ms, wall_ms))) {
            Response::Ran(report) => report,
            other => panic!("{other:?}"),
        }
    }

    /// A streaming run: the output frames (each with when it arrived), then
    /// the report.
    fn stream(&mut self, request: RunRequest) -> (Vec<Chunk>, RunReport) {
        let request = RunRequest { stream: true, ..request };
        wire::write_frame(&mut self.input, &Request::Run(request).encode()).unwrap();
        let mut chunks = Vec::new();
        loop {
            let body = wire::read_frame(&mut self.output).unwrap().expect("an answer");
            match Response::decode(&body).unwrap() {
                Response::Output { stream, data } => chunks.push((stream, data, Instant::now())),
                Response::Ran(report) => return (chunks, report),
                other => panic!("{other:?}"),
            }
        }
    }
}

fn run_request(argv: &[&str], stdin: &[u8], cpu_ms: u64, wall_ms: u64) -> RunRequest {
    RunRequest {
        argv: argv.iter().map(|s| s.to_string()).collect(),
        env: vec!["PATH=/usr/bin:/bin".into()],
        stdin: stdin.to_vec(),
        cpu_ms,
        wall_ms,
        output_bytes: 1000,
        stack_bytes: 8 << 20,
        stream: false,
        interactive: false,
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        let _ = self.input.flush();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_run_reports_exit_output_and_measurements() {
    let mut s = Supervisor::start();
    let report = s.run(&["/bin/sh", "-c", "cat; echo err >&2; exit 3"], b"hello\n", 1000, 5000);
    assert_eq!(report.exit, Exit::Code(3));
    assert_eq!(
        (report.stdout.as_slice(), report.stderr.as_slice()),
        (&b"hello\n"[..], &b"err\n"[..])
    );
    assert_eq!(report.output_len, 10);
    assert!(report.peak_rss_kb > 0 && !report.wall_killed, "{report:?}");
    // The environment is exactly the one asked for.
    let report = s.run(&["/usr/bin/env"], b"", 1000, 5000);
    assert_eq!(report.stdout, b"PATH=/usr/bin:/bin\n");
}

#[test]
fn files_are_put_into_the_work_dir_only() {
    let mut s = Supervisor::start();
    let put =
        Request::PutFile { name: "main.sh".into(), data: b"echo hi".to_vec(), executable: true };
    assert_eq!(s.call(&put), Response::Done);
    assert_eq!(std::fs::read(s.work.path().join("main.sh")).unwrap(), b"echo hi");
    for name in ["../escape", "/etc/x", "..", ""] {
        let put = Request::PutFile { name: name.into(), data: vec![], executable: false };
        assert!(matches!(s.call(&put), Response::Failed(m) if m.contains("plain file name")));
    }
}

#[test]
fn limits_end_runs_with_the_facts_the_host_needs() {
    let mut s = Supervisor::start();
    // CPU: RLIMIT_CPU (whole seconds) stops a busy loop with SIGXCPU.
    let report = s.run(&["/bin/sh", "-c", "while :; do :; done"], b"", 1000, 10_000);
    assert_eq!(report.exit, Exit::Signal(libc::SIGXCPU), "{report:?}");
    assert!(report.cpu_us >= 900_000, "{report:?}");
    // Wall: a sleeper is killed at the deadline, with its children.
    let started = Instant::now();
    let report = s.run(&["/bin/sh", "-c", "sleep 30 & sleep 30"], b"", 1000, 300);
    assert!(report.wall_killed && report.exit == Exit::Signal(libc::SIGKILL), "{report:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
    // Output: past the cap the writer gets SIGXFSZ.
    let report = s.run(&["/usr/bin/yes"], b"", 1000, 5000);
    assert_eq!(report.exit, Exit::Signal(libc::SIGXFSZ), "{report:?}");
    assert!(report.stdout.len() <= 1000 && report.output_len > 1000, "{report:?}");
    // A program that does not exist is not started (errno ENOENT).
    let report = s.run(&["/nonexistent"], b"", 1000, 5000);
    assert_eq!(report.exit, Exit::NotStarted(libc::ENOENT));
}

#[test]
fn malformed_requests_are_answered_and_the_supervisor_goes_on() {
    let mut s = Supervisor::start();
    wire::write_frame(&mut s.input, &[42, 1, 2]).unwrap();
    let body = wire::read_frame(&mut s.output).unwrap().unwrap();
    assert!(
        matches!(Response::decode(&body).unwrap(), Response::Failed(m) if m.contains("tag 42"))
    );
    assert_eq!(s.run(&["/bin/true"], b"", 1000, 5000).exit, Exit::Code(0));
}

/// The chunks of one stream, joined.
fn joined(chunks: &[Chunk], stream: OutputStream) -> Vec<u8> {
    chunks.iter().filter(|c| c.0 == stream).flat_map(|c| c.1.clone()).collect()
}

#[test]
fn a_streaming_run_sends_output_while_it_runs() {
    let mut s = Supervisor::start();
    let script = "echo first; echo oops >&2; sleep 0.8; echo second";
    let started = Instant::now();
    let (chunks, report) = s.stream(run_request(&["/bin/sh", "-c", script], b"", 1000, 5000));
    let ended = Instant::now();
    assert_eq!(report.exit, Exit::Code(0));
    // The chunks are the report's output, each on its own stream.
    assert_eq!(joined(&chunks, OutputStream::Stdout), report.stdout);
    assert_eq!(joined(&chunks, OutputStream::Stderr), report.stderr);
    assert_eq!(
        (report.stdout.as_slice(), report.stderr.as_slice()),
        (&b"first\nsecond\n"[..], &b"oops\n"[..])
    );
    // "first" arrived well before the run ended (it sleeps 0.8 s after it).
    let first = chunks.iter().find(|c| c.1.starts_with(b"first")).expect("a first chunk");
    assert!(first.2 - started < Duration::from_millis(600), "{:?}", first.2 - started);
    assert!(ended - first.2 > Duration::from_millis(400), "{:?}", ended - first.2);
}

#[test]
fn streamed_output_stops_at_the_cap_and_plain_runs_send_no_chunks() {
    let mut s = Supervisor::start();
    let (chunks, report) = s.stream(run_request(&["/usr/bin/yes"], b"", 1000, 5000));
    assert_eq!(report.exit, Exit::Signal(libc::SIGXFSZ), "{report:?}");
    let streamed = joined(&chunks, OutputStream::Stdout);
    assert_eq!(streamed.len(), 1000);
    assert_eq!(streamed, report.stdout);
    // A run that does not ask for streaming is answered with one frame.
    let report = s.run(&["/bin/sh", "-c", "echo hi"], b"", 1000, 5000);
    assert_eq!(report.stdout, b"hi\n");
    assert_eq!(s.run(&["/bin/true"], b"", 1000, 5000).exit, Exit::Code(0));
}

#[test]
fn collect_returns_what_a_run_wrote_after_the_snapshot() {
    let mut s = Supervisor::start();
    let put = Request::PutFile { name: "in.txt".into(), data: b"in".to_vec(), executable: false };
    assert_eq!(s.call(&put), Response::Done);
    assert_eq!(s.call(&Request::Snapshot), Response::Done);
    let script = "mkdir sub && echo x > sub/x.txt && echo o > out.txt && head -c 500 /dev/zero > big \
                  && ln -s /etc/passwd link";
    assert_eq!(s.run(&["/bin/sh", "-c", script], b"", 1000, 5000).exit, Exit::Code(0));
    let collected = s.call(&Request::Collect { max_files: 10, max_bytes: 100 });
    assert_eq!(
        collected,
        Response::Files {
            files: vec![("out.txt".into(), b"o\n".to_vec()), ("sub/x.txt".into(), b"x\n".to_vec())],
            dropped: vec!["big".into()],
        }
    );
}

/// The frames of an interactive run until its report: `answer` is called
/// with each output chunk and returns the frames to send back.
fn interact(
    s: &mut Supervisor,
    argv: &[&str],
    mut answer: impl FnMut(&[u8]) -> Vec<Request>,
) -> (Vec<u8>, Vec<Response>, RunReport) {
    let request = RunRequest { interactive: true, ..run_request(argv, b"", 1000, 5000) };
    wire::write_frame(&mut s.input, &Request::Run(request).encode()).unwrap();
    let (mut output, mut statuses) = (Vec::new(), Vec::new());
    loop {
        let body = wire::read_frame(&mut s.output).unwrap().expect("an answer");
        match Response::decode(&body).unwrap() {
            Response::Output { stream: OutputStream::Stdout, data } => {
                output.extend_from_slice(&data);
                for reply in answer(&data) {
                    wire::write_frame(&mut s.input, &reply.encode()).unwrap();
                }
            }
            status @ Response::Status { .. } => statuses.push(status),
            Response::Ran(report) => return (output, statuses, report),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn an_interactive_run_talks_to_the_host_while_it_runs() {
    let mut s = Supervisor::start();
    // Asks, reads the reply, asks again with it, then waits for the end of input.
    let script = "echo ask; read a; echo \"got $a\"; cat >/dev/null; echo done >&2";
    let mut replies =
        vec![vec![Request::Input { data: b"42\n".to_vec() }], vec![Request::CloseInput]]
            .into_iter();
    let (output, statuses, report) =
        interact(&mut s, &["/bin/sh", "-c", script], |_| replies.next().unwrap_or_default());
    assert_eq!(report.exit, Exit::Code(0), "{report:?}");
    assert_eq!(output, b"ask\ngot 42\n");
    assert!(report.stdout.is_empty(), "interactive output is only streamed");
    assert_eq!(report.stderr, b"done\n");
    assert_eq!(report.output_len, output.len() as u64 + 5);
    assert!(!statuses.is_empty(), "status frames come while it runs");
    // The supervisor goes on serving plain requests after it.
    assert_eq!(s.run(&["/bin/true"], b"", 1000, 5000).exit, Exit::Code(0));
}

#[test]
fn an_interactive_run_is_stopped_by_the_host_and_reports_waiting_for_input() {
    let mut s = Supervisor::start();
    let mut seen_statuses = 0;
    let request = RunRequest {
        interactive: true,
        ..run_request(&["/bin/sh", "-c", "echo ready; read line; echo never"], b"", 1000, 10_000)
    };
    wire::write_frame(&mut s.input, &Request::Run(request).encode()).unwrap();
    let started = Instant::now();
    let report = loop {
        let body = wire::read_frame(&mut s.output).unwrap().expect("an answer");
        match Response::decode(&body).unwrap() {
            Response::Output { data, .. } => assert_eq!(data, b"ready\n"),
            Response::Status { drained, .. } => {
                // Nothing was given to it: everything given was taken.
                assert!(drained);
                seen_statuses += 1;
                if seen_statuses == 5 {
                    wire::write_frame(&mut s.input, &Request::Stop.encode()).unwrap();
                }
            }
            Response::Ran(report) => break report,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(report.exit, Exit::Signal(libc::SIGKILL), "{report:?}");
    assert!(!report.wall_killed);
    assert!(started.elapsed() < Duration::from_secs(5));
    // A stop that arrives after a run ended is dropped, never answered.
    wire::write_frame(&mut s.input, &Request::Stop.encode()).unwrap();
    assert_eq!(s.run(&["/bin/true"], b"", 1000, 5000).exit, Exit::Code(0));
}
