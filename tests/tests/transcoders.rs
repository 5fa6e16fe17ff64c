//! The cloud transcoders (MediaConvert, Elastic Transcoder) against the HTTP
//! stand-in on 127.0.0.1: what the official SDKs send, and how answers map
//! onto `TranscodeStatus` and `TranscodeError`.

use std::io::{Read, Write};
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::{Credentials, SharedCredentialsProvider};
use serde_json::Value;
use streamdrop_core::model::{MediaInfo, OutputLayout, Rung, VideoInfo};
use streamdrop_core::transcode::elastic_transcoder::{self, AUDIO_PRESET, DISCONTINUED_MESSAGE, HLS_400K_PRESET};
use streamdrop_core::transcode::{
    ElasticTranscoder, MediaConvert, TranscodeError, TranscodeRequest, TranscodeStatus, Transcoder,
};
use streamdrop_core::{JobId, ObjectRef, ProblemCode};
use streamdrop_e2e::transcoder_standin::{unreachable_endpoint, HttpAnswer, JobStep, Service, TranscoderStandIn};

const BUCKET: &str = "streamdrop-media-test";
const MC_ROLE: &str = "arn:aws:iam::000000000000:role/MediaConvert_Default_Role";
const ET_ROLE: &str = "arn:aws:iam::000000000000:role/Elastic_Transcoder_Default_Role";
const PIPELINE: &str = "streamdrop-test";

/// Static credentials, explicit region, nothing from the environment or IMDS;
/// two attempts with a short backoff so failure tests stay quick.
fn sdk_config() -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "AKIDSTANDIN",
            "standin-secret",
            None,
            None,
            "transcoder-tests",
        )))
        .retry_config(RetryConfig::standard().with_max_attempts(2).with_initial_backoff(Duration::from_millis(20)))
        .build()
}

fn rung(name: &str, width: u32, height: u32, video_max_bitrate: u32, audio_bitrate: u32) -> Rung {
    Rung { name: name.to_owned(), width, height, video_max_bitrate, audio_bitrate }
}

fn ladder() -> Vec<Rung> {
    vec![
        rung("1080p", 1920, 1080, 6_000_000, 160_000),
        rung("720p", 1280, 720, 3_000_000, 128_000),
        rung("360p", 640, 360, 800_000, 96_000),
    ]
}

fn request(ladder: Vec<Rung>) -> TranscodeRequest {
    let job = JobId::new();
    let layout = OutputLayout::for_job(BUCKET, job);
    let video = (!ladder.is_empty()).then(|| VideoInfo {
        width: 1920,
        height: 1080,
        frame_rate: 25.0,
        codec: "h264".to_owned(),
        bit_depth: 8,
    });
    TranscodeRequest {
        job,
        source: ObjectRef::new(BUCKET, format!("{}/original/clip one.mov", layout.prefix)),
        media: MediaInfo { duration_secs: 42.0, video, has_audio: true },
        ladder,
        layout,
    }
}

fn mediaconvert(standin: &TranscoderStandIn) -> MediaConvert {
    MediaConvert::new(&sdk_config(), Some(&standin.endpoint()), MC_ROLE.to_owned(), None)
}

fn elastic(endpoint: &str, presets: Vec<String>) -> ElasticTranscoder {
    ElasticTranscoder::new(&sdk_config(), Some(endpoint), ET_ROLE.to_owned(), PIPELINE.to_owned(), presets)
}

fn groups_of_type<'a>(settings: &'a Value, kind: &str) -> Vec<&'a Value> {
    settings["outputGroups"]
        .as_array()
        .expect("settings.outputGroups is an array")
        .iter()
        .filter(|g| g["outputGroupSettings"]["type"] == kind)
        .collect()
}

fn array<'a>(value: &'a Value, what: &str) -> &'a Vec<Value> {
    value.as_array().unwrap_or_else(|| panic!("{what} is not an array: {value}"))
}

// ----------------------------------------------------------------- MediaConvert

