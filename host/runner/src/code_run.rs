//! A free code run on the runner: the job's files become a
//! [`judge_core::CodeRun`], its output is streamed to the backend as
//! `output` events while the program runs (text, never splitting a UTF-8
//! character), and the whole transcript, status and artifacts become the
//! [`RunReport`] that `complete` delivers.

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use judge_core::code_run::{ArtifactLimits, CodeRun, CodeRunOutcome, OutputTap, Stream};
use judge_core::{RunEnd, RunLimits};
use protocol::runs::{ArtifactData, OutputChunk, OutputStream, RunJob, RunReport, RunStatus};

/// The run a job describes.
pub fn code_run(job: &RunJob) -> CodeRun {
    CodeRun {
        files: job
            .files
            .iter()
            .map(|(name, text)| (name.clone(), text.clone().into_bytes()))
            .collect(),
        entry: job.entry.clone(),
        stdin: job.stdin.clone().into_bytes(),
        args: job.args.clone(),
        env: job.env.clone(),
        limits: RunLimits {
            time_ms: job.time_ms,
            memory_mb: job.memory_mb,
            output_bytes: job.output_bytes,
        },
        artifacts: ArtifactLimits {
            max_files: job.max_artifacts,
            max_bytes: job.max_artifact_bytes,
        },
    }
}

/// Everything a run wrote, in order, and the text not yet sent live.
#[derive(Default)]
pub struct Transcript {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Adjacent writes to one stream merged.
    chunks: Vec<(Stream, Vec<u8>)>,
    /// Bytes of each stream's last, incomplete UTF-8 character, held back
    /// from the live events until the rest arrives.
    held: [Vec<u8>; 2],
}

impl Transcript {
    /// A tap that records into this transcript and hands each piece of
    /// complete text to `live`.
    pub fn tap(self: &Arc<Self>, live: impl Fn(OutputChunk) + Send + Sync + 'static) -> OutputTap {
        let transcript = self.clone();
        Arc::new(move |stream, bytes| {
            if let Some(chunk) = transcript.record(stream, bytes) {
                live(chunk);
            }
        })
    }

    /// Records a write; returns the text that is now complete.
    fn record(&self, stream: Stream, bytes: &[u8]) -> Option<OutputChunk> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        match inner.chunks.last_mut() {
            Some((last, data)) if *last == stream => data.extend_from_slice(bytes),
            _ => inner.chunks.push((stream, bytes.to_vec())),
        }
        let held = &mut inner.held[stream as usize];
        held.extend_from_slice(bytes);
        let complete = held.len() - incomplete_tail(held);
        if complete == 0 {
            return None;
        }
        let text = String::from_utf8_lossy(&held[..complete]).into_owned();
        held.drain(..complete);
        Some(OutputChunk { stream: wire_stream(stream), data: text })
    }

    /// The whole output as text, pieces in the order written.
    pub fn output(&self) -> Vec<OutputChunk> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner
            .chunks
            .iter()
            .map(|(stream, data)| OutputChunk {
                stream: wire_stream(*stream),
                data: String::from_utf8_lossy(data).into_owned(),
            })
            .collect()
    }
}

fn wire_stream(stream: Stream) -> OutputStream {
    match stream {
        Stream::Stdout => OutputStream::Stdout,
        Stream::Stderr => OutputStream::Stderr,
    }
}

/// How many bytes at the end of `bytes` begin a UTF-8 character that is not
/// complete yet (0 when the text ends on a character boundary).
fn incomplete_tail(bytes: &[u8]) -> usize {
    for back in 1..=bytes.len().min(3) {
        let byte = bytes[bytes.len() - back];
        if byte & 0xC0 != 0x80 {
            let needed = match byte {
                0xC0..=0xDF => 2,
                0xE0..=0xEF => 3,
                0xF0..=0xF7 => 4,
                _ => 1,
            };
            return if needed > back { back } else { 0 };
        }
    }
    0
}

/// The report of a finished run (`Err`: the executor's own failure).
pub fn report(outcome: Result<CodeRunOutcome, String>, output: Vec<OutputChunk>) -> RunReport {
    let (outcome, artifacts, artifacts_dropped) = match outcome {
        Err(reason) => return RunReport { output, ..RunReport::system_error(reason) },
        Ok(CodeRunOutcome::CompileError(message)) => {
            return RunReport {
                status: RunStatus::CompileError,
                message,
                output,
                ..RunReport::system_error("")
            };
        }
        Ok(CodeRunOutcome::Ran { outcome, artifacts, artifacts_dropped }) => {
            (outcome, artifacts, artifacts_dropped)
        }
    };
    let (status, exit_code, message) = match outcome.end {
        RunEnd::Exited { code: 0 } => (RunStatus::Ok, Some(0), String::new()),
        RunEnd::Exited { code } => {
            (RunStatus::RuntimeError, Some(code), format!("exited with status {code}"))
        }
        RunEnd::TimeLimit { reason } => (RunStatus::TimeLimit, None, reason),
        RunEnd::MemoryLimit { reason } => (RunStatus::MemoryLimit, None, reason),
        RunEnd::OutputLimit { reason } => (RunStatus::OutputLimit, None, reason),
        RunEnd::Crashed { reason } => (RunStatus::RuntimeError, None, reason),
        RunEnd::SystemError { reason } => (RunStatus::SystemError, None, reason),
    };
    RunReport {
        status,
        exit_code,
        time_ms: outcome.time_ms,
        memory_kb: outcome.memory_kb,
        message,
        output,
        artifacts: artifacts
            .into_iter()
            .map(|a| ArtifactData {
                name: a.name,
                content_base64: base64::engine::general_purpose::STANDARD.encode(a.data),
            })
            .collect(),
        artifacts_dropped,
    }
}

