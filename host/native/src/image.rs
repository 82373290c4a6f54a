//! The sandbox image, built here from Debian packages (no registry is
//! needed): a `debootstrap --variant=minbase` root filesystem with gcc, g++
//! and python3 from the machine's configured Debian mirror, `docker import`ed
//! as `gavel-native-base:<recipe hash>`, then the supervisor added on top as
//! `gavel-native:<version>-<hash>`. Both steps are skipped when their image
//! exists; the tag changes whenever the recipe or the supervisor does.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use bollard::Docker;
use bollard::models::{ContainerConfig, ContainerCreateBody};
use bollard::query_parameters::{
    CommitContainerOptions, CreateImageOptions, UploadToContainerOptions,
};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

/// The supervisor binary (static, musl), built by `build.rs`.
pub const SUPERVISOR: &[u8] = include_bytes!(env!("GAVEL_SUPERVISOR"));

/// The Debian packages of the image (with their dependencies): the native
/// languages' compilers and Python, and clang 19 with the WASI C and C++
/// libraries, which compile C and C++ to WebAssembly (`language::WASM_COMPILERS`).
pub const PACKAGES: &[&str] = &[
    "gcc",
    "g++",
    "python3",
    "libc6-dev",
    "clang-19",
    "lld-19",
    "llvm-19",
    "wasi-libc",
    "libc++-19-dev-wasm32",
    "libc++abi-19-dev-wasm32",
    "libclang-rt-19-dev-wasm32",
];

/// Gavel's own headers for the WebAssembly toolchain, added with the
/// supervisor under [`crate::language::WASM_INCLUDE_DIR`]: a
/// testlib-compatible `testlib.h` (for checkers that do not ship one) and
/// `bits/stdc++.h` (which libc++ lacks).
pub const HEADERS: &[(&str, &[u8])] = &[
    ("testlib.h", include_bytes!("../image/include/testlib.h")),
    ("bits/stdc++.h", include_bytes!("../image/include/bits/stdc++.h")),
];
/// Bumped when the way the base is made changes.
const RECIPE: &str = "debootstrap minbase; pruned docs, man pages, locales, apt lists; v1";
/// Bumped when the supervisor layer's settings change. No `WorkingDir`: a
/// mount point that exists in the image gives its mode to the tmpfs over it.
const LAYER: &str = "supervisor at /usr/local/bin/gavel-supervisor, headers under the Wasm include dir, user 65534; v3";
/// What is removed from the root filesystem before import.
const PRUNE: &[&str] = &[
    "var/cache/apt/archives",
    "var/lib/apt/lists",
    "usr/share/doc",
    "usr/share/man",
    "usr/share/info",
    "usr/share/locale",
];

fn short_hash(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    hex::encode(&hasher.finalize()[..6])
}

/// The base image: the Debian root filesystem alone.
pub fn base_tag() -> String {
    format!("gavel-native-base:{}", short_hash(&[RECIPE.as_bytes(), PACKAGES.join(" ").as_bytes()]))
}

/// The image sandboxes run: base + this build's supervisor.
pub fn image_tag() -> String {
    let mut parts = vec![base_tag().into_bytes(), LAYER.as_bytes().to_vec(), SUPERVISOR.to_vec()];
    for (name, data) in HEADERS {
        parts.push(name.as_bytes().to_vec());
        parts.push(data.to_vec());
    }
    let parts: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
    let hash = short_hash(&parts);
    format!("gavel-native:{}-{hash}", env!("CARGO_PKG_VERSION"))
}

/// Where `debootstrap` fetches from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebianSource {
    pub mirror: String,
    pub suite: String,
}

impl DebianSource {
    /// The machine's own: `GAVEL_DEBIAN_MIRROR` / `GAVEL_DEBIAN_SUITE`, else
    /// apt's sources and `/etc/os-release`.
    pub fn of_this_machine() -> Result<DebianSource, String> {
        let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
        let mirror = std::env::var("GAVEL_DEBIAN_MIRROR").ok().or_else(|| {
            mirror_in(
                &read("/etc/apt/sources.list.d/debian.sources"),
                &read("/etc/apt/sources.list"),
            )
        });
        let suite = std::env::var("GAVEL_DEBIAN_SUITE").ok().or_else(|| {
            read("/etc/os-release")
                .lines()
                .find_map(|l| l.strip_prefix("VERSION_CODENAME="))
                .map(|s| s.trim_matches('"').to_string())
                .filter(|s| !s.is_empty())
        });
        match (mirror, suite) {
            (Some(mirror), Some(suite)) => Ok(DebianSource { mirror, suite }),
            _ => Err("no Debian mirror or release found in apt's sources and /etc/os-release: \
                      set GAVEL_DEBIAN_MIRROR and GAVEL_DEBIAN_SUITE"
                .into()),
        }
    }
}