#[tokio::test]
async fn mediaconvert_sends_the_ladder_as_one_hls_group_with_frame_captures() {
    let standin = TranscoderStandIn::start();
    let transcoder = mediaconvert(&standin);
    let req = request(ladder());
    assert_eq!(transcoder.name(), "mediaconvert");

    let id = transcoder.submit(&req).await.expect("CreateJob succeeds");
    assert!(!id.is_empty());

    let creates = standin.requests_to("POST", "/2017-08-29/jobs");
    assert_eq!(creates.len(), 1, "exactly one CreateJob: {:?}", standin.requests());
    assert!(
        standin.requests().iter().all(|r| r.path.starts_with("/2017-08-29/jobs")),
        "only job operations, never DescribeEndpoints: {:?}",
        standin.requests().iter().map(|r| &r.path).collect::<Vec<_>>()
    );
    let create = &creates[0];
    assert_eq!(create.service, Service::MediaConvert);
    assert_eq!(create.signing_service.as_deref(), Some("mediaconvert"), "signed for MediaConvert");
    assert_eq!(create.signing_region.as_deref(), Some("us-east-1"));
    assert!(create.authorization.as_deref().unwrap_or_default().contains("Credential=AKIDSTANDIN/"));

    let body = &create.body;
    assert_eq!(body["role"], MC_ROLE);
    assert_eq!(body["userMetadata"]["streamdrop-job"], req.job.to_string());
    let settings = &body["settings"];
    let inputs = array(&settings["inputs"], "inputs");
    assert_eq!(inputs.len(), 1);
    assert_eq!(inputs[0]["fileInput"], req.source.to_string());
    let audio_selectors = inputs[0]["audioSelectors"].as_object().expect("an audio selector");

    // The HLS group: master at <prefix>/hls/master.m3u8, 6 s segments.
    let hls_groups = groups_of_type(settings, "HLS_GROUP_SETTINGS");
    assert_eq!(hls_groups.len(), 1, "one HLS group");
    let hls = &hls_groups[0]["outputGroupSettings"]["hlsGroupSettings"];
    assert_eq!(hls["destination"], format!("s3://{BUCKET}/{}/hls/master", req.layout.prefix));
    assert_eq!(hls["segmentLength"], 6);
    assert_eq!(hls["minSegmentLength"], 0);
    assert_eq!(hls["segmentControl"], "SEGMENTED_FILES");
    assert!(
        hls["manifestDurationFormat"] == "INTEGER" || hls["manifestDurationFormat"] == "FLOATING_POINT",
        "manifestDurationFormat: {}",
        hls["manifestDurationFormat"]
    );
    assert_eq!(hls["directoryStructure"], "SINGLE_DIRECTORY");

    let outputs = array(&hls_groups[0]["outputs"], "HLS outputs");
    assert_eq!(outputs.len(), 3, "one output per rung");
    for (output, rung) in outputs.iter().zip(ladder()) {
        assert_eq!(output["nameModifier"], format!("_{}", rung.name));
        assert_eq!(output["containerSettings"]["container"], "M3U8");
        let video = &output["videoDescription"];
        assert_eq!(video["width"], rung.width, "{} width", rung.name);
        assert_eq!(video["height"], rung.height, "{} height", rung.name);
        assert_eq!(video["codecSettings"]["codec"], "H_264");
        let h264 = &video["codecSettings"]["h264Settings"];
        assert_eq!(h264["rateControlMode"], "QVBR");
        let quality = h264["qvbrSettings"]["qvbrQualityLevel"].as_i64().expect("a QVBR quality level");
        assert!((7..=9).contains(&quality), "QVBR quality {quality} for {}", rung.name);
        assert_eq!(h264["maxBitrate"], rung.video_max_bitrate, "{} max bitrate", rung.name);
        assert_eq!(h264["gopSize"].as_f64(), Some(2.0), "2 s GOP");
        assert_eq!(h264["gopSizeUnits"], "SECONDS");
        let audio = array(&output["audioDescriptions"], "audioDescriptions");
        assert_eq!(audio.len(), 1);
        assert_eq!(audio[0]["codecSettings"]["codec"], "AAC");
        let aac = &audio[0]["codecSettings"]["aacSettings"];
        assert_eq!(aac["codingMode"], "CODING_MODE_2_0");
        assert_eq!(aac["bitrate"], rung.audio_bitrate);
        let source_name = audio[0]["audioSourceName"].as_str().expect("audioSourceName");
        assert!(audio_selectors.contains_key(source_name), "{source_name} is one of the input's selectors");
    }

    // Thumbnails every 10 s and a poster, as frame captures in file groups.
    let file_groups = groups_of_type(settings, "FILE_GROUP_SETTINGS");
    assert_eq!(file_groups.len(), 2, "thumbnails and poster");
    let destination =
        |g: &Value| g["outputGroupSettings"]["fileGroupSettings"]["destination"].as_str().unwrap().to_owned();
    let thumbs = file_groups
        .iter()
        .find(|g| destination(g) == format!("s3://{BUCKET}/{}/thumbs/thumb", req.layout.prefix))
        .expect("a thumbnails group under <prefix>/thumbs/");
    let poster = file_groups
        .iter()
        .find(|g| destination(g) == format!("s3://{BUCKET}/{}/poster", req.layout.prefix))
        .expect("a poster group at <prefix>/poster");
    // Captures start at 0 s; the poster group's second one is 10 % into the 42 s source.
    for (group, max_captures, every_millis) in [(thumbs, None, 10_000), (poster, Some(2), 4_200)] {
        let outputs = array(&group["outputs"], "frame capture outputs");
        assert_eq!(outputs.len(), 1);
        assert_eq!(outputs[0]["containerSettings"]["container"], "RAW");
        let codec = &outputs[0]["videoDescription"]["codecSettings"];
        assert_eq!(codec["codec"], "FRAME_CAPTURE");
        let capture = &codec["frameCaptureSettings"];
        assert_eq!(capture["framerateNumerator"], 1000);
        assert_eq!(capture["framerateDenominator"], every_millis);
        assert_eq!(capture["quality"], 80);
        match max_captures {
            Some(n) => assert_eq!(capture["maxCaptures"], n),
            None => assert!(capture["maxCaptures"].as_i64().unwrap() >= 10_000, "thumbnails for long sources"),
        }
        assert!(outputs[0]["videoDescription"]["width"].as_i64().unwrap() > 0);
    }
    assert_eq!(poster["outputs"][0]["videoDescription"]["width"], 1920, "poster at the top rung's size");
}

