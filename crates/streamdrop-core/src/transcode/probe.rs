//! What a source holds, from `ffprobe`: the first real video stream (cover
//! art is skipped), its displayed size after rotation, frame rate, codec and
//! bit depth; whether there is audio; and the duration.
//!
//! Only local files are probed, and ffprobe may read nothing but that file:
//! the `file` protocol and the demuxers in [`MEDIA_DEMUXERS`]
//! ([`local_only_input_options`]), so a playlist or other indirection format
//! can never make it open another file or host, and no URL (with its
//! signature) ever sits in a process's arguments.

use std::collections::VecDeque;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use crate::model::{MediaInfo, VideoInfo};

/// How long ffprobe may take before it is killed. Reading a header is fast;
/// a minute covers a slow card reader and a file whose index is at the end.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(60);

/// Demuxers a camera, phone or recorder file can need; ffmpeg and ffprobe may
/// use no other on Streamdrop's inputs, so playlists (hls, dash, concat),
/// image sequences and network formats are never opened. Each entry is a
/// whole demuxer name as ffmpeg spells it (`mov,mp4,…` is one demuxer).
pub const MEDIA_DEMUXERS: &[&str] = &[
    "mov,mp4,m4a,3gp,3g2,mj2",
    "mpegts",
    "mxf",
    "matroska,webm",
    "avi",
    "mpeg",
    "flv",
    "asf",
    "dv",
    "r3d",
    "gxf",
    "nut",
    "ogg",
    "ivf",
    "yuv4mpegpipe",
    "gif",
    "rm",
    "wav",
    "w64",
    "aiff",
    "caf",
    "flac",
    "mp3",
    "aac",
    "ac3",
    "eac3",
    "dts",
    "truehd",
    "wv",
];

/// Input options that keep ffmpeg or ffprobe to the one local file it is
/// given: only the `file` protocol, only [`MEDIA_DEMUXERS`]. They go before `-i`.
pub fn local_only_input_options() -> [String; 4] {
    ["-protocol_whitelist".into(), "file".into(), "-format_whitelist".into(), MEDIA_DEMUXERS.join(",")]
}

#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("ffprobe not found: install ffmpeg")]
    NotInstalled,
    #[error("{input} is not a video or audio file ffprobe can read{}", detail_suffix(.detail))]
    NotMedia { input: String, detail: String },
    /// The file could not be opened at all (missing, no permission).
    #[error("cannot open {input}: {detail}")]
    Unreachable { input: String, detail: String },
    #[error("{input} has no video or audio stream")]
    NoStreams { input: String },
    /// ffprobe recognised a format it may not open: a playlist or another
    /// format that points at other files or hosts, or something that is not
    /// camera media at all.
    #[error("{input} is in the {format} format, which Streamdrop does not open")]
    RefusedFormat { input: String, format: String },
    /// A photo (JPEG, PNG, …): ffmpeg reads it as a one-frame video, but there is nothing to stream.
    #[error("{input} is a still image, not a video")]
    StillImage { input: String },
    #[error("ffprobe did not finish reading {input} within {} s", .after.as_secs())]
    Timeout { input: String, after: Duration },
    #[error("cannot run ffprobe: {0}")]
    Io(#[source] std::io::Error),
    #[error("unexpected ffprobe output for {input}: {detail}")]
    BadOutput { input: String, detail: String },
}

fn detail_suffix(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!(" ({detail})")
    }
}

/// A child that runs ffmpeg or ffprobe on media: stdin closed, killed when
/// dropped, and no AWS credentials in its environment (the tools need none:
/// they read and write local files only, and other local users can read a
/// process's environment through `/proc` as root or with ptrace).
pub fn media_tool(program: &Path) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(program);
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(|n| n.starts_with("AWS_")) {
            command.env_remove(name);
        }
    }
    command.stdin(Stdio::null()).kill_on_drop(true);
    command
}

/// Probes the local file `path` with `ffprobe` from `PATH`.
pub async fn probe(path: &Path) -> Result<MediaInfo, ProbeError> {
    probe_with(Path::new("ffprobe"), path, PROBE_TIMEOUT).await
}

