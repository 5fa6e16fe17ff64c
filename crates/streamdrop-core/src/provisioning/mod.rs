//! Get-or-create of the AWS resources the flow needs (issue #4), behind
//! `streamdrop setup --plan` and `--apply`. Local mode needs none of this: its
//! buckets are made by [`crate::local`].
//!
//! One code path serves both: every step first *checks* (read-only calls) and
//! says `create`, `update` or `exists`; `--apply` then makes exactly the
//! changes the check found. Resources are found by the names derived from a
//! prefix ([`Names`]), so a second apply changes nothing and resources made by
//! hand under those names are adopted. A failure names the step and the refused
//! action; since nothing is remembered between runs but names, a re-run simply
//! continues where the last one stopped.
//!
//! The steps, in order (each module has `check` and `apply`):
//! 1. [`buckets`]: the temporary upload bucket (lifecycle: objects and
//!    incomplete multipart uploads gone after 1 day; Block Public Access) and
//!    the private media bucket (Block Public Access, bucket-owner-enforced).
//! 2. [`role`]: the MediaConvert service role (trusts mediaconvert.amazonaws.com;
//!    inline policy: read the upload bucket, write the media bucket) and, for the
//!    legacy Elastic Transcoder backend, `Elastic_Transcoder_Default_Role`. The
//!    pipeline itself is made by that backend on its first job.
//! 3. [`signing_keys`]: an RSA-2048 key pair made here (the private key goes to
//!    the OS keychain, never to disk), its public key and the key group.
//! 4. [`distribution`]: the origin access control, the cache policy (no query
//!    string in the cache key, so signatures do not split the cache), the
//!    response headers policy (CORS for the app's webview), the distribution
//!    that trusts the key group, and finally the media bucket policy that lets
//!    only that distribution read (`aws:SourceArn`).

mod buckets;
mod distribution;
mod error;
mod role;
mod signing_keys;

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

pub use error::{ApiError, Failure, StepError};

use crate::credentials::{
    self, AwsConnection, AwsResources, ConnectionError, DistributionInfo, SecretStore, Settings, SettingsError,
    Transcoder, TranscoderKind,
};

use crate::model::ConnectionName;
use crate::DataDir;

/// The distribution's CORS allows the app's webview, as the local edge does.
pub use crate::edge::WEBVIEW_ORIGINS;
/// The role Elastic Transcoder's console used to make; the legacy backend expects this name.
pub const ELASTIC_TRANSCODER_ROLE: &str = "Elastic_Transcoder_Default_Role";

/// Every resource name, derived from one prefix: `--name-prefix streamdrop-acme`
/// gives `streamdrop-acme-uploads`, `streamdrop-acme-media`, …
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Names {
    pub prefix: String,
    pub upload_bucket: String,
    pub media_bucket: String,
    pub mediaconvert_role: String,
    pub mediaconvert_policy: String,
    pub elastic_transcoder_role: String,
    pub elastic_transcoder_policy: String,
    pub elastic_transcoder_pipeline: String,
    pub key_group: String,
    pub public_key_prefix: String,
    pub origin_access_control: String,
    pub cache_policy: String,
    pub response_headers_policy: String,
    pub distribution_comment: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{prefix:?} cannot be a name prefix: {why} (it names buckets, so: 3 to 40 of a-z, 0-9 and -, starting and ending with a letter or digit)")]
pub struct BadPrefix {
    pub prefix: String,
    pub why: &'static str,
}

impl Names {
    pub fn from_prefix(prefix: &str) -> Result<Self, BadPrefix> {
        let bad = |why| Err(BadPrefix { prefix: prefix.to_owned(), why });
        if !(3..=40).contains(&prefix.len()) {
            return bad("it must be 3 to 40 characters long");
        }
        if !prefix.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
            return bad("only lowercase letters, digits and hyphens are allowed");
        }
        let ends_ok = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_alphanumeric());
        if !ends_ok(prefix.as_bytes().first()) || !ends_ok(prefix.as_bytes().last()) {
            return bad("it must start and end with a letter or digit");
        }
        if prefix.contains("--") || prefix.starts_with("xn-") || prefix.starts_with("sthree-") {
            return bad("S3 reserves that form");
        }
        Ok(Self {
            prefix: prefix.to_owned(),
            upload_bucket: format!("{prefix}-uploads"),
            media_bucket: format!("{prefix}-media"),
            mediaconvert_role: format!("{prefix}-mediaconvert"),
            mediaconvert_policy: "streamdrop-mediaconvert-s3".into(),
            elastic_transcoder_role: ELASTIC_TRANSCODER_ROLE.into(),
            elastic_transcoder_policy: format!("{prefix}-elastic-transcoder-s3"),
            elastic_transcoder_pipeline: format!("{prefix}-pipeline"),
            key_group: format!("{prefix}-signers"),
            public_key_prefix: format!("{prefix}-signer"),
            origin_access_control: format!("{prefix}-media"),
            cache_policy: format!("{prefix}-signed-media"),
            response_headers_policy: format!("{prefix}-webview-cors"),
            distribution_comment: format!("Streamdrop media ({prefix})"),
        })
    }
}

