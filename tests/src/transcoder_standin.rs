//! An HTTP stand-in for the two cloud transcoders, on `127.0.0.1`.
//!
//! Neither AWS Elemental MediaConvert nor Amazon Elastic Transcoder has a
//! local emulator, so [`TranscoderStandIn`] answers the few REST (restJson1)
//! operations the official SDKs send, shaped as the services answer them:
//!
//! | service | operation | request |
//! |---|---|---|
//! | MediaConvert | CreateJob | `POST /2017-08-29/jobs` → 201 `{"job": {...}}` |
//! | MediaConvert | GetJob | `GET /2017-08-29/jobs/{id}` → `{"job": {...}}` |
//! | MediaConvert | CancelJob | `DELETE /2017-08-29/jobs/{id}` → 202 `{}` (later polls: `CANCELED`) |
//! | Elastic Transcoder | ListPipelines | `GET /2012-09-25/pipelines?PageToken=` → `{"Pipelines": [...], "NextPageToken"}` |
//! | Elastic Transcoder | CreatePipeline | `POST /2012-09-25/pipelines` → 201 `{"Pipeline": {...}}` |
//! | Elastic Transcoder | CreateJob | `POST /2012-09-25/jobs` → 201 `{"Job": {...}}` |
//! | Elastic Transcoder | ReadJob | `GET /2012-09-25/jobs/{Id}` → `{"Job": {...}}` |
//! | Elastic Transcoder | CancelJob | `DELETE /2012-09-25/jobs/{Id}` → 202 `{}` (later reads: `Canceled`) |
//!
//! Errors are restJson1 errors: the status, an `x-amzn-ErrorType` header and
//! `{"message": …}`. Every request is recorded ([`RecordedRequest`]) with its
//! parsed JSON body, so tests assert on exactly what the SDK sent.
//!
//! Signatures are not verified, but a request without an `Authorization`
//! header is refused (403 `MissingAuthenticationTokenException`), and the
//! signing scope (`…/us-east-1/mediaconvert/aws4_request`) is recorded.
//!
//! A job's life is scripted: each GetJob/ReadJob answers the next
//! [`JobStep`] of its script and the last step repeats
//! ([`TranscoderStandIn::script_next_job`], [`TranscoderStandIn::script_job`]).
//! Created jobs answer `SUBMITTED` until scripted otherwise.
//!
//! Failures: [`TranscoderStandIn::fail_next`] answers matching requests with an
//! [`HttpAnswer`]; [`TranscoderStandIn::discontinue_elastic_transcoder`] makes
//! every Elastic Transcoder request get one (the service gone), and
//! [`unreachable_endpoint`] is an address where nothing listens (the endpoint
//! gone).
//!
//! Started with [`TranscoderStandIn::start_working`], it also does the work, as
//! the service would (`standin_work`): it reads the job's input from S3 and
//! writes every output under the service's names, and a job only reports
//! COMPLETE once they are all there (PROGRESSING until then; ERROR with the
//! service's code if the input cannot be read). Unscripted jobs then go
//! SUBMITTED → PROGRESSING → COMPLETE by themselves.
//!
//! Like the fault proxy, it runs on its own single-threaded tokio runtime on a
//! background thread and stops on drop.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Map, Value};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub use crate::standin_work::StandInStorage;
use crate::standin_work::{self, WorkFailure};

const MEDIACONVERT_PREFIX: &str = "/2017-08-29/";
const ELASTIC_TRANSCODER_PREFIX: &str = "/2012-09-25/";
const ACCOUNT: &str = "000000000000";
const REGION: &str = "us-east-1";

/// Which API a request was for, from its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    MediaConvert,
    ElasticTranscoder,
    Other,
}

impl Service {
    fn of(path: &str) -> Self {
        if path.starts_with(MEDIACONVERT_PREFIX) {
            Service::MediaConvert
        } else if path.starts_with(ELASTIC_TRANSCODER_PREFIX) {
            Service::ElasticTranscoder
        } else {
            Service::Other
        }
    }
}

