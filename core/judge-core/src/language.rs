//! Gavel's languages as plain data: every language id it ships, whether it
//! runs in Docker, and the one rule for guessing a source file's language
//! from its extension.
//!
//! The rule: `.js` is `javascript`; `.py` is `python` (CPython in a Wasm
//! component, which needs no Docker; the Docker CPython, `python3`, only when
//! asked for by name);
//! `.c` is `c`; `.cpp`, `.cc` and `.cxx` are `cpp` (C and C++ compiled to
//! WebAssembly, `c-wasm` and `cpp-wasm`, are only used when named). `gavel judge`, `gavel
//! run`, xtask and the test harnesses all guess with [`guess`], so a file
//! means the same language everywhere. (A plugins folder may add languages
//! for extensions this table does not know; `catalog` asks it after the
//! table.)
//!
//! Who runs each language is the host's business (`catalog` resolves an id
//! to a Wasm plugin or a Docker executor); [`Shipped::native`] only tells
//! tools which ids need Docker, and `native`'s own tests keep it true.
//!
//! Ids of languages Gavel no longer ships live on as [`ALIASES`]: a
//! submission stored or queued as `rustpython` is judged (and rejudged) as
//! `python`. [`canonical`] is the one place that maps them; whatever
//! resolves a language id goes through it, and a runner advertises the
//! aliases of the languages it offers so the queue still hands it jobs
//! queued under an old id.

/// A language Gavel ships.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shipped {
    /// The id submissions name.
    pub id: &'static str,
    /// The extensions (without the dot) guessed as this language.
    pub extensions: &'static [&'static str],
    /// Whether it needs Docker (the native languages, and `c-wasm` and
    /// `cpp-wasm`, which are compiled in the sandbox image and run in
    /// wasmtime) rather than being a builtin Wasm plugin.
    pub native: bool,
}

/// Every language Gavel ships, Wasm builtins first. No extension appears
/// twice (a test checks).
pub const SHIPPED: &[Shipped] = &[
    Shipped { id: "javascript", extensions: &["js"], native: false },
    Shipped { id: "python", extensions: &["py"], native: false },
    Shipped { id: "c", extensions: &["c"], native: true },
    Shipped { id: "cpp", extensions: &["cpp", "cc", "cxx"], native: true },
    // `.py` is the Wasm `python`'s: the Docker CPython is only ever named.
    Shipped { id: "python3", extensions: &[], native: true },
    // C and C++ compiled to WebAssembly are only ever named: `.c` and
    // `.cpp` stay the Docker compilers'.
    Shipped { id: "c-wasm", extensions: &[], native: true },
    Shipped { id: "cpp-wasm", extensions: &[], native: true },
];

/// Retired language ids and the shipped language that judges them now.
pub const ALIASES: &[(&str, &str)] = &[("rustpython", "python")];

/// The id a language is judged as: the shipped language an alias stands
/// for, any other id itself.
pub fn canonical(id: &str) -> &str {
    ALIASES.iter().find(|(alias, _)| *alias == id).map_or(id, |(_, target)| target)
}

/// The aliases that stand for `id` (e.g. `rustpython` for `python`).
pub fn aliases_of(id: &str) -> impl Iterator<Item = &'static str> + '_ {
    ALIASES.iter().filter(move |(_, target)| *target == id).map(|(alias, _)| *alias)
}

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

/// Whether `id` (or what it is an alias of) is a shipped language that
/// needs Docker.
pub fn is_native(id: &str) -> bool {
    let id = canonical(id);
    SHIPPED.iter().any(|l| l.id == id && l.native)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_extension_means_one_language() {
        let cases = [
            ("main.js", Some("javascript")),
            ("main.py", Some("python")),
            ("main.c", Some("c")),
            ("main.cpp", Some("cpp")),
            ("a.cc", Some("cpp")),
            ("b.cxx", Some("cpp")),
            ("dir.v2/prog.py", Some("python")),
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
    fn the_languages_needing_docker_are_c_cpp_python3_and_the_wasm_compiled_c_and_cpp() {
        let native: Vec<&str> = SHIPPED.iter().filter(|l| l.native).map(|l| l.id).collect();
        assert_eq!(native, ["c", "cpp", "python3", "c-wasm", "cpp-wasm"]);
        assert!(is_native("python3") && !is_native("python") && !is_native("cobol"));
        assert!(!is_native("rustpython"));
    }

    #[test]
    fn a_retired_id_is_judged_as_its_successor() {
        assert_eq!(canonical("rustpython"), "python");
        assert_eq!(canonical("python"), "python");
        assert_eq!(canonical("python3"), "python3");
        assert_eq!(aliases_of("python").collect::<Vec<_>>(), ["rustpython"]);
        assert_eq!(aliases_of("python3").count(), 0);
        for (alias, target) in ALIASES {
            assert!(SHIPPED.iter().any(|l| l.id == *target), "{alias} → {target} is not shipped");
            assert!(!SHIPPED.iter().any(|l| l.id == *alias), "{alias} is still shipped");
        }
    }
}
