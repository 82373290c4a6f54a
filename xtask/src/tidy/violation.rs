//! What a rule reports: a place in the repository and what to do there.

use std::fmt;
use std::path::{Path, PathBuf};

use super::files::slash;

/// One broken rule: where (relative to the root), which rule, and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Violation {
    pub path: PathBuf,
    /// 1-based; `None` when the whole file is meant.
    pub line: Option<usize>,
    pub rule: &'static str,
    pub message: String,
}

impl Violation {
    pub(super) fn new(
        path: &Path,
        line: Option<usize>,
        rule: &'static str,
        message: String,
    ) -> Violation {
        Violation { path: path.to_path_buf(), line, rule, message }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", slash(&self.path))?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        write!(f, ": [{}] {}", self.rule, self.message)
    }
}
