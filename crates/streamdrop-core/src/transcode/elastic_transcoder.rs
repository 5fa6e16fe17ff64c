//! Amazon Elastic Transcoder backend (legacy).
//!
//! **AWS discontinued Elastic Transcoder on 2025-11-13**; AWS Elemental
//! MediaConvert ([`super::mediaconvert`]) replaces it. This backend exists for
//! connections whose design card still names it: when the service answers as
//! a discontinued service does (no endpoint, `404`/`410`, an unknown-client or
//! access-denied answer about the service, or words like "discontinued"), every
//! call fails with [`TranscodeError::Unavailable`] and [`DISCONTINUED_MESSAGE`].
//!
//! # What it does
//!
//! - Pipeline: the first pipeline named `pipeline_name` (ListPipelines, all
//!   pages) is adopted; if there is none, one is created with the distribution
//!   bucket as input and output bucket and `role_arn` as its role. An adopted
//!   pipeline must use the job's buckets, or the job is rejected.
//! - Job: one output per preset (default [`DEFAULT_PRESETS`], the system
//!   preset "HLS 400k"), `SegmentDuration` "10" (the original design's value,
//!   not [`super::SEGMENT_SECONDS`]: the system HLS presets are built for 10 s),
//!   thumbnails from the first video output, and one HLSv3 master playlist.
//!   Audio-only sources (empty ladder) get the system audio preset
//!   [`AUDIO_PRESET`] alone. The ladder's sizes are not used: presets fix them.
//!
//! # Output names, and how they differ from [`OutputLayout`]
//!
//! `OutputKeyPrefix` is `<prefix>/hls/`, each output's key
//! `<rendition>/index` and the master's name `master`, so Elastic Transcoder
//! writes (for the default preset, rendition `400k`):
//!
//! ```text
//! <prefix>/hls/master.m3u8                 master playlist, relative URIs (as the layout says)
//! <prefix>/hls/400k/index.m3u8             variant playlist (as the layout says)
//! <prefix>/hls/400k/index00000.ts …        its segments, 10 s each
//! <prefix>/hls/thumbs/thumb-00001.<jpg|png> …
//!                                          thumbnails, in the preset's thumbnail format and
//!                                          at its interval (not necessarily 10 s)
//!                                          (layout: <prefix>/thumbs/thumb-00001.jpg)
//! ```
//!
//! and no poster of its own: Elastic Transcoder has no single-frame output,
//! so the job's poster is the thumbnail nearest the moment every backend's
//! poster is taken ([`super::poster_time`], see [`super::manifest::scan`]).
//! Thumbnails cannot leave `OutputKeyPrefix`, hence `hls/thumbs/`. Rendition names come from [`rendition_name`].

use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_elastictranscoder::config::timeout::TimeoutConfig;
use aws_sdk_elastictranscoder::types::{CreateJobOutput, CreateJobPlaylist, Job, JobInput, Pipeline};
use aws_sdk_elastictranscoder::Client;
use futures_util::future::BoxFuture;
use tokio::sync::Mutex;

use super::mediaconvert::{classify, default_timeouts, is_safe_name, while_role_settles, FailureKind, SdkFailure};
use super::{Naming, TranscodeError, TranscodeRequest, TranscodeStatus, Transcoder};
use crate::model::{ObjectRef, OutputLayout};

const BACKEND: &str = "Elastic Transcoder";

/// What users are told once the service is gone.
pub const DISCONTINUED_MESSAGE: &str = "Amazon Elastic Transcoder was discontinued on 2025-11-13 and no longer \
     accepts jobs. Switch this connection's transcoder to AWS Elemental MediaConvert.";

/// The original design's preset: System preset "HLS 400k" (HLSv3, 400 kb/s).
pub const HLS_400K_PRESET: &str = "1351620000001-200050";
/// System preset "HLS Audio 160k".
pub const AUDIO_PRESET: &str = "1351620000001-200060";
/// Used when the connection configures no presets.
pub const DEFAULT_PRESETS: &[&str] = &[HLS_400K_PRESET];
/// The original design's segment length, in seconds, as Elastic Transcoder wants it (a string).
pub const SEGMENT_DURATION: &str = "10";
/// Thumbnail names relative to `OutputKeyPrefix`; `{count}` is required by the service.
pub const THUMBNAIL_PATTERN: &str = "thumbs/thumb-{count}";
/// Name of the master playlist (the service appends `.m3u8`).
pub const MASTER_NAME: &str = "master";

