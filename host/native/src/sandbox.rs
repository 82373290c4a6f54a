//! One hardened container with the supervisor as PID 1, and the request /
//! response channel to it over the container's attached stdin/stdout
//! (output frames of a streaming run are handed to a callback on the way).
//!
//! Every container: no network, read-only root, tmpfs `/work` and `/tmp`
//! with size caps, all capabilities dropped, `no-new-privileges`, a pids
//! limit, uid 65534, memory = memory+swap limit, one CPU, no host mounts, and
//! the labels that let [`remove_leftovers`] find it after a crash.

use std::collections::HashMap;
use std::pin::Pin;
use std::time::Duration;

use bollard::Docker;
use bollard::container::LogOutput;
use bollard::models::{ContainerCreateBody, ContainerUpdateBody, HostConfig};
use bollard::query_parameters::{
    AttachContainerOptions, ListContainersOptions, RemoveContainerOptions,
};
use futures_util::{Stream, StreamExt};
use supervisor::wire::{self, OutputStream, Request, Response};
use tokio::io::{AsyncWrite, AsyncWriteExt};

/// The label every Gavel container carries.
pub const LABEL: &str = "gavel";
/// Who made the container (a runner's name, or `gavel-judge`).
const OWNER_LABEL: &str = "gavel.owner";
/// The host process that made it: a container whose process is gone is a
/// leftover whoever owned it.
const PID_LABEL: &str = "gavel.pid";

/// Resource settings of every container.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    pub image: String,
    pub owner: String,
    /// CPUs a container may use.
    pub cpus: f64,
    /// Processes and threads a container may hold (fork bombs stop here).
    pub pids_limit: i64,
    /// Size of the `/work` tmpfs (source, binary, files the program writes).
    pub work_mb: u64,
    /// Size of the `/tmp` tmpfs (a case's stdin, stdout and stderr files).
    pub io_mb: u64,
}

/// The container's attached stdin (requests go in here).
type Input = Pin<Box<dyn AsyncWrite + Send>>;
/// The container's attached stdout/stderr (answers and diagnostics).
type Output = Pin<Box<dyn Stream<Item = Result<LogOutput, bollard::errors::Error>> + Send>>;
/// Receives the output chunks of a streaming run as they arrive.
pub type OnOutput<'a> = &'a mut dyn FnMut(OutputStream, &[u8]);

/// A running sandbox container.
pub struct Sandbox {
    pub id: String,
    input: Input,
    output: Output,
    received: Vec<u8>,
    /// The container's memory (= memory + swap) limit now.
    pub memory_bytes: u64,
    /// Why the channel is unusable: after a failed exchange (a timeout may
    /// leave an answer in flight) every later call fails at once.
    broken: Option<String>,
}

impl Sandbox {
    /// Creates, attaches to and starts a container.
    pub async fn start(
        docker: &Docker,
        config: &SandboxConfig,
        memory_bytes: u64,
    ) -> Result<Sandbox, String> {
        let labels = HashMap::from([
            (LABEL.to_string(), "1".to_string()),
            (OWNER_LABEL.to_string(), config.owner.clone()),
            (PID_LABEL.to_string(), std::process::id().to_string()),
        ]);
        let tmpfs = HashMap::from([
            (
                "/work".to_string(),
                format!("rw,exec,nosuid,nodev,size={}m,mode=1777", config.work_mb),
            ),
            (
                "/tmp".to_string(),
                format!("rw,noexec,nosuid,nodev,size={}m,mode=1777", config.io_mb),
            ),
        ]);
        let body = ContainerCreateBody {
            image: Some(config.image.clone()),
            cmd: Some(vec!["/usr/local/bin/gavel-supervisor".into()]),
            user: Some("65534:65534".into()),
            env: Some(vec![]),
            attach_stdin: Some(true),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            open_stdin: Some(true),
            stdin_once: Some(false),
            tty: Some(false),
            network_disabled: Some(true),
            labels: Some(labels),
            host_config: Some(HostConfig {
                network_mode: Some("none".into()),
                readonly_rootfs: Some(true),
                tmpfs: Some(tmpfs),
                cap_drop: Some(vec!["ALL".into()]),
                security_opt: Some(vec!["no-new-privileges".into()]),
                pids_limit: Some(config.pids_limit),
                memory: Some(memory_bytes as i64),
                memory_swap: Some(memory_bytes as i64),
                nano_cpus: Some((config.cpus * 1e9) as i64),
                ipc_mode: Some("private".into()),
                init: Some(false),
                ..Default::default()
            }),
            ..Default::default()
        };
        let created = docker
            .create_container(None, body)
            .await
            .map_err(|e| format!("creating a container from {}: {e}", config.image))?;
        let id = created.id;
        match Self::attach_and_start(docker, &id).await {
            Ok((input, output)) => {
                Ok(Sandbox { id, input, output, received: Vec::new(), memory_bytes, broken: None })
            }
            Err(e) => {
                remove(docker, &id).await;
                Err(e)
            }
        }
    }

