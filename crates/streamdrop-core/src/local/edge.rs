//! The local edge: a small HTTP server that stands in for CloudFront in local
//! mode. It serves the distribution bucket read-only (GET, HEAD, and CORS
//! preflights) and applies CloudFront's signed URL and signed cookie rules to
//! every request before it touches storage, with
//! [`verify_request`](crate::signing::verify_request).
//!
//! ```no_run
//! # async fn demo(storage: streamdrop_core::storage::Storage, keys: streamdrop_core::signing::PublicKeySet)
//! # -> Result<(), Box<dyn std::error::Error>> {
//! use streamdrop_core::local::edge::{Edge, EdgeOptions};
//!
//! let edge = Edge::start(storage.client.clone(), storage.buckets.media.clone(), keys, EdgeOptions::default()).await?;
//! // Sign resources under the edge's own address, e.g. `{base_url}/jobs/42/*`.
//! println!("{}", edge.base_url());
//! edge.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! What a client gets:
//! - a request that fails CloudFront's rules: `403` with a CloudFront-like XML
//!   body whose `Message` says which rule failed (CloudFront says less);
//! - a signed request: the object, streamed from storage, with `Content-Type`,
//!   `Content-Length`, `ETag`, `Last-Modified` and `Accept-Ranges: bytes`;
//!   `Range` gives `206` with `Content-Range` (or `416`); a missing object is
//!   `404`;
//! - CORS headers for the configured origins (the desktop webview's by
//!   default), on every response, errors included, so a player sees the real
//!   status instead of an opaque network error.
//!
//! The URL that is verified is the one the edge serves: its own
//! `http://127.0.0.1:PORT` and the request target exactly as sent. A request
//! that addresses the edge by another authority (`localhost:PORT`, or a
//! crafted `Host` that carries a path) is refused, as CloudFront refuses a URL
//! under another domain, and the 403 says so.

use std::convert::Infallible;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, PoisonError, RwLock};

use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata as _};
use aws_sdk_s3::primitives::{ByteStream, DateTime, DateTimeFormat};
use aws_sdk_s3::Client;
use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt as _, Empty, Full, StreamBody};
use hyper::body::Frame;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::http::request::Parts;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use tokio::net::TcpListener;

use super::http::{ClientBody, ClientLimits, HttpServer};
use crate::model::{key_of_path, KeyProblem};

use crate::signing::{parse_cookie_header, percent_encode_url, verify_request, KeyError, PublicKey, PublicKeySet};

/// The origins of the desktop app's webview: `tauri://localhost` on Linux and
/// macOS, `http://tauri.localhost` on Windows. [`EdgeOptions::default`]
/// allows these.
pub const WEBVIEW_ORIGINS: [&str; 2] = ["tauri://localhost", "http://tauri.localhost"];

/// The webview's origin under `tauri dev` (the Vite dev server, `devUrl` in
/// tauri.conf.json). Debug builds of the local edge allow it too.
pub const DEV_SERVER_ORIGIN: &str = "http://localhost:5173";

/// How long preflight results may be cached by the browser, in seconds.
const PREFLIGHT_MAX_AGE: &str = "600";
/// Response headers scripts may read besides the CORS-safelisted ones
/// (players look at ranges and validators).
const EXPOSED_HEADERS: &str = "Accept-Ranges, Content-Length, Content-Range, ETag";

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Body = UnsyncBoxBody<Bytes, BoxError>;

#[derive(Debug, Clone)]
pub struct EdgeOptions {
    /// Where the edge listens; port 0 picks a free one. Keep it on loopback.
    pub bind: SocketAddr,
    /// Origins allowed to read responses from scripts (CORS): exact origins
    /// such as `tauri://localhost` (scheme, host and optional port, no path),
    /// or `*` for any origin (then without credentials).
    pub cors_origins: Vec<String>,
    /// The URL clients address the edge by when it answers for another name
    /// (a test standing in for a CloudFront distribution at
    /// `https://dxxxx.cloudfront.net`): signatures and `Host` are checked
    /// against it. `None`: its own `http://127.0.0.1:PORT`.
    pub public_url: Option<String>,
    /// The job store whose revoked links the edge refuses (a revoked link's
    /// signature opens nothing, whichever process revoked it). `None`: none.
    pub revocations: Option<crate::store::Store>,
}

