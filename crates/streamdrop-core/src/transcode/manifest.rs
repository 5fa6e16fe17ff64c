//! What a backend wrote, read back from the bucket once it says it is done:
//! the [`OutputManifest`] that links, the player, `--json` and storyboards use.
//!
//! Each backend names its files its own way ([`Naming`]); the manifest is
//! made from what the listing of the job's prefix actually holds, and from
//! the master playlist itself (its variants), so nothing downstream assumes a
//! name a backend might not have written.

use aws_sdk_s3::Client;
use url::Url;

use crate::model::{OutputLayout, OutputManifest, Thumbnail, Variant};

/// Where a backend puts its outputs, relative to the job's layout prefix.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Naming {
    /// The master playlist.
    pub master: &'static str,
    /// Folders its thumbnails may be in (the first that holds any wins).
    pub thumbnails: &'static [&'static str],
    /// Seconds between thumbnails, the first at 0.
    pub thumbnail_interval_secs: f64,
    /// The names its poster may have (none: it makes no poster).
    pub posters: &'static [&'static str],
}

impl Naming {
    /// Jobs finished before manifests were recorded: any backend's names.
    pub const EARLIER_VERSIONS: Naming = Naming {
        master: "hls/master.m3u8",
        thumbnails: &["thumbs/", "hls/thumbs/"],
        thumbnail_interval_secs: 10.0,
        posters: &["poster.jpg", "poster.0000000.jpg"],
    };
}

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("the transcoder wrote no master playlist at {0}")]
    NoMaster(String),
    #[error("cannot list or read the outputs: {0}")]
    Storage(String),
    #[error("the master playlist {key} is not usable: {why}")]
    BadMaster { key: String, why: String },
}

/// Lists `layout`'s prefix and reads its master playlist: the manifest of
/// what `naming`'s backend wrote there. A backend that makes no poster
/// (Elastic Transcoder) gets the thumbnail nearest [`super::poster_time`] of
/// the source's `duration_secs`: every backend's poster is of that moment, as
/// near as its outputs come.
pub async fn scan(
    client: &Client,
    layout: &OutputLayout,
    naming: &Naming,
    duration_secs: f64,
) -> Result<OutputManifest, ManifestError> {
    let keys = list(client, &layout.bucket, &format!("{}/", layout.prefix)).await?;
    let below = |relative: &str| format!("{}/{relative}", layout.prefix);
    let master = below(naming.master);
    if !keys.contains(&master) {
        return Err(ManifestError::NoMaster(format!("s3://{}/{master}", layout.bucket)));
    }
    let text = read_text(client, &layout.bucket, &master).await?;
    let variants = variants_of(&master, &text).map_err(|why| ManifestError::BadMaster { key: master.clone(), why })?;
    let thumbnails: Vec<Thumbnail> = naming
        .thumbnails
        .iter()
        .map(|folder| {
            let folder = below(folder);
            let mut found: Vec<&String> = keys
                .iter()
                .filter(|k| k.starts_with(&folder) && is_image(k) && !k[folder.len()..].contains('/'))
                .collect();
            found.sort();
            found
        })
        .find(|found| !found.is_empty())
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, key)| Thumbnail { key: key.clone(), time_secs: i as f64 * naming.thumbnail_interval_secs })
        .collect();
    let poster = naming
        .posters
        .iter()
        .map(|name| below(name))
        .find(|key| keys.contains(key))
        .or_else(|| nearest(&thumbnails, super::poster_time(duration_secs)));
    Ok(OutputManifest { master, variants, thumbnails, poster })
}

/// The key of the thumbnail taken nearest `time_secs`.
fn nearest(thumbnails: &[Thumbnail], time_secs: f64) -> Option<String> {
    thumbnails
        .iter()
        .min_by(|a, b| (a.time_secs - time_secs).abs().total_cmp(&(b.time_secs - time_secs).abs()))
        .map(|t| t.key.clone())
}

fn is_image(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    lower.ends_with(".jpg") || lower.ends_with(".jpeg") || lower.ends_with(".png")
}

/// Every key under `prefix` (paged).
async fn list(client: &Client, bucket: &str, prefix: &str) -> Result<Vec<String>, ManifestError> {
    let mut keys = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .set_continuation_token(token.clone())
            .send()
            .await
            .map_err(|e| ManifestError::Storage(aws_sdk_s3::error::DisplayErrorContext(&e).to_string()))?;
        keys.extend(page.contents().iter().filter_map(|o| o.key().map(str::to_owned)));
        match page.next_continuation_token() {
            Some(next) if page.is_truncated() == Some(true) => token = Some(next.to_owned()),
            _ => return Ok(keys),
        }
    }
}

async fn read_text(client: &Client, bucket: &str, key: &str) -> Result<String, ManifestError> {
    let storage = |e: String| ManifestError::Storage(format!("s3://{bucket}/{key}: {e}"));
    let object = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| storage(aws_sdk_s3::error::DisplayErrorContext(&e).to_string()))?;
    let bytes = object.body.collect().await.map_err(|e| storage(e.to_string()))?.into_bytes();
    String::from_utf8(bytes.to_vec())
        .map_err(|_| ManifestError::BadMaster { key: key.to_owned(), why: "not text".into() })
}

