//! A fault-injecting HTTP/1.1 reverse proxy for S3 traffic on loopback.
//!
//! [`FaultProxy`] sits between an S3 client and a real S3 server (the embedded
//! s3s server or moto). Requests are forwarded with their method, target and
//! headers unchanged (the `Host` header included), so a SigV4 signature made
//! for the proxy's `host:port` verifies upstream. Request and response bodies
//! are streamed frame by frame, never buffered whole. Each client connection
//! gets its own upstream connection, kept alive as long as upstream allows and
//! reopened when upstream closes it (moto's server closes after each response).
//!
//! Faults are chosen per request from a list of rules set with
//! [`FaultProxy::inject`]: the first rule whose [`Match`] fits the request and
//! that has uses left is consumed. Every request is recorded as a
//! [`SeenRequest`], faulted or not.
//!
//! The proxy runs on its own single-threaded tokio runtime on a background
//! thread, so it serves `#[tokio::test]` (any flavour) and plain `#[test]`
//! alike, and is never starved by the test's own runtime. Dropping it stops the
//! thread and cuts every open connection.
//!
//! Framing: hyper parses and re-frames HTTP/1.1, so header names arrive in the
//! case the client sent (`preserve_header_case`), but `Transfer-Encoding:
//! chunked` bodies may be re-chunked with different chunk sizes (same bytes).
//! `aws-chunked` is a content encoding inside the body and passes untouched.
//! `Expect: 100-continue` is answered by the proxy's own HTTP server when the
//! body is first read (upstream's interim 100 is absorbed by the proxy's
//! client), so a client waiting for it is never stuck.

use std::collections::HashMap;
use std::convert::Infallible;
use std::fmt;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Request, Response, StatusCode, Version};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, Notify};

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type ProxyBody = UnsyncBoxBody<Bytes, BoxError>;

/// What to do to a matching request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status and an S3 XML error body
    /// (`<Error><Code>…</Code><Message>…</Message><RequestId>…</RequestId></Error>`)
    /// without contacting upstream. The request body is read and discarded
    /// first, so the connection stays usable for the next request.
    Status(u16, &'static str),
    /// Answer with this status and exactly this body (as `application/xml`)
    /// without contacting upstream: a server that is not quite S3, or a
    /// middlebox's page, whose reply the client cannot read.
    Reply(u16, &'static str),
    /// Forward the request and the first `after_bytes` of its body upstream,
    /// then reset the client's connection (TCP RST: `SO_LINGER` 0) and abort the
    /// upstream one, so upstream sees a truncated body and stores nothing. A
    /// body no longer than `after_bytes` reaches upstream whole, and the client
    /// connection is reset instead of returning the response (upstream may then
    /// have acted on it, as with [`Fault::DropResponse`]).
    ResetMidBody { after_bytes: u64 },
    /// Hold the request without reading its body or answering for the
    /// duration, then close the connection without a response. Nothing
    /// reaches upstream. (Use [`Fault::Delay`] for slow-but-successful.)
    Stall(Duration),
    /// Wait for the duration without reading the body, then forward normally.
    Delay(Duration),
    /// Forward the request, let upstream complete it, then reset the client's
    /// connection instead of returning the response: the "did it happen?"
    /// failure (e.g. a CompleteMultipartUpload that succeeded upstream).
    DropResponse,
    /// Forward the request; send the response head and the first
    /// `after_bytes` of its body, then reset the client's connection.
    ResetMidResponse { after_bytes: u64 },
    /// Forward the request with one bit flipped in byte `at_byte` of its body
    /// (counted from 0 as forwarded): damage in transit that only a checksum
    /// catches. A shorter body passes unchanged.
    CorruptBody { at_byte: u64 },
}

#[derive(Clone)]
enum Cond {
    HasParam(String),
    LacksParam(String),
    ParamEquals(String, String),
    PathContains(String),
    HasObjectKey,
    Custom(Arc<dyn Fn(&SeenRequest) -> bool + Send + Sync>),
}

impl fmt::Debug for Cond {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cond::HasParam(p) => write!(f, "has ?{p}"),
            Cond::LacksParam(p) => write!(f, "lacks ?{p}"),
            Cond::ParamEquals(p, v) => write!(f, "?{p}={v}"),
            Cond::PathContains(s) => write!(f, "path contains {s:?}"),
            Cond::HasObjectKey => write!(f, "path-style object key"),
            Cond::Custom(_) => write!(f, "custom predicate"),
        }
    }
}