/// One request as the stand-in saw it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// Arrival order, from 0.
    pub seq: u64,
    pub service: Service,
    pub method: String,
    /// Raw path, still percent-encoded.
    pub path: String,
    /// Raw query without `?` ("" when none).
    pub query: String,
    /// The `Authorization` header, if any.
    pub authorization: Option<String>,
    /// The service in the SigV4 credential scope (`mediaconvert`, `elastictranscoder`).
    pub signing_service: Option<String>,
    /// The region in the SigV4 credential scope.
    pub signing_region: Option<String>,
    /// The body as JSON; `Value::Null` when empty, `Value::String` when not JSON.
    pub body: Value,
    /// The status answered.
    pub status: u16,
}

impl RecordedRequest {
    /// The percent-decoded value of query parameter `name`.
    pub fn param(&self, name: &str) -> Option<String> {
        self.query.split('&').filter_map(|pair| pair.split_once('=')).find(|(n, _)| *n == name).map(|(_, v)| decode(v))
    }

    pub fn is(&self, method: &str, path: &str) -> bool {
        self.method.eq_ignore_ascii_case(method) && self.path == path
    }
}

/// What a job reports at one poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobStep {
    Submitted,
    /// MediaConvert reports the percent; Elastic Transcoder has none and ignores it.
    Progressing {
        percent: u8,
    },
    Complete,
    Canceled,
    /// MediaConvert: `errorCode` (when numeric) and `errorMessage`. Elastic
    /// Transcoder: the first output's `Status` "Error" with `StatusDetail` =
    /// `"<code> <message>"` (the service's shape, e.g. `4000 …: The input file…`).
    Error {
        code: String,
        message: String,
    },
}

/// A canned HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpAnswer {
    pub status: u16,
    /// Sent as `x-amzn-ErrorType`.
    pub error_type: Option<String>,
    pub content_type: String,
    pub body: String,
}

impl HttpAnswer {
    /// A restJson1 error: `x-amzn-ErrorType: <error_type>` and `{"message": …}`.
    pub fn json_error(status: u16, error_type: &str, message: &str) -> Self {
        Self {
            status,
            error_type: Some(error_type.to_owned()),
            content_type: "application/json".to_owned(),
            body: json!({ "message": message }).to_string(),
        }
    }

    /// An answer with no error type: a load balancer or a retired API front end.
    pub fn plain(status: u16, content_type: &str, body: &str) -> Self {
        Self { status, error_type: None, content_type: content_type.to_owned(), body: body.to_owned() }
    }

    /// The shapes a discontinued Elastic Transcoder may answer with, named.
    pub fn discontinued_shapes() -> Vec<(&'static str, HttpAnswer)> {
        vec![
            (
                "410 Gone saying the service is discontinued",
                HttpAnswer::plain(
                    410,
                    "application/json",
                    r#"{"message":"Amazon Elastic Transcoder has been discontinued."}"#,
                ),
            ),
            (
                "404 from a front end without the API",
                HttpAnswer::plain(404, "text/html", "<html><body>Not Found</body></html>"),
            ),
            (
                "403 AccessDeniedException about the service",
                HttpAnswer::json_error(
                    403,
                    "AccessDeniedException",
                    "Amazon Elastic Transcoder is no longer available to this account.",
                ),
            ),
        ]
    }
}

/// `http://127.0.0.1:PORT` where nothing listens: a port that was free a moment ago.
pub fn unreachable_endpoint() -> String {
    let port =
        std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("bind a free port").port();
    format!("http://127.0.0.1:{port}")
}

struct Fault {
    service: Service,
    method: Option<String>,
    path_contains: String,
    answer: HttpAnswer,
    remaining: usize,
}

struct ScriptedJob {
    /// What CreateJob answered, updated on each poll.
    job: Value,
    steps: VecDeque<JobStep>,
    current: JobStep,
    polls: u32,
}

impl ScriptedJob {
    fn new(job: Value, script: Option<Vec<JobStep>>) -> Self {
        Self { job, steps: script.unwrap_or_default().into(), current: JobStep::Submitted, polls: 0 }
    }

