//! AWS Elemental MediaConvert backend.
//!
//! One `CreateJob` per transcode, sent to the regional endpoint the SDK
//! resolves from the region (`https://mediaconvert.<region>.amazonaws.com`;
//! the deprecated `DescribeEndpoints` is never called), then `GetJob` polls.
//! The job runs as `role_arn`, a service role that trusts
//! `mediaconvert.amazonaws.com` and may read the source and write the outputs
//! (the `MediaConvert_Default_Role` shape).
//!
//! # What the job asks for
//!
//! - One HLS output group, destination `s3://<bucket>/<prefix>/hls/master`:
//!   6 s segments ([`SEGMENT_SECONDS`]), separate segment files, one output per
//!   [`Rung`]: H.264 QVBR (quality 7–9 by height) capped at
//!   `video_max_bitrate`, a 2 s closed GOP ([`GOP_SECONDS`]), the rung's size,
//!   AAC-LC stereo at the rung's `audio_bitrate` (when the source has audio).
//! - Audio-only sources (empty ladder): one AAC output in that group, listed
//!   as a variant stream, MPEG-TS segments. No images.
//! - Thumbnails: a file group with a frame capture every 10 s, 320 px wide.
//! - Poster: a second file group capturing one frame (the first) at the size
//!   of the largest rung.
//!
//! # Output names, and how they differ from [`OutputLayout`]
//!
//! MediaConvert names every file of an HLS group `<base><name modifier>…` in
//! the destination folder; it cannot put a rendition in its own folder under
//! a fixed name, so `<prefix>/hls/<rung>/index.m3u8` is impossible. What it
//! writes (for a rung named `720p`):
//!
//! ```text
//! <prefix>/hls/master.m3u8                 master playlist (as the layout says)
//! <prefix>/hls/master_720p.m3u8            variant playlist       (layout: hls/720p/index.m3u8)
//! <prefix>/hls/master_720p_00001.ts …      its segments           (layout: hls/720p/…)
//! <prefix>/hls/master_audio.m3u8           audio-only variant     (layout: hls/audio/index.m3u8)
//! <prefix>/thumbs/thumb.0000000.jpg …      thumbnails, every 10 s (layout: thumbs/thumb-00001.jpg …)
//! <prefix>/poster.0000000.jpg              poster                 (layout: poster.jpg)
//! ```
//!
//! What holds for every backend, and is all that consumers may rely on: the
//! master is at [`OutputLayout::master_playlist`], every URI in it (and in the
//! variant playlists) is relative, and everything stays under `<prefix>/`, so
//! one signed wildcard over `<prefix>/*` covers a playback. Consumers that
//! want thumbnails or the poster list `<prefix>/thumbs/` and `<prefix>/poster`
//! rather than assume the local backend's names; [`variant_playlist`],
//! [`thumbnail`] and [`poster`] give MediaConvert's exact names.

use std::time::Duration;

use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_mediaconvert::config::http::HttpResponse;
use aws_sdk_mediaconvert::config::timeout::TimeoutConfig;
use aws_sdk_mediaconvert::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_mediaconvert::types::{
    AacCodecProfile, AacCodingMode, AacRateControlMode, AacSettings, AudioCodec, AudioCodecSettings,
    AudioDefaultSelection, AudioDescription, AudioSelector, ContainerSettings, ContainerType, FileGroupSettings,
    FrameCaptureSettings, H264CodecLevel, H264CodecProfile, H264GopSizeUnits, H264QvbrSettings, H264RateControlMode,
    H264SceneChangeDetect, H264Settings, HlsAudioOnlyContainer, HlsAudioTrackType, HlsCodecSpecification,
    HlsDirectoryStructure, HlsGroupSettings, HlsManifestDurationFormat, HlsOutputSelection, HlsSegmentControl,
    HlsSegmentLengthControl, HlsSettings, HlsStreamInfResolution, Input, InputRotate, InputTimecodeSource, JobSettings,
    JobStatus, Output, OutputGroup, OutputGroupSettings, OutputGroupType, OutputSettings, VideoCodec,
    VideoCodecSettings, VideoDescription, VideoSelector,
};
use aws_sdk_mediaconvert::Client;
use futures_util::future::BoxFuture;

