//! Human-readable output: a verdict table printed case by case as judging
//! goes, then the total.

use std::io::Write;

use judge_core::judge::Progress;
use judge_core::report::{CaseReport, JudgeReport};

/// Prints judging progress as table rows (or nothing, for `--json`).
pub struct CasePrinter {
    enabled: bool,
}

impl CasePrinter {
    pub fn new(enabled: bool) -> Self {
        CasePrinter { enabled }
    }

    pub fn header(&self, problem: &str, language: &str, checker: &str) {
        if self.enabled {
            println!("problem {problem} · language {language} · checker {checker}");
            println!(
                "{:<5} {:<12} {:<4} {:>8} {:>10} {:>10}  message",
                "task", "case", "", "time", "memory", "fuel"
            );
        }
    }

    pub fn progress(&mut self, progress: &Progress) {
        if !self.enabled {
            return;
        }
        match progress {
            Progress::Compiled { message } if !message.trim().is_empty() => {
                println!("compile: {}", first_lines(message, 20));
            }
            Progress::Compiled { .. } => {}
            Progress::Case { task, case } => println!("{}", row(*task, case)),
        }
        let _ = std::io::stdout().flush();
    }

    pub fn footer(&self, report: &JudgeReport) {
        if !self.enabled {
            return;
        }
        if report.status == judge_core::Status::CompileError {
            println!("compile error:\n{}", first_lines(&report.compile_message, 40));
        }
        for (i, task) in report.tasks.iter().enumerate() {
            println!(
                "task {}: {} {}/{}",
                i + 1,
                task.status,
                fmt_score(task.score),
                fmt_score(task.max_score)
            );
        }
        println!(
            "result: {} score {}/{} · max time {} ms · max memory {}",
            report.status,
            fmt_score(report.score),
            fmt_score(report.max_score),
            report.time_ms,
            fmt_memory(report.memory_kb)
        );
    }
}

fn row(task: usize, case: &CaseReport) -> String {
    let fuel = case.fuel.map_or_else(|| "-".to_string(), fmt_fuel);
    format!(
        "{:<5} {:<12} {:<4} {:>5} ms {:>10} {:>10}  {}",
        task + 1,
        case.name,
        case.status.code(),
        case.time_ms,
        fmt_memory(case.memory_kb),
        fuel,
        first_lines(&case.message, 1)
    )
}

fn first_lines(text: &str, n: usize) -> String {
    let mut out: String = text.lines().take(n).collect::<Vec<_>>().join("\n");
    if out.len() > 2000 {
        out.truncate(out.floor_char_boundary(2000));
        out.push('…');
    }
    out
}

/// A score without needless decimals: `100`, `12.5`.
pub fn fmt_score(score: f64) -> String {
    let rounded = (score * 1000.0).round() / 1000.0;
    if rounded.fract() == 0.0 { format!("{rounded:.0}") } else { format!("{rounded}") }
}

fn fmt_memory(kb: u64) -> String {
    if kb >= 1024 { format!("{:.1} MiB", kb as f64 / 1024.0) } else { format!("{kb} KiB") }
}

fn fmt_fuel(fuel: u64) -> String {
    match fuel {
        f if f >= 1_000_000_000 => format!("{:.1}G", f as f64 / 1e9),
        f if f >= 1_000_000 => format!("{:.1}M", f as f64 / 1e6),
        f if f >= 1_000 => format!("{:.1}k", f as f64 / 1e3),
        f => f.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_and_sizes_read_naturally() {
        assert_eq!(fmt_score(100.0), "100");
        assert_eq!(fmt_score(12.5), "12.5");
        assert_eq!(fmt_score(33.33333), "33.333");
        assert_eq!(fmt_memory(512), "512 KiB");
        assert_eq!(fmt_memory(2048), "2.0 MiB");
        assert_eq!(fmt_fuel(2_500_000), "2.5M");
    }
}
