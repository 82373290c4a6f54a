//! A run's standard streams: stdin read line by line or whole, stdout and
//! stderr buffered (stdout in large chunks, stderr in small ones so a
//! diagnostic survives a later trap) and flushed at exit.

use std::io::{BufRead, BufReader, Read, Write};

/// Stdout is handed to the host in chunks of this size.
pub const STDOUT_CHUNK: usize = 64 * 1024;
/// Stderr is handed over sooner.
pub const STDERR_CHUNK: usize = 4 * 1024;
/// The most of stdin one read of all of it takes.
const MAX_STDIN: u64 = 1 << 30;

/// The streams of one run; empty until [`Io::attach`] (a pre-initialised
/// runtime is built before any run has streams).
#[derive(Default)]
pub struct Io {
    stdin: Option<BufReader<Box<dyn Read>>>,
    stdout: Option<Output>,
    stderr: Option<Output>,
    /// Set by `process.exit`: the status the run ends with.
    pub exit: Option<i32>,
}

impl Io {
    /// Gives the run its streams.
    pub fn attach(&mut self, stdin: Box<dyn Read>, stdout: Box<dyn Write>, stderr: Box<dyn Write>) {
        self.stdin = Some(BufReader::with_capacity(64 * 1024, stdin));
        self.stdout = Some(Output::new(stdout, STDOUT_CHUNK));
        self.stderr = Some(Output::new(stderr, STDERR_CHUNK));
    }

    /// The next line without its `\n` (or `\r\n`), `None` at the end of
    /// input. Invalid UTF-8 becomes U+FFFD.
    pub fn read_line(&mut self) -> Option<String> {
        let stdin = self.stdin.as_mut()?;
        let mut line = Vec::new();
        match stdin.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => None,
            Ok(_) => {
                if line.last() == Some(&b'\n') {
                    line.pop();
                    if line.last() == Some(&b'\r') {
                        line.pop();
                    }
                }
                Some(into_string(line))
            }
        }
    }

    /// The rest of stdin as bytes.
    pub fn read_bytes(&mut self) -> Vec<u8> {
        let mut all = Vec::new();
        if let Some(stdin) = self.stdin.as_mut() {
            // A read error ends the input like its end does. The host sizes
            // stdin (and memory caps what a run can hold); the cap only
            // keeps the read bounded.
            let _ = std::io::copy(&mut stdin.by_ref().take(MAX_STDIN), &mut all);
        }
        all
    }

    /// The rest of stdin as text.
    pub fn read_all(&mut self) -> String {
        into_string(self.read_bytes())
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
