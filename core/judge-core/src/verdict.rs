//! Verdicts (`status` in the JSON API), their precedence, and Normal-OJ's codes.

use serde::{Deserialize, Serialize};

/// The status of a submission, a task or a test case (`docs/contract.md` §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Status {
    /// Queued, not yet picked up by a runner.
    Pending,
    /// A runner is working on it.
    Judging,
    /// Accepted.
    #[serde(rename = "AC")]
    Accepted,
    /// Wrong answer.
    #[serde(rename = "WA")]
    WrongAnswer,
    /// Presentation error (custom checkers only).
    #[serde(rename = "PE")]
    PresentationError,
    /// Compile error.
    #[serde(rename = "CE")]
    CompileError,
    /// Runtime error (non-zero exit, signal, trap).
    #[serde(rename = "RE")]
    RuntimeError,
    /// Time limit exceeded (fuel, CPU time, or the wall backstop).
    #[serde(rename = "TLE")]
    TimeLimitExceeded,
    /// Memory limit exceeded.
    #[serde(rename = "MLE")]
    MemoryLimitExceeded,
    /// Output limit exceeded.
    #[serde(rename = "OLE")]
    OutputLimitExceeded,
    /// Judgement error: the judge's fault (checker failed, attempts exhausted).
    #[serde(rename = "JE")]
    JudgementError,
    /// Cancelled before a final verdict.
    Cancelled,
}

impl Status {
    /// Every final status, from best to worst (see [`Status::severity`]).
    pub const FINAL_BY_SEVERITY: [Status; 9] = [
        Status::Accepted,
        Status::PresentationError,
        Status::WrongAnswer,
        Status::CompileError,
        Status::TimeLimitExceeded,
        Status::MemoryLimitExceeded,
        Status::RuntimeError,
        Status::JudgementError,
        Status::OutputLimitExceeded,
    ];

    /// The short code used in JSON and tables: `AC`, `WA`, `PENDING`, ….
    pub fn code(self) -> &'static str {
        match self {
            Status::Pending => "PENDING",
            Status::Judging => "JUDGING",
            Status::Accepted => "AC",
            Status::WrongAnswer => "WA",
            Status::PresentationError => "PE",
            Status::CompileError => "CE",
            Status::RuntimeError => "RE",
            Status::TimeLimitExceeded => "TLE",
            Status::MemoryLimitExceeded => "MLE",
            Status::OutputLimitExceeded => "OLE",
            Status::JudgementError => "JE",
            Status::Cancelled => "CANCELLED",
        }
    }

    /// Parses a code produced by [`Status::code`].
    pub fn from_code(code: &str) -> Option<Status> {
        [Status::Pending, Status::Judging, Status::Cancelled]
            .into_iter()
            .chain(Status::FINAL_BY_SEVERITY)
            .find(|s| s.code() == code)
    }

    /// Whether this is a final verdict (not pending, judging or cancelled).
    pub fn is_final_verdict(self) -> bool {
        Status::FINAL_BY_SEVERITY.contains(&self)
    }

    /// How bad a final verdict is; the worst case decides a task and a
    /// submission. The order is Normal-OJ's (a higher code is worse) with PE
    /// between AC and WA, so both dialects agree on every aggregate.
    /// Non-final statuses rank below AC.
    pub fn severity(self) -> u8 {
        Status::FINAL_BY_SEVERITY.iter().position(|s| *s == self).map_or(0, |p| p as u8 + 1)
    }

    /// Normal-OJ's numeric code: Pending −1, AC 0, WA 1 (PE too), CE 2, TLE 3,
    /// MLE 4, RE 5, JE 6, OLE 7. Judging counts as pending; cancelled as JE.
    pub fn normal_oj_code(self) -> i32 {
        match self {
            Status::Pending | Status::Judging => -1,
            Status::Accepted => 0,
            Status::WrongAnswer | Status::PresentationError => 1,
            Status::CompileError => 2,
            Status::TimeLimitExceeded => 3,
            Status::MemoryLimitExceeded => 4,
            Status::RuntimeError => 5,
            Status::JudgementError | Status::Cancelled => 6,
            Status::OutputLimitExceeded => 7,
        }
    }

    /// The worst of two final verdicts.
    pub fn worst(self, other: Status) -> Status {
        if other.severity() > self.severity() { other } else { self }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_through_json_and_text() {
        for s in Status::FINAL_BY_SEVERITY.into_iter().chain([Status::Pending, Status::Cancelled]) {
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.code()));
            assert_eq!(serde_json::from_str::<Status>(&json).unwrap(), s);
            assert_eq!(Status::from_code(s.code()), Some(s));
        }
    }

    #[test]
    fn severity_follows_normal_oj_codes() {
        let codes: Vec<i32> =
            Status::FINAL_BY_SEVERITY.iter().map(|s| s.normal_oj_code()).collect();
        assert_eq!(codes, [0, 1, 1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(Status::Accepted.worst(Status::PresentationError), Status::PresentationError);
        assert_eq!(Status::WrongAnswer.worst(Status::PresentationError), Status::WrongAnswer);
        assert_eq!(
            Status::OutputLimitExceeded.worst(Status::JudgementError),
            Status::OutputLimitExceeded
        );
    }
}
