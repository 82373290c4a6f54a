//! `gavel-supervisor [WORK_DIR [IO_DIR]]`: PID 1 of a sandbox container.
//!
//! Serves [`supervisor::wire`] requests on stdin/stdout until stdin closes.
//! Each run is forked with `RLIMIT_CPU`/`RLIMIT_FSIZE`/`RLIMIT_STACK`, stdin
//! and stdout/stderr as files in `IO_DIR` (defaults: `/work`, `/tmp/gavel-io`),
//! waited for with a pidfd and a wall deadline, measured with `wait4`, and
//! followed by killing every process the run left behind. As PID 1 that is
//! `kill(-1)`: nothing but the supervisor survives between runs. Run outside
//! a container (tests), it kills the run's process group instead.
//!
//! A streaming run also reads what the output files gained every
//! [`wire::STREAM_TICK_MS`] ms while it waits, and sends it as
//! `Response::Output` frames before the final report. An interactive run
//! ([`interactive`]) has pipes for stdin and stdout instead of files, fed
//! and drained while the host talks to it. `Snapshot` and `Collect` return
//! the files a run left in the work dir ([`workdir`]).

// fork-time rlimits, wait4, pidfd and kill need libc; each call says why it
// is sound.
#![allow(unsafe_code)]

mod interactive;
mod workdir;

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use supervisor::wire::{self, Exit, OutputStream, Request, Response, RunReport, RunRequest};

struct Dirs {
    work: PathBuf,
    io: PathBuf,
}

fn main() {
    let mut args = std::env::args_os().skip(1);
    let work = args.next().map_or_else(|| PathBuf::from("/work"), PathBuf::from);
    let io = args.next().map_or_else(|| PathBuf::from("/tmp/gavel-io"), PathBuf::from);
    // SAFETY: plain prctl calls with integer arguments. Not dumpable: a
    // program of the same uid can neither ptrace the supervisor nor open its
    // /proc entries (its stdin/stdout are the host's channel). Subreaper:
    // outside a container, orphans of a run come back to us to be reaped.
    unsafe {
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    }
    if let Err(e) = fs::create_dir_all(&io)
        .and_then(|()| fs::set_permissions(&io, fs::Permissions::from_mode(0o700)))
    {
        eprintln!("gavel-supervisor: cannot create {}: {e}", io.display());
        std::process::exit(2);
    }
    let dirs = Dirs { work, io };
    // Unbuffered: during an interactive run the host's frames are read
    // with poll(2), so none may wait in a buffer of ours.
    // SAFETY: fd 0 is open for the whole life of the process; the File is
    // never dropped, so it is never closed.
    let mut input =
        std::mem::ManuallyDrop::new(unsafe { <File as std::os::fd::FromRawFd>::from_raw_fd(0) });
    let input = &mut *input;
    let mut output = io::stdout().lock();
    let mut snapshot = None;
    loop {
        let body = match wire::read_frame(input) {
            Ok(Some(body)) => body,
            Ok(None) => break,
            Err(e) => {
                eprintln!("gavel-supervisor: reading a request: {e}");
                std::process::exit(2);
            }
        };
        let response = match Request::decode(&body) {
            Ok(Request::PutFile { name, data, executable }) => {
                put_file(&dirs.work, &name, &data, executable)
            }
            Ok(Request::Run(run)) if run.interactive => {
                interactive::run(&dirs, &run, input, &mut output)
            }
            Ok(Request::Run(run)) => self::run(&dirs, &run, &mut |stream, data| {
                let chunk = Response::Output { stream, data: data.to_vec() };
                wire::write_frame(&mut output, &chunk.encode())
            }),
            Ok(Request::Snapshot) => {
                snapshot = Some(workdir::snapshot(&dirs.work));
                Response::Done
            }
            Ok(Request::Collect { max_files, max_bytes }) => {
                workdir::collect(&dirs.work, snapshot.as_ref(), max_files, max_bytes)
            }
            // Input sent to an interactive run just as it ended: too late,
            // and (as during the run) never answered.
            Ok(Request::Input { .. } | Request::CloseInput | Request::Stop) => continue,
            Err(e) => Response::Failed(e.to_string()),
        };
        if let Err(e) = wire::write_frame(&mut output, &response.encode()) {
            eprintln!("gavel-supervisor: answering: {e}");
            std::process::exit(2);
        }
    }
}

