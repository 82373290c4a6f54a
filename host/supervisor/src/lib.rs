//! The supervisor of Gavel's native executor: a small static program that is
//! PID 1 of each sandbox container. It reads requests on stdin (write a file
//! into the work dir, run a program under limits, snapshot the work dir and
//! collect the files a run changed), forks each run with its limits,
//! measures it with `wait4` (CPU time, peak RSS), kills whatever the run left
//! behind, and answers on stdout (a streaming run's output as it is written,
//! then the report). It only reports facts; the host (`host/native`) turns
//! them into verdicts.
//!
//! This library holds the [`wire`] format both sides speak.

pub mod wire;