/// Folder name of a preset's rendition under `<prefix>/hls/`: the system HLS
/// presets get their bitrate (`2000k`, `1500k`, `1000k`, `600k`, `400k`,
/// `audio-160k`), any other preset its id.
pub fn rendition_name(preset_id: &str) -> String {
    let known = match preset_id {
        "1351620000001-200010" => Some("2000k"),
        "1351620000001-200020" => Some("1500k"),
        "1351620000001-200030" => Some("1000k"),
        "1351620000001-200040" => Some("600k"),
        "1351620000001-200050" => Some("400k"),
        "1351620000001-200060" => Some("audio-160k"),
        _ => None,
    };
    known.map_or_else(|| preset_id.to_owned(), str::to_owned)
}

fn is_audio_preset(preset_id: &str) -> bool {
    preset_id == AUDIO_PRESET
}

/// The variant playlist of a preset's rendition: `<prefix>/hls/<rendition>/index.m3u8`.
pub fn variant_playlist(layout: &OutputLayout, preset_id: &str) -> ObjectRef {
    layout.object(&format!("hls/{}/index.m3u8", rendition_name(preset_id)))
}

/// The `n`-th thumbnail (from 1) in the preset's thumbnail `format` (`jpg` or `png`).
pub fn thumbnail(layout: &OutputLayout, n: u32, format: &str) -> ObjectRef {
    layout.object(&format!("hls/thumbs/thumb-{n:05}.{format}"))
}

/// Where Elastic Transcoder's outputs are (see the module docs): thumbnails
/// inside `OutputKeyPrefix`, at the system presets' interval, and no poster.
pub const NAMING: Naming =
    Naming { master: "hls/master.m3u8", thumbnails: &["hls/thumbs/"], thumbnail_interval_secs: 60.0, posters: &[] };

/// The pipeline this backend submits to.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PipelineInfo {
    id: String,
    input_bucket: Option<String>,
    output_bucket: Option<String>,
}

/// Transcodes with Amazon Elastic Transcoder (discontinued 2025-11-13; see the module docs).
#[derive(Debug)]
pub struct ElasticTranscoder {
    client: Client,
    role_arn: String,
    pipeline_name: String,
    presets: Vec<String>,
    pipeline: Mutex<Option<PipelineInfo>>,
}

