//! The local edge in front of the real embedded S3 server, over HTTP on
//! 127.0.0.1: CloudFront's signed URL and cookie rules, objects, ranges, CORS,
//! key rotation, and ffmpeg playing a signed HLS stream through it.
//!
//! Requests go out over a plain TcpStream, byte for byte as written here, so
//! the tests control the exact request target and Host header.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_s3::primitives::ByteStream;
use streamdrop_core::local::edge::{Edge, EdgeOptions};
use streamdrop_core::signing::{
    query_string, sign_url, signed_cookies, HashAlgorithm, Policy, PrivateKey, PublicKeySet, SignedQuery, SigningKey,
};
use streamdrop_core::stack::{LocalStackOptions, LOCAL_UPLOADS_BUCKET};
use streamdrop_core::{DataDir, LocalStack};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

const MASTER: &str = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=200000\n360p/index.m3u8\n";
const POSTER: &[u8] = b"\xff\xd8\xff\xe0 not really a jpeg, but bytes all the same";
const SEGMENT: &str = "jobs/A/hls/360p/seg_00000.ts";

/// Varied bytes, so a misplaced range shows.
fn segment_bytes() -> Vec<u8> {
    (0..4096u32).map(|i| (i * 31 % 251) as u8).collect()
}

/// The RSA key of these tests, generated once (generation takes seconds in
/// debug builds).
fn rsa_key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| {
        SigningKey::new("K1", PrivateKey::generate_rsa_2048().expect("generate RSA key"), HashAlgorithm::Sha1).unwrap()
    })
}

/// The same private key under a key pair ID the edge does not know.
fn unknown_key() -> SigningKey {
    SigningKey::from_pem("K9UNKNOWN", &rsa_key().private_key_pem(), HashAlgorithm::Sha1).unwrap()
}

fn ecdsa_key(id: &str) -> SigningKey {
    SigningKey::new(id, PrivateKey::generate_ecdsa_p256().unwrap(), HashAlgorithm::Sha256).unwrap()
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn in_an_hour() -> u64 {
    now() + 3600
}

struct Fixture {
    _tmp: tempfile::TempDir,
    stack: LocalStack,
    edge: Edge,
}

impl Fixture {
    /// A local stack with two jobs' objects, and an edge trusting `keys`.
    async fn start(keys: &[&SigningKey], options: EdgeOptions) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let data_dir = DataDir::at(tmp.path().join("data")).unwrap();
        let stack = LocalStack::start(&data_dir, LocalStackOptions::default()).await.unwrap();
        let mut trusted = PublicKeySet::new();
        for key in keys {
            trusted.insert(key.key_pair_id(), key.public_key()).unwrap();
        }
        let storage = stack.storage();
        let edge = Edge::start(storage.client.clone(), storage.buckets.media.clone(), trusted, options).await.unwrap();
        let fx = Self { _tmp: tmp, stack, edge };
        fx.put("jobs/A/hls/master.m3u8", MASTER.as_bytes(), "application/vnd.apple.mpegurl").await;
        fx.put(SEGMENT, &segment_bytes(), "video/mp2t").await;
        fx.put("jobs/A/My Clip é.mp4", b"clip bytes", "video/mp4").await;
        fx.put("jobs/B/poster.jpg", POSTER, "image/jpeg").await;
        fx
    }

    async fn put(&self, key: &str, bytes: &[u8], content_type: &str) {
        let storage = self.stack.storage();
        self.put_in(&storage.buckets.media, key, bytes, content_type).await;
    }

    async fn put_in(&self, bucket: &str, key: &str, bytes: &[u8], content_type: &str) {
        self.stack
            .storage()
            .client
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(bytes.to_vec()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("put {key}: {e:?}"));
    }

    /// `http://127.0.0.1:PORT/<path>`
    fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.edge.base_url())
    }

    /// A canned-policy URL for `path`, valid for an hour.
    fn canned(&self, path: &str, key: &SigningKey) -> String {
        let url = self.url(path);
        sign_url(&url, &Policy::canned(&url, in_an_hour()).unwrap(), key).unwrap().into_string()
    }

    /// The signed query of a custom policy for all of job `job`.
    fn job_query(&self, job: &str, expires: u64) -> SignedQuery {
        let policy = Policy::custom(&self.url(&format!("jobs/{job}/*")), expires).build().unwrap();
        query_string(&policy, rsa_key()).unwrap()
    }

    async fn get(&self, url: &str) -> Reply {
        request("GET", url, &[]).await
    }
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Status, headers, and the start of the body as text (bodies can be long binaries).
impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = self.text();
        let start: String = text.chars().take(300).collect();
        f.debug_struct("Reply")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body_len", &self.body.len())
            .field("body_start", &start)
            .finish()
    }
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Asserts a CloudFront-like 403 whose message contains `reason`.
    fn assert_denied(&self, reason: &str) {
        assert_eq!(self.status, 403, "{self:?}\n{}", self.text());
        assert_eq!(self.header("content-type"), Some("text/xml"), "{self:?}");
        let text = self.text();
        assert!(text.starts_with("<?xml"), "{text}");
        assert!(text.contains("<Error><Code>AccessDenied</Code><Message>Access denied: "), "{text}");
        let message = text.split_once("<Message>").unwrap().1.split_once("</Message>").unwrap().0;
        assert!(!message.contains(['<', '"']), "the message is escaped: {message}");
        let message = message
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&");
        assert!(message.contains(reason), "expected {reason:?} in {message}");
    }
}

