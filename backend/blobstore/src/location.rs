//! Where blobs live: the one setting `blob_store`, `file://DIR` or
//! `s3://BUCKET/PREFIX`, parsed and checked before anything is opened.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// A blob store's location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// `file://DIR`: a local directory (`file:///var/lib/gavel` is
    /// `/var/lib/gavel`, `file://gavel-data` is relative to the working
    /// directory).
    File(PathBuf),
    /// `s3://BUCKET/PREFIX`: objects under `PREFIX/` (possibly empty, no
    /// leading or trailing `/`) of an S3-compatible bucket.
    S3 { bucket: String, prefix: String },
}

impl FromStr for Location {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        if let Some(dir) = text.strip_prefix("file://") {
            if dir.is_empty() {
                return Err("blob_store file:// needs a directory (file:///var/lib/gavel)".into());
            }
            return Ok(Location::File(PathBuf::from(dir)));
        }
        let Some(rest) = text.strip_prefix("s3://") else {
            return Err(format!(
                "blob_store must be file://DIR or s3://BUCKET/PREFIX, not {text:?}"
            ));
        };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if !is_bucket_name(bucket) {
            return Err(format!(
                "blob_store {text:?}: {bucket:?} is not a bucket name (3-63 of a-z 0-9 . -, \
                 starting and ending with a letter or digit)"
            ));
        }
        let prefix = prefix.trim_end_matches('/');
        let segment_ok = |s: &str| {
            !s.is_empty()
                && s != "."
                && s != ".."
                && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.!*'()".contains(&b))
        };
        if !prefix.is_empty() && !prefix.split('/').all(segment_ok) {
            return Err(format!(
                "blob_store {text:?}: the prefix {prefix:?} must be `/`-separated names of \
                 letters, digits and - _ . ! * ' ( ) (no empty, . or .. parts)"
            ));
        }
        Ok(Location::S3 { bucket: bucket.to_string(), prefix: prefix.to_string() })
    }
}

/// An S3 bucket name as AWS and the compatible servers accept it.
fn is_bucket_name(name: &str) -> bool {
    let edge = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    (3..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && edge(name.bytes().next())
        && edge(name.bytes().last())
        && !name.contains("..")
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File(dir) => write!(f, "file://{}", dir.display()),
            Location::S3 { bucket, prefix } if prefix.is_empty() => write!(f, "s3://{bucket}"),
            Location::S3 { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_kinds_parse_and_print_back() {
        for text in ["file:///var/lib/gavel", "file://gavel-data", "s3://judge", "s3://judge/a/b"] {
            assert_eq!(text.parse::<Location>().unwrap().to_string(), text);
        }
        assert_eq!(
            "s3://my-bucket.1/blobs/".parse::<Location>().unwrap(),
            Location::S3 { bucket: "my-bucket.1".into(), prefix: "blobs".into() }
        );
        assert_eq!("file:///x".parse::<Location>().unwrap(), Location::File(PathBuf::from("/x")));
    }

    #[test]
    fn anything_else_is_refused_with_the_reason() {
        let cases = [
            ("/var/lib/gavel", "must be file://DIR or s3://"),
            ("http://bucket", "must be file://DIR or s3://"),
            ("file://", "needs a directory"),
            ("s3://", "not a bucket name"),
            ("s3://UPPER", "not a bucket name"),
            ("s3://ab", "not a bucket name"),
            ("s3://-bucket", "not a bucket name"),
            ("s3://a..b", "not a bucket name"),
            ("s3://bucket//x", "no empty"),
            ("s3://bucket/a/../b", "no empty"),
            ("s3://bucket/a b", "no empty"),
        ];
        for (text, why) in cases {
            let error = text.parse::<Location>().unwrap_err();
            assert!(error.contains(why), "{text}: {error}");
        }
    }
}