    /// CancelJob: every later poll answers `Canceled`. As with the services, a
    /// job that has ended cannot be cancelled, and with `only_waiting` (Elastic
    /// Transcoder) neither can one that has started.
    fn cancel(&mut self, only_waiting: bool) -> bool {
        let cancellable = match self.current {
            JobStep::Submitted => true,
            JobStep::Progressing { .. } => !only_waiting,
            JobStep::Complete | JobStep::Canceled | JobStep::Error { .. } => false,
        };
        if !cancellable {
            return false;
        }
        self.steps = VecDeque::from([JobStep::Canceled]);
        true
    }

    fn advance(&mut self) -> JobStep {
        if let Some(next) = self.steps.pop_front() {
            self.current = next;
        }
        self.polls += 1;
        self.current.clone()
    }
}

#[derive(Default)]
struct State {
    requests: Vec<RecordedRequest>,
    next_seq: u64,
    next_id: u64,
    next_scripts: VecDeque<Vec<JobStep>>,
    mediaconvert_jobs: HashMap<String, ScriptedJob>,
    et_jobs: HashMap<String, ScriptedJob>,
    et_pipelines: Vec<Value>,
    page_size: usize,
    faults: Vec<Fault>,
    et_discontinued: Option<HttpAnswer>,
    /// Where jobs read and write, when the stand-in does the work.
    storage: Option<StandInStorage>,
    /// Each job's work: `None` while it runs.
    work: HashMap<String, Option<Result<(), WorkFailure>>>,
    /// Work that requests started, spawned once the state is unlocked.
    to_start: Vec<(String, Work)>,
}

/// A job's work, as its CreateJob described it.
enum Work {
    MediaConvert { role: String, settings: Value },
    ElasticTranscoder { pipeline: Value, job: Value },
}

impl State {
    fn new_id(&mut self) -> String {
        self.next_id += 1;
        format!("{}-{:06}", now_millis(), self.next_id)
    }

    /// The script for a job whose id is not known yet: the next queued one
    /// (when the stand-in works, an unscripted job progresses to COMPLETE).
    fn take_script(&mut self) -> Option<Vec<JobStep>> {
        self.next_scripts
            .pop_front()
            .or_else(|| self.storage.is_some().then(|| vec![JobStep::Progressing { percent: 50 }, JobStep::Complete]))
    }

