//! Human-readable output: a verdict table printed case by case as judging
//! goes (`gavel judge`) or at once from a finished report (`gavel submit`,
//! `gavel watch`), then the total; the same report as one JSON object
//! ([`report_json`]); and a live progress line on stderr ([`LiveLine`]).

use std::io::{IsTerminal, Write};

use judge_core::judge::Progress;
use judge_core::report::{CaseReport, JudgeReport};

/// Prints judging progress as table rows (or nothing, for `--json`).
pub struct CasePrinter {
    enabled: bool,
    /// Print an interactive case's exchange under its row (`--verbose`).
    transcripts: bool,
}

impl CasePrinter {
    pub fn new(enabled: bool) -> Self {
        CasePrinter { enabled, transcripts: false }
    }

    /// Also prints each interactive case's transcript under its row.
    pub fn with_transcripts(mut self, transcripts: bool) -> Self {
        self.transcripts = transcripts;
        self
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
            Progress::Case { task, case } => {
                println!("{}", row(*task, case));
                if let Some(transcript) = case.transcript.as_ref().filter(|_| self.transcripts) {
                    print!("{}", transcript_lines(transcript));
                }
            }
        }
        let _ = std::io::stdout().flush();
    }

    /// The whole table of a finished report: what [`CasePrinter::header`],
    /// [`CasePrinter::progress`] for each case and [`CasePrinter::footer`]
    /// print while judging.
    pub fn table(&mut self, problem: &str, language: &str, checker: &str, report: &JudgeReport) {
        self.header(problem, language, checker);
        // A compile error runs no case: the footer shows the compiler's words.
        if report.status != judge_core::Status::CompileError {
            self.progress(&Progress::Compiled { message: report.compile_message.clone() });
            for (task, task_report) in report.tasks.iter().enumerate() {
                for case in &task_report.cases {
                    self.progress(&Progress::Case { task, case: case.clone() });
                }
            }
        }
        self.footer(report);
    }

    pub fn footer(&self, report: &JudgeReport) {
        if !self.enabled {
            return;
        }
        if report.status == judge_core::Status::CompileError {
            println!("compile error:\n{}", first_lines(&report.compile_message, 40));
        }
        for (i, task) in report.tasks.iter().enumerate() {
            let why = if task.message.is_empty() {
                String::new()
            } else {
                format!(" ({})", task.message)
            };
            println!(
                "task {}: {} {}/{}{why}",
                i + 1,
                task.status,
                fmt_score(task.score),
                fmt_score(task.max_score)
            );
        }
        if !report.message.is_empty() {
            println!("message: {}", first_lines(&report.message, 5));
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

/// A report as `--json` prints it: what was judged, then the verdicts.
pub fn report_json(
    problem: &str,
    language: &str,
    checker: &str,
    report: &JudgeReport,
) -> serde_json::Value {
    serde_json::json!({
        "problem": problem,
        "language": language,
        "checker": checker,
        "status": report.status,
        "score": report.score,
        "max_score": report.max_score,
        "compile_message": report.compile_message,
        "message": report.message,
        "time_ms": report.time_ms,
        "memory_kb": report.memory_kb,
        "tasks": report.tasks,
    })
}

/// Progress on stderr while something else works: on a terminal one line
/// rewritten in place (and cleared by [`LiveLine::clear`]), otherwise one
/// plain line per update, so logs and pipes read well.
pub struct LiveLine {
    in_place: bool,
    showing: bool,
}

impl LiveLine {
    pub fn new() -> Self {
        LiveLine { in_place: std::io::stderr().is_terminal(), showing: false }
    }

    pub fn show(&mut self, text: &str) {
        let mut err = std::io::stderr().lock();
        let _ = if self.in_place {
            self.showing = true;
            // Carriage return, then erase the line: the new text replaces the old.
            write!(err, "\r\x1b[2K{}", first_lines(text, 1))
        } else {
            writeln!(err, "{text}")
        };
        let _ = err.flush();
    }

    /// Removes the line (on a terminal), so what follows starts clean.
    pub fn clear(&mut self) {
        if self.showing {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
            self.showing = false;
        }
    }
}

impl Default for LiveLine {
    fn default() -> Self {
        LiveLine::new()
    }
}

impl Drop for LiveLine {
    fn drop(&mut self) {
        self.clear();
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

/// An exchange, one line per line written: `< ` what the interactor wrote,
/// `> ` what the program wrote, indented under the case's row.
pub fn transcript_lines(transcript: &judge_core::interactive::Transcript) -> String {
    use judge_core::interactive::Side;
    let mut out = String::new();
    for entry in &transcript.entries {
        let mark = if entry.from == Side::Interactor { '<' } else { '>' };
        for line in entry.text.lines() {
            out.push_str(&format!("      {mark} {line}\n"));
        }
        if !entry.text.ends_with('\n') {
            out.push_str("      (no newline)\n");
        }
    }
    if transcript.cut {
        out.push_str("      … (the transcript keeps the first 64 KiB each way)\n");
    }
    out
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

    #[test]
    fn a_transcript_reads_as_the_exchange() {
        use judge_core::interactive::{Side, Transcript};
        let mut t = Transcript::default();
        t.record(Side::Interactor, b"1000\n");
        t.record(Side::Contestant, b"? 500\n? 250");
        assert_eq!(
            transcript_lines(&t),
            "      < 1000\n      > ? 500\n      > ? 250\n      (no newline)\n"
        );
    }
}
