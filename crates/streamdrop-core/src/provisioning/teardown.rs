//! `streamdrop setup --teardown`: deletes what setup made for a connection,
//! in the order AWS allows. The distribution goes first: CloudFront deletes
//! only a disabled distribution that has finished deploying, which takes
//! minutes, so a run that cannot wait says `later` and a re-run finishes;
//! the CloudFront resources it uses (policies, origin access control, key
//! group and its public keys) follow it. Then the roles and the buckets,
//! emptied first (every object and unfinished upload is gone for good).
//! Without `--yes` it only lists what would go. Resources are found by the
//! names of the connection's prefix, exactly as setup finds them; the
//! Elastic Transcoder role is shared by name with other tools, so only
//! Streamdrop's policy is taken off it.

use super::error::{api, ApiError, Failure, StepError};
use super::report::{Action, Mode, StepReport};
use super::steps::{Ctx, PolicyRef, Steps};
use super::{distribution, signing_keys};
use crate::credentials::secrets::delete_secret;
use crate::credentials::{SecretItem, SecretRef};

struct Line {
    step: &'static str,
    resource: &'static str,
    name: String,
}

impl Line {
    fn report(&self, action: Action, applied: bool, details: Vec<String>) -> StepReport {
        StepReport { step: self.step, action, resource: self.resource, name: self.name.clone(), details, applied }
    }
}

/// What became of one resource.
enum Outcome {
    /// Not there (never made, or deleted before).
    Gone,
    /// Deleted, or (listing only) would be.
    Delete(Vec<String>),
    /// Waits for CloudFront; a re-run finishes it.
    Later(String),
}

pub(super) async fn run_teardown(ctx: &mut Ctx, reports: &mut Steps<'_>) -> Result<(), StepError> {
    let n = ctx.names.clone();
    macro_rules! line {
        ($step:literal, $resource:literal, $name:expr, $what:expr, $work:expr) => {{
            let line = Line { step: $step, resource: $resource, name: $name };
            let outcome = $work.await.map_err(|failure| StepError {
                step: $step,
                doing: format!("deleting {}", $what),
                failure,
            })?;
            let deleting = ctx.mode == Mode::Teardown;
            let report = match outcome {
                Outcome::Gone => line.report(Action::Gone, false, vec![]),
                Outcome::Delete(details) => line.report(Action::Delete, deleting, details),
                Outcome::Later(why) => line.report(Action::Later, deleting, vec![why]),
            };
            let later = report.action == Action::Later;
            reports.push(report);
            later
        }};
    }

    let waiting = line!(
        "distribution",
        "cloudfront distribution",
        n.distribution_comment.clone(),
        format!("the CloudFront distribution for {}", n.media_bucket),
        distribution_gone(ctx)
    );
    let in_use = || "in use by the distribution until it is deleted: run the teardown again then".to_owned();
    line!(
        "response-headers-policy",
        "cloudfront response headers policy",
        n.response_headers_policy.clone(),
        format!("the response headers policy {}", n.response_headers_policy),
        policy_gone(ctx, PolicyKind::ResponseHeaders, waiting.then(in_use))
    );
    line!(
        "cache-policy",
        "cloudfront cache policy",
        n.cache_policy.clone(),
        format!("the cache policy {}", n.cache_policy),
        policy_gone(ctx, PolicyKind::Cache, waiting.then(in_use))
    );
    line!(
        "origin-access-control",
        "cloudfront origin access control",
        n.origin_access_control.clone(),
        format!("the origin access control {}", n.origin_access_control),
        oac_gone(ctx, waiting.then(in_use))
    );
    line!(
        "signing-key",
        "cloudfront key group",
        n.key_group.clone(),
        format!("the CloudFront signing key group {}", n.key_group),
        key_group_gone(ctx, waiting.then(in_use))
    );
    line!(
        "mediaconvert-role",
        "iam role",
        n.mediaconvert_role.clone(),
        format!("the MediaConvert service role {}", n.mediaconvert_role),
        role_gone(ctx, n.mediaconvert_role.clone(), n.mediaconvert_policy.clone(), true)
    );
    line!(
        "elastic-transcoder-role",
        "iam role policy",
        format!("{}/{}", n.elastic_transcoder_role, n.elastic_transcoder_policy),
        format!("Streamdrop's policy on {}", n.elastic_transcoder_role),
        role_gone(ctx, n.elastic_transcoder_role.clone(), n.elastic_transcoder_policy.clone(), false)
    );
    line!(
        "upload-bucket",
        "s3 bucket",
        n.upload_bucket.clone(),
        format!("the upload bucket {}", n.upload_bucket),
        bucket_gone(ctx, n.upload_bucket.clone())
    );
    line!(
        "media-bucket",
        "s3 bucket",
        n.media_bucket.clone(),
        format!("the media bucket {}", n.media_bucket),
        bucket_gone(ctx, n.media_bucket.clone())
    );
    Ok(())
}

