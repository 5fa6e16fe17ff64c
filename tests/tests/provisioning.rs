//! `streamdrop setup` (provisioning) against moto's server: plan, apply, apply
//! again (no changes), adoption of resources made by hand, a denied permission
//! and the re-run that continues after it, and the signing key that this
//! machine's keychain does not hold.
//!
//! moto implements S3, IAM and CloudFront but not CloudFront's cache and
//! response headers policies; [`PolicyShim`] sits in front of moto and serves
//! just those two APIs from memory (everything else goes to moto), so the
//! policy steps run their real code. Tests without the shim see the `skip`
//! lines a user of plain moto sees.
//!
//! Secrets go to an in-memory store here; the OS keychain has its own suite
//! (`keychain.rs`, run by scripts/test-all.sh inside a throwaway Secret Service).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_sdk_s3::config::{Credentials, Region};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use streamdrop_core::api::PermissionsView;
use streamdrop_core::api::{Event, Session, SessionOptions};
use streamdrop_core::credentials::{
    MemorySecretStore, SecretItem, SecretRef, SecretStore, Settings, Transcoder, TranscoderKind,
};
use streamdrop_core::model::ConnectionName;
use streamdrop_core::provisioning::{self, Action, Mode, PreflightError, SetupOptions, SetupReport, StepReport};
use streamdrop_core::signing::PrivateKey;
use streamdrop_core::transcode::elastic_transcoder::DISCONTINUED_MESSAGE;
use streamdrop_core::DataDir;
use streamdrop_e2e::moto::{MotoServer, MOTO_ACCESS_KEY_ID, MOTO_REGION, MOTO_SECRET_ACCESS_KEY};
use streamdrop_e2e::transcoder_standin::{HttpAnswer, TranscoderStandIn};
use tokio::net::TcpListener;

use crate::common::{aws_connection, CONNECTION};

const PREFIX: &str = "streamdrop-acme";

/// A data dir whose active connection is a keys connection to `endpoint`,
/// with its keys in an in-memory secret store.
struct Site {
    _tmp: tempfile::TempDir,
    data: DataDir,
    secrets: Arc<MemorySecretStore>,
    endpoint: String,
    /// Where the legacy transcoder is asked whether it still takes jobs.
    elastic_transcoder: TranscoderStandIn,
}

impl Site {
    fn new(endpoint: &str, key_id: &str, secret: &str) -> Site {
        let tmp = tempfile::tempdir().unwrap();
        let data = DataDir::at(tmp.path().join("data")).unwrap();
        let secrets = aws_connection(&data, endpoint, key_id, secret);
        Site { _tmp: tmp, data, secrets, endpoint: endpoint.to_owned(), elastic_transcoder: TranscoderStandIn::start() }
    }

    async fn run(&self, mode: Mode, options: SetupOptions) -> SetupReport {
        let mut session_options = SessionOptions::with_secrets(self.secrets.clone());
        session_options.aws.transcoder_endpoint_url = Some(self.elastic_transcoder.endpoint());
        let session = Session::open(self.data.clone(), session_options).unwrap();
        let mut events = session.subscribe();
        let report = session.setup(None, &options, mode).await.expect("setup starts");
        // Each step was announced as it ran, in order, with what the report says of it.
        let mut announced = Vec::new();
        while let Ok(event) = events.try_recv() {
            if let Event::SetupStep(progress) = event {
                assert_eq!(progress.connection, CONNECTION);
                announced.push(progress.step.line());
            }
        }
        assert_eq!(announced, report.steps.iter().map(StepReport::line).collect::<Vec<_>>());
        report
    }

    async fn plan(&self) -> SetupReport {
        self.run(Mode::Plan, prefixed()).await
    }

    async fn apply(&self) -> SetupReport {
        self.run(Mode::Apply, prefixed()).await
    }

    fn settings(&self) -> Settings {
        Settings::load(&self.data).unwrap()
    }

    /// Every file under the data dir, as text (lossy).
    fn data_files_text(&self) -> String {
        let mut text = String::new();
        let mut dirs = vec![self.data.path().to_path_buf()];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else {
                    text.push_str(&String::from_utf8_lossy(&std::fs::read(&path).unwrap()));
                }
            }
        }
        text
    }
}

fn prefixed() -> SetupOptions {
    SetupOptions { name_prefix: Some(PREFIX.into()), ..SetupOptions::default() }
}

fn secret_ref(item: SecretItem) -> SecretRef {
    SecretRef::new(&ConnectionName::new(CONNECTION).unwrap(), item)
}

/// The steps that make resources: all but the deployment, which is CloudFront's.
fn made(report: &SetupReport) -> impl Iterator<Item = &StepReport> {
    report.steps.iter().filter(|s| s.step != "deployment")
}

fn actions(report: &SetupReport) -> Vec<(&'static str, Action)> {
    report.steps.iter().map(|s| (s.step, s.action)).collect()
}

fn action_of(report: &SetupReport, step: &str) -> Action {
    report
        .steps
        .iter()
        .find(|s| s.step == step)
        .unwrap_or_else(|| panic!("no step {step} in {:#?}", report.steps))
        .action
}

fn printed(report: &SetupReport) -> String {
    report.steps.iter().map(|s| s.line()).collect::<Vec<_>>().join("\n")
}

#[track_caller]
fn assert_ok(report: &SetupReport) {
    assert!(report.error.is_none(), "setup failed: {}\n{}", report.error.as_ref().unwrap(), printed(report));
}

/// SDK configuration for checking what setup made, as moto's root.
async fn sdk(endpoint: &str, key_id: &str, secret: &str) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(MOTO_REGION))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(key_id, secret, None, None, "test"))
        .load()
        .await
}

fn s3(config: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(config).force_path_style(true).build())
}

