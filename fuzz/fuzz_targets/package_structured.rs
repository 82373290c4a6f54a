//! Problem packages built from structure. Random bytes reach deep into zip
//! and tar slowly, so `arbitrary` turns the input into a list of entries —
//! names from a small alphabet of tricky parts (`..`, `/`, absolute, very
//! long and deep, duplicated, NUL, control and non-UTF-8 bytes), kinds (file,
//! folder, symlink, hard link, special), data (small, or large and highly
//! compressible), and per-format details and lies (zip: compression method,
//! declared sizes, CRC, encryption flag, Unix mode; tar: header format, entry
//! type, declared size, checksum, GNU long names and pax paths; gzip:
//! truncation and trailing bytes). The target writes them as a real zip or
//! tar.gz and imports it exactly as `package_zip` and `package_targz` do,
//! with the same oracle, under limits also drawn from the input. Sometimes a
//! valid `problem.toml` or `meta.json` with test files comes first, so inputs
//! get past the archive layer into the package validation.
//!
//! The seeds (`fuzz/seeds/package_structured/`) are corpus inputs named by
//! the outcome they reach (`ok-1`, `symlink`, `zip_bomb`…; replay with
//! `GAVEL_FUZZ_TRACE=1` to see it). They depend on the layout of [`Input`]:
//! pick new ones after changing it.
#![no_main]

use std::io::Write;

use arbitrary::Arbitrary;
use problem_package::{ArchiveKind, UnpackLimits};

libfuzzer_sys::fuzz_target!(|input: Input| {
    let limits = input.limits.get();
    let entries = input.entries();
    match &input.archive {
        Archive::Zip(zip) => {
            if let Some(bytes) = build_zip(&entries, zip) {
                gavel_fuzz::import_archive_within(&bytes, ArchiveKind::Zip, &limits);
            }
        }
        Archive::TarGz(gz) => {
            let bytes = build_targz(&entries, gz);
            gavel_fuzz::import_archive_within(&bytes, ArchiveKind::TarGz, &limits);
        }
    }
});

/// At most this many entries are written (the limits may allow fewer).
const MAX_ENTRIES: usize = 48;

/// At most this many bytes of file data are written in all, so one input
/// costs milliseconds (well past every size limit drawn).
const MAX_DATA: usize = 8 << 20;

#[derive(Arbitrary, Debug)]
struct Input {
    package: Option<Package>,
    archive: Archive,
    limits: Limits,
    extra: Vec<Entry>,
}

/// A plausible problem package, written before the arbitrary entries.
#[derive(Arbitrary, Debug)]
struct Package {
    /// Under one top-level folder (`a-plus-b/problem.toml`).
    in_folder: bool,
    manifest: Manifest,
    cases: u8,
    /// Writes folder entries for `tests/` (and the top folder) first.
    folder_entries: bool,
}

#[derive(Arbitrary, Debug)]
enum Manifest {
    Native { id: Id, time_ms: u16, memory_mb: u16, checker: Checker, tasks: Option<Vec<u8>> },
    NormalOj { tasks: Vec<(u8, u8)>, memory_kb: u32, time_ms: u16 },
}

#[derive(Arbitrary, Debug)]
enum Id {
    Same,
    Missing,
    Other,
    Invalid,
}

