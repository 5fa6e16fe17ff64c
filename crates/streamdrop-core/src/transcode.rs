//! Transcoding to HLS (issue #5): one trait, with MediaConvert, Elastic
//! Transcoder (legacy) and local ffmpeg behind it, writing one output layout.