#[tokio::test]
async fn plan_then_apply_then_apply_again_changes_nothing() {
    let moto = MotoServer::start();
    let shim = PolicyShim::start(moto.addr());
    let site = Site::new(&shim.endpoint(), MOTO_ACCESS_KEY_ID, MOTO_SECRET_ACCESS_KEY);
    let config = sdk(&site.endpoint, MOTO_ACCESS_KEY_ID, MOTO_SECRET_ACCESS_KEY).await;
    let (s3, iam, cloudfront) =
        (s3(&config), aws_sdk_iam::Client::new(&config), aws_sdk_cloudfront::Client::new(&config));

    // Plan: everything to create, nothing made.
    let plan = site.plan().await;
    assert_ok(&plan);
    assert_eq!(
        actions(&plan),
        [
            ("upload-bucket", Action::Create),
            ("media-bucket", Action::Create),
            ("mediaconvert-role", Action::Create),
            ("signing-key", Action::Create),
            ("origin-access-control", Action::Create),
            ("cache-policy", Action::Create),
            ("response-headers-policy", Action::Create),
            ("distribution", Action::Create),
            ("media-bucket-policy", Action::Create),
            ("deployment", Action::Later),
        ],
        "{}",
        printed(&plan)
    );
    assert!(made(&plan).all(|s| s.line().starts_with("create  ")), "{}", printed(&plan));
    assert!(s3.list_buckets().send().await.unwrap().buckets().is_empty(), "a plan creates nothing");
    assert!(site.secrets.accounts().iter().all(|a| !a.ends_with("cloudfront-signing-key")), "a plan makes no key");
    assert!(site.settings().get_aws(CONNECTION).unwrap().resources.is_none(), "a plan saves nothing");

    // Apply: everything made, as specified.
    let applied = site.apply().await;
    assert_ok(&applied);
    assert!(made(&applied).all(|s| s.applied && s.action == Action::Create), "{}", printed(&applied));
    assert!(made(&applied).all(|s| s.line().starts_with("created ")), "{}", printed(&applied));
    // moto deploys at once; CloudFront takes minutes (see the deployment test).
    assert_eq!(action_of(&applied, "deployment"), Action::Exists, "{}", printed(&applied));
    let uploads = format!("{PREFIX}-uploads");
    let media = format!("{PREFIX}-media");

    let rules = s3.get_bucket_lifecycle_configuration().bucket(&uploads).send().await.unwrap();
    let rule = rules.rules().iter().find(|r| r.id() == Some("streamdrop-expire-uploads")).expect("lifecycle rule");
    assert_eq!(rule.expiration().and_then(|e| e.days()), Some(1));
    assert_eq!(rule.abort_incomplete_multipart_upload().and_then(|a| a.days_after_initiation()), Some(1));
    let block = s3.get_public_access_block().bucket(&media).send().await.unwrap();
    let block = block.public_access_block_configuration().unwrap();
    assert_eq!(
        (
            block.block_public_acls(),
            block.ignore_public_acls(),
            block.block_public_policy(),
            block.restrict_public_buckets()
        ),
        (Some(true), Some(true), Some(true), Some(true))
    );
    let ownership = s3.get_bucket_ownership_controls().bucket(&media).send().await.unwrap();
    assert_eq!(ownership.ownership_controls().unwrap().rules()[0].object_ownership().as_str(), "BucketOwnerEnforced");

    let role = iam.get_role().role_name(format!("{PREFIX}-mediaconvert")).send().await.unwrap();
    let trust = decode_policy(role.role().unwrap().assume_role_policy_document().unwrap());
    assert_eq!(trust["Statement"][0]["Principal"]["Service"], "mediaconvert.amazonaws.com", "{trust}");
    let inline = iam
        .get_role_policy()
        .role_name(format!("{PREFIX}-mediaconvert"))
        .policy_name("streamdrop-mediaconvert-s3")
        .send()
        .await
        .unwrap();
    let inline = decode_policy(inline.policy_document());
    let grants: Vec<(String, String)> = inline["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| {
            let actions: Vec<String> =
                s["Action"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_owned()).collect();
            let resources: Vec<String> =
                s["Resource"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_owned()).collect();
            actions.into_iter().flat_map(move |a| resources.clone().into_iter().map(move |r| (a.clone(), r)))
        })
        .collect();
    // Exactly what a job uses: its original in, its stream out; nothing of the uploads bucket.
    let mut grants = grants;
    grants.sort();
    assert_eq!(
        grants,
        [
            ("s3:GetBucketLocation".to_owned(), format!("arn:aws:s3:::{media}")),
            ("s3:GetObject".to_owned(), format!("arn:aws:s3:::{media}/jobs/*/original/*")),
            ("s3:PutObject".to_owned(), format!("arn:aws:s3:::{media}/jobs/*/stream/*")),
        ]
    );
    assert!(!grants.iter().any(|(_, r)| r.contains(&uploads)), "nothing on the uploads bucket: {grants:?}");

    // The signing key: private half only in the secret store, public half in the group.
    let settings = site.settings();
    let resources = settings.get_aws(CONNECTION).unwrap().resources.clone().expect("resources saved");
    assert_eq!((resources.upload_bucket.as_str(), resources.media_bucket.as_str()), (uploads.as_str(), media.as_str()));
    let distribution = resources.distribution.clone().expect("distribution saved");
    assert_eq!(applied.distribution.as_ref(), Some(&distribution));
    let pem = site.secrets.get(&secret_ref(SecretItem::CloudFrontSigningKey)).unwrap().expect("private key stored");
    let private = PrivateKey::from_pem(&pem).unwrap();
    assert_eq!(private.algorithm().to_string(), "RSA-2048");
    let public = cloudfront.get_public_key().id(&distribution.key_pair_id).send().await.unwrap();
    let encoded = public.public_key().unwrap().public_key_config().unwrap().encoded_key().to_owned();
    assert_eq!(squeeze(&encoded), squeeze(&private.public_key().to_pem()));
    let groups = cloudfront.list_key_groups().send().await.unwrap();
    let groups = groups.key_group_list().unwrap().items();
    assert_eq!(groups.len(), 1);
    let group = groups[0].key_group().unwrap();
    assert_eq!(group.key_group_config().unwrap().items(), std::slice::from_ref(&distribution.key_pair_id));
    let files = site.data_files_text();
    let body_line = pem.lines().nth(1).unwrap();
    assert!(!files.contains(body_line), "the private key is never written to the data dir");
    assert!(!files.contains(MOTO_SECRET_ACCESS_KEY) || MOTO_SECRET_ACCESS_KEY == "testing");

    // The distribution: OAC origin on the media bucket, trusts the key group,
    // the cache policy without query strings, CORS for the webview.
    let dist = cloudfront.get_distribution_config().id(&distribution.id).send().await.unwrap();
    let dist = dist.distribution_config().unwrap();
    let origin = &dist.origins().unwrap().items()[0];
    assert_eq!(origin.domain_name(), format!("{media}.s3.us-east-1.amazonaws.com"));
    let behavior = dist.default_cache_behavior().unwrap();
    let trusted = behavior.trusted_key_groups().unwrap();
    assert!(trusted.enabled() && trusted.items() == [group.id().to_owned()], "{trusted:?}");
    assert_eq!(behavior.viewer_protocol_policy().as_str(), "redirect-to-https");
    let cache_policy = shim.policy("cache-policy", behavior.cache_policy_id().unwrap()).expect("our cache policy");
    assert!(cache_policy.contains("<QueryStringBehavior>none</QueryStringBehavior>"), "{cache_policy}");
    assert!(cache_policy.contains(&format!("<Name>{PREFIX}-signed-media</Name>")), "{cache_policy}");
    let cors = shim
        .policy("response-headers-policy", behavior.response_headers_policy_id().unwrap())
        .expect("our response headers policy");
    // Signed links play in any page's player: every origin, no credentials.
    assert!(cors.contains("<Origin>*</Origin>") && !cors.contains("tauri"), "{cors}");
    assert!(cors.contains("<AccessControlAllowCredentials>false</AccessControlAllowCredentials>"), "{cors}");
    let oacs = cloudfront.list_origin_access_controls().send().await.unwrap();
    let oacs = oacs.origin_access_control_list().unwrap().items();
    assert_eq!(oacs.len(), 1);
    assert_eq!(oacs[0].signing_behavior().as_str(), "always");

    // The bucket policy lets only this distribution read.
    let policy = s3.get_bucket_policy().bucket(&media).send().await.unwrap();
    let policy: serde_json::Value = serde_json::from_str(policy.policy().unwrap()).unwrap();
    let statement = &policy["Statement"][0];
    assert_eq!(statement["Principal"]["Service"], "cloudfront.amazonaws.com");
    assert_eq!(statement["Action"], "s3:GetObject");
    assert_eq!(statement["Resource"], format!("arn:aws:s3:::{media}/*"));
    let source_arn = statement["Condition"]["StringEquals"]["AWS:SourceArn"].as_str().unwrap();
    assert!(source_arn.ends_with(&format!("distribution/{}", distribution.id)), "{source_arn}");

    // Apply again: nothing changes, nothing new is made.
    let again = site.apply().await;
    assert_ok(&again);
    assert!(!again.changes(), "a second apply changes nothing:\n{}", printed(&again));
    assert!(again.steps.iter().all(|s| s.action == Action::Exists), "{}", printed(&again));
    assert_eq!(again.distribution.as_ref(), Some(&distribution));
    let distributions = cloudfront.list_distributions().send().await.unwrap();
    assert_eq!(distributions.distribution_list().unwrap().items().len(), 1);
    let keys = cloudfront.list_public_keys().send().await.unwrap();
    assert_eq!(keys.public_key_list().unwrap().items().len(), 1);
    assert_eq!(shim.count("cache-policy"), 1);
    assert_eq!(shim.count("response-headers-policy"), 1);
    let plan = site.plan().await;
    assert_ok(&plan);
    assert!(!plan.changes() && printed(&plan).lines().all(|l| l.starts_with("exists  ")), "{}", printed(&plan));
}

