//! The deployment files of `examples/deploy/`: the compose files (one
//! instance, scale-out, Sentinel) are valid,
//! and its image builds here from the repository (on the local base image,
//! no registry) with a `gavel` and a `redis-server` that run.

use std::process::Command;
use std::time::Duration;

/// Removes the test's image, also when the test fails.
struct Image(String);

impl Drop for Image {
    fn drop(&mut self) {
        let _ = Command::new("docker").args(["rmi", "-f", &self.0]).output();
    }
}

fn run(command: &mut Command) -> String {
    let out = command.output().unwrap_or_else(|e| panic!("{command:?}: {e}"));
    assert!(
        out.status.success(),
        "{command:?}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_compose_file_is_valid_and_its_image_builds_from_the_repository() {
    if !e2e::docker::available() {
        return;
    }
    let deploy = e2e::root().join("examples/deploy");
    run(Command::new("docker-compose")
        .arg("-f")
        .arg(deploy.join("compose.yaml"))
        .args(["config", "-q"])
        .env("GAVEL_ADMIN_TOKEN", "a")
        .env("GAVEL_REGISTRATION_TOKEN", "r"));
    run(Command::new("docker-compose")
        .arg("-f")
        .arg(deploy.join("compose.scale-out.yaml"))
        .args(["config", "-q"])
        .env("GAVEL_ADMIN_TOKEN", "a")
        .env("GAVEL_REGISTRATION_TOKEN", "r")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9000")
        .env("AWS_ACCESS_KEY_ID", "k")
        .env("AWS_SECRET_ACCESS_KEY", "s"));
    run(Command::new("docker-compose")
        .arg("-f")
        .arg(deploy.join("compose.sentinel.yaml"))
        .args(["config", "-q"])
        .env("GAVEL_ADMIN_TOKEN", "a")
        .env("GAVEL_REGISTRATION_TOKEN", "r"));

    // `gavel image build` keeps gavel-native-base:latest, the Dockerfile's base.
    let out = e2e::gavel(&["image", "build"], Duration::from_secs(900));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // The build context as in the repository: the Dockerfile reads target/release/gavel.
    let context = tempfile::tempdir().unwrap();
    let release = context.path().join("target/release");
    std::fs::create_dir_all(&release).unwrap();
    std::fs::copy(e2e::gavel_bin(), release.join("gavel")).unwrap();
    let image = Image(format!("gavel-e2e-deploy:{}", std::process::id()));
    run(Command::new("docker")
        .args(["build", "-q", "-t", &image.0, "-f"])
        .arg(deploy.join("Dockerfile"))
        .arg(context.path()));
    let version = run(Command::new("docker").args(["run", "--rm", &image.0, "--version"]));
    assert!(version.starts_with("gavel "), "{version}");
    let redis = run(Command::new("docker").args([
        "run",
        "--rm",
        "--entrypoint",
        "redis-server",
        &image.0,
        "--version",
    ]));
    assert!(redis.contains("Redis server"), "{redis}");
}
