//! What the host and the supervisor say to each other over the container's
//! stdin/stdout: frames of a `u32` little-endian length then a body in a tiny
//! binary encoding (std only, so the static supervisor stays small).
//!
//! One request at a time; the host never pipelines. Every request gets
//! exactly one final response ([`Response::Done`], [`Response::Ran`],
//! [`Response::Files`] or [`Response::Failed`]). A [`RunRequest`] with
//! `stream` set is the one exchange with more frames: while the program
//! runs, the supervisor sends [`Response::Output`] frames (what stdout and
//! stderr gained, every ≤ [`STREAM_TICK_MS`] ms) before its final
//! [`Response::Ran`]. Without `stream` no `Output` frame is ever sent.
//!
//! An `interactive` run is the one exchange in which the host speaks during
//! a run: its stdin is a pipe the host feeds with [`Request::Input`] frames
//! (and ends with [`Request::CloseInput`]), its stdout a pipe sent back as
//! [`Response::Output`] frames the moment it is written, and
//! [`Response::Status`] frames (CPU time, whether all input was taken) come
//! every [`STATUS_TICK_MS`] ms; [`Request::Stop`] kills it. Those three
//! requests never get a response of their own (one that arrives after the
//! run ended is dropped); the run's [`Response::Ran`] still ends it.

use std::io::{self, Read, Write};

/// The largest frame either side accepts (a test input or a program's
/// output travels in one frame).
pub const MAX_FRAME: usize = 1 << 30;

/// How often a streaming run's new output is sent, at most this many
/// milliseconds apart.
pub const STREAM_TICK_MS: u64 = 50;

/// The largest [`Response::Output`] chunk; more output in one tick is sent
/// as several frames.
pub const MAX_CHUNK: usize = 64 << 10;

/// How often an interactive run's [`Response::Status`] is sent.
pub const STATUS_TICK_MS: u64 = 20;

/// What the host asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Write `data` to the plain file `name` in the work dir.
    PutFile { name: String, data: Vec<u8>, executable: bool },
    /// Run a program once.
    Run(RunRequest),
    /// Remember the work dir's files as they are now: [`Request::Collect`]
    /// returns only what changed since (answered with [`Response::Done`]).
    Snapshot,
    /// The regular files of the work dir created or modified since the last
    /// [`Request::Snapshot`] (all of them without one), up to `max_files`
    /// files and `max_bytes` bytes together; answered with
    /// [`Response::Files`]. Symbolic links are never followed.
    Collect { max_files: u64, max_bytes: u64 },
    /// During an interactive run: bytes for the program's stdin.
    Input { data: Vec<u8> },
    /// During an interactive run: the program's stdin ends after what was given.
    CloseInput,
    /// During an interactive run: kill it now (the case is decided).
    Stop,
}

/// One run of a program in the work dir.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRequest {
    /// The program (an absolute path) and its arguments.
    pub argv: Vec<String>,
    /// The whole environment, as `KEY=value`.
    pub env: Vec<String>,
    pub stdin: Vec<u8>,
    /// CPU time the run may use (enforced with `RLIMIT_CPU`, whole seconds
    /// rounded up; the host compares the measured time with its own limit).
    pub cpu_ms: u64,
    /// Wall time after which every process of the run is killed.
    pub wall_ms: u64,
    /// Bytes the program may write to stdout and to stderr.
    pub output_bytes: u64,
    /// `RLIMIT_STACK`.
    pub stack_bytes: u64,
    /// Send the output as it is written ([`Response::Output`] frames) before
    /// the final [`Response::Ran`], which still carries all of it.
    pub stream: bool,
    /// Talk to the host during the run (see the module doc): `stdin` is
    /// ignored, stdout goes out as it is written and is not in the report.
    pub interactive: bool,
}

/// Which output file a [`Response::Output`] chunk comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutputStream {
    Stdout,
    Stderr,
}

