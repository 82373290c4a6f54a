//! From the supervisor's measured facts to how a run or a compile ended
//! (pure: the decisions the tests pin down).

use judge_core::{RunEnd, RunLimits, RunOutcome};
use supervisor::wire::{Exit, RunReport};

/// How a run ended, with its time and memory.
pub fn run_outcome(report: RunReport, limits: &RunLimits, wall_ms: u64) -> RunOutcome {
    let time_ms = report.cpu_us.div_ceil(1000);
    let memory_limit_kb = limits.memory_mb.saturating_mul(1024);
    let end = match report.exit {
        Exit::NotStarted(errno) => RunEnd::SystemError {
            reason: format!("the program could not be started (errno {errno})"),
        },
        _ if report.output_len > limits.output_bytes
            || report.exit == Exit::Signal(libc::SIGXFSZ) =>
        {
            RunEnd::OutputLimit {
                reason: format!("more than {} bytes of output", limits.output_bytes),
            }
        }
        _ if report.oom_killed => RunEnd::MemoryLimit {
            reason: format!(
                "out of memory: the program's processes together passed the \
                 {memory_limit_kb} KiB limit (the main process peaked at {} KiB)",
                report.peak_rss_kb
            ),
        },
        _ if report.peak_rss_kb > memory_limit_kb => RunEnd::MemoryLimit {
            reason: format!(
                "peak memory {} KiB over the {memory_limit_kb} KiB limit",
                report.peak_rss_kb
            ),
        },
        _ if time_ms > limits.time_ms || report.exit == Exit::Signal(libc::SIGXCPU) => {
            RunEnd::TimeLimit {
                reason: format!(
                    "CPU time {} ms over the {} ms limit",
                    time_ms.max(limits.time_ms + 1),
                    limits.time_ms
                ),
            }
        }
        _ if report.wall_killed => RunEnd::TimeLimit {
            reason: format!(
                "still running after {wall_ms} ms of wall time (3× the time limit) \
                 having used {time_ms} ms of CPU: waiting, sleeping, or sharing the CPU \
                 with its own processes"
            ),
        },
        Exit::Signal(sig) => RunEnd::Crashed { reason: format!("killed by {}", signal_name(sig)) },
        Exit::Code(code) => RunEnd::Exited { code },
    };
    RunOutcome {
        end,
        stdout: report.stdout,
        stderr: report.stderr,
        time_ms,
        memory_kb: report.peak_rss_kb,
        fuel: None,
        wall_ms: Some(report.wall_us / 1000),
    }
}

/// `Ok` when the compiler succeeded, else the CE message for the contestant.
pub fn compile_result(report: &RunReport, limit_ms: u64, memory_mb: u64) -> Result<(), String> {
    let output = || {
        let mut text = String::from_utf8_lossy(&report.stderr).into_owned();
        text.push_str(&String::from_utf8_lossy(&report.stdout));
        truncate(text.trim_end(), crate::language::COMPILE_MESSAGE_BYTES)
    };
    match report.exit {
        _ if report.oom_killed => Err(format!("the compiler ran out of memory ({memory_mb} MiB)")),
        _ if report.wall_killed || report.cpu_us / 1000 > limit_ms => {
            Err(format!("compilation took longer than {} s", limit_ms / 1000))
        }
        Exit::Code(0) => Ok(()),
        Exit::Code(_) => Err(output()),
        Exit::Signal(sig) => Err(format!("the compiler was killed by {}", signal_name(sig))),
        Exit::NotStarted(errno) => {
            Err(format!("the compiler could not be started (errno {errno})"))
        }
    }
}

/// `SIGSEGV (segmentation fault)`, or the number for a rare signal.
pub fn signal_name(sig: i32) -> String {
    let (name, meaning) = match sig {
        libc::SIGSEGV => ("SIGSEGV", "segmentation fault"),
        libc::SIGABRT => ("SIGABRT", "aborted"),
        libc::SIGFPE => ("SIGFPE", "arithmetic error, e.g. division by zero"),
        libc::SIGBUS => ("SIGBUS", "bus error"),
        libc::SIGILL => ("SIGILL", "illegal instruction"),
        libc::SIGKILL => ("SIGKILL", "killed"),
        libc::SIGTERM => ("SIGTERM", "terminated"),
        libc::SIGPIPE => ("SIGPIPE", "broken pipe"),
        libc::SIGSYS => ("SIGSYS", "bad system call"),
        libc::SIGXCPU => ("SIGXCPU", "CPU time limit"),
        libc::SIGXFSZ => ("SIGXFSZ", "file size limit"),
        _ => return format!("signal {sig}"),
    };
    format!("{name} ({meaning})")
}