#[tokio::test]
async fn resources_that_already_exist_under_the_names_are_adopted() {
    let moto = MotoServer::start();
    let shim = PolicyShim::start(moto.addr());
    let site = Site::new(&shim.endpoint(), MOTO_ACCESS_KEY_ID, MOTO_SECRET_ACCESS_KEY);
    let config = sdk(&site.endpoint, MOTO_ACCESS_KEY_ID, MOTO_SECRET_ACCESS_KEY).await;
    let (s3, iam, cloudfront) =
        (s3(&config), aws_sdk_iam::Client::new(&config), aws_sdk_cloudfront::Client::new(&config));
    let uploads = format!("{PREFIX}-uploads");
    let media = format!("{PREFIX}-media");

    // Made by hand, partly right: buckets without their settings, the role
    // without its policy, the OAC, a cache policy that keys on query strings,
    // and a distribution on the media bucket that trusts nobody.
    s3.create_bucket().bucket(&uploads).send().await.unwrap();
    s3.create_bucket().bucket(&media).send().await.unwrap();
    let trust = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "mediaconvert.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    let role = iam
        .create_role()
        .role_name(format!("{PREFIX}-mediaconvert"))
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .unwrap();
    let role_arn = role.role().unwrap().arn().to_owned();
    use aws_sdk_cloudfront::types as cf;
    let oac = cloudfront
        .create_origin_access_control()
        .origin_access_control_config(
            cf::OriginAccessControlConfig::builder()
                .name(format!("{PREFIX}-media"))
                .signing_protocol(cf::OriginAccessControlSigningProtocols::Sigv4)
                .signing_behavior(cf::OriginAccessControlSigningBehaviors::Always)
                .origin_access_control_origin_type(cf::OriginAccessControlOriginTypes::S3)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let oac_id = oac.origin_access_control().unwrap().id().to_owned();
    let all_query_strings = cf::ParametersInCacheKeyAndForwardedToOrigin::builder()
        .enable_accept_encoding_gzip(true)
        .query_strings_config(
            cf::CachePolicyQueryStringsConfig::builder()
                .query_string_behavior(cf::CachePolicyQueryStringBehavior::All)
                .build()
                .unwrap(),
        )
        .headers_config(
            cf::CachePolicyHeadersConfig::builder()
                .header_behavior(cf::CachePolicyHeaderBehavior::None)
                .build()
                .unwrap(),
        )
        .cookies_config(
            cf::CachePolicyCookiesConfig::builder()
                .cookie_behavior(cf::CachePolicyCookieBehavior::None)
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let cache_policy = cloudfront
        .create_cache_policy()
        .cache_policy_config(
            cf::CachePolicyConfig::builder()
                .name(format!("{PREFIX}-signed-media"))
                .min_ttl(0)
                .parameters_in_cache_key_and_forwarded_to_origin(all_query_strings)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let cache_policy_id = cache_policy.cache_policy().unwrap().id().to_owned();
    let hand_made = hand_made_distribution(&cloudfront, &media).await;

    let plan = site.plan().await;
    assert_ok(&plan);
    assert_eq!(
        actions(&plan),
        [
            ("upload-bucket", Action::Update),
            ("media-bucket", Action::Update),
            ("mediaconvert-role", Action::Update),
            ("signing-key", Action::Create),
            ("origin-access-control", Action::Exists),
            ("cache-policy", Action::Update),
            ("response-headers-policy", Action::Create),
            ("distribution", Action::Update),
            ("media-bucket-policy", Action::Create),
            ("deployment", Action::Exists),
        ],
        "{}",
        printed(&plan)
    );
    let lines = printed(&plan);
    assert!(lines.contains("update  s3 bucket streamdrop-acme-uploads (add lifecycle"), "{lines}");
    assert!(lines.contains(&format!("({hand_made}")) || lines.contains(&hand_made), "{lines}");

    let applied = site.apply().await;
    assert_ok(&applied);
    let again = site.apply().await;
    assert_ok(&again);
    assert!(!again.changes(), "{}", printed(&again));

    // Adopted, not duplicated.
    let settings = site.settings();
    let resources = settings.get_aws(CONNECTION).unwrap().resources.clone().unwrap();
    assert_eq!(resources.distribution.as_ref().unwrap().id, hand_made);
    match &resources.transcoder {
        streamdrop_core::credentials::Transcoder::MediaConvert { role_arn: stored } => {
            assert_eq!(stored.as_deref(), Some(role_arn.as_str()), "the hand-made role is the one used")
        }
        other => panic!("transcoder {other:?}"),
    }
    let distributions = cloudfront.list_distributions().send().await.unwrap();
    assert_eq!(distributions.distribution_list().unwrap().items().len(), 1);
    let oacs = cloudfront.list_origin_access_controls().send().await.unwrap();
    assert_eq!(oacs.origin_access_control_list().unwrap().items()[0].id(), oac_id);
    assert_eq!(oacs.origin_access_control_list().unwrap().items().len(), 1);
    assert_eq!(shim.count("cache-policy"), 1);
    let policy = shim.policy("cache-policy", &cache_policy_id).unwrap();
    assert!(policy.contains("<QueryStringBehavior>none</QueryStringBehavior>"), "updated in place: {policy}");
    let dist = cloudfront.get_distribution_config().id(&hand_made).send().await.unwrap();
    let behavior = dist.distribution_config().unwrap().default_cache_behavior().unwrap();
    assert_eq!(behavior.cache_policy_id(), Some(cache_policy_id.as_str()));
    assert!(behavior.trusted_key_groups().unwrap().enabled());
}

#[tokio::test]
async fn a_denied_permission_names_the_action_and_the_step_and_a_rerun_continues() {
    let moto = MotoServer::start();
    let root = sdk(&moto.endpoint(), MOTO_ACCESS_KEY_ID, MOTO_SECRET_ACCESS_KEY).await;
    let iam = aws_sdk_iam::Client::new(&root);
    // An admin, and a setup user that may do anything but create roles.
    let allow_all = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    let no_roles =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:CreateRole","Resource":"*"}]}"#;
    let mut keys = HashMap::new();
    for user in ["admin", "setup-bot"] {
        iam.create_user().user_name(user).send().await.unwrap();
        iam.put_user_policy().user_name(user).policy_name("all").policy_document(allow_all).send().await.unwrap();
        let key = iam.create_access_key().user_name(user).send().await.unwrap();
        let key = key.access_key().unwrap();
        keys.insert(user, (key.access_key_id().to_owned(), key.secret_access_key().to_owned()));
    }
    iam.put_user_policy()
        .user_name("setup-bot")
        .policy_name("no-roles")
        .policy_document(no_roles)
        .send()
        .await
        .unwrap();
    // From here on moto checks every request's signature and IAM policies.
    moto_auth(moto.addr(), "0");

    let (bot_id, bot_secret) = &keys["setup-bot"];
    let site = Site::new(&moto.endpoint(), bot_id, bot_secret);
    let failed = site.apply().await;
    let err = failed.error.clone().expect("the role step is denied");
    assert_eq!(err.step, "mediaconvert-role", "{err}\n{}", printed(&failed));
    assert_eq!(err.denied_action(), Some("iam:CreateRole"), "{err:?}");
    let message = err.to_string();
    assert!(
        message.starts_with("creating the MediaConvert service role streamdrop-acme-mediaconvert: permission denied"),
        "{message}"
    );
    assert!(
        message.contains("iam:CreateRole") && message.contains("run `streamdrop setup --apply` again"),
        "{message}"
    );
    assert!(message.contains("not authorized"), "moto's own reason is kept: {message}");
    assert_eq!(
        actions(&failed),
        [("upload-bucket", Action::Create), ("media-bucket", Action::Create)],
        "the steps before the denial are done and reported"
    );
    let saved = site.settings().get_aws(CONNECTION).unwrap().resources.clone().expect("progress is saved");
    assert_eq!(saved.upload_bucket, format!("{PREFIX}-uploads"));
    let json = serde_json::to_value(&failed).unwrap();
    assert_eq!(json["error"]["action"], "iam:CreateRole", "{json}");
    assert_eq!(json["error"]["denied"], true, "{json}");
    // The one statement that grants it, scoped as `setup --permissions` scopes it.
    let role_arn = format!("arn:aws:iam::*:role/{PREFIX}-mediaconvert");
    let grant = serde_json::json!({ "Effect": "Allow", "Action": "iam:CreateRole", "Resource": [role_arn] });
    assert_eq!(failed.grant, Some(grant.clone()));
    assert_eq!(json["grant"], grant, "{json}");

    // The admin grants it; the same command continues where it stopped.
    let (admin_id, admin_secret) = &keys["admin"];
    let admin = aws_sdk_iam::Client::new(&sdk(&moto.endpoint(), admin_id, admin_secret).await);
    admin.delete_user_policy().user_name("setup-bot").policy_name("no-roles").send().await.unwrap();
    // moto verifies the SigV4 signatures of S3 and IAM calls, but computes
    // CloudFront's differently from every SDK (SignatureDoesNotMatch), so the
    // CloudFront steps of the re-run need enforcement off again.
    moto_auth(moto.addr(), "inf");
    let resumed = site.apply().await;
    assert_ok(&resumed);
    assert_eq!(action_of(&resumed, "upload-bucket"), Action::Exists);
    assert_eq!(action_of(&resumed, "media-bucket"), Action::Exists);
    assert_eq!(action_of(&resumed, "mediaconvert-role"), Action::Create);
    assert_eq!(action_of(&resumed, "distribution"), Action::Create);
    assert!(resumed.distribution.is_some());
}

#[tokio::test]
async fn plain_moto_skips_the_policies_and_a_machine_without_the_private_key_is_told_to_rotate() {
    let moto = MotoServer::start();
    let site = Site::new(&moto.endpoint(), MOTO_ACCESS_KEY_ID, MOTO_SECRET_ACCESS_KEY);
    let plan = site.plan().await;
    assert_ok(&plan);
    assert_eq!(action_of(&plan, "cache-policy"), Action::Skip);
    assert_eq!(action_of(&plan, "response-headers-policy"), Action::Skip);
    assert!(
        printed(&plan)
            .contains("skip    cloudfront cache policy streamdrop-acme-signed-media (this endpoint does not implement"),
        "{}",
        printed(&plan)
    );
    let applied = site.apply().await;
    assert_ok(&applied);
    let again = site.apply().await;
    assert_ok(&again);
    assert!(!again.changes(), "{}", printed(&again));

    // The legacy Elastic Transcoder backend: its role here, its pipeline on its first job.
    let legacy = SetupOptions { transcoder: Some(TranscoderKind::ElasticTranscoder), ..prefixed() };
    let plan = site.run(Mode::Plan, legacy.clone()).await;
    assert_ok(&plan);
    assert_eq!(action_of(&plan, "elastic-transcoder-role"), Action::Create);
    assert_eq!(action_of(&plan, "elastic-transcoder-pipeline"), Action::Later);
    assert!(
        printed(&plan).contains("later   elastic transcoder pipeline streamdrop-acme-pipeline (created on the first")
    );
    let switched = site.run(Mode::Apply, legacy.clone()).await;
    assert_ok(&switched);
    assert_eq!(action_of(&site.run(Mode::Apply, legacy).await, "elastic-transcoder-role"), Action::Exists);
    match site.settings().get_aws(CONNECTION).unwrap().resources.clone().unwrap().transcoder {
        Transcoder::ElasticTranscoder { role_arn: Some(arn), pipeline } => {
            assert!(arn.ends_with(":role/Elastic_Transcoder_Default_Role"), "{arn}");
            assert_eq!(pipeline, "streamdrop-acme-pipeline");
        }
        other => panic!("transcoder {other:?}"),
    }

    // Without a cache policy the legacy settings keep the query string out of the key.
    let config = sdk(&moto.endpoint(), MOTO_ACCESS_KEY_ID, MOTO_SECRET_ACCESS_KEY).await;
    let cloudfront = aws_sdk_cloudfront::Client::new(&config);
    let id = applied.distribution.as_ref().unwrap().id.clone();
    let dist = cloudfront.get_distribution_config().id(&id).send().await.unwrap();
    #[allow(deprecated)]
    let forwarded = dist.distribution_config().unwrap().default_cache_behavior().unwrap().forwarded_values().cloned();
    assert!(!forwarded.expect("forwarded values").query_string());

    // Another machine (its own keychain) sets up the same account: the key
    // group is there, its private key is not.
    let other = Site::new(&moto.endpoint(), MOTO_ACCESS_KEY_ID, MOTO_SECRET_ACCESS_KEY);
    let plan = other.plan().await;
    assert_ok(&plan);
    assert_eq!(action_of(&plan, "signing-key"), Action::Update);
    let line = printed(&plan).lines().find(|l| l.contains("key group")).unwrap().to_owned();
    assert!(line.contains("no private key") && line.contains("--rotate-signing-key"), "{line}");
    let stopped = other.apply().await;
    let err = stopped.error.expect("apply stops at the signing key");
    assert_eq!(err.step, "signing-key");
    assert_eq!(err.denied_action(), None);
    assert!(err.to_string().contains("streamdrop setup --apply --rotate-signing-key"), "{err}");
    assert!(other.secrets.get(&secret_ref(SecretItem::CloudFrontSigningKey)).unwrap().is_none(), "no key made");
}

#[tokio::test]
async fn setup_needs_an_aws_connection_and_a_name_prefix() {
    // Nothing listens there: these fail before any call.
    let site = Site::new("http://127.0.0.1:9", "id", "secret");
    let secrets: Arc<dyn SecretStore> = site.secrets.clone();
    let no_prefix =
        provisioning::run(&site.data, None, secrets.clone(), &SetupOptions::default(), None, Mode::Plan, &|_| {}).await;
    assert!(matches!(no_prefix, Err(PreflightError::NoPrefix(_))), "{:?}", no_prefix.err());
    let local =
        provisioning::run(&site.data, Some("Local"), secrets.clone(), &prefixed(), None, Mode::Plan, &|_| {}).await;
    assert!(matches!(local, Err(PreflightError::Local)), "{:?}", local.err());
    let options = SetupOptions { name_prefix: Some("Not_A_Bucket".into()), ..SetupOptions::default() };
    let bad = provisioning::run(&site.data, None, secrets, &options, None, Mode::Plan, &|_| {}).await;
    assert!(matches!(bad, Err(PreflightError::BadPrefix(_))), "{:?}", bad.err());
}

/// Makes a distribution on the media bucket by hand, as someone might have.
async fn hand_made_distribution(cloudfront: &aws_sdk_cloudfront::Client, media: &str) -> String {
    use aws_sdk_cloudfront::types as cf;
    let origin = cf::Origin::builder()
        .id("hand-made")
        .domain_name(format!("{media}.s3.us-east-1.amazonaws.com"))
        .s3_origin_config(cf::S3OriginConfig::builder().origin_access_identity("").build())
        .build()
        .unwrap();
    #[allow(deprecated)]
    let behavior = cf::DefaultCacheBehavior::builder()
        .target_origin_id("hand-made")
        .viewer_protocol_policy(cf::ViewerProtocolPolicy::AllowAll)
        .smooth_streaming(false)
        .forwarded_values(
            cf::ForwardedValues::builder()
                .query_string(true)
                .cookies(cf::CookiePreference::builder().forward(cf::ItemSelection::None).build().unwrap())
                .build()
                .unwrap(),
        )
        .min_ttl(0)
        .build()
        .unwrap();
    let config = cf::DistributionConfig::builder()
        .caller_reference("hand-made")
        .comment("made by hand")
        .enabled(true)
        // Spelled out: moto otherwise answers them as Python booleans the SDK cannot read.
        .logging(cf::LoggingConfig::builder().enabled(false).include_cookies(false).bucket("").prefix("").build())
        .origins(cf::Origins::builder().quantity(1).items(origin).build().unwrap())
        .default_cache_behavior(behavior)
        .build()
        .unwrap();
    // moto answers CreateDistribution under a root element the SDK does not
    // expect, so the result is read back from the list.
    let _ = cloudfront.create_distribution().distribution_config(config).send().await;
    let list = cloudfront.list_distributions().send().await.unwrap();
    list.distribution_list().unwrap().items()[0].id().to_owned()
}

/// IAM documents come back percent-encoded from AWS; moto sends them as is.
fn decode_policy(text: &str) -> serde_json::Value {
    serde_json::from_str(text)
        .or_else(|_| serde_json::from_str(&percent_decode(text)))
        .unwrap_or_else(|e| panic!("not a policy document ({e}): {text}"))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(byte) = u8::from_str_radix(&text[i + 1..i + 3], 16) {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn squeeze(pem: &str) -> String {
    pem.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Sets moto's IAM enforcement: after `count` more requests ("0": now; "inf":
/// never) every request must be signed by a known access key and be allowed
/// by that user's policies.
fn moto_auth(addr: SocketAddr, count: &str) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "POST /moto-api/reset-auth HTTP/1.1\r\nHost: {addr}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{count}",
        count.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "moto reset-auth: {response}");
}

/// CloudFront cache policies and response headers policies, which moto does
/// not implement, served from memory in front of moto (created, read, updated
/// and deleted with AWS's ETag rule; that a policy in use cannot be deleted
/// is not modelled); every other request is
/// passed to moto unchanged (its `Host` header too, so signatures verify).
struct PolicyShim {
    addr: SocketAddr,
    state: Arc<Mutex<ShimState>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

#[derive(Default)]
struct ShimState {
    /// (kind, id) → (etag, config XML)
    policies: HashMap<(&'static str, String), (String, String)>,
    next: u32,
    /// IAM's policy simulator (moto has none): these actions are denied, the rest allowed.
    denied_actions: Vec<String>,
    /// What the simulator was asked: (principal, action, resource).
    simulated: Vec<(String, String, String)>,
}

/// (URL path segment, object element, config element, list element, summary element)
const KINDS: [(&str, &str, &str, &str, &str); 2] = [
    ("cache-policy", "CachePolicy", "CachePolicyConfig", "CachePolicyList", "CachePolicySummary"),
    (
        "response-headers-policy",
        "ResponseHeadersPolicy",
        "ResponseHeadersPolicyConfig",
        "ResponseHeadersPolicyList",
        "ResponseHeadersPolicySummary",
    ),
];

impl PolicyShim {
    fn start(upstream: SocketAddr) -> PolicyShim {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(ShimState::default()));
        let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread_state = state.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async move {
                let listener = TcpListener::from_std(listener).unwrap();
                loop {
                    let socket = tokio::select! {
                        accepted = listener.accept() => match accepted { Ok((s, _)) => s, Err(_) => continue },
                        _ = &mut stop_rx => return,
                    };
                    let state = thread_state.clone();
                    tokio::spawn(async move {
                        let service = hyper::service::service_fn(move |req| handle_shim(req, state.clone(), upstream));
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(socket), service)
                            .await;
                    });
                }
            });
        });
        PolicyShim { addr, state, stop: Some(stop_tx), thread: Some(thread) }
    }

    fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The config XML of policy `id` of `kind` (`cache-policy`, `response-headers-policy`).
    fn policy(&self, kind: &str, id: &str) -> Option<String> {
        let state = self.state.lock().unwrap();
        state.policies.iter().find(|((k, i), _)| *k == kind && i == id).map(|(_, (_, xml))| xml.clone())
    }

    /// The simulator denies `action`, from now on.
    fn deny(&self, action: &str) {
        self.state.lock().unwrap().denied_actions.push(action.to_owned());
    }

    fn count(&self, kind: &str) -> usize {
        self.state.lock().unwrap().policies.keys().filter(|(k, _)| *k == kind).count()
    }
}

impl Drop for PolicyShim {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

type ShimResult = Result<Response<Full<Bytes>>, Box<dyn std::error::Error + Send + Sync>>;

async fn handle_shim(req: Request<Incoming>, state: Arc<Mutex<ShimState>>, upstream: SocketAddr) -> ShimResult {
    let path = req.uri().path().to_owned();
    if req.method() == hyper::Method::POST && path == "/" {
        let (parts, body) = req.into_parts();
        let body = body.collect().await?.to_bytes();
        let form: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
        if form.iter().any(|(k, v)| k == "Action" && v == "SimulatePrincipalPolicy") {
            return Ok(simulate(&form, &mut state.lock().unwrap()));
        }
        return forward_bytes(Request::from_parts(parts, Full::new(body)), upstream).await;
    }
    let kind = KINDS.iter().find(|k| {
        let base = format!("/2020-05-31/{}", k.0);
        path == base || path.starts_with(&format!("{base}/"))
    });
    let Some(&(segment, object, config_element, list_element, summary_element)) = kind else {
        return forward(req, upstream).await;
    };
    let method = req.method().clone();
    let if_match = req.headers().get("if-match").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body = req.into_body().collect().await?.to_bytes();
    let body = String::from_utf8_lossy(&body).into_owned();
    let id = path.trim_start_matches(&format!("/2020-05-31/{segment}")).trim_start_matches('/').to_owned();
    let mut state = state.lock().unwrap();
    let render = |id: &str, config: &str| {
        format!("<{object}><Id>{id}</Id><LastModifiedTime>2026-01-01T00:00:00Z</LastModifiedTime>{config}</{object}>")
    };
    let xml = |status: StatusCode, etag: Option<&str>, text: String| {
        let mut response = Response::builder().status(status).header("content-type", "text/xml");
        if let Some(etag) = etag {
            response = response.header("etag", etag);
        }
        Ok(response.body(Full::new(Bytes::from(format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>{}"#,
            text.replacen('>', r#" xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/">"#, 1)
        ))))?)
    };
    let not_found = |what: &str| {
        let code = if segment == "cache-policy" { "NoSuchCachePolicy" } else { "NoSuchResponseHeadersPolicy" };
        format!("<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{what}</Message></Error><RequestId>shim</RequestId></ErrorResponse>")
    };
    match (method.as_str(), id.is_empty()) {
        ("GET", true) => {
            let mut items: Vec<_> = state.policies.iter().filter(|((k, _), _)| *k == segment).collect();
            items.sort_by(|a, b| a.0 .1.cmp(&b.0 .1));
            let summaries: String = items
                .iter()
                .map(|((_, id), (_, config))| {
                    format!("<{summary_element}><Type>custom</Type>{}</{summary_element}>", render(id, config))
                })
                .collect();
            xml(
                StatusCode::OK,
                None,
                format!("<{list_element}><MaxItems>100</MaxItems><Quantity>{}</Quantity><Items>{summaries}</Items></{list_element}>", items.len()),
            )
        }
        ("POST", true) => {
            let config = config_xml(&body, config_element);
            state.next += 1;
            let id = format!("SHIM{:010}", state.next);
            let etag = format!("E{}", state.next);
            state.policies.insert((segment, id.clone()), (etag.clone(), config.clone()));
            xml(StatusCode::CREATED, Some(&etag), render(&id, &config))
        }
        ("GET", false) => match state.policies.get(&(segment, id.clone())) {
            Some((etag, config)) => xml(StatusCode::OK, Some(etag), render(&id, config)),
            None => xml(StatusCode::NOT_FOUND, None, not_found(&id)),
        },
        ("PUT", false) => {
            let Some((etag, _)) = state.policies.get(&(segment, id.clone())).cloned() else {
                return xml(StatusCode::NOT_FOUND, None, not_found(&id));
            };
            if if_match.as_deref() != Some(etag.as_str()) {
                let body = "<ErrorResponse><Error><Type>Sender</Type><Code>PreconditionFailed</Code><Message>ETag</Message></Error></ErrorResponse>";
                return xml(StatusCode::PRECONDITION_FAILED, None, body.into());
            }
            state.next += 1;
            let etag = format!("E{}", state.next);
            let config = config_xml(&body, config_element);
            state.policies.insert((segment, id.clone()), (etag.clone(), config.clone()));
            xml(StatusCode::OK, Some(&etag), render(&id, &config))
        }
        ("DELETE", false) => {
            let Some((etag, _)) = state.policies.get(&(segment, id.clone())).cloned() else {
                return xml(StatusCode::NOT_FOUND, None, not_found(&id));
            };
            if if_match.as_deref() != Some(etag.as_str()) {
                let body = "<ErrorResponse><Error><Type>Sender</Type><Code>PreconditionFailed</Code><Message>ETag</Message></Error></ErrorResponse>";
                return xml(StatusCode::PRECONDITION_FAILED, None, body.into());
            }
            state.policies.remove(&(segment, id));
            Ok(Response::builder().status(StatusCode::NO_CONTENT).body(Full::new(Bytes::new()))?)
        }
        _ => xml(StatusCode::NOT_FOUND, None, not_found(&path)),
    }
}

/// `<CachePolicyConfig>…</CachePolicyConfig>` from a request body, without
/// the XML declaration and namespace attribute.
fn config_xml(body: &str, element: &str) -> String {
    let start = body.find(&format!("<{element}")).unwrap_or_else(|| panic!("no {element} in {body}"));
    let end = body.rfind(&format!("</{element}>")).unwrap() + element.len() + 3;
    let inner_start = start + body[start..].find('>').unwrap() + 1;
    format!("<{element}>{}", &body[inner_start..end])
}

async fn forward(req: Request<Incoming>, upstream: SocketAddr) -> ShimResult {
    let (parts, body) = req.into_parts();
    let body = body.collect().await?.to_bytes();
    forward_bytes(Request::from_parts(parts, Full::new(body)), upstream).await
}

async fn forward_bytes(req: Request<Full<Bytes>>, upstream: SocketAddr) -> ShimResult {
    let (parts, body) = req.into_parts();
    let stream = tokio::net::TcpStream::connect(upstream).await?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let response = sender.send_request(Request::from_parts(parts, body)).await?;
    let (parts, body) = response.into_parts();
    let body = body.collect().await?.to_bytes();
    Ok(Response::from_parts(parts, Full::new(body)))
}

/// IAM's SimulatePrincipalPolicy answer: every action asked, on every resource
/// asked (or `*`), allowed unless denied.
fn simulate(form: &[(String, String)], state: &mut ShimState) -> Response<Full<Bytes>> {
    let values = |prefix: &str| -> Vec<String> {
        form.iter().filter(|(k, _)| k.starts_with(prefix)).map(|(_, v)| v.clone()).collect()
    };
    let principal = values("PolicySourceArn").pop().unwrap_or_default();
    let mut resources = values("ResourceArns.member.");
    if resources.is_empty() {
        resources.push("*".into());
    }
    let mut results = String::new();
    for action in values("ActionNames.member.") {
        for resource in &resources {
            state.simulated.push((principal.clone(), action.clone(), resource.clone()));
            let decision = if state.denied_actions.contains(&action) { "implicitDeny" } else { "allowed" };
            results.push_str(&format!(
                "<member><EvalActionName>{action}</EvalActionName><EvalResourceName>{resource}</EvalResourceName>\
                 <EvalDecision>{decision}</EvalDecision></member>"
            ));
        }
    }
    let xml = format!(
        r#"<SimulatePrincipalPolicyResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><SimulatePrincipalPolicyResult><IsTruncated>false</IsTruncated><EvaluationResults>{results}</EvaluationResults></SimulatePrincipalPolicyResult><ResponseMetadata><RequestId>shim</RequestId></ResponseMetadata></SimulatePrincipalPolicyResponse>"#
    );
    Response::builder().status(200).header("content-type", "text/xml").body(Full::new(Bytes::from(xml))).unwrap()
}

/// `connection check` asks IAM's policy simulator whether the connection's
/// identity may do what `setup --permissions` lists, and names each missing
/// action; where the simulator cannot be asked (moto has none) it says so.
#[tokio::test]
async fn connection_check_names_each_permission_the_identity_lacks() {
    let moto = MotoServer::start();
    let shim = PolicyShim::start(moto.addr());
    let site = Site::new(&shim.endpoint(), MOTO_ACCESS_KEY_ID, MOTO_SECRET_ACCESS_KEY);
    let session = Session::open(site.data.clone(), SessionOptions::with_secrets(site.secrets.clone())).unwrap();
    let not_set_up = session.check_connection(None, None).await.unwrap();
    assert!(matches!(not_set_up.permissions, PermissionsView::NotChecked { .. }), "{not_set_up:?}");
    assert_ok(&site.apply().await);

    let allowed = session.check_connection(None, None).await.unwrap();
    assert!(matches!(allowed.permissions, PermissionsView::Allowed { actions } if actions > 40), "{allowed:?}");
    let asked = shim.state.lock().unwrap().simulated.clone();
    assert!(asked.iter().all(|(principal, ..)| principal == &allowed.arn), "asked about the caller: {asked:?}");
    let role = format!("arn:aws:iam::{}:role/{PREFIX}-mediaconvert", allowed.account);
    assert!(asked.iter().any(|(_, a, r)| a == "iam:PassRole" && r == &role), "{asked:?}");

    shim.deny("iam:PassRole");
    let missing = session.check_connection(None, None).await.unwrap();
    assert_eq!(missing.permissions, PermissionsView::Missing { missing: vec![format!("iam:PassRole on {role}")] });

    // Straight to moto, which has no simulator: said, not failed.
    let plain = session.check_connection(None, Some(&moto.endpoint())).await.unwrap();
    assert!(
        matches!(&plain.permissions, PermissionsView::NotChecked { why } if why.contains("simulator")),
        "{plain:?}"
    );
}

/// CloudFront takes minutes to deploy a distribution: setup says so (links do
/// not work yet), and when asked to, waits until it has deployed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_reports_a_deployment_in_progress_and_can_wait_for_it() {
    let moto = MotoServer::start();
    moto.set_transition("cloudfront::distribution", serde_json::json!({"progression": "time", "seconds": 4}));
    let shim = PolicyShim::start(moto.addr());
    let site = Site::new(&shim.endpoint(), MOTO_ACCESS_KEY_ID, MOTO_SECRET_ACCESS_KEY);

    let applied = site.apply().await;
    assert_ok(&applied);
    let deployment = applied.steps.iter().find(|s| s.step == "deployment").expect("a deployment step");
    assert_eq!(deployment.action, Action::Later, "{}", printed(&applied));
    assert!(deployment.line().contains("deploying (CloudFront says InProgress)"), "{}", deployment.line());
    assert!(deployment.line().contains("links on this connection work once it has deployed"), "{}", deployment.line());

    let options = SetupOptions { wait_for_deployment: Some(Duration::from_secs(30)), ..prefixed() };
    let waited = site.run(Mode::Apply, options).await;
    assert_ok(&waited);
    assert!(!waited.changes(), "nothing else to change: {}", printed(&waited));
    assert_eq!(action_of(&waited, "deployment"), Action::Exists, "{}", printed(&waited));
    assert!(printed(&waited).contains("(deployed)"), "{}", printed(&waited));
}

/// On an account where Elastic Transcoder is gone, setup with it says so
/// first, before it makes anything.
#[tokio::test]
async fn setup_with_elastic_transcoder_where_it_is_gone_says_so_before_making_anything() {
    let moto = MotoServer::start();
    let site = Site::new(&moto.endpoint(), MOTO_ACCESS_KEY_ID, MOTO_SECRET_ACCESS_KEY);
    site.elastic_transcoder.discontinue_elastic_transcoder(Some(HttpAnswer::plain(
        410,
        "application/json",
        r#"{"message":"Amazon Elastic Transcoder has been discontinued."}"#,
    )));
    let legacy = SetupOptions { transcoder: Some(TranscoderKind::ElasticTranscoder), ..prefixed() };
    let report = site.run(Mode::Apply, legacy).await;
    let error = report.error.as_ref().expect("setup stops");
    assert_eq!(error.step, "elastic-transcoder-service", "{error}");
    assert!(error.to_string().contains(DISCONTINUED_MESSAGE), "{error}");
    assert!(report.steps.is_empty(), "nothing was made: {}", printed(&report));
    let config = sdk(&site.endpoint, MOTO_ACCESS_KEY_ID, MOTO_SECRET_ACCESS_KEY).await;
    assert!(s3(&config).list_buckets().send().await.unwrap().buckets().is_empty(), "no bucket was made");
}

/// The key pair id a link URL is signed with.
fn key_pair_id_of(url: &str) -> String {
    url.split(['?', '&']).find_map(|p| p.strip_prefix("Key-Pair-Id=")).expect("a Key-Pair-Id").to_owned()
}

/// The public key ids in the key group setup made.
async fn group_keys(cloudfront: &aws_sdk_cloudfront::Client) -> Vec<String> {
    let groups = cloudfront.list_key_groups().send().await.unwrap();
    let list = groups.key_group_list.unwrap();
    let group = list.items().iter().find_map(|g| g.key_group()).expect("a key group");
    group.key_group_config().unwrap().items().to_vec()
}

/// A signed URL made with the key the connection signs with now (what the linker does).
async fn signed_now(site: &Site, cloudfront: &aws_sdk_cloudfront::Client) -> Result<String, String> {
    let name = ConnectionName::new(CONNECTION).unwrap();
    let secrets: Arc<dyn SecretStore> = site.secrets.clone();
    let key = streamdrop_core::credentials::signing_key(&site.data, &name, &secrets, Some(cloudfront))
        .await
        .map_err(|e| e.to_string())?;
    let policy = streamdrop_core::signing::Policy::canned("https://d1.cloudfront.net/a.m3u8", 4_000_000_000).unwrap();
    Ok(streamdrop_core::signing::sign_url("https://d1.cloudfront.net/a.m3u8", &policy, &key).unwrap().to_string())
}

fn distribution_info(site: &Site) -> streamdrop_core::credentials::DistributionInfo {
    site.settings().get_aws(CONNECTION).unwrap().resources.clone().unwrap().distribution.unwrap()
}

/// `--rotate-signing-key` adds a new key, which signs only once CloudFront has
/// deployed the key group change (asked by the linker or by setup); the key
/// it replaced leaves the group, and is deleted, once the last link signed
/// with it has expired. A machine whose keychain lost its key rotates the
/// same way and is told to wait meanwhile. moto (with the tests' shim) redeploys
/// the distributions that trust a changed key group, as CloudFront does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_key_signs_once_deployed_and_the_old_one_leaves_when_its_links_expire() {
    let moto = MotoServer::start();
    moto.set_transition("cloudfront::distribution", serde_json::json!({"progression": "time", "seconds": 2}));
    let shim = PolicyShim::start(moto.addr());
    let site = Site::new(&shim.endpoint(), MOTO_ACCESS_KEY_ID, MOTO_SECRET_ACCESS_KEY);
    let config = sdk(&moto.endpoint(), MOTO_ACCESS_KEY_ID, MOTO_SECRET_ACCESS_KEY).await;
    let cloudfront = aws_sdk_cloudfront::Client::new(&config);
    let wait = SetupOptions { wait_for_deployment: Some(Duration::from_secs(30)), ..prefixed() };
    let rotate = SetupOptions { rotate_signing_key: true, ..prefixed() };

    assert_ok(&site.run(Mode::Apply, wait.clone()).await);
    let first = distribution_info(&site).key_pair_id;
    assert_eq!(key_pair_id_of(&signed_now(&site, &cloudfront).await.unwrap()), first);
    // A link signed with the first key, valid a few seconds more.
    let store = streamdrop_core::store::Store::open(&site.data.store_file()).unwrap();
    let link_expires = streamdrop_core::clock::now_ms() + 20_000;
    store
        .insert_link(&streamdrop_core::model::LinkView {
            id: "l1".into(),
            job_id: streamdrop_core::model::JobId::new(),
            kind: streamdrop_core::model::LinkKind::Stream,
            url: signed_now(&site, &cloudfront).await.unwrap(),
            expires_at: link_expires,
            created_at: streamdrop_core::clock::now_ms(),
            revoked_at: None,
            deploying: false,
        })
        .unwrap();

    // Rotate: the new key is in the group, but CloudFront is deploying the change.
    let plan = site.run(Mode::Plan, rotate.clone()).await;
    assert_eq!(action_of(&plan, "signing-key"), Action::Update, "{}", printed(&plan));
    let rotated = site.run(Mode::Apply, rotate.clone()).await;
    assert_ok(&rotated);
    assert_eq!(action_of(&rotated, "deployment"), Action::Later, "{}", printed(&rotated));
    let info = distribution_info(&site);
    let second = info.next_key_pair_id.clone().expect("a key waiting for deployment");
    assert_eq!(info.key_pair_id, first);
    assert_eq!(group_keys(&cloudfront).await, vec![first.clone(), second.clone()]);
    assert!(site.secrets.get(&secret_ref(SecretItem::CloudFrontNextSigningKey)).unwrap().is_some());
    // Links made meanwhile are signed with the key CloudFront's edges know.
    assert_eq!(key_pair_id_of(&signed_now(&site, &cloudfront).await.unwrap()), first);
    // A second rotation while one deploys adds nothing.
    let again = site.run(Mode::Plan, rotate.clone()).await;
    assert!(printed(&again).contains("a rotation is already deploying"), "{}", printed(&again));

    // Deployed: the next link promotes the new key; the old one is retired.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(key_pair_id_of(&signed_now(&site, &cloudfront).await.unwrap()), second);
    let info = distribution_info(&site);
    assert_eq!((info.key_pair_id.as_str(), info.next_key_pair_id.as_deref()), (second.as_str(), None));
    assert_eq!(info.retired_keys.iter().map(|k| k.id.clone()).collect::<Vec<_>>(), vec![first.clone()]);
    assert!(site.secrets.get(&secret_ref(SecretItem::CloudFrontNextSigningKey)).unwrap().is_none());

    // The retired key stays while a link signed with it is valid…
    let kept = site.apply().await;
    assert_ok(&kept);
    assert_eq!(action_of(&kept, "signing-key"), Action::Exists, "{}", printed(&kept));
    assert!(printed(&kept).contains(&format!("retired key {first} stays until")), "{}", printed(&kept));
    assert_eq!(group_keys(&cloudfront).await.len(), 2);
    // …and leaves the group, deleted, once that link has expired.
    let left = (link_expires - streamdrop_core::clock::now_ms()).max(0) as u64 + 1_500;
    tokio::time::sleep(Duration::from_millis(left)).await;
    let removed = site.run(Mode::Apply, wait.clone()).await;
    assert_ok(&removed);
    assert_eq!(action_of(&removed, "signing-key"), Action::Update, "{}", printed(&removed));
    assert_eq!(group_keys(&cloudfront).await, vec![second.clone()]);
    let gone = cloudfront.get_public_key().id(&first).send().await.unwrap_err();
    assert!(gone.as_service_error().is_some_and(|e| e.is_no_such_public_key()), "{gone:?}");
    assert!(distribution_info(&site).retired_keys.is_empty());
    assert!(!site.apply().await.changes());

    // A rotation promoted by setup itself, when it waits for the deployment.
    let waited = site.run(Mode::Apply, SetupOptions { rotate_signing_key: true, ..wait.clone() }).await;
    assert_ok(&waited);
    assert!(printed(&waited).contains("is live: links are signed with it from now on"), "{}", printed(&waited));
    let third = distribution_info(&site).key_pair_id;
    assert!(third != second && group_keys(&cloudfront).await.contains(&third));
    assert_eq!(distribution_info(&site).retired_keys.iter().map(|k| k.id.clone()).collect::<Vec<_>>(), vec![second]);

    // Another machine (its own keychain) rotates in its own key; until
    // CloudFront has deployed it, its links are refused with a plain reason.
    let other = Site::new(&shim.endpoint(), MOTO_ACCESS_KEY_ID, MOTO_SECRET_ACCESS_KEY);
    assert_ok(&other.run(Mode::Apply, rotate.clone()).await);
    let refused = signed_now(&other, &cloudfront).await.unwrap_err();
    assert!(refused.contains("still deploying") && refused.contains("--wait-for-deployment"), "{refused}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let fourth = key_pair_id_of(&signed_now(&other, &cloudfront).await.unwrap());
    assert!(group_keys(&cloudfront).await.contains(&fourth) && group_keys(&cloudfront).await.contains(&third));
    // The first machine's key was never touched by the second.
    assert_eq!(key_pair_id_of(&signed_now(&site, &cloudfront).await.unwrap()), third);
}

/// `setup --teardown` lists what setup made and, told to, deletes all of it in
/// the order AWS allows: the distribution is disabled first and deleted once
/// CloudFront has deployed that (a run that does not wait says `later` and a
/// re-run finishes), then what it used, the role, and both buckets with every
/// object and unfinished upload. The connection stays, without resources.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teardown_deletes_everything_setup_made_and_a_rerun_finishes_what_cloudfront_delayed() {
    let moto = MotoServer::start();
    moto.set_transition("cloudfront::distribution", serde_json::json!({"progression": "time", "seconds": 2}));
    let shim = PolicyShim::start(moto.addr());
    let site = Site::new(&shim.endpoint(), MOTO_ACCESS_KEY_ID, MOTO_SECRET_ACCESS_KEY);
    let wait = SetupOptions { wait_for_deployment: Some(Duration::from_secs(30)), ..prefixed() };
    assert_ok(&site.run(Mode::Apply, wait.clone()).await);
    let config = sdk(&moto.endpoint(), MOTO_ACCESS_KEY_ID, MOTO_SECRET_ACCESS_KEY).await;
    let (s3, cloudfront, iam) =
        (s3(&config), aws_sdk_cloudfront::Client::new(&config), aws_sdk_iam::Client::new(&config));
    let media = format!("{PREFIX}-media");
    let uploads = format!("{PREFIX}-uploads");
    for key in ["jobs/a/original/My Clip #1.mov", "jobs/a/stream/index.m3u8", "jobs/a/stream/poster.jpg"] {
        s3.put_object().bucket(&media).key(key).body(Bytes::from_static(b"x").into()).send().await.unwrap();
    }
    s3.create_multipart_upload().bucket(&uploads).key("uploads/b/clip.mov").send().await.unwrap();

    let listed = site.run(Mode::TeardownPlan, prefixed()).await;
    assert_ok(&listed);
    for step in ["distribution", "cache-policy", "response-headers-policy", "origin-access-control", "signing-key"] {
        assert_eq!(action_of(&listed, step), Action::Delete, "{}", printed(&listed));
    }
    assert_eq!(action_of(&listed, "mediaconvert-role"), Action::Delete);
    assert!(printed(&listed).contains(&format!("delete  s3 bucket {media} (3 objects and 0 unfinished uploads")));
    assert!(printed(&listed).contains(&format!("delete  s3 bucket {uploads} (0 objects and 1 unfinished uploads")));
    assert!(s3.head_bucket().bucket(&media).send().await.is_ok(), "listing deletes nothing");
    assert_eq!(cloudfront.list_distributions().send().await.unwrap().distribution_list.unwrap().items().len(), 1);

    // Without waiting: disabled, the rest of CloudFront waits for it; roles and buckets go.
    let first = site.run(Mode::Teardown, prefixed()).await;
    assert_ok(&first);
    assert_eq!(action_of(&first, "distribution"), Action::Later, "{}", printed(&first));
    assert!(printed(&first).contains("run the teardown again then"), "{}", printed(&first));
    for step in ["cache-policy", "response-headers-policy", "origin-access-control", "signing-key"] {
        assert_eq!(action_of(&first, step), Action::Later, "{}", printed(&first));
    }
    assert!(s3.head_bucket().bucket(&media).send().await.is_err());
    assert!(s3.head_bucket().bucket(&uploads).send().await.is_err());
    assert!(iam.get_role().role_name(format!("{PREFIX}-mediaconvert")).send().await.is_err());
    assert!(site.settings().get_aws(CONNECTION).unwrap().resources.is_some(), "not finished: kept");

    // Waiting: the distribution, then everything it used.
    let second = site.run(Mode::Teardown, wait.clone()).await;
    assert_ok(&second);
    for step in ["distribution", "cache-policy", "response-headers-policy", "origin-access-control", "signing-key"] {
        assert_eq!(action_of(&second, step), Action::Delete, "{}", printed(&second));
    }
    assert!(second.steps.iter().all(|s| s.applied || s.action == Action::Gone), "{}", printed(&second));
    let distributions = cloudfront.list_distributions().send().await.unwrap();
    assert!(distributions.distribution_list.is_none_or(|l| l.items().is_empty()));
    let groups = cloudfront.list_key_groups().send().await.unwrap();
    assert!(groups.key_group_list.is_none_or(|l| l.items().is_empty()));
    let keys = cloudfront.list_public_keys().send().await.unwrap();
    assert!(keys.public_key_list.is_none_or(|l| l.items().is_empty()));
    let oacs = cloudfront.list_origin_access_controls().send().await.unwrap();
    assert!(oacs.origin_access_control_list.is_none_or(|l| l.items().is_empty()));
    assert_eq!(shim.count("cache-policy") + shim.count("response-headers-policy"), 0);
    assert!(site.secrets.get(&secret_ref(SecretItem::CloudFrontSigningKey)).unwrap().is_none());
    let connection = site.settings().get_aws(CONNECTION).unwrap().clone();
    assert!(connection.resources.is_none(), "the connection stays, without resources");
    assert!(site.secrets.get(&secret_ref(SecretItem::AwsKeys)).unwrap().is_some(), "its access key stays");

    // Nothing is left to find; setup can make it all again.
    let again = site.run(Mode::TeardownPlan, prefixed()).await;
    assert_ok(&again);
    assert!(again.steps.iter().all(|s| s.action == Action::Gone), "{}", printed(&again));
    assert_ok(&site.apply().await);
}
