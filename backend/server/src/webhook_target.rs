//! Where a webhook may post: a URL's host vetted against the egress policy
//! ([`egress::check`](crate::egress::check)) and, for a name, the addresses
//! to connect to.
//!
//! [`WebhookEgress::vet`] takes the URL's host as the HTTP client will (the
//! WHATWG parse of `reqwest::Url`, so `http://2130706433/` and
//! `http://0x7f.1/` are both 127.0.0.1): an IP literal is checked as it is;
//! a name is resolved once, through a [`Resolver`], and every address it
//! resolves to must pass. The [`Target`] it returns keeps those addresses,
//! so the sender connects to exactly what was checked (no second lookup, no
//! window for DNS rebinding). `PUT /webhook` vets the URL when it is set,
//! the sender again before each delivery.
//!
//! Resolvers: [`SystemResolver`] (the system's, `getaddrinfo`) in
//! production; [`HostsFile`], a test hook that reads names from a
//! hosts-format file at every lookup and never asks DNS (the backend's
//! hidden `--test-webhook-hosts`; its addresses are checked like any
//! others, so it cannot open what the policy closes).

use std::fmt;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;
use reqwest::Url;

use crate::config::Config;
use crate::egress::{self, Refusal};

/// The longest one name lookup may take.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);

/// A lookup under way: the addresses, or why there are none.
pub type Lookup<'a> = Pin<Box<dyn Future<Output = Result<Vec<IpAddr>, String>> + Send + 'a>>;

/// Looks host names up: the seam tests replace.
pub trait Resolver: Send + Sync {
    /// Every address `name` resolves to.
    fn lookup<'a>(&'a self, name: &'a str) -> Lookup<'a>;
}

/// The system's resolver (`getaddrinfo`, on a blocking thread).
#[derive(Debug, Clone, Copy)]
pub struct SystemResolver;

impl Resolver for SystemResolver {
    fn lookup<'a>(&'a self, name: &'a str) -> Lookup<'a> {
        Box::pin(async move {
            let found = tokio::net::lookup_host((name, 0)).await.map_err(|e| e.to_string())?;
            Ok(found.map(|addr| addr.ip()).collect())
        })
    }
}

/// Test hook: names resolved from a hosts-format file (`ADDRESS NAME…` a
/// line, `#` comments), read again at every lookup so a test can change
/// what a name resolves to; a name it lacks does not resolve.
#[derive(Debug, Clone)]
pub struct HostsFile {
    pub path: PathBuf,
}

impl Resolver for HostsFile {
    fn lookup<'a>(&'a self, name: &'a str) -> Lookup<'a> {
        Box::pin(async move {
            let text = tokio::fs::read_to_string(&self.path)
                .await
                .map_err(|e| format!("reading {}: {e}", self.path.display()))?;
            hosts_entries(&text, name)
                .map_err(|line| format!("{}: {line:?} is not an address", self.path.display()))
        })
    }
}

/// The addresses a hosts-format `text` gives `name` (an empty list when it
/// names it nowhere), or the first line whose address does not parse.
fn hosts_entries(text: &str, name: &str) -> Result<Vec<IpAddr>, String> {
    let mut found = Vec::new();
    for line in text.lines() {
        let mut words = line.split('#').next().unwrap_or("").split_whitespace();
        let Some(address) = words.next() else { continue };
        let address: IpAddr = address.parse().map_err(|_| line.to_string())?;
        if words.any(|word| word.eq_ignore_ascii_case(name)) {
            found.push(address);
        }
    }
    Ok(found)
}

/// A URL the sender may post to: the parsed URL, and for a host name the
/// name with the vetted addresses (the URL's port on each) to connect to.
#[derive(Debug, Clone)]
pub struct Target {
    pub url: Url,
    pub pinned: Option<(String, Vec<SocketAddr>)>,
}

/// Why a webhook URL may not be posted to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Vetoed {
    /// Not a URL with a host.
    BadUrl(String),
    /// The host name does not resolve (or resolves to nothing).
    Unresolved { name: String, reason: String },
    /// An address is refused: the host itself (`name: None`), or one the
    /// name resolves to (with every address it resolves to).
    Refused { name: Option<(String, Vec<IpAddr>)>, refusal: Refusal },
}

impl fmt::Display for Vetoed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Vetoed::BadUrl(why) => write!(f, "not a URL with a host: {why}"),
            Vetoed::Unresolved { name, reason } => write!(f, "{name} does not resolve: {reason}"),
            Vetoed::Refused { name: None, refusal } => write!(f, "{refusal}"),
            Vetoed::Refused { name: Some((name, addresses)), refusal } => {
                let addresses: Vec<String> = addresses.iter().map(IpAddr::to_string).collect();
                write!(f, "{name} resolves to {}, and {refusal}", addresses.join(", "))
            }
        }
    }
}

