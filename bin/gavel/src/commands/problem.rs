//! `gavel problem push PATH`: upload a problem package to a backend
//! (`PUT /api/v1/problems/{id}`, docs/API.md).
//!
//! A folder is first loaded with judge-core exactly as `gavel judge` loads
//! it, so a bad package fails here, offline, with the same one-line error
//! (exit code 2). It is then zipped in memory ([`zip_dir`]): every regular
//! file, by its relative path, in sorted order. Symbolic links and special
//! files are refused rather than followed or skipped, because neither
//! `gavel judge` nor the backend reads them: what was validated here is what
//! the backend gets. An existing `.zip`, `.tar.gz` or `.tgz` archive is
//! streamed as is, with its content type; the backend validates it.
//!
//! The backend's answer decides the exit code: 200/201 → 0 (one line, or
//! its `ProblemView` with `--json`), 4xx → 2 with its `detail` (the package,
//! the id or the token is wrong), anything else → 1 (the HTTP plumbing is
//! [`crate::client`]'s).

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use judge_core::problem::{self, DirPackage};
use problem_package::ArchiveKind;
use protocol::client::ProblemView;
use reqwest::StatusCode;

use crate::BadInput;
use crate::client::{AdminTarget, read_json};

/// The most bytes of files a folder may hold to be zipped in memory: the
/// backend's default cap on an unpacked package.
const MAX_FOLDER_BYTES: u64 = 512 << 20;
/// How long the whole upload may take (the backend hashes and stores every
/// file before it answers).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Upload a problem package to a backend (created, or replaced if the id exists).
    Push(PushArgs),
}

#[derive(Debug, clap::Args)]
pub struct PushArgs {
    /// A problem folder (`problem.toml` + `tests/`, Normal-OJ's `meta.json` + `TTCC.in/.out`,
    /// a Polygon full package's `problem.xml` or a Kattis package's `problem.yaml`), or a
    /// `.zip` / `.tar.gz` / `.tgz` archive of one (sent as is).
    path: PathBuf,
    /// The problem's id [default: the id in `problem.toml` (`short-name` in `problem.xml`),
    /// else the folder's name or the archive's file stem].
    #[arg(long)]
    id: Option<String>,
    #[command(flatten)]
    target: AdminTarget,
    /// Print the backend's answer (its `ProblemView` JSON) instead of one line.
    #[arg(long)]
    json: bool,
}

pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Push(args) => push(args),
    }
}

fn push(args: PushArgs) -> anyhow::Result<ExitCode> {
    let bad = |what: String| BadInput(format!("{}: {what}", args.path.display()));
    let meta = std::fs::metadata(&args.path).map_err(|e| bad(e.to_string()))?;
    let (id, content_type, body) = if meta.is_dir() {
        let (id, zipped) = pack_folder(&args.path, args.id.as_deref())?;
        (id, content_type(ArchiveKind::Zip), reqwest::blocking::Body::from(zipped))
    } else {
        let name = args.path.file_name().unwrap_or_default().to_string_lossy();
        let Some((stem, kind)) = archive_name(&name) else {
            return Err(
                bad("not a problem folder nor a .zip, .tar.gz or .tgz archive".to_string()).into(),
            );
        };
        let id = args.id.clone().unwrap_or_else(|| stem.to_string());
        check_id(&id)?;
        let file = std::fs::File::open(&args.path).map_err(|e| bad(e.to_string()))?;
        (id, content_type(kind), reqwest::blocking::Body::from(file))
    };
    let (status, answer) = upload(&args.target, &id, content_type, body)?;
    let view: ProblemView = serde_json::from_value(answer.clone())
        .with_context(|| format!("pushing {id}: the backend answered {status} with {answer}"))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&answer)?);
    } else {
        println!("{}", summary(&view, status == StatusCode::CREATED));
    }
    Ok(ExitCode::SUCCESS)
}