/// Loopback on a free port; CORS for the desktop webview ([`WEBVIEW_ORIGINS`],
/// and in debug builds [`DEV_SERVER_ORIGIN`], so `tauri dev` previews play).
impl Default for EdgeOptions {
    fn default() -> Self {
        let dev = cfg!(debug_assertions).then_some(DEV_SERVER_ORIGIN);
        Self {
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            cors_origins: WEBVIEW_ORIGINS.iter().copied().chain(dev).map(str::to_owned).collect(),
            public_url: None,
            revocations: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EdgeError {
    #[error("the local edge cannot listen on {addr}: {source} (is another Streamdrop using that port?)")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error(
        "{origin:?} is not a CORS origin: write `*`, or an origin as browsers send it, \
         scheme://host[:port] with no path or trailing slash (e.g. tauri://localhost)"
    )]
    CorsOrigin { origin: String },
    #[error("the local edge cannot read the revoked links: {0}")]
    Revocations(#[from] crate::store::StoreError),
}

/// The public keys the edge trusts (its "trusted key group"), shared with the
/// running server: changes apply to the next request, so keys can be rotated
/// without a restart. Cloning gives another handle to the same set.
#[derive(Clone, Default)]
pub struct EdgeKeys {
    // Readers take a snapshot (one Arc clone) and verify without holding the lock.
    current: Arc<RwLock<Arc<PublicKeySet>>>,
}

impl EdgeKeys {
    pub fn new(keys: PublicKeySet) -> Self {
        Self { current: Arc::new(RwLock::new(Arc::new(keys))) }
    }

    /// Trusts `key` under `key_pair_id`, replacing (and returning) any key that
    /// had that ID.
    pub fn insert(&self, key_pair_id: &str, key: PublicKey) -> Result<Option<PublicKey>, KeyError> {
        let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
        Arc::make_mut(&mut current).insert(key_pair_id, key)
    }

    /// [`PublicKey::from_pem`] followed by [`EdgeKeys::insert`].
    pub fn insert_pem(&self, key_pair_id: &str, pem: &str) -> Result<Option<PublicKey>, KeyError> {
        self.insert(key_pair_id, PublicKey::from_pem(pem)?)
    }

    /// Replaces the whole set, e.g. to stop trusting a retired key.
    pub fn replace(&self, keys: PublicKeySet) {
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(keys);
    }

    /// The keys trusted right now.
    pub fn snapshot(&self) -> Arc<PublicKeySet> {
        Arc::clone(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }
}

impl fmt::Debug for EdgeKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EdgeKeys").field("trusted", &self.snapshot().len()).finish()
    }
}

/// A running local edge. Dropping it stops the server at once (open
/// connections included); [`Edge::shutdown`] lets open requests finish first.
pub struct Edge {
    addr: SocketAddr,
    base_url: String,
    keys: EdgeKeys,
    server: HttpServer,
}

impl Edge {
    /// Serves `bucket`, read through `storage_client`, to requests signed by
    /// one of `keys`.
    pub async fn start(
        storage_client: Client,
        bucket: String,
        keys: PublicKeySet,
        options: EdgeOptions,
    ) -> Result<Self, EdgeError> {
        let cors = Cors::new(&options.cors_origins)?;
        let bind_err = |source| EdgeError::Bind { addr: options.bind, source };
        let listener = TcpListener::bind(options.bind).await.map_err(bind_err)?;
        let mut addr = listener.local_addr().map_err(bind_err)?;
        // Links must name an address clients can reach, never 0.0.0.0 or [::].
        if addr.ip().is_unspecified() {
            addr.set_ip(match addr.ip() {
                IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
            });
        }
        let base_url = match &options.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{addr}"),
        };
        let authority = url::Url::parse(&base_url)
            .ok()
            .and_then(|url| {
                let host = url.host_str()?.to_owned();
                Some(url.port().map_or(host.clone(), |port| format!("{host}:{port}")))
            })
            .unwrap_or_else(|| addr.to_string());
        let keys = EdgeKeys::new(keys);
        let shared = Arc::new(Shared {
            client: storage_client,
            bucket,
            keys: keys.clone(),
            cors,
            authority,
            base_url: base_url.clone(),
            revocations: options.revocations,
        });