/// What the supervisor answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// A `PutFile` was done.
    Done,
    /// A `Run` ended (however the program fared).
    Ran(RunReport),
    /// Bytes a streaming run's program wrote since the previous chunk of the
    /// same stream (never beyond `output_bytes` in all); more frames follow.
    Output { stream: OutputStream, data: Vec<u8> },
    /// During an interactive run: the program's CPU time so far, and
    /// whether it has taken all the input given to it.
    Status { cpu_us: u64, drained: bool },
    /// What a `Collect` found: files (`/`-separated names below the work
    /// dir, sorted) with their contents, and the names of those left out.
    Files { files: Vec<(String, Vec<u8>)>, dropped: Vec<String> },
    /// The request could not be carried out (the supervisor's own failure or
    /// a malformed request).
    Failed(String),
}

/// How a program ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(i32),
    /// The program could not be started (`execve` failed); the errno.
    NotStarted(i32),
}

/// The measured facts of one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunReport {
    pub exit: Exit,
    /// User + system CPU time of the program and its reaped children.
    pub cpu_us: u64,
    pub wall_us: u64,
    /// Peak resident set size (`ru_maxrss`).
    pub peak_rss_kb: u64,
    /// The wall deadline passed and the supervisor killed the run.
    pub wall_killed: bool,
    /// The container's memory cgroup killed a process during the run.
    pub oom_killed: bool,
    /// Bytes written to stdout and stderr together; only the first
    /// `output_bytes` of each are sent back.
    pub output_len: u64,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// A body that does not decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError(pub String);

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "malformed supervisor message: {}", self.0)
    }
}

impl std::error::Error for WireError {}

impl Request {
    pub fn encode(&self) -> Vec<u8> {
        let mut e = Encoder::default();
        match self {
            Request::PutFile { name, data, executable } => {
                e.u8(1);
                e.str(name);
                e.bytes(data);
                e.u8((*executable).into());
            }
            Request::Run(r) => {
                e.u8(2);
                e.strs(&r.argv);
                e.strs(&r.env);
                e.bytes(&r.stdin);
                for n in [r.cpu_ms, r.wall_ms, r.output_bytes, r.stack_bytes] {
                    e.u64(n);
                }
                e.u8(r.stream.into());
                e.u8(r.interactive.into());
            }
            Request::Snapshot => e.u8(3),
            Request::Collect { max_files, max_bytes } => {
                e.u8(4);
                e.u64(*max_files);
                e.u64(*max_bytes);
            }
            Request::Input { data } => {
                e.u8(5);
                e.bytes(data);
            }
            Request::CloseInput => e.u8(6),
            Request::Stop => e.u8(7),
        }
        e.0
    }

    pub fn decode(body: &[u8]) -> Result<Self, WireError> {
        let mut d = Decoder { buf: body };
        let request = match d.u8()? {
            1 => Request::PutFile { name: d.str()?, data: d.bytes()?, executable: d.u8()? != 0 },
            2 => Request::Run(RunRequest {
                argv: d.strs()?,
                env: d.strs()?,
                stdin: d.bytes()?,
                cpu_ms: d.u64()?,
                wall_ms: d.u64()?,
                output_bytes: d.u64()?,
                stack_bytes: d.u64()?,
                stream: d.u8()? != 0,
                interactive: d.u8()? != 0,
            }),
            3 => Request::Snapshot,
            4 => Request::Collect { max_files: d.u64()?, max_bytes: d.u64()? },
            5 => Request::Input { data: d.bytes()? },
            6 => Request::CloseInput,
            7 => Request::Stop,
            tag => return Err(WireError(format!("unknown request tag {tag}"))),
        };
        d.end()?;
        Ok(request)
    }
}

