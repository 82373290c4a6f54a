//! Gavel's native format: `problem.toml` + `tests/NAME.in|.out` (and, for an
//! interactive problem, `[interactor]`).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::checks::{check_id, check_plugin_id, check_program_path, check_relative};
use super::files::{PackageFiles, read_text};
use super::kattis::check_kattis_default_args;
use super::model::{
    CheckerRef, CheckerSpec, Interactor, Limits, PROBLEM_TOML, PackageFormat, Problem,
    ProblemError, Task,
};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NativeToml {
    id: Option<String>,
    title: Option<String>,
    #[serde(default)]
    limits: PartialLimits,
    checker: Option<NativeChecker>,
    interactor: Option<NativeInteractor>,
    #[serde(default)]
    tasks: Vec<NativeTask>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NativeInteractor {
    path: String,
    time_ms: Option<u64>,
    memory_mb: Option<u64>,
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

/// Reads a native package.
pub(super) fn load(files: &dyn PackageFiles, fallback_id: &str) -> Result<Problem, ProblemError> {
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
    let then_checker = raw.checker.is_some();
    let interactor = raw
        .interactor
        .map(|i| {
            check_program_path(&i.path, PROBLEM_TOML, "interactor.path")?;
            let interactor = Interactor {
                path: i.path,
                time_ms: i.time_ms,
                memory_mb: i.memory_mb,
                then_checker,
            };
            interactor.validate(PROBLEM_TOML)?;
            Ok(interactor)
        })
        .transpose()?;
    let checker = match raw.checker {
        None => CheckerSpec { plugin: CheckerRef::Builtin("tokens".into()), args: Vec::new() },
        Some(c) => {
            let plugin = native_checker(c.plugin, c.path, c.testlib, c.kattis)?;
            if plugin == CheckerRef::Builtin("kattis-default".into()) {
                check_kattis_default_args(&c.args)
                    .map_err(|e| ProblemError::new(PROBLEM_TOML, format!("checker.args: {e}")))?;
            }
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
        interactor,
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
        (None, Some(path)) => {
            ("checker.kattis", path, CheckerRef::KattisValidator as fn(String) -> _)
        }
        (None, None) => unreachable!("one of the four is given"),
    };
    check_program_path(&path, PROBLEM_TOML, field)?;
    Ok(program(path))
}
