//! Checker plugins (WIT world `checker`) as [`judge_core::Checker`]s.

use bytes::Bytes;
use judge_core::CheckVerdict;
use wasmtime::Engine;

use crate::call::{Call, Failure};
use crate::limits::CallLimits;
use crate::{PluginError, PluginInfo, Refusal, on_big_stack};

mod bindings {
    wasmtime::component::bindgen!({ path: "../../wit", world: "checker" });
}

use bindings::gavel::plugin::types::Verdict;

/// A loaded checker, ready to run in a fresh store per call.
#[derive(Clone)]
pub struct CheckerPlugin {
    engine: Engine,
    pre: bindings::CheckerPre<crate::call::CallState>,
    info: PluginInfo,
    limits: CallLimits,
}

impl std::fmt::Debug for CheckerPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckerPlugin").field("info", &self.info).finish()
    }
}

impl CheckerPlugin {
    /// Wraps an instantiated-once component that exports the checker world;
    /// calls its `info` to learn its id.
    pub(crate) fn new(
        engine: &Engine,
        pre: wasmtime::component::InstancePre<crate::call::CallState>,
        digest: String,
        limits: CallLimits,
    ) -> Result<Self, PluginError> {
        let pre = bindings::CheckerPre::new(pre).map_err(|e| PluginError::wrong_world(&e))?;
        let mut call = Call::new(engine, crate::INFO_LIMITS, Bytes::new(), &[]);
        // Instantiating runs the component's start functions: a failure
        // there is told apart from one in `info`.
        let result = match pre.instantiate(&mut call.store) {
            Ok(c) => c.call_info(&mut call.store).map_err(|e| (PluginError::Info as Refusal, e)),
            Err(e) => Err((PluginError::Start as Refusal, e)),
        };
        let info = match result {
            Ok(info) => info,
            Err((refusal, e)) => return Err(refusal(call.finish(Some(e)).failure_reason())),
        };
        let info =
            PluginInfo::new(info.id, info.name, info.version, digest, crate::PluginKind::Checker)?;
        Ok(CheckerPlugin { engine: engine.clone(), pre, info, limits })
    }

    /// What the checker says about itself.
    pub fn info(&self) -> &PluginInfo {
        &self.info
    }

    /// The same checker with other budgets per call.
    pub fn with_limits(mut self, limits: CallLimits) -> Self {
        self.limits = limits;
        self
    }

    fn check_here(
        &self,
        input: &[u8],
        expected: &[u8],
        actual: &[u8],
        args: &[String],
    ) -> CheckVerdict {
        let mut call = Call::new(&self.engine, self.limits, Bytes::new(), &[]);
        let result = self
            .pre
            .instantiate(&mut call.store)
            .and_then(|c| c.call_check(&mut call.store, input, expected, actual, args));
        match result {
            Ok(verdict) => {
                let report = call.finish(None);
                match report.failure {
                    // Hit the memory cap but answered anyway: still the checker's fault.
                    Some(f) => fail(&self.info.id, &f),
                    None => from_wit(verdict),
                }
            }
            Err(e) => {
                let report = call.finish(Some(e));
                fail(&self.info.id, report.failure.as_ref().expect("an error is a failure"))
            }
        }
    }
}

fn fail(id: &str, failure: &Failure) -> CheckVerdict {
    CheckVerdict::Fail { message: format!("checker `{id}` failed: {}", failure.reason()) }
}

fn from_wit(v: Verdict) -> CheckVerdict {
    match v {
        Verdict::Accepted => CheckVerdict::Accepted,
        Verdict::WrongAnswer(message) => CheckVerdict::WrongAnswer { message },
        Verdict::PresentationError(message) => CheckVerdict::PresentationError { message },
        Verdict::Partial(p) if p.score.is_finite() => {
            CheckVerdict::Partial { score: p.score.clamp(0.0, 1.0), message: p.message }
        }
        Verdict::Partial(p) => CheckVerdict::Fail {
            message: format!("checker returned a partial score of {}", p.score),
        },
        Verdict::Fail(message) => CheckVerdict::Fail { message },
    }
}

impl judge_core::Checker for CheckerPlugin {
    fn check(&self, input: &[u8], expected: &[u8], actual: &[u8], args: &[String]) -> CheckVerdict {
        on_big_stack(|| self.check_here(input, expected, actual, args))
    }
}