use super::{poster_time, Naming, TranscodeError, TranscodeRequest, TranscodeStatus, Transcoder};

use crate::model::{ObjectRef, OutputLayout, Rung, GOP_SECONDS, SEGMENT_SECONDS};

const BACKEND: &str = "MediaConvert";

/// Base name of the master playlist inside `<prefix>/hls/`.
pub const MASTER_BASE_NAME: &str = "master";
/// Name modifier of the audio-only output.
pub const AUDIO_ONLY_RENDITION: &str = "audio";
/// Seconds between thumbnails.
pub const THUMBNAIL_INTERVAL_SECONDS: i32 = 10;
/// Width of thumbnails; the height follows the source's aspect ratio.
pub const THUMBNAIL_WIDTH: u32 = 320;
/// The most thumbnails one job writes (MediaConvert's own ceiling).
pub const MAX_THUMBNAILS: i32 = 10_000_000;
const JPEG_QUALITY: i32 = 80;
const AUDIO_SELECTOR: &str = "Audio Selector 1";
const AUDIO_SAMPLE_RATE: i32 = 48_000;
/// AAC bitrate of the audio-only output (an empty ladder has no rung to take it from).
pub const AUDIO_ONLY_BITRATE: u32 = 128_000;

/// The variant playlist MediaConvert writes for `rendition` (a rung name, or
/// [`AUDIO_ONLY_RENDITION`]): `<prefix>/hls/master_<rendition>.m3u8`.
pub fn variant_playlist(layout: &OutputLayout, rendition: &str) -> ObjectRef {
    ObjectRef::new(&layout.bucket, format!("{}/hls/{MASTER_BASE_NAME}_{rendition}.m3u8", layout.prefix))
}

/// The `index`-th thumbnail (from 0): `<prefix>/thumbs/thumb.0000000.jpg` …
pub fn thumbnail(layout: &OutputLayout, index: u32) -> ObjectRef {
    ObjectRef::new(&layout.bucket, format!("{}thumb.{index:07}.jpg", layout.thumbnails_prefix()))
}

/// The poster: `<prefix>/poster.0000000.jpg`.
pub fn poster(layout: &OutputLayout) -> ObjectRef {
    layout.object("poster.0000000.jpg")
}

/// Where MediaConvert's outputs are (see the module docs).
pub const NAMING: Naming = Naming {
    master: "hls/master.m3u8",
    thumbnails: &["thumbs/"],
    thumbnail_interval_secs: THUMBNAIL_INTERVAL_SECONDS as f64,
    // The capture at the poster time when the clip had one (2 s or longer).
    posters: &["poster.0000001.jpg", "poster.0000000.jpg"],
};

/// Transcodes with AWS Elemental MediaConvert.
#[derive(Debug, Clone)]
pub struct MediaConvert {
    client: Client,
    role_arn: String,
    queue: Option<String>,
}