/// What a step found, or (after apply) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Create,
    Update,
    Exists,
    /// Not done here: the endpoint does not implement it (moto), or it is not needed.
    Skip,
    /// Made later by something else (the Elastic Transcoder pipeline, on its first job).
    Later,
}

impl Action {
    /// The word of a plan line.
    pub fn planned(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Exists => "exists",
            Action::Skip => "skip",
            Action::Later => "later",
        }
    }

    /// The word of an apply line.
    pub fn applied(self) -> &'static str {
        match self {
            Action::Create => "created",
            Action::Update => "updated",
            Action::Exists => "exists",
            Action::Skip => "skipped",
            Action::Later => "later",
        }
    }

    pub fn changes_something(self) -> bool {
        matches!(self, Action::Create | Action::Update)
    }
}

/// One line of a plan or of an apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StepReport {
    /// `upload-bucket`, `media-bucket`, `mediaconvert-role`, …
    pub step: &'static str,
    pub action: Action,
    /// `s3 bucket`, `iam role`, `cloudfront key group`, …
    pub resource: &'static str,
    pub name: String,
    /// What is (or was) created or changed, and notes.
    pub details: Vec<String>,
    /// Set once applied (`--apply` only).
    pub applied: bool,
}

impl StepReport {
    /// `create  s3 bucket streamdrop-acme-uploads (expire objects after 1 day; …)`
    pub fn line(&self) -> String {
        let word = if self.applied { self.action.applied() } else { self.action.planned() };
        let mut line = format!("{word:<8}{} {}", self.resource, self.name);
        if !self.details.is_empty() {
            line.push_str(&format!(" ({})", self.details.join("; ")));
        }
        line
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    Plan,
    Apply,
}

/// Flags of `streamdrop setup`.
#[derive(Debug, Clone, Default)]
pub struct SetupOptions {
    /// Derives every name; needed on the first setup, remembered after it.
    pub name_prefix: Option<String>,
    /// One endpoint for S3, IAM and CloudFront for this run (moto's server in
    /// tests); else the connection's.
    pub endpoint_url: Option<String>,
    /// Default: the connection's, else MediaConvert.
    pub transcoder: Option<TranscoderKind>,
    /// When the key group exists but this machine's keychain has no private key
    /// for it: make a new key pair and add its public key to the group.
    pub rotate_signing_key: bool,
}

/// Problems found before any AWS call.
#[derive(Debug, thiserror::Error)]
pub enum PreflightError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error("the Local connection needs no setup: its buckets are made by the local stack on start")]
    Local,
    #[error(
        "connection {0:?} has no resource names yet: pass --name-prefix (e.g. --name-prefix streamdrop-yourcompany; \
         it becomes streamdrop-yourcompany-uploads, streamdrop-yourcompany-media, …)"
    )]
    NoPrefix(String),
    #[error(transparent)]
    BadPrefix(#[from] BadPrefix),
    #[error(transparent)]
    Connection(#[from] ConnectionError),
}

/// The result of a plan or an apply: a line per step that ran, and the error
/// that stopped it, if any.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SetupReport {
    pub mode: Mode,
    pub connection: String,
    pub names: Names,
    pub steps: Vec<StepReport>,
    #[serde(serialize_with = "serialize_error")]
    pub error: Option<StepError>,
    /// After a successful apply: what the app needs to serve signed links.
    #[serde(serialize_with = "serialize_distribution")]
    pub distribution: Option<DistributionInfo>,
}

