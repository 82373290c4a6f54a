//! Byte-level standard streams for one run: a lazily filled stdin buffer with an
//! O(line) `read_line`, and large output buffers flushed in big chunks.
//!
//! Nothing here knows about JavaScript; `globals` turns these bytes into strings.

use std::io::{ErrorKind, Read, Write};

/// How many bytes the input asks its reader for at a time.
const READ_CHUNK: usize = 64 * 1024;

/// Standard input, read on demand.
///
/// Bytes before `pos` have been consumed; the buffer is compacted when the
/// consumed prefix dominates, so memory stays proportional to what is unread.
pub struct Input {
    reader: Box<dyn Read>,
    buf: Vec<u8>,
    pos: usize,
    eof: bool,
}

impl Input {
    pub fn new(reader: Box<dyn Read>) -> Self {
        Self { reader, buf: Vec::new(), pos: 0, eof: false }
    }

    /// Reads one more chunk; returns false at end of input (or on a read error,
    /// which a program cannot tell apart from the end anyway).
    fn fill(&mut self) -> bool {
        if self.eof {
            return false;
        }
        if self.pos > 0 && self.pos >= self.buf.len() / 2 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        let start = self.buf.len();
        self.buf.resize(start + READ_CHUNK, 0);
        let n = loop {
            match self.reader.read(&mut self.buf[start..]) {
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Ok(n) => break n,
                Err(_) => break 0,
            }
        };
        self.buf.truncate(start + n);
        self.eof = n == 0;
        n > 0
    }

    /// The next line without its terminator (`\n` or `\r\n`), or `None` at the
    /// end of input. A last line without a terminator is still returned.
    pub fn read_line(&mut self) -> Option<&[u8]> {
        let mut scanned = self.pos;
        let end = loop {
            if let Some(i) = memchr(b'\n', &self.buf[scanned..]) {
                break Some(scanned + i);
            }
            scanned = self.buf.len();
            let consumed = self.pos;
            if !self.fill() {
                break None;
            }
            // `fill` may have compacted the buffer.
            scanned -= consumed - self.pos;
        };
        let start = self.pos;
        let (line_end, next) = match end {
            Some(nl) => (nl, nl + 1),
            None if start < self.buf.len() => (self.buf.len(), self.buf.len()),
            None => return None,
        };
        self.pos = next;
        let mut line = &self.buf[start..line_end];
        if let [rest @ .., b'\r'] = line {
            line = rest;
        }
        Some(line)
    }

    /// Everything not yet consumed; the input is at its end afterwards.
    pub fn read_all(&mut self) -> &[u8] {
        while self.fill() {}
        let start = self.pos;
        self.pos = self.buf.len();
        &self.buf[start..]
    }
}

/// Position of the first `needle` in `haystack`, a word at a time.
pub fn memchr(needle: u8, haystack: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let pattern = LO.wrapping_mul(u64::from(needle));
    let mut i = 0;
    while i + 8 <= haystack.len() {
        let mut word = [0u8; 8];
        word.copy_from_slice(&haystack[i..i + 8]);
        let x = u64::from_le_bytes(word) ^ pattern;
        if x.wrapping_sub(LO) & !x & HI != 0 {
            break;
        }
        i += 8;
    }
    haystack[i..].iter().position(|&b| b == needle).map(|p| p + i)
}

/// An output stream buffered in memory and handed to its sink in large chunks.
pub struct Output {
    sink: Box<dyn Write>,
    buf: Vec<u8>,
    threshold: usize,
}

impl Output {
    pub fn new(sink: Box<dyn Write>, threshold: usize) -> Self {
        Self { sink, buf: Vec::with_capacity(threshold.min(1 << 16)), threshold }
    }

    /// The buffer to append to; call [`Output::wrote`] afterwards.
    pub fn buf(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }

    /// Flushes when the buffer has grown past its threshold.
    pub fn wrote(&mut self) {
        if self.buf.len() >= self.threshold {
            self.flush();
        }
    }

    pub fn write(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
        self.wrote();
    }

    /// Hands everything buffered to the sink. Write errors (a closed pipe, the
    /// host's output cap) are ignored: the host judges what it received.
    pub fn flush(&mut self) {
        if !self.buf.is_empty() {
            let _ = self.sink.write_all(&self.buf);
            self.buf.clear();
        }
        let _ = self.sink.flush();
    }
}
