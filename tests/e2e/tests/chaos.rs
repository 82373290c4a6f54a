//! The chaos harness (`e2e::chaos`) on a short schedule: Redis (AOF), two
//! backend instances and three real `gavel runner`s judge a stream of
//! example solutions while every kind of fault is injected at least once —
//! kill -9 a runner, kill -9 a backend, restart Redis from its AOF, SIGSTOP
//! a runner past its lease, drop a backend while its runners hold results.
//! Every accepted submission must get exactly one final verdict, the
//! expected one; no completion counted twice; no job left leased; no
//! container left over.
//!
//! About 90 s. Wasm languages only, unless `GAVEL_CHAOS_NATIVE=1` (with
//! Docker and the native image): the long runs (`cargo xtask chaos
//! --minutes N`) include the native languages where they can.
//!
//! Run with `cargo build -p gavel && cargo test -p e2e --test chaos`.

use std::time::Duration;

use e2e::chaos::{self, Config};

#[test]
fn nothing_accepted_is_lost_or_judged_twice_under_faults() {
    let mut config = Config::new(Duration::from_secs(60));
    config.settle = Duration::from_secs(120);
    // Redis as a primary, replicas and Sentinels, its primary killed as
    // the Redis fault (`cargo xtask chaos --redis sentinel` for long runs).
    config.sentinel = std::env::var("GAVEL_CHAOS_SENTINEL").is_ok_and(|v| v == "1");
    if std::env::var("GAVEL_CHAOS_NATIVE").is_ok_and(|v| v == "1") {
        if let Err(why) = chaos::native_available() {
            panic!("GAVEL_CHAOS_NATIVE=1, but the native languages cannot run: {why}");
        }
        config.native = true;
    }
    let summary = chaos::run(&config);
    eprintln!("{}", summary.line());
    assert!(summary.holds(), "{}\n{}", summary.line(), summary.violations.join("\n"));
    assert_eq!(summary.fault_kinds.len(), 5, "every kind of fault: {:?}", summary.fault_kinds);
    assert!(summary.accepted > 0 && summary.judged == summary.accepted, "{}", summary.line());
}
