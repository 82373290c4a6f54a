//! Interactive problems, as pure rules: the seam between the judging loop
//! and what runs an interactor next to a contestant ([`Interactor`]; the
//! contestant's end of the pipes is [`crate::exec::Channel`]), the
//! idleness limits, the capped [`Transcript`] a case keeps, and
//! [`decide`], the verdict rule (`docs/problems.md`, "Interactive problems").
//!
//! The interactor follows testlib's contract: `interactor <input> <tout>
//! [<answer>]`, its stdout is the contestant's stdin and the contestant's
//! stdout its stdin, its stderr the message and its exit code a checker's
//! ([`crate::checker_program::testlib_verdict`]). The host that runs it
//! (`plugin-host`) owns both pipes, so it knows who waits for whom.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::checker_program::{self, ProgramFacts};
use crate::exec::{CheckVerdict, Program, RunEnd, RunLimits, RunOutcome};

/// How long both sides may wait to read from each other before the case
/// ends as a deadlock (TLE "idle").
pub const DEADLOCK: Duration = Duration::from_secs(1);

/// The most of each direction of the exchange a case's transcript keeps.
pub const TRANSCRIPT_BYTES: usize = 64 << 10;

/// The most transcript text one report keeps over all its cases (a report
/// travels to the backend in one request): later cases keep less.
pub const REPORT_TRANSCRIPT_BYTES: usize = 1 << 20;

/// Where the interactor finds its files: the input and the answer (read
/// only, in [`checker_program::FILES_DIR`]) and `tout`, the file it may
/// write for a checker afterwards (in its own writable folder).
pub const TOUT_DIR: &str = "/tout";
pub const TOUT: &str = "/tout/tout";

/// The interactor's arguments (after its name): `<input> <tout> <answer>`.
pub fn interactor_args() -> Vec<String> {
    [checker_program::INPUT, TOUT, checker_program::ANSWER].map(str::to_string).to_vec()
}

/// The wall time a contestant may spend without using any CPU while the
/// interactor waits for it (or has ended) before it ends as TLE "idle":
/// twice its time limit, and at least 2 s.
pub fn idle_limit(time_ms: u64) -> Duration {
    Duration::from_millis(time_ms.saturating_mul(2).max(2000))
}

/// Which side of an exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Side {
    Interactor,
    Contestant,
}

/// One stretch of the exchange: what one side wrote, as text (lossy UTF-8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TranscriptEntry {
    pub from: Side,
    pub text: String,
}

/// The start of a case's exchange, in the order it was written: at most
/// [`TRANSCRIPT_BYTES`] from each side (`cut` says more was written).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Transcript {
    pub entries: Vec<TranscriptEntry>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cut: bool,
    /// Bytes kept from each side, for the cap (not serialized).
    #[serde(skip)]
    kept: [usize; 2],
    /// Bytes of a side's last entry that end inside a UTF-8 character.
    #[serde(skip)]
    pending: Vec<u8>,
}

impl Transcript {
    /// Records that `from` wrote `bytes`; past a side's cap only `cut` is set.
    pub fn record(&mut self, from: Side, bytes: &[u8]) {
        let index = from as usize;
        let room = TRANSCRIPT_BYTES - self.kept[index];
        if bytes.len() > room {
            self.cut = true;
        }
        let kept = &bytes[..bytes.len().min(room)];
        if kept.is_empty() {
            return;
        }
        self.kept[index] += kept.len();
        let same_side = self.entries.last().is_some_and(|e| e.from == from);
        let mut raw = if same_side { std::mem::take(&mut self.pending) } else { Vec::new() };
        raw.extend_from_slice(kept);
        // A character split between two writes is held back until it ends.
        let complete = match std::str::from_utf8(&raw) {
            Ok(_) => raw.len(),
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(_) => raw.len(),
        };
        self.pending = raw.split_off(complete);
        let text = String::from_utf8_lossy(&raw);
        match self.entries.last_mut() {
            Some(last) if same_side => last.text.push_str(&text),
            _ => self.entries.push(TranscriptEntry { from, text: text.into_owned() }),
        }
    }
}