impl ElasticTranscoder {
    /// A backend using `sdk_config`'s region and credentials. `endpoint_url`
    /// overrides the regional endpoint (tests). `role_arn` is the role a new
    /// pipeline gets; `pipeline_name` names the pipeline adopted or created;
    /// `presets` are the preset ids of the ladder (empty: [`DEFAULT_PRESETS`]).
    pub fn new(
        sdk_config: &SdkConfig,
        endpoint_url: Option<&str>,
        role_arn: String,
        pipeline_name: String,
        presets: Vec<String>,
    ) -> Self {
        let mut config = aws_sdk_elastictranscoder::config::Builder::from(sdk_config);
        if sdk_config.behavior_version().is_none() {
            config = config.behavior_version(BehaviorVersion::latest());
        }
        if !sdk_config.timeout_config().is_some_and(TimeoutConfig::has_timeouts) {
            config = config.timeout_config(default_timeouts());
        }
        if let Some(url) = endpoint_url {
            config = config.endpoint_url(url);
        }
        let presets =
            if presets.is_empty() { DEFAULT_PRESETS.iter().map(|p| (*p).to_owned()).collect() } else { presets };
        Self { client: Client::from_conf(config.build()), role_arn, pipeline_name, presets, pipeline: Mutex::new(None) }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn presets(&self) -> &[String] {
        &self.presets
    }

    /// The presets a request is transcoded with: the configured ones, or the
    /// audio preset alone for an audio-only source.
    pub fn presets_for(&self, request: &TranscodeRequest) -> Vec<String> {
        if request.ladder.is_empty() {
            vec![AUDIO_PRESET.to_owned()]
        } else {
            self.presets.clone()
        }
    }

    /// Finds the pipeline by name (all pages), or creates it. Remembered for later submits.
    async fn pipeline(&self, request: &TranscodeRequest) -> Result<PipelineInfo, TranscodeError> {
        let mut cached = self.pipeline.lock().await;
        let pipeline = match cached.as_ref() {
            Some(pipeline) => pipeline.clone(),
            None => {
                let pipeline = match self.find_pipeline().await? {
                    Some(found) => found,
                    None => self.create_pipeline(&request.layout.bucket).await?,
                };
                *cached = Some(pipeline.clone());
                pipeline
            }
        };
        drop(cached);
        let wrong_bucket = |role: &str, bucket: &Option<String>, wanted: &str| {
            TranscodeError::Rejected {
                backend: BACKEND,
                message: format!(
                    "pipeline {:?} ({}) uses {role} bucket {} but this job needs {wanted}; give this connection a pipeline name of its own",
                    self.pipeline_name,
                    pipeline.id,
                    bucket.as_deref().unwrap_or("(none)"),
                ),
            }
        };
        if pipeline.input_bucket.as_deref() != Some(request.source.bucket.as_str()) {
            return Err(wrong_bucket("input", &pipeline.input_bucket, &request.source.bucket));
        }
        if pipeline.output_bucket.as_deref() != Some(request.layout.bucket.as_str()) {
            return Err(wrong_bucket("output", &pipeline.output_bucket, &request.layout.bucket));
        }
        Ok(pipeline)
    }

    /// Whether the service still takes requests from this connection (one
    /// ListPipelines): gone, denied and unreachable each say so.
    pub async fn check_available(&self) -> Result<(), TranscodeError> {
        self.find_pipeline().await.map(|_| ())
    }

    async fn find_pipeline(&self) -> Result<Option<PipelineInfo>, TranscodeError> {
        let mut page_token: Option<String> = None;
        loop {
            let page = self
                .client
                .list_pipelines()
                .set_page_token(page_token.take())
                .send()
                .await
                .map_err(|err| map_failure(classify(&err)))?;
            if let Some(found) = page.pipelines().iter().find(|p| p.name() == Some(self.pipeline_name.as_str())) {
                return Ok(Some(pipeline_info(found)?));
            }
            match page.next_page_token() {
                Some(token) if !token.is_empty() => page_token = Some(token.to_owned()),
                _ => return Ok(None),
            }
        }
    }

    async fn create_pipeline(&self, bucket: &str) -> Result<PipelineInfo, TranscodeError> {
        let created = while_role_settles(|| async {
            self.client
                .create_pipeline()
                .name(&self.pipeline_name)
                .input_bucket(bucket)
                .output_bucket(bucket)
                .role(&self.role_arn)
                .send()
                .await
                .map_err(|err| classify(&err))
        })
        .await
        .map_err(map_failure)?;
        let pipeline = created.pipeline().ok_or_else(|| TranscodeError::Transient {
            backend: BACKEND,
            message: "CreatePipeline answered without a pipeline".to_owned(),
        })?;
        pipeline_info(pipeline)
    }

    async fn create(&self, request: &TranscodeRequest) -> Result<String, TranscodeError> {
        let presets = self.presets_for(request);
        let renditions: Vec<String> = presets.iter().map(|p| rendition_name(p)).collect();
        for (preset, rendition) in presets.iter().zip(&renditions) {
            if !is_safe_name(rendition) {
                return Err(TranscodeError::Rejected {
                    backend: BACKEND,
                    message: format!("preset id {preset:?} cannot be used in file names"),
                });
            }
        }
        if renditions.iter().enumerate().any(|(i, r)| renditions[..i].contains(r)) {
            return Err(TranscodeError::Rejected { backend: BACKEND, message: "a preset is listed twice".to_owned() });
        }
        let pipeline = self.pipeline(request).await?;

        let mut outputs = Vec::new();
        let mut thumbnails_taken = false;
        for (preset, rendition) in presets.iter().zip(&renditions) {
            let mut output = CreateJobOutput::builder()
                .key(format!("{rendition}/index"))
                .preset_id(preset)
                .segment_duration(SEGMENT_DURATION)
                .rotate("auto");
            if !thumbnails_taken && !is_audio_preset(preset) && request.media.video.is_some() {
                output = output.thumbnail_pattern(THUMBNAIL_PATTERN);
                thumbnails_taken = true;
            }
            outputs.push(output.build());
        }
        let playlist = CreateJobPlaylist::builder()
            .name(MASTER_NAME)
            .format("HLSv3")
            .set_output_keys(Some(renditions.iter().map(|r| format!("{r}/index")).collect()))
            .build();
        let input = JobInput::builder()
            .key(&request.source.key)
            .frame_rate("auto")
            .resolution("auto")
            .aspect_ratio("auto")
            .interlaced("auto")
            .container("auto")
            .build();
        let created = while_role_settles(|| async {
            self.client
                .create_job()
                .pipeline_id(&pipeline.id)
                .input(input.clone())
                .output_key_prefix(format!("{}/hls/", request.layout.prefix))
                .set_outputs(Some(outputs.clone()))
                .playlists(playlist.clone())
                .user_metadata("streamdrop-job", request.job.to_string())
                .send()
                .await
                .map_err(|err| classify(&err))
        })
        .await
        .map_err(map_failure)?;
        created.job().and_then(|job| job.id()).map(str::to_owned).ok_or_else(|| TranscodeError::Transient {
            backend: BACKEND,
            message: "CreateJob answered without a job id".to_owned(),
        })
    }

    async fn poll(&self, backend_job_id: &str) -> Result<TranscodeStatus, TranscodeError> {
        let output = match self.client.read_job().id(backend_job_id).send().await {
            Ok(output) => output,
            Err(err) => {
                let failure = classify(&err);
                if failure.status == Some(404) && failure.code.as_deref() == Some("ResourceNotFoundException") {
                    if discontinued(&failure) {
                        return Err(unavailable(&failure));
                    }
                    return Err(TranscodeError::UnknownJob { backend_job_id: backend_job_id.to_owned() });
                }
                return Err(map_failure(failure));
            }
        };
        let job = output.job().ok_or_else(|| TranscodeError::Transient {
            backend: BACKEND,
            message: format!("ReadJob {backend_job_id} answered without a job"),
        })?;
        Ok(job_status(backend_job_id, job))
    }
}

impl Transcoder for ElasticTranscoder {
    fn name(&self) -> &'static str {
        "elastic-transcoder"
    }