/// The egress policy (the operator's allowlist) and the resolver names go
/// through. Cheap to clone.
#[derive(Clone)]
pub struct WebhookEgress {
    allow: Arc<[IpNet]>,
    resolver: Arc<dyn Resolver>,
}

impl fmt::Debug for WebhookEgress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookEgress").field("allow", &self.allow).finish_non_exhaustive()
    }
}

impl WebhookEgress {
    pub fn new(allow: Vec<IpNet>, resolver: Arc<dyn Resolver>) -> WebhookEgress {
        WebhookEgress { allow: allow.into(), resolver }
    }

    /// The backend's: `webhook_allow`, and the system's resolver unless
    /// the test hook names a hosts file.
    pub fn from_config(config: &Config) -> WebhookEgress {
        let resolver: Arc<dyn Resolver> = match &config.test_webhook_hosts {
            Some(path) => {
                tracing::warn!(
                    path = %path.display(),
                    "test hook: webhook hosts are resolved from this file, never from DNS"
                );
                Arc::new(HostsFile { path: path.clone() })
            }
            None => Arc::new(SystemResolver),
        };
        WebhookEgress::new(config.webhook_allow.clone(), resolver)
    }

    /// The ranges opened besides public addresses.
    pub fn allowed(&self) -> &[IpNet] {
        &self.allow
    }

    /// `url` as a [`Target`] when every address its host is or resolves
    /// to (one lookup) passes the policy.
    pub async fn vet(&self, url: &str) -> Result<Target, Vetoed> {
        let url = Url::parse(url).map_err(|e| Vetoed::BadUrl(e.to_string()))?;
        let host = url.host_str().ok_or_else(|| Vetoed::BadUrl("no host".into()))?;
        let port = url.port_or_known_default().unwrap_or(0);
        if let Some(ip) = ip_literal(host) {
            egress::check(ip, &self.allow)
                .map_err(|refusal| Vetoed::Refused { name: None, refusal })?;
            return Ok(Target { url, pinned: None });
        }
        let name = host.to_string();
        let unresolved = |reason: String| Vetoed::Unresolved { name: name.clone(), reason };
        let addresses = tokio::time::timeout(LOOKUP_TIMEOUT, self.resolver.lookup(&name))
            .await
            .map_err(|_| unresolved(format!("no answer within {LOOKUP_TIMEOUT:?}")))?
            .map_err(unresolved)?;
        if addresses.is_empty() {
            return Err(unresolved("no address".into()));
        }
        for &ip in &addresses {
            egress::check(ip, &self.allow).map_err(|refusal| Vetoed::Refused {
                name: Some((name.clone(), addresses.clone())),
                refusal,
            })?;
        }
        let pinned = addresses.iter().map(|&ip| SocketAddr::new(ip, port)).collect();
        Ok(Target { url, pinned: Some((name, pinned)) })
    }
}