impl MediaConvert {
    /// A backend using `sdk_config`'s region and credentials. `endpoint_url`
    /// overrides the regional endpoint (tests, VPC endpoints). `role_arn` is
    /// the service role jobs run as; `queue` a queue name or ARN (`None`: the
    /// account's Default queue).
    pub fn new(sdk_config: &SdkConfig, endpoint_url: Option<&str>, role_arn: String, queue: Option<String>) -> Self {
        let mut config = aws_sdk_mediaconvert::config::Builder::from(sdk_config);
        if sdk_config.behavior_version().is_none() {
            config = config.behavior_version(BehaviorVersion::latest());
        }
        if !sdk_config.timeout_config().is_some_and(TimeoutConfig::has_timeouts) {
            config = config.timeout_config(default_timeouts());
        }
        if let Some(url) = endpoint_url {
            config = config.endpoint_url(url);
        }
        Self { client: Client::from_conf(config.build()), role_arn, queue }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn role_arn(&self) -> &str {
        &self.role_arn
    }

    async fn create(&self, request: &TranscodeRequest) -> Result<String, TranscodeError> {
        let settings = job_settings(request)?;
        let output = while_role_settles(|| async {
            self.client
                .create_job()
                .role(&self.role_arn)
                .set_queue(self.queue.clone())
                .settings(settings.clone())
                .user_metadata("streamdrop-job", request.job.to_string())
                .send()
                .await
                .map_err(|err| classify(&err))
        })
        .await
        .map_err(|failure| failure.into_error(BACKEND))?;
        output.job().and_then(|job| job.id()).map(str::to_owned).ok_or_else(|| TranscodeError::Transient {
            backend: BACKEND,
            message: "CreateJob answered without a job id".to_owned(),
        })
    }

    async fn poll(&self, backend_job_id: &str) -> Result<TranscodeStatus, TranscodeError> {
        let output = match self.client.get_job().id(backend_job_id).send().await {
            Ok(output) => output,
            Err(err) => {
                let failure = classify(&err);
                if failure.status == Some(404) || failure.code.as_deref() == Some("NotFoundException") {
                    return Err(TranscodeError::UnknownJob { backend_job_id: backend_job_id.to_owned() });
                }
                return Err(failure.into_error(BACKEND));
            }
        };
        let job = output.job().ok_or_else(|| TranscodeError::Transient {
            backend: BACKEND,
            message: format!("GetJob {backend_job_id} answered without a job"),
        })?;
        Ok(match job.status() {
            Some(JobStatus::Submitted) => TranscodeStatus::Submitted,
            Some(JobStatus::Progressing) => {
                TranscodeStatus::Progressing { percent: job.job_percent_complete().map(clamp_percent) }
            }
            Some(JobStatus::Complete) => TranscodeStatus::Complete,
            Some(JobStatus::Canceled) => TranscodeStatus::Error {
                code: Some("CANCELED".to_owned()),
                message: format!("MediaConvert job {backend_job_id} was canceled"),
            },
            Some(JobStatus::Error) => TranscodeStatus::Error {
                code: job.error_code().map(|code| code.to_string()),
                message: job
                    .error_message()
                    .filter(|m| !m.trim().is_empty())
                    .map(str::to_owned)
                    .unwrap_or_else(|| format!("MediaConvert job {backend_job_id} failed without a message")),
            },
            other => {
                return Err(TranscodeError::Transient {
                    backend: BACKEND,
                    message: format!("GetJob {backend_job_id} answered an unknown status {other:?}"),
                })
            }
        })
    }
}

impl Transcoder for MediaConvert {
    fn name(&self) -> &'static str {
        "mediaconvert"
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
                Err(err) => match classify(&err) {
                    failure if failure.leaves_nothing_to_cancel() => Ok(()),
                    failure => Err(failure.into_error(BACKEND)),
                },
            }
        })
    }
}

fn clamp_percent(percent: i32) -> u8 {
    percent.clamp(0, 100) as u8
}

/// Used when the `SdkConfig` sets no timeouts, so a hung connection cannot stall a poll forever.
pub(super) fn default_timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(10))
        .operation_attempt_timeout(Duration::from_secs(30))
        .operation_timeout(Duration::from_secs(120))
        .build()
}

fn rejected(message: impl Into<String>) -> TranscodeError {
    TranscodeError::Rejected { backend: BACKEND, message: message.into() }
}

/// Rung names become file names; keep them to a safe alphabet.
pub(super) fn is_safe_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 40
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && !name.starts_with('.')
}