/// The main Debian archive named in deb822 sources or a one-line
/// `sources.list` (not the security archive).
fn mirror_in(deb822: &str, one_line: &str) -> Option<String> {
    let deb822 = deb822
        .lines()
        .filter_map(|l| l.strip_prefix("URIs:"))
        .flat_map(str::split_whitespace)
        .map(str::to_string);
    let one_line = one_line
        .lines()
        .filter(|l| l.starts_with("deb "))
        .filter_map(|l| l.split_whitespace().find(|w| w.contains("://")))
        .map(str::to_string);
    deb822.chain(one_line).find(|uri| uri.trim_end_matches('/').ends_with("/debian"))
}

/// Whether an image exists in the engine.
pub async fn exists(docker: &Docker, tag: &str) -> bool {
    docker.inspect_image(tag).await.is_ok()
}

/// The base image under a stable name, for Dockerfiles that build on it
/// (`examples/deploy/Dockerfile`); [`build`] keeps it pointing at the base.
pub const BASE_LATEST: &str = "gavel-native-base:latest";

/// Points [`BASE_LATEST`] at `base`.
async fn tag_latest(docker: &Docker, base: &str) -> Result<(), String> {
    let (repo, version) = BASE_LATEST.split_once(':').expect("the name has a tag");
    let options = bollard::query_parameters::TagImageOptions {
        repo: Some(repo.into()),
        tag: Some(version.into()),
    };
    docker
        .tag_image(base, Some(options))
        .await
        .map_err(|e| format!("tagging {base} as {BASE_LATEST}: {e}"))
}

/// Builds what is missing of the image; `progress` hears each step.
pub async fn build(docker: &Docker, progress: &mut dyn FnMut(&str)) -> Result<String, String> {
    let tag = image_tag();
    let base = base_tag();
    if exists(docker, &tag).await {
        progress(&format!("{tag} exists"));
        if exists(docker, &base).await {
            tag_latest(docker, &base).await?;
        }
        return Ok(tag);
    }
    if exists(docker, &base).await {
        progress(&format!("{base} exists"));
    } else {
        let source = DebianSource::of_this_machine()?;
        let dir = std::env::temp_dir().join(format!("gavel-rootfs-{}", std::process::id()));
        let built = async {
            progress(&format!(
                "debootstrap {} from {} with {} (a few minutes)",
                source.suite,
                source.mirror,
                PACKAGES.join(", ")
            ));
            debootstrap(&source, &dir).await?;
            progress(&format!("importing the root filesystem as {base}"));
            import(docker, &dir, &base).await
        }
        .await;
        let _ = std::fs::remove_dir_all(&dir);
        built?;
    }
    tag_latest(docker, &base).await?;
    progress(&format!("adding the supervisor: {tag}"));
    add_supervisor(docker, &base, &tag).await?;
    Ok(tag)
}

