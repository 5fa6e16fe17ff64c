//! The ffmpeg command lines: one run for the whole ladder, thumbnails
//! included, and a cheap second one for the poster. Pure functions of the
//! source's media info and the ladder.

use std::path::Path;

use super::{AUDIO_RENDITION, DEFAULT_FRAME_RATE, MAX_FRAME_RATE, THUMBNAIL_INTERVAL_SECS, THUMBNAIL_WIDTH, X264_CRF};
use crate::model::{MediaInfo, Rung, GOP_SECONDS, SEGMENT_SECONDS};
use crate::transcode::probe::{ffmpeg_input_arg, local_only_input_options};

/// The output frame rate as a fraction: the source's, halved while above
/// 60 fps, snapped to the standard rate it is within 0.5 % of (a VFR phone
/// clip averaging 29.94 becomes 30000/1001), or 30 when unknown.
pub fn output_frame_rate(media: &MediaInfo) -> (u32, u32) {
    let mut rate = media.video.as_ref().map_or(0.0, |v| v.frame_rate);
    if !(rate.is_finite() && rate >= 1.0) {
        return DEFAULT_FRAME_RATE;
    }
    while rate > MAX_FRAME_RATE + 0.5 {
        rate /= 2.0;
    }
    const STANDARD: [(u32, u32); 12] = [
        (12, 1),
        (15, 1),
        (24000, 1001),
        (24, 1),
        (25, 1),
        (30000, 1001),
        (30, 1),
        (48, 1),
        (50, 1),
        (60000, 1001),
        (60, 1),
        (10, 1),
    ];
    let nearest = STANDARD
        .iter()
        .map(|&(n, d)| ((rate - f64::from(n) / f64::from(d)).abs() / rate, (n, d)))
        .min_by(|a, b| a.0.total_cmp(&b.0));
    match nearest {
        Some((error, standard)) if error < 0.005 => standard,
        _ => {
            let num = (rate * 1000.0).round() as u32;
            let divisor = gcd(num, 1000);
            (num / divisor, 1000 / divisor)
        }
    }
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 {
        a.max(1)
    } else {
        gcd(b, a % b)
    }
}

/// Keyframe interval in frames: [`GOP_SECONDS`] at the output rate.
pub(super) fn gop_frames((num, den): (u32, u32)) -> u32 {
    ((f64::from(num) / f64::from(den) * f64::from(GOP_SECONDS)).round() as u32).max(1)
}

fn path_arg(dir: &Path, rest: &str) -> String {
    dir.join(rest).to_string_lossy().into_owned()
}

