//! What a source holds, and the renditions made of it.

use serde::{Deserialize, Serialize};

/// What the source holds, from ffprobe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MediaInfo {
    pub duration_secs: f64,
    /// `None` for audio-only sources.
    pub video: Option<VideoInfo>,
    pub has_audio: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VideoInfo {
    /// As displayed, after any rotation metadata is applied.
    pub width: u32,
    pub height: u32,
    pub frame_rate: f64,
    pub codec: String,
    /// Bits per sample of the luma plane (8, 10, …).
    pub bit_depth: u8,
}

/// One rendition of the ABR ladder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rung {
    /// Used in output names, e.g. `720p`.
    pub name: String,
    pub width: u32,
    pub height: u32,
    /// Peak video bitrate, bits per second.
    pub video_max_bitrate: u32,
    pub audio_bitrate: u32,
}

impl Rung {
    /// The short side: what tiers a rendition (quality, profile), so a
    /// portrait clip is encoded like its landscape twin.
    pub fn short_side(&self) -> u32 {
        self.width.min(self.height)
    }
}

/// Segment and keyframe cadence shared by every backend (Apple's authoring spec).
pub const SEGMENT_SECONDS: u32 = 6;
pub const GOP_SECONDS: u32 = 2;