/// Which requests a rule applies to: an optional method plus conditions on the
/// query string and path, all of which must hold. Object-level matchers
/// assume path-style addressing (`/bucket/key`), which every client of a
/// loopback endpoint uses.
#[derive(Debug, Clone, Default)]
pub struct Match {
    method: Option<String>,
    conds: Vec<Cond>,
}

impl Match {
    /// Every request.
    pub fn any() -> Self {
        Self::default()
    }

    /// Every request with this method (`"PUT"`, …).
    pub fn method(method: &str) -> Self {
        Self { method: Some(method.to_ascii_uppercase()), conds: Vec::new() }
    }

    /// UploadPart: `PUT` with `partNumber=` and `uploadId=` in the query.
    pub fn upload_part() -> Self {
        Self::method("PUT").with_param("partNumber").with_param("uploadId")
    }

    /// UploadPart for one part number.
    pub fn upload_part_number(part_number: u32) -> Self {
        Self::upload_part().with_param_value("partNumber", &part_number.to_string())
    }

    /// CreateMultipartUpload: `POST` with `?uploads`.
    pub fn create_multipart_upload() -> Self {
        Self::method("POST").with_param("uploads")
    }

    /// CompleteMultipartUpload: `POST` with `uploadId=`.
    pub fn complete_multipart_upload() -> Self {
        Self::method("POST").with_param("uploadId")
    }

    /// AbortMultipartUpload: `DELETE` with `uploadId=`.
    pub fn abort_multipart_upload() -> Self {
        Self::method("DELETE").with_param("uploadId")
    }

    /// ListParts: `GET` with `uploadId=`.
    pub fn list_parts() -> Self {
        Self::method("GET").with_param("uploadId")
    }

    /// PutObject: `PUT` on an object key without `partNumber=`/`uploadId=`
    /// (so neither UploadPart nor CreateBucket).
    pub fn put_object() -> Self {
        Self::method("PUT").without_param("partNumber").without_param("uploadId").with_object_key()
    }

    /// GetObject: `GET` on an object key without `uploadId=`.
    pub fn get_object() -> Self {
        Self::method("GET").without_param("uploadId").with_object_key()
    }

    /// Also require the query parameter `name` (with or without a value).
    pub fn with_param(mut self, name: &str) -> Self {
        self.conds.push(Cond::HasParam(name.to_owned()));
        self
    }

    /// Also require the query parameter `name` to equal `value` (after percent-decoding).
    pub fn with_param_value(mut self, name: &str, value: &str) -> Self {
        self.conds.push(Cond::ParamEquals(name.to_owned(), value.to_owned()));
        self
    }

    /// Also require the query parameter `name` to be absent.
    pub fn without_param(mut self, name: &str) -> Self {
        self.conds.push(Cond::LacksParam(name.to_owned()));
        self
    }

    /// Also require the raw path to contain `fragment`.
    pub fn with_path_containing(mut self, fragment: &str) -> Self {
        self.conds.push(Cond::PathContains(fragment.to_owned()));
        self
    }

    /// Also require a path-style object key: `/bucket/key…`.
    pub fn with_object_key(mut self) -> Self {
        self.conds.push(Cond::HasObjectKey);
        self
    }

    /// Also require `predicate`. It sees the method, path and query of a fresh
    /// [`SeenRequest`] (its counters are still zero when rules are matched).
    pub fn with(mut self, predicate: impl Fn(&SeenRequest) -> bool + Send + Sync + 'static) -> Self {
        self.conds.push(Cond::Custom(Arc::new(predicate)));
        self
    }

