"""Gavel's `python` language plugin: CPython, as bundled by componentize-py,
implementing the `language` world of wit/plugin.wit.

componentize-py runs this module once at build time and snapshots the
interpreter (a pre-initialised component), so every run starts with CPython
booted and the modules imported below already loaded. Only modules imported
at build time exist at run time: `STDLIB` is the curated standard library a
contestant may import.

`compile` checks that the source is UTF-8 and byte-compiles it (a
`SyntaxError` is the contestant's compile error, worded as CPython words
it); the program handed to `run` is the code object, `marshal`led with the source (for tracebacks). `run`
executes it as `__main__` with fresh buffered streams over WASI
stdin/stdout/stderr, flushed at exit, and returns the exit status CPython
would: 0, the `sys.exit` code, or 1 after printing an uncaught exception's
traceback to stderr.
"""

import builtins
import io
import linecache
import marshal
import sys
import traceback
import types

# The curated standard library, imported here so the build keeps it.
import array, bisect, cmath, collections, copy, dataclasses, datetime  # noqa: E401,F401
import decimal, enum, fractions, functools, heapq, itertools, json  # noqa: E401,F401
import math, numbers, operator, os, queue, random, re, statistics  # noqa: E401,F401
import string, time, typing  # noqa: E401,F401
import abc, base64, binascii, calendar, contextlib, hashlib, keyword  # noqa: E401,F401
import pprint, struct, textwrap, unicodedata, weakref, zlib  # noqa: E401,F401
import collections.abc, encodings.idna, warnings  # noqa: E401,F401
# Present so that a program using them fails with CPython's own clear error
# (no processes, every network address denied) rather than an import error.
import socket, subprocess  # noqa: E401,F401

from wit_world import WitWorld as _World
from wit_world.imports import types as wit
from componentize_py_types import Err

SCRIPT_NAME = "main.py"
"""The name a program sees for itself (tracebacks, `sys.argv[0]`)."""

FUEL_PER_MS = 10_900_000
"""Fuel that counts as 1 ms of reported time, fitted to native CPython's CPU
time on the input-parsing and sorting workloads: their fuel per native ms
spans 7.5 M (sorting) to 12.8 M (`input()` per line), and 9.8 M puts every
one of them within ±35 % (docs/BENCHMARKS.md has the measurement)."""

FUEL_PER_CPU_MS = 9_000_000
"""Fuel this component burns per ms of real CPU (a 3·10⁶-step loop: 9.9 G
fuel in 1.08 s of CPU, rounded down so the wall backstop errs long)."""

BUFFER = 1 << 16
"""Size of the standard streams' buffers."""

RECURSION_FRAMES = 50
"""How many frames a `RecursionError`'s traceback shows."""


_UNCAUGHT: list[BaseException] = []
"""The run's uncaught exception, kept alive (see `_run_main`)."""


class WitWorld(_World):
    def info(self) -> wit.LanguageInfo:
        implementation = sys.implementation.name.replace("cpython", "CPython")
        major, minor = sys.version_info[:2]
        return wit.LanguageInfo(
            id="python",
            name=f"Python {major}.{minor} ({implementation}, componentize-py 0.25.1)",
            version=sys.version.split()[0],
            source_file=SCRIPT_NAME,
            fuel_per_ms=FUEL_PER_MS,
            fuel_per_cpu_ms=FUEL_PER_CPU_MS,
        )

    def compile(self, source: bytes) -> bytes:
        try:
            text = source.decode("utf-8")
        except UnicodeDecodeError as e:
            line = source.count(b"\n", 0, e.start) + 1
            raise Err(
                f'  File "{SCRIPT_NAME}", line {line}\n'
                f"SyntaxError: the source is not valid UTF-8 "
                f"(byte 0x{source[e.start]:02x} at offset {e.start})"
            )
        try:
            code = builtins.compile(text.removeprefix("\ufeff"), SCRIPT_NAME, "exec", dont_inherit=True)
        except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
            # The compiler's own words: file, line, the line and a caret.
            raise Err("".join(traceback.format_exception_only(e)).rstrip())
        return marshal.dumps((text, code))

    def run(self, program: bytes, args: list[str]) -> int:
        _install_streams()
        try:
            source, code = marshal.loads(program)
            status = _run_main(source, code, args)
        finally:
            _flush()
        return status


def _install_streams() -> None:
    """Fresh buffered streams over WASI's stdin, stdout and stderr (the ones
    made at build time belong to no run)."""

    def text(fd: int, mode: str, errors: str):
        raw = io.FileIO(fd, mode, closefd=False)
        buffered = (io.BufferedReader if mode == "r" else io.BufferedWriter)(raw, BUFFER)
        return io.TextIOWrapper(buffered, encoding="utf-8", errors=errors, newline=None if mode == "r" else "\n")

    sys.stdin = sys.__stdin__ = text(0, "r", "strict")
    sys.stdout = sys.__stdout__ = text(1, "w", "strict")
    sys.stderr = sys.__stderr__ = text(2, "w", "backslashreplace")
    builtins.input = _input


def _input(prompt: object = "") -> str:
    """`input()` as CPython's reads a pipe: the prompt to stdout, stdout
    flushed, one line of stdin without its newline, `EOFError` at the end.
    CPython's own also asks both streams for their file descriptor and
    whether it is a terminal on every call: two WASI calls a line, which made
    reading input line by line 2.9× slower than native."""
    if prompt != "":
        sys.stdout.write(str(prompt))
    sys.stdout.flush()
    line = sys.stdin.readline()
    if not line:
        raise EOFError("EOF when reading a line")
    return line[:-1] if line[-1] == "\n" else line


def _flush() -> None:
    """Flushes the streams, the program's own replacements first."""
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()
        except Exception:
            pass


def _run_main(source: str, code: types.CodeType, args: list[str]) -> int:
    """Runs `code` as `__main__`; returns the exit status CPython would.
    Tracebacks quote `source` (there is no file to read it from)."""
    linecache.cache[SCRIPT_NAME] = (len(source), None, source.splitlines(True), SCRIPT_NAME)
    main = types.ModuleType("__main__")
    main.__file__ = SCRIPT_NAME
    main.__builtins__ = builtins
    sys.modules["__main__"] = main
    sys.argv = [SCRIPT_NAME, *args]
    try:
        exec(code, main.__dict__)
        return 0
    except SystemExit as e:
        return _exit_status(e.code)
    except BaseException as e:
        _report(e)
        # Never freed: the instance ends with the run, and freeing a
        # traceback a million frames long overflows the stack.
        _UNCAUGHT.append(e)
        return 1


def _exit_status(code: object) -> int:
    """`sys.exit(code)` as CPython ends: None is 0, an int its low byte (a
    non-zero code never reads as success), anything else printed, then 1."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF or (1 if code else 0)
    try:
        sys.stderr.write(f"{code}\n")
    except Exception:
        pass
    return 1


def _report(e: BaseException) -> None:
    """Prints the traceback as CPython does, whose last line names the
    exception (the judge's RE message); for a `RecursionError` that line
    says plainly that the recursion went too deep."""
    # A RecursionError's traceback may be a million frames long: show the
    # outermost ones (CPython would print them all, folding repeats).
    limit = RECURSION_FRAMES if isinstance(e, RecursionError) else None
    try:
        lines = traceback.format_exception(e, limit=limit)
    except BaseException:
        lines = [f"{type(e).__name__}: {e}\n"]
    if isinstance(e, RecursionError):
        lines[-1] = f"RecursionError: recursion too deep ({e})\n"
    try:
        sys.stderr.write("".join(lines))
    except BaseException:
        pass
