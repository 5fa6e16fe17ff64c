//! The two buckets and the media bucket's policy.
//!
//! - Upload bucket (temporary): a lifecycle rule expires objects and aborts
//!   incomplete multipart uploads after 1 day; Block Public Access on.
//! - Media bucket (private distribution bucket): Block Public Access on, object
//!   ownership bucket-owner-enforced (no ACLs), and, once the distribution
//!   exists, a policy that lets only that distribution read (`aws:SourceArn`).
//!   Other statements in an existing policy are kept.

use std::time::{Duration, Instant};

use aws_sdk_s3::types::{
    AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, BucketLocationConstraint, CreateBucketConfiguration,
    ExpirationStatus, LifecycleExpiration, LifecycleRule, LifecycleRuleFilter, ObjectOwnership, OwnershipControls,
    OwnershipControlsRule, PublicAccessBlockConfiguration,
};
use serde_json::{json, Value};

use super::error::{api, Failure};
use super::steps::{parse_policy, Check, Ctx};
use super::Action;

/// Id of the upload bucket's lifecycle rule.
pub(super) const LIFECYCLE_RULE_ID: &str = "streamdrop-expire-uploads";
/// Sid of the media bucket policy's statement.
pub(super) const POLICY_SID: &str = "StreamdropCloudFrontRead";

pub(super) struct BucketState {
    exists: bool,
    lifecycle: Option<Vec<LifecycleRule>>,
    public_access_block: bool,
    ownership: bool,
}

/// HeadBucket: `Ok(true)` if the bucket is ours, `Ok(false)` if there is none.
pub(super) async fn bucket_exists(ctx: &Ctx, bucket: &str) -> Result<bool, Failure> {
    let err = match ctx.s3.head_bucket().bucket(bucket).send().await {
        Ok(_) => return Ok(true),
        Err(err) => super::error::ApiError::from_sdk("s3:ListBucket", &err),
    };
    match err.status {
        Some(404) => Ok(false),
        Some(301) => Err(Failure::Blocked(format!(
            "bucket {bucket} exists in a region other than {}: choose another --name-prefix, or use that region",
            ctx.region
        ))),
        Some(403) => {
            // Either someone else's bucket, or ours without s3:ListBucket: our
            // own bucket list tells which.
            let mine = ctx.s3.list_buckets().send().await.map_err(api("s3:ListAllMyBuckets"))?;
            if mine.buckets().iter().any(|b| b.name() == Some(bucket)) {
                Err(Failure::Api(err))
            } else {
                Err(Failure::Blocked(format!(
                    "the bucket name {bucket} is taken by another AWS account (bucket names are global): \
                     choose another --name-prefix"
                )))
            }
        }
        _ => Err(Failure::Api(err)),
    }
}

/// Right after CreateBucket, AWS may still answer NoSuchBucket for a moment.
async fn wait_for_bucket(ctx: &Ctx, bucket: &str) -> Result<(), Failure> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match bucket_exists(ctx, bucket).await {
            Ok(true) => return Ok(()),
            Ok(false) if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(500)).await,
            Ok(false) => return Err(Failure::Blocked(format!("bucket {bucket} was created but does not show up"))),
            Err(err) => return Err(err),
        }
    }
}

async fn create_bucket(ctx: &Ctx, bucket: &str, ownership: Option<ObjectOwnership>) -> Result<(), Failure> {
    let mut request = ctx.s3.create_bucket().bucket(bucket);
    if ctx.region != "us-east-1" {
        request = request.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(ctx.region.as_str()))
                .build(),
        );
    }
    if let Some(ownership) = ownership {
        request = request.object_ownership(ownership);
    }
    match request.send().await {
        Ok(_) => {}
        Err(err) => {
            let err = super::error::ApiError::from_sdk("s3:CreateBucket", &err);
            if !err.is_code("BucketAlreadyOwnedByYou") {
                return Err(if err.is_code("BucketAlreadyExists") {
                    Failure::Blocked(format!(
                        "the bucket name {bucket} is taken by another AWS account (bucket names are global): \
                         choose another --name-prefix"
                    ))
                } else {
                    Failure::Api(err)
                });
            }
        }
    }
    wait_for_bucket(ctx, bucket).await
}

