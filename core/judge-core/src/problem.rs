//! The problem model and the two package formats that produce it: Gavel's
//! native `problem.toml` + `tests/NAME.in|.out`, and Normal-OJ's `meta.json`
//! + `TTCC.in|.out`.
//!
//! Packages are read through [`PackageFiles`], so the same validation serves
//! a folder on disk ([`DirPackage`]) and an uploaded archive held in memory
//! ([`MemPackage`]). Every error is one line naming the file and the field.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::exec::RunLimits;

/// Limits of every case of a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Limits {
    pub time_ms: u64,
    pub memory_mb: u64,
    pub output_kb: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { time_ms: 1000, memory_mb: 256, output_kb: 65536 }
    }
}

/// Accepted ranges: `(field, min, max)`.
const RANGES: [(&str, u64, u64); 3] =
    [("time_ms", 1, 60_000), ("memory_mb", 1, 4096), ("output_kb", 1, 1_048_576)];

impl Limits {
    /// The limits of one run.
    pub fn run_limits(&self) -> RunLimits {
        RunLimits {
            time_ms: self.time_ms,
            memory_mb: self.memory_mb,
            output_bytes: self.output_kb * 1024,
        }
    }

    fn validate(&self, file: &str, at: &str) -> Result<(), ProblemError> {
        for ((field, min, max), value) in
            RANGES.iter().zip([self.time_ms, self.memory_mb, self.output_kb])
        {
            if value < *min || value > *max {
                return Err(ProblemError::new(
                    file,
                    format!("{at}{field}: {value} is out of range {min}..={max}"),
                ));
            }
        }
        Ok(())
    }
}

/// Which format a package was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum PackageFormat {
    Native,
    NormalOj,
    /// A Polygon "full" package (`problem.xml`).
    Polygon,
    /// A Kattis problem package (`problem.yaml`, `data/`).
    Kattis,
}

impl PackageFormat {
    /// The file that says a package is in this format and describes it.
    pub fn manifest_file(self) -> &'static str {
        match self {
            PackageFormat::Native => PROBLEM_TOML,
            PackageFormat::NormalOj => META_JSON,
            PackageFormat::Polygon => "problem.xml",
            PackageFormat::Kattis => "problem.yaml",
        }
    }
}

/// Where a problem's checker comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum CheckerRef {
    /// A builtin or plugins-folder checker, by id.
    Builtin(String),
    /// A component inside the package, by relative path.
    Package(String),
    /// A program with testlib's contract (`checker input output answer`,
    /// verdict by exit code), by relative path: C or C++ source (`.c`,
    /// `.cc`, `.cpp`; compiled with the `.h`/`.hpp` files beside it) or a
    /// prebuilt WASI module (`.wasm`).
    Testlib(String),
    /// A Kattis output validator (`validator input answer feedback_dir <
    /// output`, exit 42 accepts, 43 rejects), in the same forms as
    /// [`CheckerRef::Testlib`].
    KattisValidator(String),
}

impl CheckerRef {
    /// The program file a [`CheckerRef::Testlib`] or
    /// [`CheckerRef::KattisValidator`] names.
    pub fn program_path(&self) -> Option<&str> {
        match self {
            CheckerRef::Testlib(path) | CheckerRef::KattisValidator(path) => Some(path),
            CheckerRef::Builtin(_) | CheckerRef::Package(_) => None,
        }
    }
}

/// The file name endings a checker program may have: sources compiled in
/// the sandbox image, or a prebuilt WASI module.
pub const CHECKER_PROGRAM_EXTENSIONS: [&str; 4] = [".c", ".cc", ".cpp", ".wasm"];

/// The checker of a problem and its arguments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckerSpec {
    pub plugin: CheckerRef,
    pub args: Vec<String>,
}

/// A scored group of cases with shared limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Task {
    pub score: f64,
    pub limits: Limits,
    pub cases: Vec<String>,
    /// Tasks (by index) this one needs fully accepted to score at all
    /// (Polygon's group dependencies).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<usize>,
}

/// Where a case's files are, as templates in which `{case}` stands for the
/// case name (formats whose layout is not fixed, e.g. Polygon's patterns).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CasePaths {
    pub input: String,
    pub answer: String,
}