/// The renditions a master playlist at `master_key` lists: each
/// `#EXT-X-STREAM-INF`'s URI (relative ones resolved to keys beside the
/// master), `BANDWIDTH` and `RESOLUTION`, in order.
pub fn variants_of(master_key: &str, text: &str) -> Result<Vec<Variant>, String> {
    let base = Url::parse("s3://bucket/").and_then(|b| b.join(master_key)).map_err(|e| e.to_string())?;
    // Every backend writes its renditions beside the master or below it.
    let folder = master_key.rsplit_once('/').map_or("", |(dir, _)| dir);
    let mut variants = Vec::new();
    let mut pending: Option<&str> = None;
    for line in text.lines().map(str::trim) {
        if let Some(attributes) = line.strip_prefix("#EXT-X-STREAM-INF:") {
            pending = Some(attributes);
        } else if let Some(attributes) = pending.filter(|_| !line.is_empty() && !line.starts_with('#')) {
            let url = base.join(line).map_err(|e| format!("{line}: {e}"))?;
            let playlist = percent_encoding::percent_decode_str(url.path().trim_start_matches('/')).decode_utf8_lossy();
            let inside =
                url.scheme() == "s3" && url.host_str() == Some("bucket") && playlist.starts_with(&format!("{folder}/"));
            if !inside {
                return Err(format!("{line} points outside the master's folder"));
            }
            variants.push(Variant {
                playlist: playlist.into_owned(),
                bandwidth: attribute(attributes, "BANDWIDTH").and_then(|b| b.parse().ok()),
                resolution: attribute(attributes, "RESOLUTION")
                    .and_then(|r| r.split_once('x'))
                    .and_then(|(w, h)| Some((w.parse().ok()?, h.parse().ok()?))),
            });
            pending = None;
        }
    }
    if variants.is_empty() {
        return Err("it lists no variant".into());
    }
    Ok(variants)
}

/// An attribute of an HLS attribute list (`BANDWIDTH=800000,RESOLUTION=640x360,CODECS="…,…"`).
fn attribute<'a>(list: &'a str, name: &str) -> Option<&'a str> {
    let mut rest = list;
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=')?;
        let (value, next) = match after.strip_prefix('"') {
            Some(quoted) => {
                let end = quoted.find('"')?;
                (&quoted[..end], quoted[end + 1..].trim_start_matches(','))
            }
            None => after.split_once(',').unwrap_or((after, "")),
        };
        if key.trim() == name {
            return Some(value);
        }
        rest = next;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backend_without_a_poster_gets_the_thumbnail_nearest_the_poster_moment() {
        let thumbs: Vec<Thumbnail> =
            (0..5).map(|i| Thumbnail { key: format!("t{i}.jpg"), time_secs: f64::from(i) * 60.0 }).collect();
        // 10 % into 20 minutes is 2 minutes: the third thumbnail.
        assert_eq!(nearest(&thumbs, super::super::poster_time(1200.0)).as_deref(), Some("t2.jpg"));
        assert_eq!(nearest(&thumbs, super::super::poster_time(3.0)).as_deref(), Some("t0.jpg"));
        assert_eq!(nearest(&[], 5.0), None);
    }

    #[test]
    fn variants_are_read_from_the_master_in_order() {
        let master = "#EXTM3U\n#EXT-X-VERSION:3\n\
            #EXT-X-STREAM-INF:BANDWIDTH=1400000,RESOLUTION=1280x720,CODECS=\"avc1.64001f,mp4a.40.2\"\n720p/index.m3u8\n\
            #EXT-X-STREAM-INF:RESOLUTION=640x360,BANDWIDTH=800000\nmaster_360p.m3u8\n";
        let variants = variants_of("jobs/a/hls/master.m3u8", master).unwrap();
        assert_eq!(
            variants,
            [
                Variant {
                    playlist: "jobs/a/hls/720p/index.m3u8".into(),
                    bandwidth: Some(1_400_000),
                    resolution: Some((1280, 720))
                },
                Variant {
                    playlist: "jobs/a/hls/master_360p.m3u8".into(),
                    bandwidth: Some(800_000),
                    resolution: Some((640, 360))
                },
            ]
        );
    }

    #[test]
    fn a_master_that_points_elsewhere_or_lists_nothing_is_refused() {
        for outside in ["https://elsewhere.example/x.m3u8", "../../b/hls/index.m3u8"] {
            let master = format!("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n{outside}\n");
            assert!(variants_of("jobs/a/hls/master.m3u8", &master).is_err(), "{outside}");
        }
        assert!(variants_of("jobs/a/hls/master.m3u8", "#EXTM3U\n").is_err());
        let names = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nA%20take/index.m3u8\n";
        assert_eq!(variants_of("jobs/a/hls/master.m3u8", names).unwrap()[0].playlist, "jobs/a/hls/A take/index.m3u8");
    }
}