/// One HTTP/1.1 request for an absolute `http://` URL, sent exactly as given
/// (a `Host` in `headers` replaces the URL's), read until the server closes.
async fn request(method: &str, url: &str, headers: &[(&str, &str)]) -> Reply {
    let rest = url.strip_prefix("http://").unwrap_or_else(|| panic!("not an http URL: {url}"));
    let (authority, target) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let target = if target.is_empty() { "/" } else { target };
    send(authority, method, target, headers).await
}

/// One HTTP/1.1 request with this exact request target, to `authority`.
async fn send(authority: &str, method: &str, target: &str, headers: &[(&str, &str)]) -> Reply {
    let addr: SocketAddr = authority.parse().unwrap();
    let mut head = format!("{method} {target} HTTP/1.1\r\n");
    if !headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("host")) {
        head.push_str(&format!("Host: {authority}\r\n"));
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("Connection: close\r\n\r\n");

    let mut stream = TcpStream::connect(addr).await.unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut raw))
        .await
        .expect("the edge did not answer in 30 s")
        .unwrap();

    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a complete response head");
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect();
    let mut reply = Reply { status, headers, body: raw[split + 4..].to_vec() };
    if reply.header("transfer-encoding").is_some_and(|te| te.eq_ignore_ascii_case("chunked")) {
        reply.body = dechunk(&reply.body);
    }
    reply
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = raw.windows(2).position(|w| w == b"\r\n").expect("chunk size line");
        let size_text = std::str::from_utf8(&raw[..line_end]).unwrap();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16).unwrap();
        raw = &raw[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&raw[..size]);
        raw = &raw[size + 2..];
    }
}