/// A role setup made seconds ago may not be assumable yet (IAM is eventually
/// consistent): the first CreateJob waits for it instead of failing the job;
/// a missing iam:PassRole is not waited for.
#[tokio::test]
async fn a_role_still_spreading_through_iam_is_waited_for_and_a_missing_passrole_is_not() {
    let standin = TranscoderStandIn::start();
    let transcoder = mediaconvert(&standin);
    let req = request(ladder());
    let not_yet = HttpAnswer::json_error(
        400,
        "BadRequestException",
        "Unable to assume role arn:aws:iam::123456789012:role/streamdrop-acme-mediaconvert. Check the role's trust.",
    );
    standin.fail_next(Service::MediaConvert, Some("POST"), "/2017-08-29/jobs", not_yet, 2);
    transcoder.submit(&req).await.expect("submitted once the role is usable");
    assert_eq!(standin.requests_to("POST", "/2017-08-29/jobs").len(), 3, "two refusals, then the job");

    standin.clear_requests();
    let no_pass_role = HttpAnswer::json_error(
        403,
        "AccessDeniedException",
        "User: arn:aws:iam::1:user/e is not authorized to perform: iam:PassRole on resource: role streamdrop-acme-mediaconvert",
    );
    standin.fail_next(Service::MediaConvert, Some("POST"), "/2017-08-29/jobs", no_pass_role, 1);
    let denied = transcoder.submit(&req).await.unwrap_err();
    assert!(
        matches!(&denied, TranscodeError::Denied { message, .. } if message.contains("iam:PassRole")),
        "{denied:?}"
    );
    assert_eq!(standin.requests_to("POST", "/2017-08-29/jobs").len(), 1, "no waiting for a permission");
}

