//! What the connection's own identity (the person's IAM user or role) must be
//! allowed, as IAM policies: one to run setup, one to use the connection
//! day to day (upload, copy, transcode, links), and the deletes a teardown
//! needs besides the setup policy. `streamdrop setup
//! --permissions` prints them for a prefix; the README tells people (or their
//! admin) to attach them. A test checks that every action setup calls is in
//! the setup policy, and the AWS-connection tests run as a user with exactly
//! these two policies on moto with IAM enforced.

use serde::Serialize;
use serde_json::{json, Value};

use super::Names;
use crate::credentials::TranscoderKind;

/// Every AWS action `setup` calls, as IAM names it.
pub const SETUP_ACTIONS: &[&str] = &[
    "s3:ListAllMyBuckets",
    "s3:CreateBucket",
    "s3:ListBucket",
    "s3:GetBucketOwnershipControls",
    "s3:PutBucketOwnershipControls",
    "s3:GetBucketPublicAccessBlock",
    "s3:PutBucketPublicAccessBlock",
    "s3:GetBucketPolicy",
    "s3:PutBucketPolicy",
    "s3:GetLifecycleConfiguration",
    "s3:PutLifecycleConfiguration",
    "iam:GetRole",
    "iam:CreateRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:GetRolePolicy",
    "iam:PutRolePolicy",
    "cloudfront:ListPublicKeys",
    "cloudfront:GetPublicKey",
    "cloudfront:CreatePublicKey",
    "cloudfront:DeletePublicKey",
    "cloudfront:ListKeyGroups",
    "cloudfront:GetKeyGroup",
    "cloudfront:CreateKeyGroup",
    "cloudfront:UpdateKeyGroup",
    "cloudfront:ListOriginAccessControls",
    "cloudfront:GetOriginAccessControl",
    "cloudfront:CreateOriginAccessControl",
    "cloudfront:UpdateOriginAccessControl",
    "cloudfront:ListCachePolicies",
    "cloudfront:GetCachePolicy",
    "cloudfront:CreateCachePolicy",
    "cloudfront:UpdateCachePolicy",
    "cloudfront:ListResponseHeadersPolicies",
    "cloudfront:GetResponseHeadersPolicy",
    "cloudfront:CreateResponseHeadersPolicy",
    "cloudfront:UpdateResponseHeadersPolicy",
    "cloudfront:ListDistributions",
    "cloudfront:GetDistributionConfig",
    "cloudfront:CreateDistribution",
    "cloudfront:UpdateDistribution",
];

/// What `setup --teardown` calls besides [`SETUP_ACTIONS`].
pub const TEARDOWN_ACTIONS: &[&str] = &[
    "s3:DeleteObject",
    "s3:ListBucketMultipartUploads",
    "s3:AbortMultipartUpload",
    "s3:DeleteBucket",
    "iam:DeleteRolePolicy",
    "iam:DeleteRole",
    "cloudfront:DeleteDistribution",
    "cloudfront:DeleteCachePolicy",
    "cloudfront:DeleteResponseHeadersPolicy",
    "cloudfront:DeleteOriginAccessControl",
    "cloudfront:DeleteKeyGroup",
];

/// The policies, as IAM policy documents.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Permissions {
    /// To run `setup` (create or fix every resource).
    pub setup: Value,
    /// To upload, copy, transcode and make links on the connection.
    pub daily: Value,
    /// To run `setup --teardown`, together with `setup`.
    pub teardown: Value,
}

impl Permissions {
    /// The one statement that grants `action` as these policies scope it:
    /// what a person (or their admin) adds when a step was refused it.
    pub fn grant_for(&self, action: &str) -> Option<Value> {
        let names = |a: &Value| match a {
            Value::String(one) => one == action,
            Value::Array(many) => many.iter().any(|a| a == action),
            _ => false,
        };
        [&self.setup, &self.daily, &self.teardown]
            .into_iter()
            .filter_map(|policy| policy["Statement"].as_array())
            .flatten()
            .find(|statement| names(&statement["Action"]))
            .map(|statement| json!({ "Effect": "Allow", "Action": action, "Resource": statement["Resource"] }))
    }
}