fn deleting(ctx: &Ctx) -> bool {
    ctx.mode == Mode::Teardown
}

/// Disables the distribution, waits (as long as allowed) for CloudFront to
/// deploy that, and deletes it.
async fn distribution_gone(ctx: &mut Ctx) -> Result<Outcome, Failure> {
    let Some(found) = distribution::find_distribution(ctx).await? else { return Ok(Outcome::Gone) };
    ctx.found.distribution = Some(found.clone());
    let details =
        vec![format!("{} ({}): disable, then delete once CloudFront has deployed that", found.id, found.domain)];
    if !deleting(ctx) {
        return Ok(Outcome::Delete(details));
    }
    let (config, etag) = distribution::config_of(ctx, &found.id).await?;
    if config.enabled() {
        let mut disabled = config.clone();
        disabled.enabled = false;
        ctx.cloudfront
            .update_distribution()
            .id(&found.id)
            .if_match(etag)
            .distribution_config(disabled)
            .send()
            .await
            .map_err(api("cloudfront:UpdateDistribution"))?;
    }
    let deadline = std::time::Instant::now() + ctx.wait_for_deployment.unwrap_or_default();
    loop {
        let status = crate::credentials::cloudfront_key::distribution_status(&ctx.cloudfront, &found.id)
            .await
            .map_err(api("cloudfront:ListDistributions"))?;
        match status.as_deref() {
            None => return Ok(Outcome::Delete(details)),
            Some("Deployed") => break,
            Some(other) if std::time::Instant::now() >= deadline => {
                return Ok(Outcome::Later(format!(
                    "disabled; CloudFront is deploying that (it says {other}), usually for about 15 minutes. Run \
                     `streamdrop setup --teardown --yes` again then, or add --wait-for-deployment to wait"
                )));
            }
            Some(_) => {
                tokio::time::sleep(std::time::Duration::from_secs(5).min(deadline - std::time::Instant::now())).await
            }
        }
    }
    let (_, etag) = distribution::config_of(ctx, &found.id).await?;
    ctx.cloudfront
        .delete_distribution()
        .id(&found.id)
        .if_match(etag)
        .send()
        .await
        .map_err(api("cloudfront:DeleteDistribution"))?;
    ctx.found.distribution = None;
    Ok(Outcome::Delete(details))
}

#[derive(Clone, Copy)]
enum PolicyKind {
    Cache,
    ResponseHeaders,
}

