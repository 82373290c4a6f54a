//! The one place a submission's language id and a problem's checker
//! reference become the things that run them; `gavel judge` and a runner's
//! jobs (`runner::execute`) both resolve through here, so they cannot
//! disagree about what an id means.
//!
//! - A language id is a native language (`c`, `cpp`, `python3`: Docker,
//!   through `native`) when `native` knows it, else a Wasm language plugin
//!   from the [`Catalog`] (a plugins-folder plugin over a builtin of the
//!   same id).
//! - A checker reference is a plugin id from the catalog, or a component the
//!   problem package ships (at most [`MAX_CHECKER_BYTES`]), which must be a
//!   checker.
//!
//! The caller decides where Docker comes from (`gavel judge` connects only
//! when [`runs_in_docker`] says so; a runner connects once at start, or
//! offers no native languages) and how a failure is reported (bad input for
//! `gavel judge`, a JE verdict for a runner).

use anyhow::{Context, bail};
use judge_core::Executor;
use judge_core::checker_program::Contract;
use judge_core::code_run::CodeRunner;
use judge_core::problem::{CheckerRef, PackageFiles};
use native::{Native, NativeExecutor};
use plugin_host::{
    CheckerPlugin, LanguagePlugin, Plugin, PluginHost, ProgramChecker, WasiInteractor,
};

use crate::Catalog;
use crate::clang_wasm::{self, ClangWasm};

/// The largest checker component a problem package may carry.
pub const MAX_CHECKER_BYTES: u64 = 64 << 20;

/// Whether the language `id` runs in Docker (a native language) rather
/// than as a Wasm plugin.
pub fn runs_in_docker(id: &str) -> bool {
    native::language::find(id).is_some() || native::language::wasm_compiler(id).is_some()
}

/// A language, resolved: what compiles and runs a submission in it.
pub enum Language<'a> {
    Wasm(Box<LanguagePlugin>),
    Native(NativeExecutor<'a>),
    /// C or C++ compiled to WebAssembly in the sandbox image.
    ClangWasm(Box<ClangWasm<'a>>),
}

impl std::fmt::Debug for Language<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Language::Wasm(wasm) => f.debug_tuple("Wasm").field(&wasm.info().id).finish(),
            Language::Native(native) => f.debug_tuple("Native").field(native).finish(),
            Language::ClangWasm(clang) => f.debug_tuple("ClangWasm").field(clang).finish(),
        }
    }
}

/// The language `id` (a retired id as its successor, judge-core's
/// `language::canonical`): a native one through `native` (an error if
/// Docker is not offered), anything else a Wasm plugin of `catalog`.
pub fn language<'a>(
    catalog: &Catalog,
    native: Option<&'a Native>,
    id: &str,
) -> anyhow::Result<Language<'a>> {
    let id = judge_core::language::canonical(id);
    if !runs_in_docker(id) {
        return Ok(Language::Wasm(Box::new(catalog.language(id)?)));
    }
    let Some(native) = native else { bail!("{id} needs Docker, which is not offered here") };
    if let Some(clang) = ClangWasm::new(native, &catalog.host, id) {
        return Ok(Language::ClangWasm(Box::new(clang)));
    }
    match native.executor(id) {
        Some(executor) => Ok(Language::Native(executor)),
        None => bail!("{id} needs Docker, which is not offered here"),
    }
}

impl<'a> Language<'a> {
    /// Asks `cancelled` before each compile and case (native languages; a
    /// Wasm call sees the job's `CancelToken` itself).
    pub fn cancelled_by(self, cancelled: &'a (dyn Fn() -> bool + Sync)) -> Self {
        match self {
            Language::Native(native) => Language::Native(native.cancelled_by(cancelled)),
            wasm => wasm,
        }
    }

    /// The language as judge-core's compile-and-run seam.
    pub fn executor(&self) -> &(dyn Executor + Sync) {
        match self {
            Language::Wasm(wasm) => wasm.as_ref(),
            Language::Native(native) => native,
            Language::ClangWasm(clang) => clang.as_ref(),
        }
    }

    /// The language as judge-core's seam for free code runs.
    pub fn code_runner(&self) -> &dyn CodeRunner {
        match self {
            Language::Wasm(wasm) => wasm.as_ref(),
            Language::Native(native) => native,
            Language::ClangWasm(clang) => clang.as_ref(),
        }
    }
}

/// A checker, resolved: a checker plugin, or a checker program.
#[derive(Debug)]
pub enum Checker {
    Plugin(CheckerPlugin),
    /// A checker program; `compiled` is its module when this host built it
    /// from source (see `clang_wasm::CheckerProgram`).
    Program {
        path: String,
        program: ProgramChecker,
        compiled: Option<Vec<u8>>,
    },
}

impl Checker {
    /// What reports name it by: the plugin's id, or the program's path.
    pub fn name(&self) -> &str {
        match self {
            Checker::Plugin(plugin) => &plugin.info().id,
            Checker::Program { path, .. } => path,
        }
    }

    /// The checker as judge-core's seam.
    pub fn as_checker(&self) -> &(dyn judge_core::Checker + Sync) {
        match self {
            Checker::Plugin(plugin) => plugin,
            Checker::Program { program, .. } => program,
        }
    }
}

