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
pub mod permissions;
mod report;
mod role;
mod signing_keys;
mod steps;
mod teardown;

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;

pub use error::{ApiError, Failure, StepError};
pub use report::{Action, Mode, SetupReport, StepReport};
pub use steps::OnStep;
use steps::{run_steps, Ctx, Found, Steps};

use crate::credentials::{
    self, AwsConnection, AwsResources, ConnectionError, DistributionInfo, SecretStore, Settings, SettingsError,
    Transcoder, TranscoderKind,
};

use crate::DataDir;

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
    /// On apply, wait up to this long for CloudFront to report the
    /// distribution deployed (links work from then on); else say it is deploying.
    pub wait_for_deployment: Option<std::time::Duration>,
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

/// The connection `connection_name` (the active one when `None`) that setup
/// works on, the names its resources get, and its transcoder: from
/// `options`, else what an earlier setup remembered.
fn resolve(
    data_dir: &DataDir,
    connection_name: Option<&str>,
    options: &SetupOptions,
) -> Result<(AwsConnection, Names, TranscoderKind), PreflightError> {
    let settings = Settings::load(data_dir)?;
    let name = connection_name.map(str::to_owned).unwrap_or_else(|| settings.active_name().to_string());
    let connection: AwsConnection = match settings.get(&name) {
        None => return Err(SettingsError::NoSuchConnection(name).into()),
        Some(credentials::Connection::Local) => return Err(PreflightError::Local),
        Some(credentials::Connection::Aws(aws)) => aws.clone(),
    };
    let previous = connection.resources.as_ref();
    let prefix = match (&options.name_prefix, previous) {
        (Some(prefix), _) => prefix.clone(),
        (None, Some(resources)) if !resources.name_prefix.is_empty() => resources.name_prefix.clone(),
        _ => return Err(PreflightError::NoPrefix(connection.name.to_string())),
    };
    let names = Names::from_prefix(&prefix)?;
    let transcoder =
        options.transcoder.or_else(|| previous.map(|r| r.transcoder.kind())).unwrap_or(TranscoderKind::MediaConvert);
    Ok((connection, names, transcoder))
}

/// What the identity of connection `connection_name` must be allowed, to run
/// setup and to use the connection (see [`permissions`]). Reads settings only.
pub fn required_permissions(
    data_dir: &DataDir,
    connection_name: Option<&str>,
    options: &SetupOptions,
) -> Result<permissions::Permissions, PreflightError> {
    let (connection, names, transcoder) = resolve(data_dir, connection_name, options)?;
    Ok(permissions::needed(&names, permissions::partition_of(&connection.region), transcoder))
}