async fn has_public_access_block(ctx: &Ctx, bucket: &str) -> Result<bool, Failure> {
    match ctx.s3.get_public_access_block().bucket(bucket).send().await {
        Ok(out) => Ok(out.public_access_block_configuration().is_some_and(|c| {
            c.block_public_acls() == Some(true)
                && c.ignore_public_acls() == Some(true)
                && c.block_public_policy() == Some(true)
                && c.restrict_public_buckets() == Some(true)
        })),
        Err(err) => {
            let err = super::error::ApiError::from_sdk("s3:GetBucketPublicAccessBlock", &err);
            if err.is_code("NoSuchPublicAccessBlockConfiguration") {
                Ok(false)
            } else {
                Err(Failure::Api(err))
            }
        }
    }
}

async fn put_public_access_block(ctx: &Ctx, bucket: &str) -> Result<(), Failure> {
    let config = PublicAccessBlockConfiguration::builder()
        .block_public_acls(true)
        .ignore_public_acls(true)
        .block_public_policy(true)
        .restrict_public_buckets(true)
        .build();
    ctx.s3
        .put_public_access_block()
        .bucket(bucket)
        .public_access_block_configuration(config)
        .send()
        .await
        .map_err(api("s3:PutBucketPublicAccessBlock"))?;
    Ok(())
}

// ---- upload bucket ------------------------------------------------------------

/// A rule that applies to every object of the bucket.
fn whole_bucket(rule: &LifecycleRule) -> bool {
    #[allow(deprecated)]
    let legacy_prefix = rule.prefix().unwrap_or_default();
    let filter_ok = match rule.filter() {
        None => true,
        Some(f) => {
            f.prefix().unwrap_or_default().is_empty()
                && f.tag().is_none()
                && f.and().is_none()
                && f.object_size_greater_than().is_none()
                && f.object_size_less_than().is_none()
        }
    };
    legacy_prefix.is_empty() && filter_ok && rule.status() == &ExpirationStatus::Enabled
}

fn lifecycle_ok(rules: &[LifecycleRule]) -> bool {
    let expires = rules.iter().any(|r| whole_bucket(r) && r.expiration().and_then(|e| e.days()) == Some(1));
    let aborts = rules.iter().any(|r| {
        whole_bucket(r) && r.abort_incomplete_multipart_upload().and_then(|a| a.days_after_initiation()) == Some(1)
    });
    expires && aborts
}

fn lifecycle_rule() -> LifecycleRule {
    LifecycleRule::builder()
        .id(LIFECYCLE_RULE_ID)
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix("").build())
        .expiration(LifecycleExpiration::builder().days(1).build())
        .abort_incomplete_multipart_upload(AbortIncompleteMultipartUpload::builder().days_after_initiation(1).build())
        .build()
        .expect("the lifecycle rule has its required fields")
}

const LIFECYCLE_DETAIL: &str =
    "lifecycle: objects expire after 1 day, incomplete multipart uploads are aborted after 1 day";

pub(super) async fn check_uploads(ctx: &mut Ctx) -> Result<Check<BucketState>, Failure> {
    let bucket = ctx.names.upload_bucket.clone();
    let exists = bucket_exists(ctx, &bucket).await?;
    ctx.found.upload_bucket_exists = exists;
    if !exists {
        let details = vec![LIFECYCLE_DETAIL.into(), "Block Public Access on".into()];
        return Ok(Check::new(
            Action::Create,
            details,
            BucketState { exists, lifecycle: None, public_access_block: false, ownership: true },
        ));
    }
    let rules = match ctx.s3.get_bucket_lifecycle_configuration().bucket(&bucket).send().await {
        Ok(out) => out.rules().to_vec(),
        Err(err) => {
            let err = super::error::ApiError::from_sdk("s3:GetLifecycleConfiguration", &err);
            if err.is_code("NoSuchLifecycleConfiguration") {
                Vec::new()
            } else {
                return Err(Failure::Api(err));
            }
        }
    };
    let public_access_block = has_public_access_block(ctx, &bucket).await?;
    let mut details = Vec::new();
    let lifecycle = if lifecycle_ok(&rules) {
        None
    } else {
        details.push(format!("add {LIFECYCLE_DETAIL}"));
        Some(rules)
    };
    if !public_access_block {
        details.push("turn Block Public Access on".into());
    }
    let action = if details.is_empty() { Action::Exists } else { Action::Update };
    Ok(Check::new(action, details, BucketState { exists, lifecycle, public_access_block, ownership: true }))
}

