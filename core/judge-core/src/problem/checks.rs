//! The checks every format shares: ids, relative paths, checker programs,
//! and the final validation of a loaded problem against its package's files.

use std::collections::BTreeSet;

use super::model::{
    CHECKER_PROGRAM_EXTENSIONS, CheckerRef, MAX_CASES, PROBLEM_TOML, Problem, ProblemError,
};

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

pub(crate) fn check_id(id: &str, file: &str, field: &str) -> Result<(), ProblemError> {
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

pub(crate) fn check_plugin_id(id: &str) -> Result<(), ProblemError> {
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

pub(crate) fn check_relative(path: &str, file: &str, field: &str) -> Result<(), ProblemError> {
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

/// What every format must satisfy once loaded: at least one task, each
/// with cases whose files exist, a shipped checker that is in the package,
/// dependencies only on earlier tasks.
pub(crate) fn validate_files(
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
    if let Some(interactor) = &problem.interactor
        && !listed.contains(&interactor.path)
    {
        return Err(ProblemError::new(
            &interactor.path,
            format!("missing: the interactor named by {file} is not in the package"),
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