/// A validated problem.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    pub id: String,
    pub title: String,
    pub format: PackageFormat,
    pub checker: CheckerSpec,
    pub tasks: Vec<Task>,
    /// Where case files are, when the format does not fix it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_paths: Option<CasePaths>,
    /// Where each part of the problem came from (`limits`, `checker`,
    /// `tests`, `scoring` → a file and what in it), for the problem view.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub origins: BTreeMap<String, String>,
}

impl Problem {
    /// `(input, expected output)` paths of a case, relative to the package root.
    pub fn case_files(&self, case: &str) -> (String, String) {
        if let Some(paths) = &self.case_paths {
            return (paths.input.replace("{case}", case), paths.answer.replace("{case}", case));
        }
        match self.format {
            PackageFormat::Native => (format!("tests/{case}.in"), format!("tests/{case}.out")),
            PackageFormat::NormalOj => (format!("{case}.in"), format!("{case}.out")),
            PackageFormat::Polygon => (format!("tests/{case}"), format!("tests/{case}.a")),
            PackageFormat::Kattis => (format!("data/{case}.in"), format!("data/{case}.ans")),
        }
    }

    /// The score of a perfect submission.
    pub fn max_score(&self) -> f64 {
        self.tasks.iter().map(|t| t.score).sum()
    }

    /// How many cases the problem has.
    pub fn case_count(&self) -> usize {
        self.tasks.iter().map(|t| t.cases.len()).sum()
    }
}

/// A package's files, by relative `/`-separated path.
pub trait PackageFiles {
    /// Every file's path.
    fn list(&self) -> Vec<String>;
    /// One file's contents.
    fn read(&self, path: &str) -> std::io::Result<Vec<u8>>;
}

/// A package held in memory (an unpacked upload, or a test's fixture).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemPackage(pub BTreeMap<String, Vec<u8>>);

impl PackageFiles for MemPackage {
    fn list(&self) -> Vec<String> {
        self.0.keys().cloned().collect()
    }

    fn read(&self, path: &str) -> std::io::Result<Vec<u8>> {
        self.0
            .get(path)
            .cloned()
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"))
    }
}

/// A package in a folder on disk. Paths are checked to stay inside it, and
/// symbolic links are neither listed nor followed.
#[derive(Debug, Clone)]
pub struct DirPackage {
    root: PathBuf,
}

impl DirPackage {
    /// A package rooted at `root`, which must be a folder.
    pub fn new(root: impl Into<PathBuf>) -> std::io::Result<Self> {
        let root = root.into();
        if !std::fs::metadata(&root)?.is_dir() {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a folder"));
        }
        Ok(DirPackage { root })
    }

    fn walk(&self, dir: &Path, prefix: &str, out: &mut Vec<String>, depth: usize) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else { continue };
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = format!("{prefix}{name}");
            if kind.is_file() {
                out.push(path);
            } else if kind.is_dir() && depth < 8 {
                self.walk(&entry.path(), &format!("{path}/"), out, depth + 1);
            }
        }
    }
}

impl PackageFiles for DirPackage {
    fn list(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.walk(&self.root, "", &mut out, 0);
        out.sort();
        out
    }

    fn read(&self, path: &str) -> std::io::Result<Vec<u8>> {
        let relative = Path::new(path);
        if !relative.components().all(|c| matches!(c, Component::Normal(_))) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "path leaves the package",
            ));
        }
        let full = self.root.join(relative);
        if std::fs::symlink_metadata(&full)?.file_type().is_symlink() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "symbolic links are not followed",
            ));
        }
        std::fs::read(full)
    }
}

/// Why a package is not a valid problem: one line naming the file and field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct ProblemError {
    pub file: String,
    pub message: String,
}