fn put_file(work: &Path, name: &str, data: &[u8], executable: bool) -> Response {
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\0']) {
        return Response::Failed(format!("{name:?} is not a plain file name"));
    }
    let mode = if executable { 0o755 } else { 0o644 };
    let path = work.join(name);
    let _ = fs::remove_file(&path);
    let written = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&path)
        .and_then(|mut f| io::Write::write_all(&mut f, data));
    match written {
        Ok(()) => Response::Done,
        Err(e) => Response::Failed(format!("writing {}: {e}", path.display())),
    }
}

/// A fresh file (an earlier run may have replaced the old one by a link).
fn fresh_file(path: &Path, data: &[u8]) -> io::Result<File> {
    let _ = fs::remove_file(path);
    let mut file =
        OpenOptions::new().read(true).write(true).create_new(true).mode(0o600).open(path)?;
    io::Write::write_all(&mut file, data)?;
    io::Seek::rewind(&mut file)?;
    Ok(file)
}

/// Where a streaming run's output chunks go (a frame to the host).
type Sink<'a> = dyn FnMut(OutputStream, &[u8]) -> io::Result<()> + 'a;
/// Called while a streaming run is waited for; `false` stops the wait.
type Tick<'a> = &'a mut dyn FnMut() -> bool;

fn run(dirs: &Dirs, request: &RunRequest, sink: &mut Sink<'_>) -> Response {
    match run_io(dirs, request, sink) {
        Ok(report) => Response::Ran(report),
        Err(e) => Response::Failed(format!("running {:?}: {e}", request.argv)),
    }
}

fn run_io(dirs: &Dirs, request: &RunRequest, sink: &mut Sink<'_>) -> io::Result<RunReport> {
    let Some((program, args)) = request.argv.split_first() else {
        return Err(io::Error::other("empty argv"));
    };
    let stdin = fresh_file(&dirs.io.join("stdin"), &request.stdin)?;
    let (stdout_path, stderr_path) = (dirs.io.join("stdout"), dirs.io.join("stderr"));
    let stdout = fresh_file(&stdout_path, b"")?;
    let stderr = fresh_file(&stderr_path, b"")?;
    let mut tails = if request.stream {
        Some([
            Tail::open(&stdout_path, OutputStream::Stdout, request.output_bytes)?,
            Tail::open(&stderr_path, OutputStream::Stderr, request.output_bytes)?,
        ])
    } else {
        None
    };

    let mut command = command(dirs, request, program, args);
    command.stdin(stdin).stdout(stdout).stderr(stderr);

    let oom_before = oom_kills();
    let start = Instant::now();
    let child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            let errno = e.raw_os_error().unwrap_or(0);
            return Ok(report(Exit::NotStarted(errno), start, Default::default(), false));
        }
    };
    let pid = child.id() as libc::pid_t;
    let deadline = start + Duration::from_millis(request.wall_ms);
    let mut sent = Ok(());
    let wall_killed = match &mut tails {
        // A failed send (the host is gone) ends the wait and the run.
        Some(tails) => !wait_until_exit(
            pid,
            deadline,
            Some(&mut || {
                sent = tails.iter_mut().try_for_each(|tail| tail.send_new(sink));
                sent.is_ok()
            }),
        ),
        None => !wait_until_exit(pid, deadline, None),
    };
    if wall_killed || sent.is_err() {
        kill_run(pid);
    }
    let mut report = finish(pid, start, wall_killed, oom_before)?;
    sent?;
    if let Some(tails) = &mut tails {
        // Everything is dead: what is in the files now is all there is.
        tails.iter_mut().try_for_each(|tail| tail.send_new(sink))?;
    }
    let (stdout, stdout_len) = read_capped(&stdout_path, request.output_bytes)?;
    let (stderr, stderr_len) = read_capped(&stderr_path, request.output_bytes)?;
    report.output_len = stdout_len + stderr_len;
    report.stdout = stdout;
    report.stderr = stderr;
    Ok(report)
}

/// Reaps the run's main process, then kills and reaps whatever it left:
/// its report, without output.
fn finish(
    pid: libc::pid_t,
    start: Instant,
    wall_killed: bool,
    oom_before: u64,
) -> io::Result<RunReport> {
    let (status, usage) = reap(pid)?;
    let exit = if libc::WIFSIGNALED(status) {
        Exit::Signal(libc::WTERMSIG(status))
    } else {
        Exit::Code(libc::WEXITSTATUS(status))
    };
    let mut report = report(exit, start, usage, wall_killed);
    kill_run(pid);
    reap_leftovers();
    report.oom_killed = oom_kills() > oom_before;
    Ok(report)
}

