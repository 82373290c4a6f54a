//! The native languages: how each is compiled and run inside the sandbox
//! image (plain data; the executor does the work). Which file extension
//! means which language is judge-core's `language` table, not ours.

/// One language of the sandbox image.
#[derive(Debug)]
pub struct NativeLanguage {
    /// The id submissions name (`c`, `cpp`, `python3`).
    pub id: &'static str,
    pub name: &'static str,
    /// The file the source is written to in the work dir.
    pub source_file: &'static str,
    /// The compile (or byte-compile) command, run in the work dir.
    pub compile: &'static [&'static str],
    /// The command that runs the compiled program on each case.
    pub run: &'static [&'static str],
    /// What `compile` writes into the work dir: the files of a free code
    /// run may not have these names.
    pub compile_outputs: &'static [&'static str],
    /// Added to [`ENV`] for free code runs (before the run's own variables,
    /// which may override them).
    pub code_run_env: &'static [&'static str],
}

impl NativeLanguage {
    /// The compile command with `entry` as the source file instead of
    /// [`NativeLanguage::source_file`] (free code runs keep their file's
    /// own name, so compiler messages and tracebacks name it).
    pub fn compile_command(&self, entry: &str) -> Vec<String> {
        let arg = |a: &str| if a == self.source_file { entry.to_string() } else { a.to_string() };
        self.compile.iter().map(|a| arg(a)).collect()
    }
}

/// Compile limits, like Normal-OJ's: CPU and wall time, memory.
pub const COMPILE_TIME_MS: u64 = 20_000;
pub const COMPILE_MEMORY_MB: u64 = 1024;
/// How much of the compiler's output becomes the CE message.
pub const COMPILE_MESSAGE_BYTES: usize = 4096;

/// The environment of every command in the sandbox.
pub const ENV: &[&str] =
    &["PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8", "HOME=/work", "TMPDIR=/tmp"];

/// Byte-compiles the file named by its argument (`main.py` for judged
/// submissions) to `main.pyc`; a syntax error is printed without a
/// traceback of the compiler itself.
const PY_COMPILE: &str = "import py_compile, sys
try:
    py_compile.compile(sys.argv[1], cfile='main.pyc', doraise=True)
except py_compile.PyCompileError as e:
    sys.stderr.write(e.msg)
    sys.exit(1)";

pub const LANGUAGES: &[NativeLanguage] = &[
    NativeLanguage {
        id: "c",
        name: "C11 (gcc -O2)",
        source_file: "main.c",
        compile: &[
            "/usr/bin/gcc",
            "-std=c11",
            "-O2",
            "-pipe",
            "-DONLINE_JUDGE",
            "-fmax-errors=10",
            "-o",
            "main",
            "main.c",
            "-lm",
        ],
        run: &["/work/main"],
        compile_outputs: &["main"],
        code_run_env: &[],
    },
    NativeLanguage {
        id: "cpp",
        name: "C++17 (g++ -O2)",
        source_file: "main.cpp",
        compile: &[
            "/usr/bin/g++",
            "-std=c++17",
            "-O2",
            "-pipe",
            "-DONLINE_JUDGE",
            "-fmax-errors=10",
            "-o",
            "main",
            "main.cpp",
        ],
        run: &["/work/main"],
        compile_outputs: &["main"],
        code_run_env: &[],
    },
    NativeLanguage {
        id: "python3",
        name: "Python 3 (CPython)",
        source_file: "main.py",
        compile: &["/usr/bin/python3", "-c", PY_COMPILE, "main.py"],
        run: &["/usr/bin/python3", "main.pyc"],
        compile_outputs: &["main.pyc"],
        // Output reaches the caller as it is printed, and imported modules
        // leave no `__pycache__` behind to come back as artifacts.
        code_run_env: &["PYTHONUNBUFFERED=1", "PYTHONDONTWRITEBYTECODE=1"],
    },
];

/// The language with this id.
pub fn find(id: &str) -> Option<&'static NativeLanguage> {
    LANGUAGES.iter().find(|l| l.id == id)
}

/// Where the image keeps Gavel's own headers for the WebAssembly toolchain
/// (`bits/stdc++.h`, a testlib-compatible `testlib.h`), searched after the
/// source's own folder, so a `testlib.h` shipped beside a checker wins.
pub const WASM_INCLUDE_DIR: &str = "/usr/local/include/gavel";

/// A C or C++ compiler of the image that makes a WASI preview-1 command
/// module (`main.wasm`) for wasmtime to run: the `c-wasm` and `cpp-wasm`
/// languages, and checkers shipped as source.
#[derive(Debug)]
pub struct WasmCompiler {
    /// `c-wasm` or `cpp-wasm`.
    pub id: &'static str,
    pub name: &'static str,
    /// The file name submissions are written to.
    pub source_file: &'static str,
    /// The compiler's path in the image.
    pub compiler: &'static str,
    /// The language's own flags (standard, libraries' headers).
    pub language_flags: &'static [&'static str],
}

