//! The Docker side of the native-executor tests: is the engine with the
//! sandbox image there, and did anything leave a container behind?

use std::process::Command;

/// Set to `1` on a machine without Docker to skip the native tests (they
/// fail otherwise: CI machines have Docker, and a silent skip would hide a
/// broken image build).
pub const SKIP_ENV: &str = "GAVEL_SKIP_DOCKER_TESTS";

/// Whether the native tests can run here; panics with the fix when Docker
/// or the image is missing, unless [`SKIP_ENV`] says to skip.
pub fn available() -> bool {
    let status = Command::new(crate::gavel_bin())
        .args(["image", "status", "--json"])
        .output()
        .expect("running gavel image status");
    let json: serde_json::Value =
        serde_json::from_slice(&status.stdout).expect("gavel image status --json prints JSON");
    if json["available"] == true {
        return true;
    }
    assert!(
        std::env::var(SKIP_ENV).is_ok_and(|v| v == "1"),
        "{}: build the image with `cargo xtask images`, or set {SKIP_ENV}=1 on a machine \
         without Docker",
        json["reason"]
    );
    eprintln!("skipping: {}", json["reason"]);
    false
}

/// Gavel containers whose creating process is gone: what a crash or a
/// missed cleanup leaves.
pub fn orphaned_containers() -> Vec<String> {
    let out = Command::new("docker")
        .args([
            "ps",
            "-a",
            "--filter",
            "label=gavel",
            "--format",
            "{{.ID}} {{.Label \"gavel.pid\"}}",
        ])
        .output()
        .expect("running docker ps");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|line| {
            let pid = line.split_whitespace().nth(1).unwrap_or("");
            pid.is_empty() || !std::path::Path::new(&format!("/proc/{pid}")).exists()
        })
        .map(str::to_string)
        .collect()
}

/// Containers (ids) whose `gavel.owner` label is `owner`.
pub fn containers_owned_by(owner: &str) -> Vec<String> {
    let out = Command::new("docker")
        .args(["ps", "-aq", "--filter", &format!("label=gavel.owner={owner}")])
        .output()
        .expect("running docker ps");
    String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect()
}