    /// Whether a request fits (also usable on [`FaultProxy::requests`]).
    pub fn matches(&self, request: &SeenRequest) -> bool {
        if let Some(method) = &self.method {
            if !request.method.eq_ignore_ascii_case(method) {
                return false;
            }
        }
        self.conds.iter().all(|cond| match cond {
            Cond::HasParam(name) => request.has_param(name),
            Cond::LacksParam(name) => !request.has_param(name),
            Cond::ParamEquals(name, value) => request.param(name).as_deref() == Some(value.as_str()),
            Cond::PathContains(fragment) => request.path.contains(fragment.as_str()),
            Cond::HasObjectKey => {
                let trimmed = request.path.trim_start_matches('/');
                trimmed.split_once('/').is_some_and(|(_bucket, key)| !key.is_empty())
            }
            Cond::Custom(predicate) => predicate(request),
        })
    }
}

/// One request as the proxy saw it.
#[derive(Debug, Clone)]
pub struct SeenRequest {
    /// Arrival order across the proxy's lifetime, from 0.
    pub seq: u64,
    /// Which client connection carried it (keep-alive requests share one), from 0.
    pub connection: u64,
    pub method: String,
    /// Raw path, still percent-encoded.
    pub path: String,
    /// Raw query string without `?`, still percent-encoded ("" when none).
    pub query: String,
    /// Request body bytes read from the client: forwarded upstream when
    /// `forwarded`, else read and discarded (a [`Fault::Status`]).
    pub body_bytes: u64,
    /// Response body bytes passed back to the client.
    pub response_bytes: u64,
    /// Whether the request was sent upstream.
    pub forwarded: bool,
    /// Upstream's status, when it answered.
    pub upstream_status: Option<u16>,
    /// The status the client was sent; `None` when it got no response
    /// (reset, stall, dropped response).
    pub status: Option<u16>,
    /// The fault injected into this request, if any.
    pub fault: Option<Fault>,
    /// Why forwarding failed, when it did for reasons other than a fault.
    pub error: Option<String>,
}

impl SeenRequest {
    fn params(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        self.query.split('&').filter(|p| !p.is_empty()).map(|pair| match pair.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (pair, None),
        })
    }

    /// Whether the query has parameter `name` (with or without a value).
    pub fn has_param(&self, name: &str) -> bool {
        self.params().any(|(n, _)| n == name)
    }

    /// The percent-decoded value of query parameter `name` ("" for a bare `?name`).
    pub fn param(&self, name: &str) -> Option<String> {
        self.params().find(|(n, _)| *n == name).map(|(_, v)| percent_decode(v.unwrap_or("")))
    }

    /// `partNumber=` as a number.
    pub fn part_number(&self) -> Option<u32> {
        self.param("partNumber").and_then(|v| v.parse().ok())
    }

    /// `uploadId=`, decoded.
    pub fn upload_id(&self) -> Option<String> {
        self.param("uploadId")
    }

    fn new(seq: u64, connection: u64, method: &str, path: &str, query: &str) -> Self {
        Self {
            seq,
            connection,
            method: method.to_owned(),
            path: path.to_owned(),
            query: query.to_owned(),
            body_bytes: 0,
            response_bytes: 0,
            forwarded: false,
            upstream_status: None,
            status: None,
            fault: None,
            error: None,
        }
    }
}