impl SetupReport {
    pub fn succeeded(&self) -> bool {
        self.error.is_none()
    }

    /// Whether anything would change (plan) or changed (apply).
    pub fn changes(&self) -> bool {
        self.steps.iter().any(|s| s.action.changes_something())
    }
}

/// `{id, domain, keyPairId}`, like the rest of the CLI's JSON (the settings
/// file keeps its own snake_case form).
fn serialize_distribution<S: serde::Serializer>(d: &Option<DistributionInfo>, s: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Wire<'a> {
        id: &'a str,
        domain: &'a str,
        key_pair_id: &'a str,
    }
    match d {
        None => s.serialize_none(),
        Some(d) => Wire { id: &d.id, domain: &d.domain, key_pair_id: &d.key_pair_id }.serialize(s),
    }
}

fn serialize_error<S: serde::Serializer>(error: &Option<StepError>, s: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Wire<'a> {
        step: &'a str,
        doing: &'a str,
        action: Option<&'a str>,
        denied: bool,
        message: String,
    }
    match error {
        None => s.serialize_none(),
        Some(err) => Wire {
            step: err.step,
            doing: &err.doing,
            action: err.action(),
            denied: err.denied_action().is_some(),
            message: err.to_string(),
        }
        .serialize(s),
    }
}

/// What the checks found or apply made, handed from step to step.
#[derive(Debug, Clone, Default)]
struct Found {
    upload_bucket_exists: bool,
    media_bucket_exists: bool,
    mediaconvert_role_arn: Option<String>,
    elastic_transcoder_role_arn: Option<String>,
    key_group_id: Option<String>,
    key_pair_id: Option<String>,
    oac_id: Option<String>,
    cache_policy: PolicyRef,
    response_headers_policy: PolicyRef,
    distribution: Option<FoundDistribution>,
}

/// A CloudFront policy by id, or why there is none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
enum PolicyRef {
    /// Not made yet (a plan before the first apply).
    #[default]
    Missing,
    Id(String),
    /// The endpoint does not implement this kind of policy (moto's server).
    Unsupported,
}

