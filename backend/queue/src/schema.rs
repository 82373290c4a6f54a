//! The version of the key schema and the scripts, kept in Redis
//! (`P..'schema'`), so that during a rolling upgrade a backend never works
//! on keys laid out by a newer version it does not understand.
//!
//! [`Queue::connect`](crate::Queue::connect) checks it: absent (a new Redis,
//! or one written before versions were kept, which is version 1's layout),
//! it is set to [`SCHEMA_VERSION`]; older, it is raised (no migration is
//! needed yet: each version so far only adds keys); newer, the connection
//! is refused with [`QueueError::Schema`].

use redis::aio::ConnectionManager;

use crate::{QueueError, Result, keys};

/// The key schema this build reads and writes. Raise it when a change
/// would make an older backend misread or corrupt the keys; document each
/// version here.
///
/// - 1: the schema `lua/lib.lua` documents.
pub const SCHEMA_VERSION: u64 = 1;

/// What to do with a stored schema version.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Check {
    /// Write [`SCHEMA_VERSION`] (absent or older).
    Set,
    /// Already this version.
    Same,
    /// Newer or unreadable: refuse.
    Refuse(String),
}

/// The decision for the stored value `stored` (pure).
pub(crate) fn check(stored: Option<&str>) -> Check {
    match stored.map(str::parse::<u64>) {
        None => Check::Set,
        Some(Ok(v)) if v == SCHEMA_VERSION => Check::Same,
        Some(Ok(v)) if v < SCHEMA_VERSION => Check::Set,
        _ => Check::Refuse(stored.unwrap_or_default().chars().take(40).collect()),
    }
}

/// Checks (and sets) the schema version under `prefix` (see the module).
pub(crate) async fn ensure(conn: &mut ConnectionManager, prefix: &str) -> Result<()> {
    let key = keys::schema(prefix);
    // A new Redis gets this version, atomically with any racing backend.
    let _: Option<String> =
        redis::cmd("SET").arg(&key).arg(SCHEMA_VERSION).arg("NX").query_async(conn).await?;
    let stored: Option<String> = redis::cmd("GET").arg(&key).query_async(conn).await?;
    match check(stored.as_deref()) {
        Check::Same => Ok(()),
        Check::Set => {
            let _: () = redis::cmd("SET").arg(&key).arg(SCHEMA_VERSION).query_async(conn).await?;
            Ok(())
        }
        Check::Refuse(found) => Err(QueueError::Schema { key, found, supported: SCHEMA_VERSION }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_newer_or_unreadable_version_is_refused_and_an_older_raised() {
        assert_eq!(check(None), Check::Set);
        assert_eq!(check(Some("0")), Check::Set);
        assert_eq!(check(Some(&SCHEMA_VERSION.to_string())), Check::Same);
        assert_eq!(check(Some(&(SCHEMA_VERSION + 1).to_string())), Check::Refuse("2".into()));
        assert_eq!(check(Some("two")), Check::Refuse("two".into()));
    }
}
