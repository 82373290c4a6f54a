//! Normal-OJ's format: `meta.json` + `TTCC.in|.out` at the root.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::checks::check_id;
use super::files::{PackageFiles, read_text};
use super::model::{
    CheckerRef, CheckerSpec, Limits, META_JSON, PackageFormat, Problem, ProblemError, Task,
};

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

/// Reads a Normal-OJ package.
pub(super) fn load(files: &dyn PackageFiles, fallback_id: &str) -> Result<Problem, ProblemError> {
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
        interactor: None,
        tasks,
        case_paths: None,
        origins: BTreeMap::new(),
    })
}