    fn naming(&self) -> Naming {
        NAMING
    }

    fn submit<'a>(&'a self, request: &'a TranscodeRequest) -> BoxFuture<'a, Result<String, TranscodeError>> {
        Box::pin(self.create(request))
    }

    fn status<'a>(
        &'a self,
        backend_job_id: &'a str,
        _request: &'a TranscodeRequest,
    ) -> BoxFuture<'a, Result<TranscodeStatus, TranscodeError>> {
        Box::pin(self.poll(backend_job_id))
    }

    fn cancel<'a>(&'a self, backend_job_id: &'a str) -> BoxFuture<'a, Result<(), TranscodeError>> {
        Box::pin(async move {
            match self.client.cancel_job().id(backend_job_id).send().await {
                Ok(_) => Ok(()),
                // Elastic Transcoder cancels only jobs still waiting; a started one runs
                // to its end, and its outputs are left unused.
                Err(err) => match classify(&err) {
                    failure if failure.leaves_nothing_to_cancel() => Ok(()),
                    failure => Err(map_failure(failure)),
                },
            }
        })
    }
}

fn pipeline_info(pipeline: &Pipeline) -> Result<PipelineInfo, TranscodeError> {
    let id = pipeline.id().filter(|id| !id.is_empty()).ok_or_else(|| TranscodeError::Transient {
        backend: BACKEND,
        message: "a pipeline came back without an id".to_owned(),
    })?;
    // A pipeline names its output bucket either directly or in ContentConfig.
    let output_bucket =
        pipeline.output_bucket().or_else(|| pipeline.content_config().and_then(|c| c.bucket())).map(str::to_owned);
    Ok(PipelineInfo { id: id.to_owned(), input_bucket: pipeline.input_bucket().map(str::to_owned), output_bucket })
}