/// The command of a run: its program and arguments, exactly its
/// environment, the work dir, and its limits set between fork and exec.
fn command(dirs: &Dirs, request: &RunRequest, program: &str, args: &[String]) -> Command {
    let mut command = Command::new(program);
    command.args(args).env_clear().current_dir(&dirs.work);
    for pair in &request.env {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        command.env(key, value);
    }
    let cpu_s = request.cpu_ms.div_ceil(1000).max(1);
    let limits = [
        (libc::RLIMIT_CPU, cpu_s, cpu_s + 1),
        // One byte over the cap still writes (so the host sees the cap was
        // passed); beyond that the program gets SIGXFSZ.
        (libc::RLIMIT_FSIZE, request.output_bytes + 1, request.output_bytes + 1),
        (libc::RLIMIT_STACK, request.stack_bytes, request.stack_bytes),
        (libc::RLIMIT_CORE, 0, 0),
    ];
    // SAFETY: between fork and exec the closure only makes async-signal-safe
    // syscalls (setpgid, prctl, open/write/close, setrlimit) on values it
    // owns; it allocates nothing.
    unsafe {
        command.pre_exec(move || {
            if libc::setpgid(0, 0) != 0 {
                return Err(io::Error::last_os_error());
            }
            // The run, not the supervisor, is what the OOM killer takes
            // (raising one's own score needs no privilege). The supervisor
            // is not dumpable, which makes this child's /proc/self files
            // root's; it becomes dumpable again as it would at exec a moment
            // later (it holds nothing secret, and no run is alive to trace
            // it), so that it may write its own score. A run that cannot be
            // marked does not start: the supervisor's life depends on it.
            if libc::prctl(libc::PR_SET_DUMPABLE, 1, 0, 0, 0) != 0 {
                return Err(io::Error::last_os_error());
            }
            let fd = libc::open(c"/proc/self/oom_score_adj".as_ptr(), libc::O_WRONLY);
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            let written = libc::write(fd, b"1000".as_ptr().cast(), 4);
            let error = io::Error::last_os_error();
            libc::close(fd);
            if written != 4 {
                return Err(error);
            }
            for (resource, soft, hard) in limits {
                let limit = libc::rlimit { rlim_cur: soft, rlim_max: hard };
                if libc::setrlimit(resource, &limit) != 0 {
                    return Err(io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    command
}

fn report(exit: Exit, start: Instant, usage: Usage, wall_killed: bool) -> RunReport {
    RunReport {
        exit,
        cpu_us: usage.cpu_us,
        wall_us: start.elapsed().as_micros() as u64,
        peak_rss_kb: usage.peak_rss_kb,
        wall_killed,
        oom_killed: false,
        output_len: 0,
        stdout: Vec::new(),
        stderr: Vec::new(),
    }
}

#[derive(Default)]
struct Usage {
    cpu_us: u64,
    peak_rss_kb: u64,
}

/// The new bytes of one output file of a streaming run.
struct Tail {
    file: File,
    stream: OutputStream,
    /// Bytes sent so far; never more than `cap`.
    sent: u64,
    cap: u64,
}

impl Tail {
    fn open(path: &Path, stream: OutputStream, cap: u64) -> io::Result<Tail> {
        Ok(Tail { file: File::open(path)?, stream, sent: 0, cap })
    }

    /// Sends what the file gained since the last call, in chunks of at most
    /// [`wire::MAX_CHUNK`] bytes, up to the cap in all.
    fn send_new(&mut self, sink: &mut Sink<'_>) -> io::Result<()> {
        let mut chunk = vec![0; wire::MAX_CHUNK];
        loop {
            let want = (self.cap - self.sent).min(chunk.len() as u64) as usize;
            if want == 0 {
                return Ok(());
            }
            let n = match self.file.read(&mut chunk[..want]) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            self.sent += n as u64;
            sink(self.stream, &chunk[..n])?;
        }
    }
}

/// Waits for `pid` to exit (without reaping it); `false` when `deadline`
/// passed first or `tick` said to stop. `tick`, if any, is called every
/// [`wire::STREAM_TICK_MS`] ms or more often while waiting.
fn wait_until_exit(pid: libc::pid_t, deadline: Instant, mut tick: Option<Tick<'_>>) -> bool {
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) } as libc::c_int;
    if pidfd < 0 {
        return poll_until_exit(pid, deadline, tick);
    }
    let tick_every = Duration::from_millis(wire::STREAM_TICK_MS);
    let exited = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break false;
        }
        let mut fd = libc::pollfd { fd: pidfd, events: libc::POLLIN, revents: 0 };
        let wait = if tick.is_some() { left.min(tick_every) } else { left };
        let timeout = wait.as_millis().clamp(1, i32::MAX as u128) as libc::c_int;
        // SAFETY: one valid pollfd for the duration of the call.
        match unsafe { libc::poll(&mut fd, 1, timeout) } {
            1.. => break true,
            0 if tick.as_mut().is_some_and(|tick| !tick()) => break false,
            0 => {}
            _ if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted => {}
            _ => break poll_until_exit(pid, deadline, tick),
        }
    };
    // SAFETY: closing the fd pidfd_open gave us, once.
    unsafe { libc::close(pidfd) };
    exited
}

/// The fallback without pidfds: check every millisecond.
fn poll_until_exit(pid: libc::pid_t, deadline: Instant, mut tick: Option<Tick<'_>>) -> bool {
    let tick_every = Duration::from_millis(wire::STREAM_TICK_MS);
    let mut last_tick = Instant::now();
    loop {
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: waitid writes into `info`; WNOWAIT leaves the child to reap.
        let r = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
            )
        };
        // SAFETY: si_pid is valid to read after a successful waitid.
        if r != 0 || unsafe { info.si_pid() } == pid {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        if let Some(tick) = tick.as_mut().filter(|_| last_tick.elapsed() >= tick_every) {
            last_tick = Instant::now();
            if !tick() {
                return false;
            }
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Reaps `pid`, returning its wait status and resource usage (its own and
/// its reaped descendants').
fn reap(pid: libc::pid_t) -> io::Result<(libc::c_int, Usage)> {
    let mut status = 0;
    // SAFETY: rusage is plain data that wait4 fills in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: valid pointers to `status` and `usage`.
        if unsafe { libc::wait4(pid, &mut status, 0, &mut usage) } == pid {
            break;
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
    let micros = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    let usage = Usage {
        cpu_us: micros(usage.ru_utime) + micros(usage.ru_stime),
        peak_rss_kb: usage.ru_maxrss as u64,
    };
    Ok((status, usage))
}

/// Kills every process of the run: everything but us when we are PID 1,
/// else the run's process group.
fn kill_run(pid: libc::pid_t) {
    // SAFETY: kill with a constant signal; no memory is involved.
    unsafe {
        if libc::getpid() == 1 {
            libc::kill(-1, libc::SIGKILL);
        } else {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
}

/// Reaps what the run left: as PID 1 every process is ours and dies of the
/// `kill(-1)`, so wait for all; else take only what has already exited.
fn reap_leftovers() {
    // SAFETY: getpid has no preconditions.
    let init = unsafe { libc::getpid() } == 1;
    let flags = if init { 0 } else { libc::WNOHANG };
    loop {
        let mut status = 0;
        // SAFETY: a valid pointer to `status`.
        if unsafe { libc::waitpid(-1, &mut status, flags) } <= 0 {
            break;
        }
    }
}

/// The number of OOM kills in our memory cgroup (v1 or v2), 0 if unknown.
fn oom_kills() -> u64 {
    ["/sys/fs/cgroup/memory/memory.oom_control", "/sys/fs/cgroup/memory.events"]
        .iter()
        .find_map(|path| fs::read_to_string(path).ok())
        .and_then(|text| {
            text.lines()
                .find_map(|line| line.strip_prefix("oom_kill "))
                .and_then(|n| n.trim().parse().ok())
        })
        .unwrap_or(0)
}

/// The first `cap` bytes of a file and its whole length.
fn read_capped(path: &Path, cap: u64) -> io::Result<(Vec<u8>, u64)> {
    let file = File::open(path)?;
    let len = file.metadata()?.len();
    let mut data = Vec::with_capacity(len.min(cap) as usize);
    io::copy(&mut file.take(cap), &mut data)?;
    Ok((data, len))
}