impl Response {
    pub fn encode(&self) -> Vec<u8> {
        let mut e = Encoder::default();
        match self {
            Response::Done => e.u8(1),
            Response::Ran(r) => {
                e.u8(2);
                let (kind, value) = match r.exit {
                    Exit::Code(c) => (0, c),
                    Exit::Signal(s) => (1, s),
                    Exit::NotStarted(errno) => (2, errno),
                };
                e.u8(kind);
                e.u64(value as u32 as u64);
                for n in [r.cpu_us, r.wall_us, r.peak_rss_kb, r.output_len] {
                    e.u64(n);
                }
                e.u8(r.wall_killed.into());
                e.u8(r.oom_killed.into());
                e.bytes(&r.stdout);
                e.bytes(&r.stderr);
            }
            Response::Failed(message) => {
                e.u8(3);
                e.str(message);
            }
            Response::Output { stream, data } => {
                e.u8(4);
                e.u8(match stream {
                    OutputStream::Stdout => 1,
                    OutputStream::Stderr => 2,
                });
                e.bytes(data);
            }
            Response::Files { files, dropped } => {
                e.u8(5);
                e.u64(files.len() as u64);
                for (name, data) in files {
                    e.str(name);
                    e.bytes(data);
                }
                e.strs(dropped);
            }
            Response::Status { cpu_us, drained } => {
                e.u8(6);
                e.u64(*cpu_us);
                e.u8((*drained).into());
            }
        }
        e.0
    }

    pub fn decode(body: &[u8]) -> Result<Self, WireError> {
        let mut d = Decoder { buf: body };
        let response = match d.u8()? {
            1 => Response::Done,
            2 => {
                let kind = d.u8()?;
                let value = d.u64()? as u32 as i32;
                let exit = match kind {
                    0 => Exit::Code(value),
                    1 => Exit::Signal(value),
                    2 => Exit::NotStarted(value),
                    k => return Err(WireError(format!("unknown exit kind {k}"))),
                };
                Response::Ran(RunReport {
                    exit,
                    cpu_us: d.u64()?,
                    wall_us: d.u64()?,
                    peak_rss_kb: d.u64()?,
                    output_len: d.u64()?,
                    wall_killed: d.u8()? != 0,
                    oom_killed: d.u8()? != 0,
                    stdout: d.bytes()?,
                    stderr: d.bytes()?,
                })
            }
            3 => Response::Failed(d.str()?),
            4 => {
                let stream = match d.u8()? {
                    1 => OutputStream::Stdout,
                    2 => OutputStream::Stderr,
                    s => return Err(WireError(format!("unknown output stream {s}"))),
                };
                Response::Output { stream, data: d.bytes()? }
            }
            5 => {
                let count = d.count()?;
                let files =
                    (0..count).map(|_| Ok((d.str()?, d.bytes()?))).collect::<Result<_, _>>()?;
                Response::Files { files, dropped: d.strs()? }
            }
            6 => Response::Status { cpu_us: d.u64()?, drained: d.u8()? != 0 },
            tag => return Err(WireError(format!("unknown response tag {tag}"))),
        };
        d.end()?;
        Ok(response)
    }
}

/// Writes one frame.
pub fn write_frame(w: &mut impl Write, body: &[u8]) -> io::Result<()> {
    let len = u32::try_from(body.len())
        .ok()
        .filter(|&n| n as usize <= MAX_FRAME)
        .ok_or_else(|| io::Error::other(format!("a frame of {} bytes is too large", body.len())))?;
    w.write_all(&len.to_le_bytes())?;
    w.write_all(body)?;
    w.flush()
}

/// Reads one frame; `None` at a clean end of input.
pub fn read_frame(r: &mut impl Read) -> io::Result<Option<Vec<u8>>> {
    let mut len = [0; 4];
    match r.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = frame_len(len).map_err(io::Error::other)?;
    let mut body = vec![0; len];
    r.read_exact(&mut body)?;
    Ok(Some(body))
}

/// Takes one whole frame off the front of `buf` (bytes received so far),
/// if it holds one.
pub fn pop_frame(buf: &mut Vec<u8>) -> Result<Option<Vec<u8>>, WireError> {
    let Some(header) = buf.first_chunk::<4>() else { return Ok(None) };
    let len = frame_len(*header)?;
    if buf.len() < 4 + len {
        return Ok(None);
    }
    let body = buf[4..4 + len].to_vec();
    buf.drain(..4 + len);
    Ok(Some(body))
}