        let server = HttpServer::spawn("local edge", listener, ClientLimits::default(), move |peer| {
            let shared = Arc::clone(&shared);
            service_fn(move |request| handle(Arc::clone(&shared), peer, request))
        });
        tracing::info!(%base_url, "local edge is running");
        Ok(Self { addr, base_url, keys, server })
    }

    /// `http://127.0.0.1:PORT`: the prefix of every URL and policy resource
    /// signed for this edge.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The trusted keys; insert into them to trust a new key at runtime.
    pub fn keys(&self) -> &EdgeKeys {
        &self.keys
    }

    /// Stops accepting connections and waits (up to 5 s) for open ones to finish.
    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
}

impl fmt::Debug for Edge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Edge").field("base_url", &self.base_url).field("keys", &self.keys).finish()
    }
}

/// What every request handler needs.
struct Shared {
    client: Client,
    bucket: String,
    keys: EdgeKeys,
    cors: Cors,
    /// `127.0.0.1:PORT`, the authority signed links carry.
    authority: String,
    base_url: String,
    revocations: Option<crate::store::Store>,
}

async fn handle(
    shared: Arc<Shared>,
    peer: SocketAddr,
    request: Request<ClientBody>,
) -> Result<Response<Body>, Infallible> {
    // The edge never reads request bodies; keep only the head.
    let (parts, _body) = request.into_parts();
    let mut response = respond(&shared, peer, &parts).await;
    let headers = response.headers_mut();
    shared.cors.decorate(parts.headers.get(header::ORIGIN), headers);
    headers.insert(header::SERVER, HeaderValue::from_static("streamdrop-edge"));
    // Objects are served with the type they were stored with; a browser must
    // never guess another (an uploaded "video" sniffed as HTML, say).
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    Ok(response)
}

async fn respond(shared: &Shared, peer: SocketAddr, request: &Parts) -> Response<Body> {
    if request.method != Method::GET && request.method != Method::HEAD && request.method != Method::OPTIONS {
        let mut response = xml_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            &format!("the edge serves GET, HEAD and OPTIONS only, not {}", request.method),
        );
        response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, HEAD, OPTIONS"));
        return response;
    }

    // The edge verifies exactly the URL it serves: its own address and the
    // request's path and query. Another authority (a crafted Host such as
    // `127.0.0.1:PORT/jobs/A/`) would otherwise put a signed prefix in front
    // of a path that names another job's object.
    let authority = request_authority(shared, request);
    if authority != shared.authority {
        return xml_error(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            &format!(
                "Access denied: this request addressed the edge as {authority}, but its links are signed for {}/…: \
                 request the URL exactly as it was signed",
                shared.base_url
            ),
        );
    }
    // CloudFront's rules come first: nothing reaches storage unless they pass.
    let url = request_url(shared, request);
    let cookie_header = request
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .collect::<Vec<_>>()
        .join("; ");
    let cookies = parse_cookie_header(&cookie_header);
    let keys = shared.keys.snapshot();
    if let Err(denied) = verify_request(&url, &cookies, peer.ip(), crate::clock::now_secs(), &keys) {
        // The path only: the query holds the signature.
        tracing::debug!(path = request.uri.path(), %peer, "local edge refused a request: {denied}");
        return xml_error(StatusCode::FORBIDDEN, "AccessDenied", &format!("Access denied: {denied}"));
    }
    if let Some(refused) = revoked(shared, &url) {
        return refused;
    }

    if request.method == Method::OPTIONS {
        return shared.cors.preflight(&request.headers);
    }
    let key = match key_of_path(request.uri.path()) {
        Ok(key) => key,
        Err(KeyProblem::Empty) => {
            return xml_error(StatusCode::NOT_FOUND, "NoSuchKey", "the request names no object: the path is empty");
        }
        Err(KeyProblem::Invalid(why)) => return xml_error(StatusCode::BAD_REQUEST, "InvalidURI", &why),
    };
    fetch(shared, request, &key).await
}