fn percent_decode(s: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16);
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(high), Some(low)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((high * 16 + low) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

struct Rule {
    matcher: Match,
    fault: Fault,
    remaining: usize,
}

struct Shared {
    upstream: SocketAddr,
    rules: Mutex<Vec<Rule>>,
    seen: Mutex<Vec<SeenRequest>>,
    next_seq: AtomicU64,
    next_connection: AtomicU64,
    /// Per bucket (the path's first segment): requests between their head's
    /// arrival and their response's, now and at most.
    in_flight: Mutex<HashMap<String, (u64, u64)>>,
}

/// Counts one request to a bucket in flight until dropped.
struct InFlight(Arc<Shared>, String);

impl InFlight {
    fn start(shared: &Arc<Shared>, path: &str) -> InFlight {
        let bucket = path.trim_start_matches('/').split('/').next().unwrap_or_default().to_owned();
        let mut counts = lock(&shared.in_flight);
        let (now, max) = counts.entry(bucket.clone()).or_default();
        *now += 1;
        *max = (*max).max(*now);
        InFlight(shared.clone(), bucket)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Some((now, _)) = lock(&self.0.in_flight).get_mut(&self.1) {
            *now -= 1;
        }
    }
}

/// A poisoned lock only means a test panicked while holding it; the data is still fine to read.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    /// Records a new request and picks its fault, consuming one use of the rule.
    fn arrive(&self, connection: u64, method: &str, path: &str, query: &str) -> (u64, Option<Fault>) {
        let seq = self.next_seq.fetch_add(1, Ordering::SeqCst);
        let mut seen = SeenRequest::new(seq, connection, method, path, query);
        let fault = {
            let mut rules = lock(&self.rules);
            let hit = rules.iter_mut().find(|r| r.remaining > 0 && r.matcher.matches(&seen));
            let fault = hit.map(|rule| {
                rule.remaining -= 1;
                rule.fault.clone()
            });
            rules.retain(|r| r.remaining > 0);
            fault
        };
        seen.fault = fault.clone();
        lock(&self.seen).push(seen);
        (seq, fault)
    }

    fn update(&self, seq: u64, change: impl FnOnce(&mut SeenRequest)) {
        let mut seen = lock(&self.seen);
        if let Some(request) = seen.iter_mut().rev().find(|r| r.seq == seq) {
            change(request);
        }
    }
}

/// Cuts one client connection with a TCP reset.
#[derive(Default)]
struct Killer {
    notify: Notify,
    fired: AtomicBool,
}

impl Killer {
    fn fire(&self) {
        self.fired.store(true, Ordering::SeqCst);
        self.notify.notify_one();
    }

    fn fired(&self) -> bool {
        self.fired.load(Ordering::SeqCst)
    }
}

/// Per client connection.
struct Conn {
    id: u64,
    shared: Arc<Shared>,
    upstream: tokio::sync::Mutex<Option<SendRequest<ProxyBody>>>,
    killer: Arc<Killer>,
}

/// A fault-injecting reverse proxy on `127.0.0.1`, in front of `upstream`.
/// See the module docs. Stops (cutting open connections) on drop.
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl FaultProxy {
    /// Binds `127.0.0.1:0` and starts serving on a background thread with its
    /// own tokio runtime. Usable from any test, async or not.
    pub fn start(upstream: SocketAddr) -> FaultProxy {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("fault proxy: bind 127.0.0.1:0");
        listener.set_nonblocking(true).expect("fault proxy: non-blocking listener");
        let addr = listener.local_addr().expect("fault proxy: local address");
        let shared = Arc::new(Shared {
            upstream,
            rules: Mutex::new(Vec::new()),
            seen: Mutex::new(Vec::new()),
            next_seq: AtomicU64::new(0),
            next_connection: AtomicU64::new(0),
            in_flight: Mutex::new(HashMap::new()),
        });
        let (stop_tx, stop_rx) = oneshot::channel();
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name(format!("fault-proxy-{}", addr.port()))
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("fault proxy: tokio runtime");
                runtime.block_on(accept_loop(listener, thread_shared, stop_rx));
                // Dropping the runtime here cancels every connection task.
            })
            .expect("fault proxy: spawn thread");
        FaultProxy { addr, shared, stop: Some(stop_tx), thread: Some(thread) }
    }

    /// `http://127.0.0.1:PORT`
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn upstream(&self) -> SocketAddr {
        self.shared.upstream
    }

    /// Applies `fault` to the next `times` requests that fit `matcher`
    /// (`usize::MAX`: all of them). Rules are tried in the order they were
    /// added; a request gets at most one fault. Takes effect for requests whose
    /// head arrives after this call.
    pub fn inject(&self, matcher: Match, fault: Fault, times: usize) {
        if times > 0 {
            lock(&self.shared.rules).push(Rule { matcher, fault, remaining: times });
        }
    }

    /// Removes every rule not yet used up.
    pub fn clear(&self) {
        lock(&self.shared.rules).clear();
    }

    /// How many injections are still pending over all rules.
    pub fn pending_faults(&self) -> usize {
        lock(&self.shared.rules).iter().fold(0usize, |n, r| n.saturating_add(r.remaining))
    }

    /// Every request seen so far, in arrival order.
    pub fn requests(&self) -> Vec<SeenRequest> {
        lock(&self.shared.seen).clone()
    }

    /// The requests seen so far that fit `matcher`.
    pub fn requests_matching(&self, matcher: &Match) -> Vec<SeenRequest> {
        lock(&self.shared.seen).iter().filter(|r| matcher.matches(r)).cloned().collect()
    }

    /// The most requests to `bucket` that were in flight at once (from a
    /// request's head arriving to its response leaving): what a client's
    /// concurrency costs the server.
    pub fn max_in_flight(&self, bucket: &str) -> u64 {
        lock(&self.shared.in_flight).get(bucket).map_or(0, |(_, max)| *max)
    }

    /// Forgets the recorded requests (rules are kept).
    pub fn clear_requests(&self) {
        lock(&self.shared.seen).clear();
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl fmt::Debug for FaultProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FaultProxy").field("addr", &self.addr).field("upstream", &self.shared.upstream).finish()
    }
}