fn frame_len(header: [u8; 4]) -> Result<usize, WireError> {
    let len = u32::from_le_bytes(header) as usize;
    if len > MAX_FRAME {
        return Err(WireError(format!("a frame of {len} bytes is over the {MAX_FRAME} cap")));
    }
    Ok(len)
}

#[derive(Default)]
struct Encoder(Vec<u8>);

impl Encoder {
    fn u8(&mut self, n: u8) {
        self.0.push(n);
    }
    fn u64(&mut self, n: u64) {
        self.0.extend_from_slice(&n.to_le_bytes());
    }
    fn bytes(&mut self, b: &[u8]) {
        self.u64(b.len() as u64);
        self.0.extend_from_slice(b);
    }
    fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }
    fn strs(&mut self, list: &[String]) {
        self.u64(list.len() as u64);
        for s in list {
            self.str(s);
        }
    }
}

struct Decoder<'a> {
    buf: &'a [u8],
}

impl Decoder<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], WireError> {
        if self.buf.len() < n {
            return Err(WireError(format!("{n} bytes expected, {} left", self.buf.len())));
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }
    fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.take(1)?[0])
    }
    fn u64(&mut self) -> Result<u64, WireError> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().expect("8 bytes")))
    }
    fn bytes(&mut self) -> Result<Vec<u8>, WireError> {
        let len = usize::try_from(self.u64()?).map_err(|_| WireError("length overflow".into()))?;
        Ok(self.take(len)?.to_vec())
    }
    fn str(&mut self) -> Result<String, WireError> {
        String::from_utf8(self.bytes()?).map_err(|_| WireError("a string is not UTF-8".into()))
    }
    /// A list's length, refused when that many entries cannot fit in what
    /// is left (each takes at least 8 bytes).
    fn count(&mut self) -> Result<u64, WireError> {
        let count = self.u64()?;
        if count > self.buf.len() as u64 / 8 {
            return Err(WireError(format!("{count} entries cannot fit")));
        }
        Ok(count)
    }
    fn strs(&mut self) -> Result<Vec<String>, WireError> {
        let count = self.count()?;
        (0..count).map(|_| self.str()).collect()
    }
    fn end(&self) -> Result<(), WireError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(WireError(format!("{} trailing bytes", self.buf.len())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_request() -> Request {
        Request::Run(RunRequest {
            argv: vec!["/work/main".into(), "x".into()],
            env: vec!["PATH=/usr/bin".into()],
            stdin: b"1 2\n".to_vec(),
            cpu_ms: 1000,
            wall_ms: 3000,
            output_bytes: 64 << 20,
            stack_bytes: 256 << 20,
            stream: true,
            interactive: false,
        })
    }

    #[test]
    fn requests_and_responses_survive_a_round_trip() {
        let put = Request::PutFile { name: "main.c".into(), data: vec![0, 1, 2], executable: true };
        let collect = Request::Collect { max_files: 3, max_bytes: 1 << 20 };
        let input = Request::Input { data: b"? 5\n".to_vec() };
        for request in [
            put,
            run_request(),
            Request::Snapshot,
            collect,
            input,
            Request::CloseInput,
            Request::Stop,
        ] {
            assert_eq!(Request::decode(&request.encode()).unwrap(), request);
        }
        let ran = Response::Ran(RunReport {
            exit: Exit::Signal(11),
            cpu_us: 1,
            wall_us: 2,
            peak_rss_kb: 3,
            wall_killed: true,
            oom_killed: false,
            output_len: 9,
            stdout: b"out".to_vec(),
            stderr: b"err".to_vec(),
        });
        for response in [
            Response::Done,
            ran,
            Response::Failed("no".into()),
            Response::Ran(RunReport {
                exit: Exit::Code(-1),
                cpu_us: 0,
                wall_us: 0,
                peak_rss_kb: 0,
                wall_killed: false,
                oom_killed: true,
                output_len: 0,
                stdout: vec![],
                stderr: vec![],
            }),
            Response::Output { stream: OutputStream::Stdout, data: b"line\n".to_vec() },
            Response::Output { stream: OutputStream::Stderr, data: vec![] },
            Response::Files {
                files: vec![("out.txt".into(), b"x".to_vec()), ("sub/y".into(), vec![])],
                dropped: vec!["big.bin".into()],
            },
            Response::Files { files: vec![], dropped: vec![] },
            Response::Status { cpu_us: 1234, drained: true },
        ] {
            assert_eq!(Response::decode(&response.encode()).unwrap(), response);
        }
    }

    #[test]
    fn malformed_bodies_are_errors_not_panics() {
        let body = run_request().encode();
        for cut in 0..body.len() {
            assert!(Request::decode(&body[..cut]).is_err(), "prefix of {cut} bytes decoded");
        }
        let mut long = body.clone();
        long.push(0);
        assert!(Request::decode(&long).unwrap_err().0.contains("trailing"));
        assert!(Request::decode(&[9]).unwrap_err().0.contains("tag 9"));
        let huge_list = [2, 255, 255, 255, 255, 255, 255, 255, 255];
        assert!(Request::decode(&huge_list).is_err());
        // A streaming flag is part of every run request.
        let mut flagless = body.clone();
        flagless.pop();
        assert!(Request::decode(&flagless).is_err());
        let Request::Run(mut plain) = run_request() else { unreachable!() };
        plain.stream = false;
        assert_eq!(
            plain.clone(),
            match Request::decode(&Request::Run(plain).encode()).unwrap() {
                Request::Run(r) => r,
                other => panic!("{other:?}"),
            }
        );
    }

    #[test]
    fn malformed_output_and_file_frames_are_errors() {
        let output = Response::Output { stream: OutputStream::Stderr, data: b"ab".to_vec() };
        let mut body = output.encode();
        for cut in 0..body.len() {
            assert!(Response::decode(&body[..cut]).is_err(), "prefix of {cut} bytes decoded");
        }
        body[1] = 7;
        assert!(Response::decode(&body).unwrap_err().0.contains("output stream 7"));
        let files = Response::Files { files: vec![("a".into(), b"1".to_vec())], dropped: vec![] };
        let body = files.encode();
        for cut in 0..body.len() {
            assert!(Response::decode(&body[..cut]).is_err(), "prefix of {cut} bytes decoded");
        }
        // A file count the body cannot hold is refused before allocating.
        let huge = [5, 255, 255, 255, 255, 255, 255, 255, 127];
        assert!(Response::decode(&huge).unwrap_err().0.contains("cannot fit"));
        assert!(Request::decode(&[4, 1]).is_err());
    }

    #[test]
    fn frames_are_split_from_a_byte_stream() {
        let mut wire = Vec::new();
        write_frame(&mut wire, b"abc").unwrap();
        write_frame(&mut wire, b"").unwrap();
        let mut buf = Vec::new();
        let mut frames = Vec::new();
        for byte in wire {
            buf.push(byte);
            while let Some(frame) = pop_frame(&mut buf).unwrap() {
                frames.push(frame);
            }
        }
        assert_eq!(frames, [b"abc".to_vec(), vec![]]);
        assert!(buf.is_empty());
        let mut huge = ((MAX_FRAME + 1) as u32).to_le_bytes().to_vec();
        assert!(pop_frame(&mut huge).is_err());
    }

    #[test]
    fn read_frame_ends_cleanly_at_eof() {
        let mut wire = Vec::new();
        write_frame(&mut wire, b"x").unwrap();
        let mut r = wire.as_slice();
        assert_eq!(read_frame(&mut r).unwrap(), Some(b"x".to_vec()));
        assert_eq!(read_frame(&mut r).unwrap(), None);
    }
}
