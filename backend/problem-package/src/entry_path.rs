//! [`EntryPath`]: an archive entry's name, checked to be a plain relative
//! path before anything is joined onto the destination folder.
//!
//! Archive names are attacker-chosen bytes. We accept only UTF-8 names made
//! of `/`-separated parts that are each an ordinary file name: no `..`, no
//! leading `/`, no backslashes or drive letters (`C:\x`, `a\..\..\x`), no
//! NUL or control characters. Empty parts (`a//b`) and `.` parts are dropped,
//! so `./a/b` and `a/b` are the same entry.

use std::path::{Component, Path, PathBuf};

use crate::PackageError;

/// The longest file name (one path part) we accept, as on common filesystems.
const MAX_PART_BYTES: usize = 255;

/// A validated, normalized entry path: one or more ordinary file names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EntryPath {
    parts: Vec<String>,
}

impl EntryPath {
    /// Validates a raw entry name. `Ok(None)` is the archive root itself
    /// (`./`), which holds nothing to unpack.
    pub(crate) fn parse(raw: &[u8], max_depth: usize) -> Result<Option<EntryPath>, PackageError> {
        let unsafe_path = |reason| PackageError::UnsafePath {
            entry: String::from_utf8_lossy(raw).into_owned(),
            reason,
        };
        let name = std::str::from_utf8(raw).map_err(|_| unsafe_path("it is not UTF-8"))?;
        if name.contains('\0') {
            return Err(unsafe_path("it contains a NUL byte"));
        }
        if name.chars().any(char::is_control) {
            return Err(unsafe_path("it contains control characters"));
        }
        if name.contains('\\') {
            return Err(unsafe_path("it contains a backslash"));
        }
        if name.starts_with('/') {
            return Err(unsafe_path("it is an absolute path"));
        }
        let mut parts = Vec::new();
        for part in name.split('/') {
            match part {
                "" | "." => continue,
                ".." => return Err(unsafe_path("it has a `..` part")),
                _ if part.contains(':') => {
                    return Err(unsafe_path("it contains `:` (a drive or stream name)"));
                }
                _ if part.len() > MAX_PART_BYTES => {
                    return Err(unsafe_path("a part is longer than 255 bytes"));
                }
                _ if !is_single_normal_component(part) => {
                    return Err(unsafe_path("a part is not a plain file name"));
                }
                _ => parts.push(part.to_string()),
            }
        }
        if parts.len() > max_depth {
            return Err(PackageError::TooDeep {
                entry: name.to_string(),
                depth: parts.len(),
                max: max_depth,
            });
        }
        Ok((!parts.is_empty()).then_some(EntryPath { parts }))
    }

    /// The `/`-separated normalized path.
    pub(crate) fn as_string(&self) -> String {
        self.parts.join("/")
    }

    /// The folders above this entry, outermost first (`a`, `a/b` for `a/b/c`).
    pub(crate) fn ancestors(&self) -> impl Iterator<Item = String> + '_ {
        (1..self.parts.len()).map(|n| self.parts[..n].join("/"))
    }

    /// This path under `root`, built only from checked parts.
    pub(crate) fn under(&self, root: &Path) -> PathBuf {
        let mut path = root.to_path_buf();
        path.extend(&self.parts);
        path
    }

    /// Metadata that desktop archivers add and a package never needs:
    /// macOS's `__MACOSX/` resource forks and `.DS_Store` files.
    pub(crate) fn is_os_clutter(&self) -> bool {
        self.parts.first().is_some_and(|p| p == "__MACOSX")
            || self.parts.last().is_some_and(|p| p == ".DS_Store")
    }
}

/// Whether `part` is exactly one [`Component::Normal`] on this platform.
fn is_single_normal_component(part: &str) -> bool {
    let mut components = Path::new(part).components();
    matches!(
        (components.next(), components.next()),
        (Some(Component::Normal(p)), None) if p == part
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(name: &str) -> Result<Option<String>, String> {
        EntryPath::parse(name.as_bytes(), 8)
            .map(|p| p.map(|p| p.as_string()))
            .map_err(|e| e.code().to_string())
    }

    #[test]
    fn plain_names_are_normalized() {
        assert_eq!(parse("a/b.in"), Ok(Some("a/b.in".into())));
        assert_eq!(parse("./a//b/"), Ok(Some("a/b".into())));
        assert_eq!(parse("./"), Ok(None));
        assert_eq!(parse("a..b/c."), Ok(Some("a..b/c.".into())));
    }

    #[test]
    fn escaping_or_odd_names_are_refused() {
        for name in [
            "../x",
            "a/../../x",
            "a/..",
            "/etc/x",
            "//x",
            "C:\\x",
            "C:/x",
            "a\\..\\..\\x",
            "a\0b",
            "a\nb",
            "file:stream",
        ] {
            assert_eq!(parse(name), Err("unsafe_path".into()), "{name:?}");
        }
        assert_eq!(parse(&"x".repeat(256)), Err("unsafe_path".into()));
        assert_eq!(
            EntryPath::parse(b"caf\xe9", 8).map_err(|e| e.code()),
            Err("unsafe_path"),
            "not UTF-8"
        );
    }

    #[test]
    fn depth_is_capped() {
        assert!(parse("1/2/3/4/5/6/7/8").is_ok());
        assert_eq!(parse("1/2/3/4/5/6/7/8/9"), Err("too_deep".into()));
    }

    #[test]
    fn ancestors_and_clutter() {
        let p = EntryPath::parse(b"a/b/c", 8).unwrap().unwrap();
        assert_eq!(p.ancestors().collect::<Vec<_>>(), ["a", "a/b"]);
        assert_eq!(p.under(Path::new("/d")), Path::new("/d/a/b/c"));
        assert!(EntryPath::parse(b"__MACOSX/._a", 8).unwrap().unwrap().is_os_clutter());
        assert!(EntryPath::parse(b"pkg/.DS_Store", 8).unwrap().unwrap().is_os_clutter());
        assert!(!p.is_os_clutter());
    }
}