async fn policy_gone(ctx: &mut Ctx, kind: PolicyKind, blocked: Option<String>) -> Result<Outcome, Failure> {
    let found = match kind {
        PolicyKind::Cache => {
            distribution::check_cache_policy(ctx).await?;
            ctx.found.cache_policy.clone()
        }
        PolicyKind::ResponseHeaders => {
            distribution::check_response_headers_policy(ctx).await?;
            ctx.found.response_headers_policy.clone()
        }
    };
    let PolicyRef::Id(id) = found else { return Ok(Outcome::Gone) };
    if let Some(why) = blocked {
        return Ok(Outcome::Later(why));
    }
    if deleting(ctx) {
        let cf = &ctx.cloudfront;
        match kind {
            PolicyKind::Cache => {
                let etag = cf.get_cache_policy().id(&id).send().await.map_err(api("cloudfront:GetCachePolicy"))?;
                cf.delete_cache_policy()
                    .id(&id)
                    .if_match(etag.e_tag().unwrap_or_default())
                    .send()
                    .await
                    .map_err(api("cloudfront:DeleteCachePolicy"))?;
            }
            PolicyKind::ResponseHeaders => {
                let etag = cf
                    .get_response_headers_policy()
                    .id(&id)
                    .send()
                    .await
                    .map_err(api("cloudfront:GetResponseHeadersPolicy"))?;
                cf.delete_response_headers_policy()
                    .id(&id)
                    .if_match(etag.e_tag().unwrap_or_default())
                    .send()
                    .await
                    .map_err(api("cloudfront:DeleteResponseHeadersPolicy"))?;
            }
        }
    }
    Ok(Outcome::Delete(vec![id]))
}

async fn oac_gone(ctx: &mut Ctx, blocked: Option<String>) -> Result<Outcome, Failure> {
    distribution::check_oac(ctx).await?;
    let Some(id) = ctx.found.oac_id.clone() else { return Ok(Outcome::Gone) };
    if let Some(why) = blocked {
        return Ok(Outcome::Later(why));
    }
    if deleting(ctx) {
        let current = ctx
            .cloudfront
            .get_origin_access_control()
            .id(&id)
            .send()
            .await
            .map_err(api("cloudfront:GetOriginAccessControl"))?;
        ctx.cloudfront
            .delete_origin_access_control()
            .id(&id)
            .if_match(current.e_tag().unwrap_or_default())
            .send()
            .await
            .map_err(api("cloudfront:DeleteOriginAccessControl"))?;
    }
    Ok(Outcome::Delete(vec![id]))
}

/// The key group, every public key in it, and this machine's private keys.
async fn key_group_gone(ctx: &mut Ctx, blocked: Option<String>) -> Result<Outcome, Failure> {
    let Some((id, keys)) = signing_keys::find(ctx).await? else {
        forget_private_keys(ctx).await?;
        return Ok(Outcome::Gone);
    };
    if let Some(why) = blocked {
        return Ok(Outcome::Later(why));
    }
    let details =
        vec![format!("with its public keys {}; this machine's private keys leave the keychain", keys.join(", "))];
    if deleting(ctx) {
        let current = ctx.cloudfront.get_key_group().id(&id).send().await.map_err(api("cloudfront:GetKeyGroup"))?;
        ctx.cloudfront
            .delete_key_group()
            .id(&id)
            .if_match(current.e_tag().unwrap_or_default())
            .send()
            .await
            .map_err(api("cloudfront:DeleteKeyGroup"))?;
        for key in &keys {
            signing_keys::delete_public_key(ctx, key).await?;
        }
        forget_private_keys(ctx).await?;
    }
    Ok(Outcome::Delete(details))
}

async fn forget_private_keys(ctx: &Ctx) -> Result<(), Failure> {
    if deleting(ctx) {
        for item in [SecretItem::CloudFrontSigningKey, SecretItem::CloudFrontNextSigningKey] {
            delete_secret(&ctx.secrets, &SecretRef::new(&ctx.connection, item)).await?;
        }
    }
    Ok(())
}

