//! Every Redis key and channel name the Rust side builds, one function each.
//!
//! The key schema is documented once, at the top of `lua/lib.lua` (which
//! field each hash holds, what each set and zset maps, what expires when);
//! these functions mirror its entries (`P..'runner:'..rid` is
//! [`runner`]`(prefix, rid)`), so the Rust side names a key the way the
//! scripts do. A test below checks that every name built here is one that
//! `lib.lua` documents.
//!
//! `prefix` is the configured key prefix with its hash tag (`{gavel}:`),
//! [`QueueConfig::prefix`](crate::QueueConfig::prefix).

/// `P..'job:'..jid`: a job's hash.
pub(crate) fn job(prefix: &str, job_id: &str) -> String {
    format!("{prefix}job:{job_id}")
}

/// `P..'pending'`: the queued jobs, by FIFO position.
pub(crate) fn pending(prefix: &str) -> String {
    format!("{prefix}pending")
}

/// `P..'refused'`: creates refused by a quota, by owner and reason.
pub(crate) fn refused(prefix: &str) -> String {
    format!("{prefix}refused")
}

/// `P..'leases'`: the leased jobs, by lease deadline.
pub(crate) fn leases(prefix: &str) -> String {
    format!("{prefix}leases")
}

/// `P..'sub:'..sid`: a submission's (or code run's) hash.
pub(crate) fn submission(prefix: &str, submission_id: &str) -> String {
    format!("{prefix}sub:{submission_id}")
}

/// `P..'sub:'..sid..':events'`: the event log of a submission's current job.
pub(crate) fn submission_events(prefix: &str, submission_id: &str) -> String {
    format!("{}:events", submission(prefix, submission_id))
}

/// `P..'submissions'`: submission ids by creation time.
pub(crate) fn submissions(prefix: &str) -> String {
    format!("{prefix}submissions")
}

/// `P..'runs'`: code run ids by creation time.
pub(crate) fn runs(prefix: &str) -> String {
    format!("{prefix}runs")
}

/// `P..'idem:'..owner..':'..key`: what an owner's idempotency key created.
pub(crate) fn idempotency(prefix: &str, owner: &str, key: &str) -> String {
    format!("{prefix}idem:{owner}:{key}")
}

/// `P..'problem:'..id`: a problem's record.
pub(crate) fn problem(prefix: &str, problem_id: &str) -> String {
    format!("{prefix}problem:{problem_id}")
}

/// `P..'problem-revision:'..id`: a problem's current revision.
pub(crate) fn problem_revision(prefix: &str, problem_id: &str) -> String {
    format!("{prefix}problem-revision:{problem_id}")
}

/// `P..'revision:'..rev`: the blob digests a problem revision reads.
pub(crate) fn revision(prefix: &str, revision: &str) -> String {
    format!("{prefix}revision:{revision}")
}

/// `P..'compiled-checker:'..rev`: the compiled checker program of a revision.
pub(crate) fn compiled_checker(prefix: &str, revision: &str) -> String {
    format!("{prefix}compiled-checker:{revision}")
}

/// `P..'problems'`: the ids of the stored problems.
pub(crate) fn problems(prefix: &str) -> String {
    format!("{prefix}problems")
}

/// `P..'runner:'..rid`: a registered runner's hash.
pub(crate) fn runner(prefix: &str, runner_id: &str) -> String {
    format!("{prefix}runner:{runner_id}")
}

/// `P..'runner:'..rid..':jobs'`: the jobs a runner holds leases on.
pub(crate) fn runner_jobs(prefix: &str, runner_id: &str) -> String {
    format!("{}:jobs", runner(prefix, runner_id))
}

/// `P..'runner-token:'..sha`: the runner a token (its SHA-256) is for.
pub(crate) fn runner_token(prefix: &str, token_hash: &str) -> String {
    format!("{prefix}runner-token:{token_hash}")
}

/// `P..'runners'`: runner ids by when they were last seen.
pub(crate) fn runners(prefix: &str) -> String {
    format!("{prefix}runners")
}

/// `P..'languages'`: languages by when a runner last advertised them.
pub(crate) fn languages(prefix: &str) -> String {
    format!("{prefix}languages")
}

/// `P..'stats'`: the counters behind `/metrics`.
pub(crate) fn stats(prefix: &str) -> String {
    format!("{prefix}stats")
}

/// `P..'secret:'..name`: a secret every backend instance shares.
pub(crate) fn secret(prefix: &str, name: &str) -> String {
    format!("{prefix}secret:{name}")
}

/// `P..'client:'..cid`: an API client's hash.
pub(crate) fn client(prefix: &str, client_id: &str) -> String {
    format!("{prefix}client:{client_id}")
}

