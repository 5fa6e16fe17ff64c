//! The local ffmpeg transcoder with real ffmpeg against the real embedded S3
//! server: clips made here with ffmpeg's test sources go into the media
//! bucket, come out as HLS under the job's layout, and are checked with ffprobe.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use serde_json::Value;
use streamdrop_core::model::{MediaInfo, OutputLayout, VideoInfo};
use streamdrop_core::stack::LocalStackOptions;
use streamdrop_core::transcode::local_ffmpeg::{self, codes};
use streamdrop_core::transcode::{
    ladder_for, probe, LocalFfmpeg, LocalFfmpegOptions, ProbeError, TranscodeError, TranscodeRequest, TranscodeStatus,
    Transcoder,
};
use streamdrop_core::{DataDir, JobId, LocalStack, ObjectRef};

/// How long one job may take before the test calls it a hang.
const JOB_DEADLINE: Duration = Duration::from_secs(120);

struct Fixture {
    tmp: tempfile::TempDir,
    data_dir: DataDir,
    stack: LocalStack,
    transcoder: LocalFfmpeg,
}

async fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("clips")).unwrap();
    let data_dir = DataDir::at(tmp.path().join("data")).unwrap();
    let stack = LocalStack::start(&data_dir, LocalStackOptions::default()).await.unwrap();
    let transcoder =
        LocalFfmpeg::new(stack.storage().clone(), local_ffmpeg::work_root(&data_dir), LocalFfmpegOptions::default());
    Fixture { tmp, data_dir, stack, transcoder }
}

impl Fixture {
    fn clips(&self) -> PathBuf {
        self.tmp.path().join("clips")
    }

    /// Makes `name` with ffmpeg from `args` (inputs and encoding options).
    fn clip(&self, name: &str, args: &[&str]) -> PathBuf {
        let path = self.clips().join(name);
        let out = Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error", "-y"])
            .args(args)
            .arg(&path)
            .output()
            .unwrap();
        assert!(out.status.success(), "making {name}: {}", String::from_utf8_lossy(&out.stderr));
        path
    }

    /// A testsrc + sine clip, H.264/AAC.
    fn av_clip(&self, name: &str, size: &str, seconds: u32) -> PathBuf {
        let video = format!("testsrc=size={size}:rate=30");
        let t = seconds.to_string();
        self.clip(
            name,
            &[
                "-f",
                "lavfi",
                "-i",
                &video,
                "-f",
                "lavfi",
                "-i",
                "sine=frequency=440:sample_rate=48000",
                "-t",
                &t,
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-pix_fmt",
                "yuv420p",
                "-c:a",
                "aac",
            ],
        )
    }

    async fn put(&self, path: &Path) -> ObjectRef {
        let storage = self.stack.storage();
        let name = path.file_name().unwrap().to_str().unwrap();
        let source = ObjectRef::new(&storage.buckets.media, format!("jobs/src/original/{name}"));
        let body = ByteStream::from_path(path).await.unwrap();
        storage.client.put_object().bucket(&source.bucket).key(&source.key).body(body).send().await.unwrap();
        source
    }

    fn request(&self, source: ObjectRef, media: MediaInfo) -> TranscodeRequest {
        let job = JobId::new();
        TranscodeRequest {
            job,
            source,
            ladder: ladder_for(&media),
            media,
            layout: OutputLayout::for_job(&self.stack.storage().buckets.media, job),
        }
    }

    /// Probes the clip, stores it, and builds the request the pipeline would.
    async fn prepare(&self, path: &Path) -> TranscodeRequest {
        let media = probe(path).await.unwrap();
        let source = self.put(path).await;
        self.request(source, media)
    }

    /// Submits and polls until the job settles; panics if it takes longer than [`JOB_DEADLINE`].
    async fn run(&self, request: &TranscodeRequest) -> (TranscodeStatus, Vec<TranscodeStatus>) {
        let id = self.transcoder.submit(request).await.unwrap();
        assert!(id.starts_with("local-"), "{id}");
        self.settle(&id, request).await
    }

    async fn settle(&self, id: &str, request: &TranscodeRequest) -> (TranscodeStatus, Vec<TranscodeStatus>) {
        settle(&self.transcoder, id, request, JOB_DEADLINE).await
    }