#[tokio::test]
async fn mediaconvert_status_follows_get_job() {
    let standin = TranscoderStandIn::start();
    let transcoder = mediaconvert(&standin);
    let req = request(ladder());

    standin.script_next_job(vec![JobStep::Submitted, JobStep::Progressing { percent: 40 }, JobStep::Complete]);
    let id = transcoder.submit(&req).await.expect("CreateJob succeeds");
    assert_eq!(transcoder.status(&id, &req).await.unwrap(), TranscodeStatus::Submitted);
    assert_eq!(transcoder.status(&id, &req).await.unwrap(), TranscodeStatus::Progressing { percent: Some(40) });
    assert_eq!(transcoder.status(&id, &req).await.unwrap(), TranscodeStatus::Complete);
    assert_eq!(standin.polls(&id), 3);
    assert_eq!(standin.requests_to("GET", &format!("/2017-08-29/jobs/{id}")).len(), 3, "each status is one GetJob");

    // A failing job surfaces MediaConvert's code and message.
    standin.script_next_job(vec![
        JobStep::Progressing { percent: 5 },
        JobStep::Error { code: "1010".to_owned(), message: "Unable to open input file [s3://x/y]".to_owned() },
    ]);
    let failing = transcoder.submit(&req).await.unwrap();
    assert_ne!(failing, id);
    assert_eq!(transcoder.status(&failing, &req).await.unwrap(), TranscodeStatus::Progressing { percent: Some(5) });
    assert_eq!(
        transcoder.status(&failing, &req).await.unwrap(),
        TranscodeStatus::Error {
            code: Some("1010".to_owned()),
            message: "Unable to open input file [s3://x/y]".to_owned()
        }
    );

    // Canceled is an error with code CANCELED.
    standin.script_next_job(vec![JobStep::Canceled]);
    let canceled = transcoder.submit(&req).await.unwrap();
    match transcoder.status(&canceled, &req).await.unwrap() {
        TranscodeStatus::Error { code, .. } => assert_eq!(code.as_deref(), Some("CANCELED")),
        other => panic!("canceled job: {other:?}"),
    }

    // A job MediaConvert does not know.
    match transcoder.status("1234567890123-nosuch", &req).await {
        Err(TranscodeError::UnknownJob { backend_job_id }) => assert_eq!(backend_job_id, "1234567890123-nosuch"),
        other => panic!("unknown job: {other:?}"),
    }
}

#[tokio::test]
async fn mediaconvert_cancel_stops_a_running_job_and_an_ended_one_is_no_error() {
    let standin = TranscoderStandIn::start();
    let transcoder = mediaconvert(&standin);
    let req = request(ladder());
    standin.script_next_job(vec![JobStep::Progressing { percent: 10 }]);
    let id = transcoder.submit(&req).await.unwrap();
    assert!(matches!(transcoder.status(&id, &req).await.unwrap(), TranscodeStatus::Progressing { .. }));
    transcoder.cancel(&id).await.expect("CancelJob succeeds");
    assert_eq!(standin.requests_to("DELETE", &format!("/2017-08-29/jobs/{id}")).len(), 1, "one CancelJob");
    match transcoder.status(&id, &req).await.unwrap() {
        TranscodeStatus::Error { code, .. } => assert_eq!(code.as_deref(), Some("CANCELED")),
        other => panic!("after CancelJob: {other:?}"),
    }
    // Cancelling again (the job has ended) or a job MediaConvert does not know: nothing left to stop.
    transcoder.cancel(&id).await.expect("an ended job");
    transcoder.cancel("1234567890123-nosuch").await.expect("an unknown job");
    // Trouble reaching the service is reported.
    standin.fail_next(
        Service::MediaConvert,
        Some("DELETE"),
        "/jobs",
        HttpAnswer::json_error(403, "ForbiddenException", "not allowed"),
        1,
    );
    match transcoder.cancel(&id).await {
        Err(TranscodeError::Denied { message, .. }) => assert!(message.contains("not allowed"), "{message}"),
        other => panic!("a refused CancelJob: {other:?}"),
    }
}

#[tokio::test]
async fn mediaconvert_audio_only_makes_one_audio_output_and_no_images() {
    let standin = TranscoderStandIn::start();
    let transcoder = mediaconvert(&standin);
    let req = request(Vec::new());
    assert!(req.media.video.is_none());

    transcoder.submit(&req).await.expect("CreateJob succeeds");
    let creates = standin.requests_to("POST", "/2017-08-29/jobs");
    assert_eq!(creates.len(), 1);
    let settings = &creates[0].body["settings"];
    assert_eq!(array(&settings["outputGroups"], "outputGroups").len(), 1, "only the HLS group");
    assert!(groups_of_type(settings, "FILE_GROUP_SETTINGS").is_empty(), "no frame capture");
    let hls = groups_of_type(settings, "HLS_GROUP_SETTINGS");
    assert_eq!(hls.len(), 1);
    assert_eq!(
        hls[0]["outputGroupSettings"]["hlsGroupSettings"]["destination"],
        format!("s3://{BUCKET}/{}/hls/master", req.layout.prefix)
    );
    let outputs = array(&hls[0]["outputs"], "HLS outputs");
    assert_eq!(outputs.len(), 1, "one audio-only output");
    assert!(outputs[0].get("videoDescription").is_none(), "no video: {}", outputs[0]);
    let audio = array(&outputs[0]["audioDescriptions"], "audioDescriptions");
    assert_eq!(audio.len(), 1);
    assert_eq!(audio[0]["codecSettings"]["codec"], "AAC");
    assert_eq!(audio[0]["codecSettings"]["aacSettings"]["codingMode"], "CODING_MODE_2_0");
    assert_eq!(outputs[0]["outputSettings"]["hlsSettings"]["audioTrackType"], "AUDIO_ONLY_VARIANT_STREAM");
}