/// [`probe`] with an explicit ffprobe binary and timeout.
pub async fn probe_with(ffprobe: &Path, path: &Path, timeout: Duration) -> Result<MediaInfo, ProbeError> {
    let input = path.to_string_lossy().into_owned();
    let shown = path.file_name().map_or_else(|| input.clone(), |n| n.to_string_lossy().into_owned());
    let mut command = media_tool(ffprobe);
    command
        .args(["-v", "error", "-print_format", "json", "-show_streams", "-show_format"])
        .args(local_only_input_options())
        .arg(ffmpeg_input_arg(&input))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = command.spawn().map_err(|err| match err.kind() {
        std::io::ErrorKind::NotFound => ProbeError::NotInstalled,
        _ => ProbeError::Io(err),
    })?;
    // Dropping the future on timeout drops the child, and kill_on_drop kills it.
    let output = match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(result) => result.map_err(ProbeError::Io)?,
        Err(_) => return Err(ProbeError::Timeout { input: shown, after: timeout }),
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    if let Some(format) = refused_format(&stderr) {
        return Err(if is_image_demuxer(&format) {
            ProbeError::StillImage { input: shown }
        } else {
            ProbeError::RefusedFormat { input: shown, format }
        });
    }
    if !output.status.success() {
        let detail = clean_ffmpeg_log(&stderr, &ffmpeg_input_arg(&input), &shown, 3);
        return Err(if looks_unreachable(&stderr) {
            ProbeError::Unreachable { input: shown, detail }
        } else {
            ProbeError::NotMedia { input: shown, detail }
        });
    }
    let parsed: ProbeOutput = serde_json::from_slice(&output.stdout)
        .map_err(|err| ProbeError::BadOutput { input: shown.clone(), detail: err.to_string() })?;
    if parsed.streams.is_empty() && parsed.format.is_none() {
        // ffprobe printed `{}`: it opened nothing it understood.
        let detail = clean_ffmpeg_log(&stderr, &ffmpeg_input_arg(&input), &shown, 3);
        return Err(ProbeError::NotMedia { input: shown, detail });
    }
    if is_still_image(&parsed) {
        return Err(ProbeError::StillImage { input: shown });
    }
    media_info(&parsed).ok_or(ProbeError::NoStreams { input: shown })
}

/// Formats that point at other files or hosts instead of holding media.
pub const INDIRECTION_FORMATS: &[&str] =
    &["hls", "dash", "concat", "ffconcat", "sdp", "rtsp", "rtp", "tee", "webm_dash_manifest"];

/// The demuxer ffmpeg logged as "Format not on whitelist" (`[hls @ 0x…] Format not on whitelist '…'`).
fn refused_format(log: &str) -> Option<String> {
    log.lines().find_map(|line| {
        let (tag, rest) = line.trim().strip_prefix('[')?.split_once("] ")?;
        rest.starts_with("Format not on whitelist").then(|| tag.split(" @ ").next().unwrap_or(tag).to_owned())
    })
}

/// ffmpeg's image demuxers (`image2`, `png_pipe`, `jpeg_pipe`, …). Animated
/// GIFs and WebPs are left out: they play.
fn is_image_demuxer(format: &str) -> bool {
    format == "image2" || (format.ends_with("_pipe") && !matches!(format, "gif_pipe" | "webp_pipe" | "yuv4mpegpipe"))
}

/// A picture from an image demuxer with no audio: nothing to stream.
fn is_still_image(out: &ProbeOutput) -> bool {
    let format = out.format.as_ref().and_then(|f| f.format_name.as_deref()).unwrap_or_default();
    is_image_demuxer(format) && !out.streams.iter().any(|s| s.is("audio"))
}

/// Parses `ffprobe -print_format json -show_streams -show_format` output.
/// `None` when it lists no video (other than cover art) and no audio.
pub fn media_info_from_json(json: &[u8]) -> Result<Option<MediaInfo>, serde_json::Error> {
    let parsed: ProbeOutput = serde_json::from_slice(json)?;
    Ok(media_info(&parsed))
}

#[derive(Debug, Default, Deserialize)]
struct ProbeOutput {
    #[serde(default)]
    streams: Vec<Stream>,
    format: Option<Format>,
}

