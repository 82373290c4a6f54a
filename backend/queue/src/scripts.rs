//! The Lua scripts, loaded in one place. Each is `lua/lib.lua` (shared
//! helpers and the key schema) followed by the script's own file; see the
//! header of each file for its KEYS and ARGV.

use std::sync::LazyLock;

use redis::Script;

macro_rules! script {
    ($name:literal) => {
        LazyLock::new(|| {
            Script::new(concat!(
                include_str!("../lua/lib.lua"),
                "\n",
                include_str!(concat!("../lua/", $name, ".lua"))
            ))
        })
    };
}

pub(crate) static REGISTER: LazyLock<Script> = script!("register");
pub(crate) static HEARTBEAT: LazyLock<Script> = script!("heartbeat");
pub(crate) static CLAIM: LazyLock<Script> = script!("claim");
pub(crate) static EVENTS: LazyLock<Script> = script!("events");
pub(crate) static COMPLETE: LazyLock<Script> = script!("complete");
pub(crate) static COMPLETE_NEXT: LazyLock<Script> = script!("complete_next");
pub(crate) static DEREGISTER: LazyLock<Script> = script!("deregister");
pub(crate) static RECLAIM: LazyLock<Script> = script!("reclaim");
pub(crate) static SUBMIT: LazyLock<Script> = script!("submit");
pub(crate) static REJUDGE: LazyLock<Script> = script!("rejudge");
pub(crate) static CANCEL: LazyLock<Script> = script!("cancel");
pub(crate) static BLOB_ACCESS: LazyLock<Script> = script!("blob_access");
pub(crate) static PUT_PROBLEM: LazyLock<Script> = script!("put_problem");
pub(crate) static ABORT: LazyLock<Script> = script!("abort");
pub(crate) static WEBHOOK_TAKE: LazyLock<Script> = script!("webhook_take");
pub(crate) static WEBHOOK_DONE: LazyLock<Script> = script!("webhook_done");

/// Every script, for loading them all at start-up (a syntax error shows
/// there, not on first use).
pub(crate) fn all() -> [&'static Script; 16] {
    [
        &REGISTER,
        &HEARTBEAT,
        &CLAIM,
        &EVENTS,
        &COMPLETE,
        &COMPLETE_NEXT,
        &DEREGISTER,
        &RECLAIM,
        &SUBMIT,
        &REJUDGE,
        &CANCEL,
        &BLOB_ACCESS,
        &PUT_PROBLEM,
        &ABORT,
        &WEBHOOK_TAKE,
        &WEBHOOK_DONE,
    ]
}
