//! Transcode overhead benchmark (issue #5): the local pipeline's transcode
//! stage against running the same ffmpeg commands by hand on the same clip.
//! Run it through `bench/transcode.sh`, which makes the clips and builds this
//! in release; the figures live in `bench/README.md`. It is a benchmark, not a
//! test: nothing here asserts on a time.
//!
//! ```text
//! transcode_overhead [--runs N] [--poll-ms MS] [--quiet SECS] [--work DIR] CLIP...
//! ```
//!
//! For each clip, `--runs` times (default 6), the two ways taking turns at
//! going first:
//! - **by hand**: `ffmpeg <ffmpeg_args>` then `ffmpeg <poster_args>` (exactly
//!   the arguments `LocalFfmpeg` uses, minus its `-progress pipe:1 -nostats`)
//!   on the clip file, into a fresh folder; wall time of the two.
//! - **pipeline**: `LocalFfmpeg::submit` of the clip stored in the embedded S3
//!   server's media bucket, then `status` every `--poll-ms` (default 5; 50
//!   while ffmpeg is mid-way and no phase can end) until `Complete`:
//!   source download, both ffmpeg runs, every output stored back through the
//!   S3 API. Phases are timed from outside (the work dir's source copy
//!   reaching full size; the status reaching 96 %, which the backend sets
//!   just before it starts storing outputs).
//! - **probe**: intake's reading of the local file (`intake::examine`: the
//!   ISO BMFF check and ffprobe), which the engine runs before a job exists,
//!   timed on its own after the transcodes. (Probing between runs made
//!   whichever transcode came next about 6 % slower.)
//!
//! Before each measurement: `sync`, so no run pays for the previous one's
//! writeback, then up to `--quiet` seconds of waiting for an idle second.
//! CPU time is read from `/proc`: this process (every thread, so the
//! in-process S3 server too) with its waited-for children (ffmpeg), and the
//! whole machine's busy time, so a run disturbed by other work shows up as
//! "other CPU".
//!
//! Prints progress on stderr and a Markdown report on stdout.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use streamdrop_core::model::{MediaInfo, OutputLayout, Rung};
use streamdrop_core::stack::LocalStackOptions;
use streamdrop_core::storage::Storage;
use streamdrop_core::transcode::local_ffmpeg::{self, create_output_dirs, ffmpeg_args, poster_args, poster_time};
use streamdrop_core::transcode::{
    ladder_for, probe, LocalFfmpeg, LocalFfmpegOptions, TranscodeRequest, TranscodeStatus, Transcoder,
};
use streamdrop_core::{DataDir, JobId, LocalStack, ObjectRef};

const USAGE: &str = "usage: transcode_overhead [--runs N] [--poll-ms MS] [--quiet SECS] [--work DIR] CLIP...";

struct Options {
    runs: usize,
    poll: Duration,
    quiet: Duration,
    work: PathBuf,
    clips: Vec<PathBuf>,
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options {
        // Even, so each way goes first in half the runs.
        runs: 6,
        poll: Duration::from_millis(5),
        quiet: Duration::from_secs(5),
        work: std::env::temp_dir(),
        clips: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--runs" => options.runs = value("--runs")?.parse().map_err(|e| format!("--runs: {e}"))?,
            "--poll-ms" => {
                options.poll =
                    Duration::from_millis(value("--poll-ms")?.parse().map_err(|e| format!("--poll-ms: {e}"))?)
            }
            "--quiet" => {
                options.quiet = Duration::from_secs_f64(value("--quiet")?.parse().map_err(|e| format!("--quiet: {e}"))?)
            }
            "--work" => options.work = PathBuf::from(value("--work")?),
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            flag if flag.starts_with('-') => return Err(format!("unknown option {flag}\n{USAGE}")),
            clip => options.clips.push(PathBuf::from(clip)),
        }
    }
    if options.clips.is_empty() || options.runs == 0 {
        return Err(USAGE.into());
    }
    Ok(options)
}

// ---------------------------------------------------------------------------
// CPU accounting from /proc

/// USER_HZ: Linux reports /proc times in 1/100 s on every architecture it runs on.
const TICKS_PER_SEC: f64 = 100.0;

