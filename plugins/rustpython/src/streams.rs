//! The program's standard streams, kept in Rust instead of RustPython's `_io`
//! stack (whose `TextIOWrapper.write` costs about ten loop iterations).
//!
//! stdin is read whole on first use and served from memory (text reads turn
//! `\r\n` into `\n`, like Python's universal newlines; undecodable bytes become
//! U+FFFD). stdout is gathered in a 64 KiB buffer and written when it fills, on
//! `flush()` and at the end of the run; stderr is written at every newline so
//! a traceback survives a later trap. `prelude.py` wraps these functions in
//! the file-like objects that become `sys.stdin`, `sys.stdout` and `sys.stderr`.
//!
//! No function here touches WASI until a program calls it, so the prelude can
//! run before the host's snapshot.

use std::cell::{OnceCell, RefCell};
use std::io::{Read, Write};

use rustpython_vm::builtins::{PyBytesRef, PyStr, PyStrRef};
use rustpython_vm::function::{ArgBytesLike, FuncArgs, OptionalArg, OptionalOption};
use rustpython_vm::{AsObject, PyObjectRef, PyResult, VirtualMachine};

/// Bytes of stdout gathered before they are written out.
const STDOUT_BUFFER: usize = 64 << 10;

/// The most input a program can read (a quarter of wasm32's address space).
const MAX_INPUT: u64 = 1 << 30;

/// The program's input: loaded on first use, consumed from `pos`.
#[derive(Default)]
struct Input {
    loaded: bool,
    data: Vec<u8>,
    pos: usize,
}

thread_local! {
    static STDIN: RefCell<Input> = RefCell::default();
    static STDOUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    static STDERR: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    /// The objects `prelude.py` made for `sys.stdin`, `sys.stdout` and
    /// `sys.stderr`: `print` and `input` bypass Python's method calls for them.
    static OURS: OnceCell<[PyObjectRef; 3]> = const { OnceCell::new() };
}

/// How much of the remaining input a read takes.
#[derive(Clone, Copy)]
enum Take {
    All,
    Line,
}

/// Consumes up to `limit` units (characters if `chars`, else bytes) of the
/// input, stopping after a newline if `take` is `Line`; returns those bytes.
fn consume(
    take: Take,
    limit: Option<isize>,
    chars: bool,
    vm: &VirtualMachine,
) -> PyResult<Vec<u8>> {
    STDIN.with_borrow_mut(|input| {
        if !input.loaded {
            input.loaded = true;
            let mut stdin = std::io::stdin().lock().take(MAX_INPUT);
            std::io::copy(&mut stdin, &mut input.data)
                .map_err(|e| vm.new_os_error(e.to_string()))?;
        }
        let rest = &input.data[input.pos..];
        let mut end = match take {
            Take::All => rest.len(),
            Take::Line => rest.iter().position(|&b| b == b'\n').map_or(rest.len(), |i| i + 1),
        };
        if let Some(limit) = limit.and_then(|n| usize::try_from(n).ok()) {
            end = end.min(if chars { char_prefix_len(rest, limit) } else { limit });
        }
        let taken = rest[..end].to_vec();
        input.pos += end;
        if input.pos == input.data.len() {
            // Everything is read: give the memory back to the program.
            input.data = Vec::new();
            input.pos = 0;
        }
        Ok(taken)
    })
}

/// The length in bytes of the first `chars` UTF-8 characters of `bytes`.
fn char_prefix_len(bytes: &[u8], chars: usize) -> usize {
    let mut starts = bytes.iter().enumerate().filter(|(_, b)| (**b & 0xC0) != 0x80);
    starts.nth(chars).map_or(bytes.len(), |(i, _)| i)
}

/// Input bytes as a `str`: invalid UTF-8 becomes U+FFFD, `\r\n` becomes `\n`.
fn decode(bytes: &[u8], vm: &VirtualMachine) -> PyStrRef {
    let text = String::from_utf8_lossy(bytes);
    if text.contains('\r') {
        vm.ctx.new_str(text.replace("\r\n", "\n"))
    } else {
        vm.ctx.new_str(text.into_owned())
    }
}

/// `sys.stdin.read(size=-1)`.
pub fn read(size: OptionalOption<isize>, vm: &VirtualMachine) -> PyResult<PyStrRef> {
    Ok(decode(&consume(Take::All, size.flatten(), true, vm)?, vm))
}

/// `sys.stdin.readline(size=-1)`.
pub fn readline(size: OptionalOption<isize>, vm: &VirtualMachine) -> PyResult<PyStrRef> {
    Ok(decode(&consume(Take::Line, size.flatten(), true, vm)?, vm))
}

