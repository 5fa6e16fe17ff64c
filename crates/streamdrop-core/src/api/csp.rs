//! The app window's Content-Security-Policy names the one origin its media
//! comes from (the hosted connection's edge: [`Session::media_origin`]), not
//! every port on 127.0.0.1 nor every CloudFront distribution. That origin is
//! known only at run time, so a shell adds it to its configured policy as it
//! serves each page.
//!
//! [`Session::media_origin`]: super::Session::media_origin

/// The directives media loads through: the player's segments and playlists
/// (hls.js fetches them), posters, and the `<video>` element itself.
const MEDIA_DIRECTIVES: [&str; 3] = ["connect-src", "img-src", "media-src"];

/// `csp` with `origin` allowed in the media directives (each added when
/// missing); without an origin the policy stays as configured, which loads
/// media from nowhere but the app itself.
pub fn with_media_origin(csp: &str, origin: Option<&str>) -> String {
    let Some(origin) = origin else { return csp.to_owned() };
    let mut directives: Vec<String> =
        csp.split(';').map(str::trim).filter(|d| !d.is_empty()).map(str::to_owned).collect();
    for name in MEDIA_DIRECTIVES {
        match directives.iter_mut().find(|d| d.split(' ').next() == Some(name)) {
            Some(directive) => {
                directive.push(' ');
                directive.push_str(origin);
            }
            None => directives.push(format!("{name} {origin}")),
        }
    }
    directives.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIGURED: &str = "default-src 'self'; media-src 'self' blob:; img-src 'self' data:; base-uri 'none'";

    fn sources(csp: &str, directive: &str) -> Vec<String> {
        csp.split(';')
            .map(str::trim)
            .find_map(|d| {
                d.strip_prefix(directive)?.strip_prefix(' ').map(|rest| rest.split(' ').map(String::from).collect())
            })
            .unwrap_or_default()
    }

    #[test]
    fn the_media_origin_is_added_to_every_media_directive_and_nowhere_else() {
        let csp = with_media_origin(CONFIGURED, Some("http://127.0.0.1:4000"));
        for directive in MEDIA_DIRECTIVES {
            assert!(sources(&csp, directive).contains(&"http://127.0.0.1:4000".to_owned()), "{directive}: {csp}");
        }
        assert_eq!(sources(&csp, "media-src"), ["'self'", "blob:", "http://127.0.0.1:4000"]);
        assert_eq!(sources(&csp, "default-src"), ["'self'"]);
        assert_eq!(sources(&csp, "base-uri"), ["'none'"]);
        assert!(!csp.contains('*'), "{csp}");
        assert!(csp.starts_with("default-src 'self'; media-src 'self' blob: http://127.0.0.1:4000;"), "{csp}");
    }

    #[test]
    fn without_an_origin_no_media_is_allowed_from_anywhere_else() {
        assert_eq!(with_media_origin(CONFIGURED, None), CONFIGURED);
    }
}