#[derive(Arbitrary, Debug)]
enum Checker {
    Default,
    Builtin,
    Unknown,
    /// `checker.wasm` in the package, a component header or not.
    Component {
        valid_header: bool,
        shipped: bool,
    },
    Escaping,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
struct Limits {
    entry: u8,
    total: u8,
    entries: u8,
    depth: u8,
    ratio: bool,
}

impl Limits {
    fn get(self) -> UnpackLimits {
        const SIZES: [u64; 5] = [1 << 10, 64 << 10, 1 << 20, 2 << 20, 3 << 20];
        let base = gavel_fuzz::LIMITS;
        UnpackLimits {
            max_entry_bytes: SIZES[usize::from(self.entry) % SIZES.len()],
            max_total_bytes: SIZES[usize::from(self.total) % SIZES.len()] + (1 << 20),
            max_entries: if self.entries < 128 {
                base.max_entries
            } else {
                1 + usize::from(self.entries % 32)
            },
            max_ratio: if self.ratio { 2 } else { base.max_ratio },
            max_depth: if self.depth < 128 {
                base.max_depth
            } else {
                1 + usize::from(self.depth % 8)
            },
        }
    }
}

#[derive(Arbitrary, Debug)]
struct Entry {
    name: Name,
    kind: Kind,
    zip: ZipEntry,
    tar: TarEntry,
}

/// An entry's name, as the parts from which it is built.
#[derive(Arbitrary, Debug)]
enum Name {
    Parts {
        absolute: bool,
        parts: Vec<Part>,
        trailing_slash: bool,
    },
    /// The name of an earlier entry (a duplicate).
    Again(u8),
    /// An earlier entry's name with a prefix (`./x`, `x/`, `x//`), the same
    /// path after normalization.
    Alias(u8, Alias),
    Raw(Vec<u8>),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Alias {
    DotSlash,
    TrailingSlash,
    DoubleSlash,
    Child,
}

#[derive(Arbitrary, Debug)]
enum Part {
    Word(Word),
    Dot,
    DotDot,
    Empty,
    /// A part of 250 to 260 bytes (the part limit is 255).
    Long(u8),
    /// `n` more levels (`d/d/d…`).
    Deep(u8),
    Nul,
    Control,
    Backslash,
    Drive,
    Colon,
    NonUtf8,
    Unicode,
    MacOsx,
    DsStore,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Word {
    Tests,
    ProblemToml,
    MetaJson,
    In(u8),
    Out(u8),
    NojCase(u8),
    Checker,
    Folder,
    A,
    B,
}

#[derive(Arbitrary, Debug)]
enum Kind {
    File(Data),
    Dir,
    Symlink(Target),
    HardLink(Target),
    /// Another Unix file type (zip: the mode's `S_IFMT` nibble; tar: the
    /// entry type byte).
    Special(u8),
}

#[derive(Arbitrary, Debug)]
enum Target {
    Outside,
    Absolute,
    Sibling,
    Raw(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
enum Data {
    Bytes(Vec<u8>),
    /// Copies of one byte, which compress very well: from 1 byte to 4 MiB,
    /// a power of two (`2^(class % 23)`) plus `extra` below it, so that most
    /// inputs stay small and fast.
    Repeat {
        byte: u8,
        class: u8,
        extra: u32,
    },
    Component,
    TestLine(u8),
}

impl Data {
    fn bytes(&self) -> Vec<u8> {
        match self {
            Data::Bytes(b) => b.clone(),
            Data::Repeat { byte, class, extra } => {
                let power = 1usize << (class % 23);
                vec![*byte; power | (*extra as usize & (power - 1))]
            }
            Data::Component => b"\0asm\x0d\x00\x01\x00".to_vec(),
            Data::TestLine(n) => format!("{n} {n}\n").into_bytes(),
        }
    }
}

#[derive(Arbitrary, Debug)]
struct ZipEntry {
    deflate: bool,
    level: Option<u8>,
    large_file: bool,
    lie: Option<ZipLie>,
}

/// A central directory field overwritten after the zip is written.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum ZipLie {
    CompressedSize(u32),
    Size(u32),
    SmallSize,
    HugeSize,
    Method(u16),
    Crc(u32),
    Encrypted,
    Flags(u16),
    Mode(u16),
    LocalHeaderOffset(u32),
}

#[derive(Arbitrary, Debug)]
struct TarEntry {
    format: TarFormat,
    long_name: LongName,
    /// A size declared in the header other than the data's.
    size_lie: Option<u16>,
    bad_checksum: bool,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum TarFormat {
    Gnu,
    Ustar,
    Old,
}

/// How a name that does not fit the header's 100 bytes is written (also
/// used sometimes for short names).
#[derive(Arbitrary, Debug, Clone, Copy)]
enum LongName {
    Truncate,
    Gnu,
    Pax,
}

#[derive(Arbitrary, Debug)]
enum Archive {
    Zip(ZipArchive),
    TarGz(TarGz),
}

#[derive(Arbitrary, Debug)]
struct ZipArchive {
    comment: Option<Vec<u8>>,
    /// Bytes cut from the end of the archive.
    truncate: Option<u8>,
    /// Bytes put before the archive (a self-extractor's stub).
    prefix: Option<Vec<u8>>,
}

#[derive(Arbitrary, Debug)]
struct TarGz {
    level: u8,
    /// Writes tar's end-of-archive blocks.
    finish: bool,
    truncate: Option<u16>,
    trailing: Option<Vec<u8>>,
    /// A second gzip member with more entries (`cat a.gz b.gz`).
    second_member: bool,
}

/// One entry to write: its raw name, what it is, and format details.
struct Planned<'a> {
    name: Vec<u8>,
    kind: PlannedKind,
    zip: Option<&'a ZipEntry>,
    tar: Option<&'a TarEntry>,
}

enum PlannedKind {
    File(Vec<u8>),
    Dir,
    Symlink(Vec<u8>),
    HardLink(Vec<u8>),
    Special(u8),
}

impl Input {
    /// The package's entries, then the arbitrary ones, with names resolved.
    fn entries(&self) -> Vec<Planned<'_>> {
        let mut out = Vec::new();
        if let Some(package) = &self.package {
            package.entries(&mut out);
        }
        let mut budget = MAX_DATA;
        for entry in &self.extra {
            if out.len() >= MAX_ENTRIES {
                break;
            }
            let name = entry.name.resolve(&out);
            let kind = match &entry.kind {
                Kind::File(data) => {
                    let mut bytes = data.bytes();
                    bytes.truncate(budget);
                    budget -= bytes.len();
                    PlannedKind::File(bytes)
                }
                Kind::Dir => PlannedKind::Dir,
                Kind::Symlink(t) => PlannedKind::Symlink(t.bytes(&out)),
                Kind::HardLink(t) => PlannedKind::HardLink(t.bytes(&out)),
                Kind::Special(t) => PlannedKind::Special(*t),
            };
            out.push(Planned { name, kind, zip: Some(&entry.zip), tar: Some(&entry.tar) });
        }
        out
    }
}

impl Package {
    fn entries(&self, out: &mut Vec<Planned<'_>>) {
        let top = if self.in_folder { "a-plus-b/" } else { "" };
        let mut push = |name: String, kind: PlannedKind| {
            out.push(Planned { name: name.into_bytes(), kind, zip: None, tar: None });
        };
        if self.folder_entries && self.in_folder {
            push(top.to_string(), PlannedKind::Dir);
        }
        let cases = 1 + usize::from(self.cases % 4);
        match &self.manifest {
            Manifest::Native { id, time_ms, memory_mb, checker, tasks } => {
                let mut toml = match id {
                    Id::Same => "id = \"a-plus-b\"\n".to_string(),
                    Id::Missing => String::new(),
                    Id::Other => "id = \"other\"\n".to_string(),
                    Id::Invalid => "id = \"../A B\"\n".to_string(),
                };
                toml += &format!(
                    "title = \"A + B\"\n\n[limits]\ntime_ms = {time_ms}\nmemory_mb = {memory_mb}\n\n"
                );
                toml += match checker {
                    Checker::Default => "",
                    Checker::Builtin => "[checker]\nplugin = \"tokens\"\n",
                    Checker::Unknown => "[checker]\nplugin = \"no-such-checker\"\n",
                    Checker::Component { .. } => "[checker]\npath = \"checker.wasm\"\n",
                    Checker::Escaping => "[checker]\npath = \"../checker.wasm\"\n",
                };
                if let Some(tasks) = tasks {
                    for (i, &task) in tasks.iter().take(4).enumerate() {
                        let case = usize::from(task % 5) + 1;
                        toml += &format!(
                            "\n[[tasks]]\nscore = {}\ncases = [\"{case:02}\"]\n",
                            100 / (i + 1)
                        );
                    }
                }
                push(format!("{top}problem.toml"), PlannedKind::File(toml.into_bytes()));
                if let Checker::Component { valid_header, shipped: true } = checker {
                    let header: &[u8] = if *valid_header {
                        b"\0asm\x0d\x00\x01\x00"
                    } else {
                        b"\0asm\x01\x00\x00\x00"
                    };
                    push(format!("{top}checker.wasm"), PlannedKind::File(header.to_vec()));
                }
                if self.folder_entries {
                    push(format!("{top}tests/"), PlannedKind::Dir);
                }
                for case in 1..=cases {
                    let data = format!("{case} {case}\n").into_bytes();
                    push(format!("{top}tests/{case:02}.in"), PlannedKind::File(data));
                    let data = format!("{}\n", 2 * case).into_bytes();
                    push(format!("{top}tests/{case:02}.out"), PlannedKind::File(data));
                }
            }
            Manifest::NormalOj { tasks, memory_kb, time_ms } => {
                let tasks: Vec<_> = tasks.iter().take(4).collect();
                let json: Vec<String> = tasks
                    .iter()
                    .map(|(count, score)| {
                        format!(
                            "{{\"caseCount\": {}, \"taskScore\": {score}, \"memoryLimit\": {memory_kb}, \"timeLimit\": {time_ms}}}",
                            count % 4
                        )
                    })
                    .collect();
                let meta = format!("{{\"tasks\": [{}]}}", json.join(", "));
                push(format!("{top}meta.json"), PlannedKind::File(meta.into_bytes()));
                for (task, (count, _)) in tasks.iter().enumerate() {
                    for case in 0..usize::from(count % 4) {
                        let data = format!("{case}\n").into_bytes();
                        push(
                            format!("{top}{task:02}{case:02}.in"),
                            PlannedKind::File(data.clone()),
                        );
                        push(format!("{top}{task:02}{case:02}.out"), PlannedKind::File(data));
                    }
                }
            }
        }
    }
}

impl Name {
    fn resolve(&self, earlier: &[Planned<'_>]) -> Vec<u8> {
        let earlier_name = |i: u8| -> Vec<u8> {
            if earlier.is_empty() {
                b"tests/01.in".to_vec()
            } else {
                earlier[usize::from(i) % earlier.len()].name.clone()
            }
        };
        match self {
            Name::Parts { absolute, parts, trailing_slash } => {
                let mut name = Vec::new();
                if *absolute {
                    name.push(b'/');
                }
                for (i, part) in parts.iter().take(16).enumerate() {
                    if i > 0 {
                        name.push(b'/');
                    }
                    part.write(&mut name);
                }
                if *trailing_slash {
                    name.push(b'/');
                }
                name
            }
            Name::Again(i) => earlier_name(*i),
            Name::Alias(i, alias) => {
                let name = earlier_name(*i);
                match alias {
                    Alias::DotSlash => [b"./".as_slice(), &name].concat(),
                    Alias::TrailingSlash => [name.as_slice(), b"/"].concat(),
                    Alias::DoubleSlash => {
                        let mut out = Vec::new();
                        for (n, part) in name.split(|&b| b == b'/').enumerate() {
                            if n > 0 {
                                out.extend_from_slice(b"//");
                            }
                            out.extend_from_slice(part);
                        }
                        out
                    }
                    Alias::Child => [name.as_slice(), b"/child"].concat(),
                }
            }
            Name::Raw(raw) => raw.clone(),
        }
    }
}

impl Part {
    fn write(&self, out: &mut Vec<u8>) {
        match self {
            Part::Word(word) => out.extend_from_slice(word.text().as_bytes()),
            Part::Dot => out.push(b'.'),
            Part::DotDot => out.extend_from_slice(b".."),
            Part::Empty => {}
            Part::Long(n) => out.extend(std::iter::repeat_n(b'x', 250 + usize::from(n % 11))),
            Part::Deep(n) => {
                for i in 0..=usize::from(n % 12) {
                    if i > 0 {
                        out.push(b'/');
                    }
                    out.push(b'd');
                }
            }
            Part::Nul => out.extend_from_slice(b"a\0b"),
            Part::Control => out.extend_from_slice(b"a\nb\x1b"),
            Part::Backslash => out.extend_from_slice(b"a\\..\\..\\b"),
            Part::Drive => out.extend_from_slice(b"C:"),
            Part::Colon => out.extend_from_slice(b"file:stream"),
            Part::NonUtf8 => out.extend_from_slice(b"caf\xe9"),
            Part::Unicode => out.extend_from_slice("t\u{e9}st\u{202e}".as_bytes()),
            Part::MacOsx => out.extend_from_slice(b"__MACOSX"),
            Part::DsStore => out.extend_from_slice(b".DS_Store"),
        }
    }
}

impl Word {
    fn text(self) -> String {
        match self {
            Word::Tests => "tests".into(),
            Word::ProblemToml => "problem.toml".into(),
            Word::MetaJson => "meta.json".into(),
            Word::In(n) => format!("{:02}.in", n % 6),
            Word::Out(n) => format!("{:02}.out", n % 6),
            Word::NojCase(n) => format!("00{:02}.in", n % 4),
            Word::Checker => "checker.wasm".into(),
            Word::Folder => "a-plus-b".into(),
            Word::A => "a".into(),
            Word::B => "b".into(),
        }
    }
}

impl Target {
    fn bytes(&self, earlier: &[Planned<'_>]) -> Vec<u8> {
        match self {
            Target::Outside => b"../../../../etc/passwd".to_vec(),
            Target::Absolute => b"/etc/passwd".to_vec(),
            Target::Sibling => {
                earlier.last().map_or_else(|| b"problem.toml".to_vec(), |p| p.name.clone())
            }
            Target::Raw(raw) => raw.clone(),
        }
    }
}

// ---- zip ----

/// Writes the entries as a zip, then applies the lies to its central
/// directory. `None` when the writer refuses the whole archive.
fn build_zip(entries: &[Planned<'_>], archive: &ZipArchive) -> Option<Vec<u8>> {
    use std::io::Cursor;
    use zip::write::SimpleFileOptions;
    use zip::{CompressionMethod, System};

    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    if let Some(comment) = &archive.comment {
        writer.set_raw_comment(comment.clone().into_boxed_slice()).ok()?;
    }
    // The index in the central directory of each entry written, with its
    // lie and the name to patch in when the writer refused the real one.
    let mut written: Vec<(Option<ZipLie>, Option<Vec<u8>>)> = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        let details = entry.zip;
        let method = if details.is_some_and(|d| !d.deflate) {
            CompressionMethod::Stored
        } else {
            CompressionMethod::Deflated
        };
        let mut options = SimpleFileOptions::default()
            .compression_method(method)
            .compression_level(details.and_then(|d| d.level).map(|l| i64::from(l % 10)))
            .large_file(details.is_some_and(|d| d.large_file))
            .system(System::Unix);
        let lie = details.and_then(|d| d.lie);
        // Write under the real name; when the writer refuses it (a
        // duplicate, say), under a unique one of the same length, patched
        // afterwards.
        let mut attempt = |name: &[u8], writer: &mut zip::ZipWriter<Cursor<Vec<u8>>>| -> bool {
            let ok = match &entry.kind {
                PlannedKind::File(data) => writer
                    .start_file_with_options(options.name(name))
                    .and_then(|()| writer.write_all(data).map_err(Into::into))
                    .is_ok(),
                PlannedKind::Dir => match std::str::from_utf8(name) {
                    Ok(text) => writer.add_directory(text, options).is_ok(),
                    Err(_) => false,
                },
                PlannedKind::Symlink(target) => match std::str::from_utf8(name) {
                    Ok(text) => {
                        writer.add_symlink(text, String::from_utf8_lossy(target), options).is_ok()
                    }
                    Err(_) => false,
                },
                PlannedKind::HardLink(_) | PlannedKind::Special(_) => {
                    let ifmt = match &entry.kind {
                        PlannedKind::Special(t) => u32::from(t % 16) << 12,
                        _ => 0o010_000, // zip has no hard links: a fifo
                    };
                    options = options.external_attributes((ifmt | 0o644) << 16);
                    writer
                        .start_file_with_options(options.name(name))
                        .and_then(|()| writer.write_all(b"x").map_err(Into::into))
                        .is_ok()
                }
            };
            if !ok {
                let _ = writer.abort_file();
            }
            ok
        };
        if attempt(&entry.name, &mut writer) {
            written.push((lie, None));
            continue;
        }
        let placeholder = placeholder(index, &entry.name);
        if placeholder.len() == entry.name.len() && attempt(&placeholder, &mut writer) {
            written.push((lie, Some(entry.name.clone())));
        }
    }
    let mut bytes = writer.finish().ok()?.into_inner();
    patch_central_directory(&mut bytes, &written);
    if let Some(cut) = archive.truncate {
        bytes.truncate(bytes.len().saturating_sub(usize::from(cut)));
    }
    if let Some(prefix) = &archive.prefix {
        bytes.splice(0..0, prefix.iter().copied());
    }
    Some(bytes)
}

/// A name of `name`'s length unique to entry `index` (when long enough;
/// directory names keep their trailing `/`).
fn placeholder(index: usize, name: &[u8]) -> Vec<u8> {
    let mut out = format!("~{index}~").into_bytes();
    let keep_slash = name.ends_with(b"/");
    let len = name.len() - usize::from(keep_slash);
    if out.len() > len {
        return Vec::new();
    }
    out.resize(len, b'_');
    if keep_slash {
        out.push(b'/');
    }
    out
}

fn u16_at(b: &[u8], at: usize) -> Option<usize> {
    Some(usize::from(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?)))
}

fn u32_at(b: &[u8], at: usize) -> Option<usize> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?) as usize)
}

fn put(b: &mut [u8], at: usize, value: &[u8]) {
    if let Some(dest) = b.get_mut(at..at + value.len()) {
        dest.copy_from_slice(value);
    }
}

/// Overwrites central directory fields (and names, in the local headers
/// too) of a zip just written without a zip64 end record.
fn patch_central_directory(bytes: &mut [u8], written: &[(Option<ZipLie>, Option<Vec<u8>>)]) {
    if written.iter().all(|(lie, name)| lie.is_none() && name.is_none()) {
        return;
    }
    // The end of central directory record: the last 22 bytes plus comment.
    let Some(end) =
        (0..bytes.len().saturating_sub(21)).rev().find(|&i| bytes[i..].starts_with(b"PK\x05\x06"))
    else {
        return;
    };
    let Some(mut at) = u32_at(bytes, end + 16) else { return };
    for (lie, name) in written {
        if !bytes.get(at..).is_some_and(|b| b.starts_with(b"PK\x01\x02")) {
            return;
        }
        let (Some(name_len), Some(extra_len), Some(comment_len), Some(local)) = (
            u16_at(bytes, at + 28),
            u16_at(bytes, at + 30),
            u16_at(bytes, at + 32),
            u32_at(bytes, at + 42),
        ) else {
            return;
        };
        if let Some(name) = name {
            put(bytes, at + 46, name);
            put(bytes, local + 30, name);
        }
        match lie {
            None => {}
            Some(ZipLie::CompressedSize(n)) => put(bytes, at + 20, &n.to_le_bytes()),
            Some(ZipLie::Size(n)) => put(bytes, at + 24, &n.to_le_bytes()),
            Some(ZipLie::SmallSize) => put(bytes, at + 24, &1u32.to_le_bytes()),
            Some(ZipLie::HugeSize) => {
                put(bytes, at + 24, &u32::MAX.to_le_bytes());
                put(bytes, local + 22, &u32::MAX.to_le_bytes());
            }
            Some(ZipLie::Method(m)) => {
                put(bytes, at + 10, &(m % 100).to_le_bytes());
                put(bytes, local + 8, &(m % 100).to_le_bytes());
            }
            Some(ZipLie::Crc(c)) => put(bytes, at + 16, &c.to_le_bytes()),
            Some(ZipLie::Encrypted) => {
                let flags = u16_at(bytes, at + 8).unwrap_or(0) as u16 | 1;
                put(bytes, at + 8, &flags.to_le_bytes());
                put(bytes, local + 6, &flags.to_le_bytes());
            }
            Some(ZipLie::Flags(f)) => put(bytes, at + 8, &f.to_le_bytes()),
            Some(ZipLie::Mode(m)) => put(bytes, at + 40, &m.to_le_bytes()),
            Some(ZipLie::LocalHeaderOffset(o)) => put(bytes, at + 42, &o.to_le_bytes()),
        }
        at += 46 + name_len + extra_len + comment_len;
    }
}

// ---- tar.gz ----

fn build_targz(entries: &[Planned<'_>], archive: &TarGz) -> Vec<u8> {
    use flate2::Compression;
    use flate2::write::GzEncoder;

    let level = Compression::new(u32::from(archive.level % 10));
    let (first, second) = if archive.second_member {
        entries.split_at(entries.len() / 2)
    } else {
        (entries, &[][..])
    };
    let mut out = Vec::new();
    for (n, part) in [first, second].into_iter().enumerate() {
        if n == 1 && !archive.second_member {
            break;
        }
        let mut tar = tar::Builder::new(GzEncoder::new(Vec::new(), level));
        for entry in part {
            // Writing to memory: an error is a header the builder refused.
            let _ = append_tar_entry(&mut tar, entry);
        }
        let mut gz = if archive.finish || n == 0 && archive.second_member {
            tar.into_inner().expect("finishing a tar in memory")
        } else {
            // Without tar's end-of-archive blocks.
            std::mem::replace(tar.get_mut(), GzEncoder::new(Vec::new(), level))
        };
        gz.flush().expect("flushing gzip in memory");
        out.extend(gz.finish().expect("finishing gzip in memory"));
    }
    if let Some(cut) = archive.truncate {
        out.truncate(out.len().saturating_sub(usize::from(cut % 2048)));
    }
    if let Some(trailing) = &archive.trailing {
        out.extend_from_slice(trailing);
    }
    out
}

fn append_tar_entry<W: Write>(
    tar: &mut tar::Builder<W>,
    entry: &Planned<'_>,
) -> std::io::Result<()> {
    use tar::{EntryType, Header};

    let details = entry.tar;
    let mut header = match details.map(|d| d.format) {
        None | Some(TarFormat::Gnu) => Header::new_gnu(),
        Some(TarFormat::Ustar) => Header::new_ustar(),
        Some(TarFormat::Old) => Header::new_old(),
    };
    let (kind, data, link): (EntryType, &[u8], &[u8]) = match &entry.kind {
        PlannedKind::File(data) => (EntryType::Regular, data, b""),
        PlannedKind::Dir => (EntryType::Directory, b"", b""),
        PlannedKind::Symlink(target) => (EntryType::Symlink, b"", target),
        PlannedKind::HardLink(target) => (EntryType::Link, b"", target),
        PlannedKind::Special(t) => (EntryType::new(*t), b"x", b""),
    };
    header.set_entry_type(kind);
    header.set_mode(if kind.is_dir() { 0o755 } else { 0o644 });
    header.set_mtime(0);
    let long = details.map_or(LongName::Gnu, |d| d.long_name);
    let name = &entry.name;
    if name.len() > 100 || !matches!(long, LongName::Truncate) {
        match long {
            LongName::Gnu if name.len() > 100 => {
                let mut gnu = Header::new_gnu();
                gnu.set_entry_type(EntryType::GNULongName);
                gnu.as_old_mut().name[..13].copy_from_slice(b"././@LongLink");
                gnu.set_size(name.len() as u64 + 1);
                gnu.set_mode(0o644);
                gnu.set_cksum();
                tar.append(&gnu, [name.as_slice(), b"\0"].concat().as_slice())?;
            }
            LongName::Pax => {
                let record = pax_record("path", name);
                let mut pax = Header::new_ustar();
                pax.set_entry_type(EntryType::XHeader);
                pax.as_old_mut().name[..10].copy_from_slice(b"PaxHeaders");
                pax.set_size(record.len() as u64);
                pax.set_mode(0o644);
                pax.set_cksum();
                tar.append(&pax, record.as_slice())?;
            }
            _ => {}
        }
    }
    let short = &name[..name.len().min(100)];
    header.as_old_mut().name[..short.len()].copy_from_slice(short);
    let link = &link[..link.len().min(100)];
    header.as_old_mut().linkname[..link.len()].copy_from_slice(link);
    let size = match details.and_then(|d| d.size_lie) {
        Some(lie) => u64::from(lie),
        None => data.len() as u64,
    };
    header.set_size(size);
    if details.is_some_and(|d| d.bad_checksum) {
        header.as_old_mut().cksum = *b"0000000\0";
    } else {
        header.set_cksum();
    }
    tar.append(&header, data)
}

/// A pax extended header record: `LEN key=value\n`, LEN counting itself.
fn pax_record(key: &str, value: &[u8]) -> Vec<u8> {
    let rest = key.len() + value.len() + 3; // ' ', '=', '\n'
    let mut len = rest + 1;
    while len.to_string().len() + rest != len {
        len = len.to_string().len() + rest;
    }
    let mut out = format!("{len} {key}=").into_bytes();
    out.extend_from_slice(value);
    out.push(b'\n');
    out
}