/// The checker a problem names: a plugin of `catalog` by id, the
/// component at its path in `package`, or a checker program there
/// (`compiled` by another host, or compiled through `native` unless cached:
/// `clang_wasm::checker_program`).
pub fn checker(
    catalog: &Catalog,
    native: Option<&Native>,
    reference: &CheckerRef,
    package: &dyn PackageFiles,
    compiled: Option<&[u8]>,
) -> anyhow::Result<Checker> {
    let (path, contract) = match reference {
        CheckerRef::Builtin(id) => return catalog.checker(id).map(Checker::Plugin),
        CheckerRef::Package(path) => {
            let bytes = package.read(path).with_context(|| format!("reading {path}"))?;
            if bytes.len() as u64 > MAX_CHECKER_BYTES {
                bail!("{path} is over {} MiB", MAX_CHECKER_BYTES >> 20);
            }
            let plugin = load_checker(&catalog.host, &bytes).with_context(|| path.clone())?;
            return Ok(Checker::Plugin(plugin));
        }
        CheckerRef::Testlib(path) => (path, Contract::Testlib),
        CheckerRef::KattisValidator(path) => (path, Contract::Kattis),
    };
    let host = &catalog.host;
    let cache_dir = host.config().cache_dir.as_deref();
    let built = clang_wasm::checker_program(host, native, cache_dir, package, path, compiled)?;
    let limits = host.config().checker_limits;
    Ok(Checker::Program {
        path: path.clone(),
        program: ProgramChecker::new(built.program, contract, limits),
        compiled: built.compiled,
    })
}

/// The interactor of an interactive problem: a prebuilt `.wasm` program,
/// or C/C++ source compiled in the sandbox image (cached as checker
/// programs are: `clang_wasm::checker_program`), run with the `cpp-wasm`
/// calibration.
pub fn interactor(
    catalog: &Catalog,
    native: Option<&Native>,
    spec: &judge_core::problem::Interactor,
    package: &dyn PackageFiles,
) -> anyhow::Result<WasiInteractor> {
    let host = &catalog.host;
    let cache_dir = host.config().cache_dir.as_deref();
    let built = clang_wasm::checker_program(host, native, cache_dir, package, &spec.path, None)
        .with_context(|| format!("interactor {}", spec.path))?;
    Ok(WasiInteractor::new(built.program, clang_wasm::calibration(), spec.clone()))
}

/// A checker component from its bytes; a language component is refused.
pub fn load_checker(host: &PluginHost, bytes: &[u8]) -> anyhow::Result<CheckerPlugin> {
    match host.load(bytes)? {
        Plugin::Checker(checker) => Ok(checker),
        Plugin::Language(_) => bail!("a language plugin, not a checker"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use judge_core::problem::MemPackage;
    use plugin_host::HostConfig;

    fn catalog_with_fixture_language() -> (Catalog, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let fixture = builtin_plugins::fixture_path("fixture_language");
        std::fs::copy(&fixture, dir.path().join("fixture_language.wasm")).unwrap();
        (Catalog::new(HostConfig::default(), Some(dir.path())).unwrap(), dir)
    }

    fn fixture(stem: &str) -> Vec<u8> {
        std::fs::read(builtin_plugins::fixture_path(stem)).unwrap()
    }

    #[test]
    fn the_native_languages_run_in_docker_and_the_rest_in_wasm() {
        for id in ["c", "cpp", "python3"] {
            assert!(runs_in_docker(id), "{id}");
        }
        for id in ["javascript", "python", "rustpython", "fixture-language", "cobol"] {
            assert!(!runs_in_docker(id), "{id}");
        }
    }

    #[test]
    fn a_language_id_resolves_to_a_plugin_or_says_why_not() {
        let (catalog, _dir) = catalog_with_fixture_language();
        let wasm = language(&catalog, None, "fixture-language").unwrap();
        assert!(matches!(&wasm, Language::Wasm(l) if l.info().id == "fixture-language"));
        let unknown = language(&catalog, None, "cobol").unwrap_err().to_string();
        assert!(unknown.contains("unknown language `cobol`"), "{unknown}");
        // A native language is never looked for among the plugins.
        let no_docker = language(&catalog, None, "python3").unwrap_err().to_string();
        assert!(no_docker.contains("python3 needs Docker"), "{no_docker}");
    }

    #[test]
    fn a_checker_reference_resolves_to_a_builtin_or_the_packages_component() {
        let catalog = Catalog::new(HostConfig::default(), None).unwrap();
        let package = MemPackage(
            [
                ("check.wasm".to_string(), fixture("fixture_checker")),
                ("lang.wasm".to_string(), fixture("fixture_language")),
            ]
            .into(),
        );
        let resolve = |r: CheckerRef| checker(&catalog, None, &r, &package, None);
        let builtin = resolve(CheckerRef::Builtin("exact".into())).unwrap();
        assert_eq!(builtin.name(), "exact");
        let shipped = resolve(CheckerRef::Package("check.wasm".into())).unwrap();
        assert_eq!(shipped.name(), "fixture-checker");
        let why = |r: CheckerRef| format!("{:#}", resolve(r).unwrap_err());
        let language = why(CheckerRef::Package("lang.wasm".into()));
        assert!(language.contains("lang.wasm: a language plugin, not a checker"), "{language}");
        let missing = why(CheckerRef::Package("gone.wasm".into()));
        assert!(missing.contains("reading gone.wasm"), "{missing}");
        assert!(why(CheckerRef::Builtin("nope".into())).contains("unknown checker `nope`"));
    }

    #[test]
    fn a_checker_component_over_the_cap_is_refused_before_loading() {
        let catalog = Catalog::new(HostConfig::default(), None).unwrap();
        let huge = vec![0u8; MAX_CHECKER_BYTES as usize + 1];
        let package = MemPackage([("big.wasm".to_string(), huge)].into());
        let error =
            checker(&catalog, None, &CheckerRef::Package("big.wasm".into()), &package, None);
        assert!(format!("{:#}", error.unwrap_err()).contains("big.wasm is over 64 MiB"));
    }
}
