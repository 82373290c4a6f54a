//! A run's standard streams: stdin read whole on first use and handed out
//! line by line or at once, stdout and stderr buffered (stdout in large
//! chunks, stderr in small ones so a diagnostic survives a later trap) and
//! flushed at exit.

use std::io::{Read, Write};

/// Stdout is handed to the host in chunks of this size.
pub const STDOUT_CHUNK: usize = 64 * 1024;
/// Stderr is handed over sooner.
pub const STDERR_CHUNK: usize = 4 * 1024;
/// The most of stdin a run reads.
const MAX_STDIN: u64 = 1 << 30;

/// The streams of one run; empty until [`Io::attach`] (a pre-initialised
/// runtime is built before any run has streams).
#[derive(Default)]
pub struct Io {
    stdin: Option<Box<dyn Read>>,
    /// All of stdin once read, and how much of it the program has taken.
    input: Vec<u8>,
    pos: usize,
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

    /// Reads all of stdin the first time it is wanted. A read error ends
    /// the input as its end does; the host sizes stdin and the memory cap
    /// bounds what a run holds, [`MAX_STDIN`] only keeps the read bounded.
    fn load(&mut self) {
        if let Some(stdin) = self.stdin.take() {
            let _ = std::io::copy(&mut stdin.take(MAX_STDIN), &mut self.input);
        }
    }

    /// The next line without its `\n` (or `\r\n`), `None` at the end of
    /// input.
    pub fn read_line(&mut self) -> Option<&[u8]> {
        self.load();
        let rest = &self.input[self.pos..];
        if rest.is_empty() {
            return None;
        }
        let (mut line, taken) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => (&rest[..i], i + 1),
            None => (rest, rest.len()),
        };
        if let [head @ .., b'\r'] = line {
            line = head;
        }
        self.pos += taken;
        Some(line)
    }

    /// The rest of stdin as bytes.
    pub fn read_bytes(&mut self) -> &[u8] {
        self.load();
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