/// The whole `Settings` of the CreateJob request: public so that callers can
/// show or log exactly what would be sent.
pub fn job_settings(request: &TranscodeRequest) -> Result<JobSettings, TranscodeError> {
    let layout = &request.layout;
    let media = &request.media;
    let audio_only = request.ladder.is_empty();
    if audio_only && !media.has_audio {
        return Err(rejected("the source has neither a video rendition to make nor an audio track"));
    }
    if !audio_only && media.video.is_none() {
        return Err(rejected("the ladder has video renditions but the source has no video stream"));
    }
    for rung in &request.ladder {
        if !is_safe_name(&rung.name) {
            return Err(rejected(format!("rendition name {:?} cannot be used in file names", rung.name)));
        }
        if rung.name == AUDIO_ONLY_RENDITION {
            return Err(rejected(format!("rendition name {AUDIO_ONLY_RENDITION:?} is reserved for audio-only output")));
        }
        if rung.width == 0 || rung.height == 0 || rung.video_max_bitrate == 0 {
            return Err(rejected(format!("rendition {} has a zero size or bitrate", rung.name)));
        }
    }

    let mut input = Input::builder()
        .file_input(request.source.to_string())
        .timecode_source(InputTimecodeSource::Zerobased)
        // The ladder's sizes are as displayed, after rotation metadata.
        .video_selector(VideoSelector::builder().rotate(InputRotate::Auto).build());
    if media.has_audio {
        input = input.audio_selectors(
            AUDIO_SELECTOR,
            AudioSelector::builder().default_selection(AudioDefaultSelection::Default).build(),
        );
    }

    let mut hls_outputs = Vec::new();
    if audio_only {
        hls_outputs.push(
            Output::builder()
                .name_modifier(format!("_{AUDIO_ONLY_RENDITION}"))
                .container_settings(ContainerSettings::builder().container(ContainerType::M3U8).build())
                .audio_descriptions(aac(AUDIO_ONLY_BITRATE))
                .output_settings(
                    OutputSettings::builder()
                        .hls_settings(
                            HlsSettings::builder()
                                .audio_track_type(HlsAudioTrackType::AudioOnlyVariantStream)
                                .audio_only_container(HlsAudioOnlyContainer::M2Ts)
                                .build(),
                        )
                        .build(),
                )
                .build(),
        );
    } else {
        for rung in &request.ladder {
            let mut output = Output::builder()
                .name_modifier(format!("_{}", rung.name))
                .container_settings(ContainerSettings::builder().container(ContainerType::M3U8).build())
                .video_description(h264(rung))
                .output_settings(OutputSettings::builder().hls_settings(HlsSettings::builder().build()).build());
            if media.has_audio {
                output = output.audio_descriptions(aac(rung.audio_bitrate));
            }
            hls_outputs.push(output.build());
        }
    }

    let hls_group = OutputGroup::builder()
        .name("HLS")
        .output_group_settings(
            OutputGroupSettings::builder()
                .r#type(OutputGroupType::HlsGroupSettings)
                .hls_group_settings(
                    HlsGroupSettings::builder()
                        .destination(format!("s3://{}/{}/hls/{MASTER_BASE_NAME}", layout.bucket, layout.prefix))
                        .segment_length(SEGMENT_SECONDS as i32)
                        .min_segment_length(0)
                        .segment_control(HlsSegmentControl::SegmentedFiles)
                        .segment_length_control(HlsSegmentLengthControl::GopMultiple)
                        .manifest_duration_format(HlsManifestDurationFormat::FloatingPoint)
                        .directory_structure(HlsDirectoryStructure::SingleDirectory)
                        .output_selection(HlsOutputSelection::ManifestsAndSegments)
                        .codec_specification(HlsCodecSpecification::Rfc4281)
                        .stream_inf_resolution(HlsStreamInfResolution::Include)
                        .build(),
                )
                .build(),
        )
        .set_outputs(Some(hls_outputs))
        .build();

    let mut settings = JobSettings::builder().inputs(input.build()).output_groups(hls_group);
    if let (false, Some(video)) = (audio_only, media.video.as_ref()) {
        let (thumb_width, thumb_height) = scaled_to_width(video.width, video.height, THUMBNAIL_WIDTH);
        settings = settings.output_groups(frame_capture_group(
            "Thumbnails",
            format!("s3://{}/{}thumb", layout.bucket, layout.thumbnails_prefix()),
            (thumb_width, thumb_height),
            MAX_THUMBNAILS,
            u64::try_from(THUMBNAIL_INTERVAL_SECONDS).unwrap_or(10) * 1000,
        ));
        let largest = request.ladder.iter().max_by_key(|r| u64::from(r.width) * u64::from(r.height));
        let (poster_width, poster_height) = largest.map_or((video.width, video.height), |r| (r.width, r.height));
        // Frame captures start at 0 s: the second one, one interval later, is the poster.
        let poster_millis = (poster_time(media.duration_secs) * 1000.0).round() as u64;
        settings = settings.output_groups(frame_capture_group(
            "Poster",
            format!("s3://{}/{}/poster", layout.bucket, layout.prefix),
            (poster_width, poster_height),
            if poster_millis > 0 { 2 } else { 1 },
            poster_millis.max(1000),
        ));
    }
    Ok(settings.build())
}

