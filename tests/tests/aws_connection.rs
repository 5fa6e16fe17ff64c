//! The job pipeline on an AWS connection: moto's server for S3, IAM and
//! CloudFront (set up by `streamdrop setup`'s code), and the transcoder
//! stand-in for MediaConvert and Elastic Transcoder, so every SDK client talks
//! real HTTP. Keys live in an in-memory secret store here; the CLI flow with
//! the OS keychain is in `keychain.rs`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_s3::config::{Credentials, Region};
use serde_json::json;
use streamdrop_core::api::{Session, SessionOptions};
use streamdrop_core::credentials::{MemorySecretStore, Settings, TranscoderKind};
use streamdrop_core::engine::{record_jobs, EngineOptions};
use streamdrop_core::intake;
use streamdrop_core::local::edge::{Edge, EdgeOptions};
use streamdrop_core::model::{ConnectionName, LinkKind};
use streamdrop_core::provisioning::permissions::{needed, Permissions};
use streamdrop_core::provisioning::{Mode, Names, SetupOptions};
use streamdrop_core::signing::PublicKeySet;
use streamdrop_core::stack::local_buckets;
use streamdrop_core::store::Store;
use streamdrop_core::{DataDir, JobId, JobState, JobView, ProblemCode};
use streamdrop_e2e::cdn_name::CdnName;
use streamdrop_e2e::moto::{MotoServer, MOTO_REGION};
use streamdrop_e2e::transcoder_standin::{JobStep, StandInStorage, TranscoderStandIn};
use streamdrop_e2e::{make_clip, sha256_file};

use crate::common::{aws_connection, CONNECTION};

const PREFIX: &str = "streamdrop-acme";

/// moto judging IAM as AWS does, set up by `streamdrop setup`'s code (as an
/// IAM user) with one transcoder; the stand-in, scripted for the first job,
/// doing the work as the role setup made; a session hosting the connection.
struct Site {
    moto: MotoServer,
    /// The connection's access key: the person's IAM user.
    user: (String, String),
    /// CloudFront's own identity: reads the media bucket, as its bucket policy lets it.
    cloudfront: (String, String),
    /// Reads CloudFront's configuration, to check what it was asked.
    auditor: (String, String),
    tmp: tempfile::TempDir,
    data: DataDir,
    standin: TranscoderStandIn,
    session: Session,
}

impl Site {
    async fn start(transcoder: TranscoderKind, first_job: Vec<JobStep>) -> Site {
        Self::start_granting(transcoder, first_job, |_| {}).await
    }

    /// [`Site::start`] with the person's permissions changed by `edit` first.
    async fn start_granting(
        transcoder: TranscoderKind,
        first_job: Vec<JobStep>,
        edit: impl FnOnce(&mut Permissions),
    ) -> Site {
        Self::start_with(transcoder, first_job, edit, None).await
    }