/// ReadJob's job → our status. `Error` collects every failed output's and
/// playlist's `StatusDetail`; the code is the number that details start with.
fn job_status(backend_job_id: &str, job: &Job) -> TranscodeStatus {
    match job.status().unwrap_or_default() {
        s if s.eq_ignore_ascii_case("Submitted") => TranscodeStatus::Submitted,
        s if s.eq_ignore_ascii_case("Progressing") => TranscodeStatus::Progressing { percent: None },
        s if s.eq_ignore_ascii_case("Complete") => TranscodeStatus::Complete,
        s if s.eq_ignore_ascii_case("Canceled") => TranscodeStatus::Error {
            code: Some("CANCELED".to_owned()),
            message: format!("Elastic Transcoder job {backend_job_id} was canceled"),
        },
        s if s.eq_ignore_ascii_case("Error") => {
            let mut details: Vec<String> = Vec::new();
            let mut code = None;
            let outputs = job.outputs().iter().chain(job.output()).filter(|o| is_error(o.status()));
            for output in outputs {
                if let Some(detail) = output.status_detail().filter(|d| !d.trim().is_empty()) {
                    code = code.or_else(|| leading_code(detail));
                    let line = match output.key() {
                        Some(key) => format!("output {key}: {detail}"),
                        None => detail.to_owned(),
                    };
                    if !details.contains(&line) {
                        details.push(line);
                    }
                }
            }
            for playlist in job.playlists().iter().filter(|p| is_error(p.status())) {
                if let Some(detail) = playlist.status_detail().filter(|d| !d.trim().is_empty()) {
                    code = code.or_else(|| leading_code(detail));
                    details.push(format!("playlist {}: {detail}", playlist.name().unwrap_or("?")));
                }
            }
            let message = if details.is_empty() {
                format!("Elastic Transcoder job {backend_job_id} failed without a status detail")
            } else {
                details.join("; ")
            };
            TranscodeStatus::Error { code, message }
        }
        other => TranscodeStatus::Error {
            code: None,
            message: format!("Elastic Transcoder job {backend_job_id} has an unknown status {other:?}"),
        },
    }
}

fn is_error(status: Option<&str>) -> bool {
    status.is_some_and(|s| s.eq_ignore_ascii_case("Error"))
}

/// `"4000 45c9…: The input file is…"` → `"4000"`.
fn leading_code(detail: &str) -> Option<String> {
    let digits: String = detail.trim_start().chars().take_while(char::is_ascii_digit).collect();
    (!digits.is_empty()).then_some(digits)
}

/// Whether a failure is the service being gone, as opposed to this machine
/// being offline (a transient failure) or the connection being refused (its
/// keys or permissions: denied). Those three need different things of people.
fn discontinued(failure: &SdkFailure) -> bool {
    let text = format!("{} {}", failure.message.as_deref().unwrap_or_default(), failure.detail).to_ascii_lowercase();
    let says_gone = ["discontinued", "no longer available", "no longer supported", "end of life", "has been retired"]
        .iter()
        .any(|phrase| text.contains(phrase));
    if says_gone {
        return true;
    }
    match failure.kind {
        // The endpoint's name no longer exists. Refused connections, timeouts
        // and a resolver that cannot answer ("temporary failure") are a
        // network that is down, not a service that is gone.
        FailureKind::Connect => [
            "name or service not known",
            "no address associated with hostname",
            "nodename nor servname",
            "no such host",
        ]
        .iter()
        .any(|nxdomain| text.contains(nxdomain)),
        FailureKind::Service | FailureKind::NoAnswer => {
            let code = failure.code.as_deref().unwrap_or_default();
            let message = failure.message.as_deref().unwrap_or_default().to_ascii_lowercase();
            // IAM's own denials name the action ("not authorized to perform:
            // elastictranscoder:CreateJob"): those are a missing permission.
            let about_service = (message.contains("elastic transcoder") || message.contains("elastictranscoder"))
                && !message.contains("not authorized to perform");
            match failure.status {
                Some(410) => true,
                // A 404 without one of the API's own error codes: the API is not there.
                Some(404) => code != "ResourceNotFoundException",
                // Refused keys or a missing permission are the connection's, unless the answer is about the service.
                _ => code == "AccessDeniedException" && about_service,
            }
        }
        FailureKind::Construction => false,
    }
}