impl Transcript {
    /// This transcript within `room` bytes of text (what is left of a
    /// report's [`REPORT_TRANSCRIPT_BYTES`]), `room` reduced by what it keeps.
    pub fn within(mut self, room: &mut usize) -> Self {
        let mut kept = 0;
        let mut entries = Vec::new();
        for mut entry in std::mem::take(&mut self.entries) {
            let left = *room - kept;
            if left == 0 {
                self.cut = true;
                break;
            }
            if entry.text.len() > left {
                let mut end = left;
                while !entry.text.is_char_boundary(end) {
                    end -= 1;
                }
                entry.text.truncate(end);
                self.cut = true;
            }
            kept += entry.text.len();
            entries.push(entry);
        }
        *room -= kept;
        self.entries = entries;
        self
    }
}

/// How the interactor's run ended, when it did.
#[derive(Debug, Clone, PartialEq)]
pub enum InteractorEnd {
    /// It exited with this status; its stderr is the message.
    Exited { code: i32, stderr: Vec<u8> },
    /// It crashed, hit one of its limits, or could not run: the reason.
    Failed { reason: String },
}

/// What one interactive run of a case produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Interaction {
    /// The contestant's run: its ending, time and memory (its stdout went to
    /// the interactor and is not kept here).
    pub contestant: RunOutcome,
    /// The interactor's ending; `None` when the host stopped it because the
    /// case was decided without it (the contestant failed first, or idleness).
    pub interactor: Option<InteractorEnd>,
    /// Which side ended first.
    pub first: Side,
    /// Set when the host ended both sides for idleness: why.
    pub idle: Option<String>,
    /// What the interactor wrote to `tout`.
    pub tout: Vec<u8>,
    pub transcript: Transcript,
}

/// Runs an interactor next to a contestant's program, one case at a time.
pub trait Interactor {
    /// Runs the interactor on the case's `input` and `answer` and `program`
    /// under the case's `limits`, connected to each other.
    fn interact(
        &self,
        program: &dyn Program,
        input: &[u8],
        answer: &[u8],
        limits: &RunLimits,
    ) -> Interaction;
}

/// How a case ends, by [`decide`].
#[derive(Debug, Clone, PartialEq)]
pub enum Ruling {
    /// The contestant's own ending decides (TLE, MLE, OLE, RE, or JE for the
    /// executor's failure): judged as a plain run's ending is.
    Contestant(RunEnd),
    /// The interactor's verdict (WA, PE, partial; a failure is JE).
    Interactor(CheckVerdict),
    /// The interactor accepted and the contestant ended normally: AC, or
    /// the problem's checker next, on `tout`, when the problem has one.
    Accepted,
    /// Idleness: TLE with the reason.
    Idle(String),
}

