//! HTTPS: the backend's certificate and key (`--tls-cert`, `--tls-key`)
//! loaded into a rustls server config that offers HTTP/2 and HTTP/1.1 by
//! ALPN. Loading checks what can be checked before the first connection: both
//! files or neither, each readable PEM, and a key that matches the
//! certificate, each refusal one line naming the file.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

pub use tokio_rustls::rustls::ServerConfig;

/// The protocols offered by ALPN, preferred first.
const ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// The TLS settings of `tls_cert` and `tls_key`: `None` when neither is set
/// (plain HTTP), an error when only one is.
pub fn server_config(
    cert: Option<&Path>,
    key: Option<&Path>,
) -> anyhow::Result<Option<Arc<rustls::ServerConfig>>> {
    let (cert, key) = match (cert, key) {
        (None, None) => return Ok(None),
        (Some(cert), Some(key)) => (cert, key),
        (Some(_), None) => bail!("tls_cert is set but tls_key is not: HTTPS needs both"),
        (None, Some(_)) => bail!("tls_key is set but tls_cert is not: HTTPS needs both"),
    };
    let chain = read_chain(cert)?;
    let key_der = read_key(key)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("choosing the TLS versions")?
        .with_no_client_auth()
        .with_single_cert(chain, key_der)
        .map_err(|e| {
            anyhow::anyhow!(
                "tls_key {} does not fit tls_cert {}: {e}",
                key.display(),
                cert.display()
            )
        })?;
    config.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
    Ok(Some(Arc::new(config)))
}

/// The PEM certificates of `path`, the server's own first.
fn read_chain(path: &Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let text = read(path, "tls_cert")?;
    let chain = CertificateDer::pem_slice_iter(&text)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("tls_cert {}: not PEM certificates: {e}", path.display()))?;
    if chain.is_empty() {
        bail!(
            "tls_cert {}: no PEM certificate (-----BEGIN CERTIFICATE-----) in it",
            path.display()
        );
    }
    Ok(chain)
}

/// The first PEM private key of `path` (PKCS#8, PKCS#1 or SEC1).
fn read_key(path: &Path) -> anyhow::Result<PrivateKeyDer<'static>> {
    let text = read(path, "tls_key")?;
    PrivateKeyDer::from_pem_slice(&text)
        .map_err(|e| anyhow::anyhow!("tls_key {}: no PEM private key in it: {e}", path.display()))
}

fn read(path: &Path, setting: &str) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| anyhow::anyhow!("{setting} {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A self-signed certificate for localhost and its key, written as
    /// `cert.pem` and `key.pem` in `dir` (`name` prefixes both).
    fn write_pair(dir: &Path, name: &str) -> (std::path::PathBuf, std::path::PathBuf) {
        let pair = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
        let (cert, key) = (dir.join(format!("{name}cert.pem")), dir.join(format!("{name}key.pem")));
        std::fs::write(&cert, pair.cert.pem()).unwrap();
        std::fs::write(&key, pair.signing_key.serialize_pem()).unwrap();
        (cert, key)
    }

    #[test]
    fn neither_file_is_plain_http_and_a_matching_pair_offers_h2_and_http1() {
        assert!(server_config(None, None).unwrap().is_none());
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = write_pair(dir.path(), "");
        let config = server_config(Some(&cert), Some(&key)).unwrap().expect("TLS");
        assert_eq!(config.alpn_protocols, [b"h2".to_vec(), b"http/1.1".to_vec()]);
    }

    #[test]
    fn a_key_of_another_certificate_is_refused_naming_both_files() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, _) = write_pair(dir.path(), "a-");
        let (_, other_key) = write_pair(dir.path(), "b-");
        let error = server_config(Some(&cert), Some(&other_key)).unwrap_err().to_string();
        assert!(error.starts_with("tls_key "), "{error}");
        assert!(error.contains("b-key.pem does not fit tls_cert"), "{error}");
        assert!(error.contains("a-cert.pem"), "{error}");
    }

    #[test]
    fn one_file_without_the_other_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = write_pair(dir.path(), "");
        let error = server_config(Some(&cert), None).unwrap_err().to_string();
        assert_eq!(error, "tls_cert is set but tls_key is not: HTTPS needs both");
        let error = server_config(None, Some(&key)).unwrap_err().to_string();
        assert_eq!(error, "tls_key is set but tls_cert is not: HTTPS needs both");
    }

    #[test]
    fn missing_and_non_pem_files_are_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = write_pair(dir.path(), "");
        let missing = dir.path().join("nowhere.pem");
        let error = server_config(Some(&missing), Some(&key)).unwrap_err().to_string();
        assert!(error.starts_with(&format!("tls_cert {}: ", missing.display())), "{error}");
        let error = server_config(Some(&cert), Some(&missing)).unwrap_err().to_string();
        assert!(error.starts_with(&format!("tls_key {}: ", missing.display())), "{error}");
        // The files swapped: no certificate in the key's file and back.
        let error = server_config(Some(&key), Some(&cert)).unwrap_err().to_string();
        assert!(error.contains("no PEM certificate"), "{error}");
        let error = server_config(Some(&cert), Some(&cert)).unwrap_err().to_string();
        assert!(error.contains("no PEM private key"), "{error}");
    }
}