    /// `step`, unless it is COMPLETE and the job's work is not done: then
    /// PROGRESSING while it runs, or the service's ERROR if it failed.
    fn after_work(&self, id: &str, step: JobStep) -> JobStep {
        if step != JobStep::Complete {
            return step;
        }
        match self.work.get(id) {
            None | Some(Some(Ok(()))) => step,
            Some(None) => JobStep::Progressing { percent: 99 },
            Some(Some(Err(failure))) => JobStep::Error { code: failure.code.clone(), message: failure.message.clone() },
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The stand-in server. See the module docs. Stops on drop.
pub struct TranscoderStandIn {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl TranscoderStandIn {
    /// Binds `127.0.0.1:0` and serves on a background thread; jobs only follow their scripts.
    pub fn start() -> Self {
        Self::launch(None)
    }

    /// Like [`start`](Self::start), and jobs do their work on `storage`.
    pub fn start_working(storage: StandInStorage) -> Self {
        Self::launch(Some(storage))
    }

    fn launch(storage: Option<StandInStorage>) -> Self {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("transcoder stand-in: bind 127.0.0.1:0");
        listener.set_nonblocking(true).expect("transcoder stand-in: non-blocking listener");
        let addr = listener.local_addr().expect("transcoder stand-in: local address");
        let state = Arc::new(Mutex::new(State { page_size: 10, storage, ..State::default() }));
        let (stop_tx, stop_rx) = oneshot::channel();
        let thread_state = state.clone();
        let thread = std::thread::Builder::new()
            .name(format!("transcoder-standin-{}", addr.port()))
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("transcoder stand-in: tokio runtime");
                runtime.block_on(accept_loop(listener, thread_state, stop_rx));
            })
            .expect("transcoder stand-in: spawn thread");
        Self { addr, state, stop: Some(stop_tx), thread: Some(thread) }
    }

    /// `http://127.0.0.1:PORT`, for `endpoint_url`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.state).requests.clone()
    }

    /// The requests with this method and exact path.
    pub fn requests_to(&self, method: &str, path: &str) -> Vec<RecordedRequest> {
        lock(&self.state).requests.iter().filter(|r| r.is(method, path)).cloned().collect()
    }

    pub fn clear_requests(&self) {
        lock(&self.state).requests.clear();
    }

    /// The next job created (by either service) follows `steps`.
    pub fn script_next_job(&self, steps: Vec<JobStep>) {
        lock(&self.state).next_scripts.push_back(steps);
    }

    /// The job `id` follows `steps` from its next poll on. Panics for an unknown id.
    pub fn script_job(&self, id: &str, steps: Vec<JobStep>) {
        let mut state = lock(&self.state);
        let state = &mut *state;
        let job = state
            .mediaconvert_jobs
            .get_mut(id)
            .or_else(|| state.et_jobs.get_mut(id))
            .unwrap_or_else(|| panic!("the stand-in has no job {id}"));
        job.steps = steps.into();
    }

    /// How many times job `id` has been polled.
    pub fn polls(&self, id: &str) -> u32 {
        let state = lock(&self.state);
        state.mediaconvert_jobs.get(id).or_else(|| state.et_jobs.get(id)).map_or(0, |job| job.polls)
    }

    /// An Elastic Transcoder pipeline that exists before the test; returns its id.
    pub fn seed_pipeline(&self, name: &str, input_bucket: &str, output_bucket: &str, role: &str) -> String {
        let mut state = lock(&self.state);
        let id = state.new_id();
        let pipeline = pipeline_json(&id, name, input_bucket, output_bucket, role);
        state.et_pipelines.push(pipeline);
        id
    }

    /// Every Elastic Transcoder pipeline, as ListPipelines shows them.
    pub fn pipelines(&self) -> Vec<Value> {
        lock(&self.state).et_pipelines.clone()
    }

    /// Pipelines per ListPipelines page (default 10).
    pub fn set_page_size(&self, size: usize) {
        lock(&self.state).page_size = size.max(1);
    }

    /// Answers the next `times` requests to `service` whose method is `method`
    /// (any when `None`) and whose path contains `path_contains` with `answer`.
    pub fn fail_next(
        &self,
        service: Service,
        method: Option<&str>,
        path_contains: &str,
        answer: HttpAnswer,
        times: usize,
    ) {
        lock(&self.state).faults.push(Fault {
            service,
            method: method.map(str::to_ascii_uppercase),
            path_contains: path_contains.to_owned(),
            answer,
            remaining: times,
        });
    }

    /// From now on every Elastic Transcoder request gets `answer` (`None`: serve normally again).
    pub fn discontinue_elastic_transcoder(&self, answer: Option<HttpAnswer>) {
        lock(&self.state).et_discontinued = answer;
    }
}

impl Drop for TranscoderStandIn {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl fmt::Debug for TranscoderStandIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TranscoderStandIn").field("addr", &self.addr).finish()
    }
}

async fn accept_loop(listener: std::net::TcpListener, state: Arc<Mutex<State>>, mut stop: oneshot::Receiver<()>) {
    let listener = TcpListener::from_std(listener).expect("transcoder stand-in: register listener");
    loop {
        let socket = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((socket, _)) => socket,
                Err(err) => {
                    eprintln!("transcoder stand-in: accept failed: {err}");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            _ = &mut stop => return,
        };
        let state = state.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| handle(state.clone(), req));
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(socket), service).await;
        });
    }
}

type Answer = (StatusCode, Option<String>, String, String);

