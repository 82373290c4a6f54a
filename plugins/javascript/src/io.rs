//! A run's standard streams: stdin read as it is needed, chunk by chunk,
//! and handed out line by line or (the rest) at once; stdout and stderr
//! buffered (stdout in large chunks, stderr in small ones so a diagnostic
//! survives a later trap) and flushed at exit, and before every read that
//! has to wait for more input: a program talking to an interactor
//! (`console.log` a query, then read the reply) has its query sent before
//! it waits, so it gets the verdicts it gets under node, whose
//! `console.log` writes a pipe at once.

use std::io::{Read, Write};

/// Stdout is handed to the host in chunks of this size.
pub const STDOUT_CHUNK: usize = 64 * 1024;
/// Stderr is handed over sooner.
pub const STDERR_CHUNK: usize = 4 * 1024;
/// The most of stdin a run reads.
const MAX_STDIN: usize = 1 << 30;
/// Stdin is read in chunks of this size.
const STDIN_CHUNK: usize = 64 * 1024;

/// The streams of one run; empty until [`Io::attach`] (a pre-initialised
/// runtime is built before any run has streams).
#[derive(Default)]
pub struct Io {
    stdin: Option<Box<dyn Read>>,
    /// Stdin read so far and not yet dropped, how much of it the program
    /// has taken, how much was read in all, and whether it ended.
    input: Vec<u8>,
    pos: usize,
    total: usize,
    eof: bool,
    stdout: Option<Output>,
    stderr: Option<Output>,
    /// Set by `process.exit`: the status the run ends with.
    pub exit: Option<i32>,
}

impl Io {
    /// Gives the run its streams.
    pub fn attach(&mut self, stdin: Box<dyn Read>, stdout: Box<dyn Write>, stderr: Box<dyn Write>) {
        self.stdin = Some(stdin);
        self.stdout = Some(Output::new(stdout, STDOUT_CHUNK));
        self.stderr = Some(Output::new(stderr, STDERR_CHUNK));
    }

    /// Reads the next chunk of stdin (what is there, waiting for some),
    /// after handing the output written so far to the host. A read error
    /// ends the input as its end does; the memory cap bounds what a run
    /// holds, [`MAX_STDIN`] only keeps the reading bounded.
    fn fill(&mut self) {
        if self.eof {
            return;
        }
        self.flush();
        if self.pos > 0 {
            self.input.drain(..self.pos);
            self.pos = 0;
        }
        let Some(stdin) = self.stdin.as_mut() else {
            self.eof = true;
            return;
        };
        let start = self.input.len();
        self.input.resize(start + STDIN_CHUNK, 0);
        let n = loop {
            match stdin.read(&mut self.input[start..]) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                read => break read.unwrap_or(0),
            }
        };
        self.input.truncate(start + n);
        self.total += n;
        if n == 0 || self.total >= MAX_STDIN {
            self.eof = true;
        }
    }

    /// The next line without its `\n` (or `\r\n`), `None` at the end of
    /// input.
    pub fn read_line(&mut self) -> Option<&[u8]> {
        // Bytes after `pos` already searched for a newline (`fill` drops
        // what was taken before `pos`, so this stays right across reads).
        let mut searched = 0;
        let newline = loop {
            let rest = &self.input[self.pos + searched..];
            if let Some(i) = rest.iter().position(|&b| b == b'\n') {
                break Some(searched + i);
            }
            if self.eof {
                break None;
            }
            searched += rest.len();
            self.fill();
        };
        let rest = &self.input[self.pos..];
        if rest.is_empty() {
            return None;
        }
        let (mut line, taken) = match newline {
            Some(i) => (&rest[..i], i + 1),
            None => (rest, rest.len()),
        };
        if let [head @ .., b'\r'] = line {
            line = head;
        }
        self.pos += taken;
        Some(line)
    }

    /// The rest of stdin as bytes (all of it, to its end).
    pub fn read_bytes(&mut self) -> &[u8] {
        while !self.eof {
            self.fill();
        }
        let rest = &self.input[self.pos..];
        self.pos = self.input.len();
        rest
    }

    /// Writes `text` to stdout (`fd` 1) or stderr (anything else).
    pub fn write(&mut self, fd: i32, text: &[u8]) {
        let out = if fd == 1 { &mut self.stdout } else { &mut self.stderr };
        if let Some(out) = out {
            out.write(text);
        }
    }

    /// Hands everything buffered to the host.
    pub fn flush(&mut self) {
        for out in [&mut self.stdout, &mut self.stderr].into_iter().flatten() {
            out.flush();
        }
    }
}

/// Text for JavaScript: the bytes themselves when they are UTF-8 (the usual
/// case, no copy), else with U+FFFD for what is not.
pub fn text(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

/// Lossy UTF-8 without a copy when the bytes are valid.
pub fn into_string(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// A buffered writer that hands over whole chunks and ignores write errors
/// (the host's output cap stops a flooding run itself).
pub struct Output {
    sink: Box<dyn Write>,
    buf: Vec<u8>,
    chunk: usize,
}

impl Output {
    pub fn new(sink: Box<dyn Write>, chunk: usize) -> Self {
        Output { sink, buf: Vec::with_capacity(chunk), chunk }
    }

    pub fn write(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= self.chunk {
            self.flush();
        }
    }

    pub fn flush(&mut self) {
        if !self.buf.is_empty() {
            let _ = self.sink.write_all(&self.buf);
            self.buf.clear();
        }
        let _ = self.sink.flush();
    }
}

/// Splits `text` like `text.split(/\s+/)` (or `/ +/` with `spaces_only`):
/// the pieces between maximal runs of separators, with an empty piece
/// before a leading run and after a trailing one.
pub fn split_whitespace(text: &str, spaces_only: bool) -> Vec<&str> {
    let is_sep = |c: char| if spaces_only { c == ' ' } else { is_js_whitespace(c) };
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if is_sep(c) {
            pieces.push(&text[start..i]);
            let mut end = i + c.len_utf8();
            while let Some(&(j, d)) = chars.peek() {
                if !is_sep(d) {
                    break;
                }
                end = j + d.len_utf8();
                chars.next();
            }
            start = end;
        }
    }
    pieces.push(&text[start..]);
    pieces
}

/// JavaScript's `\s`: WhiteSpace and LineTerminator of ECMA-262.
pub fn is_js_whitespace(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202f}'
                | '\u{205f}'
                | '\u{3000}'
                | '\u{feff}'
    )
}
