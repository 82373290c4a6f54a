//! Polygon's "full" package: `problem.xml`.

use std::collections::BTreeSet;

use super::files::PackageFiles;
use super::model::{PROBLEM_XML, Problem, ProblemError};

/// Reads a Polygon package.
pub(super) fn load(
    _files: &dyn PackageFiles,
    _listed: &BTreeSet<String>,
    _fallback_id: &str,
) -> Result<Problem, ProblemError> {
    Err(ProblemError::new(PROBLEM_XML, "not yet"))
}
