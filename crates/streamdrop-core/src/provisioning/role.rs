//! Service roles the cloud transcoders assume: one for MediaConvert (named
//! from the prefix) and, for the legacy Elastic Transcoder backend,
//! `Elastic_Transcoder_Default_Role`. Each trusts only its service and has one
//! least-privilege inline policy: read the jobs' originals, write their streams.

use aws_sdk_iam::types::Tag;
use serde_json::{json, Value};

use super::error::{api, ApiError, Failure};
use super::steps::{same_policy, Check, Ctx};
use super::Action;

struct RoleSpec {
    name: String,
    service: &'static str,
    policy_name: String,
}

pub(super) struct RoleState {
    arn: Option<String>,
    trust_ok: bool,
    policy_ok: bool,
    trust: Value,
    policy: Value,
}

fn trust_policy(service: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Service": service },
            "Action": "sts:AssumeRole"
        }]
    })
}

/// Exactly what a transcoding job uses: read a job's original, write its
/// stream, in the media bucket (every backend reads the copy there, never the
/// uploads bucket); locating the bucket is all else a service asks. No
/// `Condition`s: a narrower resource says the same and every evaluator reads it.
fn access_policy(ctx: &Ctx) -> Value {
    let media = ctx.bucket_arn(&ctx.names.media_bucket);
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadOriginals",
                "Effect": "Allow",
                "Action": ["s3:GetObject"],
                "Resource": [format!("{media}/jobs/*/original/*")]
            },
            {
                "Sid": "WriteStreams",
                "Effect": "Allow",
                "Action": ["s3:PutObject"],
                "Resource": [format!("{media}/jobs/*/stream/*")]
            },
            {
                "Sid": "LocateMedia",
                "Effect": "Allow",
                "Action": ["s3:GetBucketLocation"],
                "Resource": [media]
            }
        ]
    })
}

async fn check_role(ctx: &mut Ctx, spec: &RoleSpec) -> Result<Check<RoleState>, Failure> {
    let trust = trust_policy(spec.service);
    let policy = access_policy(ctx);
    let details_new = vec![
        format!("trusts {}", spec.service),
        format!(
            "inline policy {}: read jobs/*/original/*, write jobs/*/stream/* in {}",
            spec.policy_name, ctx.names.media_bucket
        ),
    ];
    let role = match ctx.iam.get_role().role_name(&spec.name).send().await {
        Ok(out) => out.role,
        Err(err) => {
            let err = ApiError::from_sdk("iam:GetRole", &err);
            if err.is_code("NoSuchEntity") {
                None
            } else {
                return Err(Failure::Api(err));
            }
        }
    };
    let Some(role) = role else {
        return Ok(Check::new(
            Action::Create,
            details_new,
            RoleState { arn: None, trust_ok: false, policy_ok: false, trust, policy },
        ));
    };
    let arn = role.arn().to_owned();
    let trust_ok = role.assume_role_policy_document().is_some_and(|doc| same_policy(doc, &trust));
    let policy_ok = match ctx.iam.get_role_policy().role_name(&spec.name).policy_name(&spec.policy_name).send().await {
        Ok(out) => same_policy(out.policy_document(), &policy),
        Err(err) => {
            let err = ApiError::from_sdk("iam:GetRolePolicy", &err);
            if err.is_code("NoSuchEntity") {
                false
            } else {
                return Err(Failure::Api(err));
            }
        }
    };
    let mut details = Vec::new();
    if !trust_ok {
        details.push(format!("trust only {}", spec.service));
    }
    if !policy_ok {
        details.push(format!(
            "set inline policy {}: read jobs/*/original/*, write jobs/*/stream/* in {}",
            spec.policy_name, ctx.names.media_bucket
        ));
    }
    let action = if details.is_empty() { Action::Exists } else { Action::Update };
    Ok(Check::new(action, details, RoleState { arn: Some(arn), trust_ok, policy_ok, trust, policy }))
}

/// Creates or fixes the role; returns its ARN.
async fn apply_role(ctx: &mut Ctx, spec: &RoleSpec, check: Check<RoleState>) -> Result<String, Failure> {
    let state = check.state;
    let arn = match state.arn {
        Some(arn) => {
            if !state.trust_ok {
                ctx.iam
                    .update_assume_role_policy()
                    .role_name(&spec.name)
                    .policy_document(state.trust.to_string())
                    .send()
                    .await
                    .map_err(api("iam:UpdateAssumeRolePolicy"))?;
            }
            arn
        }
        None => {
            let out = ctx
                .iam
                .create_role()
                .role_name(&spec.name)
                // A tag rather than a description: moto's server checks
                // signatures of IAM calls wrongly when a parameter has spaces.
                .tags(Tag::builder().key("created-by").value("streamdrop").build().expect("tag has key and value"))
                .assume_role_policy_document(state.trust.to_string())
                .send()
                .await
                .map_err(api("iam:CreateRole"))?;
            out.role().map(|r| r.arn().to_owned()).unwrap_or_default()
        }
    };
    if !state.policy_ok {
        ctx.iam
            .put_role_policy()
            .role_name(&spec.name)
            .policy_name(&spec.policy_name)
            .policy_document(state.policy.to_string())
            .send()
            .await
            .map_err(api("iam:PutRolePolicy"))?;
    }
    Ok(arn)
}

fn mediaconvert_spec(ctx: &Ctx) -> RoleSpec {
    RoleSpec {
        name: ctx.names.mediaconvert_role.clone(),
        service: "mediaconvert.amazonaws.com",
        policy_name: ctx.names.mediaconvert_policy.clone(),
    }
}

fn elastic_transcoder_spec(ctx: &Ctx) -> RoleSpec {
    RoleSpec {
        name: ctx.names.elastic_transcoder_role.clone(),
        service: "elastictranscoder.amazonaws.com",
        policy_name: ctx.names.elastic_transcoder_policy.clone(),
    }
}

pub(super) async fn check_mediaconvert(ctx: &mut Ctx) -> Result<Check<RoleState>, Failure> {
    let spec = mediaconvert_spec(ctx);
    let check = check_role(ctx, &spec).await?;
    ctx.found.mediaconvert_role_arn = check.state.arn.clone();
    Ok(check)
}

pub(super) async fn apply_mediaconvert(ctx: &mut Ctx, check: Check<RoleState>) -> Result<(), Failure> {
    let spec = mediaconvert_spec(ctx);
    let arn = apply_role(ctx, &spec, check).await?;
    ctx.found.mediaconvert_role_arn = Some(arn);
    Ok(())
}

pub(super) async fn check_elastic_transcoder(ctx: &mut Ctx) -> Result<Check<RoleState>, Failure> {
    let spec = elastic_transcoder_spec(ctx);
    let check = check_role(ctx, &spec).await?;
    ctx.found.elastic_transcoder_role_arn = check.state.arn.clone();
    Ok(check)
}

pub(super) async fn apply_elastic_transcoder(ctx: &mut Ctx, check: Check<RoleState>) -> Result<(), Failure> {
    let spec = elastic_transcoder_spec(ctx);
    let arn = apply_role(ctx, &spec, check).await?;
    ctx.found.elastic_transcoder_role_arn = Some(arn);
    Ok(())
}