fn unavailable(failure: &SdkFailure) -> TranscodeError {
    let answer = match failure.kind {
        FailureKind::Connect => format!("its endpoint could not be reached: {}", failure.detail),
        _ => format!("it answered {}", failure.describe()),
    };
    TranscodeError::Unavailable {
        message: format!("{DISCONTINUED_MESSAGE} (The service did not take the request; {answer})"),
    }
}

fn map_failure(failure: SdkFailure) -> TranscodeError {
    if discontinued(&failure) {
        unavailable(&failure)
    } else {
        failure.into_error(BACKEND)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendition_names() {
        assert_eq!(rendition_name(HLS_400K_PRESET), "400k");
        assert_eq!(rendition_name("1351620000001-200010"), "2000k");
        assert_eq!(rendition_name(AUDIO_PRESET), "audio-160k");
        assert_eq!(rendition_name("1700000000000-abcdef"), "1700000000000-abcdef");
        let layout = OutputLayout { bucket: "media".into(), prefix: "jobs/x".into() };
        assert_eq!(variant_playlist(&layout, HLS_400K_PRESET).to_string(), "s3://media/jobs/x/hls/400k/index.m3u8");
        assert_eq!(thumbnail(&layout, 1, "png").to_string(), "s3://media/jobs/x/hls/thumbs/thumb-00001.png");
    }

    #[test]
    fn codes_come_from_the_detail() {
        assert_eq!(leading_code("4000 45c9-aa: The input file is not supported").as_deref(), Some("4000"));
        assert_eq!(leading_code("The input file is not supported"), None);
    }

    fn service(status: u16, code: Option<&str>, message: &str) -> SdkFailure {
        SdkFailure {
            kind: FailureKind::Service,
            status: Some(status),
            code: code.map(str::to_owned),
            message: Some(message.to_owned()),
            detail: String::new(),
        }
    }

    #[test]
    fn tells_discontinued_from_ordinary_failures() {
        assert!(discontinued(&service(410, None, "Gone")));
        assert!(discontinued(&service(404, None, "Not Found")));
        // Bad keys, a missing permission and a machine offline are not the service being gone.
        assert!(!discontinued(&service(400, Some("UnrecognizedClientException"), "The security token is invalid")));
        assert!(service(400, Some("UnrecognizedClientException"), "The security token is invalid").is_denied());
        assert!(service(403, Some("AccessDeniedException"), "User is not authorized").is_denied());
        let connect = |detail: &str| SdkFailure {
            kind: FailureKind::Connect,
            status: None,
            code: None,
            message: None,
            detail: detail.to_owned(),
        };
        assert!(!discontinued(&connect("tcp connect error: Connection refused (os error 111)")));
        assert!(!discontinued(&connect(
            "dns error: failed to lookup address information: Temporary failure in name resolution"
        )));
        assert!(discontinued(&connect("dns error: failed to lookup address information: Name or service not known")));
        assert!(discontinued(&service(403, Some("AccessDeniedException"), "Elastic Transcoder is not available")));
        assert!(discontinued(&service(400, Some("ValidationException"), "This service has been discontinued")));
        assert!(!discontinued(&service(400, Some("ValidationException"), "Role is not valid")));
        assert!(!discontinued(&service(403, Some("AccessDeniedException"), "User is not authorized")));
        assert!(!discontinued(&service(404, Some("ResourceNotFoundException"), "job not found")));
        assert!(!discontinued(&service(503, Some("InternalServiceException"), "try again")));
    }
}
