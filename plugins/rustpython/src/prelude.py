"""Gavel's start-up code for RustPython, run once when the interpreter boots
(before the host's snapshot): the standard streams and a few builtins.

The names starting with `_` that are not defined here are native functions
from `streams.rs`, passed in as globals. Native functions do not bind `self`,
so they are stored on the instances and called like plain functions.
"""

import _thread
import builtins
import sys


class Stream:
    """A standard stream: the file methods programs use, the hot ones native."""

    closed = False
    encoding = "utf-8"
    errors = "strict"
    newlines = None
    line_buffering = False

    def __init__(self, fd, mode, **methods):
        self._fd = fd
        self._eof = "" if "b" not in mode else b""
        self.name = ("<stdin>", "<stdout>", "<stderr>")[fd]
        self.mode = mode
        self.__dict__.update(methods)

    def __iter__(self):
        return iter(self.readline, self._eof)

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        pass

    def readlines(self, hint=-1):
        return list(iter(self.readline, self._eof))

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def fileno(self):
        return self._fd

    def readable(self):
        return self._fd == 0

    def writable(self):
        return self._fd != 0

    def isatty(self):
        return False

    def seekable(self):
        return False

    def flush(self):
        pass

    def close(self):
        pass

    def reconfigure(self, **settings):
        pass


sys.stdin = sys.__stdin__ = Stream(
    0, "r", read=_read, readline=_readline,
    buffer=Stream(0, "rb", read=_read_bytes, read1=_read_bytes, readline=_readline_bytes),
)
sys.stdout = sys.__stdout__ = Stream(
    1, "w", write=_write_out, flush=_flush_out,
    buffer=Stream(1, "wb", write=_write_out_bytes, flush=_flush_out),
)
sys.stderr = sys.__stderr__ = Stream(
    2, "w", write=_write_err, flush=_flush_err, errors="backslashreplace",
    buffer=Stream(2, "wb", write=_write_err_bytes, flush=_flush_err),
)

_register(sys.stdin, sys.stdout, sys.stderr)

builtins.print = _print
builtins.input = _input
builtins.exit = builtins.quit = sys.exit

# There are no threads: RustPython's stand-in `_thread` runs a thread's target
# when it starts. The Wasm stack has a fixed size, so let the deep-recursion
# idiom `threading.stack_size(1 << 27)` pass instead of raising RuntimeError.
_thread.stack_size = lambda size=0, /: 0


def excepthook(kind, value, tb, /):
    """Prints an uncaught exception as CPython does, minus the carets under
    the code. `traceback.print_exception` costs RustPython millions of fuel
    units per frame (seconds for a RecursionError): this walks the frames
    once and folds runs of the same line before formatting anything."""
    import linecache, traceback

    write = sys.stderr.write
    seen = set()

    def folded(repeats):
        if repeats > 3:
            write(f"  [Previous line repeated {repeats - 3} more time{'s' * (repeats > 4)}]\n")

    def print_traceback(tb):
        write("Traceback (most recent call last):\n")
        last, repeats = None, 0
        while tb is not None:
            code, line = tb.tb_frame.f_code, tb.tb_lineno
            tb = tb.tb_next
            if (code, line) == last:
                repeats += 1
                if repeats > 3:
                    continue
            else:
                folded(repeats)
                last, repeats = (code, line), 1
            write(f'  File "{code.co_filename}", line {line}, in {code.co_name}\n')
            text = linecache._getline_from_code(code, line).strip()
            if text:
                write(f"    {text}\n")
        folded(repeats)

    def print_chain(value):
        seen.add(id(value))
        cause, context = value.__cause__, value.__context__
        if cause is not None and id(cause) not in seen:
            print_chain(cause)
            write("\nThe above exception was the direct cause of the following exception:\n\n")
        elif context is not None and id(context) not in seen and not value.__suppress_context__:
            print_chain(context)
            write("\nDuring handling of the above exception, another exception occurred:\n\n")
        if value.__traceback__ is not None:
            print_traceback(value.__traceback__)
        write("".join(traceback.format_exception_only(type(value), value)))

    print_chain(value)


# `vm.run_string` gives linecache the source of `main.py` (by code object).
sys.excepthook = excepthook
