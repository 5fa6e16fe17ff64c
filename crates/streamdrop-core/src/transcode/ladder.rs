//! The ABR ladder: which renditions a source gets. Rungs are chosen by the
//! short side of the displayed frame, so portrait clips get the same ladder
//! as landscape ones, and never upscale.

use crate::model::{MediaInfo, Rung};

/// Short side in pixels, peak video bitrate in bits per second.
pub const STANDARD_RUNGS: [(u32, u32); 4] = [(1080, 8_500_000), (720, 6_000_000), (540, 3_500_000), (360, 1_500_000)];

/// AAC bitrate of every rung but the smallest.
pub const AUDIO_BITRATE: u32 = 128_000;
/// AAC bitrate of the smallest rung, which is for poor connections.
pub const LOW_AUDIO_BITRATE: u32 = 64_000;
/// Floor for the peak video bitrate of a below-360p rung.
const MIN_VIDEO_BITRATE: u32 = 200_000;

/// The renditions for `media`, largest first. Empty for audio-only sources.
///
/// Keeps every standard rung whose short side is at most the source's (a
/// 1917x1079 source gets 720p, 540p and 360p: 1080p would upscale). A source
/// under 360 on its short side gets one rung at its own size. The long side
/// keeps the displayed aspect ratio, rounded to an even number, because
/// H.264 with 4:2:0 chroma needs even dimensions.
pub fn ladder_for(media: &MediaInfo) -> Vec<Rung> {
    let Some(video) = &media.video else { return Vec::new() };
    if video.width == 0 || video.height == 0 {
        return Vec::new();
    }
    let portrait = video.height > video.width;
    let (source_short, source_long) = if portrait { (video.width, video.height) } else { (video.height, video.width) };
    let aspect = f64::from(source_long) / f64::from(source_short);

    let mut rungs: Vec<(u32, u32, u32)> = STANDARD_RUNGS
        .iter()
        .filter(|(short, _)| *short <= source_short)
        .map(|&(short, bitrate)| (short, even(f64::from(short) * aspect), bitrate))
        .collect();
    if rungs.is_empty() {
        // Round the short side down, so even a tiny source is never upscaled by more than the aspect rounding.
        let short = (source_short & !1).max(2);
        let long = even(f64::from(short) * aspect);
        let smallest = STANDARD_RUNGS[STANDARD_RUNGS.len() - 1];
        let reference_pixels = f64::from(smallest.0) * f64::from(smallest.0) * 16.0 / 9.0;
        let share = f64::from(short) * f64::from(long) / reference_pixels;
        let bitrate = ((f64::from(smallest.1) * share) as u32).clamp(MIN_VIDEO_BITRATE, smallest.1);
        rungs.push((short, long, bitrate));
    }

    let last = rungs.len() - 1;
    rungs
        .into_iter()
        .enumerate()
        .map(|(i, (short, long, video_max_bitrate))| {
            let (width, height) = if portrait { (short, long) } else { (long, short) };
            Rung {
                name: format!("{short}p"),
                width,
                height,
                video_max_bitrate,
                audio_bitrate: if i == last { LOW_AUDIO_BITRATE } else { AUDIO_BITRATE },
            }
        })
        .collect()
}

/// Nearest even number, at least 2.
fn even(x: f64) -> u32 {
    (((x / 2.0).round() as u32) * 2).max(2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::VideoInfo;

    fn video(width: u32, height: u32) -> MediaInfo {
        MediaInfo {
            duration_secs: 10.0,
            video: Some(VideoInfo { width, height, frame_rate: 30.0, codec: "h264".into(), bit_depth: 8 }),
            has_audio: true,
        }
    }

    fn dims(ladder: &[Rung]) -> Vec<(String, u32, u32)> {
        ladder.iter().map(|r| (r.name.clone(), r.width, r.height)).collect()
    }

    fn d(name: &str, w: u32, h: u32) -> (String, u32, u32) {
        (name.to_owned(), w, h)
    }

    #[test]
    fn landscape_1080p_gets_four_rungs() {
        let ladder = ladder_for(&video(1920, 1080));
        assert_eq!(
            dims(&ladder),
            [d("1080p", 1920, 1080), d("720p", 1280, 720), d("540p", 960, 540), d("360p", 640, 360)]
        );
        let rates: Vec<_> = ladder.iter().map(|r| (r.video_max_bitrate, r.audio_bitrate)).collect();
        assert_eq!(rates, [(8_500_000, 128_000), (6_000_000, 128_000), (3_500_000, 128_000), (1_500_000, 64_000)]);
    }

    #[test]
    fn four_k_tops_out_at_1080p() {
        assert_eq!(dims(&ladder_for(&video(3840, 2160))), dims(&ladder_for(&video(1920, 1080))));
        // DCI 4K is a little wider than 16:9.
        assert_eq!(dims(&ladder_for(&video(4096, 2160)))[0], d("1080p", 2048, 1080));
    }

    #[test]
    fn portrait_uses_the_short_side() {
        assert_eq!(
            dims(&ladder_for(&video(1080, 1920))),
            [d("1080p", 1080, 1920), d("720p", 720, 1280), d("540p", 540, 960), d("360p", 360, 640)]
        );
        assert_eq!(dims(&ladder_for(&video(360, 640))), [d("360p", 360, 640)]);
    }

    #[test]
    fn never_upscales() {
        assert_eq!(
            dims(&ladder_for(&video(1280, 720))),
            [d("720p", 1280, 720), d("540p", 960, 540), d("360p", 640, 360)]
        );
        assert_eq!(dims(&ladder_for(&video(640, 360))), [d("360p", 640, 360)]);
        // 4:3 SD: 480 short side.
        assert_eq!(dims(&ladder_for(&video(640, 480))), [d("360p", 480, 360)]);
    }

    #[test]
    fn odd_sources_get_even_outputs() {
        assert_eq!(
            dims(&ladder_for(&video(1917, 1079))),
            [d("720p", 1280, 720), d("540p", 960, 540), d("360p", 640, 360)]
        );
        assert_eq!(dims(&ladder_for(&video(642, 362))), [d("360p", 638, 360)]);
        for (w, h) in
            [(1917, 1079), (642, 362), (641, 361), (333, 187), (187, 333), (2001, 999), (1001, 3001), (3, 3), (1, 1)]
        {
            for rung in ladder_for(&video(w, h)) {
                assert!(
                    rung.width % 2 == 0 && rung.height % 2 == 0 && rung.width > 0 && rung.height > 0,
                    "{w}x{h} -> {rung:?}"
                );
            }
        }
    }

    #[test]
    fn tiny_sources_get_one_rung_at_their_own_size() {
        let ladder = ladder_for(&video(320, 240));
        assert_eq!(dims(&ladder), [d("240p", 320, 240)]);
        assert_eq!(ladder[0].audio_bitrate, LOW_AUDIO_BITRATE);
        assert!(ladder[0].video_max_bitrate >= MIN_VIDEO_BITRATE && ladder[0].video_max_bitrate < 1_500_000);
        assert_eq!(dims(&ladder_for(&video(333, 187))), [d("186p", 332, 186)]);
        assert_eq!(dims(&ladder_for(&video(176, 144))), [d("144p", 176, 144)]);
        assert_eq!(dims(&ladder_for(&video(144, 176))), [d("144p", 144, 176)]);
    }

    #[test]
    fn audio_only_and_empty_frames_get_no_ladder() {
        assert!(ladder_for(&MediaInfo { duration_secs: 3.0, video: None, has_audio: true }).is_empty());
        assert!(ladder_for(&video(0, 0)).is_empty());
    }
}
