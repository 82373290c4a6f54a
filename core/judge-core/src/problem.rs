//! Problem packages: the model every format is read into ([`Problem`]) and
//! the formats that produce it, told apart by their manifest:
//!
//! - `problem.toml`: Gavel's native format (`tests/NAME.in|.out`);
//! - `meta.json`: Normal-OJ's (`TTCC.in|.out` at the root);
//! - `problem.xml`: a Polygon "full" package (tests, groups, a testlib checker);
//! - `problem.yaml`: a Kattis problem package (`data/`, output validators).
//!
//! Packages are read through [`PackageFiles`], so the same validation serves
//! a folder on disk ([`DirPackage`]) and an uploaded archive held in memory
//! ([`MemPackage`]). Every error is one line naming the file and the field;
//! what a format can say that Gavel cannot judge is refused by name, never
//! half-imported.

mod checks;
mod files;
mod kattis;
mod kattis_data;
mod model;
mod native;
mod normal_oj;
mod polygon;
#[cfg(test)]
mod tests;
mod yaml;

use std::collections::BTreeSet;

pub use checks::check_program_path;
pub use files::{DirPackage, MemPackage, PackageFiles};
pub use kattis::check_kattis_default_args;
pub use model::{
    CHECKER_PROGRAM_EXTENSIONS, CasePaths, CheckerRef, CheckerSpec, Interactor, Limits, MAX_CASES,
    PackageFormat, Problem, ProblemError, Task,
};

/// Reads and validates a problem package. `fallback_id` names the problem
/// when the package does not (Normal-OJ and Kattis packages never do).
pub fn load(files: &dyn PackageFiles, fallback_id: &str) -> Result<Problem, ProblemError> {
    let listed: BTreeSet<String> = files.list().into_iter().collect();
    let Some(format) = detect(&listed) else {
        return Err(ProblemError::new(
            model::PROBLEM_TOML,
            "missing: a problem needs problem.toml (native), meta.json (Normal-OJ), \
             problem.xml (Polygon) or problem.yaml (Kattis)",
        ));
    };
    let problem = match format {
        PackageFormat::Native => native::load(files, fallback_id)?,
        PackageFormat::NormalOj => normal_oj::load(files, fallback_id)?,
        PackageFormat::Polygon => polygon::load(files, &listed, fallback_id)?,
        PackageFormat::Kattis => kattis::load(files, &listed, fallback_id)?,
    };
    checks::validate_files(&problem, &listed, format.manifest_file())?;
    Ok(problem)
}

/// The format whose manifest the package holds at its root, the first of
/// native, Normal-OJ, Polygon and Kattis when it holds several.
fn detect(listed: &BTreeSet<String>) -> Option<PackageFormat> {
    [PackageFormat::Native, PackageFormat::NormalOj, PackageFormat::Polygon, PackageFormat::Kattis]
        .into_iter()
        .find(|format| listed.contains(format.manifest_file()))
}