/// The whole HLS command (arguments after `ffmpeg`): one decode feeding
/// every rung plus the thumbnails.
///
/// Writes `out_dir/hls/master.m3u8`, `out_dir/hls/<rung>/index.m3u8` with
/// `seg_00000.ts`… beside each, and, for video, `out_dir/thumbs/thumb-00001.jpg`…
/// ffmpeg creates the `hls` folders itself but not `thumbs`: create
/// `out_dir/thumbs` first (see [`create_output_dirs`]). `out_dir` must not
/// contain `%` (ffmpeg's name patterns). An empty `ladder` means audio only.
///
/// A job runs exactly `ffmpeg -progress pipe:1 -nostats <these args>` (the
/// two extra flags only report progress), in its work dir, with `input` =
/// `source.<ext>` and `out_dir` = `out`; the poster is a second run of
/// [`poster_args`]. To time the same work by hand:
///
/// ```no_run
/// # use std::path::Path;
/// # use streamdrop_core::transcode::{ladder_for, probe, local_ffmpeg::{ffmpeg_args, create_output_dirs}};
/// # async fn f() {
/// let media = probe(Path::new("clip.mov")).await.unwrap();
/// let out = Path::new("/tmp/out");
/// create_output_dirs(out).unwrap();
/// let args = ffmpeg_args("clip.mov", &media, &ladder_for(&media), out);
/// std::process::Command::new("ffmpeg").args(&args).status().unwrap();
/// # }
/// ```
pub fn ffmpeg_args(input: &str, media: &MediaInfo, ladder: &[Rung], out_dir: &Path) -> Vec<String> {
    let mut args: Vec<String> = ["-hide_banner", "-nostdin", "-loglevel", "error", "-y"].map(String::from).to_vec();
    // The source is a local copy; ffmpeg reads it alone, as real media only.
    args.extend(local_only_input_options());
    args.extend(["-i".into(), ffmpeg_input_arg(input)]);
    let audio = media.has_audio;
    let video = media.video.is_some() && !ladder.is_empty();

    let mut stream_map = Vec::new();
    if video {
        let rate @ (num, den) = output_frame_rate(media);
        let gop = gop_frames(rate);
        // `0:V:0`: the first video stream that is not cover art. fps= makes VFR input constant-rate.
        let mut graph = format!("[0:V:0]fps={num}/{den},split={}", ladder.len() + 1);
        for i in 0..ladder.len() {
            graph.push_str(&format!("[s{i}]"));
        }
        graph.push_str("[st]");
        for (i, rung) in ladder.iter().enumerate() {
            // format=yuv420p: 10-bit and 4:2:2 sources become 8-bit 4:2:0, which every H.264 player decodes.
            graph.push_str(&format!(";[s{i}]scale={}:{},setsar=1,format=yuv420p[v{i}]", rung.width, rung.height));
        }
        // The first frame, then the first one at least 10 s after the last pick. (fps=1/10 would
        // do the same on paper, but it emits nothing at all for clips under 5 s.)
        graph.push_str(&format!(
            ";[st]select='isnan(prev_selected_t)+gte(t-prev_selected_t,{THUMBNAIL_INTERVAL_SECS})',scale={THUMBNAIL_WIDTH}:-2,setsar=1[th]"
        ));
        args.extend(["-filter_complex".into(), graph]);

        for (i, rung) in ladder.iter().enumerate() {
            args.extend(["-map".into(), format!("[v{i}]")]);
            if audio {
                args.extend(["-map".into(), "0:a:0".into()]);
                stream_map.push(format!("v:{i},a:{i},name:{}", rung.name));
            } else {
                stream_map.push(format!("v:{i},name:{}", rung.name));
            }
        }
        args.extend(
            ["-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-pix_fmt", "yuv420p"].map(String::from),
        );
        args.extend(["-crf".into(), X264_CRF.to_string()]);
        for (i, rung) in ladder.iter().enumerate() {
            // bufsize = maxrate keeps each segment's peak close to the BANDWIDTH ffmpeg advertises.
            args.extend([format!("-maxrate:v:{i}"), rung.video_max_bitrate.to_string()]);
            args.extend([format!("-bufsize:v:{i}"), rung.video_max_bitrate.to_string()]);
        }
        args.extend([
            "-g".into(),
            gop.to_string(),
            "-keyint_min".into(),
            gop.to_string(),
            "-sc_threshold".into(),
            "0".into(),
        ]);
        args.extend(["-force_key_frames".into(), format!("expr:gte(t,n_forced*{GOP_SECONDS})")]);
        if audio {
            args.extend(["-c:a", "aac", "-ac", "2", "-ar", "48000"].map(String::from));
            for (i, rung) in ladder.iter().enumerate() {
                args.extend([format!("-b:a:{i}"), rung.audio_bitrate.to_string()]);
            }
        }
    } else {
        args.extend(["-map", "0:a:0", "-c:a", "aac", "-ac", "2", "-ar", "48000", "-b:a:0"].map(String::from));
        args.push(crate::transcode::ladder::AUDIO_BITRATE.to_string());
        stream_map.push(format!("a:0,name:{AUDIO_RENDITION}"));
    }
    // No camera metadata (GPS position, serial numbers) in what gets shared.
    args.extend(["-map_metadata", "-1", "-map_chapters", "-1", "-max_muxing_queue_size", "4096"].map(String::from));
    args.extend(["-f", "hls", "-hls_time"].map(String::from));
    args.push(SEGMENT_SECONDS.to_string());
    args.extend(
        ["-hls_playlist_type", "vod", "-hls_flags", "independent_segments", "-hls_segment_type", "mpegts"]
            .map(String::from),
    );
    args.extend(["-hls_segment_filename".into(), path_arg(out_dir, "hls/%v/seg_%05d.ts")]);
    args.extend(["-master_pl_name".into(), "master.m3u8".into()]);
    args.extend(["-var_stream_map".into(), stream_map.join(" ")]);
    args.push(path_arg(out_dir, "hls/%v/index.m3u8"));

    if video {
        // passthrough: one image per selected frame, never duplicated to fill a frame rate.
        args.extend(
            [
                "-map",
                "[th]",
                "-map_metadata",
                "-1",
                "-fps_mode:v",
                "passthrough",
                "-c:v",
                "mjpeg",
                "-q:v",
                "5",
                "-f",
                "image2",
                "-start_number",
                "1",
            ]
            .map(String::from),
        );
        args.push(path_arg(out_dir, "thumbs/thumb-%05d.jpg"));
    }
    args
}

/// The poster command: one frame at `at_secs`, at the top rung's size, to
/// `out_dir/poster.jpg`. `None` for audio-only sources.
pub fn poster_args(input: &str, ladder: &[Rung], at_secs: f64, out_dir: &Path) -> Option<Vec<String>> {
    let top = ladder.first()?;
    let mut args: Vec<String> =
        ["-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-ss"].map(String::from).to_vec();
    args.push(format!("{at_secs:.3}"));
    args.extend(local_only_input_options());
    args.extend(["-i".into(), ffmpeg_input_arg(input)]);
    args.extend(["-map", "0:V:0", "-frames:v", "1", "-vf"].map(String::from));
    args.push(format!("scale={}:{},setsar=1", top.width, top.height));
    args.extend(
        ["-map_metadata", "-1", "-c:v", "mjpeg", "-q:v", "3", "-f", "image2", "-update", "1"].map(String::from),
    );
    args.push(path_arg(out_dir, "poster.jpg"));
    Some(args)
}

/// Creates the folders ffmpeg will not create itself (`thumbs`).
pub fn create_output_dirs(out_dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(out_dir.join("hls"))?;
    std::fs::create_dir_all(out_dir.join("thumbs"))
}