/// `sys.stdin.buffer.read(size=-1)`.
pub fn read_bytes(size: OptionalOption<isize>, vm: &VirtualMachine) -> PyResult<PyBytesRef> {
    Ok(vm.ctx.new_bytes(consume(Take::All, size.flatten(), false, vm)?))
}

/// `sys.stdin.buffer.readline(size=-1)`.
pub fn readline_bytes(size: OptionalOption<isize>, vm: &VirtualMachine) -> PyResult<PyBytesRef> {
    Ok(vm.ctx.new_bytes(consume(Take::Line, size.flatten(), false, vm)?))
}

/// `input(prompt="")`, without CPython's flush of stdout: the prompt goes to
/// `sys.stdout`, the line comes from `sys.stdin`.
pub fn input(prompt: OptionalArg<PyObjectRef>, vm: &VirtualMachine) -> PyResult {
    if let OptionalArg::Present(prompt) = prompt
        && let Some(stdout) = sys_stream(1, vm)?
    {
        emit(&stdout, vec![prompt.str(vm)?], vm)?;
    }
    let line = match sys_stream(0, vm)? {
        Some(stdin) if is_ours(&stdin, 0) => readline(OptionalArg::Missing, vm)?,
        Some(stdin) => vm.call_method(&stdin, "readline", ())?.str(vm)?,
        None => return Err(vm.new_runtime_error("input(): lost sys.stdin")),
    };
    match line.to_str() {
        Some("") => Err(vm.new_exception_msg(
            vm.ctx.exceptions.eof_error.to_owned(),
            "EOF when reading a line".into(),
        )),
        Some(text) => Ok(text
            .strip_suffix('\n')
            .map_or_else(|| line.clone().into(), |text| vm.ctx.new_str(text).into())),
        // Surrogates: only from a `sys.stdin` the program made itself.
        None => vm.call_method(line.as_object(), "removesuffix", ("\n",)),
    }
}

/// `print(*objects, sep=" ", end="\n", file=None, flush=False)`: one append
/// to our buffer when `file` is our stdout or stderr, else `file.write` calls
/// as in CPython.
pub fn print(args: FuncArgs, vm: &VirtualMachine) -> PyResult<()> {
    let (mut sep, mut end, mut file, mut flush) = (None, None, None, false);
    for (name, value) in args.kwargs {
        let text = |value: PyObjectRef| match value.downcast::<PyStr>() {
            Ok(text) => Ok(Some(text)),
            Err(value) if vm.is_none(&value) => Ok(None),
            Err(value) => {
                let kind = value.class().name().to_owned();
                Err(vm.new_type_error(format!("{name} must be None or a string, not {kind}")))
            }
        };
        match name.as_str() {
            "sep" => sep = text(value)?,
            "end" => end = text(value)?,
            "file" => file = Some(value).filter(|file| !vm.is_none(file)),
            "flush" => flush = value.try_to_bool(vm)?,
            _ => {
                return Err(vm.new_type_error(format!(
                    "'{name}' is an invalid keyword argument for print()"
                )));
            }
        }
    }
    let Some(file) = file.map_or_else(|| sys_stream(1, vm), |file| Ok(Some(file)))? else {
        return Ok(()); // `sys.stdout` is None: CPython prints nothing either.
    };
    let mut pieces = Vec::with_capacity(2 * args.args.len());
    for (i, object) in args.args.iter().enumerate() {
        if i > 0 {
            pieces.push(sep.clone().unwrap_or_else(|| vm.ctx.new_str(" ")));
        }
        pieces.push(object.str(vm)?);
    }
    pieces.push(end.unwrap_or_else(|| vm.ctx.new_str("\n")));
    emit(&file, pieces, vm)?;
    if flush {
        vm.call_method(&file, "flush", ())?;
    }
    Ok(())
}

/// Writes `pieces` to `file`: one append to our buffer if it is our stdout
/// or stderr, else a `file.write` call per piece (as CPython does).
fn emit(file: &PyObjectRef, pieces: Vec<PyStrRef>, vm: &VirtualMachine) -> PyResult<()> {
    let ours = |fd| is_ours(file, fd);
    if ours(1) || ours(2) {
        let bytes: Vec<&[u8]> = pieces.iter().map(|piece| piece.as_bytes()).collect();
        return if ours(1) { push::<false>(&bytes, vm) } else { push::<true>(&bytes, vm) };
    }
    for piece in pieces {
        vm.call_method(file, "write", (piece,))?;
    }
    Ok(())
}

