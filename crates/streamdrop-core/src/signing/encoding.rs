//! The two encodings CloudFront signing depends on: its URL-safe variant of
//! base64, and the percent-encoding of the URLs written into policies.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

/// Encodes `bytes` the way CloudFront wants policies and signatures in URLs
/// and cookies: standard base64 (with padding) in which `+` becomes `-`, `=`
/// becomes `_` and `/` becomes `~`.
pub(crate) fn cloudfront_base64(bytes: &[u8]) -> String {
    STANDARD
        .encode(bytes)
        .chars()
        .map(|c| match c {
            '+' => '-',
            '=' => '_',
            '/' => '~',
            other => other,
        })
        .collect()
}

/// Reverses [`cloudfront_base64`]. Only CloudFront's alphabet is accepted:
/// a value with `+`, `/` or `=` was not produced by a CloudFront signer.
pub(crate) fn cloudfront_base64_decode(text: &str) -> Option<Vec<u8>> {
    if text.contains(['+', '/', '=']) {
        return None;
    }
    let standard: String = text
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '=',
            '~' => '/',
            other => other,
        })
        .collect();
    STANDARD.decode(standard).ok()
}

/// Percent-encodes `url` so that it is exactly what an HTTP client sends for
/// it, which is what CloudFront compares a policy's `Resource` against.
///
/// - Unreserved characters (`A-Z a-z 0-9 - . _ ~`) and the reserved characters
///   that give a URL its structure (`: / ? # [ ] @ ! $ & ( ) * + , ; =`) are
///   kept, so `*` and `?` keep their wildcard meaning in custom policies.
/// - A `%` followed by two hex digits is an existing escape and is kept as it
///   is (no double encoding); any other `%` becomes `%25`.
/// - Everything else is encoded as `%XX` (upper-case hex) of its UTF-8 bytes:
///   spaces, non-ASCII characters, control characters, `"`, `\`, `<`, `>`,
///   `^`, `` ` ``, `{`, `|`, `}` and also `'`, which browsers encode in query
///   strings themselves (the URL would then no longer match its signature).
///
/// The result only contains characters that need no JSON escaping, which is
/// what keeps a resource from ever breaking out of the policy document.
/// Encoding is idempotent: encoding an encoded URL changes nothing.
pub fn percent_encode_url(url: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let bytes = url.as_bytes();
    let mut out = String::with_capacity(url.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let keep = b.is_ascii_alphanumeric()
            || b"-._~:/?#[]@!$&()*+,;=".contains(&b)
            || (b == b'%'
                && bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit));
        if keep {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 0x0f)] as char);
        }
        i += 1;
    }
    out
}

/// Decodes `%XX` escapes in a query-parameter value. Invalid escapes are kept
/// literally; the result is only used for values of CloudFront's own
/// parameters, whose alphabet never needs escaping in the first place.
pub(crate) fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && bytes[i + 1].is_ascii_hexdigit()
            && bytes[i + 2].is_ascii_hexdigit()
        {
            let hex = |b: u8| (b as char).to_digit(16).unwrap_or(0) as u8;
            out.push(hex(bytes[i + 1]) << 4 | hex(bytes[i + 2]));
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_uses_cloudfronts_three_substitutions() {
        // 0xfb 0xff 0xbf encodes to "+/+/" in standard base64; one byte pads with "==".
        assert_eq!(cloudfront_base64(&[0xfb, 0xff, 0xbf]), "-~-~");
        assert_eq!(cloudfront_base64(b"a"), "YQ__");
        assert_eq!(cloudfront_base64(b""), "");
        let all: Vec<u8> = (0..=255).collect();
        let encoded = cloudfront_base64(&all);
        assert!(!encoded.contains(['+', '/', '=']), "{encoded}");
        assert_eq!(cloudfront_base64_decode(&encoded).unwrap(), all);
    }

    #[test]
    fn base64_decode_refuses_the_standard_alphabet_and_garbage() {
        assert_eq!(cloudfront_base64_decode("YQ__").unwrap(), b"a");
        assert!(cloudfront_base64_decode("YQ==").is_none());
        assert!(cloudfront_base64_decode("+/+/").is_none());
        assert!(cloudfront_base64_decode("YQ_").is_none(), "truncated padding");
        assert!(cloudfront_base64_decode("Y!Q_").is_none());
    }

    #[test]
    fn percent_encoding_encodes_spaces_and_non_ascii_as_utf8() {
        assert_eq!(
            percent_encode_url("https://d111111abcdef8.cloudfront.net/jobs/Clip été 1.mp4"),
            "https://d111111abcdef8.cloudfront.net/jobs/Clip%20%C3%A9t%C3%A9%201.mp4"
        );
        assert_eq!(percent_encode_url("https://h/日本.ts"), "https://h/%E6%97%A5%E6%9C%AC.ts");
        assert_eq!(percent_encode_url("https://h/a\"b\\c'd"), "https://h/a%22b%5Cc%27d");
        assert_eq!(percent_encode_url("https://h/a\tb\n"), "https://h/a%09b%0A");
        assert_eq!(percent_encode_url("https://h/{x}|^`<>"), "https://h/%7Bx%7D%7C%5E%60%3C%3E");
    }

    #[test]
    fn percent_encoding_keeps_url_structure_wildcards_and_existing_escapes() {
        let structured = "https://user@h:8443/a-b_c.~d/*/e?f=1&g=a+b,c;d!$()[]#frag";
        assert_eq!(percent_encode_url(structured), structured);
        assert_eq!(percent_encode_url("https://h/a%20b%2Fc%e9"), "https://h/a%20b%2Fc%e9");
        // A '%' that starts no escape is itself encoded.
        assert_eq!(percent_encode_url("https://h/100%"), "https://h/100%25");
        assert_eq!(percent_encode_url("https://h/100%zz"), "https://h/100%25zz");
        assert_eq!(percent_encode_url("https://h/%4"), "https://h/%254");
    }

    #[test]
    fn percent_encoding_is_idempotent() {
        for raw in ["https://h/Clip été 1.mp4", "https://h/100% done?x=a b", "https://h/%41%zz"] {
            let once = percent_encode_url(raw);
            assert_eq!(percent_encode_url(&once), once, "{raw}");
        }
    }

    #[test]
    fn percent_decode_handles_escapes_and_leaves_broken_ones() {
        assert_eq!(percent_decode("K%32AB"), "K2AB");
        assert_eq!(percent_decode("a~b-c_"), "a~b-c_");
        assert_eq!(percent_decode("%7E%7e"), "~~");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("%+1"), "%+1");
    }
}