#[tokio::test]
async fn mediaconvert_errors_map_to_rejected_and_transient() {
    let standin = TranscoderStandIn::start();
    let transcoder = mediaconvert(&standin);
    let req = request(ladder());

    standin.fail_next(
        Service::MediaConvert,
        Some("POST"),
        "/jobs",
        HttpAnswer::json_error(400, "BadRequestException", "/settings/outputGroups/0: role cannot read the bucket"),
        1,
    );
    match transcoder.submit(&req).await {
        Err(TranscodeError::Rejected { backend, message }) => {
            assert_eq!(backend, "MediaConvert");
            assert!(message.contains("role cannot read the bucket"), "service message kept: {message}");
        }
        other => panic!("400 should be Rejected: {other:?}"),
    }

    for (status, kind) in [(429, "TooManyRequestsException"), (503, "InternalServerErrorException")] {
        // Both attempts of the retrying client fail.
        standin.fail_next(
            Service::MediaConvert,
            Some("POST"),
            "/jobs",
            HttpAnswer::json_error(status, kind, "slow down"),
            2,
        );
        match transcoder.submit(&req).await {
            Err(TranscodeError::Transient { backend, .. }) => assert_eq!(backend, "MediaConvert"),
            other => panic!("{status} {kind} should be Transient: {other:?}"),
        }
    }

    // A throttled first attempt is retried by the SDK and the job goes through.
    standin.fail_next(
        Service::MediaConvert,
        Some("POST"),
        "/jobs",
        HttpAnswer::json_error(429, "TooManyRequestsException", "slow down"),
        1,
    );
    transcoder.submit(&req).await.expect("the retry succeeds");

    // Nothing listening: Transient for MediaConvert (it is not discontinued).
    let gone = MediaConvert::new(&sdk_config(), Some(&unreachable_endpoint()), MC_ROLE.to_owned(), None);
    match gone.submit(&req).await {
        Err(TranscodeError::Transient { .. }) => {}
        other => panic!("connection refused should be Transient: {other:?}"),
    }

    // An empty ladder from a source without audio has nothing to make: rejected before any request.
    let before = standin.requests().len();
    let mut silent = request(Vec::new());
    silent.media.has_audio = false;
    assert!(matches!(transcoder.submit(&silent).await, Err(TranscodeError::Rejected { .. })));
    assert_eq!(standin.requests().len(), before, "nothing sent");
}

#[test]
fn standin_refuses_unsigned_requests() {
    let standin = TranscoderStandIn::start();
    let addr = standin.endpoint().trim_start_matches("http://").to_owned();
    let mut stream = std::net::TcpStream::connect(&addr).expect("connect to the stand-in");
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(stream, "GET /2017-08-29/jobs/123 HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 403"), "unsigned request refused: {answer}");
    assert!(answer.to_ascii_lowercase().contains("x-amzn-errortype: missingauthenticationtokenexception"));
    let seen = standin.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].authorization, None);
    assert_eq!(seen[0].status, 403);
}

// ----------------------------------------------------------- Elastic Transcoder