impl PolicyRef {
    fn id(&self) -> Option<&str> {
        match self {
            PolicyRef::Id(id) => Some(id),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct FoundDistribution {
    id: String,
    arn: String,
    domain: String,
}

/// Everything a step needs.
struct Ctx {
    mode: Mode,
    s3: aws_sdk_s3::Client,
    iam: aws_sdk_iam::Client,
    cloudfront: aws_sdk_cloudfront::Client,
    names: Names,
    region: String,
    /// Set for endpoints other than AWS's (moto): only then may a missing API be skipped.
    custom_endpoint: Option<String>,
    secrets: Arc<dyn SecretStore>,
    connection: ConnectionName,
    transcoder: TranscoderKind,
    rotate_signing_key: bool,
    /// From the settings: the distribution adopted or made before.
    known_distribution_id: Option<String>,
    found: Found,
}

impl Ctx {
    /// `aws`, `aws-cn` or `aws-us-gov`: the ARN partition of the region.
    fn partition(&self) -> &'static str {
        if self.region.starts_with("cn-") {
            "aws-cn"
        } else if self.region.starts_with("us-gov-") {
            "aws-us-gov"
        } else {
            "aws"
        }
    }

    fn bucket_arn(&self, bucket: &str) -> String {
        format!("arn:{}:s3:::{bucket}", self.partition())
    }

    /// The media bucket's regional REST endpoint, the distribution's origin.
    fn media_origin_domain(&self) -> String {
        let suffix = if self.partition() == "aws-cn" { "amazonaws.com.cn" } else { "amazonaws.com" };
        format!("{}.s3.{}.{suffix}", self.names.media_bucket, self.region)
    }

    fn applying(&self) -> bool {
        self.mode == Mode::Apply
    }
}

/// What a step's check found: the plan line, plus what apply needs.
struct Check<T> {
    action: Action,
    details: Vec<String>,
    state: T,
}

impl<T> Check<T> {
    fn new(action: Action, details: Vec<String>, state: T) -> Self {
        Self { action, details, state }
    }
}

/// Runs one step: check, then (applying, and if something must change) apply.
/// `$what` names the resource for messages: "the MediaConvert service role X".
macro_rules! step {
    ($ctx:expr, $reports:expr, $id:literal, $resource:literal, $name:expr, $what:expr, $check:path, $apply:path) => {{
        let name: String = $name;
        let what: String = $what;
        let check = match $check(&mut *$ctx).await {
            Ok(check) => check,
            Err(failure) => return Err(StepError { step: $id, doing: format!("checking {what}"), failure }),
        };
        let mut report = StepReport {
            step: $id,
            action: check.action,
            resource: $resource,
            name,
            details: check.details.clone(),
            applied: false,
        };
        if $ctx.applying() {
            let verb = match check.action {
                Action::Update => "updating",
                _ => "creating",
            };
            if check.action.changes_something() {
                if let Err(failure) = $apply(&mut *$ctx, check).await {
                    return Err(StepError { step: $id, doing: format!("{verb} {what}"), failure });
                }
            }
            report.applied = true;
        }
        $reports.push(report);
    }};
}

async fn run_steps(ctx: &mut Ctx, reports: &mut Vec<StepReport>) -> Result<(), StepError> {
    let n = ctx.names.clone();
    step!(
        ctx,
        reports,
        "upload-bucket",
        "s3 bucket",
        n.upload_bucket.clone(),
        format!("the temporary upload bucket {}", n.upload_bucket),
        buckets::check_uploads,
        buckets::apply_uploads
    );
    step!(
        ctx,
        reports,
        "media-bucket",
        "s3 bucket",
        n.media_bucket.clone(),
        format!("the private media bucket {}", n.media_bucket),
        buckets::check_media,
        buckets::apply_media
    );
    step!(
        ctx,
        reports,
        "mediaconvert-role",
        "iam role",
        n.mediaconvert_role.clone(),
        format!("the MediaConvert service role {}", n.mediaconvert_role),
        role::check_mediaconvert,
        role::apply_mediaconvert
    );
    if ctx.transcoder == TranscoderKind::ElasticTranscoder {
        step!(
            ctx,
            reports,
            "elastic-transcoder-role",
            "iam role",
            n.elastic_transcoder_role.clone(),
            format!("the Elastic Transcoder role {}", n.elastic_transcoder_role),
            role::check_elastic_transcoder,
            role::apply_elastic_transcoder
        );
        reports.push(StepReport {
            step: "elastic-transcoder-pipeline",
            action: Action::Later,
            resource: "elastic transcoder pipeline",
            name: n.elastic_transcoder_pipeline.clone(),
            details: vec![
                "created on the first Elastic Transcoder job (the service was discontinued on 2025-11-13)".into()
            ],
            applied: ctx.applying(),
        });
    }
    step!(
        ctx,
        reports,
        "signing-key",
        "cloudfront key group",
        n.key_group.clone(),
        format!("the CloudFront signing key group {}", n.key_group),
        signing_keys::check,
        signing_keys::apply
    );
    step!(
        ctx,
        reports,
        "origin-access-control",
        "cloudfront origin access control",
        n.origin_access_control.clone(),
        format!("the origin access control {}", n.origin_access_control),
        distribution::check_oac,
        distribution::apply_oac
    );
    step!(
        ctx,
        reports,
        "cache-policy",
        "cloudfront cache policy",
        n.cache_policy.clone(),
        format!("the cache policy {}", n.cache_policy),
        distribution::check_cache_policy,
        distribution::apply_cache_policy
    );
    step!(
        ctx,
        reports,
        "response-headers-policy",
        "cloudfront response headers policy",
        n.response_headers_policy.clone(),
        format!("the response headers policy {}", n.response_headers_policy),
        distribution::check_response_headers_policy,
        distribution::apply_response_headers_policy
    );
    step!(
        ctx,
        reports,
        "distribution",
        "cloudfront distribution",
        n.distribution_comment.clone(),
        format!("the CloudFront distribution for {}", n.media_bucket),
        distribution::check_distribution,
        distribution::apply_distribution
    );
    step!(
        ctx,
        reports,
        "media-bucket-policy",
        "s3 bucket policy",
        n.media_bucket.clone(),
        format!("the bucket policy of {}", n.media_bucket),
        buckets::check_media_policy,
        buckets::apply_media_policy
    );
    Ok(())
}

/// Plans or applies the setup of connection `connection_name` (the active
/// connection when `None`). Saves what apply made to the settings, also when a
/// step fails, so the app and the next run see it.
pub async fn run(
    data_dir: &DataDir,
    connection_name: Option<&str>,
    secrets: Arc<dyn SecretStore>,
    options: &SetupOptions,
    mode: Mode,
) -> Result<SetupReport, PreflightError> {
    let settings = Settings::load(data_dir)?;
    let name = connection_name.map(str::to_owned).unwrap_or_else(|| settings.active_name().to_string());
    let connection: AwsConnection = match settings.get(&name) {
        None => return Err(SettingsError::NoSuchConnection(name).into()),
        Some(credentials::Connection::Local) => return Err(PreflightError::Local),
        Some(credentials::Connection::Aws(aws)) => aws.clone(),
    };
    let previous = connection.resources.clone();
    let prefix = match (&options.name_prefix, &previous) {
        (Some(prefix), _) => prefix.clone(),
        (None, Some(resources)) if !resources.name_prefix.is_empty() => resources.name_prefix.clone(),
        _ => return Err(PreflightError::NoPrefix(connection.name.to_string())),
    };
    let names = Names::from_prefix(&prefix)?;
    let transcoder = options
        .transcoder
        .or_else(|| previous.as_ref().map(|r| r.transcoder.kind()))
        .unwrap_or(TranscoderKind::MediaConvert);
    let target = credentials::target(&connection, &secrets, options.endpoint_url.as_deref()).await?;
    // A distribution remembered for other names is not ours to adopt.
    let known_distribution_id = previous
        .as_ref()
        .filter(|r| r.media_bucket == names.media_bucket)
        .and_then(|r| r.distribution.as_ref())
        .map(|d| d.id.clone());

    let mut ctx = Ctx {
        mode,
        s3: target.s3(),
        iam: target.iam(),
        cloudfront: target.cloudfront(),
        names: names.clone(),
        region: connection.region.clone(),
        custom_endpoint: target.endpoint_url.clone(),
        secrets,
        connection: connection.name.clone(),
        transcoder,
        rotate_signing_key: options.rotate_signing_key,
        known_distribution_id,
        found: Found::default(),
    };
    let mut steps = Vec::new();
    let error = run_steps(&mut ctx, &mut steps).await.err();
    if let Some(err) = &error {
        tracing::info!(step = err.step, "setup stopped: {err}");
    }

    let distribution = match (&ctx.found.distribution, &ctx.found.key_pair_id) {
        (Some(d), Some(key_pair_id)) => {
            Some(DistributionInfo { id: d.id.clone(), domain: d.domain.clone(), key_pair_id: key_pair_id.clone() })
        }
        _ => None,
    };
    if mode == Mode::Apply {
        let found = &ctx.found;
        let transcoder = match transcoder {
            TranscoderKind::LocalFfmpeg => Transcoder::LocalFfmpeg,
            TranscoderKind::MediaConvert => Transcoder::MediaConvert { role_arn: found.mediaconvert_role_arn.clone() },
            TranscoderKind::ElasticTranscoder => Transcoder::ElasticTranscoder {
                role_arn: found.elastic_transcoder_role_arn.clone(),
                pipeline: names.elastic_transcoder_pipeline.clone(),
            },
        };
        let resources = AwsResources {
            name_prefix: names.prefix.clone(),
            upload_bucket: names.upload_bucket.clone(),
            media_bucket: names.media_bucket.clone(),
            transcoder,
            distribution: distribution.clone(),
        };
        if found.upload_bucket_exists || found.media_bucket_exists {
            // Re-read: another command may have changed other connections meanwhile.
            let mut latest = Settings::load(data_dir)?;
            if let Ok(stored) = latest.get_aws_mut(connection.name.as_str()) {
                let mut merged = resources;
                // Keep what an earlier run learned that this one did not reach.
                if let Some(old) = stored.resources.as_ref().filter(|old| old.media_bucket == merged.media_bucket) {
                    if merged.distribution.is_none() {
                        merged.distribution = old.distribution.clone();
                    }
                    merged.transcoder = keep_known_role(merged.transcoder, &old.transcoder);
                }
                stored.resources = Some(merged);
                latest.save(data_dir)?;
            }
        }
    }
    Ok(SetupReport { mode, connection: connection.name.to_string(), names, steps, error, distribution })
}

fn keep_known_role(new: Transcoder, old: &Transcoder) -> Transcoder {
    match (new, old) {
        (Transcoder::MediaConvert { role_arn: None }, Transcoder::MediaConvert { role_arn: Some(arn) }) => {
            Transcoder::MediaConvert { role_arn: Some(arn.clone()) }
        }
        (
            Transcoder::ElasticTranscoder { role_arn: None, pipeline },
            Transcoder::ElasticTranscoder { role_arn: Some(arn), .. },
        ) => Transcoder::ElasticTranscoder { role_arn: Some(arn.clone()), pipeline },
        (new, _) => new,
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::Plan => "plan",
            Mode::Apply => "apply",
        })
    }
}

