//! `gavel runners`: the runners registered with a backend (`GET
//! /api/v1/runners`, admin token), each with whether it is alive, its slots
//! and languages, and the jobs it holds (and the submissions or runs they
//! judge). `--json` prints the backend's answer as it came.
//!
//! Exit codes: 0 when listed; 2 when the backend refuses the token (4xx);
//! 1 otherwise.

use std::process::ExitCode;

use anyhow::Context;
use protocol::ops::RunnerStatus;

use crate::client::AdminTarget;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    target: AdminTarget,
    /// Print the backend's answer (a JSON list) instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let api = args.target.api()?;
    let listed: serde_json::Value = api.get("/runners").context("listing the runners")?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&listed)?);
        return Ok(ExitCode::SUCCESS);
    }
    let runners: Vec<RunnerStatus> =
        serde_json::from_value(listed).context("reading the backend's list of runners")?;
    print!("{}", table(&runners));
    Ok(ExitCode::SUCCESS)
}

/// The runners as a table, each followed by the jobs it holds (pure).
fn table(runners: &[RunnerStatus]) -> String {
    if runners.is_empty() {
        return "no runners registered\n".to_string();
    }
    let id_width = runners.iter().map(|r| r.info.runner_id.len()).max().unwrap_or(0).max(6);
    let name_width = runners.iter().map(|r| r.info.name.len()).max().unwrap_or(0).max(4);
    let mut out = format!(
        "{:<id_width$}  {:<name_width$}  {:<6}  {:>5}  {:>4}  languages\n",
        "runner", "name", "state", "slots", "jobs"
    );
    for runner in runners {
        let info = &runner.info;
        let labels = match info.labels.as_slice() {
            [] => String::new(),
            labels => format!("  (labels {})", labels.join(",")),
        };
        out.push_str(&format!(
            "{:<id_width$}  {:<name_width$}  {:<6}  {:>5}  {:>4}  {}{labels}\n",
            info.runner_id,
            info.name,
            if runner.alive { "alive" } else { "silent" },
            info.slots,
            info.active_jobs,
            info.languages.join(" "),
        ));
        for job in &runner.jobs {
            out.push_str(&format!("  holds {} judging {}\n", job.job_id, job.submission_id));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::ops::{HeldJob, RunnerInfo};

    #[test]
    fn the_table_lists_languages_and_held_jobs() {
        let runner = |id: &str, name: &str, alive, jobs: Vec<HeldJob>| RunnerStatus {
            info: RunnerInfo {
                runner_id: id.into(),
                name: name.into(),
                labels: Vec::new(),
                slots: 2,
                languages: vec!["javascript".into(), "python".into()],
                active_jobs: jobs.len() as u64,
                last_seen_ms: 0,
            },
            alive,
            jobs,
        };
        let held = HeldJob { job_id: "jb_1".into(), submission_id: "su_1".into() };
        let text =
            table(&[runner("rn_a", "east", true, vec![held]), runner("rn_b", "w", false, vec![])]);
        assert_eq!(
            text,
            "runner  name  state   slots  jobs  languages\n\
             rn_a    east  alive       2     1  javascript python\n\
             \x20 holds jb_1 judging su_1\n\
             rn_b    w     silent      2     0  javascript python\n"
        );
        assert_eq!(table(&[]), "no runners registered\n");
    }
}