/// The AWS partition of `region`, as ARNs spell it.
pub fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// The permissions for a connection whose resources are named by `names`, in
/// AWS partition `partition` (`aws`), transcoding with `transcoder`.
pub fn needed(names: &Names, partition: &str, transcoder: TranscoderKind) -> Permissions {
    let bucket = |name: &str| format!("arn:{partition}:s3:::{name}");
    let role = |name: &str| format!("arn:{partition}:iam::*:role/{name}");
    let (uploads, media) = (bucket(&names.upload_bucket), bucket(&names.media_bucket));
    let mut roles = vec![role(&names.mediaconvert_role)];
    if transcoder == TranscoderKind::ElasticTranscoder {
        roles.push(role(&names.elastic_transcoder_role));
    }

    let setup = json!({
        "Version": "2012-10-17",
        "Statement": [
            // Bucket and role actions on Streamdrop's own resources only; CloudFront
            // scopes few of its actions to a resource, and listing needs "*".
            {
                "Sid": "StreamdropSetupBuckets",
                "Effect": "Allow",
                "Action": setup_actions("s3:", &["s3:ListAllMyBuckets"]),
                "Resource": [uploads.clone(), media.clone()]
            },
            {
                "Sid": "StreamdropSetupListBuckets",
                "Effect": "Allow",
                "Action": ["s3:ListAllMyBuckets"],
                "Resource": "*"
            },
            {
                "Sid": "StreamdropSetupRoles",
                "Effect": "Allow",
                "Action": setup_actions("iam:", &[]),
                "Resource": roles.clone()
            },
            {
                "Sid": "StreamdropSetupCloudFront",
                "Effect": "Allow",
                "Action": setup_actions("cloudfront:", &[]),
                "Resource": "*"
            }
        ]
    });

    let transcoding: Vec<&str> = match transcoder {
        TranscoderKind::MediaConvert => vec!["mediaconvert:CreateJob", "mediaconvert:GetJob", "mediaconvert:CancelJob"],
        TranscoderKind::ElasticTranscoder => vec![
            "elastictranscoder:ListPipelines",
            "elastictranscoder:CreatePipeline",
            "elastictranscoder:CreateJob",
            "elastictranscoder:ReadJob",
            "elastictranscoder:CancelJob",
        ],
        TranscoderKind::LocalFfmpeg => Vec::new(),
    };
    let mut daily = vec![
        json!({
            "Sid": "StreamdropUpload",
            "Effect": "Allow",
            "Action": ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
            "Resource": [format!("{uploads}/uploads/*")]
        }),
        // The copy lands the original; the transcoder (local ffmpeg) and the
        // links read and write the stream; a copy in parts may be abandoned.
        json!({
            "Sid": "StreamdropMedia",
            "Effect": "Allow",
            "Action": ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
            "Resource": [format!("{media}/jobs/*/original/*"), format!("{media}/jobs/*/stream/*")]
        }),
        json!({
            "Sid": "StreamdropFindBuckets",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": [uploads.clone(), media.clone()]
        }),
        // Revoking a link deletes its own playlists and has CloudFront drop its cached copies.
        json!({
            "Sid": "StreamdropRevokeLinks",
            "Effect": "Allow",
            "Action": ["s3:DeleteObject"],
            "Resource": [format!("{media}/jobs/*/stream/links/*")]
        }),
        json!({
            "Sid": "StreamdropRevokeLinksAtTheEdge",
            "Effect": "Allow",
            "Action": ["cloudfront:CreateInvalidation"],
            "Resource": "*"
        }),
        // Whether CloudFront has deployed a new distribution (links made before say when
        // they start to work) or, after a signing key rotation, the new key.
        json!({
            "Sid": "StreamdropSigningKeyDeployed",
            "Effect": "Allow",
            "Action": ["cloudfront:ListDistributions"],
            "Resource": "*"
        }),
    ];
    if !transcoding.is_empty() {
        daily.push(json!({
            "Sid": "StreamdropTranscode",
            "Effect": "Allow",
            "Action": transcoding,
            "Resource": "*"
        }));
        // The transcoder acts as its role, so whoever submits a job must be allowed to hand it over.
        daily.push(json!({
            "Sid": "StreamdropPassTranscoderRole",
            "Effect": "Allow",
            "Action": ["iam:PassRole"],
            "Resource": roles
        }));
    }
    let teardown = json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "StreamdropTeardownBuckets",
                "Effect": "Allow",
                "Action": teardown_actions("s3:"),
                "Resource": [uploads.clone(), format!("{uploads}/*"), media.clone(), format!("{media}/*")]
            },
            {
                "Sid": "StreamdropTeardownRoles",
                "Effect": "Allow",
                "Action": teardown_actions("iam:"),
                "Resource": [role(&names.mediaconvert_role), role(&names.elastic_transcoder_role)]
            },
            {
                "Sid": "StreamdropTeardownCloudFront",
                "Effect": "Allow",
                "Action": teardown_actions("cloudfront:"),
                "Resource": "*"
            }
        ]
    });
    Permissions { setup, daily: json!({ "Version": "2012-10-17", "Statement": daily }), teardown }
}