async fn handle(shared: Arc<Mutex<State>>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or_default().to_owned();
    let authorization = req.headers().get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let bytes = match req.into_body().collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    let (signing_region, signing_service) = authorization.as_deref().map(credential_scope).unwrap_or_default();
    let service = Service::of(&path);

    let mut guard = lock(&shared);
    let state = &mut *guard;
    let seq = state.next_seq;
    state.next_seq += 1;
    let (status, error_type, content_type, text) =
        answer(state, service, &method, &path, &query, authorization.is_some(), &body);
    let to_start = std::mem::take(&mut state.to_start);
    let storage = state.storage.clone();
    state.requests.push(RecordedRequest {
        seq,
        service,
        method,
        path,
        query,
        authorization,
        signing_service,
        signing_region,
        body,
        status: status.as_u16(),
    });
    drop(guard);
    if let Some(storage) = storage {
        for (id, work) in to_start {
            let (state, storage) = (shared.clone(), storage.clone());
            lock(&state).work.insert(id.clone(), None);
            tokio::spawn(async move {
                let done = match work {
                    Work::MediaConvert { role, settings } => {
                        standin_work::mediaconvert(&storage, &role, &settings).await
                    }
                    Work::ElasticTranscoder { pipeline, job } => {
                        standin_work::elastic_transcoder(&storage, &pipeline, &job).await
                    }
                };
                lock(&state).work.insert(id, Some(done));
            });
        }
    }

    let mut response = Response::new(Full::new(Bytes::from(text)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if let Ok(value) = content_type.parse() {
        headers.insert("content-type", value);
    }
    if let Some(error_type) = error_type.and_then(|t| t.parse().ok()) {
        headers.insert("x-amzn-errortype", error_type);
    }
    if let Ok(value) = format!("standin-{seq:08}").parse() {
        headers.insert("x-amzn-requestid", value);
    }
    Ok(response)
}

fn json_answer(status: u16, value: Value) -> Answer {
    (StatusCode::from_u16(status).unwrap_or(StatusCode::OK), None, "application/json".to_owned(), value.to_string())
}

fn error_answer(status: u16, error_type: &str, message: &str) -> Answer {
    canned(&HttpAnswer::json_error(status, error_type, message))
}

fn canned(answer: &HttpAnswer) -> Answer {
    (
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        answer.error_type.clone(),
        answer.content_type.clone(),
        answer.body.clone(),
    )
}

fn answer(
    state: &mut State,
    service: Service,
    method: &str,
    path: &str,
    query: &str,
    signed: bool,
    body: &Value,
) -> Answer {
    if !signed {
        return error_answer(403, "MissingAuthenticationTokenException", "Missing Authentication Token");
    }
    if let Some(fault) = state.faults.iter_mut().find(|f| {
        f.remaining > 0
            && f.service == service
            && f.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method))
            && path.contains(f.path_contains.as_str())
    }) {
        fault.remaining -= 1;
        let answer = canned(&fault.answer);
        state.faults.retain(|f| f.remaining > 0);
        return answer;
    }
    match service {
        Service::MediaConvert => mediaconvert(state, method, path, body),
        Service::ElasticTranscoder => {
            if let Some(gone) = &state.et_discontinued {
                return canned(gone);
            }
            elastic_transcoder(state, method, path, query, body)
        }
        Service::Other => error_answer(404, "UnknownOperationException", &format!("no operation at {method} {path}")),
    }
}

// ---------------------------------------------------------------- MediaConvert

