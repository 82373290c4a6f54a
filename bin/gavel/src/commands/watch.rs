//! `gavel watch ID [--rejudge]`: follow a submission already on a backend
//! to its verdict and print it as `gavel submit` does (see
//! [`super::follow`]); one that has ended is printed at once. `--rejudge`
//! first asks for it to be judged again (`POST
//! /api/v1/submissions/{id}/rejudge`) and follows the new judging.
//!
//! Exit codes: as `gavel submit`'s; an unknown submission (or someone
//! else's) is bad input, 2.

use std::process::ExitCode;

use anyhow::Context;
use protocol::client::SubmissionView;

use super::follow::{self, Show};
use crate::client::ClientTarget;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The submission's id (`sb_…`).
    id: String,
    /// Judge it again first, then follow the new judging.
    #[arg(long)]
    rejudge: bool,
    #[command(flatten)]
    target: ClientTarget,
    #[command(flatten)]
    show: Show,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let api = args.target.api()?;
    let view: SubmissionView = if args.rejudge {
        let path = format!("/submissions/{}/rejudge", args.id);
        api.send(api.http.post(api.url(&path))).with_context(|| format!("rejudging {}", args.id))?
    } else {
        api.get(&format!("/submissions/{}", args.id))
            .with_context(|| format!("reading submission {}", args.id))?
    };
    follow::follow(&api, view, args.show)
}
