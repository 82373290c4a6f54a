//! An interactive run: the program's stdin and stdout are pipes the
//! supervisor holds, so that the host can talk to the program through it
//! while it runs (`wire`'s module doc). One poll(2) loop waits on the
//! host's channel, the program's stdout, its stdin pipe when input is
//! pending, and its pidfd: host `Input` frames go into the stdin pipe as
//! they come, whatever the program writes goes out as an `Output` frame at
//! once, and a `Status` frame (CPU time, whether all input was taken) goes
//! out every [`wire::STATUS_TICK_MS`] ms. Stderr is a file, as in any run.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use supervisor::wire::{self, Exit, OutputStream, Request, Response, RunReport, RunRequest};

use super::{Dirs, command, finish, fresh_file, kill_run, oom_kills, read_capped, report};

/// A pipe: (read end, write end), both close-on-exec.
fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two fds into the array we own.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both fds were just created and are owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

fn set_nonblocking(fd: &OwnedFd) -> io::Result<()> {
    // SAFETY: fcntl on an fd we own, with integer flags.
    unsafe {
        let flags = libc::fcntl(fd.as_raw_fd(), libc::F_GETFL);
        if flags < 0 || libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Bytes in a pipe not yet read by its reader.
fn unread(fd: &OwnedFd) -> usize {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int; a failure leaves it 0.
    unsafe { libc::ioctl(fd.as_raw_fd(), libc::FIONREAD, &mut n) };
    n.max(0) as usize
}

/// The CPU time of process `pid` (user + system), from `/proc/PID/stat`.
fn cpu_us(pid: libc::pid_t) -> u64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return 0 };
    // Fields after the command name (which may hold spaces) in parentheses.
    let Some((_, rest)) = stat.rsplit_once(')') else { return 0 };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line: 12 and 13 after ')'.
    let ticks: u64 = [11, 12].iter().filter_map(|&i| fields.get(i)?.parse::<u64>().ok()).sum();
    // SAFETY: sysconf with a constant name.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    ticks * 1_000_000 / per_second
}

/// Runs `request` interactively, talking to the host over `host` (its
/// frames) and `out`; the final report is returned for the caller to send.
pub fn run(dirs: &Dirs, request: &RunRequest, host: &mut File, out: &mut impl Write) -> Response {
    match run_io(dirs, request, host, out) {
        Ok(report) => Response::Ran(report),
        Err(e) => Response::Failed(format!("running {:?} interactively: {e}", request.argv)),
    }
}

fn run_io(
    dirs: &Dirs,
    request: &RunRequest,
    host: &mut File,
    out: &mut impl Write,
) -> io::Result<RunReport> {
    let Some((program, args)) = request.argv.split_first() else {
        return Err(io::Error::other("empty argv"));
    };
    let stderr_path = dirs.io.join("stderr");
    let stderr = fresh_file(&stderr_path, b"")?;
    let (stdin_read, stdin_write) = pipe()?;
    let (stdout_read, stdout_write) = pipe()?;
    set_nonblocking(&stdin_write)?;
    set_nonblocking(&stdout_read)?;
    let oom_before = oom_kills();
    let start = Instant::now();
    let spawned = {
        // The child's ends are closed here once it has them.
        let mut command = command(dirs, request, program, args);
        command.stdin(stdin_read).stdout(stdout_write).stderr(stderr);
        command.spawn()
    };
    let pid = match spawned {
        Ok(child) => child.id() as libc::pid_t,
        Err(e) => {
            let errno = e.raw_os_error().unwrap_or(0);
            return Ok(report(Exit::NotStarted(errno), start, Default::default(), false));
        }
    };
    let mut session = Session {
        pid,
        stdin: Some(stdin_write),
        stdout: Some(stdout_read),
        pending: Vec::new(),
        close_input: false,
        received: Vec::new(),
        sent: 0,
        written: 0,
        cap: request.output_bytes,
    };
    let deadline = start + Duration::from_millis(request.wall_ms);
    let ended = session.serve(host, out, deadline);
    let wall_killed = matches!(ended, Ok(Ending::Deadline));
    if !matches!(ended, Ok(Ending::Exited)) {
        kill_run(pid);
    }
    let mut report = finish(pid, start, wall_killed, oom_before)?;
    ended?;
    // Everything is dead: what is left in the pipe is all there is.
    session.forward_output(out)?;
    let (stderr, stderr_len) = read_capped(&stderr_path, request.output_bytes)?;
    report.output_len = session.written + stderr_len;
    report.stderr = stderr;
    Ok(report)
}

/// How the wait for an interactive run ended.
enum Ending {
    Exited,
    Deadline,
    /// The host asked to stop, or its output cap was passed.
    Stopped,
}

struct Session {
    pid: libc::pid_t,
    /// Our end of the program's stdin (`None` once closed).
    stdin: Option<OwnedFd>,
    /// Our end of the program's stdout (`None` at its end).
    stdout: Option<OwnedFd>,
    /// Input from the host not yet in the pipe.
    pending: Vec<u8>,
    /// The host ended the input: close the pipe once `pending` is in.
    close_input: bool,
    /// Bytes from the host not yet a whole frame.
    received: Vec<u8>,
    /// Output bytes sent to the host (at most `cap`), and written in all.
    sent: u64,
    written: u64,
    cap: u64,
}