#[cfg(test)]
mod tests {
    use judge_core::RunOutcome;
    use judge_core::code_run::Artifact;

    use super::*;

    #[test]
    fn live_text_never_splits_a_character_and_the_transcript_keeps_the_order() {
        let transcript = Arc::new(Transcript::default());
        let sent = Arc::new(Mutex::new(Vec::new()));
        let record = sent.clone();
        let tap = transcript.tap(move |chunk| record.lock().unwrap().push(chunk));
        let euro = "€".as_bytes(); // 3 bytes
        tap(Stream::Stdout, b"price: ");
        tap(Stream::Stdout, &euro[..1]);
        tap(Stream::Stderr, b"warn\n");
        tap(Stream::Stdout, &euro[1..]);
        tap(Stream::Stdout, b"5\n");
        let sent: Vec<(OutputStream, String)> =
            sent.lock().unwrap().iter().map(|c| (c.stream, c.data.clone())).collect();
        assert_eq!(
            sent,
            vec![
                (OutputStream::Stdout, "price: ".into()),
                (OutputStream::Stderr, "warn\n".into()),
                (OutputStream::Stdout, "€".into()),
                (OutputStream::Stdout, "5\n".into()),
            ]
        );
        let output: Vec<(OutputStream, String)> =
            transcript.output().into_iter().map(|c| (c.stream, c.data)).collect();
        assert_eq!(output[1], (OutputStream::Stderr, "warn\n".into()));
        assert_eq!(output.len(), 3);
    }

    #[test]
    fn incomplete_tails_are_measured_from_the_lead_byte() {
        assert_eq!(incomplete_tail(b"abc"), 0);
        assert_eq!(incomplete_tail(&"é".as_bytes()[..1]), 1);
        assert_eq!(incomplete_tail("é".as_bytes()), 0);
        assert_eq!(incomplete_tail(&"😀".as_bytes()[..3]), 3);
        assert_eq!(incomplete_tail(&[0xFF]), 0); // invalid: shown as U+FFFD at once
    }

    fn ran(end: RunEnd) -> Result<CodeRunOutcome, String> {
        Ok(CodeRunOutcome::Ran {
            outcome: RunOutcome {
                end,
                stdout: Vec::new(),
                stderr: Vec::new(),
                time_ms: 12,
                memory_kb: 345,
                fuel: None,
                wall_ms: None,
            },
            artifacts: vec![Artifact { name: "out.txt".into(), data: b"hi".to_vec() }],
            artifacts_dropped: vec!["big.bin".into()],
        })
    }

    #[test]
    fn each_ending_has_its_status() {
        let status = |o| report(o, Vec::new()).status;
        assert_eq!(status(ran(RunEnd::Exited { code: 0 })), RunStatus::Ok);
        assert_eq!(status(ran(RunEnd::Exited { code: 3 })), RunStatus::RuntimeError);
        assert_eq!(status(ran(RunEnd::TimeLimit { reason: "t".into() })), RunStatus::TimeLimit);
        assert_eq!(status(ran(RunEnd::MemoryLimit { reason: "m".into() })), RunStatus::MemoryLimit);
        assert_eq!(status(ran(RunEnd::OutputLimit { reason: "o".into() })), RunStatus::OutputLimit);
        assert_eq!(status(ran(RunEnd::Crashed { reason: "c".into() })), RunStatus::RuntimeError);
        assert_eq!(status(ran(RunEnd::SystemError { reason: "s".into() })), RunStatus::SystemError);
        assert_eq!(status(Ok(CodeRunOutcome::CompileError("x".into()))), RunStatus::CompileError);
        assert_eq!(status(Err("docker".into())), RunStatus::SystemError);
        let full = report(ran(RunEnd::Exited { code: 3 }), Vec::new());
        assert_eq!((full.exit_code, full.time_ms, full.memory_kb), (Some(3), 12, 345));
        assert_eq!(full.artifacts[0].content_base64, "aGk=");
        assert_eq!(full.artifacts_dropped, ["big.bin"]);
    }
}