/// CPU seconds of this process (all threads, so the in-process S3 server too)
/// plus its children that have been waited for (ffmpeg, ffprobe).
fn own_cpu() -> f64 {
    let (process, children) = own_cpu_parts();
    process + children
}

/// (this process, its waited-for children), CPU seconds.
fn own_cpu_parts() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the `(comm)`; utime, stime, cutime, cstime are the 14th-17th of the line.
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<f64> = rest.split_whitespace().map(|f| f.parse().unwrap_or(0.0)).collect();
    match fields.get(11..15) {
        Some(f) => ((f[0] + f[1]) / TICKS_PER_SEC, (f[2] + f[3]) / TICKS_PER_SEC),
        None => (0.0, 0.0),
    }
}

/// CPU seconds the whole machine has been busy (all cores, everyone).
fn machine_busy() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<f64> =
        stat.lines().next().unwrap_or("").split_whitespace().skip(1).map(|f| f.parse().unwrap_or(0.0)).collect();
    if fields.len() < 8 {
        return 0.0;
    }
    let idle = fields[3] + fields[4]; // idle + iowait
    (fields[..8].iter().sum::<f64>() - idle) / TICKS_PER_SEC
}

/// Same start for every measurement: earlier writes flushed, then (up to
/// `limit`) a second in which the machine was nearly idle, because other
/// people's builds on a 2-core box would otherwise decide the result.
async fn settle(limit: Duration) {
    let _ = Command::new("sync").status();
    let start = Instant::now();
    while start.elapsed() < limit {
        let before = machine_busy();
        tokio::time::sleep(Duration::from_secs(1)).await;
        if machine_busy() - before < 0.25 {
            return;
        }
    }
}

struct Meter {
    start: Instant,
    own: f64,
    busy: f64,
}

impl Meter {
    fn start() -> Self {
        Self { start: Instant::now(), own: own_cpu(), busy: machine_busy() }
    }

    /// (wall s, own CPU s, other CPU s)
    fn stop(&self) -> (f64, f64, f64) {
        let wall = self.start.elapsed().as_secs_f64();
        let own = own_cpu() - self.own;
        let other = (machine_busy() - self.busy - own).max(0.0);
        (wall, own, other)
    }
}

// ---------------------------------------------------------------------------
// The two ways

#[derive(Debug, Default, Clone)]
struct Sample {
    wall: f64,
    cpu: f64,
    other_cpu: f64,
}

#[derive(Debug, Default, Clone)]
struct HandRun {
    total: Sample,
    hls: f64,
    poster: f64,
}

#[derive(Debug, Default, Clone)]
struct PipelineRun {
    total: Sample,
    /// Wall seconds of each phase.
    download: f64,
    ffmpeg: f64,
    upload: f64,
    /// CPU seconds of each phase. No child runs while the source downloads or the
    /// outputs are stored, and both ffmpeg runs have been waited for by the time the
    /// status says 96 %, so their CPU lands in the ffmpeg phase.
    download_cpu: f64,
    ffmpeg_cpu: f64,
    upload_cpu: f64,
    /// The part of `ffmpeg_cpu` spent in this process rather than in ffmpeg.
    ffmpeg_phase_process_cpu: f64,
}

