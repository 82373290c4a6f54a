//! Kattis problem packages: `problem.yaml`.

use std::collections::BTreeSet;

use super::files::PackageFiles;
use super::model::{PROBLEM_YAML, Problem, ProblemError};

/// Reads a Kattis package.
pub(super) fn load(
    _files: &dyn PackageFiles,
    _listed: &BTreeSet<String>,
    _fallback_id: &str,
) -> Result<Problem, ProblemError> {
    Err(ProblemError::new(PROBLEM_YAML, "not yet"))
}

/// Checks the arguments of the builtin `kattis-default` checker.
pub fn check_kattis_default_args(_args: &[String]) -> Result<(), String> {
    Ok(())
}