/// QVBR quality by a rendition's short side: AWS's guidance is 7 up to 720p,
/// 8 for 1080p, 9 for 4K.
pub fn qvbr_quality_level(short_side: u32) -> i32 {
    match short_side {
        h if h >= 2000 => 9,
        h if h >= 1000 => 8,
        _ => 7,
    }
}

fn h264(rung: &Rung) -> VideoDescription {
    let settings = H264Settings::builder()
        .rate_control_mode(H264RateControlMode::Qvbr)
        .qvbr_settings(H264QvbrSettings::builder().qvbr_quality_level(qvbr_quality_level(rung.short_side())).build())
        .max_bitrate(saturating_i32(rung.video_max_bitrate))
        .gop_size(f64::from(GOP_SECONDS))
        .gop_size_units(H264GopSizeUnits::Seconds)
        .gop_closed_cadence(1)
        .scene_change_detect(H264SceneChangeDetect::TransitionDetection)
        .codec_profile(if rung.short_side() >= 720 { H264CodecProfile::High } else { H264CodecProfile::Main })
        // MediaConvert picks the lowest level that holds the frame size, rate and bitrate, either way up.
        .codec_level(H264CodecLevel::Auto)
        .build();
    VideoDescription::builder()
        .width(saturating_i32(rung.width))
        .height(saturating_i32(rung.height))
        .codec_settings(VideoCodecSettings::builder().codec(VideoCodec::H264).h264_settings(settings).build())
        .build()
}

fn aac(bitrate: u32) -> AudioDescription {
    AudioDescription::builder()
        .audio_source_name(AUDIO_SELECTOR)
        .codec_settings(
            AudioCodecSettings::builder()
                .codec(AudioCodec::Aac)
                .aac_settings(
                    AacSettings::builder()
                        .codec_profile(AacCodecProfile::Lc)
                        .coding_mode(AacCodingMode::CodingMode20)
                        .rate_control_mode(AacRateControlMode::Cbr)
                        .bitrate(saturating_i32(bitrate))
                        .sample_rate(AUDIO_SAMPLE_RATE)
                        .build(),
                )
                .build(),
        )
        .build()
}

/// Up to `max_captures` frames of `width`×`height`, one every `every_millis`
/// from the start, to `destination` + `.0000000.jpg`, `.0000001.jpg`, ….
fn frame_capture_group(
    name: &str,
    destination: String,
    (width, height): (u32, u32),
    max_captures: i32,
    every_millis: u64,
) -> OutputGroup {
    let capture = FrameCaptureSettings::builder()
        .framerate_numerator(1000)
        .framerate_denominator(saturating_i32(u32::try_from(every_millis).unwrap_or(u32::MAX)))
        .max_captures(max_captures)
        .quality(JPEG_QUALITY)
        .build();
    OutputGroup::builder()
        .name(name)
        .output_group_settings(
            OutputGroupSettings::builder()
                .r#type(OutputGroupType::FileGroupSettings)
                .file_group_settings(FileGroupSettings::builder().destination(destination).build())
                .build(),
        )
        .outputs(
            Output::builder()
                .container_settings(ContainerSettings::builder().container(ContainerType::Raw).build())
                .video_description(
                    VideoDescription::builder()
                        .width(saturating_i32(width))
                        .height(saturating_i32(height))
                        .codec_settings(
                            VideoCodecSettings::builder()
                                .codec(VideoCodec::FrameCapture)
                                .frame_capture_settings(capture)
                                .build(),
                        )
                        .build(),
                )
                .build(),
        )
        .build()
}

/// `width` × `height` scaled to `target_width` (never up), both even.
fn scaled_to_width(width: u32, height: u32, target_width: u32) -> (u32, u32) {
    let even = |v: u64| (v.max(2) / 2 * 2) as u32;
    if width == 0 || height == 0 {
        return (target_width, even(u64::from(target_width) * 9 / 16));
    }
    let w = u64::from(width.min(target_width));
    let h = (u64::from(height) * w + u64::from(width) / 2) / u64::from(width);
    (even(w), even(h))
}

