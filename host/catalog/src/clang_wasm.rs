//! C and C++ compiled to WebAssembly: the `c-wasm` and `cpp-wasm`
//! languages, and checker programs shipped as source. Both compile in the
//! sandbox image (Docker, `native::Native::compile_to_wasm`: Debian's clang
//! with the WASI libraries, under the compile limits) and run in wasmtime
//! as WASI programs (`plugin_host::WasiProgram`) with fuel: the same time on
//! every host, and no container per case.
//!
//! Compiled checkers are cached on disk by the digest of their sources and
//! the compiler (its command line and the image), so a checker is compiled
//! once per host; a runner also shares what it compiled with its backend,
//! and a module handed back in a job ([`checker_program`]'s `compiled`)
//! lets a host without Docker run the checker.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, bail};
use judge_core::code_run::{CodeRun, CodeRunOutcome, CodeRunner, OutputTap};
use judge_core::problem::PackageFiles;
use judge_core::{Compiled, Executor};
use native::{Native, WasmCompiler};
use plugin_host::{CallIo, FuelCalibration, PluginHost, WasiProgram};
use sha2::{Digest, Sha256};

/// Fuel counted as one millisecond, and fuel wasmtime burns per real CPU
/// millisecond, for C and C++ compiled with clang -O2 (measured against the
/// same programs compiled natively with g++ -O2: docs/BENCHMARKS.md,
/// "`c-wasm` and `cpp-wasm`").
pub const FUEL_PER_MS: u64 = 6_000_000;
pub const FUEL_PER_CPU_MS: u64 = 2_000_000;

/// The largest compiled program a host accepts from another.
pub const MAX_PROGRAM_BYTES: u64 = native::MAX_WASM_BYTES;

/// The largest C or C++ source (all files together) compiled.
pub const MAX_SOURCE_BYTES: u64 = 4 << 20;

/// The calibration of programs built by this toolchain (interactors too).
pub fn calibration() -> FuelCalibration {
    FuelCalibration::new(FUEL_PER_MS, FUEL_PER_CPU_MS).expect("the constants are in range")
}

/// A C or C++ language compiled to WebAssembly.
pub struct ClangWasm<'a> {
    native: &'a Native,
    host: PluginHost,
    compiler: &'static WasmCompiler,
}

impl std::fmt::Debug for ClangWasm<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ClangWasm").field(&self.compiler.id).finish()
    }
}

impl<'a> ClangWasm<'a> {
    /// The language `id` (`c-wasm`, `cpp-wasm`), if it is one.
    pub fn new(native: &'a Native, host: &PluginHost, id: &str) -> Option<Self> {
        let compiler = native::language::wasm_compiler(id)?;
        Some(ClangWasm { native, host: host.clone(), compiler })
    }

    /// Compiles `files` with `entry` as the source: the program, or the
    /// compile error's message.
    fn build(
        &self,
        files: &BTreeMap<String, Vec<u8>>,
        entry: &str,
    ) -> Result<Result<WasiProgram, String>, String> {
        let wasm = match self.native.compile_to_wasm(self.compiler, files, entry)? {
            Ok(wasm) => wasm,
            Err(message) => return Ok(Err(message)),
        };
        self.host
            .load_program(&wasm)
            .map(Ok)
            .map_err(|e| format!("loading the compiled program: {e}"))
    }
}

impl Executor for ClangWasm<'_> {
    fn language(&self) -> &str {
        self.compiler.id
    }

    fn compile(&self, source: &[u8]) -> Result<Compiled<'_>, String> {
        let files = BTreeMap::from([(self.compiler.source_file.to_string(), source.to_vec())]);
        Ok(match self.build(&files, self.compiler.source_file)? {
            Ok(program) => Compiled::Program(Box::new(program.judged(calibration()))),
            Err(message) => Compiled::Error(message),
        })
    }
}

/// A free code run: every file is written beside the entry for the compile
/// (headers), and the program runs once with the run's stdin, arguments and
/// environment, seeing no files.
impl CodeRunner for ClangWasm<'_> {
    fn run_code(&self, run: &CodeRun, tap: OutputTap) -> Result<CodeRunOutcome, String> {
        run.validate()?;
        let program = match self.build(&run.files, &run.entry)? {
            Ok(program) => program,
            Err(message) => return Ok(CodeRunOutcome::CompileError(message)),
        };
        let env: Vec<(String, String)> =
            run.env.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let calibration = calibration();
        let io = CallIo {
            args: &run.args,
            env: &env,
            tap: Some(tap),
            ..CallIo::stdin(bytes::Bytes::copy_from_slice(&run.stdin))
        };
        let report =
            plugin_host::on_big_stack(|| program.run(calibration.call_limits(&run.limits), io));
        let outcome = report.into_run_outcome(&calibration);
        Ok(CodeRunOutcome::Ran { outcome, artifacts: Vec::new(), artifacts_dropped: Vec::new() })
    }
}