    async fn attach_and_start(docker: &Docker, id: &str) -> Result<(Input, Output), String> {
        let options = AttachContainerOptions {
            stdin: true,
            stdout: true,
            stderr: true,
            stream: true,
            ..Default::default()
        };
        let attached = docker
            .attach_container(id, Some(options))
            .await
            .map_err(|e| format!("attaching to container {id}: {e}"))?;
        docker
            .start_container(id, None)
            .await
            .map_err(|e| format!("starting container {id}: {e}"))?;
        Ok((attached.input, attached.output))
    }

    /// Sends one request and waits (at most `timeout`) for its response.
    pub async fn call(&mut self, request: &Request, timeout: Duration) -> Result<Response, String> {
        self.call_streaming(request, timeout, None).await
    }

    /// [`Sandbox::call`] for a request that may be answered with output
    /// frames before its response (a streaming run): each goes to
    /// `on_output`. Without `on_output` an output frame breaks the channel.
    pub async fn call_streaming(
        &mut self,
        request: &Request,
        timeout: Duration,
        on_output: Option<OnOutput<'_>>,
    ) -> Result<Response, String> {
        if let Some(reason) = &self.broken {
            return Err(format!("the sandbox failed earlier: {reason}"));
        }
        let answer = self.exchange(request, timeout, on_output).await;
        if let Err(reason) = &answer {
            self.broken = Some(reason.clone());
        }
        answer
    }