fn teardown_actions(service: &str) -> Vec<&'static str> {
    TEARDOWN_ACTIONS.iter().copied().filter(|a| a.starts_with(service)).collect()
}

/// The setup actions of one service, without `except`.
fn setup_actions(service: &str, except: &[&str]) -> Vec<&'static str> {
    SETUP_ACTIONS.iter().copied().filter(|a| a.starts_with(service) && !except.contains(a)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `api("service:Action")` setup's code names is in the setup policy
    /// (teardown's: in the setup or the teardown policy).
    #[test]
    fn every_action_setup_calls_is_granted_for_setup() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/provisioning");
        let mut called = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.ends_with("permissions.rs") {
                continue;
            }
            let teardown = path.ends_with("teardown.rs");
            let text = std::fs::read_to_string(path).unwrap();
            for marker in ["api(\"", "from_sdk(\""] {
                for piece in text.split(marker).skip(1) {
                    let action = piece.split('"').next().unwrap();
                    if action.contains(':') {
                        called.push((action.to_owned(), teardown));
                    }
                }
            }
        }
        assert!(called.len() > 20, "found the calls: {called:?}");
        for (action, teardown) in &called {
            let granted =
                SETUP_ACTIONS.contains(&action.as_str()) || (*teardown && TEARDOWN_ACTIONS.contains(&action.as_str()));
            assert!(granted, "setup calls {action}, which its policy lacks");
        }
    }

    #[test]
    fn the_simulator_is_asked_about_users_and_the_roles_behind_sessions() {
        assert_eq!(principal_of("arn:aws:iam::1:user/editor").as_deref(), Some("arn:aws:iam::1:user/editor"));
        assert_eq!(
            principal_of("arn:aws:sts::1:assumed-role/Editors/jane@example.com").as_deref(),
            Some("arn:aws:iam::1:role/Editors")
        );
        assert_eq!(principal_of("arn:aws:iam::1:root"), None);
    }

    #[test]
    fn each_action_has_the_statement_that_grants_it_as_scoped() {
        let names = Names::from_prefix("streamdrop-acme").unwrap();
        let permissions = needed(&names, "aws", TranscoderKind::MediaConvert);
        for action in SETUP_ACTIONS.iter().chain(TEARDOWN_ACTIONS) {
            let grant = permissions.grant_for(action).unwrap_or_else(|| panic!("no statement grants {action}"));
            assert_eq!(grant["Action"], json!(action));
        }
        assert_eq!(
            permissions.grant_for("iam:PassRole").unwrap(),
            json!({"Effect": "Allow", "Action": "iam:PassRole",
                   "Resource": ["arn:aws:iam::*:role/streamdrop-acme-mediaconvert"]})
        );
        assert_eq!(
            permissions.grant_for("s3:CreateBucket").unwrap()["Resource"][0],
            "arn:aws:s3:::streamdrop-acme-uploads"
        );
        assert_eq!(permissions.grant_for("ec2:RunInstances"), None);
    }

    #[test]
    fn passing_the_transcoder_role_is_granted_and_scoped_to_it() {
        let names = Names::from_prefix("streamdrop-acme").unwrap();
        let daily = needed(&names, "aws", TranscoderKind::MediaConvert).daily;
        let pass = daily["Statement"].as_array().unwrap().iter().find(|s| s["Action"][0] == "iam:PassRole").unwrap();
        assert_eq!(pass["Resource"], json!(["arn:aws:iam::*:role/streamdrop-acme-mediaconvert"]));
        let local = needed(&names, "aws", TranscoderKind::LocalFfmpeg).daily;
        assert!(!local.to_string().contains("iam:PassRole"), "local ffmpeg passes no role");
    }
}