pub(super) async fn apply_uploads(ctx: &mut Ctx, check: Check<BucketState>) -> Result<(), Failure> {
    let bucket = ctx.names.upload_bucket.clone();
    let state = check.state;
    if !state.exists {
        create_bucket(ctx, &bucket, None).await?;
        ctx.found.upload_bucket_exists = true;
    }
    if !state.exists || state.lifecycle.is_some() {
        // Keep the bucket's other rules; replace ours.
        let mut rules: Vec<LifecycleRule> =
            state.lifecycle.unwrap_or_default().into_iter().filter(|r| r.id() != Some(LIFECYCLE_RULE_ID)).collect();
        rules.push(lifecycle_rule());
        let config = BucketLifecycleConfiguration::builder()
            .set_rules(Some(rules))
            .build()
            .expect("the lifecycle configuration has its rules");
        ctx.s3
            .put_bucket_lifecycle_configuration()
            .bucket(&bucket)
            .lifecycle_configuration(config)
            .send()
            .await
            .map_err(api("s3:PutLifecycleConfiguration"))?;
    }
    if !state.public_access_block {
        put_public_access_block(ctx, &bucket).await?;
    }
    Ok(())
}

// ---- media bucket -------------------------------------------------------------

pub(super) async fn check_media(ctx: &mut Ctx) -> Result<Check<BucketState>, Failure> {
    let bucket = ctx.names.media_bucket.clone();
    let exists = bucket_exists(ctx, &bucket).await?;
    ctx.found.media_bucket_exists = exists;
    if !exists {
        let details = vec!["private: Block Public Access on".into(), "object ownership: bucket owner enforced".into()];
        return Ok(Check::new(
            Action::Create,
            details,
            BucketState { exists, lifecycle: None, public_access_block: false, ownership: false },
        ));
    }
    let public_access_block = has_public_access_block(ctx, &bucket).await?;
    let ownership = match ctx.s3.get_bucket_ownership_controls().bucket(&bucket).send().await {
        Ok(out) => out
            .ownership_controls()
            .is_some_and(|c| c.rules().iter().any(|r| r.object_ownership() == &ObjectOwnership::BucketOwnerEnforced)),
        Err(err) => {
            let err = super::error::ApiError::from_sdk("s3:GetBucketOwnershipControls", &err);
            if err.is_code("OwnershipControlsNotFoundError") {
                false
            } else {
                return Err(Failure::Api(err));
            }
        }
    };
    let mut details = Vec::new();
    if !public_access_block {
        details.push("turn Block Public Access on".into());
    }
    if !ownership {
        details.push("set object ownership to bucket owner enforced".into());
    }
    let action = if details.is_empty() { Action::Exists } else { Action::Update };
    Ok(Check::new(action, details, BucketState { exists, lifecycle: None, public_access_block, ownership }))
}

pub(super) async fn apply_media(ctx: &mut Ctx, check: Check<BucketState>) -> Result<(), Failure> {
    let bucket = ctx.names.media_bucket.clone();
    let state = check.state;
    if !state.exists {
        create_bucket(ctx, &bucket, Some(ObjectOwnership::BucketOwnerEnforced)).await?;
        ctx.found.media_bucket_exists = true;
    }
    if !state.public_access_block {
        put_public_access_block(ctx, &bucket).await?;
    }
    if !state.ownership {
        let controls = OwnershipControls::builder()
            .rules(
                OwnershipControlsRule::builder()
                    .object_ownership(ObjectOwnership::BucketOwnerEnforced)
                    .build()
                    .expect("the ownership rule has its required field"),
            )
            .build()
            .expect("the ownership controls have their rules");
        ctx.s3
            .put_bucket_ownership_controls()
            .bucket(&bucket)
            .ownership_controls(controls)
            .send()
            .await
            .map_err(api("s3:PutBucketOwnershipControls"))?;
    }
    Ok(())
}

// ---- media bucket policy ------------------------------------------------------

pub(super) struct PolicyState {
    /// The bucket's policy now, if it has one.
    existing: Option<Value>,
}

