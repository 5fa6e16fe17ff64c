//! The steps in order, each a check (read-only) and, with `--apply`, the
//! change the check found: [`run_steps`] drives them over one [`Ctx`].

use std::sync::Arc;

use super::error::StepError;
use super::report::{Action, Mode, StepReport};
use super::{buckets, distribution, role, signing_keys, Names};
use crate::credentials::{RetiredKey, SecretStore, TranscoderKind};
use crate::model::ConnectionName;

/// What the checks found or apply made, handed from step to step.
#[derive(Debug, Clone, Default)]
pub(super) struct Found {
    pub(super) upload_bucket_exists: bool,
    pub(super) media_bucket_exists: bool,
    pub(super) mediaconvert_role_arn: Option<String>,
    pub(super) elastic_transcoder_role_arn: Option<String>,
    pub(super) key_group_id: Option<String>,
    /// The key this machine signs with (from the settings until the check finds it in the group).
    pub(super) key_pair_id: Option<String>,
    /// A rotation's key, until CloudFront has deployed it.
    pub(super) next_key_pair_id: Option<String>,
    /// Set by the deployment step: CloudFront has deployed the rotation's key.
    pub(super) next_key_live: bool,
    /// Keys this machine retired, not yet removed from the group.
    pub(super) retired_keys: Vec<RetiredKey>,
    pub(super) oac_id: Option<String>,
    pub(super) cache_policy: PolicyRef,
    pub(super) response_headers_policy: PolicyRef,
    pub(super) distribution: Option<FoundDistribution>,
}

/// A CloudFront policy by id, or why there is none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) enum PolicyRef {
    /// Not made yet (a plan before the first apply).
    #[default]
    Missing,
    Id(String),
    /// The endpoint does not implement this kind of policy (moto's server).
    Unsupported,
}

impl PolicyRef {
    pub(super) fn id(&self) -> Option<&str> {
        match self {
            PolicyRef::Id(id) => Some(id),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct FoundDistribution {
    pub(super) id: String,
    pub(super) arn: String,
    pub(super) domain: String,
}

/// Everything a step needs.
pub(super) struct Ctx {
    pub(super) mode: Mode,
    pub(super) s3: aws_sdk_s3::Client,
    pub(super) iam: aws_sdk_iam::Client,
    pub(super) cloudfront: aws_sdk_cloudfront::Client,
    pub(super) names: Names,
    pub(super) region: String,
    /// Set for endpoints other than AWS's (moto): only then may a missing API be skipped.
    pub(super) custom_endpoint: Option<String>,
    pub(super) secrets: Arc<dyn SecretStore>,
    pub(super) connection: ConnectionName,
    pub(super) transcoder: TranscoderKind,
    pub(super) rotate_signing_key: bool,
    /// From the settings: the distribution adopted or made before.
    pub(super) known_distribution_id: Option<String>,
    /// How long an apply waits for CloudFront to report the distribution
    /// deployed; `None`: report how it stands and go on.
    pub(super) wait_for_deployment: Option<std::time::Duration>,
    /// When the last link signed with each retired key expires (secs), from the store.
    pub(super) retired_until: std::collections::HashMap<String, u64>,
    /// The legacy transcoder, when chosen: asked first whether it still takes jobs.
    pub(super) elastic_transcoder: Option<crate::transcode::ElasticTranscoder>,
    pub(super) found: Found,
}

impl Ctx {
    /// `aws`, `aws-cn` or `aws-us-gov`: the ARN partition of the region.
    pub(super) fn partition(&self) -> &'static str {
        super::permissions::partition_of(&self.region)
    }

    pub(super) fn bucket_arn(&self, bucket: &str) -> String {
        format!("arn:{}:s3:::{bucket}", self.partition())
    }

    /// The media bucket's regional REST endpoint, the distribution's origin.
    pub(super) fn media_origin_domain(&self) -> String {
        let suffix = if self.partition() == "aws-cn" { "amazonaws.com.cn" } else { "amazonaws.com" };
        format!("{}.s3.{}.{suffix}", self.names.media_bucket, self.region)
    }

    pub(super) fn applying(&self) -> bool {
        self.mode == Mode::Apply
    }
}

/// What a step's check found: the plan line, plus what apply needs.
pub(super) struct Check<T> {
    pub(super) action: Action,
    pub(super) details: Vec<String>,
    pub(super) state: T,
}

impl<T> Check<T> {
    pub(super) fn new(action: Action, details: Vec<String>, state: T) -> Self {
        Self { action, details, state }
    }
}

/// The steps' reports as they come: kept for the report, and told at once
/// to whoever shows progress (the app's setup wizard).
pub(super) struct Steps<'a> {
    pub(super) done: Vec<StepReport>,
    on_step: &'a OnStep,
}

/// Told each step's report as soon as it has run.
pub type OnStep = dyn Fn(&StepReport) + Send + Sync;

impl<'a> Steps<'a> {
    pub(super) fn new(on_step: &'a OnStep) -> Self {
        Self { done: Vec::new(), on_step }
    }

    pub(super) fn push(&mut self, report: StepReport) {
        (self.on_step)(&report);
        self.done.push(report);
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

pub(super) async fn run_steps(ctx: &mut Ctx, reports: &mut Steps<'_>) -> Result<(), StepError> {
    let n = ctx.names.clone();
    // Before anything is made: AWS discontinued Elastic Transcoder, and an
    // account where it is gone must hear so now, not on its first job.
    if let Some(elastic_transcoder) = &ctx.elastic_transcoder {
        if let Err(err) = elastic_transcoder.check_available().await {
            return Err(StepError {
                step: "elastic-transcoder-service",
                doing: "checking that Elastic Transcoder takes jobs on this account".into(),
                failure: super::error::Failure::Blocked(err.to_string()),
            });
        }
        reports.push(StepReport {
            step: "elastic-transcoder-service",
            action: Action::Exists,
            resource: "elastic transcoder",
            name: "service".into(),
            details: vec![
                "still takes jobs on this account; AWS discontinued it on 2025-11-13, so plan the move to MediaConvert"
                    .into(),
            ],
            applied: ctx.applying(),
        });
    }
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
    // Last: CloudFront spreads a new or changed distribution (or key group) over minutes.
    let deployment = distribution::deployment(ctx).await.map_err(|failure| StepError {
        step: "deployment",
        doing: "checking the CloudFront deployment".into(),
        failure,
    })?;
    reports.push(deployment);
    Ok(())
}

/// Compares two JSON policy documents as data (key order and spacing aside).
/// IAM hands documents back percent-encoded; both forms are accepted.
pub(super) fn same_policy(stored: &str, wanted: &serde_json::Value) -> bool {
    parse_policy(stored).is_some_and(|stored| &stored == wanted)
}

pub(super) fn parse_policy(text: &str) -> Option<serde_json::Value> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        return serde_json::from_str(trimmed).ok();
    }
    let decoded = percent_encoding::percent_decode_str(trimmed).decode_utf8().ok()?;
    serde_json::from_str(&decoded).ok()
}