/// What IAM's policy simulator said of the permissions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Simulated {
    /// Every action on every resource is allowed; how many were asked.
    Allowed(usize),
    /// `action on resource` for each one that is not.
    Missing(Vec<String>),
    /// The simulator could not be asked, and why (in words for people).
    NotChecked(String),
}

/// Asks IAM (`iam:SimulatePrincipalPolicy`) whether `caller_arn` (as STS
/// GetCallerIdentity names it) of `account` may do everything `permissions`
/// list, so a missing one is named before the first failure.
pub async fn simulate(
    iam: &aws_sdk_iam::Client,
    caller_arn: &str,
    account: &str,
    permissions: &Permissions,
) -> Simulated {
    let Some(principal) = principal_of(caller_arn) else {
        return Simulated::NotChecked(format!(
            "{caller_arn} is not an IAM user or role the simulator can ask about (the account's root user may do everything)"
        ));
    };
    let mut asked = 0;
    let mut missing = Vec::new();
    for statement in [&permissions.setup, &permissions.daily]
        .into_iter()
        .flat_map(|p| p["Statement"].as_array().into_iter().flatten())
    {
        let actions: Vec<String> = strings(&statement["Action"]);
        let resources: Vec<String> = strings(&statement["Resource"])
            .into_iter()
            .filter(|r| r != "*")
            .map(|r| r.replacen(":iam::*:", &format!(":iam::{account}:"), 1))
            .collect();
        let answer = iam
            .simulate_principal_policy()
            .policy_source_arn(&principal)
            .set_action_names(Some(actions.clone()))
            .set_resource_arns((!resources.is_empty()).then_some(resources))
            .max_items(1000)
            .send()
            .await;
        let answer = match answer {
            Ok(answer) => answer,
            Err(err) => {
                let code = aws_sdk_iam::error::ProvideErrorMetadata::code(&err).unwrap_or_default().to_owned();
                // A refusal whose body the SDK cannot read still says 403.
                let refused =
                    code.contains("AccessDenied") || err.raw_response().is_some_and(|r| r.status().as_u16() == 403);
                // People get the reason in words; the raw answer goes to the log.
                tracing::warn!("policy simulator: {}", aws_sdk_iam::error::DisplayErrorContext(&err));
                let why = if refused {
                    "this identity may not ask the policy simulator (iam:SimulatePrincipalPolicy)".to_owned()
                } else {
                    "IAM's policy simulator did not answer (the log file has its reply)".to_owned()
                };
                return Simulated::NotChecked(why);
            }
        };
        asked += actions.len();
        for result in answer.evaluation_results() {
            if result.eval_decision().as_str() != "allowed" {
                let resource = result.eval_resource_name().unwrap_or("*");
                missing.push(format!("{} on {resource}", result.eval_action_name()));
            }
        }
    }
    if missing.is_empty() {
        Simulated::Allowed(asked)
    } else {
        Simulated::Missing(missing)
    }
}

/// The IAM principal behind a caller ARN: a user as is, an assumed role as its role.
fn principal_of(caller_arn: &str) -> Option<String> {
    let (head, rest) = caller_arn.split_once(":assumed-role/").unwrap_or((caller_arn, ""));
    if !rest.is_empty() {
        let role = rest.split('/').next()?;
        return Some(format!("{}:role/{role}", head.replacen(":sts::", ":iam::", 1)));
    }
    caller_arn.contains(":user/").then(|| caller_arn.to_owned())
}

fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(one) => vec![one.clone()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => Vec::new(),
    }
}