fn mediaconvert(state: &mut State, method: &str, path: &str, body: &Value) -> Answer {
    let rest = &path[MEDIACONVERT_PREFIX.len()..];
    match (method, rest.split('/').collect::<Vec<_>>().as_slice()) {
        ("POST", ["jobs"]) => {
            let Some(role) = body.get("role").and_then(Value::as_str).filter(|r| !r.is_empty()) else {
                return error_answer(400, "BadRequestException", "/role: role is required");
            };
            let Some(settings) = body.get("settings").filter(|s| s.is_object()) else {
                return error_answer(400, "BadRequestException", "/settings: settings is required");
            };
            if settings.get("outputGroups").and_then(Value::as_array).is_none_or(Vec::is_empty) {
                return error_answer(
                    400,
                    "BadRequestException",
                    "/settings/outputGroups: at least one output group is required",
                );
            }
            if let Err(message) = crate::mediaconvert_model::check_job_settings(settings) {
                return error_answer(400, "BadRequestException", &message);
            }
            let id = state.new_id();
            let queue = body
                .get("queue")
                .and_then(Value::as_str)
                .map_or_else(|| format!("arn:aws:mediaconvert:{REGION}:{ACCOUNT}:queues/Default"), str::to_owned);
            let mut job = json!({
                "id": id,
                "arn": format!("arn:aws:mediaconvert:{REGION}:{ACCOUNT}:jobs/{id}"),
                "role": role,
                "settings": settings,
                "queue": queue,
                "status": "SUBMITTED",
                "createdAt": now_millis() / 1000,
                "priority": 0,
            });
            if let Some(metadata) = body.get("userMetadata") {
                job["userMetadata"] = metadata.clone();
            }
            let script = state.take_script();
            state.mediaconvert_jobs.insert(id.clone(), ScriptedJob::new(job.clone(), script));
            state.to_start.push((id, Work::MediaConvert { role: role.to_owned(), settings: settings.clone() }));
            json_answer(201, json!({ "job": job }))
        }
        ("GET", ["jobs", id]) => {
            let Some(scripted) = state.mediaconvert_jobs.get_mut(*id) else {
                return error_answer(404, "NotFoundException", &format!("The job {id} was not found"));
            };
            let step = scripted.advance();
            let step = state.after_work(id, step);
            let scripted = state.mediaconvert_jobs.get_mut(*id).expect("looked up above");
            let job = scripted.job.as_object_mut().expect("jobs are objects");
            for key in ["jobPercentComplete", "errorCode", "errorMessage", "currentPhase"] {
                job.remove(key);
            }
            let status = match &step {
                JobStep::Submitted => "SUBMITTED",
                JobStep::Progressing { percent } => {
                    job.insert("jobPercentComplete".into(), json!(percent));
                    job.insert("currentPhase".into(), json!("TRANSCODING"));
                    "PROGRESSING"
                }
                JobStep::Complete => "COMPLETE",
                JobStep::Canceled => "CANCELED",
                JobStep::Error { code, message } => {
                    if let Ok(code) = code.parse::<i64>() {
                        job.insert("errorCode".into(), json!(code));
                    }
                    job.insert("errorMessage".into(), json!(message));
                    "ERROR"
                }
            };
            job.insert("status".into(), json!(status));
            json_answer(200, json!({ "job": scripted.job }))
        }
        ("DELETE", ["jobs", id]) => match state.mediaconvert_jobs.get_mut(*id).map(|job| job.cancel(false)) {
            None => error_answer(404, "NotFoundException", &format!("The job {id} was not found")),
            Some(true) => json_answer(202, json!({})),
            Some(false) => error_answer(409, "ConflictException", &format!("The job {id} has already ended")),
        },
        _ => error_answer(404, "NotFoundException", &format!("no MediaConvert operation at {method} {path}")),
    }
}

// ---------------------------------------------------------- Elastic Transcoder

fn pipeline_json(id: &str, name: &str, input_bucket: &str, output_bucket: &str, role: &str) -> Value {
    json!({
        "Id": id,
        "Arn": format!("arn:aws:elastictranscoder:{REGION}:{ACCOUNT}:pipeline/{id}"),
        "Name": name,
        "Status": "Active",
        "InputBucket": input_bucket,
        "OutputBucket": output_bucket,
        "Role": role,
        "Notifications": { "Progressing": "", "Completed": "", "Warning": "", "Error": "" },
        "ContentConfig": { "Bucket": output_bucket, "Permissions": [] },
        "ThumbnailConfig": { "Bucket": output_bucket, "Permissions": [] },
    })
}

