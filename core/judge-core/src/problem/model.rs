//! The problem model: what every package format is read into ([`Problem`],
//! its [`Task`]s, [`Limits`] and [`CheckerSpec`]), and the one-line
//! [`ProblemError`] every loader reports.

use std::collections::BTreeMap;

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

    /// Checks every limit against its accepted range; `at` prefixes the
    /// field in the message (`tasks[2].`).
    pub(crate) fn validate(&self, file: &str, at: &str) -> Result<(), ProblemError> {
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
            PackageFormat::Polygon => PROBLEM_XML,
            PackageFormat::Kattis => PROBLEM_YAML,
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

/// The interactor of an interactive problem: a program with testlib's
/// interactor contract (`interactor <input> <tout> [<answer>]`, its stdout
/// the contestant's stdin and the contestant's stdout its stdin, verdict by
/// exit code), and its own limits (see `crate::interactive`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Interactor {
    /// C or C++ source (`.c`, `.cc`, `.cpp`, compiled with the `.h`/`.hpp`
    /// files beside it) or a prebuilt WASI module (`.wasm`), by relative path.
    pub path: String,
    /// The interactor's own time budget per case, in ms; default twice the
    /// case's time limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_ms: Option<u64>,
    /// The interactor's own memory, in MiB; default 256.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_mb: Option<u64>,
    /// Whether the problem's checker then judges what the interactor wrote
    /// to `tout` (a problem that names a checker); without one the
    /// interactor's verdict is final.
    #[serde(default)]
    pub then_checker: bool,
}

impl Interactor {
    /// The interactor's time budget for a case whose time limit is `time_ms`.
    pub fn time_ms_for(&self, time_ms: u64) -> u64 {
        self.time_ms.unwrap_or_else(|| time_ms.saturating_mul(2))
    }

    /// The interactor's memory, in MiB.
    pub fn memory_mb(&self) -> u64 {
        self.memory_mb.unwrap_or(Limits::default().memory_mb)
    }

    /// Checks the interactor's own limits against the ranges tasks' limits have.
    pub(crate) fn validate(&self, file: &str) -> Result<(), ProblemError> {
        for (field, value, (_, min, max)) in [
            ("interactor.time_ms", self.time_ms, RANGES[0]),
            ("interactor.memory_mb", self.memory_mb, RANGES[1]),
        ] {
            if let Some(value) = value
                && !(min..=max).contains(&value)
            {
                return Err(ProblemError::new(
                    file,
                    format!("{field}: {value} is out of range {min}..={max}"),
                ));
            }
        }
        Ok(())
    }
}

/// A validated problem.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    pub id: String,
    pub title: String,
    pub format: PackageFormat,
    pub checker: CheckerSpec,
    /// The interactor, for an interactive problem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interactor: Option<Interactor>,
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

/// Why a package is not a valid problem: one line naming the file and field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct ProblemError {
    pub file: String,
    pub message: String,
}

impl ProblemError {
    pub(crate) fn new(file: &str, message: impl Into<String>) -> Self {
        ProblemError { file: file.into(), message: message.into() }
    }
}

/// The native manifest.
pub(crate) const PROBLEM_TOML: &str = "problem.toml";
/// Normal-OJ's manifest.
pub(crate) const META_JSON: &str = "meta.json";
/// Polygon's manifest.
pub(crate) const PROBLEM_XML: &str = "problem.xml";
/// Kattis' manifest.
pub(crate) const PROBLEM_YAML: &str = "problem.yaml";
/// The most cases a problem may have.
pub const MAX_CASES: usize = 10_000;
