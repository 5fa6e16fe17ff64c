//! The connections Streamdrop can run jobs on, as types: the local stack, or
//! an AWS account reached with keys or a profile, with what setup made for it.
//! A local connection has no region or keys, a profile always has a profile
//! name, a MediaConvert role ARN only exists with the MediaConvert transcoder.

use serde::{Deserialize, Serialize};

use crate::model::ConnectionName;

/// One way of reaching storage.
// A handful live in the settings; boxing the AWS variant would only make matching clumsier.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connection {
    /// The embedded local stack: its credentials are minted per run, its
    /// buckets are fixed ([`crate::stack::local_buckets`]), it transcodes with ffmpeg.
    Local,
    /// An AWS account (or an AWS-compatible endpoint such as moto's server).
    Aws(AwsConnection),
}

impl Connection {
    pub fn name(&self) -> ConnectionName {
        match self {
            Connection::Local => ConnectionName::local(),
            Connection::Aws(aws) => aws.name.clone(),
        }
    }

    pub fn as_aws(&self) -> Option<&AwsConnection> {
        match self {
            Connection::Local => None,
            Connection::Aws(aws) => Some(aws),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsConnection {
    pub name: ConnectionName,
    pub auth: AwsAuth,
    pub region: String,
    /// One endpoint for every service (S3, IAM, CloudFront, STS); `None` is AWS's own.
    pub endpoint_url: Option<String>,
    /// What `streamdrop setup --apply` made; `None` before the first setup.
    pub resources: Option<AwsResources>,
}

/// Where an AWS connection's credentials come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AwsAuth {
    /// An access key (and optional session token) in the OS keychain.
    Keys,
    /// A profile from `~/.aws/config` / `~/.aws/credentials`, resolved by
    /// aws-config: static keys, IAM Identity Center (SSO), assume-role, credential_process.
    Profile(String),
}

/// What setup created (or adopted) for an AWS connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsResources {
    /// The prefix the names below were derived from (`--name-prefix`).
    pub name_prefix: String,
    /// Temporary bucket: uploads land here and expire after a day.
    pub upload_bucket: String,
    /// Private distribution bucket, read only by the CloudFront distribution.
    pub media_bucket: String,
    pub transcoder: Transcoder,
    /// Set once the distribution exists.
    pub distribution: Option<DistributionInfo>,
}

impl AwsResources {
    /// The flow's two buckets, as the engine addresses them.
    pub fn buckets(&self) -> crate::model::Buckets {
        crate::model::Buckets { uploads: self.upload_bucket.clone(), media: self.media_bucket.clone() }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transcoder {
    /// ffmpeg on this machine.
    LocalFfmpeg,
    /// AWS Elemental MediaConvert, with the service role setup made.
    MediaConvert { role_arn: Option<String> },
    /// The legacy Elastic Transcoder (discontinued 2025-11-13): the role is made
    /// by setup, the pipeline (by name) on the first job.
    ElasticTranscoder { role_arn: Option<String>, pipeline: String },
}

impl Transcoder {
    pub fn kind(&self) -> TranscoderKind {
        match self {
            Transcoder::LocalFfmpeg => TranscoderKind::LocalFfmpeg,
            Transcoder::MediaConvert { .. } => TranscoderKind::MediaConvert,
            Transcoder::ElasticTranscoder { .. } => TranscoderKind::ElasticTranscoder,
        }
    }
}

crate::model::string_enum! {
    /// The transcoder names of the settings file and the CLI.
    pub enum TranscoderKind "a transcoder" {
        LocalFfmpeg = "local-ffmpeg",
        MediaConvert = "mediaconvert",
        ElasticTranscoder = "elastic-transcoder",
    }
}

/// The CloudFront distribution that serves the media bucket, and the key pair
/// id whose private key (in the keychain) signs its URLs. A rotation's key
/// waits in `next_key_pair_id` until CloudFront has deployed it
/// ([`super::cloudfront_key`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DistributionInfo {
    pub id: String,
    pub domain: String,
    pub key_pair_id: String,
    /// Added to the key group by a rotation; signs once CloudFront says the change has spread.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_key_pair_id: Option<String>,
    /// Keys this machine signed with before a rotation, which no keychain
    /// holds any more; setup removes each from the key group once every link
    /// signed with it has expired.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retired_keys: Vec<RetiredKey>,
}

/// A key pair id taken out of use on this machine, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetiredKey {
    pub id: String,
    pub retired_secs: u64,
}

impl DistributionInfo {
    /// `https://dxxxx.cloudfront.net`: what links on the connection start with.
    pub fn base_url(&self) -> String {
        format!("https://{}", self.domain)
    }
}