#[tokio::test]
async fn elastic_transcoder_creates_the_pipeline_once() {
    let standin = TranscoderStandIn::start();
    standin.set_page_size(2);
    for other in ["other-a", "other-b", "other-c"] {
        standin.seed_pipeline(other, "elsewhere", "elsewhere", ET_ROLE);
    }
    let transcoder = elastic(&standin.endpoint(), Vec::new());
    assert_eq!(transcoder.name(), "elastic-transcoder");
    let req = request(ladder());

    transcoder.submit(&req).await.expect("submit creates the pipeline and the job");
    let lists = standin.requests_to("GET", "/2012-09-25/pipelines");
    assert_eq!(lists.len(), 2, "both pages of ListPipelines were read");
    assert_eq!(lists[0].param("PageToken"), None);
    assert_eq!(lists[1].param("PageToken").as_deref(), Some("2"));
    let creates = standin.requests_to("POST", "/2012-09-25/pipelines");
    assert_eq!(creates.len(), 1, "the missing pipeline was created");
    let created = &creates[0].body;
    assert_eq!(created["Name"], PIPELINE);
    assert_eq!(created["InputBucket"], BUCKET);
    assert_eq!(created["OutputBucket"], BUCKET);
    assert_eq!(created["Role"], ET_ROLE);
    assert_eq!(creates[0].signing_service.as_deref(), Some("elastictranscoder"));
    let pipeline_id = standin
        .pipelines()
        .iter()
        .find(|p| p["Name"] == PIPELINE)
        .map(|p| p["Id"].as_str().unwrap().to_owned())
        .expect("the stand-in holds the new pipeline");
    let jobs = standin.requests_to("POST", "/2012-09-25/jobs");
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].body["PipelineId"], pipeline_id.as_str());

    // Again on the same backend, and on a fresh one (a restart): no second pipeline.
    transcoder.submit(&req).await.expect("second submit");
    let restarted = elastic(&standin.endpoint(), Vec::new());
    restarted.submit(&req).await.expect("submit after a restart");
    assert_eq!(standin.requests_to("POST", "/2012-09-25/pipelines").len(), 1, "no pipeline re-created");
    let jobs = standin.requests_to("POST", "/2012-09-25/jobs");
    assert_eq!(jobs.len(), 3);
    assert!(jobs.iter().all(|j| j.body["PipelineId"] == pipeline_id.as_str()), "every job on the one pipeline");
    assert_eq!(standin.pipelines().iter().filter(|p| p["Name"] == PIPELINE).count(), 1);
}

#[tokio::test]
async fn elastic_transcoder_adopts_an_existing_pipeline() {
    let standin = TranscoderStandIn::start();
    standin.set_page_size(2);
    standin.seed_pipeline("other-a", "elsewhere", "elsewhere", ET_ROLE);
    standin.seed_pipeline("other-b", "elsewhere", "elsewhere", ET_ROLE);
    let existing = standin.seed_pipeline(PIPELINE, BUCKET, BUCKET, ET_ROLE);
    let transcoder = elastic(&standin.endpoint(), Vec::new());
    let req = request(ladder());

    transcoder.submit(&req).await.expect("submit adopts the pipeline");
    assert!(standin.requests_to("POST", "/2012-09-25/pipelines").is_empty(), "nothing created");
    assert_eq!(standin.requests_to("GET", "/2012-09-25/pipelines").len(), 2, "found on the second page");
    assert_eq!(standin.requests_to("POST", "/2012-09-25/jobs")[0].body["PipelineId"], existing.as_str());

    // A pipeline of that name on other buckets is not silently used.
    let other = TranscoderStandIn::start();
    other.seed_pipeline(PIPELINE, "someone-elses-bucket", "someone-elses-bucket", ET_ROLE);
    match elastic(&other.endpoint(), Vec::new()).submit(&req).await {
        Err(TranscodeError::Rejected { message, .. }) => {
            assert!(message.contains("someone-elses-bucket") && message.contains(BUCKET), "{message}")
        }
        result => panic!("pipeline on the wrong bucket: {result:?}"),
    }
    assert!(other.requests_to("POST", "/2012-09-25/jobs").is_empty());
}