fn run_ffmpeg(args: &[String]) -> Result<(), String> {
    let out =
        Command::new("ffmpeg").args(args).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()).output();
    match out {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(format!("ffmpeg failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr).trim())),
        Err(err) => Err(format!("cannot run ffmpeg: {err}")),
    }
}

/// The two commands a job runs, typed by hand: on the clip where it lies, into `out`.
fn by_hand(clip: &Path, media: &MediaInfo, ladder: &[Rung], out: &Path) -> Result<HandRun, String> {
    let input = clip.to_str().ok_or("the clip's path must be UTF-8")?;
    create_output_dirs(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let hls = ffmpeg_args(input, media, ladder, out);
    let poster = poster_args(input, ladder, poster_time(media.duration_secs), out).ok_or("the clip has no video")?;

    let meter = Meter::start();
    run_ffmpeg(&hls)?;
    let hls_secs = meter.start.elapsed().as_secs_f64();
    run_ffmpeg(&poster)?;
    let (wall, cpu, other_cpu) = meter.stop();

    if !out.join("hls/master.m3u8").is_file() || !out.join("poster.jpg").is_file() {
        return Err(format!("ffmpeg wrote no master playlist or poster in {}", out.display()));
    }
    Ok(HandRun { total: Sample { wall, cpu, other_cpu }, hls: hls_secs, poster: wall - hls_secs })
}

/// `source.<ext>`: the name LocalFfmpeg gives its copy of the source in the work dir.
fn local_source_name(source: &ObjectRef) -> String {
    let name = source.key.rsplit('/').next().unwrap_or(&source.key);
    match name.rsplit_once('.') {
        Some((_, ext)) if !ext.is_empty() && ext.len() <= 8 && ext.chars().all(|c| c.is_ascii_alphanumeric()) => {
            format!("source.{}", ext.to_ascii_lowercase())
        }
        _ => "source".into(),
    }
}

/// Poll interval while ffmpeg is mid-way, when no phase can end.
const MID_TRANSCODE_POLL: Duration = Duration::from_millis(50);

/// A moment in a pipeline run: seconds since submit, and CPU seconds so far.
#[derive(Clone, Copy)]
struct Mark {
    at: f64,
    cpu: f64,
    process_cpu: f64,
}

struct Pipeline<'a> {
    storage: &'a Storage,
    transcoder: &'a LocalFfmpeg,
    work_root: &'a Path,
    poll: Duration,
}

impl Pipeline<'_> {
    /// From submit until `Complete`, as the engine waits for it but with a short poll.
    async fn run(
        &self,
        source: &ObjectRef,
        source_size: u64,
        media: &MediaInfo,
        ladder: &[Rung],
    ) -> Result<PipelineRun, String> {
        let job = JobId::new();
        let layout = OutputLayout::for_job(&self.storage.buckets.media, job);
        let request = TranscodeRequest {
            job,
            source: source.clone(),
            media: media.clone(),
            ladder: ladder.to_vec(),
            layout: layout.clone(),
        };
        let copy = self.work_root.join(job.to_string()).join(local_source_name(source));

        let meter = Meter::start();
        let mark = || {
            let (process, children) = own_cpu_parts();
            Mark { at: meter.start.elapsed().as_secs_f64(), cpu: process + children, process_cpu: process }
        };
        let submitted = mark();
        let id = self.transcoder.submit(&request).await.map_err(|e| e.to_string())?;
        let mut downloaded = None;
        let mut storing = None;
        loop {
            let status = self.transcoder.status(&id, &request).await.map_err(|e| e.to_string())?;
            let mut near_a_boundary = downloaded.is_none();
            match status {
                TranscodeStatus::Complete => break,
                TranscodeStatus::Error { code, message } => {
                    return Err(format!("transcode failed ({code:?}): {message}"))
                }
                // 96 is set once both ffmpeg runs are done and checked, right before the first PutObject.
                TranscodeStatus::Progressing { percent: Some(p) } if p >= 96 && storing.is_none() => {
                    storing = Some(mark())
                }
                // ffmpeg's progress maps to 0-95 %: from 90 on, its end (then the poster, then storing) is near.
                TranscodeStatus::Progressing { percent: Some(p) } if p >= 90 => near_a_boundary = true,
                _ => {}
            }
            // A stat per poll, only until the copy is whole: cheap next to ffmpeg.
            if downloaded.is_none() && std::fs::metadata(&copy).is_ok_and(|m| m.len() == source_size) {
                downloaded = Some(mark());
            }
            // Mid-transcode nothing is measured, so this process wakes less and takes less from ffmpeg.
            tokio::time::sleep(if near_a_boundary { self.poll } else { self.poll.max(MID_TRANSCODE_POLL) }).await;
        }
        let done = mark();
        let (wall, cpu, other_cpu) = meter.stop();

        let objects = self.list(&layout.prefix).await?;
        if !objects.iter().any(|(key, _)| *key == layout.object(local_ffmpeg::NAMING.master).key) {
            return Err(format!("no master playlist under {}", layout.prefix));
        }
        self.delete(&layout.bucket, objects).await?;

        // A boundary missed by a long --poll-ms: that phase counts as zero.
        let downloaded = downloaded.unwrap_or(submitted);
        let storing = storing.unwrap_or(done);
        Ok(PipelineRun {
            total: Sample { wall, cpu, other_cpu },
            download: downloaded.at - submitted.at,
            ffmpeg: storing.at - downloaded.at,
            upload: done.at - storing.at,
            download_cpu: downloaded.cpu - submitted.cpu,
            ffmpeg_cpu: storing.cpu - downloaded.cpu,
            upload_cpu: done.cpu - storing.cpu,
            ffmpeg_phase_process_cpu: storing.process_cpu - downloaded.process_cpu,
        })
    }

    async fn list(&self, prefix: &str) -> Result<Vec<(String, i64)>, String> {
        let mut objects = Vec::new();
        let mut pages = self
            .storage
            .client
            .list_objects_v2()
            .bucket(&self.storage.buckets.media)
            .prefix(format!("{prefix}/"))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| aws_sdk_s3::error::DisplayErrorContext(&e).to_string())?;
            for object in page.contents() {
                objects.push((object.key().unwrap_or_default().to_owned(), object.size().unwrap_or(0)));
            }
        }
        Ok(objects)
    }

    /// Removes a run's outputs, so every run writes into the same empty state.
    async fn delete(&self, bucket: &str, objects: Vec<(String, i64)>) -> Result<(), String> {
        for (key, _) in objects {
            self.storage
                .client
                .delete_object()
                .bucket(bucket)
                .key(&key)
                .send()
                .await
                .map_err(|e| aws_sdk_s3::error::DisplayErrorContext(&e).to_string())?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Report

fn median(values: impl IntoIterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.into_iter().collect();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

struct ClipResult {
    name: String,
    description: String,
    source_bytes: u64,
    output_files: usize,
    output_bytes: u64,
    hand: Vec<HandRun>,
    pipeline: Vec<PipelineRun>,
    probe: Vec<f64>,
}

fn mb(bytes: u64) -> String {
    format!("{:.0} MB", bytes as f64 / 1e6)
}

fn percent(over: f64, base: f64) -> String {
    format!("{:+.1} %", (over / base - 1.0) * 100.0)
}

fn list(values: impl IntoIterator<Item = f64>) -> String {
    values.into_iter().map(|v| format!("{v:.2}")).collect::<Vec<_>>().join(", ")
}

fn report(results: &[ClipResult], options: &Options) -> String {
    let mut s = String::new();
    // "Outside ffmpeg" (download + storing outputs) is the part of the overhead that ffmpeg's
    // own run-to-run noise cannot hide or fake: on a shared box it is the steadier figure.
    let _ = writeln!(
        s,
        "| clip | runs | by hand s | pipeline s | overhead | outside ffmpeg s | outside ffmpeg | probe s |"
    );
    let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---:|---:|");
    for r in results {
        let hand = median(r.hand.iter().map(|h| h.total.wall));
        let pipe = median(r.pipeline.iter().map(|p| p.total.wall));
        let outside = median(r.pipeline.iter().map(|p| p.download + p.upload));
        let _ = writeln!(
            s,
            "| {} | {} | {hand:.2} | {pipe:.2} | {} | {outside:.2} | {} | {:.2} |",
            r.name,
            r.hand.len(),
            percent(pipe, hand),
            percent(hand + outside, hand),
            median(r.probe.iter().copied()),
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "Where the pipeline's time goes (medians, seconds):");
    let _ = writeln!(s);
    let _ = writeln!(s, "| clip | source | outputs | download | ffmpeg (HLS + poster) | store outputs | by hand: HLS | by hand: poster |");
    let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---:|---:|");
    for r in results {
        let _ = writeln!(
            s,
            "| {} | {} | {} files, {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
            r.name,
            mb(r.source_bytes),
            r.output_files,
            mb(r.output_bytes),
            median(r.pipeline.iter().map(|p| p.download)),
            median(r.pipeline.iter().map(|p| p.ffmpeg)),
            median(r.pipeline.iter().map(|p| p.upload)),
            median(r.hand.iter().map(|h| h.hls)),
            median(r.hand.iter().map(|h| h.poster)),
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "CPU (medians, CPU-seconds; \"other\" = the rest of the machine during the run):");
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "| clip | by hand CPU | pipeline CPU | CPU overhead | pipeline: download | pipeline: ffmpeg | pipeline: store outputs | by hand other | pipeline other |"
    );
    let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in results {
        let hand = median(r.hand.iter().map(|h| h.total.cpu));
        let pipe = median(r.pipeline.iter().map(|p| p.total.cpu));
        let _ = writeln!(
            s,
            "| {} | {hand:.2} | {pipe:.2} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
            r.name,
            percent(pipe, hand),
            median(r.pipeline.iter().map(|p| p.download_cpu)),
            median(r.pipeline.iter().map(|p| p.ffmpeg_cpu)),
            median(r.pipeline.iter().map(|p| p.upload_cpu)),
            median(r.hand.iter().map(|h| h.total.other_cpu)),
            median(r.pipeline.iter().map(|p| p.total.other_cpu)),
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "Clips:");
    let _ = writeln!(s);
    for r in results {
        let _ = writeln!(s, "- `{}`: {}", r.name, r.description);
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "<details><summary>Every run</summary>");
    let _ = writeln!(s);
    let _ = writeln!(s, "Runs alternate: odd runs time by hand first, even runs the pipeline first.");
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "| clip | what | seconds of each run (in run order) | CPU s of each run | other CPU s of each run |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|");
    for r in results {
        let (hand, pipe) = (&r.hand, &r.pipeline);
        let _ = writeln!(
            s,
            "| {} | by hand | {} | {} | {} |",
            r.name,
            list(hand.iter().map(|h| h.total.wall)),
            list(hand.iter().map(|h| h.total.cpu)),
            list(hand.iter().map(|h| h.total.other_cpu))
        );
        let _ = writeln!(
            s,
            "| {} | pipeline | {} | {} | {} |",
            r.name,
            list(pipe.iter().map(|p| p.total.wall)),
            list(pipe.iter().map(|p| p.total.cpu)),
            list(pipe.iter().map(|p| p.total.other_cpu))
        );
        let _ = writeln!(
            s,
            "| {} | pipeline: ffmpeg phase | {} | {} | |",
            r.name,
            list(pipe.iter().map(|p| p.ffmpeg)),
            list(pipe.iter().map(|p| p.ffmpeg_cpu))
        );
        let _ = writeln!(s, "| {} | probe | {} | | |", r.name, list(r.probe.iter().copied()));
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "</details>");
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "Status polled every {} ms ({} ms while ffmpeg is mid-way); up to {} s of waiting for an idle second before each measurement.",
        options.poll.as_millis(),
        options.poll.max(MID_TRANSCODE_POLL).as_millis(),
        options.quiet.as_secs_f64()
    );
    s
}

/// `1920x1080 h264 30 fps, 60.0 s, audio` from the probe.
fn describe(media: &MediaInfo, ladder: &[Rung]) -> String {
    let video = media
        .video
        .as_ref()
        .map_or("no video".to_owned(), |v| format!("{}x{} {} {:.3} fps", v.width, v.height, v.codec, v.frame_rate));
    let rungs: Vec<&str> = ladder.iter().map(|r| r.name.as_str()).collect();
    format!(
        "{video}, {:.1} s, {}; ladder {}",
        media.duration_secs,
        if media.has_audio { "with audio" } else { "no audio" },
        rungs.join(" + ")
    )
}

fn dir_size(dir: &Path) -> (usize, u64) {
    let mut files = 0;
    let mut bytes = 0;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            match entry.metadata() {
                Ok(m) if m.is_dir() => pending.push(entry.path()),
                Ok(m) => {
                    files += 1;
                    bytes += m.len();
                }
                Err(_) => {}
            }
        }
    }
    (files, bytes)
}

// ---------------------------------------------------------------------------

#[tokio::main]
async fn main() {
    let options = match parse_args() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    if let Err(message) = run(&options).await {
        eprintln!("transcode_overhead: {message}");
        std::process::exit(1);
    }
}

async fn run(options: &Options) -> Result<(), String> {
    std::fs::create_dir_all(&options.work).map_err(|e| format!("{}: {e}", options.work.display()))?;
    // Both ways write under one folder, so they share a filesystem.
    let tmp =
        tempfile::Builder::new().prefix("transcode-overhead-").tempdir_in(&options.work).map_err(|e| e.to_string())?;
    let data_dir = DataDir::at(tmp.path().join("data")).map_err(|e| e.to_string())?;
    let stack = LocalStack::start(&data_dir, LocalStackOptions::default()).await.map_err(|e| e.to_string())?;
    let storage = stack.storage().clone();
    let work_root = local_ffmpeg::work_root(&data_dir);
    let transcoder = LocalFfmpeg::new(storage.clone(), &work_root, LocalFfmpegOptions::default());
    let pipeline = Pipeline { storage: &storage, transcoder: &transcoder, work_root: &work_root, poll: options.poll };

    let mut results = Vec::new();
    for clip in &options.clips {
        let name =
            clip.file_name().and_then(|n| n.to_str()).ok_or(format!("{}: not a file name", clip.display()))?.to_owned();
        let clip = std::fs::canonicalize(clip).map_err(|e| format!("{}: {e}", clip.display()))?;
        let media = probe(&clip).await.map_err(|e| e.to_string())?;
        let ladder = ladder_for(&media);
        let source_bytes = std::fs::metadata(&clip).map_err(|e| e.to_string())?.len();

        // Stored once, where the engine keeps originals; every run transcodes this object.
        let source = ObjectRef::new(&storage.buckets.media, format!("jobs/bench-source/original/{name}"));
        let body = ByteStream::from_path(&clip).await.map_err(|e| e.to_string())?;
        storage
            .client
            .put_object()
            .bucket(&source.bucket)
            .key(&source.key)
            .body(body)
            .send()
            .await
            .map_err(|e| aws_sdk_s3::error::DisplayErrorContext(&e).to_string())?;

        let mut result = ClipResult {
            name: name.clone(),
            description: describe(&media, &ladder),
            source_bytes,
            output_files: 0,
            output_bytes: 0,
            hand: Vec::new(),
            pipeline: Vec::new(),
            probe: Vec::new(),
        };
        eprintln!("{name}: {} ({})", result.description, mb(source_bytes));
        for run in 0..options.runs {
            let hand_first = run % 2 == 0;
            for hand_now in [hand_first, !hand_first] {
                settle(options.quiet).await;
                if hand_now {
                    let out = tmp.path().join(format!("by-hand-{run}"));
                    let r = by_hand(&clip, &media, &ladder, &out)?;
                    (result.output_files, result.output_bytes) = dir_size(&out);
                    let _ = std::fs::remove_dir_all(&out);
                    eprintln!(
                        "[{name} #{}] by hand   {:7.2} s  (HLS {:.2}, poster {:.2})  cpu {:.1}  other cpu {:.1}",
                        run + 1,
                        r.total.wall,
                        r.hls,
                        r.poster,
                        r.total.cpu,
                        r.total.other_cpu
                    );
                    result.hand.push(r);
                } else {
                    let r = pipeline.run(&source, source_bytes, &media, &ladder).await?;
                    eprintln!(
                        "[{name} #{}] pipeline  {:7.2} s  (download {:.2}, ffmpeg {:.2}, store {:.2})  cpu {:.1} ({:.1} + {:.1} [this process {:.2}] + {:.1})  other cpu {:.1}",
                        run + 1,
                        r.total.wall,
                        r.download,
                        r.ffmpeg,
                        r.upload,
                        r.total.cpu,
                        r.download_cpu,
                        r.ffmpeg_cpu,
                        r.ffmpeg_phase_process_cpu,
                        r.upload_cpu,
                        r.total.other_cpu
                    );
                    result.pipeline.push(r);
                }
            }
        }
        // Intake's reading of the file, as the engine does before a job exists. After the
        // transcodes: a probe between runs made the transcode after it slower (bench/README.md).
        for _ in 0..options.runs {
            settle(options.quiet).await;
            let start = Instant::now();
            streamdrop_core::intake::examine(&clip).await.map_err(|e| e.message())?;
            result.probe.push(start.elapsed().as_secs_f64());
        }
        storage
            .client
            .delete_object()
            .bucket(&source.bucket)
            .key(&source.key)
            .send()
            .await
            .map_err(|e| aws_sdk_s3::error::DisplayErrorContext(&e).to_string())?;
        results.push(result);
    }
    stack.shutdown().await;
    print!("{}", report(&results, options));
    Ok(())
}