    async fn exchange(
        &mut self,
        request: &Request,
        timeout: Duration,
        mut on_output: Option<OnOutput<'_>>,
    ) -> Result<Response, String> {
        let mut frame = Vec::new();
        wire::write_frame(&mut frame, &request.encode()).map_err(|e| e.to_string())?;
        let exchange = async {
            self.input
                .write_all(&frame)
                .await
                .map_err(|e| format!("writing to the sandbox: {e}"))?;
            self.input.flush().await.map_err(|e| format!("writing to the sandbox: {e}"))?;
            let mut diagnostics = Vec::new();
            loop {
                if let Some(body) =
                    wire::pop_frame(&mut self.received).map_err(|e| e.to_string())?
                {
                    match Response::decode(&body).map_err(|e| e.to_string())? {
                        Response::Output { stream, data } => match on_output.as_mut() {
                            Some(on_output) => {
                                on_output(stream, &data);
                                continue;
                            }
                            None => return Err("output frames for a run that did not ask".into()),
                        },
                        response => return Ok(response),
                    }
                }
                match self.output.next().await {
                    Some(Ok(LogOutput::StdOut { message })) => {
                        self.received.extend_from_slice(&message)
                    }
                    Some(Ok(LogOutput::StdErr { message })) => {
                        diagnostics.extend_from_slice(&message[..message.len().min(4096)])
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return Err(format!("reading from the sandbox: {e}")),
                    None => {
                        return Err(format!(
                            "the sandbox's supervisor exited: {}",
                            String::from_utf8_lossy(&diagnostics).trim()
                        ));
                    }
                }
            }
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| format!("the sandbox did not answer within {timeout:?}"))?
    }

    /// An interactive run: sends `request`, then each request `inbound`
    /// yields (input, its end, a stop) as it comes, and hands every output
    /// and status frame to `on_frame` at once, until the final response
    /// (at most `timeout` in all).
    pub async fn interact(
        &mut self,
        request: &Request,
        timeout: Duration,
        inbound: &mut tokio::sync::mpsc::UnboundedReceiver<Request>,
        on_frame: &mut dyn FnMut(Response),
    ) -> Result<Response, String> {
        if let Some(reason) = &self.broken {
            return Err(format!("the sandbox failed earlier: {reason}"));
        }
        let answer =
            tokio::time::timeout(timeout, self.interact_exchange(request, inbound, on_frame))
                .await
                .unwrap_or_else(|_| Err(format!("the sandbox did not answer within {timeout:?}")));
        if let Err(reason) = &answer {
            self.broken = Some(reason.clone());
        }
        answer
    }

    async fn interact_exchange(
        &mut self,
        request: &Request,
        inbound: &mut tokio::sync::mpsc::UnboundedReceiver<Request>,
        on_frame: &mut dyn FnMut(Response),
    ) -> Result<Response, String> {
        self.send(request).await?;
        let mut inbound_open = true;
        let mut diagnostics = Vec::new();
        loop {
            while let Some(body) = wire::pop_frame(&mut self.received).map_err(|e| e.to_string())? {
                match Response::decode(&body).map_err(|e| e.to_string())? {
                    frame @ (Response::Output { .. } | Response::Status { .. }) => on_frame(frame),
                    response => return Ok(response),
                }
            }
            tokio::select! {
                next = inbound.recv(), if inbound_open => match next {
                    Some(request) => self.send(&request).await?,
                    None => inbound_open = false,
                },
                output = self.output.next() => match output {
                    Some(Ok(LogOutput::StdOut { message })) => {
                        self.received.extend_from_slice(&message)
                    }
                    Some(Ok(LogOutput::StdErr { message })) => {
                        diagnostics.extend_from_slice(&message[..message.len().min(4096)])
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return Err(format!("reading from the sandbox: {e}")),
                    None => {
                        return Err(format!(
                            "the sandbox's supervisor exited: {}",
                            String::from_utf8_lossy(&diagnostics).trim()
                        ));
                    }
                },
            }
        }
    }

    /// Writes one request frame.
    async fn send(&mut self, request: &Request) -> Result<(), String> {
        let mut frame = Vec::new();
        wire::write_frame(&mut frame, &request.encode()).map_err(|e| e.to_string())?;
        self.input.write_all(&frame).await.map_err(|e| format!("writing to the sandbox: {e}"))?;
        self.input.flush().await.map_err(|e| format!("writing to the sandbox: {e}"))
    }

    /// Sets the container's memory (and memory + swap) limit.
    pub async fn set_memory(&mut self, docker: &Docker, bytes: u64) -> Result<(), String> {
        let update = ContainerUpdateBody {
            memory: Some(bytes as i64),
            memory_swap: Some(bytes as i64),
            ..Default::default()
        };
        docker
            .update_container(&self.id, update)
            .await
            .map_err(|e| format!("setting the memory limit of container {}: {e}", self.id))?;
        self.memory_bytes = bytes;
        Ok(())
    }
}

/// Force-removes a container (and its anonymous volumes); failures are logged.
pub async fn remove(docker: &Docker, id: &str) {
    let options = RemoveContainerOptions { force: true, v: true, ..Default::default() };
    if let Err(e) = docker.remove_container(id, Some(options)).await {
        tracing::warn!(container = %id, error = %e, "could not remove a sandbox container");
    }
}

/// Removes Gavel containers left by a crash: those of `owner`, and those
/// whose creating process no longer runs. Returns how many were removed.
pub async fn remove_leftovers(docker: &Docker, owner: &str) -> Result<usize, String> {
    let options = ListContainersOptions {
        all: true,
        filters: Some(HashMap::from([("label".to_string(), vec![LABEL.to_string()])])),
        ..Default::default()
    };
    let containers = docker
        .list_containers(Some(options))
        .await
        .map_err(|e| format!("listing containers: {e}"))?;
    let mut removed = 0;
    for container in containers {
        let labels = container.labels.unwrap_or_default();
        let mine = labels.get(OWNER_LABEL).is_some_and(|o| o == owner);
        let orphaned = labels
            .get(PID_LABEL)
            .and_then(|pid| pid.parse::<u32>().ok())
            .is_none_or(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists());
        if let Some(id) = container.id.filter(|_| mine || orphaned) {
            tracing::info!(container = %id, "removing a leftover sandbox container");
            remove(docker, &id).await;
            removed += 1;
        }
    }
    Ok(removed)
}