/// Plans or applies the setup of connection `connection_name` (the active
/// connection when `None`). Saves what apply made to the settings, also when a
/// step fails, so the app and the next run see it.
/// `elastic_transcoder_endpoint`: where that service is asked whether it still
/// takes jobs, when it is the transcoder (None: AWS's, or the SDK's variable).
pub async fn run(
    data_dir: &DataDir,
    connection_name: Option<&str>,
    secrets: Arc<dyn SecretStore>,
    options: &SetupOptions,
    elastic_transcoder_endpoint: Option<&str>,
    mode: Mode,
    on_step: &OnStep,
) -> Result<SetupReport, PreflightError> {
    let (connection, names, transcoder) = resolve(data_dir, connection_name, options)?;
    let previous = connection.resources.clone();
    let target = credentials::target(&connection, &secrets, options.endpoint_url.as_deref()).await?;
    // A distribution remembered for other names is not ours to adopt.
    let known_distribution_id = previous
        .as_ref()
        .filter(|r| r.media_bucket == names.media_bucket)
        .and_then(|r| r.distribution.as_ref())
        .map(|d| d.id.clone());
    let mut found = Found::default();
    if let Some(known) =
        previous.as_ref().filter(|r| r.media_bucket == names.media_bucket).and_then(|r| r.distribution.as_ref())
    {
        found.key_pair_id = Some(known.key_pair_id.clone()).filter(|id| !id.is_empty());
        found.next_key_pair_id = known.next_key_pair_id.clone();
        found.retired_keys = known.retired_keys.clone();
    }
    let retired_until = last_links_signed_by(data_dir, &found.retired_keys);

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
        wait_for_deployment: options.wait_for_deployment,
        elastic_transcoder: (transcoder == TranscoderKind::ElasticTranscoder).then(|| {
            crate::transcode::ElasticTranscoder::new(
                &target.config,
                elastic_transcoder_endpoint,
                String::new(),
                names.elastic_transcoder_pipeline.clone(),
                Vec::new(),
            )
        }),
        retired_until,
        found,
    };
    let mut steps = Steps::new(on_step);
    if mode.is_teardown() {
        let error = teardown::run_teardown(&mut ctx, &mut steps).await.err();
        let steps = steps.done;
        let finished = error.is_none() && steps.iter().all(|s| s.action != Action::Later);
        if mode == Mode::Teardown && finished {
            // Nothing is left to use: the connection stays, without resources.
            let mut latest = Settings::load(data_dir)?;
            if let Ok(stored) = latest.get_aws_mut(connection.name.as_str()) {
                stored.resources = None;
                latest.save(data_dir)?;
            }
        }
        let grant = grant_for(&error, &names, &connection.region, transcoder);
        return Ok(SetupReport {
            mode,
            connection: connection.name.to_string(),
            names,
            steps,
            error,
            grant,
            distribution: None,
        });
    }
    let error = run_steps(&mut ctx, &mut steps).await.err();
    let steps = steps.done;
    if let Some(err) = &error {
        tracing::info!(step = err.step, "setup stopped: {err}");
    }

    let found = &ctx.found;
    let distribution = match &found.distribution {
        Some(d) if found.key_pair_id.is_some() || found.next_key_pair_id.is_some() => Some(DistributionInfo {
            id: d.id.clone(),
            domain: d.domain.clone(),
            key_pair_id: found.key_pair_id.clone().unwrap_or_default(),
            next_key_pair_id: found.next_key_pair_id.clone(),
            retired_keys: found.retired_keys.clone(),
        }),
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
    let mut distribution = distribution;
    if mode == Mode::Apply && ctx.found.next_key_live {
        credentials::cloudfront_key::promote_next_key(data_dir, &connection.name, &ctx.secrets).await?;
        distribution = Settings::load(data_dir)?
            .get_aws(connection.name.as_str())?
            .resources
            .as_ref()
            .and_then(|r| r.distribution.clone());
    }
    let grant = grant_for(&error, &names, &connection.region, transcoder);
    Ok(SetupReport { mode, connection: connection.name.to_string(), names, steps, error, grant, distribution })
}

/// For a step refused for lack of permission: the statement that grants it.
fn grant_for(
    error: &Option<StepError>,
    names: &Names,
    region: &str,
    transcoder: TranscoderKind,
) -> Option<serde_json::Value> {
    let action = error.as_ref()?.denied_action()?;
    permissions::needed(names, permissions::partition_of(region), transcoder).grant_for(action)
}

/// When the last link signed with each of `keys` expires (secs since the
/// epoch; now if none was). A key whose links cannot be read stays.
fn last_links_signed_by(data_dir: &DataDir, keys: &[credentials::RetiredKey]) -> HashMap<String, u64> {
    if keys.is_empty() {
        return HashMap::new();
    }
    let store = crate::store::Store::open(&data_dir.store_file());
    keys.iter()
        .map(|key| {
            let last = store.as_ref().map_err(|e| e.to_string()).and_then(|s| {
                s.last_expiry_signed_by(&key.id).map_err(|e| e.to_string())
            });
            let until = match last {
                Ok(last) => last.map_or(0, |ms| (ms.max(0) / 1000) as u64 + 1),
                Err(err) => {
                    tracing::warn!(key = %key.id, "cannot read the links signed with a retired key, so it stays: {err}");
                    u64::MAX
                }
            };
            (key.id.clone(), until)
        })
        .collect()
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

#[cfg(test)]
mod tests {
    use super::steps::same_policy;
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