impl ProblemError {
    fn new(file: &str, message: impl Into<String>) -> Self {
        ProblemError { file: file.into(), message: message.into() }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NativeToml {
    id: Option<String>,
    title: Option<String>,
    #[serde(default)]
    limits: PartialLimits,
    checker: Option<NativeChecker>,
    #[serde(default)]
    tasks: Vec<NativeTask>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PartialLimits {
    time_ms: Option<u64>,
    memory_mb: Option<u64>,
    output_kb: Option<u64>,
}

impl PartialLimits {
    fn over(&self, base: Limits) -> Limits {
        Limits {
            time_ms: self.time_ms.unwrap_or(base.time_ms),
            memory_mb: self.memory_mb.unwrap_or(base.memory_mb),
            output_kb: self.output_kb.unwrap_or(base.output_kb),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NativeChecker {
    plugin: Option<String>,
    path: Option<String>,
    testlib: Option<String>,
    kattis: Option<String>,
    #[serde(default)]
    args: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NativeTask {
    score: f64,
    cases: Vec<String>,
    time_ms: Option<u64>,
    memory_mb: Option<u64>,
    output_kb: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NormalOjMeta {
    tasks: Vec<NormalOjTask>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct NormalOjTask {
    case_count: u64,
    task_score: f64,
    memory_limit: u64,
    time_limit: u64,
}

const PROBLEM_TOML: &str = "problem.toml";
const META_JSON: &str = "meta.json";
/// The most cases a problem may have.
pub const MAX_CASES: usize = 10_000;

/// Reads and validates a problem package. `fallback_id` names the problem
/// when the package does not (Normal-OJ packages never do).
pub fn load(files: &dyn PackageFiles, fallback_id: &str) -> Result<Problem, ProblemError> {
    let listed: BTreeSet<String> = files.list().into_iter().collect();
    let problem = if listed.contains(PROBLEM_TOML) {
        load_native(files, fallback_id)?
    } else if listed.contains(META_JSON) {
        load_normal_oj(files, fallback_id)?
    } else {
        return Err(ProblemError::new(
            PROBLEM_TOML,
            "missing: a problem needs problem.toml (native) or meta.json (Normal-OJ)",
        ));
    };
    let file = problem.format.manifest_file();
    validate_files(&problem, &listed, file)?;
    Ok(problem)
}

fn read_text(files: &dyn PackageFiles, path: &str) -> Result<String, ProblemError> {
    let bytes =
        files.read(path).map_err(|e| ProblemError::new(path, format!("cannot read: {e}")))?;
    String::from_utf8(bytes).map_err(|_| ProblemError::new(path, "not valid UTF-8"))
}

fn load_native(files: &dyn PackageFiles, fallback_id: &str) -> Result<Problem, ProblemError> {
    let text = read_text(files, PROBLEM_TOML)?;
    let raw: NativeToml = toml::from_str(&text).map_err(|e| {
        let line = e.span().map(|s| text[..s.start].matches('\n').count() + 1);
        let message = e.message().replace('\n', " ");
        ProblemError::new(
            PROBLEM_TOML,
            match line {
                Some(line) => format!("line {line}: {message}"),
                None => message,
            },
        )
    })?;
    let id = raw.id.unwrap_or_else(|| fallback_id.to_string());
    check_id(&id, PROBLEM_TOML, "id")?;
    let defaults = raw.limits.over(Limits::default());
    defaults.validate(PROBLEM_TOML, "limits.")?;
    let checker = match raw.checker {
        None => CheckerSpec { plugin: CheckerRef::Builtin("tokens".into()), args: Vec::new() },
        Some(c) => {
            let plugin = native_checker(c.plugin, c.path, c.testlib, c.kattis)?;
            CheckerSpec { plugin, args: c.args }
        }
    };
    let tasks = if raw.tasks.is_empty() {
        let mut cases: Vec<String> = files
            .list()
            .into_iter()
            .filter_map(|p| p.strip_prefix("tests/")?.strip_suffix(".in").map(str::to_string))
            .filter(|c| !c.contains('/'))
            .collect();
        cases.sort();
        if cases.is_empty() {
            return Err(ProblemError::new(
                PROBLEM_TOML,
                "tasks: none given and no tests/*.in found",
            ));
        }
        vec![Task { score: 100.0, limits: defaults, cases, depends_on: Vec::new() }]
    } else {
        raw.tasks
            .into_iter()
            .enumerate()
            .map(|(i, t)| {
                let overrides = PartialLimits {
                    time_ms: t.time_ms,
                    memory_mb: t.memory_mb,
                    output_kb: t.output_kb,
                };
                let limits = overrides.over(defaults);
                limits.validate(PROBLEM_TOML, &format!("tasks[{i}]."))?;
                Ok(Task { score: t.score, limits, cases: t.cases, depends_on: Vec::new() })
            })
            .collect::<Result<_, ProblemError>>()?
    };
    Ok(Problem {
        title: raw.title.unwrap_or_else(|| id.clone()),
        id,
        format: PackageFormat::Native,
        checker,
        tasks,
        case_paths: None,
        origins: BTreeMap::new(),
    })
}

/// The one checker `[checker]` names: `plugin`, `path`, `testlib` or `kattis`.
fn native_checker(
    plugin: Option<String>,
    path: Option<String>,
    testlib: Option<String>,
    kattis: Option<String>,
) -> Result<CheckerRef, ProblemError> {
    let given = [plugin.is_some(), path.is_some(), testlib.is_some(), kattis.is_some()];
    match given.iter().filter(|g| **g).count() {
        0 => {
            return Err(ProblemError::new(
                PROBLEM_TOML,
                "checker: missing one of plugin, path, testlib or kattis",
            ));
        }
        1 => {}
        _ => {
            return Err(ProblemError::new(
                PROBLEM_TOML,
                "checker: give only one of plugin, path, testlib and kattis",
            ));
        }
    }
    if let Some(id) = plugin {
        check_plugin_id(&id)?;
        return Ok(CheckerRef::Builtin(id));
    }
    if let Some(path) = path {
        if !path.ends_with(".wasm") {
            return Err(ProblemError::new(
                PROBLEM_TOML,
                format!("checker.path: {path:?} must name a .wasm component"),
            ));
        }
        check_relative(&path, PROBLEM_TOML, "checker.path")?;
        return Ok(CheckerRef::Package(path));
    }
    let (field, path, program) = match (testlib, kattis) {
        (Some(path), _) => ("checker.testlib", path, CheckerRef::Testlib as fn(String) -> _),
        (None, Some(path)) => ("checker.kattis", path, CheckerRef::KattisValidator as fn(String) -> _),
        (None, None) => unreachable!("one of the four is given"),
    };
    check_program_path(&path, PROBLEM_TOML, field)?;
    Ok(program(path))
}

/// A checker program's path: relative, inside the package, with one of
/// [`CHECKER_PROGRAM_EXTENSIONS`].
pub fn check_program_path(path: &str, file: &str, field: &str) -> Result<(), ProblemError> {
    check_relative(path, file, field)?;
    if CHECKER_PROGRAM_EXTENSIONS.iter().any(|ext| path.ends_with(ext)) {
        Ok(())
    } else {
        Err(ProblemError::new(
            file,
            format!(
                "{field}: {path:?} must be C or C++ source (.c, .cc, .cpp) or a WASI module (.wasm)"
            ),
        ))
    }
}

fn load_normal_oj(files: &dyn PackageFiles, fallback_id: &str) -> Result<Problem, ProblemError> {
    let text = read_text(files, META_JSON)?;
    let meta: NormalOjMeta = serde_json::from_str(&text)
        .map_err(|e| ProblemError::new(META_JSON, format!("line {}: {e}", e.line())))?;
    check_id(fallback_id, META_JSON, "id")?;
    if meta.tasks.is_empty() {
        return Err(ProblemError::new(META_JSON, "tasks: at least one task is needed"));
    }
    let tasks = meta
        .tasks
        .iter()
        .enumerate()
        .map(|(t, task)| {
            if task.case_count == 0 || task.case_count > 100 {
                return Err(ProblemError::new(
                    META_JSON,
                    format!("tasks[{t}].caseCount: {} is out of range 1..=100", task.case_count),
                ));
            }
            if t >= 100 {
                return Err(ProblemError::new(META_JSON, "tasks: at most 100 tasks"));
            }
            let limits = Limits {
                time_ms: task.time_limit,
                memory_mb: task.memory_limit.div_ceil(1024),
                output_kb: Limits::default().output_kb,
            };
            limits.validate(META_JSON, &format!("tasks[{t}]."))?;
            let cases = (0..task.case_count).map(|c| format!("{t:02}{c:02}")).collect();
            Ok(Task { score: task.task_score, limits, cases, depends_on: Vec::new() })
        })
        .collect::<Result<_, _>>()?;
    Ok(Problem {
        id: fallback_id.to_string(),
        title: fallback_id.to_string(),
        format: PackageFormat::NormalOj,
        checker: CheckerSpec { plugin: CheckerRef::Builtin("lines".into()), args: Vec::new() },
        tasks,
        case_paths: None,
        origins: BTreeMap::new(),
    })
}

fn check_id(id: &str, file: &str, field: &str) -> Result<(), ProblemError> {
    let ok = (1..=64).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(ProblemError::new(
            file,
            format!("{field}: {id:?} must be 1-64 characters of A-Z, a-z, 0-9, _ and -"),
        ))
    }
}

fn check_plugin_id(id: &str) -> Result<(), ProblemError> {
    let ok = (1..=64).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(ProblemError::new(
            PROBLEM_TOML,
            format!("checker.plugin: {id:?} is not a plugin id (a-z, 0-9, -)"),
        ))
    }
}

fn check_relative(path: &str, file: &str, field: &str) -> Result<(), ProblemError> {
    let ok = !path.is_empty()
        && !path.starts_with('/')
        && path.split('/').all(|part| !part.is_empty() && part != "." && part != "..");
    if ok {
        Ok(())
    } else {
        Err(ProblemError::new(
            file,
            format!("{field}: {path:?} must be a relative path inside the package"),
        ))
    }
}

fn validate_files(
    problem: &Problem,
    listed: &BTreeSet<String>,
    file: &str,
) -> Result<(), ProblemError> {
    if problem.tasks.is_empty() {
        return Err(ProblemError::new(file, "tasks: at least one task is needed"));
    }
    if problem.case_count() > MAX_CASES {
        return Err(ProblemError::new(
            file,
            format!("{} cases is over the limit of {MAX_CASES}", problem.case_count()),
        ));
    }
    for (t, task) in problem.tasks.iter().enumerate() {
        if !task.score.is_finite() || task.score < 0.0 {
            return Err(ProblemError::new(
                file,
                format!("tasks[{t}].score: {} must be a number ≥ 0", task.score),
            ));
        }
        if task.cases.is_empty() {
            return Err(ProblemError::new(
                file,
                format!("tasks[{t}].cases: a task needs at least one case"),
            ));
        }
        let mut seen = BTreeSet::new();
        for (c, case) in task.cases.iter().enumerate() {
            let at = format!("tasks[{t}].cases[{c}] {case:?}");
            let valid = !case.is_empty()
                && case.len() <= 128
                && !case.contains("..")
                && case.split('/').all(|part| !part.is_empty())
                && case
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'/'));
            if !valid {
                return Err(ProblemError::new(
                    file,
                    format!(
                        "{at}: a case name is 1-128 characters of A-Z, a-z, 0-9, _, ., - and / \
                         (between folders)"
                    ),
                ));
            }
            if !seen.insert(case) {
                return Err(ProblemError::new(file, format!("{at}: listed twice in the task")));
            }
            let (input, output) = problem.case_files(case);
            for needed in [input, output] {
                if !listed.contains(&needed) {
                    return Err(ProblemError::new(file, format!("{at}: missing {needed}")));
                }
            }
        }
    }
    let shipped = match &problem.checker.plugin {
        CheckerRef::Package(path) => Some(path.as_str()),
        other => other.program_path(),
    };
    if let Some(path) = shipped
        && !listed.contains(path)
    {
        return Err(ProblemError::new(
            path,
            format!("missing: the checker named by {file} is not in the package"),
        ));
    }
    for (t, task) in problem.tasks.iter().enumerate() {
        if let Some(bad) = task.depends_on.iter().find(|d| **d >= t) {
            return Err(ProblemError::new(
                file,
                format!("tasks[{t}]: depends on task {bad}, which is not an earlier task"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package(files: &[(&str, &str)]) -> MemPackage {
        MemPackage(files.iter().map(|(p, c)| (p.to_string(), c.as_bytes().to_vec())).collect())
    }

    fn native(toml: &str) -> MemPackage {
        package(&[
            ("problem.toml", toml),
            ("tests/01.in", "1 2\n"),
            ("tests/01.out", "3\n"),
            ("tests/02.in", "2 2\n"),
            ("tests/02.out", "4\n"),
        ])
    }

    fn error(files: &MemPackage) -> String {
        load(files, "p").unwrap_err().to_string()
    }

    #[test]
    fn a_full_native_problem_loads() {
        let p = load(
            &native(
                r#"
id = "a-plus-b"
title = "A + B"
[limits]
time_ms = 2000
[checker]
plugin = "float"
args = ["abs=1e-6"]
[[tasks]]
score = 40
cases = ["01"]
[[tasks]]
score = 60
cases = ["02"]
memory_mb = 64
"#,
            ),
            "fallback",
        )
        .unwrap();
        assert_eq!(p.id, "a-plus-b");
        assert_eq!(
            p.checker,
            CheckerSpec {
                plugin: CheckerRef::Builtin("float".into()),
                args: vec!["abs=1e-6".into()]
            }
        );
        assert_eq!(p.tasks[0].limits, Limits { time_ms: 2000, memory_mb: 256, output_kb: 65536 });
        assert_eq!(p.tasks[1].limits, Limits { time_ms: 2000, memory_mb: 64, output_kb: 65536 });
        assert_eq!(p.max_score(), 100.0);
        assert_eq!(p.case_files("02"), ("tests/02.in".into(), "tests/02.out".into()));
    }

    #[test]
    fn without_tasks_every_test_is_one_task_of_100() {
        let p = load(&native("title = \"t\""), "fallback").unwrap();
        assert_eq!(p.id, "fallback");
        assert_eq!(p.tasks.len(), 1);
        assert_eq!(p.tasks[0].cases, ["01", "02"]);
        assert_eq!(p.tasks[0].score, 100.0);
        assert_eq!(p.checker.plugin, CheckerRef::Builtin("tokens".into()));
    }

    #[test]
    fn bad_native_packages_name_the_file_and_field() {
        let cases = [
            ("[limits]\ntime_limit = 5\n", "problem.toml: line 2: unknown field `time_limit`"),
            (
                "[limits]\ntime_ms = 0\n",
                "problem.toml: limits.time_ms: 0 is out of range 1..=60000",
            ),
            (
                "[[tasks]]\nscore = 10\ncases = [\"01\"]\nmemory_mb = 9000\n",
                "problem.toml: tasks[0].memory_mb: 9000 is out of range 1..=4096",
            ),
            (
                "[[tasks]]\nscore = 10\ncases = [\"03\"]\n",
                "problem.toml: tasks[0].cases[0] \"03\": missing tests/03.in",
            ),
            (
                "[[tasks]]\nscore = 10\ncases = [\"01\", \"01\"]\n",
                "problem.toml: tasks[0].cases[1] \"01\": listed twice in the task",
            ),
            (
                "[[tasks]]\nscore = 10\ncases = [\"../x\"]\n",
                "problem.toml: tasks[0].cases[0] \"../x\": a case name is 1-64 characters of A-Z, a-z, 0-9, _, . and -",
            ),
            (
                "[[tasks]]\nscore = 10\ncases = []\n",
                "problem.toml: tasks[0].cases: a task needs at least one case",
            ),
            (
                "[[tasks]]\nscore = -1\ncases = [\"01\"]\n",
                "problem.toml: tasks[0].score: -1 must be a number ≥ 0",
            ),
            (
                "[checker]\nplugin = \"Tokens!\"\n",
                "problem.toml: checker.plugin: \"Tokens!\" is not a plugin id (a-z, 0-9, -)",
            ),
            (
                "[checker]\npath = \"checker.so\"\n",
                "problem.toml: checker.path: \"checker.so\" must name a .wasm component",
            ),
            (
                "[checker]\npath = \"../checker.wasm\"\n",
                "problem.toml: checker.path: \"../checker.wasm\" must be a relative path inside the package",
            ),
            (
                "[checker]\npath = \"checker.wasm\"\n",
                "checker.wasm: missing: the checker named by problem.toml is not in the package (build it first)",
            ),
            ("[checker]\nargs = []\n", "problem.toml: checker: missing plugin or path"),
            (
                "id = \"a b\"\n",
                "problem.toml: id: \"a b\" must be 1-64 characters of A-Z, a-z, 0-9, _ and -",
            ),
            (
                "title = \n",
                "problem.toml: line 1: string values must be quoted, expected literal string",
            ),
        ];
        for (toml, expected) in cases {
            let got = error(&native(toml));
            assert!(
                got.starts_with(expected) || got == expected,
                "for {toml:?}:\n got {got}\nwant {expected}"
            );
            assert!(!got.contains('\n'), "not one line: {got}");
        }
    }

    #[test]
    fn a_missing_expected_output_is_named() {
        let mut files = native("");
        files.0.remove("tests/02.out");
        assert_eq!(error(&files), "problem.toml: tasks[0].cases[1] \"02\": missing tests/02.out");
        assert_eq!(
            error(&MemPackage::default()),
            "problem.toml: missing: a problem needs problem.toml (native) or meta.json (Normal-OJ)"
        );
    }

    #[test]
    fn normal_oj_packages_map_tasks_and_cases() {
        let meta = r#"{"tasks":[{"caseCount":2,"taskScore":40,"memoryLimit":65536,"timeLimit":1000},
                                  {"caseCount":1,"taskScore":60,"memoryLimit":1000,"timeLimit":3000}]}"#;
        let files = package(&[
            ("meta.json", meta),
            ("0000.in", ""),
            ("0000.out", ""),
            ("0001.in", ""),
            ("0001.out", ""),
            ("0100.in", ""),
            ("0100.out", ""),
        ]);
        let p = load(&files, "1001").unwrap();
        assert_eq!(p.format, PackageFormat::NormalOj);
        assert_eq!(p.id, "1001");
        assert_eq!(p.tasks[0].cases, ["0000", "0001"]);
        assert_eq!(p.tasks[1].cases, ["0100"]);
        assert_eq!(p.tasks[0].limits.memory_mb, 64);
        assert_eq!(p.tasks[1].limits.memory_mb, 1, "KB round up to whole MB");
        assert_eq!(p.tasks[1].limits.time_ms, 3000);
        assert_eq!(p.checker.plugin, CheckerRef::Builtin("lines".into()));
        assert_eq!(p.case_files("0100"), ("0100.in".into(), "0100.out".into()));
    }

    #[test]
    fn bad_normal_oj_packages_name_the_field() {
        let meta =
            r#"{"tasks":[{"caseCount":0,"taskScore":100,"memoryLimit":1024,"timeLimit":1000}]}"#;
        assert_eq!(
            error(&package(&[("meta.json", meta)])),
            "meta.json: tasks[0].caseCount: 0 is out of range 1..=100"
        );
        let meta =
            r#"{"tasks":[{"caseCount":1,"taskScore":100,"memoryLimit":1024,"timeLimit":1000}]}"#;
        assert_eq!(
            error(&package(&[("meta.json", meta), ("0000.in", "")])),
            "meta.json: tasks[0].cases[0] \"0000\": missing 0000.out"
        );
        let meta = r#"{"tasks":[{"caseCount":1}]}"#;
        assert!(
            error(&package(&[("meta.json", meta)]))
                .starts_with("meta.json: line 1: missing field `taskScore`")
        );
    }

    #[test]
    fn dir_packages_stay_inside_their_folder() {
        let dir = std::env::temp_dir().join(format!("judge-core-dir-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("tests")).unwrap();
        std::fs::write(dir.join("tests/1.in"), "x").unwrap();
        let pkg = DirPackage::new(&dir).unwrap();
        assert_eq!(pkg.list(), ["tests/1.in"]);
        assert_eq!(pkg.read("tests/1.in").unwrap(), b"x");
        assert!(pkg.read("../etc/passwd").is_err());
        assert!(pkg.read("/etc/passwd").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
