//! Gavel's builtin plugins, embedded in the binary so `gavel judge` and a
//! runner need no plugin folder.
//!
//! The build script compiles `plugins/` for `wasm32-wasip2`; this crate embeds
//! the builtin checkers and languages. The test-only fixtures are not
//! embedded: tests find them in [`PLUGIN_DIR`].

use std::path::PathBuf;

/// Which world a builtin implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Checker,
    Language,
}

/// One embedded plugin. `id` and `extension` repeat what the plugin's own
/// `info` says (a test checks they agree) so a caller can pick a builtin
/// without compiling all of them.
#[derive(Debug, Clone, Copy)]
pub struct Builtin {
    pub id: &'static str,
    pub kind: Kind,
    /// For languages: the extension of the source file, e.g. `js`.
    pub extension: Option<&'static str>,
    pub wasm: &'static [u8],
    /// SHA-256 of `wasm`, hex (computed by the build).
    pub digest: &'static str,
}

macro_rules! builtin {
    ($id:literal, $file:literal, $kind:ident, $ext:expr) => {
        Builtin {
            id: $id,
            kind: Kind::$kind,
            extension: $ext,
            wasm: include_bytes!(concat!(env!("GAVEL_PLUGIN_DIR"), "/", $file, ".wasm")),
            digest: env!(concat!("GAVEL_DIGEST_", $file)),
        }
    };
}

/// Every builtin plugin.
pub static BUILTINS: &[Builtin] = &[
    builtin!("exact", "exact", Checker, None),
    builtin!("lines", "lines", Checker, None),
    builtin!("tokens", "tokens", Checker, None),
    builtin!("float", "float", Checker, None),
    builtin!("unordered", "unordered", Checker, None),
    builtin!("kattis-default", "kattis_default", Checker, None),
    builtin!("javascript", "javascript", Language, Some("js")),
    builtin!("python", "python", Language, Some("py")),
];

/// The builtin with this id.
pub fn builtin(id: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.id == id)
}

/// Where the build put every component of `plugins/` (fixtures included).
pub const PLUGIN_DIR: &str = env!("GAVEL_PLUGIN_DIR");

/// The path of a component built from `plugins/<crate>` (or the example
/// custom checker, `custom_checker`): e.g. `fixture_path("fixture_checker")`.
pub fn fixture_path(file_stem: &str) -> PathBuf {
    PathBuf::from(PLUGIN_DIR).join(format!("{file_stem}.wasm"))
}