/// Validates a problem folder as `gavel judge` does and zips it; returns the
/// id to push it as and the archive.
fn pack_folder(dir: &Path, id: Option<&str>) -> anyhow::Result<(String, Vec<u8>)> {
    let bad = |what: String| BadInput(format!("problem {}: {what}", dir.display()));
    let package = DirPackage::new(dir).map_err(|e| bad(e.to_string()))?;
    let fallback = id.map(str::to_string).or_else(|| folder_name(dir)).unwrap_or_default();
    let problem = problem::load(&package, &fallback).map_err(|e| bad(e.to_string()))?;
    if problem.id != fallback && id.is_some() {
        return Err(bad(format!(
            "problem.toml: id: {:?} is not the id pushed to, {fallback:?} (drop --id or change it)",
            problem.id
        ))
        .into());
    }
    check_id(&problem.id)?;
    Ok((problem.id, zip_dir(dir)?))
}

/// The last part of a folder's path, also for `.` and `..`.
fn folder_name(dir: &Path) -> Option<String> {
    let dir = dir.canonicalize().ok()?;
    Some(dir.file_name()?.to_string_lossy().into_owned())
}

/// An archive's file stem and kind, from its name (`a-plus-b.tar.gz` →
/// `a-plus-b`, tar.gz); `None` for any other name.
fn archive_name(name: &str) -> Option<(&str, ArchiveKind)> {
    let lower = name.to_ascii_lowercase();
    [(".zip", ArchiveKind::Zip), (".tar.gz", ArchiveKind::TarGz), (".tgz", ArchiveKind::TarGz)]
        .into_iter()
        .find(|(extension, _)| lower.ends_with(extension) && lower.len() > extension.len())
        .map(|(extension, kind)| (&name[..name.len() - extension.len()], kind))
}

/// The `Content-Type` the backend takes for an archive kind.
fn content_type(kind: ArchiveKind) -> &'static str {
    match kind {
        ArchiveKind::Zip => "application/zip",
        ArchiveKind::TarGz => "application/gzip",
    }
}

/// The backend's rule for problem ids, checked before anything is sent.
fn check_id(id: &str) -> Result<(), BadInput> {
    if problem_package::is_valid_problem_id(id) {
        Ok(())
    } else {
        Err(BadInput(format!(
            "{id:?} is not a problem id (1-64 of a-z 0-9 _ -, starting with a letter or digit): \
             pass --id"
        )))
    }
}

/// `pushed a-plus-b: created, 1 task, 11 files, revision 0123456789ab`.
fn summary(view: &ProblemView, created: bool) -> String {
    let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    format!(
        "pushed {}: {}, {}, {}, revision {}",
        view.id,
        if created { "created" } else { "replaced" },
        plural(view.tasks.len(), "task"),
        plural(view.files, "file"),
        view.revision.get(..12).unwrap_or(&view.revision)
    )
}

/// `PUT /api/v1/problems/{id}`; the status and JSON of a 2xx answer. A 4xx
/// is bad input (its `detail`), anything else an error.
fn upload(
    target: &AdminTarget,
    id: &str,
    content_type: &str,
    body: reqwest::blocking::Body,
) -> anyhow::Result<(StatusCode, serde_json::Value)> {
    let api = target.api()?;
    let request = api
        .http
        .put(api.url(&format!("/problems/{id}")))
        .header(reqwest::header::CONTENT_TYPE, content_type)
        .body(body)
        .timeout(REQUEST_TIMEOUT);
    let response = match api.call(request) {
        Ok(response) => response,
        Err(e) if e.downcast_ref::<BadInput>().is_none() => {
            // The backend checks the token before it reads a body, and may
            // close the connection while the archive is still being sent, so
            // the refusal never arrives: ask again without a body, and tell
            // a refused token as such.
            let probe = api.call(api.http.get(api.url(&format!("/problems/{id}"))));
            let token_refused = |e: &anyhow::Error| {
                e.downcast_ref::<BadInput>().is_some_and(|b| {
                    b.0.ends_with("[401 Unauthorized]") || b.0.ends_with("[403 Forbidden]")
                })
            };
            let cause = match probe {
                Err(refused) if token_refused(&refused) => refused,
                _ => e,
            };
            return Err(cause.context(format!("pushing {id}")));
        }
        Err(e) => return Err(e.context(format!("pushing {id}"))),
    };
    let status = response.status();
    let answer = read_json(response)
        .with_context(|| format!("pushing {id}: reading the backend's answer ({status})"))?;
    Ok((status, answer))
}