/// A checker program, ready to run, and — when it was built from source
/// here (compiled, or found in this host's cache) — its module, which a
/// runner shares with its backend.
pub struct CheckerProgram {
    pub program: WasiProgram,
    pub compiled: Option<Vec<u8>>,
}

/// A checker program of a package: a prebuilt `.wasm` as it is; for C or
/// C++ source, `compiled` (a module another host compiled from it, which a
/// job carries) if given, else this host's cache in `cache_dir`, else a
/// compile through `native` (with the `.h`/`.hpp` files of its folder).
/// Without `native`, only a prebuilt, given or cached program can be had.
pub fn checker_program(
    host: &PluginHost,
    native: Option<&Native>,
    cache_dir: Option<&std::path::Path>,
    package: &dyn PackageFiles,
    path: &str,
    compiled: Option<&[u8]>,
) -> anyhow::Result<CheckerProgram> {
    if path.ends_with(".wasm") {
        let bytes = package.read(path).with_context(|| format!("reading {path}"))?;
        let program = host.load_program(&bytes).with_context(|| path.to_string())?;
        return Ok(CheckerProgram { program, compiled: None });
    }
    if let Some(wasm) = compiled {
        let program = host.load_program(wasm).with_context(|| format!("{path} (as shared)"))?;
        return Ok(CheckerProgram { program, compiled: None });
    }
    let Some(compiler) = WasmCompiler::for_source(path) else {
        bail!(
            "{path}: a checker program is C (.c), C++ (.cc, .cpp, .cxx) or a WASI module (.wasm)"
        );
    };
    let (folder, entry) = path.rsplit_once('/').unwrap_or(("", path));
    let files = source_files(package, folder)?;
    let key = cache_key(compiler, native.map(Native::image), &files, entry);
    let cached = cache_dir.map(|dir| dir.join("programs").join(format!("{key}.wasm")));
    if let Some(wasm) = cached.as_ref().and_then(|p| std::fs::read(p).ok()) {
        let program =
            host.load_program(&wasm).with_context(|| format!("{path} (compiled earlier)"))?;
        return Ok(CheckerProgram { program, compiled: Some(wasm) });
    }
    let Some(native) = native else {
        bail!("{path} must be compiled in the sandbox image, which needs Docker, not offered here");
    };
    let wasm = match native.compile_to_wasm(compiler, &files, entry).map_err(anyhow::Error::msg)? {
        Ok(wasm) => wasm,
        Err(message) => bail!("{path} does not compile: {message}"),
    };
    let program = host.load_program(&wasm).with_context(|| format!("{path} (as compiled)"))?;
    if let Some(cached) = cached {
        store(&cached, &wasm);
    }
    Ok(CheckerProgram { program, compiled: Some(wasm) })
}

/// The source and the headers beside it: every `.c`, `.cc`, `.cpp`,
/// `.cxx`, `.h`, `.hpp` file directly in `folder` of the package.
fn source_files(
    package: &dyn PackageFiles,
    folder: &str,
) -> anyhow::Result<BTreeMap<String, Vec<u8>>> {
    let prefix = if folder.is_empty() { String::new() } else { format!("{folder}/") };
    let mut files = BTreeMap::new();
    let mut total = 0u64;
    for listed in package.list() {
        let Some(name) = listed.strip_prefix(&prefix) else { continue };
        let source = ["c", "cc", "cpp", "cxx", "h", "hpp"]
            .iter()
            .any(|ext| name.rsplit_once('.').is_some_and(|(_, e)| e == *ext));
        if name.contains('/') || !source {
            continue;
        }
        let data = package.read(&listed).with_context(|| format!("reading {listed}"))?;
        total += data.len() as u64;
        if total > MAX_SOURCE_BYTES {
            bail!("the sources in {folder:?} are over {} MiB together", MAX_SOURCE_BYTES >> 20);
        }
        files.insert(name.to_string(), data);
    }
    Ok(files)
}

/// Names a compiled checker: the compiler (command line and image), the
/// entry and every file compiled with it.
fn cache_key(
    compiler: &WasmCompiler,
    image: Option<&str>,
    files: &BTreeMap<String, Vec<u8>>,
    entry: &str,
) -> String {
    let mut hash = Sha256::new();
    let mut part = |bytes: &[u8]| {
        hash.update((bytes.len() as u64).to_le_bytes());
        hash.update(bytes);
    };
    part(compiler.command_for(entry).join(" ").as_bytes());
    part(image.unwrap_or(&native::image::image_tag()).as_bytes());
    for (name, data) in files {
        part(name.as_bytes());
        part(data);
    }
    hex::encode(hash.finalize())
}

/// Writes a compiled checker to the cache (a failure only costs a compile).
fn store(path: &PathBuf, wasm: &[u8]) {
    let written = path.parent().map_or(Ok(()), std::fs::create_dir_all).and_then(|()| {
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, wasm)?;
        std::fs::rename(&tmp, path)
    });
    if let Err(e) = written {
        tracing::warn!(path = %path.display(), error = %e, "could not cache a compiled checker");
    }
}