/// The address a URL's host is, if it is an IP literal (`[::1]` bracketed).
fn ip_literal(host: &str) -> Option<IpAddr> {
    host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host).parse().ok()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    /// Names from a table; counts nothing, connects nowhere.
    struct Table(HashMap<&'static str, Vec<IpAddr>>);

    impl Resolver for Table {
        fn lookup<'a>(&'a self, name: &'a str) -> Lookup<'a> {
            let found = self.0.get(name).cloned().ok_or_else(|| "NXDOMAIN".to_string());
            Box::pin(std::future::ready(found))
        }
    }

    fn egress(allow: &[&str]) -> WebhookEgress {
        let table = [
            (
                "public.test",
                vec!["93.184.215.14".parse().unwrap(), "2606:2800::1".parse().unwrap()],
            ),
            ("localhost", vec!["127.0.0.1".parse().unwrap(), "::1".parse().unwrap()]),
            ("mixed.test", vec!["93.184.215.14".parse().unwrap(), "10.0.0.7".parse().unwrap()]),
            ("empty.test", vec![]),
        ];
        let allow = allow.iter().map(|a| a.parse().unwrap()).collect();
        WebhookEgress::new(allow, Arc::new(Table(table.into_iter().collect())))
    }

    async fn said(egress: &WebhookEgress, url: &str) -> String {
        match egress.vet(url).await {
            Ok(target) => format!("ok {:?}", target.pinned),
            Err(vetoed) => vetoed.to_string(),
        }
    }

    #[tokio::test]
    async fn ip_literals_are_checked_as_the_http_client_reads_them() {
        let egress = egress(&[]);
        let cases = [
            ("http://127.0.0.1:9000/x", "127.0.0.1 is loopback (127.0.0.0/8)"),
            ("http://[::1]:9000/x", "::1 is loopback (::1/128)"),
            ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is link-local"),
            ("http://[::ffff:127.0.0.1]/", "::ffff:127.0.0.1 carries 127.0.0.1, which is loopback"),
            ("http://[fd00::1]/", "fd00::1 is unique-local (fc00::/7)"),
            ("http://2130706433/", "127.0.0.1 is loopback"),
            ("http://0x7f.1/", "127.0.0.1 is loopback"),
            ("http://0/", "0.0.0.0 is unspecified"),
            ("https://10.0.0.1/", "10.0.0.1 is private (10.0.0.0/8)"),
        ];
        for (url, expected) in cases {
            let said = said(&egress, url).await;
            assert!(said.starts_with(expected), "{url}: {said:?}, expected {expected:?}…");
        }
        assert_eq!(said(&egress, "https://8.8.8.8/hook").await, "ok None");
    }

    #[tokio::test]
    async fn a_name_passes_only_when_every_address_does_and_is_pinned_to_them() {
        let egress = egress(&[]);
        assert_eq!(
            said(&egress, "https://public.test:8443/hook").await,
            "ok Some((\"public.test\", [93.184.215.14:8443, [2606:2800::1]:8443]))"
        );
        assert_eq!(
            said(&egress, "http://public.test/hook").await,
            "ok Some((\"public.test\", [93.184.215.14:80, [2606:2800::1]:80]))"
        );
        assert_eq!(
            said(&egress, "http://localhost:9000/").await,
            "localhost resolves to 127.0.0.1, ::1, and 127.0.0.1 is loopback (127.0.0.0/8)"
        );
        assert_eq!(
            said(&egress, "http://mixed.test/").await,
            "mixed.test resolves to 93.184.215.14, 10.0.0.7, and 10.0.0.7 is private (10.0.0.0/8)"
        );
        assert_eq!(
            said(&egress, "http://LocalHost./").await,
            "localhost. does not resolve: NXDOMAIN",
            "the host as the client sends it"
        );
        assert_eq!(
            said(&egress, "http://nowhere.test/").await,
            "nowhere.test does not resolve: NXDOMAIN"
        );
        assert_eq!(
            said(&egress, "http://empty.test/").await,
            "empty.test does not resolve: no address"
        );
        assert!(said(&egress, "http://[::1/").await.starts_with("not a URL with a host"));
    }

    #[tokio::test]
    async fn the_allowlist_opens_names_and_literals_alike() {
        let egress = egress(&["127.0.0.0/8", "::1/128"]);
        assert_eq!(
            said(&egress, "http://localhost:9000/").await,
            "ok Some((\"localhost\", [127.0.0.1:9000, [::1]:9000]))"
        );
        assert_eq!(said(&egress, "http://[::1]:9000/").await, "ok None");
        assert!(said(&egress, "http://mixed.test/").await.contains("10.0.0.7 is private"));
    }

    #[test]
    fn a_hosts_file_gives_every_address_of_a_name() {
        let text = "# test hosts\n127.0.0.1 localhost receiver.test\n::1 localhost # v6\n\n\
                    93.184.215.14 public.test\n";
        let ips = |name| hosts_entries(text, name).unwrap();
        assert_eq!(
            ips("localhost"),
            ["127.0.0.1".parse::<IpAddr>().unwrap(), "::1".parse().unwrap()]
        );
        assert_eq!(ips("RECEIVER.test"), ["127.0.0.1".parse::<IpAddr>().unwrap()]);
        assert!(ips("other.test").is_empty());
        assert_eq!(hosts_entries("nonsense here\n", "here").unwrap_err(), "nonsense here");
    }

    #[tokio::test]
    async fn the_hosts_file_hook_is_read_at_every_lookup() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hosts");
        std::fs::write(&path, "93.184.215.14 rebind.test\n").unwrap();
        let egress = WebhookEgress::new(Vec::new(), Arc::new(HostsFile { path: path.clone() }));
        assert!(said(&egress, "http://rebind.test/").await.starts_with("ok"));
        std::fs::write(&path, "127.0.0.1 rebind.test\n").unwrap();
        assert_eq!(
            said(&egress, "http://rebind.test/").await,
            "rebind.test resolves to 127.0.0.1, and 127.0.0.1 is loopback (127.0.0.0/8)"
        );
        assert!(
            said(&egress, "http://other.test/").await.ends_with("does not resolve: no address")
        );
    }
}