/// Compares two JSON policy documents as data (key order and spacing aside).
/// IAM hands documents back percent-encoded; both forms are accepted.
fn same_policy(stored: &str, wanted: &serde_json::Value) -> bool {
    parse_policy(stored).is_some_and(|stored| &stored == wanted)
}

fn parse_policy(text: &str) -> Option<serde_json::Value> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        return serde_json::from_str(trimmed).ok();
    }
    let decoded = percent_encoding::percent_decode_str(trimmed).decode_utf8().ok()?;
    serde_json::from_str(&decoded).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_prefix() {
        let n = Names::from_prefix("streamdrop-acme").unwrap();
        assert_eq!(n.upload_bucket, "streamdrop-acme-uploads");
        assert_eq!(n.media_bucket, "streamdrop-acme-media");
        assert_eq!(n.mediaconvert_role, "streamdrop-acme-mediaconvert");
        assert_eq!(n.key_group, "streamdrop-acme-signers");
        for bad in ["ab", "Streamdrop", "a_b", "-ab", "ab-", "a--b", "xn-abc", &"a".repeat(41)] {
            assert!(Names::from_prefix(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn policies_compare_as_data_in_either_encoding() {
        let wanted = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow"}]});
        assert!(same_policy(r#"{"Statement":[{"Effect":"Allow"}],"Version":"2012-10-17"}"#, &wanted));
        assert!(same_policy(
            "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%7D%5D%7D",
            &wanted
        ));
        assert!(!same_policy(r#"{"Version":"2012-10-17","Statement":[]}"#, &wanted));
    }

    #[test]
    fn report_lines_read_like_a_plan() {
        let report = StepReport {
            step: "upload-bucket",
            action: Action::Create,
            resource: "s3 bucket",
            name: "p-uploads".into(),
            details: vec!["expire objects after 1 day".into()],
            applied: false,
        };
        assert_eq!(report.line(), "create  s3 bucket p-uploads (expire objects after 1 day)");
        let applied = StepReport { applied: true, ..report };
        assert_eq!(applied.line(), "created s3 bucket p-uploads (expire objects after 1 day)");
    }
}