async fn accept_loop(listener: std::net::TcpListener, shared: Arc<Shared>, mut stop: oneshot::Receiver<()>) {
    let listener = TcpListener::from_std(listener).expect("fault proxy: register listener");
    loop {
        let socket = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((socket, _)) => socket,
                Err(err) => {
                    eprintln!("fault proxy: accept failed: {err}");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            _ = &mut stop => return,
        };
        let id = shared.next_connection.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(serve_connection(socket, shared.clone(), id));
    }
}

async fn serve_connection(socket: TcpStream, shared: Arc<Shared>, id: u64) {
    let _ = socket.set_nodelay(true);
    // A second descriptor for the same socket: it outlives hyper's, so setting
    // SO_LINGER 0 on it and closing it last sends a RST.
    let std_socket = match socket.into_std() {
        Ok(s) => s,
        Err(_) => return,
    };
    let control = match std_socket.try_clone() {
        Ok(c) => c,
        Err(_) => return,
    };
    let socket = match TcpStream::from_std(std_socket) {
        Ok(s) => s,
        Err(_) => return,
    };
    let conn =
        Arc::new(Conn { id, shared, upstream: tokio::sync::Mutex::new(None), killer: Arc::new(Killer::default()) });
    let killer = conn.killer.clone();
    let service = hyper::service::service_fn(move |req| handle(conn.clone(), req));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.preserve_header_case(true).keep_alive(true);
    let connection = http.serve_connection(TokioIo::new(socket), service);
    tokio::select! {
        biased;
        _ = connection => {}
        _ = killer.notify.notified() => {
            let _ = socket2::SockRef::from(&control).set_linger(Some(Duration::ZERO));
        }
    }
    drop(control);
}

