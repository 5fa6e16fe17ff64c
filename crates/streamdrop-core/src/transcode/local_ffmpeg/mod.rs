//! The local backend: ffmpeg on this machine, reading the source and writing
//! the outputs through the S3 API, so it works the same against the embedded
//! server and against AWS.
//!
//! One job runs as:
//! 1. clear the job's work dir (`<data>/transcode-work/<job-id>/`), so a
//!    resubmission after a restart starts clean;
//! 2. download the source there with a streaming GetObject;
//! 3. one ffmpeg run ([`ffmpeg_args`]) decodes once and writes every rung
//!    (split → scale → libx264), AAC audio, the HLS master and variant
//!    playlists, and the thumbnails;
//! 4. a second, cheap run ([`poster_args`]) seeks to 10 % and writes the poster;
//! 5. every output is stored under the job's [`OutputLayout`] prefix with
//!    PutObject (master playlist last), overwriting any earlier attempt;
//! 6. the work dir is removed; the job is `Complete` only if all of that worked.
//!
//! Why download instead of handing ffmpeg a presigned URL: camera files keep
//! their index (`moov`) at the end and interleave badly, so ffmpeg over HTTP
//! makes many ranged requests; a presigned URL can expire during a long
//! transcode; the poster run reads the source a second time; and errors from a
//! local file are about the file, not the network. The cost is disk space for
//! one copy of the source while the job runs.
//!
//! Audio-only sources get one audio rendition, `hls/audio/index.m3u8`, listed
//! in the master playlist, and no thumbnails or poster (there is no picture
//! to take them from).
//!
//! Jobs live in an in-memory registry: after a restart `status` answers
//! [`TranscodeError::UnknownJob`] and the pipeline submits again.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::FutureExt;

use tokio::sync::{oneshot, Semaphore};

use super::probe::{clean_ffmpeg_log, ffmpeg_input_arg};
use super::{Naming, TranscodeError, TranscodeRequest, TranscodeStatus, Transcoder};
use crate::model::{JobId, ObjectRef};
use crate::storage::Storage;
use crate::DataDir;

mod command;
mod process;
mod s3_io;

pub use super::poster_time;
pub use command::{create_output_dirs, ffmpeg_args, output_frame_rate, poster_args};
pub use process::stop_orphans;

use process::run_ffmpeg;
use s3_io::{download, upload_outputs};

pub const BACKEND_NAME: &str = "local-ffmpeg";
/// What this backend writes below the job's prefix: `hls/master.m3u8` with a
/// folder per rendition (`hls/<rung>/index.m3u8`), `thumbs/thumb-00001.jpg`
/// (the first frame, then one every [`THUMBNAIL_INTERVAL_SECS`]) and `poster.jpg`.
pub const NAMING: Naming = Naming {
    master: "hls/master.m3u8",
    thumbnails: &["thumbs/"],
    thumbnail_interval_secs: THUMBNAIL_INTERVAL_SECS as f64,
    posters: &["poster.jpg"],
};
/// The one rendition of an audio-only source.
pub const AUDIO_RENDITION: &str = "audio";
pub const THUMBNAIL_INTERVAL_SECS: u32 = 10;
pub const THUMBNAIL_WIDTH: u32 = 320;
/// Output frame rates above this are halved (120 → 60, 119.88 → 59.94).
pub const MAX_FRAME_RATE: f64 = 60.0;
/// Output frame rate when the source's is unknown.
pub const DEFAULT_FRAME_RATE: (u32, u32) = (30, 1);
/// Constant-quality target, capped per rung by `-maxrate`.
pub const X264_CRF: u32 = 21;
/// Folder under the data dir that holds one work dir per running job.
pub const WORK_DIR_NAME: &str = "transcode-work";

/// `<data>/transcode-work`
pub fn work_root(data_dir: &DataDir) -> PathBuf {
    data_dir.path().join(WORK_DIR_NAME)
}

#[derive(Debug, Clone)]
pub struct LocalFfmpegOptions {
    /// Transcodes at once. They are CPU-bound (x264 already uses every core),
    /// so this is separate from, and much lower than, upload concurrency.
    pub concurrency: usize,
    /// `None`: `ffmpeg` from `PATH`.
    pub ffmpeg: Option<PathBuf>,
    /// ffmpeg is killed when it reports no progress for this long, so a bad
    /// file never hangs a job.
    pub stall_timeout: Duration,
}