/// At most `max` bytes of `text`, cut on a character boundary.
fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}\n… (truncated)", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: RunLimits = RunLimits { time_ms: 1000, memory_mb: 64, output_bytes: 100 };

    fn report(exit: Exit) -> RunReport {
        RunReport {
            exit,
            cpu_us: 10_400,
            wall_us: 12_000,
            peak_rss_kb: 2048,
            wall_killed: false,
            oom_killed: false,
            output_len: 3,
            stdout: b"42\n".to_vec(),
            stderr: vec![],
        }
    }

    fn end(r: RunReport) -> RunEnd {
        run_outcome(r, &LIMITS, 3000).end
    }

    #[test]
    fn a_clean_exit_keeps_its_code_time_and_memory() {
        let outcome = run_outcome(report(Exit::Code(0)), &LIMITS, 3000);
        assert_eq!(outcome.end, RunEnd::Exited { code: 0 });
        assert_eq!((outcome.time_ms, outcome.memory_kb, outcome.fuel), (11, 2048, None));
        assert_eq!(outcome.stdout, b"42\n");
        assert_eq!(end(report(Exit::Code(3))), RunEnd::Exited { code: 3 });
    }

    #[test]
    fn limits_are_decided_from_the_measurements() {
        let over_cpu = RunReport { cpu_us: 1_000_001, ..report(Exit::Code(0)) };
        assert!(
            matches!(end(over_cpu), RunEnd::TimeLimit { reason } if reason.contains("1001 ms"))
        );
        let sigxcpu = report(Exit::Signal(libc::SIGXCPU));
        assert!(matches!(end(sigxcpu), RunEnd::TimeLimit { .. }));
        let sleeping = RunReport { wall_killed: true, ..report(Exit::Signal(libc::SIGKILL)) };
        assert!(
            matches!(end(sleeping), RunEnd::TimeLimit { reason } if reason.contains("sleeping"))
        );
        let big = RunReport { peak_rss_kb: 64 * 1024 + 1, ..report(Exit::Code(0)) };
        assert!(matches!(end(big), RunEnd::MemoryLimit { .. }));
        let oom = RunReport { oom_killed: true, ..report(Exit::Signal(libc::SIGKILL)) };
        assert!(matches!(end(oom), RunEnd::MemoryLimit { .. }));
        let chatty = RunReport { output_len: 101, ..report(Exit::Code(0)) };
        assert!(matches!(end(chatty), RunEnd::OutputLimit { .. }));
        assert!(matches!(end(report(Exit::Signal(libc::SIGXFSZ))), RunEnd::OutputLimit { .. }));
    }

    #[test]
    fn memory_outranks_time_and_output_outranks_both() {
        let both = RunReport { oom_killed: true, cpu_us: 5_000_000, ..report(Exit::Code(0)) };
        assert!(matches!(end(both.clone()), RunEnd::MemoryLimit { .. }));
        let all = RunReport { output_len: 1000, ..both };
        assert!(matches!(end(all), RunEnd::OutputLimit { .. }));
    }

    #[test]
    fn signals_are_crashes_named_for_people() {
        assert_eq!(
            end(report(Exit::Signal(libc::SIGSEGV))),
            RunEnd::Crashed { reason: "killed by SIGSEGV (segmentation fault)".into() }
        );
        assert_eq!(signal_name(63), "signal 63");
        assert!(matches!(end(report(Exit::NotStarted(2))), RunEnd::SystemError { .. }));
    }

    #[test]
    fn compile_failures_become_truncated_messages() {
        assert_eq!(compile_result(&report(Exit::Code(0)), 20_000, 1024), Ok(()));
        let error = RunReport {
            stderr: format!("main.c:1: error: {}", "é".repeat(5000)).into_bytes(),
            ..report(Exit::Code(1))
        };
        let message = compile_result(&error, 20_000, 1024).unwrap_err();
        assert!(message.starts_with("main.c:1: error: é"));
        assert!(message.ends_with("(truncated)") && message.len() < 4200, "{}", message.len());
        let slow = RunReport { wall_killed: true, ..report(Exit::Signal(9)) };
        assert_eq!(
            compile_result(&slow, 20_000, 1024).unwrap_err(),
            "compilation took longer than 20 s"
        );
        let oom = RunReport { oom_killed: true, ..report(Exit::Signal(9)) };
        assert!(compile_result(&oom, 20_000, 1024).unwrap_err().contains("out of memory"));
    }
}