    /// [`Site::start_granting`] whose distribution, once made, stays
    /// `InProgress` for `deploying_secs` (as CloudFront's does for minutes).
    async fn start_with(
        transcoder: TranscoderKind,
        first_job: Vec<JobStep>,
        edit: impl FnOnce(&mut Permissions),
        deploying_secs: Option<u64>,
    ) -> Site {
        let moto = tokio::task::spawn_blocking(MotoServer::start).await.unwrap();
        if let Some(seconds) = deploying_secs {
            let transition = json!({"progression": "time", "seconds": seconds});
            tokio::task::block_in_place(|| moto.set_transition("cloudfront::distribution", transition));
        }
        // The person: exactly what `streamdrop setup --permissions` tells them to grant.
        let mut permissions = needed(&Names::from_prefix(PREFIX).unwrap(), "aws", transcoder);
        edit(&mut permissions);
        let user = moto.create_user("editor", &merged(&permissions.setup, &permissions.daily)).await;
        // The services, which may only assume the roles that trust them.
        let assume_only = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}
        ]});
        let service = match transcoder {
            TranscoderKind::ElasticTranscoder => "elastictranscoder.amazonaws.com",
            _ => "mediaconvert.amazonaws.com",
        };
        let service = moto.create_user(service, &assume_only).await;
        let read_media = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{PREFIX}-media/*")}
        ]});
        let cloudfront = moto.create_user("cloudfront.amazonaws.com", &read_media).await;
        // Whoever checks what CloudFront was asked (the tests), not the person.
        let read_cdn = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["cloudfront:List*", "cloudfront:Get*"], "Resource": "*"}
        ]});
        let auditor = moto.create_user("auditor", &read_cdn).await;
        // From here on moto judges every request, setup's included.
        tokio::task::block_in_place(|| moto.enforce_iam());
        let tmp = tempfile::tempdir().unwrap();
        let data = DataDir::at(tmp.path().join("data")).unwrap();
        let secrets: Arc<MemorySecretStore> = aws_connection(&data, &moto.endpoint(), &user.0, &user.1);
        let options =
            SetupOptions { name_prefix: Some(PREFIX.into()), transcoder: Some(transcoder), ..SetupOptions::default() };
        let standin = TranscoderStandIn::start_working(StandInStorage {
            endpoint: moto.endpoint(),
            access_key_id: service.0,
            secret_access_key: service.1,
            assumes_the_jobs_role: true,
        });
        let mut session_options = SessionOptions::with_secrets(secrets.clone());
        session_options.aws.transcoder_endpoint_url = Some(standin.endpoint());
        let setup = Session::open(data.clone(), session_options.clone()).unwrap();
        let report = setup.setup(None, &options, Mode::Apply).await.expect("setup starts");
        assert!(report.error.is_none(), "setup failed: {:?}", report.error);

        standin.script_next_job(first_job);
        session_options.engine =
            EngineOptions { poll_interval: Duration::from_millis(100), ..EngineOptions::default() };
        let claim = data.claim_for_engine().unwrap();
        let session = Session::open_hosting(data.clone(), session_options, claim).unwrap();
        session.start().await.unwrap();
        assert_eq!(session.status().connection, CONNECTION);
        Site { moto, user, cloudfront, auditor, tmp, data, standin, session }
    }

    async fn add_clip(&self, name: &str) -> (JobId, std::path::PathBuf) {
        // Three seconds: long enough for the poster to be taken 10 % in.
        let clip = make_clip(self.tmp.path(), name, 3);
        let report = self.session.add(vec![clip.clone()]).await.unwrap();
        assert_eq!(report.accepted[0].connection, CONNECTION);
        (report.accepted[0].id, clip)
    }

    async fn settled(&self, id: JobId) -> JobView {
        tokio::time::timeout(Duration::from_secs(60), self.session.settled(id)).await.expect("settles").unwrap()
    }
}

/// One policy with the statements of both.
fn merged(a: &serde_json::Value, b: &serde_json::Value) -> serde_json::Value {
    let mut statements = a["Statement"].as_array().unwrap().clone();
    statements.extend(b["Statement"].as_array().unwrap().iter().cloned());
    json!({ "Version": "2012-10-17", "Statement": statements })
}

/// Waits up to `seconds` for `done`, naming `what` if it never is.
async fn wait_for(what: &str, seconds: u64, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while !done() {
        assert!(Instant::now() < deadline, "{what} did not happen in {seconds} s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// S3 as the person's IAM user.
fn s3(site: &Site) -> aws_sdk_s3::Client {
    s3_as(site, &site.user)
}

/// S3 as `(key id, secret)`.
fn s3_as(site: &Site, (key_id, secret): &(String, String)) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version_latest()
        .region(Region::new(MOTO_REGION))
        .endpoint_url(site.moto.endpoint())
        .force_path_style(true)
        .credentials_provider(Credentials::new(key_id, secret, None, None, "test"))
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

async fn sha256_of(client: &aws_sdk_s3::Client, bucket: &str, key: &str) -> String {
    use sha2::{Digest, Sha256};
    let object = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("get s3://{bucket}/{key}: {e:?}"));
    let bytes = object.body.collect().await.unwrap().into_bytes();
    Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_on_an_aws_connection_uploads_copies_transcodes_with_mediaconvert_and_links_through_cloudfront() {
    // A Local job queued earlier in the same data dir: not this engine's to run.
    let site =
        Site::start(TranscoderKind::MediaConvert, vec![JobStep::Progressing { percent: 40 }, JobStep::Complete]).await;
    let store = Store::open(&site.data.store_file()).unwrap();
    let local_clip = make_clip(site.tmp.path(), "local only.mp4", 1);
    let local_job =
        record_jobs(&store, &ConnectionName::local(), &local_buckets(), intake::plan([local_clip]).await).0.remove(0);
    let resources = Settings::load(&site.data).unwrap().get_aws(CONNECTION).unwrap().resources.clone().unwrap();
    let distribution = resources.distribution.clone().expect("setup made a distribution");
    let (uploads, media) = (resources.upload_bucket.clone(), resources.media_bucket.clone());
    assert_eq!(site.session.status().transcoder, "mediaconvert");

    // A name as people write them: spaces, '#', an accent, brackets.
    let (id, clip) = site.add_clip("My Clip #1 é (final).mov").await;
    let job = site.settled(id).await;
    assert_eq!(job.state, "ready", "{job:?}");

    // Upload into the temporary bucket, then a copy into the distribution bucket, both whole.
    let s3 = s3(&site);
    let original = format!("jobs/{id}/original/My Clip #1 é (final).mov");
    assert_eq!(
        store.get(id).unwrap().unwrap().destination.to_string(),
        format!("s3://{uploads}/uploads/{id}/My Clip #1 é (final).mov")
    );
    assert_eq!(job.location, format!("s3://{media}/{original}"), "a ready job lives in the distribution bucket");
    assert_eq!(sha256_of(&s3, &uploads, &format!("uploads/{id}/My Clip #1 é (final).mov")).await, sha256_file(&clip));
    assert_eq!(sha256_of(&s3, &media, &original).await, sha256_file(&clip));

    // MediaConvert got the original, the role setup made, and the job's output folder.
    let creates = site.standin.requests_to("POST", "/2017-08-29/jobs");
    assert_eq!(creates.len(), 1, "{:?}", site.standin.requests());
    let role = match &resources.transcoder {
        streamdrop_core::credentials::Transcoder::MediaConvert { role_arn: Some(role) } => role.clone(),
        other => panic!("transcoder {other:?}"),
    };
    assert_eq!(creates[0].body["role"], role.as_str());
    assert_eq!(creates[0].body["settings"]["inputs"][0]["fileInput"], format!("s3://{media}/{original}"));
    let groups = creates[0].body["settings"]["outputGroups"].as_array().unwrap();
    let hls = groups.iter().find(|g| g["outputGroupSettings"]["type"] == "HLS_GROUP_SETTINGS").unwrap();
    assert_eq!(
        hls["outputGroupSettings"]["hlsGroupSettings"]["destination"],
        format!("s3://{media}/jobs/{id}/stream/hls/master")
    );

    // The Local job was left alone, and this engine will not act on it.
    assert_eq!(store.get(local_job.id).unwrap().unwrap().state, JobState::QUEUED);
    let refused = site.session.pause(local_job.id).await.unwrap_err();
    assert_eq!(refused.code, ProblemCode::OtherConnection, "{refused:?}");

    // The stand-in wrote MediaConvert's outputs under its names; the job records what it wrote.
    let outputs = site.session.outputs(id).unwrap();
    let at = |key: String| format!("s3://{media}/{key}");
    assert_eq!(outputs.playlist, Some(at(format!("jobs/{id}/stream/hls/master.m3u8"))));
    // The poster is the capture 10 % in (the second), not the first frame.
    assert_eq!(outputs.poster, Some(at(format!("jobs/{id}/stream/poster.0000001.jpg"))));
    assert!(
        !outputs.variants.is_empty()
            && outputs.variants.iter().all(|v| v.starts_with(&at(format!("jobs/{id}/stream/hls/master_")))),
        "{outputs:?}"
    );
    assert!(
        outputs.thumbnails.first() == Some(&at(format!("jobs/{id}/stream/thumbs/thumb.0000000.jpg"))),
        "{outputs:?}"
    );

    // Links go through the distribution, signed with the key pair setup made.
    let base = format!("https://{}/jobs/{id}/stream/", distribution.domain);
    let stream = site.session.link(id, LinkKind::Stream, 3600).await.unwrap();
    assert!(!stream.deploying, "the distribution has deployed: the link works now");
    assert!(stream.url.starts_with(&format!("{base}links/")), "{}", stream.url);
    assert!(stream.url.contains(&format!("Key-Pair-Id={}", distribution.key_pair_id)), "{}", stream.url);
    let poster = site.session.link(id, LinkKind::Poster, 3600).await.unwrap();
    assert!(
        poster.url.starts_with(&format!("{base}poster.0000001.jpg?")),
        "the poster is found under MediaConvert's name: {}",
        poster.url
    );
    // Played end to end as a viewer plays it: through an edge that judges CloudFront's rules with
    // the public key setup put in the key group, reading the bucket as CloudFront may.
    let cloudfront = aws_sdk_cloudfront::Client::from_conf(
        aws_sdk_cloudfront::Config::builder()
            .behavior_version_latest()
            .region(aws_sdk_cloudfront::config::Region::new(MOTO_REGION))
            .endpoint_url(site.moto.endpoint())
            .credentials_provider(aws_sdk_cloudfront::config::Credentials::new(
                &site.user.0,
                &site.user.1,
                None,
                None,
                "test",
            ))
            .build(),
    );
    let uploaded = cloudfront.get_public_key().id(&distribution.key_pair_id).send().await.unwrap();
    let pem = uploaded.public_key().and_then(|k| k.public_key_config()).map(|c| c.encoded_key().to_owned()).unwrap();
    let mut trusted = PublicKeySet::new();
    trusted.insert_pem(&distribution.key_pair_id, &pem).unwrap();
    let public_url = Some(format!("https://{}", distribution.domain));
    let edge = Edge::start(
        s3_as(&site, &site.cloudfront),
        media.clone(),
        trusted,
        EdgeOptions { public_url, ..EdgeOptions::default() },
    )
    .await
    .unwrap();
    let name = CdnName::start(&distribution.domain, edge.addr()).await;
    let played = tokio::process::Command::new("ffmpeg")
        .args(["-v", "error", "-i", &name.local(&stream.url, &distribution.domain), "-map", "0", "-f", "null", "-"])
        .output()
        .await
        .unwrap();
    assert!(played.status.success(), "the CloudFront link plays: {}", String::from_utf8_lossy(&played.stderr));
    let tampered = name.local(&stream.url.replacen("Signature=", "Signature=A", 1), &distribution.domain);
    let refused = tokio::process::Command::new("ffprobe").args(["-v", "error", &tampered]).output().await.unwrap();
    assert!(
        !refused.status.success() && String::from_utf8_lossy(&refused.stderr).contains("403"),
        "a tampered link is refused"
    );

    // Revoked by the person holding the daily policy: the link's own playlists leave the
    // bucket, CloudFront is asked to drop its cached copies, and a player starting it fails.
    let revoked = site.session.revoke_link(&stream.id).await.unwrap();
    assert!(revoked.revoked_at.is_some());
    let own = format!("jobs/{id}/stream/links/{}/", stream.id);
    let left = s3_as(&site, &site.user).list_objects_v2().bucket(&media).prefix(&own).send().await.unwrap();
    assert_eq!(left.contents().len(), 0, "the revoked link's playlists are deleted: {left:?}");
    let auditor = aws_sdk_cloudfront::Client::from_conf(
        cloudfront
            .config()
            .to_builder()
            .credentials_provider(aws_sdk_cloudfront::config::Credentials::new(
                &site.auditor.0,
                &site.auditor.1,
                None,
                None,
                "test",
            ))
            .build(),
    );
    let invalidations = auditor.list_invalidations().distribution_id(&distribution.id).send().await.unwrap();
    assert_eq!(invalidations.invalidation_list().map(|l| l.quantity()), Some(1), "{invalidations:?}");
    let again = tokio::process::Command::new("ffprobe")
        .args(["-v", "error", &name.local(&stream.url, &distribution.domain)])
        .output()
        .await
        .unwrap();
    assert!(!again.status.success(), "a revoked link no longer starts");
    // CloudFront cannot take back a single file's signature: said, not pretended.
    let refused = site.session.revoke_link(&poster.id).await.unwrap_err();
    assert_eq!(refused.code, streamdrop_core::ProblemCode::LinkNotRevocable, "{refused:?}");
    assert!(refused.message().contains("works until it expires"), "{}", refused.message());

    // Another connection's job is linked on its own connection: the Local one, which never ran here.
    assert!(site.session.link(local_job.id, LinkKind::Stream, 60).await.is_err(), "a job that is not ready");
    site.session.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_legacy_elastic_transcoder_runs_the_original_flow_and_its_error_detail_fails_the_job() {
    let truncated = JobStep::Error { code: "4000".into(), message: "The input file is truncated".into() };
    let site =
        Site::start(TranscoderKind::ElasticTranscoder, vec![JobStep::Progressing { percent: 0 }, truncated]).await;
    assert_eq!(site.session.status().transcoder, "elastic-transcoder");
    let (id, _) = site.add_clip("B002.mp4").await;
    let job = site.settled(id).await;
    assert_eq!(job.state, "failed", "{job:?}");
    assert_eq!(job.stage.map(|s| s.as_str()), Some("transcode"));
    let error = job.error.expect("a failed job says why");
    assert_eq!(error.code, ProblemCode::TranscodeFailed, "{error:?}");
    assert_eq!(
        error.message,
        "Elastic Transcoder could not convert B002.mp4. See Details; retry if the cause has passed."
    );
    let detail = error.detail.unwrap_or_default();
    assert!(detail.contains("4000") && detail.contains("The input file is truncated"), "{detail}");

    // The pipeline was made by name on the first job, as in the original design.
    let pipelines = site.standin.pipelines();
    assert_eq!(pipelines.len(), 1, "{pipelines:?}");
    assert_eq!(pipelines[0]["Name"], format!("{PREFIX}-pipeline"));
    site.session.stop().await;
}

/// The legacy backend on a name as people write them: Elastic Transcoder
/// (the stand-in, working as the pipeline's role with moto judging it) reads
/// the original and writes its HLS and thumbnails; the job's poster is the
/// thumbnail nearest 10 % in, since that service makes no poster of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_legacy_elastic_transcoder_streams_a_hostile_name_with_a_poster_and_tears_down() {
    // The person may also tear down: the policy `setup --permissions` prints for that.
    let site = Site::start_granting(
        TranscoderKind::ElasticTranscoder,
        vec![JobStep::Progressing { percent: 50 }, JobStep::Complete],
        |p| p.daily = merged(&p.daily, &p.teardown),
    )
    .await;
    let (id, _) = site.add_clip("My Clip #1 é (final).mov").await;
    let job = site.settled(id).await;
    assert_eq!(job.state, "ready", "{job:?}");
    let creates = site.standin.requests_to("POST", "/2012-09-25/jobs");
    assert_eq!(creates.len(), 1, "{:?}", site.standin.requests());
    assert_eq!(creates[0].body["Input"]["Key"], format!("jobs/{id}/original/My Clip #1 é (final).mov"));

    let media = format!("{PREFIX}-media");
    let outputs = site.session.outputs(id).unwrap();
    let at = |key: String| format!("s3://{media}/jobs/{id}/stream/{key}");
    assert_eq!(outputs.playlist, Some(at("hls/master.m3u8".into())));
    assert_eq!(outputs.poster, Some(at("hls/thumbs/thumb-00001.jpg".into())), "{outputs:?}");
    let poster = site.session.link(id, LinkKind::Poster, 600).await.unwrap();
    assert!(poster.url.contains(&format!("/jobs/{id}/stream/hls/thumbs/thumb-00001.jpg?")), "{}", poster.url);
    let stream = site.session.link(id, LinkKind::Stream, 600).await.unwrap();
    assert!(stream.url.contains(&format!("/jobs/{id}/stream/links/")), "{}", stream.url);

    // Teardown as that person, moto judging: everything goes but the shared
    // Elastic Transcoder role, which only loses Streamdrop's policy.
    let options = SetupOptions {
        name_prefix: Some(PREFIX.into()),
        transcoder: Some(TranscoderKind::ElasticTranscoder),
        ..SetupOptions::default()
    };
    let report = site.session.setup(None, &options, Mode::Teardown).await.unwrap();
    assert!(report.error.is_none(), "{:?}\n{:#?}", report.error, report.steps);
    let deleted: Vec<_> = report.steps.iter().filter(|s| s.applied).map(|s| s.step).collect();
    for step in ["distribution", "origin-access-control", "signing-key", "mediaconvert-role", "media-bucket"] {
        assert!(deleted.contains(&step), "{step} not deleted: {:#?}", report.steps);
    }
    let role_step = report.steps.iter().find(|s| s.step == "elastic-transcoder-role").unwrap();
    assert!(role_step.applied && role_step.line().contains("stays"), "{}", role_step.line());
    assert!(s3(&site).head_bucket().bucket(&media).send().await.is_err(), "the media bucket is gone");
    site.session.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_job_while_mediaconvert_runs_it_cancels_the_mediaconvert_job() {
    let site = Site::start(TranscoderKind::MediaConvert, vec![JobStep::Progressing { percent: 10 }]).await;
    let (id, _) = site.add_clip("D004.mp4").await;
    wait_for("MediaConvert progress", 60, || site.session.job(id).unwrap().transcode_percent.is_some()).await;
    assert_eq!(site.session.cancel(id).await.unwrap().state, "cancelled");

    let store = Store::open(&site.data.store_file()).unwrap();
    let backend_id =
        store.get(id).unwrap().unwrap().transcode.backend_job_id.expect("the MediaConvert job id is on record");
    let cancel_job = format!("/2017-08-29/jobs/{backend_id}");
    wait_for("CancelJob", 10, || !site.standin.requests_to("DELETE", &cancel_job).is_empty()).await;
    assert_eq!(site.session.job(id).unwrap().state, "cancelled");
    site.session.stop().await;
}

/// With one documented permission missing (landing the original in the media
/// bucket), the job stops at that step and says the storage refused it; the
/// rest of the pipeline is not attempted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_without_one_documented_permission_stops_where_it_is_needed_and_says_so() {
    let site = Site::start_granting(TranscoderKind::MediaConvert, Vec::new(), |permissions| {
        let statements = permissions.daily["Statement"].as_array_mut().unwrap();
        let media = statements.iter_mut().find(|s| s["Sid"] == "StreamdropMedia").unwrap();
        media["Action"] = json!(["s3:GetObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]);
    })
    .await;
    let (id, _) = site.add_clip("C001 no write.mp4").await;
    let job = site.settled(id).await;
    assert_eq!((job.state.as_str(), job.stage.map(|s| s.to_string())), ("failed", Some("copy".into())), "{job:?}");
    let error = job.error.expect("why it failed");
    assert_eq!(error.code, ProblemCode::StorageDenied, "{error:?}");
    assert!(error.message.contains("streamdrop setup --permissions"), "says what to grant: {error:?}");
    assert!(error.detail.as_deref().unwrap_or_default().contains("AccessDenied"), "{error:?}");
    assert!(site.standin.requests_to("POST", "/2017-08-29/jobs").is_empty(), "nothing was transcoded");
    site.session.stop().await;
}

/// Credentials AWS does not take are told apart from a network that does not
/// answer: a key moto never issued, judged with IAM enforced, says to replace
/// the key, in the check and in the setup wizard's view alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_aws_does_not_know_says_to_replace_it_not_to_check_the_network() {
    let moto = tokio::task::spawn_blocking(MotoServer::start).await.unwrap();
    tokio::task::block_in_place(|| moto.enforce_iam());
    let tmp = tempfile::tempdir().unwrap();
    let data = DataDir::at(tmp.path().join("data")).unwrap();
    let secrets = aws_connection(&data, &moto.endpoint(), "AKIANEVERISSUED0000", "not-the-secret");
    let session = Session::open(data.clone(), SessionOptions::with_secrets(secrets)).unwrap();

    let refused = session.check_connection(None, None).await.unwrap_err();
    assert_eq!(refused.code, ProblemCode::AwsKeysRefused, "{}", refused.message_with_detail());
    assert_eq!(
        refused.message(),
        format!(
            "AWS did not accept the access key of connection {CONNECTION}: it is wrong, deleted or inactive. Remove \
             the connection and add it with a working key."
        )
    );

    let options = SetupOptions { name_prefix: Some(PREFIX.into()), ..SetupOptions::default() };
    let plan = session.setup(None, &options, Mode::Plan).await.unwrap();
    let view = streamdrop_core::api::SetupView::of(&plan);
    let stopped = view.stopped.expect("the plan stops at its first call");
    assert_eq!(stopped.problem.code, ProblemCode::AwsKeysRefused, "{:?}", stopped.problem);
    assert!(stopped.problem.message.contains(&format!("connection {CONNECTION}")), "{}", stopped.problem.message);
    assert!(stopped.grant.is_none(), "no statement grants a key that does not exist");
}

/// A link made while the new distribution is still deploying is made, and
/// says it starts to work once CloudFront has deployed (instead of failing).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_made_while_the_distribution_deploys_says_it_will_work_once_deployed() {
    let site = Site::start_with(TranscoderKind::MediaConvert, vec![JobStep::Complete], |_| {}, Some(3600)).await;
    let (id, _clip) = site.add_clip("F001 early.mp4").await;
    let job = site.settled(id).await;
    assert_eq!(job.state, "ready", "{job:?}");
    let link = site.session.link(id, LinkKind::Stream, 3600).await.unwrap();
    assert!(link.deploying, "{link:?}");
    assert!(link.url.starts_with("https://"), "the link is made all the same: {}", link.url);
    let listed = site.session.links(id).unwrap();
    assert_eq!(listed.len(), 1);
}