impl Default for LocalFfmpegOptions {
    fn default() -> Self {
        Self { concurrency: 1, ffmpeg: None, stall_timeout: Duration::from_secs(120) }
    }
}

/// Error codes in [`TranscodeStatus::Error`].
pub mod codes {
    /// ffmpeg is not installed (or not at the configured path).
    pub const FFMPEG_MISSING: &str = "ffmpeg-missing";
    /// ffmpeg exited with an error: the message has its last log lines.
    pub const FFMPEG_FAILED: &str = "ffmpeg-failed";
    /// ffmpeg made no progress within the stall timeout and was killed.
    pub const STALLED: &str = "stalled";
    /// ffmpeg finished but read much less than the source's duration.
    pub const TRUNCATED: &str = "truncated";
    pub const SOURCE_MISSING: &str = "source-missing";
    /// The source object has no bytes.
    pub const SOURCE_EMPTY: &str = "source-empty";
    pub const DOWNLOAD_FAILED: &str = "download-failed";
    pub const UPLOAD_FAILED: &str = "upload-failed";
    /// The work dir could not be prepared or read.
    pub const WORK_DIR: &str = "work-dir";
    /// ffmpeg succeeded but an expected output is missing.
    pub const OUTPUT_MISSING: &str = "output-missing";
    pub const INTERNAL: &str = "internal";
    /// The job was cancelled; ffmpeg was stopped.
    pub const CANCELLED: &str = "cancelled";
}

/// Transcodes with ffmpeg on this machine. Cheap to clone; clones share jobs.
#[derive(Clone)]
pub struct LocalFfmpeg {
    inner: Arc<Inner>,
}

struct Inner {
    storage: Storage,
    work_root: PathBuf,
    ffmpeg: PathBuf,
    stall_timeout: Duration,
    permits: Arc<Semaphore>,
    jobs: Mutex<HashMap<String, Entry>>,
}

struct Entry {
    job: JobId,
    status: TranscodeStatus,
    /// Stops the run (waiting for its turn, or ffmpeg itself) when sent.
    cancel: Option<oneshot::Sender<()>>,
}

impl LocalFfmpeg {
    /// `work_root` holds one folder per running job; see [`work_root`].
    pub fn new(storage: Storage, work_root: impl Into<PathBuf>, options: LocalFfmpegOptions) -> Self {
        let inner = Inner {
            storage,
            work_root: work_root.into(),
            ffmpeg: options.ffmpeg.unwrap_or_else(|| PathBuf::from("ffmpeg")),
            stall_timeout: options.stall_timeout,
            permits: Arc::new(Semaphore::new(options.concurrency.max(1))),
            jobs: Mutex::new(HashMap::new()),
        };
        Self { inner: Arc::new(inner) }
    }

    /// Default options, work dirs under `<data>/transcode-work/`.
    pub fn for_data_dir(storage: Storage, data_dir: &DataDir) -> Self {
        Self::new(storage, work_root(data_dir), LocalFfmpegOptions::default())
    }

    fn start(&self, request: &TranscodeRequest) -> Result<String, TranscodeError> {
        validate(request)?;
        let (cancel, cancelled) = oneshot::channel();
        let id = {
            let mut jobs = self.inner.jobs.lock().unwrap();
            // A second submit of a job that is still running joins it: two runs would share a work dir.
            if let Some((id, _)) = jobs.iter().find(|(_, e)| e.job == request.job && is_active(&e.status)) {
                return Ok(id.clone());
            }
            let id = format!("local-{}", uuid::Uuid::new_v4());
            jobs.insert(
                id.clone(),
                Entry { job: request.job, status: TranscodeStatus::Submitted, cancel: Some(cancel) },
            );
            id
        };
        let inner = self.inner.clone();
        let request = request.clone();
        let task_id = id.clone();
        tokio::spawn(async move { run_job(inner, task_id, request, cancelled).await });
        Ok(id)
    }

    fn stop(&self, backend_job_id: &str) {
        let cancel = self.inner.jobs.lock().unwrap().get_mut(backend_job_id).and_then(|e| e.cancel.take());
        if let Some(cancel) = cancel {
            let _ = cancel.send(());
        }
    }

    fn lookup(&self, backend_job_id: &str, job: JobId) -> Result<TranscodeStatus, TranscodeError> {
        let jobs = self.inner.jobs.lock().unwrap();
        match jobs.get(backend_job_id) {
            Some(entry) if entry.job == job => Ok(entry.status.clone()),
            _ => Err(TranscodeError::UnknownJob { backend_job_id: backend_job_id.to_owned() }),
        }
    }
}