/// A problem folder as a zip archive, in memory: every regular file under
/// `dir` by its `/`-separated path relative to `dir`, in sorted order,
/// deflated, with fixed timestamps, so the same files give the same bytes.
/// Nothing is skipped; a symbolic link or a special file is bad input (it is
/// never followed: `gavel judge` and the backend read none), as is a folder
/// of more than 512 MiB.
fn zip_dir(dir: &Path) -> anyhow::Result<Vec<u8>> {
    let mut files = Vec::new();
    let mut total = 0;
    list_files(dir, "", &mut files, &mut total)
        .map_err(|why| BadInput(format!("problem {}: {why}", dir.display())))?;
    files.sort();
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default());
    for (name, path) in files {
        let bytes = std::fs::read(&path)
            .map_err(|e| BadInput(format!("problem {}: {name}: {e}", dir.display())))?;
        zip.start_file(name.as_str(), options).with_context(|| format!("zipping {name}"))?;
        zip.write_all(&bytes).with_context(|| format!("zipping {name}"))?;
    }
    Ok(zip.finish().context("zipping the problem")?.into_inner())
}

/// Adds the regular files under `dir` (whose path in the archive starts with
/// `prefix`) to `out`, counting their bytes; a link, special file, non-UTF-8
/// name or too large a total is an error naming the entry.
fn list_files(
    dir: &Path,
    prefix: &str,
    out: &mut Vec<(String, PathBuf)>,
    total: &mut u64,
) -> Result<(), String> {
    let shown = if prefix.is_empty() { "." } else { prefix.trim_end_matches('/') };
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{shown}: {e}"))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{shown}: {e}"))?;
        let Some(name) = entry.file_name().to_str().map(|n| format!("{prefix}{n}")) else {
            let lossy = entry.file_name().to_string_lossy().into_owned();
            return Err(format!("{prefix}{lossy}: the name is not UTF-8"));
        };
        // `symlink_metadata`: a link is seen as a link, never followed.
        let meta = entry.path().symlink_metadata().map_err(|e| format!("{name}: {e}"))?;
        let kind = meta.file_type();
        if kind.is_dir() {
            list_files(&entry.path(), &format!("{name}/"), out, total)?;
        } else if kind.is_file() {
            *total += meta.len();
            if *total > MAX_FOLDER_BYTES {
                return Err(format!("the files are over the limit of {MAX_FOLDER_BYTES} bytes"));
            }
            out.push((name, entry.path()));
        } else if kind.is_symlink() {
            return Err(format!(
                "{name}: a symbolic link (packages hold plain files; `gavel judge` and the \
                 backend do not follow links)"
            ));
        } else {
            return Err(format!("{name}: not a regular file"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_archive_name_gives_its_stem_and_content_type() {
        let cases = [
            ("a-plus-b.zip", Some(("a-plus-b", "application/zip"))),
            ("a-plus-b.ZIP", Some(("a-plus-b", "application/zip"))),
            ("echo.tar.gz", Some(("echo", "application/gzip"))),
            ("echo.tgz", Some(("echo", "application/gzip"))),
            ("v1.2.tgz", Some(("v1.2", "application/gzip"))),
            ("echo.tar", None),
            ("echo.gz", None),
            (".zip", None),
            ("problem.toml", None),
        ];
        for (name, expected) in cases {
            let got = archive_name(name).map(|(stem, kind)| (stem, content_type(kind)));
            assert_eq!(got, expected, "{name}");
        }
    }

    fn write(dir: &Path, path: &str, text: &str) {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    const NATIVE: &str = "id = \"sum\"\n[checker]\nplugin = \"tokens\"\n";

    #[test]
    fn a_folder_id_defaults_to_the_package_id_then_the_folder_name() {
        let root = tempfile::tempdir().unwrap();
        // Normal-OJ packages carry no id: the folder's name is it.
        let echo = root.path().join("echo-2");
        write(
            &echo,
            "meta.json",
            r#"{"tasks": [{"caseCount": 1, "taskScore": 100, "memoryLimit": 65536, "timeLimit": 1000}]}"#,
        );
        write(&echo, "0000.in", "hi\n");
        write(&echo, "0000.out", "hi\n");
        assert_eq!(pack_folder(&echo, None).unwrap().0, "echo-2");
        assert_eq!(pack_folder(&echo.join("."), None).unwrap().0, "echo-2");
        assert_eq!(pack_folder(&echo, Some("other")).unwrap().0, "other");
        // A native package's own id wins over the folder's name; --id must agree.
        let sum = root.path().join("sum-v2");
        write(&sum, "problem.toml", NATIVE);
        write(&sum, "tests/1.in", "1 2\n");
        write(&sum, "tests/1.out", "3\n");
        assert_eq!(pack_folder(&sum, None).unwrap().0, "sum");
        assert_eq!(pack_folder(&sum, Some("sum")).unwrap().0, "sum");
        let err = pack_folder(&sum, Some("sum-v2")).unwrap_err();
        assert!(err.to_string().contains("\"sum\" is not the id pushed to"), "{err}");
        // A name the backend refuses is bad input before anything is sent.
        let upper = root.path().join("Echo");
        std::fs::rename(&echo, &upper).unwrap();
        let err = pack_folder(&upper, None).unwrap_err();
        assert!(err.downcast_ref::<BadInput>().is_some(), "{err}");
        assert!(err.to_string().contains("\"Echo\" is not a problem id"), "{err}");
    }

    #[test]
    fn a_bad_folder_fails_with_the_judge_error() {
        let root = tempfile::tempdir().unwrap();
        write(root.path(), "problem.toml", NATIVE);
        write(root.path(), "tests/1.in", "1 2\n");
        let err = pack_folder(root.path(), None).unwrap_err();
        assert!(err.downcast_ref::<BadInput>().is_some(), "{err}");
        assert!(err.to_string().contains("tests/1.out"), "{err}");
    }

    fn entries(zipped: Vec<u8>) -> Vec<(String, String)> {
        let mut archive = zip::ZipArchive::new(Cursor::new(zipped)).unwrap();
        (0..archive.len())
            .map(|i| {
                let mut file = archive.by_index(i).unwrap();
                let mut bytes = Vec::new();
                std::io::copy(&mut file, &mut bytes).unwrap();
                (file.name().unwrap().to_string(), String::from_utf8(bytes).unwrap())
            })
            .collect()
    }

    #[test]
    fn zip_dir_holds_every_file_by_relative_path_in_order() {
        let root = tempfile::tempdir().unwrap();
        for (path, text) in
            [("tests/b.in", "2"), ("problem.toml", "p"), ("tests/a.in", "1"), (".gitignore", "g")]
        {
            write(root.path(), path, text);
        }
        std::fs::create_dir(root.path().join("empty")).unwrap();
        let zipped = zip_dir(root.path()).unwrap();
        assert_eq!(zipped, zip_dir(root.path()).unwrap(), "the same files, the same bytes");
        let expected =
            [(".gitignore", "g"), ("problem.toml", "p"), ("tests/a.in", "1"), ("tests/b.in", "2")];
        let expected: Vec<_> =
            expected.iter().map(|(p, t)| (p.to_string(), t.to_string())).collect();
        assert_eq!(entries(zipped), expected);
    }

    #[cfg(unix)]
    #[test]
    fn zip_dir_refuses_links_instead_of_following_them() {
        let outside = tempfile::tempdir().unwrap();
        write(outside.path(), "secret", "s");
        let root = tempfile::tempdir().unwrap();
        write(root.path(), "tests/1.in", "1");
        std::os::unix::fs::symlink(outside.path().join("secret"), root.path().join("tests/1.out"))
            .unwrap();
        let err = zip_dir(root.path()).unwrap_err();
        assert!(err.downcast_ref::<BadInput>().is_some(), "{err}");
        assert!(err.to_string().contains("tests/1.out: a symbolic link"), "{err}");
    }
}