fn saturating_i32(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

/// An SDK failure, reduced to what the error mapping needs. Shared with the
/// Elastic Transcoder backend.
#[derive(Debug, Clone)]
pub(super) struct SdkFailure {
    pub kind: FailureKind,
    /// HTTP status of the service's answer.
    pub status: Option<u16>,
    /// The service's error code (`BadRequestException`, …).
    pub code: Option<String>,
    pub message: Option<String>,
    /// The full error chain, for messages.
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FailureKind {
    /// The request could not be built (bad config, missing region).
    Construction,
    /// No connection: refused, DNS, TLS.
    Connect,
    /// Sent, but no usable answer: timeout, cut connection, unparseable response.
    NoAnswer,
    /// The service answered with an error.
    Service,
}

/// How long a submission waits for a role IAM has not yet spread (setup made
/// it seconds ago): IAM is eventually consistent, usually within seconds,
/// rarely a minute.
const ROLE_SETTLING: std::time::Duration = std::time::Duration::from_secs(60);

/// Runs `attempt` again, with growing pauses, while it fails because the
/// role is not assumable yet, for up to [`ROLE_SETTLING`]; then gives its result.
pub(super) async fn while_role_settles<T, F, Fut>(mut attempt: F) -> Result<T, SdkFailure>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, SdkFailure>>,
{
    let started = std::time::Instant::now();
    let mut pause = std::time::Duration::from_millis(500);
    loop {
        match attempt().await {
            Err(failure) if failure.is_role_not_ready() && started.elapsed() + pause < ROLE_SETTLING => {
                tracing::info!("the transcoder's role is not usable yet ({}); trying again", failure.describe());
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(std::time::Duration::from_secs(8));
            }
            done => return done,
        }
    }
}

pub(super) fn classify<E>(err: &SdkError<E, HttpResponse>) -> SdkFailure
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let detail = error_chain(err);
    let failure = |kind, status| SdkFailure { kind, status, code: None, message: None, detail: detail.clone() };
    match err {
        SdkError::ConstructionFailure(_) => failure(FailureKind::Construction, None),
        // Connection refused, unresolvable host, TLS failure: the connector reports these as io errors.
        SdkError::DispatchFailure(dispatch) if dispatch.is_io() => failure(FailureKind::Connect, None),
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => failure(FailureKind::NoAnswer, None),
        SdkError::ResponseError(response) => failure(FailureKind::NoAnswer, Some(response.raw().status().as_u16())),
        SdkError::ServiceError(service) => SdkFailure {
            kind: FailureKind::Service,
            status: Some(service.raw().status().as_u16()),
            code: service.err().code().map(str::to_owned),
            message: service.err().message().map(str::to_owned),
            detail: detail.clone(),
        },
        _ => failure(FailureKind::NoAnswer, None),
    }
}

/// `err` and its sources, each said once: `dispatch failure: io error: …: Connection refused (os error 111)`.
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let said = cause.to_string();
        if !said.is_empty() && !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        source = cause.source();
    }
    text
}

impl SdkFailure {
    /// A CancelJob refused because the job is gone (404) or past cancelling
    /// (409: ended, or for Elastic Transcoder, started): there is nothing more to do.
    pub fn leaves_nothing_to_cancel(&self) -> bool {
        self.kind == FailureKind::Service && matches!(self.status, Some(404 | 409))
    }

    /// Throttling and server-side trouble: a later attempt may succeed.
    pub fn is_retryable(&self) -> bool {
        match self.kind {
            FailureKind::Connect | FailureKind::NoAnswer => true,
            FailureKind::Construction => false,
            FailureKind::Service => {
                let throttled = self.code.as_deref().is_some_and(|code| {
                    let code = code.to_ascii_lowercase();
                    code.contains("throttl") || code.contains("toomanyrequests") || code.contains("limitexceeded")
                });
                throttled || self.status.is_some_and(|s| s == 429 || s >= 500)
            }
        }
    }

    /// The service's own words: `Code: message`, either alone, or `None`.
    pub fn words(&self) -> Option<String> {
        let message = self.message.as_deref().map(str::trim).filter(|m| !m.is_empty());
        match (self.code.as_deref(), message) {
            (Some(code), Some(message)) => Some(format!("{code}: {message}")),
            (None, Some(message)) => Some(message.to_owned()),
            (Some(code), None) => Some(code.to_owned()),
            (None, None) => None,
        }
    }