impl Transcoder for LocalFfmpeg {
    fn name(&self) -> &'static str {
        BACKEND_NAME
    }

    fn naming(&self) -> Naming {
        NAMING
    }

    fn submit<'a>(&'a self, request: &'a TranscodeRequest) -> BoxFuture<'a, Result<String, TranscodeError>> {
        async move { self.start(request) }.boxed()
    }

    fn status<'a>(
        &'a self,
        backend_job_id: &'a str,
        request: &'a TranscodeRequest,
    ) -> BoxFuture<'a, Result<TranscodeStatus, TranscodeError>> {
        async move { self.lookup(backend_job_id, request.job) }.boxed()
    }

    fn cancel<'a>(&'a self, backend_job_id: &'a str) -> BoxFuture<'a, Result<(), TranscodeError>> {
        async move {
            self.stop(backend_job_id);
            Ok(())
        }
        .boxed()
    }

    fn stop_all(&self) {
        let ids: Vec<String> = self.inner.jobs.lock().unwrap().keys().cloned().collect();
        for id in ids {
            self.stop(&id);
        }
    }

    /// A status is a lookup in memory: polling often costs nothing and ends each job
    /// up to a whole cloud poll interval (2 s) sooner.
    fn poll_interval(&self) -> Option<Duration> {
        Some(Duration::from_millis(200))
    }
}

fn is_active(status: &TranscodeStatus) -> bool {
    matches!(status, TranscodeStatus::Submitted | TranscodeStatus::Progressing { .. })
}