async fn handle(conn: Arc<Conn>, req: Request<Incoming>) -> Result<Response<ProxyBody>, BoxError> {
    let shared = conn.shared.clone();
    let _in_flight = InFlight::start(&shared, req.uri().path());
    let (seq, fault) =
        shared.arrive(conn.id, req.method().as_str(), req.uri().path(), req.uri().query().unwrap_or_default());
    match fault {
        None => forward(&conn, req, seq, Trip::None).await,
        Some(Fault::Status(status, code)) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut body = req.into_body();
            while let Some(frame) = body.frame().await {
                let frame = frame?;
                if let Some(data) = frame.data_ref() {
                    let n = data.len() as u64;
                    shared.update(seq, |r| r.body_bytes += n);
                }
            }
            shared.update(seq, |r| r.status = Some(status.as_u16()));
            Ok(s3_error(status, code, "Injected by the test fault proxy", seq))
        }
        Some(Fault::Reply(status, body)) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut request_body = req.into_body();
            while let Some(frame) = request_body.frame().await {
                frame?;
            }
            shared.update(seq, |r| r.status = Some(status.as_u16()));
            let mut response = Response::new(
                Full::new(Bytes::from_static(body.as_bytes()))
                    .map_err(|never: Infallible| match never {})
                    .boxed_unsync(),
            );
            *response.status_mut() = status;
            response
                .headers_mut()
                .insert(HeaderName::from_static("content-type"), HeaderValue::from_static("application/xml"));
            Ok(response)
        }
        Some(Fault::Stall(duration)) => {
            tokio::time::sleep(duration).await;
            drop(req);
            Err("stalled by the fault proxy; closing without a response".into())
        }
        Some(Fault::Delay(duration)) => {
            tokio::time::sleep(duration).await;
            forward(&conn, req, seq, Trip::None).await
        }
        Some(Fault::ResetMidBody { after_bytes }) => forward(&conn, req, seq, Trip::Request(after_bytes)).await,
        Some(Fault::ResetMidResponse { after_bytes }) => forward(&conn, req, seq, Trip::Response(after_bytes)).await,
        Some(Fault::DropResponse) => forward(&conn, req, seq, Trip::DropResponse).await,
        Some(Fault::CorruptBody { at_byte }) => forward(&conn, req, seq, Trip::Corrupt(at_byte)).await,
    }
}

#[derive(Clone, Copy)]
enum Trip {
    None,
    Request(u64),
    Response(u64),
    DropResponse,
    Corrupt(u64),
}

/// Response headers that describe the upstream connection, not the message.
const HOP_BY_HOP: [&str; 7] =
    ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"];

async fn forward(conn: &Conn, req: Request<Incoming>, seq: u64, trip: Trip) -> Result<Response<ProxyBody>, BoxError> {
    let shared = conn.shared.clone();
    let (parts, body) = req.into_parts();
    let request_limit = if let Trip::Request(n) = trip { Some(n) } else { None };
    let mut body = Tap::new(body, shared.clone(), seq, Direction::Request, request_limit, conn.killer.clone());
    if let Trip::Corrupt(at_byte) = trip {
        body.corrupt_at = Some(at_byte);
    }
    let upstream_req = Request::from_parts(parts, body.boxed_unsync());

    let mut sender = match take_sender(conn).await {
        Ok(sender) => sender,
        Err(err) => return Ok(bad_gateway(&shared, seq, format!("cannot connect upstream: {err}"))),
    };
    shared.update(seq, |r| r.forwarded = true);
    let response = match sender.send_request(upstream_req).await {
        Ok(response) => response,
        Err(err) => {
            if conn.killer.fired() {
                return never_answer().await;
            }
            return Ok(bad_gateway(&shared, seq, format!("upstream failed: {err}")));
        }
    };
    if !sender.is_closed() {
        *conn.upstream.lock().await = Some(sender);
    }
    let status = response.status().as_u16();
    shared.update(seq, |r| r.upstream_status = Some(status));

    match trip {
        // The body ended before the reset point: reset instead of answering.
        Trip::Request(_) | Trip::DropResponse => {
            conn.killer.fire();
            return never_answer().await;
        }
        Trip::None | Trip::Response(_) | Trip::Corrupt(_) => {}
    }

    let (mut parts, body) = response.into_parts();
    for name in HOP_BY_HOP {
        parts.headers.remove(name);
    }
    parts.version = Version::HTTP_11;
    let response_limit = if let Trip::Response(n) = trip { Some(n) } else { None };
    let body = Tap::new(body, shared.clone(), seq, Direction::Response, response_limit, conn.killer.clone());
    shared.update(seq, |r| r.status = Some(status));
    Ok(Response::from_parts(parts, body.boxed_unsync()))
}