/// `sys.stdin`, `sys.stdout` or `sys.stderr` (by fd) as the program left it.
fn sys_stream(fd: usize, vm: &VirtualMachine) -> PyResult<Option<PyObjectRef>> {
    let stream = vm.sys_module.dict().get_item_opt(["stdin", "stdout", "stderr"][fd], vm)?;
    Ok(stream.filter(|stream| !vm.is_none(stream)))
}

/// Whether `stream` is the object `prelude.py` made for fd `fd`.
fn is_ours(stream: &PyObjectRef, fd: usize) -> bool {
    OURS.with(|ours| ours.get().is_some_and(|ours| stream.is(&ours[fd])))
}

/// `_register(stdin, stdout, stderr)`: tells `print` and `input` which
/// objects are ours.
pub fn register(stdin: PyObjectRef, stdout: PyObjectRef, stderr: PyObjectRef) {
    OURS.with(|ours| drop(ours.set([stdin, stdout, stderr])));
}

/// Appends to stdout's buffer (or stderr's, if `ERR`) and writes it out when
/// full (stderr: when a line is complete).
fn push<const ERR: bool>(pieces: &[&[u8]], vm: &VirtualMachine) -> PyResult<()> {
    let buffer = if ERR { &STDERR } else { &STDOUT };
    let full = buffer.with_borrow_mut(|buffer| {
        pieces.iter().for_each(|piece| buffer.extend_from_slice(piece));
        if ERR {
            pieces.iter().any(|piece| piece.contains(&b'\n'))
        } else {
            buffer.len() >= STDOUT_BUFFER
        }
    });
    if full { flush::<ERR>(vm) } else { Ok(()) }
}

/// `sys.stdout.write(s)` / `sys.stderr.write(s)`.
pub fn write_text<const ERR: bool>(s: PyStrRef, vm: &VirtualMachine) -> PyResult<usize> {
    push::<ERR>(&[s.as_bytes()], vm)?;
    Ok(s.char_len())
}

/// `sys.stdout.buffer.write(b)` / `sys.stderr.buffer.write(b)`.
pub fn write_bytes<const ERR: bool>(b: ArgBytesLike, vm: &VirtualMachine) -> PyResult<usize> {
    b.with_ref(|bytes| push::<ERR>(&[bytes], vm).map(|()| bytes.len()))
}

/// `flush()` of stdout (or stderr): writes the buffer to the WASI stream.
pub fn flush<const ERR: bool>(vm: &VirtualMachine) -> PyResult<()> {
    write_out::<ERR>().map_err(|e| vm.new_os_error(e.to_string()))
}

fn write_out<const ERR: bool>() -> std::io::Result<()> {
    let buffer = if ERR { &STDERR } else { &STDOUT };
    let bytes = buffer.take();
    if bytes.is_empty() {
        return Ok(());
    }
    if ERR {
        let mut stderr = std::io::stderr().lock();
        stderr.write_all(&bytes)?;
        stderr.flush()
    } else {
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(&bytes)?;
        stdout.flush()
    }
}

/// Writes out whatever stdout and stderr still hold (end of a run). Errors
/// are the host's to see: its pipes are the only place the bytes could go.
pub fn flush_all() {
    let _ = write_out::<false>();
    let _ = write_out::<true>();
}

/// The native functions `prelude.py` expects, by the names it uses.
pub fn natives(vm: &VirtualMachine) -> Vec<(&'static str, PyObjectRef)> {
    vec![
        ("_read", vm.new_function("read", read).into()),
        ("_readline", vm.new_function("readline", readline).into()),
        ("_read_bytes", vm.new_function("read", read_bytes).into()),
        ("_readline_bytes", vm.new_function("readline", readline_bytes).into()),
        ("_input", vm.new_function("input", input).into()),
        ("_print", vm.new_function("print", print).into()),
        ("_register", vm.new_function("_register", register).into()),
        ("_write_out", vm.new_function("write", write_text::<false>).into()),
        ("_write_out_bytes", vm.new_function("write", write_bytes::<false>).into()),
        ("_flush_out", vm.new_function("flush", flush::<false>).into()),
        ("_write_err", vm.new_function("write", write_text::<true>).into()),
        ("_write_err_bytes", vm.new_function("write", write_bytes::<true>).into()),
        ("_flush_err", vm.new_function("flush", flush::<true>).into()),
    ]
}

#[cfg(test)]
mod tests {
    use super::char_prefix_len;

    #[test]
    fn char_prefixes_count_utf8_characters() {
        assert_eq!(char_prefix_len(b"abc", 2), 2);
        assert_eq!(char_prefix_len("é✓x".as_bytes(), 2), 5);
        assert_eq!(char_prefix_len(b"ab", 5), 2);
        assert_eq!(char_prefix_len(b"ab", 0), 0);
    }
}