    /// What went wrong, for people: the service's words with the HTTP status,
    /// or the error chain when there was no answer.
    pub fn describe(&self) -> String {
        match (self.kind, self.status) {
            (FailureKind::Service | FailureKind::NoAnswer, Some(status)) => match self.words() {
                Some(words) => format!("HTTP {status}: {words}"),
                None => format!("HTTP {status} without an error code or message"),
            },
            _ => self.detail.clone(),
        }
    }

    /// Whether the service could not use the job's role, in the words it
    /// uses for a role IAM has not finished spreading. Not a missing
    /// `iam:PassRole`: that denial lasts until the policy changes.
    pub fn is_role_not_ready(&self) -> bool {
        let message = self.message.as_deref().unwrap_or_default().to_ascii_lowercase();
        matches!(self.kind, FailureKind::Service)
            && self.status.is_some_and(|s| (400..500).contains(&s))
            && message.contains("role")
            && !message.contains("iam:passrole")
            && ["assume", "invalid role", "not valid", "is invalid"].iter().any(|words| message.contains(words))
    }

    /// Whether the service refused who is asking: keys it does not accept, or
    /// an identity without the permission. Fixed in the connection or its
    /// IAM policy, not by waiting.
    pub fn is_denied(&self) -> bool {
        const DENIED: &[&str] = &[
            "UnrecognizedClientException",
            "InvalidClientTokenId",
            "InvalidSignatureException",
            "SignatureDoesNotMatch",
            "IncompleteSignature",
            "MissingAuthenticationToken",
            "ExpiredToken",
            "ExpiredTokenException",
            "AccessDenied",
            "AccessDeniedException",
            "ForbiddenException",
        ];
        matches!(self.kind, FailureKind::Service)
            && (self.status == Some(403) || self.code.as_deref().is_some_and(|code| DENIED.contains(&code)))
    }

    /// Transient for retryable failures, Denied for refused credentials or
    /// permissions, Rejected (with the service's words) for the rest.
    pub fn into_error(self, backend: &'static str) -> TranscodeError {
        if self.is_retryable() {
            TranscodeError::Transient { backend, message: self.describe() }
        } else if self.is_denied() {
            TranscodeError::Denied { backend, message: self.describe() }
        } else {
            let message = self.words().unwrap_or_else(|| self.describe());
            TranscodeError::Rejected { backend, message }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbnails_keep_the_aspect_ratio_with_even_sizes() {
        assert_eq!(scaled_to_width(1920, 1080, 320), (320, 180));
        assert_eq!(scaled_to_width(1080, 1920, 320), (320, 568));
        assert_eq!(scaled_to_width(200, 100, 320), (200, 100));
        assert_eq!(scaled_to_width(0, 0, 320), (320, 180));
    }

    #[test]
    fn portrait_renditions_are_tiered_like_their_landscape_twins() {
        let rung = |width, height| Rung { name: "r".into(), width, height, video_max_bitrate: 1, audio_bitrate: 1 };
        for (landscape, portrait) in [(rung(1920, 1080), rung(1080, 1920)), (rung(1280, 720), rung(720, 1280))] {
            let settings = |r: &Rung| format!("{:?}", h264(r).codec_settings);
            assert_eq!(settings(&landscape), settings(&portrait), "{landscape:?} vs {portrait:?}");
        }
        assert!(format!("{:?}", h264(&rung(1080, 1920)).codec_settings).contains("qvbr_quality_level: Some(8)"));
        assert_eq!(qvbr_quality_level(360), 7);
        assert_eq!(qvbr_quality_level(720), 7);
        assert_eq!(qvbr_quality_level(1080), 8);
        assert_eq!(qvbr_quality_level(2160), 9);
    }

    #[test]
    fn names_follow_mediaconvert() {
        let layout = OutputLayout { bucket: "media".into(), prefix: "jobs/abc".into() };
        assert_eq!(variant_playlist(&layout, "720p").to_string(), "s3://media/jobs/abc/hls/master_720p.m3u8");
        assert_eq!(thumbnail(&layout, 3).to_string(), "s3://media/jobs/abc/thumbs/thumb.0000003.jpg");
        assert_eq!(poster(&layout).to_string(), "s3://media/jobs/abc/poster.0000000.jpg");
        assert!(is_safe_name("1080p") && is_safe_name("hd_2.5M") && !is_safe_name("a/b") && !is_safe_name(".."));
    }
}
