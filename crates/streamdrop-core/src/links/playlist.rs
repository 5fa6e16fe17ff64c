//! Rewriting HLS playlists so every URI is absolute and carries a signed
//! query. Players resolve relative URIs per RFC 3986 and drop the query, so a
//! signed master alone would get 403 on its variants and segments.

use url::Url;

/// Tags whose `URI="…"` attribute names another resource.
const URI_TAGS: &[&str] = &[
    "#EXT-X-MEDIA:",
    "#EXT-X-I-FRAME-STREAM-INF:",
    "#EXT-X-MAP:",
    "#EXT-X-KEY:",
    "#EXT-X-SESSION-KEY:",
    "#EXT-X-PART:",
    "#EXT-X-PRELOAD-HINT:",
    "#EXT-X-RENDITION-REPORT:",
];

/// Calls `map` with every URI of `playlist` resolved against `base` (the
/// playlist's own URL), and puts what it returns in its place.
pub fn rewrite(
    playlist: &str,
    base: &Url,
    mut map: impl FnMut(Url) -> Result<String, String>,
) -> Result<String, String> {
    let mut out = String::with_capacity(playlist.len() * 2);
    for line in playlist.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            out.push_str(line);
        } else if !trimmed.starts_with('#') {
            out.push_str(&map(resolve(base, trimmed)?)?);
        } else if URI_TAGS.iter().any(|tag| trimmed.starts_with(tag)) {
            out.push_str(&rewrite_uri_attribute(trimmed, base, &mut map)?);
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    Ok(out)
}

fn resolve(base: &Url, reference: &str) -> Result<Url, String> {
    base.join(reference).map_err(|e| format!("the playlist names {reference:?}, which is not a URI: {e}"))
}

fn rewrite_uri_attribute(
    tag: &str,
    base: &Url,
    map: &mut impl FnMut(Url) -> Result<String, String>,
) -> Result<String, String> {
    let Some(start) = tag.find("URI=\"").map(|i| i + 5) else { return Ok(tag.to_owned()) };
    let Some(len) = tag[start..].find('"') else {
        return Err(format!("unterminated URI attribute in {tag:?}"));
    };
    let uri = &tag[start..start + len];
    Ok(format!("{}{}{}", &tag[..start], map(resolve(base, uri)?)?, &tag[start + len..]))
}

/// The URIs a master playlist names (variants, renditions), resolved.
#[cfg(test)]
pub fn referenced(playlist: &str, base: &Url) -> Result<Vec<Url>, String> {
    let mut found = Vec::new();
    rewrite(playlist, base, |url| {
        found.push(url);
        Ok(String::new())
    })?;
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MASTER: &str = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",NAME=\"en\",URI=\"audio/index.m3u8\"\n#EXT-X-STREAM-INF:BANDWIDTH=1500000,RESOLUTION=640x360\n360p/index.m3u8\n\n#EXT-X-STREAM-INF:BANDWIDTH=6000000\nhttps://other.example/720p.m3u8?x=1\n";

    #[test]
    fn every_uri_is_resolved_and_mapped_and_tags_are_kept() {
        let base = Url::parse("https://d1.cloudfront.net/jobs/J/hls/master.m3u8").unwrap();
        let out = rewrite(MASTER, &base, |url| Ok(format!("{url}#signed"))).unwrap();
        assert!(out.contains("URI=\"https://d1.cloudfront.net/jobs/J/hls/audio/index.m3u8#signed\""), "{out}");
        assert!(out.contains("\nhttps://d1.cloudfront.net/jobs/J/hls/360p/index.m3u8#signed\n"), "{out}");
        assert!(out.contains("\nhttps://other.example/720p.m3u8?x=1#signed\n"), "{out}");
        assert!(out.contains("#EXT-X-STREAM-INF:BANDWIDTH=1500000,RESOLUTION=640x360\n"));
        assert!(!out.lines().any(|l| !l.is_empty() && !l.starts_with('#') && !l.ends_with("#signed")));
    }

    #[test]
    fn segments_and_maps_in_a_variant() {
        let base = Url::parse("http://127.0.0.1:9/jobs/J/hls/360p/index.m3u8").unwrap();
        let variant = "#EXTM3U\n#EXT-X-MAP:URI=\"init.mp4\"\n#EXTINF:6.0,\nseg_00000.ts\n#EXTINF:2.5,\n../360p/seg_00001.ts\n#EXT-X-ENDLIST\n";
        let urls = referenced(variant, &base).unwrap();
        let urls: Vec<_> = urls.iter().map(Url::as_str).collect();
        assert_eq!(
            urls,
            [
                "http://127.0.0.1:9/jobs/J/hls/360p/init.mp4",
                "http://127.0.0.1:9/jobs/J/hls/360p/seg_00000.ts",
                "http://127.0.0.1:9/jobs/J/hls/360p/seg_00001.ts"
            ]
        );
    }

    proptest::proptest! {
        #![proptest_config(crate::testing::proptest_config(256))]

        /// Rewriting changes URIs and nothing else: every other line, blank
        /// lines and tags without a URI included, comes out as it went in.
        #[test]
        fn only_uris_change(lines in proptest::collection::vec(proptest::prop_oneof![
            proptest::strategy::Just(String::new()),
            "#EXT[-A-Z]{0,12}:[ -~&&[^\"]]{0,20}",
            "[a-z0-9_./]{1,12}",
            "#EXT-X-MAP:URI=\"[a-z0-9_./]{1,12}\"",
        ], 0..20)) {
            let base = Url::parse("http://127.0.0.1:9/jobs/J/stream/hls/720p/index.m3u8").unwrap();
            let playlist = lines.join("\n");
            let Ok(out) = rewrite(&playlist, &base, |url| Ok(format!("<{url}>"))) else { return Ok(()) };
            let out: Vec<&str> = out.lines().collect();
            proptest::prop_assert_eq!(out.len(), playlist.lines().count());
            for (before, after) in playlist.lines().zip(&out) {
                let before = before.trim();
                if before.is_empty() || (before.starts_with('#') && !before.contains("URI=\"")) {
                    proptest::prop_assert_eq!(before, after.trim());
                } else {
                    proptest::prop_assert!(after.contains("<http://127.0.0.1:9/"), "{} -> {}", before, after);
                }
            }
        }
    }

    #[test]
    fn a_broken_uri_attribute_is_an_error() {
        let base = Url::parse("http://127.0.0.1:9/m.m3u8").unwrap();
        assert!(rewrite("#EXTM3U\n#EXT-X-MAP:URI=\"init.mp4\n", &base, |u| Ok(u.to_string())).is_err());
    }
}