/// The upstream connection of this client connection, reopened when closed.
async fn take_sender(conn: &Conn) -> Result<SendRequest<ProxyBody>, BoxError> {
    if let Some(mut sender) = conn.upstream.lock().await.take() {
        if sender.ready().await.is_ok() {
            return Ok(sender);
        }
    }
    let stream = TcpStream::connect(conn.shared.upstream).await?;
    let _ = stream.set_nodelay(true);
    let (sender, connection) =
        hyper::client::conn::http1::Builder::new().preserve_header_case(true).handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

/// Parks a request whose connection is being reset; the connection task drops it.
async fn never_answer() -> Result<Response<ProxyBody>, BoxError> {
    std::future::pending::<()>().await;
    unreachable!()
}

fn bad_gateway(shared: &Shared, seq: u64, error: String) -> Response<ProxyBody> {
    let response = s3_error(StatusCode::BAD_GATEWAY, "BadGateway", &error, seq);
    shared.update(seq, |r| {
        r.status = Some(502);
        r.error = Some(error);
    });
    response
}

fn s3_error(status: StatusCode, code: &str, message: &str, seq: u64) -> Response<ProxyBody> {
    let escape = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let request_id = format!("FAULTPROXY{seq:010}");
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message><RequestId>{request_id}</RequestId></Error>",
        escape(code),
        escape(message)
    );
    let mut response =
        Response::new(Full::new(Bytes::from(xml)).map_err(|never: Infallible| match never {}).boxed_unsync());
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(HeaderName::from_static("content-type"), HeaderValue::from_static("application/xml"));
    if let Ok(id) = HeaderValue::from_str(&request_id) {
        headers.insert(HeaderName::from_static("x-amz-request-id"), id);
    }
    response
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Request,
    Response,
}

/// A body passed through: counts bytes into the request's record and, with a
/// limit, cuts the connection once that many bytes have gone by.
struct Tap<B> {
    inner: B,
    shared: Arc<Shared>,
    seq: u64,
    direction: Direction,
    limit: Option<u64>,
    passed: u64,
    tripped: bool,
    killer: Arc<Killer>,
    /// Offset of the byte to damage, if any.
    corrupt_at: Option<u64>,
}

impl<B> Tap<B> {
    fn new(
        inner: B,
        shared: Arc<Shared>,
        seq: u64,
        direction: Direction,
        limit: Option<u64>,
        killer: Arc<Killer>,
    ) -> Self {
        Self { inner, shared, seq, direction, limit, passed: 0, tripped: false, killer, corrupt_at: None }
    }

    fn count(&mut self, n: u64) {
        self.passed += n;
        let direction = self.direction;
        self.shared.update(self.seq, |r| match direction {
            Direction::Request => r.body_bytes += n,
            Direction::Response => r.response_bytes += n,
        });
    }

    fn trip(&mut self) {
        self.tripped = true;
        self.killer.fire();
    }
}

impl<B> Body for Tap<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        if this.tripped {
            return Poll::Ready(Some(Err("connection reset by the fault proxy".into())));
        }
        let frame = match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Ready(Some(Err(err))) => return Poll::Ready(Some(Err(err.into()))),
            Poll::Ready(Some(Ok(frame))) => frame,
        };
        match frame.into_data() {
            Ok(mut data) => {
                if let Some(at) = this.corrupt_at {
                    if (this.passed..this.passed + data.len() as u64).contains(&at) {
                        let mut damaged = data.to_vec();
                        damaged[(at - this.passed) as usize] ^= 0x01;
                        data = Bytes::from(damaged);
                        this.corrupt_at = None;
                    }
                }
                if let Some(limit) = this.limit {
                    let room = limit.saturating_sub(this.passed);
                    if data.len() as u64 >= room {
                        data.truncate(room as usize);
                        this.count(data.len() as u64);
                        this.trip();
                        if data.is_empty() {
                            return Poll::Ready(Some(Err("connection reset by the fault proxy".into())));
                        }
                        return Poll::Ready(Some(Ok(Frame::data(data))));
                    }
                }
                this.count(data.len() as u64);
                Poll::Ready(Some(Ok(Frame::data(data))))
            }
            Err(frame) => Poll::Ready(Some(Ok(frame))),
        }
    }

    fn is_end_stream(&self) -> bool {
        !self.tripped && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