#[derive(Debug, Default, Deserialize)]
struct Format {
    format_name: Option<String>,
    duration: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
struct Stream {
    codec_type: Option<String>,
    codec_name: Option<String>,
    width: Option<Value>,
    height: Option<Value>,
    sample_aspect_ratio: Option<String>,
    avg_frame_rate: Option<String>,
    r_frame_rate: Option<String>,
    pix_fmt: Option<String>,
    bits_per_raw_sample: Option<Value>,
    duration: Option<Value>,
    #[serde(default)]
    disposition: serde_json::Map<String, Value>,
    #[serde(default)]
    tags: serde_json::Map<String, Value>,
    #[serde(default)]
    side_data_list: Vec<serde_json::Map<String, Value>>,
}

impl Stream {
    fn is(&self, kind: &str) -> bool {
        self.codec_type.as_deref() == Some(kind)
    }

    fn is_attached_picture(&self) -> bool {
        self.disposition.get("attached_pic").and_then(number).is_some_and(|v| v != 0.0)
    }

    /// Rotation in degrees from the display matrix, else the legacy `rotate` tag.
    fn rotation(&self) -> f64 {
        self.side_data_list
            .iter()
            .find_map(|side| side.get("rotation").and_then(number))
            .or_else(|| self.tags.get("rotate").and_then(number))
            .unwrap_or(0.0)
    }

    fn duration(&self) -> Option<f64> {
        self.duration
            .as_ref()
            .and_then(number)
            .or_else(|| self.tags.get("DURATION").and_then(Value::as_str).and_then(parse_clock))
            .filter(|d| d.is_finite() && *d > 0.0)
    }
}

fn media_info(out: &ProbeOutput) -> Option<MediaInfo> {
    let video = out.streams.iter().find(|s| s.is("video") && !s.is_attached_picture());
    let has_audio = out.streams.iter().any(|s| s.is("audio"));
    if video.is_none() && !has_audio {
        return None;
    }
    let format_duration = out.format.as_ref().and_then(|f| f.duration.as_ref()).and_then(number);
    let duration_secs = format_duration
        .filter(|d| d.is_finite() && *d > 0.0)
        .or_else(|| {
            // Cover art and data tracks say nothing about how long the media plays.
            let playable = |s: &&Stream| (s.is("video") && !s.is_attached_picture()) || s.is("audio");
            out.streams.iter().filter(playable).filter_map(Stream::duration).reduce(f64::max)
        })
        .unwrap_or(0.0);
    Some(MediaInfo { duration_secs, video: video.and_then(video_info), has_audio })
}

fn video_info(stream: &Stream) -> Option<VideoInfo> {
    let coded_width = stream.width.as_ref().and_then(number).filter(|w| *w >= 1.0)?;
    let coded_height = stream.height.as_ref().and_then(number).filter(|h| *h >= 1.0)?;
    // Anamorphic sources (e.g. HDV 1440x1080 with 4:3 pixels) are shown wider than stored.
    let sar =
        stream.sample_aspect_ratio.as_deref().and_then(parse_ratio).filter(|r| (0.1..=10.0).contains(r)).unwrap_or(1.0);
    let mut width = (coded_width * sar).round() as u32;
    let mut height = coded_height as u32;
    let quarter_turns = (stream.rotation() / 90.0).round() as i64;
    if quarter_turns.rem_euclid(2) == 1 {
        std::mem::swap(&mut width, &mut height);
    }
    Some(VideoInfo {
        width,
        height,
        frame_rate: frame_rate(stream),
        codec: stream.codec_name.clone().unwrap_or_else(|| "unknown".into()),
        bit_depth: bit_depth(stream),
    })
}

/// Frames per second, `0.0` when unknown. `avg_frame_rate` is what a VFR phone
/// clip averages to; `r_frame_rate` (the timebase's guess) is the fallback.
fn frame_rate(stream: &Stream) -> f64 {
    let plausible = |r: &f64| r.is_finite() && *r >= 0.5 && *r <= 240.0;
    let avg = stream.avg_frame_rate.as_deref().and_then(parse_ratio).filter(plausible);
    let real = stream.r_frame_rate.as_deref().and_then(parse_ratio).filter(plausible);
    avg.or(real).unwrap_or(0.0)
}

fn bit_depth(stream: &Stream) -> u8 {
    if let Some(bits) = stream.bits_per_raw_sample.as_ref().and_then(number).filter(|b| (1.0..=32.0).contains(b)) {
        return bits as u8;
    }
    stream.pix_fmt.as_deref().map(bit_depth_of_pix_fmt).unwrap_or(8)
}

/// `yuv420p10le` → 10, `p010le` → 10, `gray12be` → 12, `rgb48le` → 16, `yuv420p` → 8.
pub fn bit_depth_of_pix_fmt(pix_fmt: &str) -> u8 {
    let name = pix_fmt.strip_suffix("le").or_else(|| pix_fmt.strip_suffix("be")).unwrap_or(pix_fmt);
    let digits: String =
        name.chars().rev().take_while(char::is_ascii_digit).collect::<Vec<_>>().into_iter().rev().collect();
    let before = &name[..name.len() - digits.len()];
    match digits.parse::<u32>() {
        // p010, p012, p016, p210, p410…: the last two digits are the depth.
        Ok(n) if before == "p" => (n % 100).clamp(8, 16) as u8,
        Ok(n @ 9..=16)
            if before.ends_with('p')
                || before.starts_with("gray")
                || before.starts_with("ya")
                || before.starts_with("bayer")
                || before.starts_with("xyz") =>
        {
            n as u8
        }
        Ok(48 | 64) => 16,
        _ => 8,
    }
}

/// A JSON number, or a string holding one (ffprobe prints many numbers as strings).
fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|v: &f64| v.is_finite())
}