fn validate(request: &TranscodeRequest) -> Result<(), TranscodeError> {
    let reject = |message: String| Err(TranscodeError::Rejected { backend: BACKEND_NAME, message });
    let media = &request.media;
    if request.ladder.is_empty() {
        if !media.has_audio {
            return reject("the source has neither a picture to scale nor audio".into());
        }
        return Ok(());
    }
    if media.video.is_none() {
        return reject("a ladder was given for a source with no video".into());
    }
    let mut seen = std::collections::HashSet::new();
    for rung in &request.ladder {
        let safe =
            !rung.name.is_empty() && rung.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !safe || !seen.insert(rung.name.as_str()) {
            return reject(format!("rung name {:?} must be unique and only letters, digits, - and _", rung.name));
        }
        if rung.width < 2 || rung.height < 2 || rung.width % 2 != 0 || rung.height % 2 != 0 {
            return reject(format!("rung {} is {}x{}: H.264 needs even sizes", rung.name, rung.width, rung.height));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Running a job

#[derive(Debug)]
struct Failure {
    code: &'static str,
    message: String,
}

impl Failure {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }
}

impl Inner {
    fn set(&self, id: &str, status: TranscodeStatus) {
        if let Some(entry) = self.jobs.lock().unwrap().get_mut(id) {
            entry.status = status;
        }
    }
}

async fn run_job(inner: Arc<Inner>, id: String, request: TranscodeRequest, mut cancelled: oneshot::Receiver<()>) {
    let cancel_status = || TranscodeStatus::Error {
        code: Some(codes::CANCELLED.into()),
        message: "the transcode was cancelled".into(),
    };
    // The semaphore is never closed, so acquiring cannot fail.
    let _permit = tokio::select! {
        permit = inner.permits.clone().acquire_owned() => permit.ok(),
        Ok(()) = &mut cancelled => return inner.set(&id, cancel_status()),
    };
    let percent = (request.media.duration_secs > 0.0).then_some(0);
    inner.set(&id, TranscodeStatus::Progressing { percent });
    let dir = inner.work_root.join(request.job.to_string());
    // Cancelling drops the work, and with it ffmpeg (killed on drop) and any transfer in flight.
    let outcome = tokio::select! {
        outcome = AssertUnwindSafe(work(&inner, &id, &request, &dir)).catch_unwind() => Some(outcome),
        Ok(()) = &mut cancelled => None,
    };
    if let Err(err) = tokio::fs::remove_dir_all(&dir).await {
        if err.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!(job = %request.job, "could not remove the transcode work dir {}: {err}", dir.display());
        }
    }
    let status = match outcome {
        None => cancel_status(),
        Some(Ok(Ok(()))) => TranscodeStatus::Complete,
        Some(Ok(Err(failure))) => {
            tracing::warn!(job = %request.job, code = failure.code, "local transcode failed: {}", failure.message);
            TranscodeStatus::Error { code: Some(failure.code.to_owned()), message: failure.message }
        }
        Some(Err(_)) => TranscodeStatus::Error {
            code: Some(codes::INTERNAL.into()),
            message: "the local transcoder crashed on this file".into(),
        },
    };
    inner.set(&id, status);
}

/// The source's file name, for messages: `clip.mov` rather than a temp path.
fn source_name(source: &ObjectRef) -> String {
    source.key.rsplit('/').next().filter(|s| !s.is_empty()).unwrap_or(&source.key).to_owned()
}

/// `source.<ext>` with the original's extension when it is a plain one
/// (it helps ffmpeg with raw formats); no user text reaches the command line.
fn local_source_name(source: &ObjectRef) -> String {
    let name = source_name(source);
    match name.rsplit_once('.') {
        Some((_, ext)) if !ext.is_empty() && ext.len() <= 8 && ext.chars().all(|c| c.is_ascii_alphanumeric()) => {
            format!("source.{}", ext.to_ascii_lowercase())
        }
        _ => "source".into(),
    }
}

async fn work(inner: &Inner, id: &str, request: &TranscodeRequest, dir: &Path) -> Result<(), Failure> {
    let work_dir_err = |err: std::io::Error| {
        Failure::new(codes::WORK_DIR, format!("cannot prepare the work folder {}: {err}", dir.display()))
    };
    match tokio::fs::remove_dir_all(dir).await {
        Ok(()) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(work_dir_err(err)),
    }
    let out = Path::new("out");
    tokio::fs::create_dir_all(dir.join(out).join("hls")).await.map_err(work_dir_err)?;
    tokio::fs::create_dir_all(dir.join(out).join("thumbs")).await.map_err(work_dir_err)?;

    let local_name = local_source_name(&request.source);
    download(&inner.storage, &request.source, &dir.join(&local_name)).await?;

    let shown = source_name(&request.source);
    let media = &request.media;
    let duration = media.duration_secs;
    let audio_only = request.ladder.is_empty();

    // ffmpeg runs in the work dir with relative paths: the data dir's own path
    // may hold `%` or non-UTF-8 bytes that ffmpeg's name patterns would mangle.
    let args = ffmpeg_args(&local_name, media, &request.ladder, out);
    let run = run_ffmpeg(inner, dir, &args, |seconds| {
        if duration > 0.0 {
            let percent = (seconds / duration * 95.0).clamp(0.0, 95.0) as u8;
            inner.set(id, TranscodeStatus::Progressing { percent: Some(percent) });
        }
    })
    .await
    .map_err(|err| err.into_failure(&ffmpeg_input_arg(&local_name), &shown))?;

    // A file cut short with its index intact decodes "successfully" up to the cut.
    if let Some(read) = run.out_time {
        let slack = (duration * 0.1).max(2.0);
        if duration > 0.0 && read + slack < duration {
            let log = clean_ffmpeg_log(&run.log, &ffmpeg_input_arg(&local_name), &shown, 3);
            let mut message = format!("{shown} ends early: ffmpeg could read only {read:.1} s of its {duration:.1} s");
            if !log.is_empty() {
                message.push_str(&format!(" ({log})"));
            }
            return Err(Failure::new(codes::TRUNCATED, message));
        }
    }

    if !audio_only {
        make_poster(inner, dir, &local_name, &shown, request, out).await?;
    }
    // The source copy is no longer needed; free the space before uploading.
    let _ = tokio::fs::remove_file(dir.join(&local_name)).await;

    let out_abs = dir.join(out);
    check_outputs(&out_abs, request)?;
    inner.set(id, TranscodeStatus::Progressing { percent: Some(96) });
    upload_outputs(inner, id, &out_abs, &request.layout).await
}

async fn make_poster(
    inner: &Inner,
    dir: &Path,
    local_name: &str,
    shown: &str,
    request: &TranscodeRequest,
    out: &Path,
) -> Result<(), Failure> {
    let poster = dir.join(out).join("poster.jpg");
    let mut last_error = None;
    // If nothing decodes at 10 % (a damaged middle), fall back to the first frame.
    for at in [poster_time(request.media.duration_secs), 0.0] {
        let Some(args) = poster_args(local_name, &request.ladder, at, out) else { return Ok(()) };
        match run_ffmpeg(inner, dir, &args, |_| {}).await {
            Ok(_) if non_empty(&poster) => return Ok(()),
            Ok(_) => last_error = None,
            Err(err) => last_error = Some(err.into_failure(&ffmpeg_input_arg(local_name), shown)),
        }
        if at == 0.0 {
            break;
        }
    }
    Err(last_error.unwrap_or_else(|| {
        Failure::new(codes::OUTPUT_MISSING, format!("ffmpeg found no frame in {shown} to make a poster from"))
    }))
}

fn non_empty(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() > 0)
}