    /// Downloads everything under the job's prefix; returns relative key → content type.
    async fn download(&self, layout: &OutputLayout, dest: &Path) -> BTreeMap<String, String> {
        let client = &self.stack.storage().client;
        let listed =
            client.list_objects_v2().bucket(&layout.bucket).prefix(format!("{}/", layout.prefix)).send().await.unwrap();
        let mut found = BTreeMap::new();
        for object in listed.contents() {
            let key = object.key().unwrap();
            let rel = key.strip_prefix(&format!("{}/", layout.prefix)).unwrap().to_owned();
            let got = client.get_object().bucket(&layout.bucket).key(key).send().await.unwrap();
            let content_type = got.content_type().unwrap_or_default().to_owned();
            let bytes = got.body.collect().await.unwrap().into_bytes();
            let path = dest.join(&rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &bytes).unwrap();
            found.insert(rel, content_type);
        }
        assert!(!listed.is_truncated().unwrap_or(false));
        found
    }

    fn assert_work_dir_clean(&self) {
        let root = local_ffmpeg::work_root(&self.data_dir);
        let left: Vec<_> =
            std::fs::read_dir(&root).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
        assert!(left.is_empty(), "work dirs left behind: {left:?}");
    }
}

/// Polls until the job is complete or failed; returns the last status and every distinct one seen.
/// Panics after `deadline`: a job that never settles is a hang.
async fn settle(
    transcoder: &LocalFfmpeg,
    id: &str,
    request: &TranscodeRequest,
    deadline: Duration,
) -> (TranscodeStatus, Vec<TranscodeStatus>) {
    let mut seen = Vec::new();
    let outcome = tokio::time::timeout(deadline, async {
        loop {
            let status = transcoder.status(id, request).await.unwrap();
            if seen.last() != Some(&status) {
                seen.push(status.clone());
            }
            if matches!(status, TranscodeStatus::Complete | TranscodeStatus::Error { .. }) {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    let status = outcome.unwrap_or_else(|_| panic!("job {id} did not settle within {deadline:?}; statuses: {seen:?}"));
    (status, seen)
}

fn ffprobe(path: &Path, entries: &str) -> Value {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-print_format", "json", "-show_entries", entries])
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success(), "ffprobe {}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Presentation times of the video packets.
fn video_pts(path: &Path) -> Vec<f64> {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-print_format", "json", "-show_entries", "packet=pts_time"])
        .arg(path)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["packets"].as_array().unwrap().iter().filter_map(|p| p["pts_time"].as_str()?.parse().ok()).collect()
}

/// (codec, width, height, pix_fmt, profile) of the video stream.
fn video_of(path: &Path) -> (String, u64, u64, String, String) {
    let v = ffprobe(path, "stream=codec_type,codec_name,width,height,pix_fmt,profile");
    let streams = v["streams"].as_array().unwrap();
    let s = streams
        .iter()
        .find(|s| s["codec_type"] == "video")
        .unwrap_or_else(|| panic!("no video in {}: {v}", path.display()));
    let text = |k: &str| s[k].as_str().unwrap_or_default().to_owned();
    (text("codec_name"), s["width"].as_u64().unwrap(), s["height"].as_u64().unwrap(), text("pix_fmt"), text("profile"))
}

fn codec_types(path: &Path) -> Vec<String> {
    let v = ffprobe(path, "stream=codec_type");
    v["streams"].as_array().unwrap().iter().map(|s| s["codec_type"].as_str().unwrap().to_owned()).collect()
}

fn is_jpeg(path: &Path) -> bool {
    let bytes = std::fs::read(path).unwrap();
    bytes.starts_with(&[0xFF, 0xD8, 0xFF]) && bytes.ends_with(&[0xFF, 0xD9])
}

/// Decodes the whole presentation through the master playlist; ffmpeg must report no error.
fn assert_plays(master: &Path) {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-v", "error", "-i"])
        .arg(master)
        .args(["-map", "0", "-f", "null", "-"])
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{} does not play cleanly: {}",
        master.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn stream_infs(master: &str) -> Vec<&str> {
    master.lines().filter(|l| l.starts_with("#EXT-X-STREAM-INF:")).collect()
}

fn segments(playlist: &Path) -> Vec<String> {
    std::fs::read_to_string(playlist)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

fn assert_complete(status: &TranscodeStatus, what: &str) {
    assert_eq!(*status, TranscodeStatus::Complete, "{what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn landscape_clip_becomes_hls_with_thumbnails_and_poster() {
    let started = Instant::now();
    let fx = fixture().await;
    let clip = fx.av_clip("A001 C001.mp4", "640x360", 8);
    let request = fx.prepare(&clip).await;
    assert_eq!(request.ladder.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["360p"]);

    let (status, seen) = fx.run(&request).await;
    assert_complete(&status, "landscape clip");
    assert!(seen.iter().any(|s| matches!(s, TranscodeStatus::Progressing { .. })), "{seen:?}");
    let percents: Vec<u8> = seen
        .iter()
        .filter_map(|s| match s {
            TranscodeStatus::Progressing { percent } => *percent,
            _ => None,
        })
        .collect();
    assert!(percents.windows(2).all(|w| w[0] <= w[1]) && percents.iter().all(|p| *p < 100), "{percents:?}");
    fx.assert_work_dir_clean();

    let out = fx.tmp.path().join("out");
    let files = fx.download(&request.layout, &out).await;
    let names: Vec<&str> = files.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "hls/360p/index.m3u8",
            "hls/360p/seg_00000.ts",
            "hls/360p/seg_00001.ts",
            "hls/master.m3u8",
            "poster.jpg",
            "thumbs/thumb-00001.jpg"
        ],
    );
    for (name, content_type) in &files {
        let expected = match name.rsplit('.').next().unwrap() {
            "m3u8" => "application/vnd.apple.mpegurl",
            "ts" => "video/mp2t",
            "jpg" => "image/jpeg",
            other => panic!("unexpected output {other}"),
        };
        assert_eq!(content_type, expected, "{name}");
    }

    let master = std::fs::read_to_string(out.join("hls/master.m3u8")).unwrap();
    let infs = stream_infs(&master);
    assert_eq!(infs.len(), 1, "{master}");
    assert!(infs[0].contains("BANDWIDTH=") && infs[0].contains("RESOLUTION=640x360"), "{master}");
    assert!(infs[0].contains("CODECS=\"avc1.") && infs[0].contains("mp4a.40.2"), "{master}");
    assert!(master.contains("360p/index.m3u8"), "{master}");
    let variant = std::fs::read_to_string(out.join("hls/360p/index.m3u8")).unwrap();
    assert!(variant.contains("#EXT-X-PLAYLIST-TYPE:VOD") && variant.contains("#EXT-X-ENDLIST"), "{variant}");
    assert!(variant.contains("#EXTINF:6.000000,"), "6 s segments: {variant}");
    assert_eq!(segments(&out.join("hls/360p/index.m3u8")), ["seg_00000.ts", "seg_00001.ts"]);
    for seg in ["seg_00000.ts", "seg_00001.ts"] {
        let path = out.join("hls/360p").join(seg);
        assert_eq!(video_of(&path), ("h264".into(), 640, 360, "yuv420p".into(), "High".into()), "{seg}");
        assert_eq!(codec_types(&path), ["video", "audio"], "{seg}");
    }
    assert_plays(&out.join("hls/master.m3u8"));

    for image in ["poster.jpg", "thumbs/thumb-00001.jpg"] {
        assert!(is_jpeg(&out.join(image)), "{image} is not a JPEG");
    }
    assert_eq!(video_of(&out.join("poster.jpg")).1, 640);
    assert_eq!(video_of(&out.join("thumbs/thumb-00001.jpg")).1, 320);

    // A resubmission (after a restart, say) runs again and overwrites; the original stays.
    let master_key = request.layout.object(local_ffmpeg::NAMING.master);
    let before =
        fx.stack.storage().client.head_object().bucket(&master_key.bucket).key(&master_key.key).send().await.unwrap();
    let (again, _) = fx.run(&request).await;
    assert_complete(&again, "resubmitted landscape clip");
    let again_files = fx.download(&request.layout, &fx.tmp.path().join("again")).await;
    assert_eq!(again_files, files);
    let after =
        fx.stack.storage().client.head_object().bucket(&master_key.bucket).key(&master_key.key).send().await.unwrap();
    assert!(after.last_modified() >= before.last_modified());
    fx.stack
        .storage()
        .client
        .head_object()
        .bucket(&request.source.bucket)
        .key(&request.source.key)
        .send()
        .await
        .unwrap();
    fx.assert_work_dir_clean();
    eprintln!("landscape: {:.1} s", started.elapsed().as_secs_f64());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hd_clip_gets_720p_540p_and_360p() {
    let started = Instant::now();
    let fx = fixture().await;
    let clip = fx.av_clip("hd.mp4", "1280x720", 4);
    let request = fx.prepare(&clip).await;
    let (status, _) = fx.run(&request).await;
    assert_complete(&status, "720p clip");

    let out = fx.tmp.path().join("out");
    fx.download(&request.layout, &out).await;
    let master = std::fs::read_to_string(out.join("hls/master.m3u8")).unwrap();
    let infs = stream_infs(&master);
    for (i, (name, w, h)) in [("720p", 1280, 720), ("540p", 960, 540), ("360p", 640, 360)].into_iter().enumerate() {
        assert!(infs[i].contains(&format!("RESOLUTION={w}x{h}")), "{master}");
        let playlist = out.join("hls").join(name).join("index.m3u8");
        for seg in segments(&playlist) {
            let got = video_of(&playlist.parent().unwrap().join(&seg));
            assert_eq!((got.1, got.2), (w, h), "{name}/{seg}");
        }
    }
    assert_eq!(infs.len(), 3, "{master}");
    assert_eq!(video_of(&out.join("poster.jpg")).1, 1280, "the poster is at the top rung's size");
    eprintln!("hd: {:.1} s", started.elapsed().as_secs_f64());
}

/// Portrait, rotated, odd-sized, VFR and 10-bit HEVC sources, on one server,
/// queued together through the one-at-a-time transcoder.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portrait_rotated_odd_vfr_and_10_bit_hevc_sources_complete() {
    let started = Instant::now();
    let fx = fixture().await;
    let sine = ["-f", "lavfi", "-i", "sine=sample_rate=48000"];
    let h264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"];
    fn with<'a>(parts: &[&[&'a str]]) -> Vec<&'a str> {
        parts.concat()
    }

    /// Width and height.
    type Size = (u64, u64);
    // (name, clip, probed display size, output size)
    let mut cases: Vec<(&str, PathBuf, Size, Size)> = Vec::new();
    let portrait = fx.clip(
        "portrait.mp4",
        &with(&[&["-f", "lavfi", "-i", "testsrc=size=360x640:rate=30"], &sine, &["-t", "3"], &h264]),
    );
    cases.push(("portrait", portrait, (360, 640), (360, 640)));

    // A phone held upright: stored landscape, shown portrait through the display matrix.
    let landscape = fx.av_clip("stored-landscape.mp4", "640x360", 3);
    let rotated =
        fx.clip("rotated.mp4", &["-i", landscape.to_str().unwrap(), "-c", "copy", "-metadata:s:v:0", "rotate=90"]);
    cases.push(("rotated", rotated, (360, 640), (360, 640)));

    let odd = fx
        .clip("odd.mp4", &with(&[&["-f", "lavfi", "-i", "testsrc=size=642x362:rate=30"], &sine, &["-t", "3"], &h264]));
    cases.push(("odd", odd, (642, 362), (638, 360)));

    // Drops 10 of every 30 frames: timestamps with gaps, averaging 20 fps.
    let vfr = fx.clip(
        "vfr.mp4",
        &with(&[
            &["-f", "lavfi", "-i", "testsrc=size=640x360:rate=30"],
            &sine,
            &["-t", "4", "-vf", "select='not(between(mod(n,30),5,14))'", "-fps_mode", "vfr"],
            &h264,
        ]),
    );
    cases.push(("vfr", vfr, (640, 360), (640, 360)));

    let encoders = Command::new("ffmpeg").args(["-hide_banner", "-encoders"]).output().unwrap();
    if String::from_utf8_lossy(&encoders.stdout).contains("libx265") {
        let hevc = fx.clip(
            "hevc10.mp4",
            &with(&[
                &["-f", "lavfi", "-i", "testsrc=size=640x360:rate=25"],
                &sine,
                &[
                    "-t",
                    "3",
                    "-c:v",
                    "libx265",
                    "-preset",
                    "ultrafast",
                    "-pix_fmt",
                    "yuv420p10le",
                    "-x265-params",
                    "log-level=error",
                    "-c:a",
                    "aac",
                ],
            ]),
        );
        cases.push(("hevc10", hevc, (640, 360), (640, 360)));
    } else {
        eprintln!("NOTE: this ffmpeg has no libx265 encoder; the 10-bit HEVC case is skipped");
    }

    let mut submitted = Vec::new();
    for (name, path, dims, out_dims) in &cases {
        let request = fx.prepare(path).await;
        let video = request.media.video.as_ref().unwrap();
        assert_eq!((u64::from(video.width), u64::from(video.height)), *dims, "{name}: probed display size");
        if *name == "hevc10" {
            assert_eq!((video.codec.as_str(), video.bit_depth), ("hevc", 10));
        }
        if *name == "vfr" {
            assert!((video.frame_rate - 20.0).abs() < 0.5, "VFR average: {}", video.frame_rate);
        }
        let id = fx.transcoder.submit(&request).await.unwrap();
        submitted.push((*name, *out_dims, request, id));
    }
    for (name, (w, h), request, id) in &submitted {
        let (status, _) = fx.settle(id, request).await;
        assert_complete(&status, name);
        let out = fx.tmp.path().join("out").join(name);
        let files = fx.download(&request.layout, &out).await;
        let rung = &request.ladder[0];
        assert_eq!((u64::from(rung.width), u64::from(rung.height)), (*w, *h), "{name}: rung");
        let playlist = out.join("hls").join(&rung.name).join("index.m3u8");
        let first = playlist.parent().unwrap().join(&segments(&playlist)[0]);
        let (codec, sw, sh, pix_fmt, profile) = video_of(&first);
        assert_eq!(
            (codec.as_str(), sw, sh, pix_fmt.as_str(), profile.as_str()),
            ("h264", *w, *h, "yuv420p", "High"),
            "{name}"
        );
        assert!(files.contains_key("poster.jpg") && files.contains_key("thumbs/thumb-00001.jpg"), "{name}: {files:?}");
        assert_eq!(video_of(&out.join("poster.jpg")).1, *w, "{name}: poster");
        if *name == "vfr" {
            // Constant frame rate out: every frame 1/20 s after the last.
            let mut pts = video_pts(&first);
            pts.sort_by(f64::total_cmp);
            let steps: Vec<f64> = pts.windows(2).map(|w| w[1] - w[0]).collect();
            assert!(steps.len() > 40 && steps.iter().all(|s| (s - 0.05).abs() < 0.002), "{steps:?}");
        }
        assert_plays(&out.join("hls/master.m3u8"));
    }
    fx.assert_work_dir_clean();
    eprintln!("portrait/rotated/odd/vfr/hevc: {:.1} s", started.elapsed().as_secs_f64());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audio_only_source_gets_one_audio_rendition_and_no_images() {
    let fx = fixture().await;
    let clip = fx.clip(
        "voice memo.m4a",
        &["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-t", "3", "-c:a", "aac"],
    );
    let request = fx.prepare(&clip).await;
    assert_eq!(request.media.video, None);
    assert!(request.ladder.is_empty());
    let (status, _) = fx.run(&request).await;
    assert_complete(&status, "audio only");

    let out = fx.tmp.path().join("out");
    let files = fx.download(&request.layout, &out).await;
    assert_eq!(
        files.keys().map(String::as_str).collect::<Vec<_>>(),
        ["hls/audio/index.m3u8", "hls/audio/seg_00000.ts", "hls/master.m3u8"]
    );
    let master = std::fs::read_to_string(out.join("hls/master.m3u8")).unwrap();
    let infs = stream_infs(&master);
    assert_eq!(infs.len(), 1, "{master}");
    assert!(infs[0].contains("CODECS=\"mp4a.40.2\"") && !infs[0].contains("RESOLUTION"), "{master}");
    assert!(master.contains("audio/index.m3u8"), "{master}");
    assert_eq!(codec_types(&out.join("hls/audio/seg_00000.ts")), ["audio"]);
    assert_plays(&out.join("hls/master.m3u8"));
    fx.assert_work_dir_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damaged_and_missing_sources_fail_with_clear_messages() {
    let started = Instant::now();
    let fx = fixture().await;
    // What a probe would have said about the file had it been whole.
    let claimed = MediaInfo {
        duration_secs: 10.0,
        video: Some(VideoInfo { width: 640, height: 360, frame_rate: 30.0, codec: "h264".into(), bit_depth: 8 }),
        has_audio: true,
    };

    let random = fx.clips().join("random.mp4");
    std::fs::write(&random, (0..300_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect::<Vec<_>>())
        .unwrap();
    let err = probe(&random).await.unwrap_err();
    assert!(matches!(err, ProbeError::NotMedia { .. }), "{err:?}");
    assert!(err.to_string().contains("is not a video or audio file ffprobe can read"), "{err}");

    let whole = fx.av_clip("whole.mp4", "640x360", 10);
    let bytes = std::fs::read(&whole).unwrap();
    let truncated = fx.clips().join("truncated.mp4");
    std::fs::write(&truncated, &bytes[..bytes.len() * 3 / 10]).unwrap();
    // Index first, then cut: it still opens, and decodes only up to the cut.
    let faststart = fx.clip("faststart.mp4", &["-i", whole.to_str().unwrap(), "-c", "copy", "-movflags", "+faststart"]);
    let bytes = std::fs::read(&faststart).unwrap();
    let cut = fx.clips().join("cut.mp4");
    std::fs::write(&cut, &bytes[..bytes.len() * 3 / 10]).unwrap();

    let mut runs = Vec::new();
    for path in [&random, &truncated, &cut] {
        let request = fx.request(fx.put(path).await, claimed.clone());
        let id = fx.transcoder.submit(&request).await.unwrap();
        runs.push((path.file_name().unwrap().to_str().unwrap().to_owned(), request, id));
    }
    let missing =
        fx.request(ObjectRef::new(&fx.stack.storage().buckets.media, "jobs/src/original/gone.mp4"), claimed.clone());
    let missing_id = fx.transcoder.submit(&missing).await.unwrap();
    runs.push(("gone.mp4".into(), missing, missing_id));

    let mut messages = BTreeMap::new();
    for (name, request, id) in &runs {
        let (status, _) = fx.settle(id, request).await;
        let TranscodeStatus::Error { code, message } = status else {
            panic!("{name}: expected an error, got {status:?}")
        };
        assert!(message.contains(name.as_str()), "{name}: the message names the file: {message}");
        assert!(
            !message.contains(fx.tmp.path().to_str().unwrap())
                && !message.contains("source.mp4")
                && !message.contains("./"),
            "{name}: no work paths: {message}"
        );
        assert!(!message.contains(" @ 0x"), "{name}: no ffmpeg context pointers: {message}");
        messages.insert(name.clone(), (code.unwrap(), message));
        let layout = &request.layout;
        let listed = fx
            .stack
            .storage()
            .client
            .list_objects_v2()
            .bucket(&layout.bucket)
            .prefix(format!("{}/", layout.prefix))
            .send()
            .await
            .unwrap();
        assert_eq!(listed.key_count(), Some(0), "{name}: nothing is published for a failed job");
    }
    eprintln!("{messages:#?}");
    let (code, message) = &messages["random.mp4"];
    assert_eq!(code, codes::FFMPEG_FAILED);
    assert!(message.contains("Invalid data found when processing input"), "{message}");
    let (code, message) = &messages["truncated.mp4"];
    assert_eq!(code, codes::FFMPEG_FAILED);
    assert!(message.contains("moov atom not found"), "{message}");
    let (code, message) = &messages["cut.mp4"];
    assert_eq!(code, codes::TRUNCATED);
    assert!(message.contains("ends early"), "{message}");
    let (code, message) = &messages["gone.mp4"];
    assert_eq!(code, codes::SOURCE_MISSING);
    assert!(message.contains("does not exist"), "{message}");
    fx.assert_work_dir_clean();
    eprintln!("damaged: {:.1} s", started.elapsed().as_secs_f64());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_playlist_posing_as_a_camera_file_makes_ffmpeg_fetch_nothing() {
    let fx = fixture().await;
    // A trap: any connection here means ffmpeg followed a URL inside the "video".
    let trap = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = trap.local_addr().unwrap().port();
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = hits.clone();
    let trap_task = tokio::spawn(async move {
        while let Ok((_socket, _)) = trap.accept().await {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });
    let playlist = format!(
        "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\nhttp://127.0.0.1:{port}/seg0.ts\n#EXTINF:2.0,\n\
         http://127.0.0.1:{port}/seg1.ts\n#EXT-X-ENDLIST\n"
    );
    let disguised = fx.clips().join("A001.mov");
    std::fs::write(&disguised, playlist).unwrap();
    let claimed = MediaInfo {
        duration_secs: 4.0,
        video: Some(VideoInfo { width: 640, height: 360, frame_rate: 30.0, codec: "h264".into(), bit_depth: 8 }),
        has_audio: false,
    };
    let request = fx.request(fx.put(&disguised).await, claimed);
    let (status, _) = fx.run(&request).await;
    assert!(matches!(status, TranscodeStatus::Error { .. }), "{status:?}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 0, "ffmpeg fetched a URL named inside the file");
    trap_task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_backend_ids_are_unknown_jobs() {
    let fx = fixture().await;
    let media = MediaInfo { duration_secs: 1.0, video: None, has_audio: true };
    let request = fx.request(ObjectRef::new("streamdrop-media", "x.m4a"), media);
    let err = fx.transcoder.status("local-00000000-0000-0000-0000-000000000000", &request).await.unwrap_err();
    assert!(
        matches!(err, TranscodeError::UnknownJob { ref backend_job_id } if backend_job_id.starts_with("local-")),
        "{err:?}"
    );
    assert_eq!(fx.transcoder.name(), "local-ffmpeg");

    // Another instance (the app after a restart) does not know this one's jobs.
    let id = fx.transcoder.submit(&request).await.unwrap();
    let restarted = LocalFfmpeg::new(
        fx.stack.storage().clone(),
        local_ffmpeg::work_root(&fx.data_dir),
        LocalFfmpegOptions::default(),
    );
    assert!(matches!(restarted.status(&id, &request).await, Err(TranscodeError::UnknownJob { .. })));
    let _ = fx.settle(&id, &request).await;
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_or_missing_ffmpeg_fails_the_job_instead_of_hanging() {
    let fx = fixture().await;
    let clip = fx.clip("beep.m4a", &["-f", "lavfi", "-i", "sine=sample_rate=48000", "-t", "1", "-c:a", "aac"]);
    let request = fx.prepare(&clip).await;

    // An "ffmpeg" that never reports progress.
    let stuck = fx.tmp.path().join("stuck-ffmpeg");
    std::fs::write(&stuck, "#!/bin/sh\nexec sleep 600\n").unwrap();
    let mut perms = std::fs::metadata(&stuck).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&stuck, perms).unwrap();
    let options = LocalFfmpegOptions {
        ffmpeg: Some(stuck),
        stall_timeout: Duration::from_secs(1),
        ..LocalFfmpegOptions::default()
    };
    let transcoder = LocalFfmpeg::new(fx.stack.storage().clone(), local_ffmpeg::work_root(&fx.data_dir), options);
    let started = Instant::now();
    let id = transcoder.submit(&request).await.unwrap();
    let (status, _) = settle(&transcoder, &id, &request, Duration::from_secs(30)).await;
    let TranscodeStatus::Error { code, message } = status else { panic!("{status:?}") };
    assert_eq!(code.as_deref(), Some(codes::STALLED));
    assert!(message.contains("made no progress on beep.m4a"), "{message}");
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());

    let options =
        LocalFfmpegOptions { ffmpeg: Some("/nonexistent/bin/ffmpeg".into()), ..LocalFfmpegOptions::default() };
    let transcoder = LocalFfmpeg::new(fx.stack.storage().clone(), local_ffmpeg::work_root(&fx.data_dir), options);
    let id = transcoder.submit(&request).await.unwrap();
    let (status, _) = settle(&transcoder, &id, &request, Duration::from_secs(30)).await;
    assert_eq!(
        status,
        TranscodeStatus::Error {
            code: Some(codes::FFMPEG_MISSING.into()),
            message: "ffmpeg not found: install ffmpeg".into()
        }
    );
    fx.assert_work_dir_clean();
}