/// Streamdrop's inline policy on `role`, and (`delete_role`) the role itself.
async fn role_gone(ctx: &mut Ctx, role: String, policy: String, delete_role: bool) -> Result<Outcome, Failure> {
    let no_such = |err: &ApiError| err.is_code("NoSuchEntity");
    let has_policy = match ctx.iam.get_role_policy().role_name(&role).policy_name(&policy).send().await {
        Ok(_) => true,
        Err(err) => {
            let err = ApiError::from_sdk("iam:GetRolePolicy", &err);
            if !no_such(&err) {
                return Err(Failure::Api(err));
            }
            false
        }
    };
    let role_exists = delete_role
        && match ctx.iam.get_role().role_name(&role).send().await {
            Ok(_) => true,
            Err(err) => {
                let err = ApiError::from_sdk("iam:GetRole", &err);
                if !no_such(&err) {
                    return Err(Failure::Api(err));
                }
                false
            }
        };
    if !has_policy && !role_exists {
        return Ok(Outcome::Gone);
    }
    if deleting(ctx) {
        if has_policy {
            ctx.iam
                .delete_role_policy()
                .role_name(&role)
                .policy_name(&policy)
                .send()
                .await
                .map_err(api("iam:DeleteRolePolicy"))?;
        }
        if role_exists {
            ctx.iam.delete_role().role_name(&role).send().await.map_err(api("iam:DeleteRole"))?;
        }
    }
    let details = match role_exists {
        true => vec![format!("with its inline policy {policy}")],
        false => vec![format!("the role is shared with other tools by name and stays")],
    };
    Ok(Outcome::Delete(details))
}

/// Every object and unfinished upload in `bucket`, then the bucket.
async fn bucket_gone(ctx: &mut Ctx, bucket: String) -> Result<Outcome, Failure> {
    if !super::buckets::bucket_exists(ctx, &bucket).await? {
        return Ok(Outcome::Gone);
    }
    let mut objects = 0usize;
    let mut token: Option<String> = None;
    loop {
        let page = ctx
            .s3
            .list_objects_v2()
            .bucket(&bucket)
            .set_continuation_token(token.clone())
            .send()
            .await
            .map_err(api("s3:ListBucket"))?;
        let keys: Vec<_> = page.contents().iter().filter_map(|o| o.key()).map(str::to_owned).collect();
        objects += keys.len();
        if deleting(ctx) && !keys.is_empty() {
            let ids = keys
                .into_iter()
                .map(|k| aws_sdk_s3::types::ObjectIdentifier::builder().key(k).build().expect("a key"))
                .collect();
            let delete =
                aws_sdk_s3::types::Delete::builder().set_objects(Some(ids)).quiet(true).build().expect("objects");
            let out =
                ctx.s3.delete_objects().bucket(&bucket).delete(delete).send().await.map_err(api("s3:DeleteObject"))?;
            if let Some(err) = out.errors().first() {
                return Err(Failure::Blocked(format!(
                    "S3 kept {} in {bucket}: {}",
                    err.key().unwrap_or("an object"),
                    err.message().unwrap_or("no reason given")
                )));
            }
        }
        match page.next_continuation_token() {
            Some(next) if page.is_truncated() == Some(true) => token = Some(next.to_owned()),
            _ => break,
        }
    }
    let uploads =
        ctx.s3.list_multipart_uploads().bucket(&bucket).send().await.map_err(api("s3:ListBucketMultipartUploads"))?;
    let unfinished = uploads.uploads().len();
    if deleting(ctx) {
        for upload in uploads.uploads() {
            ctx.s3
                .abort_multipart_upload()
                .bucket(&bucket)
                .key(upload.key().unwrap_or_default())
                .upload_id(upload.upload_id().unwrap_or_default())
                .send()
                .await
                .map_err(api("s3:AbortMultipartUpload"))?;
        }
        ctx.s3.delete_bucket().bucket(&bucket).send().await.map_err(api("s3:DeleteBucket"))?;
    }
    Ok(Outcome::Delete(vec![format!("{objects} objects and {unfinished} unfinished uploads with it")]))
}