/// A 403 when the URL's signature is a revoked link's (a 503 when the store
/// cannot say: a revoked link must never play because of a busy disk).
fn revoked(shared: &Shared, url: &str) -> Option<Response<Body>> {
    let store = shared.revocations.as_ref()?;
    let signature = crate::store::signature_of(url)?;
    match store.is_revoked(&signature) {
        Ok(false) => None,
        Ok(true) => Some(xml_error(StatusCode::FORBIDDEN, "AccessDenied", "Access denied: this link was revoked")),
        Err(err) => {
            tracing::warn!("local edge cannot read the revoked links: {err}");
            Some(xml_error(StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable", "try again in a moment"))
        }
    }
}

/// The authority the client addressed: the request target's own (absolute
/// form, HTTP/2's `:authority`), else the `Host` header.
fn request_authority(shared: &Shared, request: &Parts) -> String {
    match request.uri.authority() {
        Some(authority) => authority.as_str().to_owned(),
        None => match request.headers.get(header::HOST) {
            Some(host) => String::from_utf8_lossy(host.as_bytes()).into_owned(),
            // HTTP/1.0 clients may send no Host: they can only mean this edge.
            None => shared.authority.clone(),
        },
    }
}

/// The URL the edge serves for this request: its own base URL and the
/// request's path and query, percent-encoded the way the signer encodes URLs
/// (a no-op for the URLs the signer produced, which are already encoded; it
/// only maps raw characters some clients send onto their signed form).
fn request_url(shared: &Shared, request: &Parts) -> String {
    let target = request.uri.path_and_query().map_or("/", |target| target.as_str());
    percent_encode_url(&format!("{}{target}", shared.base_url))
}

/// GetObject (for HEAD too, so both answer alike, ranges included; the body
/// of a HEAD is dropped unread).
async fn fetch(shared: &Shared, request: &Parts, key: &str) -> Response<Body> {
    let headers = &request.headers;
    let mut get = shared.client.get_object().bucket(&shared.bucket).key(key);
    // With If-Range the client wants the range only if the object is unchanged;
    // answering the whole object is always correct (RFC 9110 §13.1.5).
    if headers.get(header::IF_RANGE).is_none() {
        if let Some(range) = header_str(headers, &header::RANGE) {
            get = get.range(range);
        }
    }
    if let Some(etags) = header_str(headers, &header::IF_NONE_MATCH) {
        get = get.if_none_match(etags);
    }
    if let Some(etags) = header_str(headers, &header::IF_MATCH) {
        get = get.if_match(etags);
    }
    if let Some(date) = header_date(headers, &header::IF_MODIFIED_SINCE) {
        get = get.if_modified_since(date);
    }
    if let Some(date) = header_date(headers, &header::IF_UNMODIFIED_SINCE) {
        get = get.if_unmodified_since(date);
    }

    let output = match get.send().await {
        Ok(output) => output,
        Err(err) => {
            let status = err.raw_response().map(|raw| raw.status().as_u16());
            let code = err.code().map(str::to_owned);
            return match (status, code.as_deref()) {
                (Some(404), Some("NoSuchBucket")) => xml_error(
                    StatusCode::NOT_FOUND,
                    "NoSuchBucket",
                    &format!("the distribution bucket {:?} does not exist", shared.bucket),
                ),
                (Some(404), _) => {
                    xml_error(StatusCode::NOT_FOUND, "NoSuchKey", &format!("The specified key does not exist: {key}"))
                }
                (Some(304), _) => plain(StatusCode::NOT_MODIFIED),
                (Some(412), _) => {
                    xml_error(StatusCode::PRECONDITION_FAILED, "PreconditionFailed", "a precondition header failed")
                }
                (Some(416), _) => unsatisfiable(shared, key).await,
                _ => {
                    let reason = DisplayErrorContext(&err).to_string();
                    tracing::warn!(key, "local edge: storage failed: {reason}");
                    xml_error(
                        StatusCode::BAD_GATEWAY,
                        "BadGateway",
                        &format!("the edge could not read {key:?} from storage: {reason}"),
                    )
                }
            };
        }
    };

    let status = if output.content_range.is_some() { StatusCode::PARTIAL_CONTENT } else { StatusCode::OK };
    let mut response = Response::new(empty());
    *response.status_mut() = status;
    let out = response.headers_mut();
    let content_type = output.content_type.as_deref().unwrap_or("binary/octet-stream");
    set(out, header::CONTENT_TYPE, Some(content_type));
    set(out, header::CONTENT_LENGTH, output.content_length.map(|n| n.to_string()).as_deref());
    set(out, header::ETAG, output.e_tag.as_deref());
    set(out, header::LAST_MODIFIED, output.last_modified.and_then(|t| t.fmt(DateTimeFormat::HttpDate).ok()).as_deref());
    out.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    set(out, header::CONTENT_RANGE, output.content_range.as_deref());
    set(out, header::CACHE_CONTROL, output.cache_control.as_deref());
    set(out, header::CONTENT_ENCODING, output.content_encoding.as_deref());
    set(out, header::CONTENT_DISPOSITION, output.content_disposition.as_deref());
    set(out, header::CONTENT_LANGUAGE, output.content_language.as_deref());
    if request.method != Method::HEAD {
        *response.body_mut() = streamed(output.body);
    }
    response
}

/// 416 with `Content-Range: bytes */SIZE`, as S3 and CloudFront answer it.
async fn unsatisfiable(shared: &Shared, key: &str) -> Response<Body> {
    let mut response =
        xml_error(StatusCode::RANGE_NOT_SATISFIABLE, "InvalidRange", "The requested range is not satisfiable");
    let size =
        shared.client.head_object().bucket(&shared.bucket).key(key).send().await.ok().and_then(|o| o.content_length);
    if let Some(size) = size {
        set(response.headers_mut(), header::CONTENT_RANGE, Some(&format!("bytes */{size}")));
    }
    response
}

/// The object's bytes as they arrive from storage, chunk by chunk: hyper pulls
/// the next chunk only when the client has taken the previous ones.
fn streamed(body: ByteStream) -> Body {
    let chunks = futures_util::stream::try_unfold(body, |mut body| async move {
        let chunk = body.try_next().await.map_err(|e| Box::new(e) as BoxError)?;
        Ok::<_, BoxError>(chunk.map(|chunk| (Frame::data(chunk), body)))
    });
    StreamBody::new(chunks).boxed_unsync()
}

fn empty() -> Body {
    Empty::<Bytes>::new().map_err(|never| match never {}).boxed_unsync()
}

fn plain(status: StatusCode) -> Response<Body> {
    let mut response = Response::new(empty());
    *response.status_mut() = status;
    response
}

/// A CloudFront/S3-style XML error.
fn xml_error(status: StatusCode, code: &str, message: &str) -> Response<Body> {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message></Error>",
        xml_escape(code),
        xml_escape(message)
    );
    let mut response = Response::new(Full::new(Bytes::from(body)).map_err(|never| match never {}).boxed_unsync());
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    response
}

fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// Sets `name` when there is a value and it is a valid header value.
fn set(headers: &mut HeaderMap, name: HeaderName, value: Option<&str>) {
    if let Some(value) = value.and_then(|v| HeaderValue::from_str(v).ok()) {
        headers.insert(name, value);
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

fn header_date(headers: &HeaderMap, name: &HeaderName) -> Option<DateTime> {
    // An unparseable date makes the condition void (RFC 9110 §13.1.3).
    header_str(headers, name).and_then(|text| DateTime::from_str(text, DateTimeFormat::HttpDate).ok())
}

/// Which origins may read responses from scripts.
#[derive(Debug)]
enum Cors {
    /// `*`: any origin, without credentials.
    Any,
    /// These exact origins, with credentials (signed cookies).
    Origins(Vec<String>),
}

impl Cors {
    fn new(origins: &[String]) -> Result<Self, EdgeError> {
        if origins.iter().any(|origin| origin == "*") {
            return Ok(Self::Any);
        }
        for origin in origins {
            let valid = origin.split_once("://").is_some_and(|(scheme, rest)| {
                !scheme.is_empty() && !rest.is_empty() && !rest.contains(['/', '?', '#', ' '])
            });
            if !valid {
                return Err(EdgeError::CorsOrigin { origin: origin.clone() });
            }
        }
        Ok(Self::Origins(origins.to_vec()))
    }

    fn allowed(&self, origin: &HeaderValue) -> bool {
        match self {
            Self::Any => true,
            Self::Origins(origins) => origins.iter().any(|allowed| allowed.as_bytes() == origin.as_bytes()),
        }
    }

    /// CORS headers for any response to a request from `origin`.
    fn decorate(&self, origin: Option<&HeaderValue>, headers: &mut HeaderMap) {
        if let Self::Origins(_) = self {
            // The answer depends on Origin: caches must keep them apart.
            headers.append(header::VARY, HeaderValue::from_static("Origin"));
        }
        let Some(origin) = origin.filter(|origin| self.allowed(origin)) else { return };
        match self {
            Self::Any => {
                headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
            }
            Self::Origins(_) => {
                headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
                headers.insert(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
            }
        }
        headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static(EXPOSED_HEADERS));
    }

    /// The answer to a (signed) OPTIONS request; [`Cors::decorate`] adds the
    /// origin headers afterwards.
    fn preflight(&self, request: &HeaderMap) -> Response<Body> {
        let Some(origin) = request.get(header::ORIGIN) else {
            // Not a CORS preflight: just say what the edge supports.
            let mut response = plain(StatusCode::OK);
            response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, HEAD, OPTIONS"));
            return response;
        };
        if !self.allowed(origin) {
            let origin = String::from_utf8_lossy(origin.as_bytes());
            return xml_error(
                StatusCode::FORBIDDEN,
                "AccessForbidden",
                &format!(
                    "CORSResponse: this CORS request is not allowed: the edge does not allow the origin {origin:?}"
                ),
            );
        }
        let method = request.get(header::ACCESS_CONTROL_REQUEST_METHOD).map(HeaderValue::as_bytes);
        if method.is_some_and(|method| method != b"GET" && method != b"HEAD") {
            return xml_error(
                StatusCode::FORBIDDEN,
                "AccessForbidden",
                "CORSResponse: this CORS request is not allowed: the edge serves GET and HEAD only",
            );
        }
        let mut response = plain(StatusCode::OK);
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, HEAD"));
        // Any request header may come along (Range, If-None-Match, …): the edge
        // serves only signed, read-only content.
        if let Some(requested) = request.get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
            headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, requested.clone());
        }
        headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static(PREFLIGHT_MAX_AGE));
        response
    }
}
