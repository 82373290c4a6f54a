//! The burst load (`e2e::burst`) whole: 10,000 submissions, sent as fast
//! as eight threads can, judged by eight real `gavel runner`s (about 80 s
//! here). Every one must reach its expected verdict (none stuck,
//! none refused) and the backend's memory must stay bounded: the records
//! live in Redis, so its peak resident set may not grow with the burst
//! beyond a fixed allowance. `cargo xtask burst` runs the same as a command
//! and prints the figures docs/BENCHMARKS.md records.
//!
//! Run with `cargo build -p gavel && cargo test -p e2e --test burst`.

use e2e::burst::{self, Config};

/// How much the backend's resident set may grow over the burst.
const RSS_GROWTH_LIMIT_MIB: f64 = 64.0;

#[test]
fn a_burst_of_submissions_is_judged_whole_with_bounded_backend_memory() {
    let summary = burst::run(&Config::new(10_000));
    eprintln!("{}", summary.line());
    assert!(summary.holds(), "{}\n{}", summary.line(), summary.violations.join("\n"));
    assert_eq!((summary.submitted, summary.judged, summary.stuck), (10_000, 10_000, 0));
    let [before, peak, _] = summary.backend_rss_mib;
    assert!(
        peak - before < RSS_GROWTH_LIMIT_MIB,
        "the backend grew from {before:.0} MiB to {peak:.0} MiB over the burst"
    );
}