/// The verdict rule: the first to finish decides.
/// - Idleness (a deadlock, or a contestant using no CPU) → TLE "idle".
/// - The interactor first: failing, crashing or over its limits → JE; WA or
///   PE → that verdict, whatever the contestant does after; AC (or points)
///   → the contestant's own ending decides: a normal exit keeps it (AC, then
///   the checker), a crash → RE, a limit → TLE/MLE/OLE.
/// - The contestant first: a limit or a crash → that verdict; a normal exit
///   → the interactor's verdict (as above), then the checker.
pub fn decide(interaction: &Interaction) -> Ruling {
    if let Some(reason) = &interaction.idle {
        return Ruling::Idle(reason.clone());
    }
    let contestant = &interaction.contestant.end;
    let contestant_ok = matches!(contestant, RunEnd::Exited { code: 0 });
    if interaction.first == Side::Contestant && !contestant_ok {
        return Ruling::Contestant(contestant.clone());
    }
    let verdict = match &interaction.interactor {
        None => CheckVerdict::Fail { message: "the interactor was stopped before it ended".into() },
        Some(InteractorEnd::Failed { reason }) => {
            CheckVerdict::Fail { message: format!("the interactor failed: {reason}") }
        }
        Some(InteractorEnd::Exited { code, stderr }) => checker_program::testlib_verdict_of(
            "interactor",
            &ProgramFacts { exit_code: *code, stderr: stderr.clone(), ..Default::default() },
        ),
    };
    match verdict {
        CheckVerdict::Fail { .. }
        | CheckVerdict::WrongAnswer { .. }
        | CheckVerdict::PresentationError { .. } => Ruling::Interactor(verdict),
        _ if !contestant_ok => Ruling::Contestant(contestant.clone()),
        CheckVerdict::Accepted => Ruling::Accepted,
        partial @ CheckVerdict::Partial { .. } => Ruling::Interactor(partial),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(end: RunEnd) -> RunOutcome {
        RunOutcome {
            end,
            stdout: Vec::new(),
            stderr: Vec::new(),
            time_ms: 1,
            memory_kb: 1,
            fuel: None,
            wall_ms: None,
        }
    }

    fn exited(code: i32, stderr: &str) -> Option<InteractorEnd> {
        Some(InteractorEnd::Exited { code, stderr: stderr.into() })
    }

    fn case(first: Side, interactor: Option<InteractorEnd>, contestant: RunEnd) -> Ruling {
        decide(&Interaction {
            contestant: outcome(contestant),
            interactor,
            first,
            idle: None,
            tout: Vec::new(),
            transcript: Transcript::default(),
        })
    }

    const OK: RunEnd = RunEnd::Exited { code: 0 };

    fn tle() -> RunEnd {
        RunEnd::TimeLimit { reason: "fuel".into() }
    }

    fn crash() -> RunEnd {
        RunEnd::Crashed { reason: "trap".into() }
    }

    #[test]
    fn the_interactor_failing_is_a_judgement_error_whoever_ends_first() {
        let failed = Some(InteractorEnd::Failed { reason: "fuel exhausted".into() });
        for first in [Side::Interactor, Side::Contestant] {
            let Ruling::Interactor(CheckVerdict::Fail { message }) =
                case(first, failed.clone(), OK)
            else {
                panic!()
            };
            assert_eq!(message, "the interactor failed: fuel exhausted");
        }
        let Ruling::Interactor(CheckVerdict::Fail { message }) =
            case(Side::Interactor, exited(3, "bad input"), tle())
        else {
            panic!()
        };
        assert!(message.contains("the interactor failed: bad input"), "{message}");
        let ruling = case(Side::Interactor, exited(200, ""), OK);
        assert!(matches!(ruling, Ruling::Interactor(CheckVerdict::Fail { .. })), "{ruling:?}");
    }

    #[test]
    fn the_interactor_ending_first_with_wa_or_pe_wins_whatever_the_contestant_does_after() {
        for after in [OK, tle(), crash(), RunEnd::Exited { code: 1 }] {
            assert_eq!(
                case(Side::Interactor, exited(1, "wrong guess"), after.clone()),
                Ruling::Interactor(CheckVerdict::WrongAnswer { message: "wrong guess".into() })
            );
            assert!(matches!(
                case(Side::Interactor, exited(2, "bad format"), after),
                Ruling::Interactor(CheckVerdict::PresentationError { .. })
            ));
        }
    }

    #[test]
    fn the_interactor_accepting_first_leaves_the_contestants_ending_to_decide() {
        assert_eq!(case(Side::Interactor, exited(0, "ok"), OK), Ruling::Accepted);
        for end in [crash(), tle(), RunEnd::Exited { code: 1 }] {
            assert_eq!(
                case(Side::Interactor, exited(0, "ok"), end.clone()),
                Ruling::Contestant(end)
            );
        }
        assert_eq!(
            case(Side::Interactor, exited(16 + 50, "half"), OK),
            Ruling::Interactor(CheckVerdict::Partial { score: 0.5, message: "half".into() })
        );
        assert_eq!(
            case(Side::Interactor, exited(16 + 50, "half"), crash()),
            Ruling::Contestant(crash())
        );
    }

    #[test]
    fn the_contestant_ending_first_over_a_limit_or_crashed_gets_that_verdict() {
        let mle = RunEnd::MemoryLimit { reason: "cap".into() };
        for end in [tle(), mle, crash(), RunEnd::Exited { code: 3 }] {
            assert_eq!(case(Side::Contestant, None, end.clone()), Ruling::Contestant(end.clone()));
            assert_eq!(case(Side::Contestant, exited(0, ""), end.clone()), Ruling::Contestant(end));
        }
    }

    #[test]
    fn both_ending_normally_leave_it_to_the_interactor_then_the_checker() {
        assert_eq!(case(Side::Contestant, exited(0, "found"), OK), Ruling::Accepted);
        assert!(matches!(
            case(Side::Contestant, exited(1, "too many queries"), OK),
            Ruling::Interactor(CheckVerdict::WrongAnswer { .. })
        ));
        assert!(matches!(
            case(Side::Contestant, None, OK),
            Ruling::Interactor(CheckVerdict::Fail { .. })
        ));
    }

    #[test]
    fn idleness_is_a_time_limit_whatever_else_happened() {
        let ruling = decide(&Interaction {
            contestant: outcome(OK),
            interactor: exited(0, ""),
            first: Side::Interactor,
            idle: Some("deadlock".into()),
            tout: Vec::new(),
            transcript: Transcript::default(),
        });
        assert_eq!(ruling, Ruling::Idle("deadlock".into()));
    }

    #[test]
    fn the_idle_limit_is_twice_the_time_limit_and_at_least_two_seconds() {
        assert_eq!(idle_limit(100), Duration::from_secs(2));
        assert_eq!(idle_limit(3000), Duration::from_secs(6));
    }

    #[test]
    fn the_transcript_keeps_the_order_merges_stretches_and_caps_each_side() {
        let mut t = Transcript::default();
        t.record(Side::Interactor, b"10\n");
        t.record(Side::Contestant, b"? 5");
        t.record(Side::Contestant, b"\n");
        t.record(Side::Interactor, "\u{e9}".as_bytes().split_at(1).0);
        t.record(Side::Interactor, "\u{e9}".as_bytes().split_at(1).1);
        let texts: Vec<(Side, &str)> =
            t.entries.iter().map(|e| (e.from, e.text.as_str())).collect();
        assert_eq!(
            texts,
            [(Side::Interactor, "10\n"), (Side::Contestant, "? 5\n"), (Side::Interactor, "\u{e9}")]
        );
        assert!(!t.cut);
        t.record(Side::Contestant, &vec![b'x'; TRANSCRIPT_BYTES]);
        assert!(t.cut);
        let contestant: usize =
            t.entries.iter().filter(|e| e.from == Side::Contestant).map(|e| e.text.len()).sum();
        assert_eq!(contestant, TRANSCRIPT_BYTES);
        t.record(Side::Interactor, b"more");
        assert_eq!(t.entries.last().unwrap().text, "more", "the other side still has room");
    }

    #[test]
    fn a_reports_transcripts_share_one_budget() {
        let mut t = Transcript::default();
        t.record(Side::Interactor, b"12345");
        t.record(Side::Contestant, "\u{e9}\u{e9}".as_bytes());
        let mut room = 7;
        let first = t.clone().within(&mut room);
        let texts: Vec<&str> = first.entries.iter().map(|e| e.text.as_str()).collect();
        assert_eq!((texts, first.cut, room), (vec!["12345", "\u{e9}"], true, 0));
        let second = t.clone().within(&mut room);
        assert!(second.entries.is_empty() && second.cut);
        let mut plenty = 100;
        assert_eq!(t.clone().within(&mut plenty), t);
        assert_eq!(plenty, 100 - 9);
    }
}