/// The statement that lets only the distribution read.
fn read_statement(ctx: &Ctx, distribution_arn: &str) -> Value {
    json!({
        "Sid": POLICY_SID,
        "Effect": "Allow",
        "Principal": { "Service": "cloudfront.amazonaws.com" },
        "Action": "s3:GetObject",
        "Resource": format!("{}/*", ctx.bucket_arn(&ctx.names.media_bucket)),
        "Condition": { "StringEquals": { "AWS:SourceArn": distribution_arn } }
    })
}

fn statements(policy: &Value) -> Vec<Value> {
    match policy.get("Statement") {
        Some(Value::Array(items)) => items.clone(),
        Some(single @ Value::Object(_)) => vec![single.clone()],
        _ => Vec::new(),
    }
}

pub(super) async fn check_media_policy(ctx: &mut Ctx) -> Result<Check<PolicyState>, Failure> {
    let detail = "let only the CloudFront distribution read (origin access control, aws:SourceArn)".to_owned();
    if !ctx.found.media_bucket_exists {
        return Ok(Check::new(Action::Create, vec![detail], PolicyState { existing: None }));
    }
    let existing = match ctx.s3.get_bucket_policy().bucket(&ctx.names.media_bucket).send().await {
        Ok(out) => out.policy().and_then(parse_policy),
        Err(err) => {
            let err = super::error::ApiError::from_sdk("s3:GetBucketPolicy", &err);
            if err.is_code("NoSuchBucketPolicy") {
                None
            } else {
                return Err(Failure::Api(err));
            }
        }
    };
    let ours = existing
        .as_ref()
        .and_then(|p| statements(p).into_iter().find(|s| s.get("Sid").and_then(Value::as_str) == Some(POLICY_SID)));
    let action = match (&ours, &ctx.found.distribution) {
        (None, _) => {
            if existing.is_some() {
                Action::Update
            } else {
                Action::Create
            }
        }
        (Some(_), None) => Action::Update,
        (Some(statement), Some(distribution)) => {
            if *statement == read_statement(ctx, &distribution.arn) {
                return Ok(Check::new(Action::Exists, vec![], PolicyState { existing }));
            }
            Action::Update
        }
    };
    Ok(Check::new(action, vec![detail], PolicyState { existing }))
}

pub(super) async fn apply_media_policy(ctx: &mut Ctx, check: Check<PolicyState>) -> Result<(), Failure> {
    let Some(distribution) = ctx.found.distribution.clone() else {
        return Err(Failure::Blocked("the distribution is not known, so its read access cannot be granted".into()));
    };
    let wanted = read_statement(ctx, &distribution.arn);
    let mut statements: Vec<Value> = check
        .state
        .existing
        .as_ref()
        .map(statements)
        .unwrap_or_default()
        .into_iter()
        .filter(|s| s.get("Sid").and_then(Value::as_str) != Some(POLICY_SID))
        .collect();
    statements.push(wanted);
    let mut policy = check.state.existing.unwrap_or_else(|| json!({ "Version": "2012-10-17" }));
    policy["Statement"] = Value::Array(statements);
    if policy.get("Version").is_none() {
        policy["Version"] = json!("2012-10-17");
    }
    ctx.s3
        .put_bucket_policy()
        .bucket(&ctx.names.media_bucket)
        .policy(policy.to_string())
        .send()
        .await
        .map_err(api("s3:PutBucketPolicy"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_rule_satisfies_the_lifecycle_check_and_others_do_not() {
        assert!(lifecycle_ok(&[lifecycle_rule()]));
        let prefixed = LifecycleRule::builder()
            .status(ExpirationStatus::Enabled)
            .filter(LifecycleRuleFilter::builder().prefix("raw/").build())
            .expiration(LifecycleExpiration::builder().days(1).build())
            .abort_incomplete_multipart_upload(
                AbortIncompleteMultipartUpload::builder().days_after_initiation(1).build(),
            )
            .build()
            .unwrap();
        assert!(!lifecycle_ok(&[prefixed]));
        let week = LifecycleRule::builder()
            .status(ExpirationStatus::Enabled)
            .expiration(LifecycleExpiration::builder().days(7).build())
            .build()
            .unwrap();
        assert!(!lifecycle_ok(&[week]));
    }
}