/// `P..'client-token:'..sha`: the client a token (its SHA-256) is for.
pub(crate) fn client_token(prefix: &str, token_hash: &str) -> String {
    format!("{prefix}client-token:{token_hash}")
}

/// `P..'webhook:'..owner`: an owner's webhook.
pub(crate) fn webhook(prefix: &str, owner: &str) -> String {
    format!("{prefix}webhook:{owner}")
}

/// `P..'webhook:'..owner..':deliveries'`: its newest delivery ids.
pub(crate) fn webhook_deliveries(prefix: &str, owner: &str) -> String {
    format!("{}:deliveries", webhook(prefix, owner))
}

/// `P..'delivery:'..did`: one delivery's hash.
pub(crate) fn delivery(prefix: &str, delivery_id: &str) -> String {
    format!("{prefix}delivery:{delivery_id}")
}

/// `P..'schema'`: the key schema's version.
pub(crate) fn schema(prefix: &str) -> String {
    format!("{prefix}schema")
}

/// `P..'ack-barrier'`: the counter every acknowledged write bumps before
/// its `WAIT` (`Queue::acknowledged`).
pub(crate) fn ack_barrier(prefix: &str) -> String {
    format!("{prefix}ack-barrier")
}

/// `P..'gc-lock'`: who runs the blob sweep.
pub(crate) fn gc_lock(prefix: &str) -> String {
    format!("{prefix}gc-lock")
}

/// The channel `P..'wake'`: a job became claimable, or a runner's
/// capabilities changed.
pub(crate) fn wake_channel(prefix: &str) -> String {
    format!("{prefix}wake")
}

/// The channel `P..'events:'..sid`: submission `sid`'s log grew. With
/// `"*"`, the pattern of them all; with `""`, what precedes the id.
pub(crate) fn events_channel(prefix: &str, submission_id: &str) -> String {
    format!("{prefix}events:{submission_id}")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    /// The names `lua/lib.lua`'s header documents, as templates: its
    /// `P..'runner:'..rid..':jobs'` is `P` `runner:{rid}:jobs`.
    fn documented() -> BTreeSet<String> {
        let lib = include_str!("../lua/lib.lua");
        let header = lib.lines().take_while(|line| line.starts_with("--"));
        let mut names = BTreeSet::new();
        for line in header {
            for word in line.split_whitespace().filter(|w| w.starts_with("P..")) {
                let mut name = String::from("P");
                for part in word.trim_end_matches([',', ')', ';']).split("..").skip(1) {
                    match part.strip_prefix('\'').and_then(|p| p.strip_suffix('\'')) {
                        Some(literal) => name.push_str(literal),
                        None => name.push_str(&format!("{{{part}}}")),
                    }
                }
                names.insert(name);
            }
        }
        names
    }

    #[test]
    fn every_name_built_here_is_documented_in_lib_lua() {
        let documented = documented();
        // Each function called with the variable names lib.lua uses.
        let built = [
            super::job("P", "{jid}"),
            super::pending("P"),
            super::leases("P"),
            super::refused("P"),
            super::submission("P", "{sid}"),
            super::submission_events("P", "{sid}"),
            super::submissions("P"),
            super::runs("P"),
            super::idempotency("P", "{owner}", "{key}"),
            super::problem("P", "{id}"),
            super::problems("P"),
            super::problem_revision("P", "{id}"),
            super::revision("P", "{rev}"),
            super::compiled_checker("P", "{rev}"),
            super::runner("P", "{rid}"),
            super::runner_jobs("P", "{rid}"),
            super::runner_token("P", "{sha}"),
            super::runners("P"),
            super::languages("P"),
            super::stats("P"),
            super::secret("P", "{name}"),
            super::client("P", "{cid}"),
            super::client_token("P", "{sha}"),
            super::webhook("P", "{owner}"),
            super::webhook_deliveries("P", "{owner}"),
            super::delivery("P", "{did}"),
            super::schema("P"),
            super::gc_lock("P"),
            super::ack_barrier("P"),
            super::wake_channel("P"),
            super::events_channel("P", "{sid}"),
        ];
        for name in built {
            assert!(documented.contains(&name), "{name} is not in lib.lua's key schema");
        }
    }

    #[test]
    fn the_schema_reader_reads_lib_lua() {
        let documented = documented();
        assert!(documented.contains("Prunner:{rid}:jobs"), "{documented:?}");
        assert!(documented.contains("Pidem:{owner}:{key}"), "{documented:?}");
        assert!(!documented.contains("Prunner:{rid}:nope"));
    }
}
