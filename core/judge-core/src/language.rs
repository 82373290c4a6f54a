//! Gavel's languages as plain data: every language id it ships, whether it
//! runs in Docker, and the one rule for guessing a source file's language
//! from its extension.
//!
//! The rule: `.js` is `javascript`; `.py` is `rustpython` (the Wasm Python,
//! which needs no Docker; CPython, `python3`, only when asked for by name);
//! `.c` is `c`; `.cpp`, `.cc` and `.cxx` are `cpp`. `gavel judge`, `gavel
//! run`, xtask and the test harnesses all guess with [`guess`], so a file
//! means the same language everywhere. (A plugins folder may add languages
//! for extensions this table does not know; `catalog` asks it after the
//! table.)
//!
//! Who runs each language is the host's business (`catalog` resolves an id
//! to a Wasm plugin or a Docker executor); [`Shipped::native`] only tells
//! tools which ids need Docker, and `native`'s own tests keep it true.

/// A language Gavel ships.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shipped {
    /// The id submissions name.
    pub id: &'static str,
    /// The extensions (without the dot) guessed as this language.
    pub extensions: &'static [&'static str],
    /// Whether it runs in Docker (the native languages) rather than as a
    /// builtin Wasm plugin.
    pub native: bool,
}

/// Every language Gavel ships, Wasm builtins first. No extension appears
/// twice (a test checks).
pub const SHIPPED: &[Shipped] = &[
    Shipped { id: "javascript", extensions: &["js"], native: false },
    Shipped { id: "rustpython", extensions: &["py"], native: false },
    Shipped { id: "c", extensions: &["c"], native: true },
    Shipped { id: "cpp", extensions: &["cpp", "cc", "cxx"], native: true },
    // `.py` is rustpython's: CPython is only ever named.
    Shipped { id: "python3", extensions: &[], native: true },
];

/// The language of a file by the extension of its name (`main.py`,
/// `dir/a.cc`), if the table knows the extension.
pub fn guess(file_name: &str) -> Option<&'static str> {
    let name = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    let (stem, ext) = name.rsplit_once('.')?;
    if stem.is_empty() {
        return None;
    }
    for_extension(ext)
}

/// The language of an extension without its dot (`py`, `cc`).
pub fn for_extension(ext: &str) -> Option<&'static str> {
    SHIPPED.iter().find(|l| l.extensions.contains(&ext)).map(|l| l.id)
}

/// Whether `id` is a shipped language that runs in Docker.
pub fn is_native(id: &str) -> bool {
    SHIPPED.iter().any(|l| l.id == id && l.native)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_extension_means_one_language() {
        let cases = [
            ("main.js", Some("javascript")),
            ("main.py", Some("rustpython")),
            ("main.c", Some("c")),
            ("main.cpp", Some("cpp")),
            ("a.cc", Some("cpp")),
            ("b.cxx", Some("cpp")),
            ("dir.v2/prog.py", Some("rustpython")),
            ("Makefile", None),
            (".py", None),
            ("main.PY", None),
            ("main.h", None),
            ("main.", None),
        ];
        for (file, expected) in cases {
            assert_eq!(guess(file), expected, "{file}");
        }
    }

    #[test]
    fn no_extension_is_claimed_twice_and_python3_is_only_named() {
        let all: Vec<&str> = SHIPPED.iter().flat_map(|l| l.extensions.iter().copied()).collect();
        for ext in &all {
            assert_eq!(all.iter().filter(|e| *e == ext).count(), 1, "{ext}");
        }
        assert!(!all.iter().any(|ext| for_extension(ext) == Some("python3")));
    }

    #[test]
    fn the_native_languages_are_c_cpp_and_python3() {
        let native: Vec<&str> = SHIPPED.iter().filter(|l| l.native).map(|l| l.id).collect();
        assert_eq!(native, ["c", "cpp", "python3"]);
        assert!(is_native("python3") && !is_native("rustpython") && !is_native("cobol"));
    }
}