/// `url` with one character of its `Signature` value changed (to another
/// character of CloudFront's base64 alphabet, so it still decodes).
fn tamper(url: &str) -> String {
    let start = url.find("Signature=").unwrap() + "Signature=".len() + 10;
    let mut bytes = url.as_bytes().to_vec();
    bytes[start] = if bytes[start] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_url_serves_the_object_with_its_headers_head_and_ranges() {
    let fx = Fixture::start(&[rsa_key()], EdgeOptions::default()).await;
    assert!(fx.edge.base_url().starts_with("http://127.0.0.1:"), "{}", fx.edge.base_url());
    let bytes = segment_bytes();
    let url = fx.canned(SEGMENT, rsa_key());
    assert!(url.contains("?Expires=") && url.ends_with("&Key-Pair-Id=K1"), "{url}");

    let got = fx.get(&url).await;
    assert_eq!(got.status, 200, "{got:?}");
    assert!(got.body == bytes, "the body differs from the object");
    assert_eq!(got.header("content-type"), Some("video/mp2t"));
    assert_eq!(got.header("content-length"), Some("4096"));
    assert_eq!(got.header("accept-ranges"), Some("bytes"));
    let etag = got.header("etag").expect("an ETag");
    assert!(etag.starts_with('"') && etag.ends_with('"') && etag.len() > 2, "{etag}");
    assert!(got.header("last-modified").is_some_and(|date| date.ends_with(" GMT")), "{got:?}");
    assert_eq!(got.header("x-content-type-options"), Some("nosniff"));

    let head = request("HEAD", &url, &[]).await;
    assert_eq!(head.status, 200, "{head:?}");
    assert!(head.body.is_empty(), "HEAD has no body");
    assert_eq!(head.header("content-length"), Some("4096"), "{head:?}");
    assert_eq!(head.header("content-type"), Some("video/mp2t"));
    assert_eq!(head.header("etag"), Some(etag));

    let range = request("GET", &url, &[("Range", "bytes=10-19")]).await;
    assert_eq!(range.status, 206, "{range:?}");
    assert_eq!(range.body, bytes[10..20]);
    assert_eq!(range.header("content-range"), Some("bytes 10-19/4096"));
    assert_eq!(range.header("content-length"), Some("10"));

    let suffix = request("GET", &url, &[("Range", "bytes=-6")]).await;
    assert_eq!((suffix.status, suffix.body.as_slice()), (206, &bytes[4090..]));

    let beyond = request("GET", &url, &[("Range", "bytes=5000-")]).await;
    assert_eq!(beyond.status, 416, "{beyond:?}");
    assert_eq!(beyond.header("content-range"), Some("bytes */4096"));

    let playlist = fx.get(&fx.canned("jobs/A/hls/master.m3u8", rsa_key())).await;
    assert_eq!((playlist.status, playlist.text().as_str()), (200, MASTER));
    assert_eq!(playlist.header("content-type"), Some("application/vnd.apple.mpegurl"));

    let post = request("POST", &url, &[("Content-Length", "0")]).await;
    assert_eq!(post.status, 405, "{post:?}");
    // Refusals too: nothing the edge sends may be sniffed into another type.
    let refused = fx.get(&tamper(&url)).await;
    assert_eq!((refused.status, refused.header("x-content-type-options")), (403, Some("nosniff")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wildcard_policy_query_opens_every_object_of_its_job_and_nothing_else() {
    let fx = Fixture::start(&[rsa_key()], EdgeOptions::default()).await;
    let query = fx.job_query("A", in_an_hour());
    assert!(query.as_str().starts_with("Policy="), "{query}");

    let master = fx.get(&query.append_to(&fx.url("jobs/A/hls/master.m3u8"))).await;
    assert_eq!((master.status, master.text().as_str()), (200, MASTER));
    let segment = fx.get(&query.append_to(&fx.url(SEGMENT))).await;
    assert_eq!(segment.status, 200);
    assert!(segment.body == segment_bytes());
    // Other query parameters stay part of the URL the policy must cover.
    let versioned = fx.get(&query.append_to(&fx.url("jobs/A/hls/master.m3u8?v=2"))).await;
    assert_eq!(versioned.status, 200, "{versioned:?}");
    // A key with a space and non-ASCII letters, percent-encoded as the signer encodes it.
    let clip = fx.get(&query.append_to(&fx.url("jobs/A/My%20Clip%20%C3%A9.mp4"))).await;
    // (Dots inside names are ordinary characters.)
    fx.put("jobs/A/..hidden/x...ts", b"dots", "video/mp2t").await;
    assert_eq!(fx.get(&query.append_to(&fx.url("jobs/A/..hidden/x...ts"))).await.body, b"dots");
    assert_eq!((clip.status, clip.body.as_slice()), (200, &b"clip bytes"[..]), "{clip:?}");

    fx.get(&query.append_to(&fx.url("jobs/B/poster.jpg"))).await.assert_denied("the policy covers");
    fx.get(&query.append_to(&fx.url("jobs/AB/poster.jpg"))).await.assert_denied("the policy covers");

    // `jobs/A/*` matches these URLs, but their keys climb out of job A: never served.
    fx.put_in(LOCAL_UPLOADS_BUCKET, "secret.txt", b"upload bytes", "text/plain").await;
    for path in [
        "jobs/A/%2E%2E/B/poster.jpg",
        "jobs/A/%2e%2e/%2e%2e/%2E%2E/streamdrop-uploads/secret.txt",
        "jobs/A/..%5C..%5C..%5Cstreamdrop-uploads%5Csecret.txt",
        "jobs/A/%2E/%2E%2E/B/poster.jpg",
    ] {
        let escaped = fx.get(&query.append_to(&fx.url(path))).await;
        assert_eq!(escaped.status, 400, "{path}: {escaped:?}");
        assert!(escaped.text().contains("<Code>InvalidURI</Code>"), "{}", escaped.text());
        assert!(!escaped.text().contains("upload bytes") && !escaped.body.starts_with(POSTER));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_failing_cloudfronts_rules_get_403_with_the_reason() {
    let fx = Fixture::start(&[rsa_key()], EdgeOptions::default()).await;
    let url = fx.url(SEGMENT);
    let key = rsa_key();
    let custom = |policy: Policy| sign_url(&url, &policy, key).unwrap().into_string();

    // Sanity: the same URL signed properly is served.
    assert_eq!(fx.get(&fx.canned(SEGMENT, key)).await.status, 200);

    let expired = sign_url(&url, &Policy::canned(&url, now() - 10).unwrap(), key).unwrap();
    fx.get(expired.as_str()).await.assert_denied("the signature expired at");
    let expired_custom = custom(Policy::custom(&fx.url("jobs/A/*"), now() - 10).build().unwrap());
    fx.get(&expired_custom).await.assert_denied("the signature expired at");

    fx.get(&tamper(&fx.canned(SEGMENT, key))).await.assert_denied("the signature does not match");
    fx.get(&tamper(&fx.job_query("A", in_an_hour()).append_to(&url))).await.assert_denied("does not match");

    let later = custom(Policy::custom(&fx.url("jobs/A/*"), now() + 7200).not_before(now() + 3600).build().unwrap());
    fx.get(&later).await.assert_denied("is not valid until after");

    let elsewhere = custom(
        Policy::custom(&fx.url("jobs/A/*"), in_an_hour()).ip_range("10.0.0.0/8".parse().unwrap()).build().unwrap(),
    );
    fx.get(&elsewhere).await.assert_denied("outside the policy's allowed range 10.0.0.0/8");
    let here = custom(
        Policy::custom(&fx.url("jobs/A/*"), in_an_hour()).ip_range("127.0.0.0/8".parse().unwrap()).build().unwrap(),
    );
    assert_eq!(fx.get(&here).await.status, 200);

    fx.get(&fx.canned(SEGMENT, &unknown_key())).await.assert_denied("unknown key pair ID \"K9UNKNOWN\"");
    fx.get(&fx.canned(SEGMENT, &ecdsa_key("K2ECDSA"))).await.assert_denied("unknown key pair ID \"K2ECDSA\"");

    fx.get(&url).await.assert_denied("the request is not signed");
    fx.get(&format!("{url}?Expires={}", in_an_hour())).await.assert_denied("Key-Pair-Id is missing");
    // A canned signature is for one URL: not another object of the same job.
    let other = fx.canned("jobs/A/hls/master.m3u8", key).replace("hls/master.m3u8", "hls/360p/seg_00000.ts");
    fx.get(&other).await.assert_denied("the signature does not match");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ecdsa_keys_sign_with_sha256() {
    let ecdsa = ecdsa_key("K2ECDSA");
    let fx = Fixture::start(&[rsa_key(), &ecdsa], EdgeOptions::default()).await;
    let url = fx.canned("jobs/B/poster.jpg", &ecdsa);
    assert!(url.ends_with("&Key-Pair-Id=K2ECDSA&Hash-Algorithm=SHA256"), "{url}");
    let got = fx.get(&url).await;
    assert_eq!((got.status, got.body.as_slice()), (200, POSTER), "{got:?}");
    // CloudFront refuses ECDSA signatures that claim SHA-1.
    fx.get(&url.replace("&Hash-Algorithm=SHA256", "")).await.assert_denied("needs Hash-Algorithm=SHA256");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_cookies_work_instead_of_a_query() {
    let fx = Fixture::start(&[rsa_key()], EdgeOptions::default()).await;
    let policy = Policy::custom(&fx.url("jobs/A/*"), in_an_hour()).build().unwrap();
    let cookies = signed_cookies(&policy, rsa_key()).unwrap();
    let mut header: Vec<String> = vec!["session=abc".into()];
    header.extend(cookies.iter().map(|(name, value)| format!("{name}={value}")));
    let header = header.join("; ");

    let got = request("GET", &fx.url("jobs/A/hls/master.m3u8"), &[("Cookie", &header)]).await;
    assert_eq!((got.status, got.text().as_str()), (200, MASTER), "{got:?}");
    let other_job = request("GET", &fx.url("jobs/B/poster.jpg"), &[("Cookie", &header)]).await;
    other_job.assert_denied("the policy covers");

    let expired = signed_cookies(&Policy::custom(&fx.url("jobs/A/*"), now() - 1).build().unwrap(), rsa_key()).unwrap();
    let expired: Vec<String> = expired.iter().map(|(name, value)| format!("{name}={value}")).collect();
    let got = request("GET", &fx.url("jobs/A/hls/master.m3u8"), &[("Cookie", &expired.join("; "))]).await;
    got.assert_denied("the signature expired");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_object_is_404_only_once_the_signature_holds() {
    let fx = Fixture::start(&[rsa_key()], EdgeOptions::default()).await;
    let missing = fx.get(&fx.canned("jobs/A/hls/360p/seg_09999.ts", rsa_key())).await;
    assert_eq!(missing.status, 404, "{missing:?}");
    assert!(missing.text().contains("<Code>NoSuchKey</Code>"), "{}", missing.text());
    let via_policy = fx.get(&fx.job_query("A", in_an_hour()).append_to(&fx.url("jobs/A/nothing-here"))).await;
    assert_eq!(via_policy.status, 404);

    fx.get(&fx.url("jobs/A/hls/360p/seg_09999.ts")).await.assert_denied("not signed");
    fx.get(&fx.url("")).await.assert_denied("not signed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_for_the_webview_origins() {
    let fx = Fixture::start(&[rsa_key()], EdgeOptions::default()).await;
    let url = fx.job_query("A", in_an_hour()).append_to(&fx.url("jobs/A/hls/master.m3u8"));

    let preflight = request(
        "OPTIONS",
        &url,
        &[
            ("Origin", "tauri://localhost"),
            ("Access-Control-Request-Method", "GET"),
            ("Access-Control-Request-Headers", "range"),
        ],
    )
    .await;
    assert_eq!(preflight.status, 200, "{preflight:?}");
    assert_eq!(preflight.header("access-control-allow-origin"), Some("tauri://localhost"));
    assert!(preflight.header("access-control-allow-methods").is_some_and(|m| m.contains("GET")), "{preflight:?}");
    assert!(preflight.header("access-control-allow-headers").is_some_and(|h| h.contains("range")), "{preflight:?}");
    assert!(preflight.header("access-control-max-age").is_some());
    assert!(preflight.header("vary").is_some_and(|v| v.contains("Origin")), "{preflight:?}");

    // The webview's origins, and (in debug builds, which tests are) `tauri dev`'s Vite server.
    const { assert!(cfg!(debug_assertions), "the dev-server origin is only allowed in debug builds") };
    for origin in ["tauri://localhost", "http://tauri.localhost", "http://localhost:5173"] {
        let got = request("GET", &url, &[("Origin", origin)]).await;
        assert_eq!(got.status, 200);
        assert_eq!(got.header("access-control-allow-origin"), Some(origin), "{got:?}");
        assert_eq!(got.header("access-control-allow-credentials"), Some("true"));
        assert!(got.header("access-control-expose-headers").is_some_and(|h| h.contains("Content-Range")));
    }
    // Refusals carry CORS headers too, so the player sees the 403 itself.
    let denied = request("GET", &fx.url("jobs/A/hls/master.m3u8"), &[("Origin", "tauri://localhost")]).await;
    assert_eq!(denied.status, 403);
    assert_eq!(denied.header("access-control-allow-origin"), Some("tauri://localhost"));

    let stranger = request("GET", &url, &[("Origin", "https://evil.example")]).await;
    assert_eq!(stranger.status, 200, "the content is signed; CORS only decides whether scripts may read it");
    assert_eq!(stranger.header("access-control-allow-origin"), None, "{stranger:?}");
    let stranger_preflight =
        request("OPTIONS", &url, &[("Origin", "https://evil.example"), ("Access-Control-Request-Method", "GET")]).await;
    assert_eq!(stranger_preflight.status, 403);
    assert_eq!(stranger_preflight.header("access-control-allow-origin"), None);
    let put_preflight =
        request("OPTIONS", &url, &[("Origin", "tauri://localhost"), ("Access-Control-Request-Method", "PUT")]).await;
    assert_eq!(put_preflight.status, 403, "{put_preflight:?}");

    // `*` only when configured, and then without credentials.
    let storage = fx.stack.storage();
    let open = EdgeOptions { cors_origins: vec!["*".into()], ..EdgeOptions::default() };
    let mut trusted = PublicKeySet::new();
    trusted.insert("K1", rsa_key().public_key()).unwrap();
    let any = Edge::start(storage.client.clone(), storage.buckets.media.clone(), trusted, open).await.unwrap();
    let url = sign_url(
        &format!("{}/jobs/B/poster.jpg", any.base_url()),
        &Policy::custom(&format!("{}/jobs/*", any.base_url()), in_an_hour()).build().unwrap(),
        rsa_key(),
    )
    .unwrap();
    let got = request("GET", url.as_str(), &[("Origin", "https://player.example")]).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.header("access-control-allow-origin"), Some("*"));
    assert_eq!(got.header("access-control-allow-credentials"), None);
    any.shutdown().await;

    let bad = EdgeOptions { cors_origins: vec!["tauri://localhost/".into()], ..EdgeOptions::default() };
    let mut trusted = PublicKeySet::new();
    trusted.insert("K1", rsa_key().public_key()).unwrap();
    let err = Edge::start(storage.client.clone(), storage.buckets.media.clone(), trusted, bad).await.unwrap_err();
    assert!(err.to_string().contains("no path or trailing slash"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trusted_keys_change_at_runtime() {
    let fx = Fixture::start(&[rsa_key()], EdgeOptions::default()).await;
    let rotated = ecdsa_key("K2NEXT");
    let url = fx.canned("jobs/B/poster.jpg", &rotated);
    fx.get(&url).await.assert_denied("unknown key pair ID \"K2NEXT\"");

    fx.edge.keys().insert("K2NEXT", rotated.public_key()).unwrap();
    assert_eq!(fx.get(&url).await.status, 200);
    assert_eq!(fx.get(&fx.canned("jobs/B/poster.jpg", rsa_key())).await.status, 200, "old keys stay trusted");

    // Retire K1 by replacing the set.
    let mut next = PublicKeySet::new();
    next.insert_pem("K2NEXT", &rotated.public_key_pem()).unwrap();
    fx.edge.keys().replace(next);
    fx.get(&fx.canned("jobs/B/poster.jpg", rsa_key())).await.assert_denied("unknown key pair ID \"K1\"");
    assert_eq!(fx.get(&url).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_url_is_verified_as_the_client_addressed_it() {
    let fx = Fixture::start(&[rsa_key()], EdgeOptions::default()).await;
    // sign_url percent-encodes the raw key; the client sends the encoded form.
    let raw = fx.url("jobs/A/My Clip é.mp4");
    let policy = Policy::canned(&raw, in_an_hour()).unwrap();
    let signed = sign_url(&raw, &policy, rsa_key()).unwrap();
    assert!(signed.as_str().contains("/jobs/A/My%20Clip%20%C3%A9.mp4?Expires="), "{signed}");
    let got = fx.get(signed.as_str()).await;
    assert_eq!((got.status, got.body.as_slice()), (200, &b"clip bytes"[..]), "{got:?}");

    // The edge's links name 127.0.0.1:PORT; another name for it is another URL.
    let port = fx.edge.addr().port();
    let signed = fx.canned(SEGMENT, rsa_key());
    let via_localhost = request("GET", &signed, &[("Host", &format!("localhost:{port}"))]).await;
    via_localhost.assert_denied(&format!("this request addressed the edge as localhost:{port}"));
    let policy_query = fx.job_query("A", in_an_hour()).append_to(&fx.url(SEGMENT));
    request("GET", &policy_query, &[("Host", &format!("localhost:{port}"))])
        .await
        .assert_denied(&format!("this request addressed the edge as localhost:{port}"));

    // A Host that carries a path would put job A's signed prefix in front of
    // job B's object: only the edge's own authority is served.
    let crafted = format!("127.0.0.1:{port}/jobs/A/x");
    let b_poster = fx.job_query("A", in_an_hour()).append_to(&fx.url("jobs/B/poster.jpg"));
    let stolen = request("GET", &b_poster, &[("Host", &crafted)]).await;
    assert_ne!(stolen.body.as_slice(), POSTER, "job A's link opened job B's poster: {stolen:?}");
    stolen.assert_denied("this request addressed the edge as 127.0.0.1");

    // An absolute-form request target (as sent to proxies) names the authority itself.
    let authority = format!("127.0.0.1:{port}");
    let absolute = send(&authority, "GET", &signed, &[("Host", &format!("localhost:{port}"))]).await;
    assert_eq!(absolute.status, 200, "{absolute:?}");
    let absolute = send(&authority, "GET", &signed.replace("127.0.0.1", "localhost"), &[]).await;
    absolute.assert_denied("this request addressed the edge as localhost");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_and_drop_stop_the_edge() {
    let fx = Fixture::start(&[rsa_key()], EdgeOptions::default()).await;
    let storage = fx.stack.storage();
    let second =
        Edge::start(storage.client.clone(), storage.buckets.media.clone(), PublicKeySet::new(), EdgeOptions::default())
            .await
            .unwrap();
    let (first_addr, second_addr) = (fx.edge.addr(), second.addr());
    assert_ne!(first_addr, second_addr);

    let Fixture { _tmp, stack, edge } = fx;
    edge.shutdown().await;
    assert!(TcpStream::connect(first_addr).await.is_err(), "the edge still accepts connections after shutdown");

    drop(second);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while TcpStream::connect(second_addr).await.is_ok() {
        assert!(tokio::time::Instant::now() < deadline, "a dropped edge still accepts connections");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stack.shutdown().await;
}

/// Rewrites a playlist so that every URI is absolute (resolved against
/// `dir_url`, the URL of the playlist's folder) and carries `query`: what the
/// product's link maker will do, reduced to what these playlists need.
fn sign_playlist(text: &str, dir_url: &str, query: &SignedQuery) -> String {
    let absolute = |uri: &str| {
        let uri = if uri.contains("://") { uri.to_owned() } else { format!("{dir_url}/{uri}") };
        query.append_to(&uri)
    };
    let mut out = String::new();
    for line in text.lines().map(str::trim_end).filter(|line| !line.is_empty()) {
        if !line.starts_with('#') {
            out.push_str(&absolute(line));
        } else if let Some((before, rest)) = line.split_once("URI=\"") {
            let (uri, after) = rest.split_once('"').expect("a closed URI attribute");
            out.push_str(&format!("{before}URI=\"{}\"{after}", absolute(uri)));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("m3u8") => "application/vnd.apple.mpegurl",
        Some("ts") => "video/mp2t",
        _ => "application/octet-stream",
    }
}

async fn ffmpeg(args: &[&str], dir: &Path) -> std::process::Output {
    let mut cmd = tokio::process::Command::new("ffmpeg");
    cmd.args(["-nostdin", "-hide_banner"]).args(args).current_dir(dir).kill_on_drop(true);
    tokio::time::timeout(Duration::from_secs(120), cmd.output())
        .await
        .expect("ffmpeg did not finish in 120 s")
        .expect("ffmpeg must be installed (it is the local transcoder)")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ffmpeg_plays_a_signed_hls_stream_through_the_edge() {
    let fx = Fixture::start(&[rsa_key()], EdgeOptions::default()).await;
    let work = tempfile::tempdir().unwrap();
    // No argument has a space, so one string reads better than a list.
    let make = "-v error -f lavfi -i testsrc=size=160x120:rate=10:duration=3 -map 0:v \
                -c:v libx264 -pix_fmt yuv420p -b:v 200k -g 10 \
                -f hls -hls_time 1 -hls_playlist_type vod -var_stream_map v:0,name:360p \
                -hls_segment_filename %v/seg_%05d.ts -master_pl_name master.m3u8 %v/index.m3u8";
    let made = ffmpeg(&make.split_whitespace().collect::<Vec<_>>(), work.path()).await;
    assert!(made.status.success(), "ffmpeg could not make the stream: {}", String::from_utf8_lossy(&made.stderr));

    // Upload everything under jobs/A/hls/, then the signed playlists over the plain ones.
    let query = fx.job_query("A", in_an_hour());
    let hls_url = fx.url("jobs/A/hls");
    let mut files = vec![work.path().join("master.m3u8")];
    for entry in std::fs::read_dir(work.path().join("360p")).unwrap() {
        files.push(entry.unwrap().path());
    }
    let segments = files.iter().filter(|p| p.extension().is_some_and(|e| e == "ts")).count();
    assert!(segments >= 3, "{files:?}");
    for path in &files {
        let relative = path.strip_prefix(work.path()).unwrap().to_str().unwrap().replace('\\', "/");
        let mut bytes = std::fs::read(path).unwrap();
        if content_type(path) == "application/vnd.apple.mpegurl" {
            let dir_url = match relative.rsplit_once('/') {
                Some((dir, _)) => format!("{hls_url}/{dir}"),
                None => hls_url.clone(),
            };
            bytes = sign_playlist(std::str::from_utf8(&bytes).unwrap(), &dir_url, &query).into_bytes();
        }
        fx.put(&format!("jobs/A/hls/{relative}"), &bytes, content_type(path)).await;
    }
    let variant = fx.get(&query.append_to(&fx.url("jobs/A/hls/360p/index.m3u8"))).await;
    assert!(variant.text().contains(&query.append_to(&format!("{hls_url}/360p/seg_00000.ts"))), "{}", variant.text());

    let master = query.append_to(&format!("{hls_url}/master.m3u8"));
    let played = ffmpeg(&["-v", "error", "-i", &master, "-f", "null", "-"], work.path()).await;
    assert!(played.status.success(), "ffmpeg could not play {master}: {}", String::from_utf8_lossy(&played.stderr));

    let expired = fx.job_query("A", now() - 60).append_to(&format!("{hls_url}/master.m3u8"));
    let refused = ffmpeg(&["-v", "error", "-i", &expired, "-f", "null", "-"], work.path()).await;
    assert!(!refused.status.success(), "ffmpeg played an expired link");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("403"), "{stderr}");
}

/// Bytes from anyone: random requests (garbage, and request-shaped garbage
/// with hostile targets and headers) each get a 4xx answer or a closed
/// connection, never a 5xx or a crash, and the edge serves a signed request
/// afterwards. A fixed seed and a bounded count keep it repeatable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_requests_get_refusals_and_the_edge_keeps_serving() {
    use proptest::strategy::{Strategy, ValueTree};
    use proptest::test_runner::{Config, RngSeed, TestRunner};
    let fx = Fixture::start(&[rsa_key()], EdgeOptions::default()).await;
    let addr: SocketAddr = fx.edge.base_url().trim_start_matches("http://").parse().unwrap();

    let token = proptest::sample::select(vec![
        "/",
        "jobs/A/",
        "..",
        "%2e%2e",
        "%00",
        "%ff",
        "?",
        "&",
        "=",
        "#",
        "Policy=",
        "Signature=",
        "Key-Pair-Id=K1",
        "Expires=9999999999",
        "Hash-Algorithm=SHA256",
        "\\",
        "é",
        "*",
        ";",
        "%",
        " ",
        "\t",
    ]);
    let target = proptest::collection::vec(token, 0..12).prop_map(|t| t.concat());
    let header = (
        "[A-Za-z-]{1,12}",
        proptest::collection::vec(proptest::num::u8::ANY, 0..40).prop_map(|v| String::from_utf8_lossy(&v).into_owned()),
    )
        .prop_map(|(name, value)| format!("{name}: {value}\r\n"));
    let method = proptest::sample::select(vec!["GET", "HEAD", "POST", "OPTIONS", "GE T", "", "PRI"]);
    let shaped = (method, target, proptest::collection::vec(header, 0..6)).prop_map(|(method, target, headers)| {
        format!("{method} /{target} HTTP/1.1\r\nHost: {addr}\r\n{}\r\n", headers.concat()).into_bytes()
    });
    let garbage = proptest::collection::vec(proptest::num::u8::ANY, 0..600);
    let request = proptest::prop_oneof![garbage, shaped];

    let mut runner = TestRunner::new(Config { rng_seed: RngSeed::Fixed(0x0ED6E), ..Config::default() });
    for _ in 0..96 {
        let bytes = request.new_tree(&mut runner).unwrap().current();
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let _ = stream.write_all(&bytes).await;
        let _ = stream.shutdown().await;
        let mut raw = Vec::new();
        let answered = tokio::time::timeout(Duration::from_secs(40), stream.read_to_end(&mut raw)).await;
        assert!(
            answered.is_ok(),
            "the edge held a connection open after its request: {:?}",
            String::from_utf8_lossy(&bytes)
        );
        if raw.is_empty() {
            continue;
        }
        let head = String::from_utf8_lossy(&raw[..raw.len().min(12)]).into_owned();
        let status: u16 =
            head.strip_prefix("HTTP/1.1 ").and_then(|s| s.get(..3)).and_then(|s| s.parse().ok()).unwrap_or(0);
        assert!((400..500).contains(&status), "{head:?} for {:?}", String::from_utf8_lossy(&bytes));
    }
    let ok = fx.get(&fx.canned(SEGMENT, rsa_key())).await;
    assert_eq!(ok.status, 200, "{ok:?}");
}
