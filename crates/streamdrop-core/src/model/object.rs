//! Where objects live.

use std::fmt;
use std::str::FromStr;

/// Where an object lives: `s3://bucket/key`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectRef {
    pub bucket: String,
    pub key: String,
}

impl ObjectRef {
    pub fn new(bucket: impl Into<String>, key: impl Into<String>) -> Self {
        Self { bucket: bucket.into(), key: key.into() }
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

/// Why a request path names no object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyProblem {
    Empty,
    Invalid(String),
}

/// The object key a request path names, one rule for the edge that serves it
/// and the linker that signs for it: the path without its leading `/`,
/// percent-decoded (as S3 decodes it). `.` and `..` segments are refused: S3
/// would read them literally, but the file-system backend of the local stack
/// resolves them, and `jobs/A/../../other-bucket/…` is covered by a policy
/// for `jobs/A/*`.
pub fn key_of_path(path: &str) -> Result<String, KeyProblem> {
    let raw = path.strip_prefix('/').unwrap_or(path);
    let key = percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| KeyProblem::Invalid("the object key is not UTF-8 once percent-decoded".into()))?;
    if key.is_empty() {
        return Err(KeyProblem::Empty);
    }
    if key.split(['/', '\\']).any(|segment| segment == "." || segment == "..") {
        return Err(KeyProblem::Invalid(format!(
            "the object key {key:?} has a '.' or '..' segment; the edge does not serve such keys"
        )));
    }
    if key.contains(['\\', '\0']) {
        return Err(KeyProblem::Invalid(format!(
            "the object key {key:?} contains a backslash or NUL; the edge does not serve such keys"
        )));
    }
    Ok(key.into_owned())
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not an S3 object address: expected s3://BUCKET/KEY")]
pub struct BadObjectRef {
    input: String,
}

impl FromStr for ObjectRef {
    type Err = BadObjectRef;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadObjectRef { input: s.to_owned() };
        let rest = s.strip_prefix("s3://").ok_or_else(bad)?;
        let (bucket, key) = rest.split_once('/').ok_or_else(bad)?;
        if bucket.is_empty() || key.is_empty() {
            return Err(bad());
        }
        Ok(Self::new(bucket, key))
    }
}

/// The two buckets of the flow: uploads land in a temporary bucket whose
/// objects expire, and are copied to a private distribution bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Buckets {
    pub uploads: String,
    pub media: String,
}