/// Everything the layout promises exists before anything is uploaded.
fn check_outputs(out: &Path, request: &TranscodeRequest) -> Result<(), Failure> {
    let missing = |what: &str| Err(Failure::new(codes::OUTPUT_MISSING, format!("ffmpeg finished but wrote no {what}")));
    if !non_empty(&out.join("hls/master.m3u8")) {
        return missing("master playlist");
    }
    let renditions: Vec<&str> = if request.ladder.is_empty() {
        vec![AUDIO_RENDITION]
    } else {
        request.ladder.iter().map(|r| r.name.as_str()).collect()
    };
    for name in renditions {
        if !non_empty(&out.join("hls").join(name).join("index.m3u8")) {
            return missing(&format!("{name} playlist"));
        }
    }
    if !request.ladder.is_empty() {
        if !non_empty(&out.join("thumbs/thumb-00001.jpg")) {
            return missing("thumbnails");
        }
        if !non_empty(&out.join("poster.jpg")) {
            return missing("poster");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::command::gop_frames;
    use super::s3_io::content_type;
    use super::*;
    use crate::model::{MediaInfo, OutputLayout, Rung, VideoInfo};
    use crate::transcode::ladder::ladder_for;

    fn media(width: u32, height: u32, frame_rate: f64, has_audio: bool) -> MediaInfo {
        MediaInfo {
            duration_secs: 30.0,
            video: Some(VideoInfo { width, height, frame_rate, codec: "h264".into(), bit_depth: 8 }),
            has_audio,
        }
    }

    fn value_after<'a>(args: &'a [String], flag: &str) -> &'a str {
        let i = args.iter().position(|a| a == flag).unwrap_or_else(|| panic!("{flag} missing from {args:?}"));
        &args[i + 1]
    }

    #[test]
    fn hls_command_for_a_full_ladder() {
        let media = media(1920, 1080, 29.97, true);
        let ladder = ladder_for(&media);
        let args = ffmpeg_args("clip.mov", &media, &ladder, Path::new("/w/out"));
        assert_eq!(value_after(&args, "-i"), "./clip.mov");
        assert_eq!(
            value_after(&args, "-var_stream_map"),
            "v:0,a:0,name:1080p v:1,a:1,name:720p v:2,a:2,name:540p v:3,a:3,name:360p"
        );
        let graph = value_after(&args, "-filter_complex");
        assert!(graph.starts_with("[0:V:0]fps=30000/1001,split=5[s0][s1][s2][s3][st];"), "{graph}");
        assert!(graph.contains("[s1]scale=1280:720,setsar=1,format=yuv420p[v1]"), "{graph}");
        assert!(
            graph.ends_with("[st]select='isnan(prev_selected_t)+gte(t-prev_selected_t,10)',scale=320:-2,setsar=1[th]"),
            "{graph}"
        );
        assert_eq!(value_after(&args, "-maxrate:v:0"), "8500000");
        assert_eq!(value_after(&args, "-maxrate:v:3"), "1500000");
        assert_eq!(value_after(&args, "-b:a:3"), "64000");
        assert_eq!(value_after(&args, "-g"), "60");
        assert_eq!(value_after(&args, "-force_key_frames"), "expr:gte(t,n_forced*2)");
        assert_eq!(value_after(&args, "-hls_time"), "6");
        assert_eq!(value_after(&args, "-hls_segment_filename"), "/w/out/hls/%v/seg_%05d.ts");
        assert_eq!(value_after(&args, "-master_pl_name"), "master.m3u8");
        assert_eq!(args.last().unwrap(), "/w/out/thumbs/thumb-%05d.jpg");
        assert_eq!(args.iter().filter(|a| *a == "0:a:0").count(), 4);
    }

    #[test]
    fn video_without_audio_and_audio_only() {
        let silent = media(640, 360, 25.0, false);
        let args = ffmpeg_args("a.mp4", &silent, &ladder_for(&silent), Path::new("out"));
        assert_eq!(value_after(&args, "-var_stream_map"), "v:0,name:360p");
        assert!(!args.iter().any(|a| a == "0:a:0" || a == "-c:a"));
        assert_eq!(value_after(&args, "-g"), "50");

        let audio = MediaInfo { duration_secs: 3.0, video: None, has_audio: true };
        let args = ffmpeg_args("a.m4a", &audio, &[], Path::new("out"));
        assert_eq!(value_after(&args, "-var_stream_map"), "a:0,name:audio");
        assert!(!args.iter().any(|a| a == "-filter_complex" || a.contains("thumb")));
        assert_eq!(args.last().unwrap(), "out/hls/%v/index.m3u8");
        assert!(poster_args("a.m4a", &[], 0.0, Path::new("out")).is_none());
    }

    #[test]
    fn frame_rates_are_constant_and_capped() {
        let rate = |fps: f64| output_frame_rate(&media(640, 360, fps, true));
        assert_eq!(rate(0.0), (30, 1), "unknown");
        assert_eq!(rate(f64::NAN), (30, 1));
        assert_eq!(rate(29.946), (30000, 1001), "VFR phone clip");
        assert_eq!(rate(29.99), (30, 1));
        assert_eq!(rate(25.0), (25, 1));
        assert_eq!(rate(23.976), (24000, 1001));
        assert_eq!(rate(120.0), (60, 1));
        assert_eq!(rate(119.88), (60000, 1001));
        assert_eq!(rate(240.0), (60, 1));
        assert_eq!(rate(100.0), (50, 1));
        assert_eq!(rate(7.5), (15, 2));
        assert_eq!(gop_frames((30000, 1001)), 60);
        assert_eq!(gop_frames((15, 2)), 15);
        assert_eq!(output_frame_rate(&MediaInfo { duration_secs: 1.0, video: None, has_audio: true }), (30, 1));
    }

    #[test]
    fn poster_at_ten_percent_at_the_top_rung_size() {
        assert_eq!(poster_time(60.0), 6.0);
        assert_eq!(poster_time(1.5), 0.0);
        let m = media(1280, 720, 30.0, true);
        let args = poster_args("s.mp4", &ladder_for(&m), 6.0, Path::new("out")).unwrap();
        assert_eq!(value_after(&args, "-ss"), "6.000");
        assert_eq!(value_after(&args, "-vf"), "scale=1280:720,setsar=1");
        assert_eq!(args.last().unwrap(), "out/poster.jpg");
    }

    #[test]
    fn rejects_requests_it_cannot_run() {
        let job = JobId::new();
        let layout = OutputLayout::for_job("media", job);
        let m = media(640, 360, 30.0, true);
        let request = |media: MediaInfo, ladder: Vec<Rung>| TranscodeRequest {
            job,
            source: ObjectRef::new("media", "k.mp4"),
            media,
            ladder,
            layout: layout.clone(),
        };
        assert!(validate(&request(m.clone(), ladder_for(&m))).is_ok());
        let mut bad = ladder_for(&m);
        bad[0].name = "360p v:1".into();
        assert!(validate(&request(m.clone(), bad)).is_err());
        let mut odd = ladder_for(&m);
        odd[0].width = 641;
        assert!(validate(&request(m.clone(), odd)).is_err());
        let nothing = MediaInfo { duration_secs: 1.0, video: None, has_audio: false };
        assert!(validate(&request(nothing, vec![])).is_err());
    }

    #[test]
    fn names_and_types() {
        assert_eq!(local_source_name(&ObjectRef::new("b", "jobs/x/original/A001 C002.MOV")), "source.mov");
        assert_eq!(local_source_name(&ObjectRef::new("b", "jobs/x/original/noext")), "source");
        assert_eq!(local_source_name(&ObjectRef::new("b", "weird.e x t")), "source");
        assert_eq!(source_name(&ObjectRef::new("b", "jobs/x/original/A001 C002.MOV")), "A001 C002.MOV");
        assert_eq!(content_type(Path::new("a/index.m3u8")), "application/vnd.apple.mpegurl");
        assert_eq!(content_type(Path::new("a/seg_00001.ts")), "video/mp2t");
        assert_eq!(content_type(Path::new("poster.jpg")), "image/jpeg");
    }
}