fn elastic_transcoder(state: &mut State, method: &str, path: &str, query: &str, body: &Value) -> Answer {
    let rest = &path[ELASTIC_TRANSCODER_PREFIX.len()..];
    let validation = |message: &str| error_answer(400, "ValidationException", message);
    match (method, rest.split('/').collect::<Vec<_>>().as_slice()) {
        ("GET", ["pipelines"]) => {
            let start = query
                .split('&')
                .filter_map(|p| p.split_once('='))
                .find(|(n, _)| *n == "PageToken")
                .and_then(|(_, v)| decode(v).parse::<usize>().ok())
                .unwrap_or(0);
            let end = (start + state.page_size).min(state.et_pipelines.len());
            let page: Vec<Value> = state.et_pipelines.get(start..end).unwrap_or_default().to_vec();
            let next = (end < state.et_pipelines.len()).then(|| end.to_string());
            json_answer(200, json!({ "Pipelines": page, "NextPageToken": next }))
        }
        ("POST", ["pipelines"]) => {
            let field = |name: &str| body.get(name).and_then(Value::as_str).filter(|v| !v.is_empty());
            let (Some(name), Some(input_bucket), Some(role)) = (field("Name"), field("InputBucket"), field("Role"))
            else {
                return validation("Name, InputBucket and Role are required");
            };
            let Some(output_bucket) =
                field("OutputBucket").or_else(|| body.pointer("/ContentConfig/Bucket").and_then(Value::as_str))
            else {
                return validation("OutputBucket or ContentConfig is required");
            };
            let id = state.new_id();
            let pipeline = pipeline_json(&id, name, input_bucket, output_bucket, role);
            state.et_pipelines.push(pipeline.clone());
            json_answer(201, json!({ "Pipeline": pipeline, "Warnings": [] }))
        }
        ("POST", ["jobs"]) => {
            let Some(pipeline_id) = body.get("PipelineId").and_then(Value::as_str) else {
                return validation("PipelineId is required");
            };
            if !state.et_pipelines.iter().any(|p| p["Id"] == pipeline_id) {
                return error_answer(
                    404,
                    "ResourceNotFoundException",
                    &format!("The specified pipeline was not found: account={ACCOUNT}, pipelineId={pipeline_id}."),
                );
            }
            if body.pointer("/Input/Key").and_then(Value::as_str).is_none_or(str::is_empty) {
                return validation("Input:Key is required");
            }
            let Some(outputs) = body.get("Outputs").and_then(Value::as_array).filter(|o| !o.is_empty()) else {
                return validation("at least one output is required");
            };
            for output in outputs {
                if output.get("Key").and_then(Value::as_str).is_none_or(str::is_empty) {
                    return validation("Outputs:Key is required");
                }
                if output.get("PresetId").and_then(Value::as_str).is_none_or(str::is_empty) {
                    return validation("Outputs:PresetId is required");
                }
                if let Some(pattern) = output.get("ThumbnailPattern").and_then(Value::as_str) {
                    if !pattern.is_empty() && !pattern.contains("{count}") {
                        return validation("ThumbnailPattern must contain {count}");
                    }
                }
            }
            let id = state.new_id();
            let with_status = |items: &[Value]| -> Vec<Value> {
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        let mut item: Map<String, Value> = item.as_object().cloned().unwrap_or_default();
                        item.insert("Id".into(), json!((i + 1).to_string()));
                        item.insert("Status".into(), json!("Submitted"));
                        Value::Object(item)
                    })
                    .collect()
            };
            let outputs = with_status(outputs);
            let playlists = with_status(body.get("Playlists").and_then(Value::as_array).map_or(&[][..], Vec::as_slice));
            let mut job = json!({
                "Id": id,
                "Arn": format!("arn:aws:elastictranscoder:{REGION}:{ACCOUNT}:job/{id}"),
                "PipelineId": pipeline_id,
                "Input": body["Input"],
                "Output": outputs[0],
                "Outputs": outputs,
                "Playlists": playlists,
                "Status": "Submitted",
                "Timing": { "SubmitTimeMillis": now_millis() },
            });
            if let Some(prefix) = body.get("OutputKeyPrefix") {
                job["OutputKeyPrefix"] = prefix.clone();
            }
            if let Some(metadata) = body.get("UserMetadata") {
                job["UserMetadata"] = metadata.clone();
            }
            let script = state.take_script();
            state.et_jobs.insert(id.clone(), ScriptedJob::new(job.clone(), script));
            let pipeline = state.et_pipelines.iter().find(|p| p["Id"] == pipeline_id).cloned().unwrap_or_default();
            state.to_start.push((id, Work::ElasticTranscoder { pipeline, job: body.clone() }));
            json_answer(201, json!({ "Job": job }))
        }
        ("GET", ["jobs", id]) => {
            let Some(scripted) = state.et_jobs.get_mut(*id) else {
                return error_answer(
                    404,
                    "ResourceNotFoundException",
                    &format!("The specified job was not found: account={ACCOUNT}, jobId={id}."),
                );
            };
            let step = scripted.advance();
            let step = state.after_work(id, step);
            let scripted = state.et_jobs.get_mut(*id).expect("looked up above");
            let (status, item_status) = match &step {
                JobStep::Submitted => ("Submitted", "Submitted"),
                JobStep::Progressing { .. } => ("Progressing", "Progressing"),
                JobStep::Complete => ("Complete", "Complete"),
                JobStep::Canceled => ("Canceled", "Canceled"),
                JobStep::Error { .. } => ("Error", "Error"),
            };
            let detail = match &step {
                JobStep::Error { code, message } => Some(format!("{code} {message}")),
                _ => None,
            };
            let job = &mut scripted.job;
            job["Status"] = json!(status);
            if let Some(outputs) = job.get_mut("Outputs").and_then(Value::as_array_mut) {
                for (i, output) in outputs.iter_mut().enumerate() {
                    // On error, the first output carries the failure; the rest were still queued behind it.
                    let (s, d) = match (&detail, i) {
                        (Some(d), 0) => ("Error", Some(d.clone())),
                        (Some(_), _) => ("Canceled", None),
                        (None, _) => (item_status, None),
                    };
                    output["Status"] = json!(s);
                    match d {
                        Some(d) => output["StatusDetail"] = json!(d),
                        None => {
                            if let Some(o) = output.as_object_mut() {
                                o.remove("StatusDetail");
                            }
                        }
                    }
                }
            }
            let first = job["Outputs"][0].clone();
            job["Output"] = first;
            if let Some(playlists) = job.get_mut("Playlists").and_then(Value::as_array_mut) {
                for playlist in playlists {
                    playlist["Status"] = json!(if detail.is_some() { "Error" } else { item_status });
                }
            }
            json_answer(200, json!({ "Job": scripted.job }))
        }
        ("DELETE", ["jobs", id]) => match state.et_jobs.get_mut(*id).map(|job| job.cancel(true)) {
            None => {
                error_answer(404, "ResourceNotFoundException", &format!("The specified job was not found: jobId={id}."))
            }
            Some(true) => json_answer(202, json!({})),
            Some(false) => {
                error_answer(409, "ResourceInUseException", &format!("The job {id} can no longer be cancelled"))
            }
        },
        _ => error_answer(
            404,
            "ResourceNotFoundException",
            &format!("no Elastic Transcoder operation at {method} {path}"),
        ),
    }
}

// ------------------------------------------------------------------- helpers

/// `AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/mediaconvert/aws4_request, …` → (region, service).
fn credential_scope(authorization: &str) -> (Option<String>, Option<String>) {
    let Some(credential) = authorization.split("Credential=").nth(1) else {
        return (None, None);
    };
    let scope: Vec<&str> = credential.split([',', ' ']).next().unwrap_or_default().split('/').collect();
    match scope.as_slice() {
        [_key, _date, region, service, "aws4_request"] => (Some((*region).to_owned()), Some((*service).to_owned())),
        _ => (None, None),
    }
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(high), Some(low)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((high * 16 + low) as u8);
                i += 3;
                continue;
            }
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn now_millis() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis())
}