/// What every Wasm compile writes.
pub const WASM_OUTPUT: &str = "main.wasm";

/// Flags both compilers share. `wasm32-wasi` (Debian's clang finds the WASI
/// libc's headers only under that name; the output is a preview-1 module);
/// no host headers (`-nostdlibinc`: a header WASI lacks must not resolve to
/// glibc's), then the WASI libc's and Gavel's own; WASI's emulations of
/// signals, process clocks, `getpid` and `mmap`; 8 MiB of stack (native's
/// default) placed first in memory, so overflowing it traps instead of
/// overwriting data; memory that may grow to 4 GiB; debug info stripped,
/// function names kept for traps.
const WASM_COMMON: &[&str] = &[
    "--target=wasm32-wasi",
    "-O2",
    "-pipe",
    "-DONLINE_JUDGE",
    "-ferror-limit=10",
    "-D_WASI_EMULATED_SIGNAL",
    "-D_WASI_EMULATED_PROCESS_CLOCKS",
    "-D_WASI_EMULATED_GETPID",
    "-D_WASI_EMULATED_MMAN",
    "-nostdlibinc",
];
const WASM_INCLUDES: &[&str] =
    &["-idirafter", "/usr/include/wasm32-wasi", "-idirafter", WASM_INCLUDE_DIR];
const WASM_LINK: &[&str] = &[
    "-Wl,-z,stack-size=8388608",
    "-Wl,--stack-first",
    "-Wl,--max-memory=4294967296",
    "-Wl,--strip-debug",
    "-o",
    WASM_OUTPUT,
];
/// After the source: the maths library, `long double` in `printf`/`scanf`
/// (without it printing one aborts), and the emulations' libraries.
const WASM_LIBS: &[&str] = &[
    "-lm",
    "-lc-printscan-long-double",
    "-lwasi-emulated-signal",
    "-lwasi-emulated-process-clocks",
    "-lwasi-emulated-getpid",
    "-lwasi-emulated-mman",
];

pub const WASM_COMPILERS: &[WasmCompiler] = &[
    WasmCompiler {
        id: "c-wasm",
        name: "C11 to WebAssembly (clang 19 -O2)",
        source_file: "main.c",
        compiler: "/usr/bin/clang-19",
        language_flags: &["-std=c11"],
    },
    WasmCompiler {
        id: "cpp-wasm",
        name: "C++17 to WebAssembly (clang++ 19 -O2, libc++, no exceptions)",
        source_file: "main.cpp",
        compiler: "/usr/bin/clang++-19",
        // Debian's libc++abi for wasm32 has no exception support.
        language_flags: &[
            "-std=c++17",
            "-fno-exceptions",
            "-isystem",
            "/usr/include/wasm32-wasi/c++/v1",
        ],
    },
];

impl WasmCompiler {
    /// The compiler for a source file's name: `.c` is C, `.cc`/`.cpp`/`.cxx` C++.
    pub fn for_source(name: &str) -> Option<&'static WasmCompiler> {
        let id = match name.rsplit_once('.')?.1 {
            "c" => "c-wasm",
            "cc" | "cpp" | "cxx" => "cpp-wasm",
            _ => return None,
        };
        wasm_compiler(id)
    }

    /// The whole command line compiling `entry` to [`WASM_OUTPUT`].
    pub fn command_for(&self, entry: &str) -> Vec<String> {
        let parts =
            [&[self.compiler][..], WASM_COMMON, self.language_flags, WASM_INCLUDES, WASM_LINK];
        let mut argv: Vec<String> = parts.concat().iter().map(|a| a.to_string()).collect();
        argv.push(entry.to_string());
        argv.extend(WASM_LIBS.iter().map(|a| a.to_string()));
        argv
    }
}

/// The Wasm compiler with this id.
pub fn wasm_compiler(id: &str) -> Option<&'static WasmCompiler> {
    WASM_COMPILERS.iter().find(|c| c.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// judge-core's table of shipped languages (which tools and guesses
    /// read) names exactly these as the ones that need Docker.
    #[test]
    fn the_shipped_table_marks_exactly_these_languages_native() {
        let native = LANGUAGES.iter().map(|l| l.id);
        let ours: Vec<&str> = native.chain(WASM_COMPILERS.iter().map(|c| c.id)).collect();
        let table: Vec<&str> =
            judge_core::language::SHIPPED.iter().filter(|l| l.native).map(|l| l.id).collect();
        assert_eq!(ours, table);
    }

    #[test]
    fn the_compile_command_names_the_entry_instead_of_the_source_file() {
        for language in LANGUAGES {
            let judged = language.compile_command(language.source_file);
            assert_eq!(judged, language.compile, "{}", language.id);
            assert_eq!(judged.iter().filter(|a| *a == language.source_file).count(), 1);
            let free = language.compile_command("prog.x");
            assert!(free.contains(&"prog.x".to_string()), "{free:?}");
            assert!(!free.iter().any(|a| a == language.source_file), "{free:?}");
        }
    }
}
