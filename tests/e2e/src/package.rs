//! Problem packages built in memory: the example problems as zip or tar.gz,
//! and hostile archives (path escapes, links, bombs) written raw.

use std::io::{Cursor, Write};
use std::path::Path;

use flate2::Compression;
use flate2::write::GzEncoder;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

/// The content type of a zip package.
pub const ZIP: &str = "application/zip";
/// The content type of a tar.gz package.
pub const TAR_GZ: &str = "application/gzip";

/// One archive entry, by its raw name.
#[derive(Debug, Clone)]
pub enum Entry {
    File(String, Vec<u8>),
    Symlink(String, String),
    /// A hard link to another entry (tar only).
    Hardlink(String, String),
    /// A named pipe (tar only).
    Fifo(String),
}

/// A file entry.
pub fn file(name: &str, data: impl AsRef<[u8]>) -> Entry {
    Entry::File(name.to_string(), data.as_ref().to_vec())
}

/// The files of `examples/problems/NAME` as entries, by relative path,
/// sorted; dotfiles and built `checker.wasm` files are left out.
pub fn example(name: &str) -> Vec<Entry> {
    folder(&format!("examples/problems/{name}"))
}

/// The files of a folder of the repository (`tests/e2e/packages/NAME`), as
/// [`example`] reads them.
pub fn folder(relative: &str) -> Vec<Entry> {
    let root = crate::root().join(relative);
    let mut files = Vec::new();
    walk(&root, "", &mut files);
    assert!(!files.is_empty(), "no problem in {relative}");
    files.sort();
    files.into_iter().map(|(path, data)| Entry::File(path, data)).collect()
}

fn walk(dir: &Path, prefix: &str, out: &mut Vec<(String, Vec<u8>)>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let entry = entry.expect("a folder entry");
        let name = entry.file_name().into_string().expect("a UTF-8 file name");
        if name.starts_with('.') || name == "checker.wasm" {
            continue;
        }
        let path = format!("{prefix}{name}");
        if entry.file_type().expect("a file type").is_dir() {
            walk(&entry.path(), &format!("{path}/"), out);
        } else {
            out.push((path, std::fs::read(entry.path()).expect("an example file")));
        }
    }
}

/// A zip of `entries` (deflated files; names written as given).
pub fn zip(entries: &[Entry]) -> Vec<u8> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    for entry in entries {
        match entry {
            Entry::File(name, data) => {
                zip.start_file(name.as_str(), options).expect("a zip entry");
                zip.write_all(data).expect("zip data");
            }
            Entry::Symlink(name, target) => {
                zip.add_symlink(name.as_str(), target.as_str(), options).expect("a zip symlink");
            }
            Entry::Hardlink(..) | Entry::Fifo(_) => panic!("a zip cannot hold {entry:?}"),
        }
    }
    zip.finish().expect("a finished zip").into_inner()
}

/// A gzip'd tar of `entries` (names written raw into GNU headers, so
/// hostile names survive).
pub fn tar_gz(entries: &[Entry]) -> Vec<u8> {
    let mut tar = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::default()));
    for entry in entries {
        let (name, kind, data, link): (&str, _, &[u8], _) = match entry {
            Entry::File(name, data) => (name, tar::EntryType::Regular, data, None),
            Entry::Symlink(name, target) => {
                (name, tar::EntryType::Symlink, &[], Some(target.as_str()))
            }
            Entry::Hardlink(name, target) => {
                (name, tar::EntryType::Link, &[], Some(target.as_str()))
            }
            Entry::Fifo(name) => (name, tar::EntryType::Fifo, &[], None),
        };
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(kind);
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        if let Some(link) = link {
            header.set_link_name(link).expect("a link name");
        }
        let gnu = header.as_gnu_mut().expect("a GNU header");
        assert!(name.len() < gnu.name.len(), "name too long: {name}");
        gnu.name = [0; 100];
        gnu.name[..name.len()].copy_from_slice(name.as_bytes());
        header.set_cksum();
        tar.append(&header, data).expect("a tar entry");
    }
    tar.into_inner().expect("a finished tar").finish().expect("a finished gzip stream")
}

/// A zip bomb: `problem.toml` of a valid problem, and a test input that is
/// `mib` MiB of zeros, which deflates to a tiny fraction of that.
pub fn zip_bomb(id: &str, mib: usize) -> Vec<u8> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    zip.start_file("problem.toml", options).expect("a zip entry");
    zip.write_all(minimal_problem_toml(id, &["01"]).as_bytes()).expect("zip data");
    zip.start_file("tests/01.in", options).expect("a zip entry");
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..mib {
        zip.write_all(&zeros).expect("zip data");
    }
    zip.start_file("tests/01.out", options).expect("a zip entry");
    zip.write_all(b"0\n").expect("zip data");
    zip.finish().expect("a finished zip").into_inner()
}

/// A native `problem.toml` for problem `id` with one task of `cases`.
pub fn minimal_problem_toml(id: &str, cases: &[&str]) -> String {
    let cases: Vec<String> = cases.iter().map(|c| format!("{c:?}")).collect();
    format!(
        "id = {id:?}\ntitle = \"E2E\"\n[limits]\ntime_ms = 1000\nmemory_mb = 64\n\
         [checker]\nplugin = \"tokens\"\n[[tasks]]\nscore = 100\ncases = [{}]\n",
        cases.join(", ")
    )
}

/// `len` bytes that do not compress (a xorshift stream).
pub fn incompressible(len: usize) -> Vec<u8> {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}