/// `30000/1001`, `25/1`, `16:9`, `29.97`; `None` for `0/0` and other nonsense.
fn parse_ratio(s: &str) -> Option<f64> {
    let (num, den) = match s.split_once(['/', ':']) {
        Some((n, d)) => (n.trim().parse::<f64>().ok()?, d.trim().parse::<f64>().ok()?),
        None => (s.trim().parse::<f64>().ok()?, 1.0),
    };
    let value = num / den;
    (value.is_finite() && value > 0.0).then_some(value)
}

/// Matroska's `DURATION` tag: `00:01:02.500000000`.
fn parse_clock(s: &str) -> Option<f64> {
    let mut total = 0.0;
    for part in s.trim().split(':') {
        total = total * 60.0 + part.parse::<f64>().ok()?;
    }
    Some(total)
}

/// A path as ffmpeg should see it: never taken for an option (`-x.mp4`) or
/// a protocol (`a:b.mp4`).
pub(crate) fn ffmpeg_input_arg(path: &str) -> String {
    if Path::new(path).is_absolute() {
        path.to_owned()
    } else {
        format!("./{path}")
    }
}

fn looks_unreachable(stderr: &str) -> bool {
    ["No such file or directory", "Permission denied"].iter().any(|needle| stderr.contains(needle))
}

