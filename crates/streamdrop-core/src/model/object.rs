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