#[tokio::test]
async fn elastic_transcoder_job_uses_the_presets_and_our_layout() {
    let standin = TranscoderStandIn::start();
    let transcoder = elastic(&standin.endpoint(), Vec::new());
    let req = request(ladder());

    transcoder.submit(&req).await.expect("submit");
    let jobs = standin.requests_to("POST", "/2012-09-25/jobs");
    assert_eq!(jobs.len(), 1);
    let body = &jobs[0].body;
    assert_eq!(body["Input"]["Key"], req.source.key.as_str());
    assert_eq!(body["OutputKeyPrefix"], format!("{}/hls/", req.layout.prefix));
    let outputs = array(&body["Outputs"], "Outputs");
    assert_eq!(outputs.len(), 1);
    assert_eq!(outputs[0]["PresetId"], HLS_400K_PRESET);
    assert_eq!(outputs[0]["SegmentDuration"], "10");
    assert_eq!(outputs[0]["Key"], "400k/index");
    let pattern = outputs[0]["ThumbnailPattern"].as_str().expect("a thumbnail pattern");
    assert!(pattern.contains("{count}"), "{pattern}");
    let playlists = array(&body["Playlists"], "Playlists");
    assert_eq!(playlists.len(), 1);
    assert_eq!(playlists[0]["Format"], "HLSv3");
    assert_eq!(playlists[0]["Name"], "master", "the master lands at <prefix>/hls/master.m3u8");
    assert_eq!(playlists[0]["OutputKeys"], serde_json::json!(["400k/index"]));
    assert_eq!(body["UserMetadata"]["streamdrop-job"], req.job.to_string());
    assert_eq!(
        elastic_transcoder::variant_playlist(&req.layout, HLS_400K_PRESET),
        req.layout.object("hls/400k/index.m3u8"),
        "the variant is at <prefix>/hls/400k/index.m3u8"
    );

    // A configured ladder of presets: every one in the master, thumbnails once.
    let presets: Vec<String> =
        ["1351620000001-200010", HLS_400K_PRESET, AUDIO_PRESET].iter().map(|p| (*p).to_owned()).collect();
    let configured = elastic(&standin.endpoint(), presets.clone());
    standin.clear_requests();
    configured.submit(&req).await.expect("submit with three presets");
    let body = &standin.requests_to("POST", "/2012-09-25/jobs")[0].body;
    let outputs = array(&body["Outputs"], "Outputs");
    let sent: Vec<&str> = outputs.iter().map(|o| o["PresetId"].as_str().unwrap()).collect();
    assert_eq!(sent, presets.iter().map(String::as_str).collect::<Vec<_>>());
    let keys: Vec<&str> = outputs.iter().map(|o| o["Key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["2000k/index", "400k/index", "audio-160k/index"]);
    assert_eq!(outputs.iter().filter(|o| o.get("ThumbnailPattern").is_some()).count(), 1);
    assert!(outputs.iter().all(|o| o["SegmentDuration"] == "10"));
    assert_eq!(body["Playlists"][0]["OutputKeys"], serde_json::json!(keys));

    // Audio-only: the audio preset alone, no thumbnails.
    standin.clear_requests();
    transcoder.submit(&request(Vec::new())).await.expect("audio-only submit");
    let body = &standin.requests_to("POST", "/2012-09-25/jobs")[0].body;
    let outputs = array(&body["Outputs"], "Outputs");
    assert_eq!(outputs.len(), 1);
    assert_eq!(outputs[0]["PresetId"], AUDIO_PRESET);
    assert!(outputs[0].get("ThumbnailPattern").is_none());
}

#[tokio::test]
async fn elastic_transcoder_status_follows_read_job() {
    let standin = TranscoderStandIn::start();
    let transcoder = elastic(&standin.endpoint(), Vec::new());
    let req = request(ladder());

    standin.script_next_job(vec![JobStep::Submitted, JobStep::Progressing { percent: 50 }, JobStep::Complete]);
    let id = transcoder.submit(&req).await.expect("submit");
    assert_eq!(transcoder.status(&id, &req).await.unwrap(), TranscodeStatus::Submitted);
    assert_eq!(transcoder.status(&id, &req).await.unwrap(), TranscodeStatus::Progressing { percent: None });
    assert_eq!(transcoder.status(&id, &req).await.unwrap(), TranscodeStatus::Complete);
    assert_eq!(standin.requests_to("GET", &format!("/2012-09-25/jobs/{id}")).len(), 3);

    standin.script_next_job(vec![
        JobStep::Progressing { percent: 0 },
        JobStep::Error {
            code: "4000".to_owned(),
            message: "45c9b3c8-1f7e-4b3e-9e1a-000000000000: The input file is not a supported container.".to_owned(),
        },
    ]);
    let failing = transcoder.submit(&req).await.expect("submit");
    assert!(matches!(transcoder.status(&failing, &req).await.unwrap(), TranscodeStatus::Progressing { .. }));
    match transcoder.status(&failing, &req).await.unwrap() {
        TranscodeStatus::Error { code, message } => {
            assert_eq!(code.as_deref(), Some("4000"));
            assert!(
                message.contains("The input file is not a supported container."),
                "StatusDetail surfaced: {message}"
            );
            assert!(message.contains("400k/index"), "names the failed output: {message}");
        }
        other => panic!("failed job: {other:?}"),
    }

    standin.script_next_job(vec![JobStep::Canceled]);
    let canceled = transcoder.submit(&req).await.expect("submit");
    match transcoder.status(&canceled, &req).await.unwrap() {
        TranscodeStatus::Error { code, .. } => assert_eq!(code.as_deref(), Some("CANCELED")),
        other => panic!("canceled job: {other:?}"),
    }

    match transcoder.status("1111111111111-nosuch", &req).await {
        Err(TranscodeError::UnknownJob { .. }) => {}
        other => panic!("unknown job: {other:?}"),
    }

    // CancelJob stops a job that has not started; one already over is no error.
    standin.script_next_job(vec![JobStep::Submitted]);
    let waiting = transcoder.submit(&req).await.expect("submit");
    transcoder.cancel(&waiting).await.expect("CancelJob");
    assert_eq!(standin.requests_to("DELETE", &format!("/2012-09-25/jobs/{waiting}")).len(), 1);
    assert!(matches!(transcoder.status(&waiting, &req).await.unwrap(), TranscodeStatus::Error { .. }));
    transcoder.cancel(&id).await.expect("a completed job");

    // An ordinary validation error is the request's fault, not the service being gone.
    standin.fail_next(
        Service::ElasticTranscoder,
        Some("POST"),
        "/jobs",
        HttpAnswer::json_error(400, "ValidationException", "The specified preset was not found."),
        1,
    );
    match transcoder.submit(&req).await {
        Err(TranscodeError::Rejected { message, .. }) => assert!(message.contains("preset was not found"), "{message}"),
        other => panic!("validation error: {other:?}"),
    }
}

fn assert_discontinued(result: Result<impl std::fmt::Debug, TranscodeError>, shape: &str) {
    match result {
        Err(err @ TranscodeError::Unavailable { .. }) => {
            let message = err.to_string();
            assert!(message.starts_with(DISCONTINUED_MESSAGE), "{shape}: {message}");
            assert!(message.contains("MediaConvert"), "{shape}: says what to use instead: {message}");
            assert!(message.contains("2025-11-13"), "{shape}: {message}");
        }
        other => panic!("{shape}: expected Unavailable, got {other:?}"),
    }
}

#[tokio::test]
async fn elastic_transcoder_discontinued_is_unavailable() {
    let req = request(ladder());

    // Nothing listens: this machine is offline, not the service gone. A later poll may reach it.
    let offline = elastic(&unreachable_endpoint(), Vec::new());
    assert!(matches!(offline.submit(&req).await, Err(TranscodeError::Transient { .. })), "connection refused");
    assert!(matches!(offline.status("1351620000001-000001", &req).await, Err(TranscodeError::Transient { .. })));

    // Keys the service does not accept, or a missing permission: the connection's to fix.
    for (shape, answer) in [
        (
            "bad keys",
            HttpAnswer::json_error(
                400,
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            ),
        ),
        (
            "no permission",
            HttpAnswer::json_error(
                403,
                "AccessDeniedException",
                "User: arn:aws:iam::1:user/e is not authorized to perform: elastictranscoder:CreateJob",
            ),
        ),
    ] {
        let standin = TranscoderStandIn::start();
        standin.discontinue_elastic_transcoder(Some(answer));
        match elastic(&standin.endpoint(), Vec::new()).submit(&req).await {
            Err(err @ TranscodeError::Denied { .. }) => {
                let problem = err.problem("elastic-transcoder", "B002.mp4");
                assert_eq!(problem.code, ProblemCode::TranscoderDenied, "{shape}");
                assert!(problem.message().contains("Check the connection"), "{shape}: {}", problem.message());
            }
            other => panic!("{shape}: expected Denied, got {other:?}"),
        }
    }

    // The endpoint answers, but as a retired service.
    for (shape, answer) in HttpAnswer::discontinued_shapes() {
        let standin = TranscoderStandIn::start();
        standin.discontinue_elastic_transcoder(Some(answer));
        let transcoder = elastic(&standin.endpoint(), Vec::new());
        assert_discontinued(transcoder.submit(&req).await, shape);
        assert_discontinued(transcoder.status("1351620000001-000001", &req).await, shape);
        assert!(standin.requests().iter().all(|r| r.service == Service::ElasticTranscoder));
        assert!(standin.requests_to("POST", "/2012-09-25/jobs").len() <= 1);
    }

    // A job submitted before the shutdown, polled after it.
    let standin = TranscoderStandIn::start();
    let transcoder = elastic(&standin.endpoint(), Vec::new());
    let id = transcoder.submit(&req).await.expect("submit while the service still runs");
    standin.discontinue_elastic_transcoder(Some(HttpAnswer::plain(410, "text/plain", "Gone")));
    assert_discontinued(transcoder.status(&id, &req).await, "410 while polling");
}