/// The last `max_lines` distinct lines of an ffmpeg/ffprobe log, made readable:
/// `[mov,mp4,… @ 0x55…]` prefixes dropped (the demuxer's name kept when it says
/// which format was refused), the input path replaced by `shown`, noise lines skipped.
pub(crate) fn clean_ffmpeg_log(log: &str, input: &str, shown: &str, max_lines: usize) -> String {
    let mut kept: VecDeque<String> = VecDeque::new();
    for line in log.lines() {
        let mut line = line.trim();
        while let Some(rest) = line
            .strip_prefix('[')
            .and_then(|l| l.split_once("] "))
            .filter(|(tag, _)| tag.contains(" @ 0x"))
            .map(|(_, rest)| rest)
        {
            line = rest.trim_start();
        }
        let line = if input.is_empty() { line.to_owned() } else { line.replace(input, shown) };
        if line.is_empty() || line == "Conversion failed!" || line.starts_with("Exiting normally") {
            continue;
        }
        if let Some(existing) = kept.iter().position(|l| *l == line) {
            kept.remove(existing);
        }
        kept.push_back(line);
        if kept.len() > max_lines {
            kept.pop_front();
        }
    }
    Vec::from(kept).join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn info(value: Value) -> Option<MediaInfo> {
        media_info_from_json(value.to_string().as_bytes()).unwrap()
    }

    fn video_stream(extra: Value) -> Value {
        let mut stream = json!({
            "codec_type": "video", "codec_name": "h264", "width": 1920, "height": 1080,
            "avg_frame_rate": "30000/1001", "r_frame_rate": "30000/1001", "pix_fmt": "yuv420p",
            "bits_per_raw_sample": "8", "duration": "12.5"
        });
        for (k, v) in extra.as_object().unwrap() {
            stream[k] = v.clone();
        }
        stream
    }

    #[test]
    fn maps_a_plain_clip() {
        let media = info(json!({
            "streams": [video_stream(json!({})), {"codec_type": "audio", "codec_name": "aac"}],
            "format": {"duration": "12.512000"}
        }))
        .unwrap();
        assert_eq!(media.duration_secs, 12.512);
        assert!(media.has_audio);
        let video = media.video.unwrap();
        assert_eq!((video.width, video.height, video.codec.as_str(), video.bit_depth), (1920, 1080, "h264", 8));
        assert!((video.frame_rate - 29.97).abs() < 0.01);
    }

    #[test]
    fn rotation_from_display_matrix_or_tag_swaps_the_sides() {
        for extra in [
            json!({"side_data_list": [{"side_data_type": "Display Matrix", "rotation": -90}]}),
            json!({"side_data_list": [{"side_data_type": "Display Matrix", "rotation": 90}]}),
            json!({"side_data_list": [{"side_data_type": "Display Matrix", "rotation": 270.0}]}),
            json!({"tags": {"rotate": "90"}}),
            json!({"tags": {"rotate": "-270"}}),
        ] {
            let video = info(json!({"streams": [video_stream(extra.clone())]})).unwrap().video.unwrap();
            assert_eq!((video.width, video.height), (1080, 1920), "{extra}");
        }
        for extra in [json!({"side_data_list": [{"rotation": 180}]}), json!({"tags": {"rotate": "0"}})] {
            let video = info(json!({"streams": [video_stream(extra.clone())]})).unwrap().video.unwrap();
            assert_eq!((video.width, video.height), (1920, 1080), "{extra}");
        }
    }

    #[test]
    fn skips_cover_art_and_reports_audio_only() {
        let media = info(json!({
            "streams": [
                {"codec_type": "audio", "codec_name": "aac", "duration": "3.0"},
                video_stream(json!({"codec_name": "mjpeg", "width": 600, "height": 600, "disposition": {"default": 0, "attached_pic": 1}}))
            ],
            "format": {}
        }))
        .unwrap();
        assert_eq!(media, MediaInfo { duration_secs: 3.0, video: None, has_audio: true });
    }

    #[test]
    fn photos_are_still_images() {
        let parse = |format: &str| {
            serde_json::from_value::<ProbeOutput>(
                json!({"streams": [video_stream(json!({"codec_name": "mjpeg"}))], "format": {"format_name": format}}),
            )
            .unwrap()
        };
        assert!(is_still_image(&parse("image2")));
        assert!(is_still_image(&parse("png_pipe")));
        assert!(!is_still_image(&parse("gif_pipe")), "animated");
        assert!(!is_still_image(&parse("mov,mp4,m4a,3gp,3g2,mj2")));
    }

    #[test]
    fn no_video_or_audio_is_none() {
        assert_eq!(info(json!({"streams": [], "format": {"duration": "1.0"}})), None);
        assert_eq!(info(json!({"streams": [{"codec_type": "data", "codec_name": "bin_data"}]})), None);
    }

    #[test]
    fn odd_frame_rates() {
        let rate = |avg: &str, r: &str| {
            info(json!({"streams": [video_stream(json!({"avg_frame_rate": avg, "r_frame_rate": r}))]}))
                .unwrap()
                .video
                .unwrap()
                .frame_rate
        };
        assert_eq!(rate("0/0", "25/1"), 25.0);
        assert_eq!(rate("0/0", "0/0"), 0.0);
        assert!((rate("10893000/363761", "90000/1") - 29.946).abs() < 0.01, "VFR phone clip: the average wins");
        assert_eq!(rate("90000/1", "60/1"), 60.0, "an implausible average falls back");
        assert_eq!(rate("", "1/0"), 0.0);
    }

    #[test]
    fn bit_depth_from_raw_bits_or_pixel_format() {
        let depth = |extra: Value| info(json!({"streams": [video_stream(extra)]})).unwrap().video.unwrap().bit_depth;
        assert_eq!(depth(json!({"bits_per_raw_sample": "10"})), 10);
        assert_eq!(depth(json!({"bits_per_raw_sample": "N/A", "pix_fmt": "yuv420p10le"})), 10);
        assert_eq!(depth(json!({"bits_per_raw_sample": null, "pix_fmt": "yuv422p12be"})), 12);
        for (fmt, bits) in [
            ("yuv420p", 8),
            ("yuvj420p", 8),
            ("nv12", 8),
            ("p010le", 10),
            ("gray10le", 10),
            ("rgb48le", 16),
            ("yuv444p16le", 16),
            ("gbrp10le", 10),
            ("rgb24", 8),
        ] {
            assert_eq!(bit_depth_of_pix_fmt(fmt), bits, "{fmt}");
        }
    }

    #[test]
    fn duration_falls_back_to_streams_and_matroska_tags() {
        let media = info(json!({"streams": [video_stream(json!({"duration": "N/A", "tags": {"DURATION": "00:01:02.500000000"}}))], "format": {"duration": "N/A"}})).unwrap();
        assert_eq!(media.duration_secs, 62.5);
        let media = info(
            json!({"streams": [video_stream(json!({"duration": "4.0"})), {"codec_type": "audio", "duration": "4.2"}]}),
        )
        .unwrap();
        assert_eq!(media.duration_secs, 4.2);
    }

    #[test]
    fn anamorphic_pixels_widen_the_frame() {
        let video = info(json!({"streams": [video_stream(json!({"width": 1440, "sample_aspect_ratio": "4:3"}))]}))
            .unwrap()
            .video
            .unwrap();
        assert_eq!((video.width, video.height), (1920, 1080));
        let video =
            info(json!({"streams": [video_stream(json!({"sample_aspect_ratio": "0:1"}))]})).unwrap().video.unwrap();
        assert_eq!(video.width, 1920, "0:1 means unknown, i.e. square");
    }

    #[test]
    fn cleans_logs_and_names_refused_formats() {
        let log = "[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55d338224900] moov atom not found\n/tmp/w/source.mp4: Invalid data found when processing input\nConversion failed!\n";
        assert_eq!(
            clean_ffmpeg_log(log, "/tmp/w/source.mp4", "clip.mp4", 3),
            "moov atom not found; clip.mp4: Invalid data found when processing input"
        );
        assert_eq!(clean_ffmpeg_log("a\nb\na\nc\nd\n", "", "", 3), "a; c; d");
        assert_eq!(ffmpeg_input_arg("-clip.mp4"), "./-clip.mp4");
        assert_eq!(ffmpeg_input_arg("a:b.mp4"), "./a:b.mp4");
        assert_eq!(ffmpeg_input_arg("/abs/a:b.mp4"), "/abs/a:b.mp4");
        assert_eq!(
            refused_format("[hls @ 0x557e6a8ab240] Format not on whitelist 'mov'\np.m3u8: Invalid argument"),
            Some("hls".into())
        );
        assert_eq!(refused_format(log), None);
    }

    #[tokio::test]
    async fn clear_errors_for_missing_tools_and_non_media() {
        let err = probe_with(Path::new("/nonexistent/ffprobe"), Path::new("x.mp4"), PROBE_TIMEOUT).await.unwrap_err();
        assert_eq!(err.to_string(), "ffprobe not found: install ffmpeg");
        if std::process::Command::new("ffprobe").arg("-version").output().is_err() {
            eprintln!("ffprobe is not installed: skipping the rest");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("notes.mp4");
        std::fs::write(&junk, b"this is not a video at all, just some text, long enough to probe").unwrap();
        let err = probe(&junk).await.unwrap_err();
        assert!(matches!(err, ProbeError::NotMedia { .. }), "{err:?}");
        assert!(err.to_string().contains("is not a video or audio file ffprobe can read"), "{err}");
        let photo = dir.path().join("photo.jpg");
        let made = std::process::Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=64x48", "-frames:v", "1"])
            .arg(&photo)
            .status()
            .unwrap();
        assert!(made.success());
        let err = probe(&photo).await.unwrap_err();
        assert!(matches!(err, ProbeError::StillImage { .. }), "{err:?}");
        let err = probe(&dir.path().join("missing.mp4")).await.unwrap_err();
        assert!(matches!(err, ProbeError::Unreachable { .. }), "{err:?}");

        // A playlist, under its own name or a camera's, is refused before anything inside it is opened.
        let playlist = "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nhttp://127.0.0.1:9/x.ts\n#EXT-X-ENDLIST\n";
        for name in ["list.m3u8", "A001.mov"] {
            let path = dir.path().join(name);
            std::fs::write(&path, playlist).unwrap();
            let err = probe(&path).await.unwrap_err();
            assert!(matches!(&err, ProbeError::RefusedFormat { format, .. } if format == "hls"), "{name}: {err:?}");
        }
    }
}
