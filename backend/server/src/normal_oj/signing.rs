//! Code URLs: their runner downloads a submission's source without any auth
//! header, so the URL carries its own credential — an HMAC-SHA256 over the
//! job id, the lease it was issued under and an expiry. It opens one job's
//! source, until it expires or that lease ends, whichever comes first.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How long a code URL is valid at most (the lease usually ends it first).
pub const CODE_URL_TTL_S: u64 = 600;

/// Signs and checks code URLs with a key shared by every backend instance.
#[derive(Clone)]
pub struct Signer {
    key: Vec<u8>,
}

impl Signer {
    pub fn new(key: Vec<u8>) -> Self {
        Signer { key }
    }

    fn mac(&self, job_id: &str, lease: &str, expires: u64) -> Hmac<Sha256> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        // Fields joined by a byte none of them contains.
        mac.update(format!("{job_id}\n{lease}\n{expires}").as_bytes());
        mac
    }

    /// The signature (hex) of a URL for `job_id` under `lease`, valid until
    /// `expires` (Unix seconds).
    pub fn sign(&self, job_id: &str, lease: &str, expires: u64) -> String {
        hex::encode(self.mac(job_id, lease, expires).finalize().into_bytes())
    }

    /// Whether `signature` is ours for these fields and `now` is before
    /// `expires` (compared in constant time).
    pub fn verify(
        &self,
        job_id: &str,
        lease: &str,
        expires: u64,
        signature: &str,
        now: u64,
    ) -> bool {
        let Ok(signature) = hex::decode(signature) else { return false };
        now < expires && self.mac(job_id, lease, expires).verify_slice(&signature).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_opens_one_job_under_one_lease_until_it_expires() {
        let signer = Signer::new(b"key".to_vec());
        let sig = signer.sign("jb_1", "ls_a", 1000);
        assert!(signer.verify("jb_1", "ls_a", 1000, &sig, 999));
        assert!(!signer.verify("jb_1", "ls_a", 1000, &sig, 1000), "expired");
        assert!(!signer.verify("jb_2", "ls_a", 1000, &sig, 999), "another job");
        assert!(!signer.verify("jb_1", "ls_b", 1000, &sig, 999), "another lease");
        assert!(!signer.verify("jb_1", "ls_a", 2000, &sig, 999), "another expiry");
        assert!(!signer.verify("jb_1", "ls_a", 1000, "zz", 999), "not hex");
        assert!(!Signer::new(b"other".to_vec()).verify("jb_1", "ls_a", 1000, &sig, 999));
    }
}