async fn debootstrap(source: &DebianSource, dir: &Path) -> Result<(), String> {
    let _ = std::fs::remove_dir_all(dir);
    let output = tokio::process::Command::new("debootstrap")
        .arg("--variant=minbase")
        .arg(format!("--include={}", PACKAGES.join(",")))
        .args([&source.suite, &dir.display().to_string(), &source.mirror])
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|e| {
            format!("running debootstrap: {e} (install it with `apt-get install debootstrap`)")
        })?;
    if !output.status.success() {
        let log = String::from_utf8_lossy(&output.stdout);
        let tail: Vec<&str> = log.lines().rev().take(5).collect();
        return Err(format!(
            "debootstrap failed ({}): {} {}",
            output.status,
            tail.into_iter().rev().collect::<Vec<_>>().join(" / "),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    for path in PRUNE {
        let path: PathBuf = dir.join(path);
        let _ = std::fs::remove_dir_all(&path);
        let _ = std::fs::create_dir_all(&path);
    }
    Ok(())
}

/// `tar -C dir -c . | docker import - tag`, streamed.
async fn import(docker: &Docker, dir: &Path, tag: &str) -> Result<(), String> {
    let mut tar = tokio::process::Command::new("tar")
        .arg("-C")
        .arg(dir)
        .args(["--numeric-owner", "-c", "."])
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("running tar: {e}"))?;
    let stdout = tar.stdout.take().expect("piped");
    let body = tokio_util::io::ReaderStream::new(stdout).filter_map(|chunk| async { chunk.ok() });
    let (repo, version) = tag.split_once(':').expect("tags have a version");
    let options = CreateImageOptions {
        from_src: Some("-".into()),
        repo: Some(repo.into()),
        tag: Some(version.into()),
        ..Default::default()
    };
    let mut stream = docker.create_image(Some(options), Some(bollard::body_stream(body)), None);
    while let Some(item) = stream.next().await {
        item.map_err(|e| format!("importing {tag}: {e}"))?;
    }
    let status = tar.wait().await.map_err(|e| format!("waiting for tar: {e}"))?;
    if !status.success() {
        return Err(format!("tar of the root filesystem failed ({status})"));
    }
    Ok(())
}

/// Commits `base` + `/usr/local/bin/gavel-supervisor` as `tag`.
async fn add_supervisor(docker: &Docker, base: &str, tag: &str) -> Result<(), String> {
    let body = ContainerCreateBody {
        image: Some(base.into()),
        cmd: Some(vec!["/bin/true".into()]),
        ..Default::default()
    };
    let id = docker
        .create_container(None, body)
        .await
        .map_err(|e| format!("creating a container from {base}: {e}"))?
        .id;
    let result = async {
        let mut archive = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_size(SUPERVISOR.len() as u64);
        header.set_mode(0o755);
        header.set_cksum();
        archive
            .append_data(&mut header, "usr/local/bin/gavel-supervisor", SUPERVISOR)
            .map_err(|e| e.to_string())?;
        let include = crate::language::WASM_INCLUDE_DIR.trim_start_matches('/');
        for (name, data) in HEADERS {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            archive
                .append_data(&mut header, format!("{include}/{name}"), *data)
                .map_err(|e| e.to_string())?;
        }
        let archive = archive.into_inner().map_err(|e| e.to_string())?;
        let options = UploadToContainerOptions { path: "/".into(), ..Default::default() };
        docker
            .upload_to_container(&id, Some(options), bollard::body_full(archive.into()))
            .await
            .map_err(|e| format!("copying the supervisor into {id}: {e}"))?;
        let (repo, version) = tag.split_once(':').expect("tags have a version");
        let options = CommitContainerOptions {
            container: Some(id.clone()),
            repo: Some(repo.into()),
            tag: Some(version.into()),
            comment: Some("Gavel's native sandbox".into()),
            ..Default::default()
        };
        let config = ContainerConfig {
            cmd: Some(vec!["/usr/local/bin/gavel-supervisor".into()]),
            user: Some("65534:65534".into()),
            ..Default::default()
        };
        docker
            .commit_container(options, config)
            .await
            .map_err(|e| format!("committing {tag}: {e}"))?;
        Ok(())
    }
    .await;
    crate::sandbox::remove(docker, &id).await;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_main_archive_is_found_in_either_sources_format() {
        let deb822 = "Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm\n\n\
                      Types: deb\nURIs: http://deb.debian.org/debian-security\n";
        assert_eq!(mirror_in(deb822, "").as_deref(), Some("http://deb.debian.org/debian"));
        let list = "# comment\ndeb http://security.debian.org/debian-security bookworm main\n\
                    deb [arch=amd64] http://mirror.example/debian/ bookworm main\n";
        assert_eq!(mirror_in("", list).as_deref(), Some("http://mirror.example/debian/"));
        assert_eq!(mirror_in("", ""), None);
    }

    #[test]
    fn tags_name_the_recipe_and_the_supervisor() {
        assert!(base_tag().starts_with("gavel-native-base:"));
        let tag = image_tag();
        assert!(tag.starts_with(&format!("gavel-native:{}-", env!("CARGO_PKG_VERSION"))), "{tag}");
        assert_eq!(tag, image_tag());
        assert!(!SUPERVISOR.is_empty());
    }
}