impl Session {
    /// The poll loop, until the program exits, the deadline, or a stop.
    fn serve(
        &mut self,
        host: &mut File,
        out: &mut impl Write,
        deadline: Instant,
    ) -> io::Result<Ending> {
        // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
        let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, self.pid, 0) } as libc::c_int;
        if pidfd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a new fd nobody else owns.
        let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd) };
        let tick = Duration::from_millis(wire::STATUS_TICK_MS);
        let mut next_status = Instant::now();
        loop {
            let now = Instant::now();
            if now >= deadline {
                return Ok(Ending::Deadline);
            }
            if now >= next_status {
                let drained =
                    self.pending.is_empty() && self.stdin.as_ref().is_none_or(|fd| unread(fd) == 0);
                let status = Response::Status { cpu_us: cpu_us(self.pid), drained };
                wire::write_frame(out, &status.encode())?;
                next_status = now + tick;
            }
            let mut fds = vec![
                libc::pollfd { fd: host.as_raw_fd(), events: libc::POLLIN, revents: 0 },
                libc::pollfd { fd: pidfd.as_raw_fd(), events: libc::POLLIN, revents: 0 },
            ];
            if let Some(stdout) = &self.stdout {
                fds.push(libc::pollfd { fd: stdout.as_raw_fd(), events: libc::POLLIN, revents: 0 });
            }
            if let Some(stdin) = self.stdin.as_ref().filter(|_| !self.pending.is_empty()) {
                fds.push(libc::pollfd { fd: stdin.as_raw_fd(), events: libc::POLLOUT, revents: 0 });
            }
            let wait = deadline.min(next_status).saturating_duration_since(now);
            let timeout = wait.as_millis().clamp(1, i32::MAX as u128) as libc::c_int;
            // SAFETY: a valid array of pollfds for the duration of the call.
            let ready = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout) };
            if ready < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            if fds[0].revents != 0 && self.take_requests(host)? {
                return Ok(Ending::Stopped);
            }
            self.feed()?;
            if !self.forward_output(out)? {
                return Ok(Ending::Stopped);
            }
            if fds[1].revents != 0 {
                return Ok(Ending::Exited);
            }
        }
    }

    /// Reads what the host sent and acts on its whole frames; `true` when
    /// it asked to stop.
    fn take_requests(&mut self, host: &mut File) -> io::Result<bool> {
        let mut chunk = [0; 64 << 10];
        let n = match host.read(&mut chunk) {
            Ok(0) => return Err(io::Error::other("the host closed the channel")),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(false),
            Err(e) => return Err(e),
        };
        self.received.extend_from_slice(&chunk[..n]);
        while let Some(body) = wire::pop_frame(&mut self.received).map_err(io::Error::other)? {
            match Request::decode(&body).map_err(io::Error::other)? {
                Request::Input { data } => self.pending.extend_from_slice(&data),
                Request::CloseInput => self.close_input = true,
                Request::Stop => return Ok(true),
                other => {
                    return Err(io::Error::other(format!("{other:?} during an interactive run")));
                }
            }
        }
        Ok(false)
    }

    /// Moves pending input into the program's stdin pipe, as much as fits;
    /// closes it once the host ended the input and all of it is in. Input
    /// for a program that closed its stdin is dropped.
    fn feed(&mut self) -> io::Result<()> {
        let Some(stdin) = &self.stdin else {
            self.pending.clear();
            return Ok(());
        };
        while !self.pending.is_empty() {
            // SAFETY: write from a live buffer to an fd we own.
            let n = unsafe {
                libc::write(stdin.as_raw_fd(), self.pending.as_ptr().cast(), self.pending.len())
            };
            if n >= 0 {
                self.pending.drain(..n as usize);
                continue;
            }
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::Interrupted => {}
                io::ErrorKind::WouldBlock => break,
                // The program closed its stdin: nothing more reaches it.
                io::ErrorKind::BrokenPipe => {
                    self.pending.clear();
                    self.stdin = None;
                    return Ok(());
                }
                _ => return Err(e),
            }
        }
        if self.close_input && self.pending.is_empty() {
            self.stdin = None;
        }
        Ok(())
    }

    /// Sends what the program wrote since the last call, as it is; `false`
    /// when it wrote past its cap (the run is stopped: output limit).
    fn forward_output(&mut self, out: &mut impl Write) -> io::Result<bool> {
        let Some(stdout) = &self.stdout else { return Ok(true) };
        let mut chunk = vec![0; wire::MAX_CHUNK];
        loop {
            // SAFETY: read into a live buffer from an fd we own.
            let n =
                unsafe { libc::read(stdout.as_raw_fd(), chunk.as_mut_ptr().cast(), chunk.len()) };
            if n == 0 {
                self.stdout = None;
                return Ok(true);
            }
            if n < 0 {
                let e = io::Error::last_os_error();
                return match e.kind() {
                    io::ErrorKind::Interrupted => continue,
                    io::ErrorKind::WouldBlock => Ok(true),
                    _ => Err(e),
                };
            }
            let n = n as usize;
            self.written += n as u64;
            let room = (self.cap - self.sent).min(n as u64) as usize;
            if room > 0 {
                let frame =
                    Response::Output { stream: OutputStream::Stdout, data: chunk[..room].to_vec() };
                wire::write_frame(out, &frame.encode())?;
                self.sent += room as u64;
            }
            if self.written > self.cap {
                return Ok(false);
            }
        }
    }
}
