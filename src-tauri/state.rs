//! What the shell holds while the app runs. The window paints before the
//! backend is up: starting it may wait on the OS keychain (the system's unlock
//! prompt), so it starts in the background and commands wait for it.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde::Serialize;
use streamdrop_core::control::{self, ControlServer, Reply, Request};
use streamdrop_core::data_dir::EngineLock;
use streamdrop_core::engine::EngineOptions;
use streamdrop_core::links::Linker;
use streamdrop_core::model::ProblemView;
use streamdrop_core::stack::AwsStackOptions;
use streamdrop_core::stack::LocalStackOptions;
use streamdrop_core::{DataDir, Engine, IntakeReport, JobView, Problem, ProblemCode, Stack, StateName};
use tauri::{AppHandle, Emitter, Manager};
use tokio::sync::{broadcast, watch, Mutex};

/// The shell's state, managed from the first moment: the backend inside it
/// may still be starting.
pub struct Shell {
    pub data_dir: DataDir,
    backend: watch::Receiver<Backend>,
    /// The person confirmed quitting while work runs: the next close goes through.
    quitting: AtomicBool,
    /// Where a second launch finds this one; removed at shutdown.
    control: std::sync::Mutex<Option<ControlServer>>,
}

#[derive(Clone)]
enum Backend {
    Starting,
    Ready(Arc<AppState>),
    Failed(Problem),
}

/// The running backend: the active connection's stack, its engine and linker.
pub struct AppState {
    pub engine: Engine,
    /// Why links cannot be made, when they cannot (an AWS connection whose
    /// signing key is not in this machine's keychain): jobs still run.
    linker: Result<Linker, String>,
    pub connection: String,
    pub is_local: bool,
    /// Shown to people when the window opens.
    pub notices: Vec<Problem>,
    stack: Mutex<Option<Stack>>,
}

/// The window asked to close while jobs run.
#[derive(Clone, Serialize)]
pub struct QuitRequest {
    pub running: usize,
}

/// How the backend is, for the status line (see `ui/src/lib/ipc.ts`).
#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppStatus {
    phase: &'static str,
    mode: &'static str,
    connection: String,
    s3_endpoint: String,
    data_dir: String,
    notices: Vec<ProblemView>,
    error: Option<ProblemView>,
}

impl Shell {
    /// Manages the shell on `app` and starts the backend in the background:
    /// the control channel first (a second launch is then handed over even
    /// while this one starts), then the stack and engine; `files` given on the
    /// command line become the first jobs.
    pub fn start(app: &AppHandle, data_dir: DataDir, lock: EngineLock, files: Vec<PathBuf>) {
        let (ready, backend) = watch::channel(Backend::Starting);
        app.manage(Shell {
            data_dir: data_dir.clone(),
            backend,
            quitting: AtomicBool::new(false),
            control: Default::default(),
        });
        let app = app.clone();
        tauri::async_runtime::spawn(async move {
            match ControlServer::start(&data_dir, &lock, Arc::new(Activation(app.clone()))) {
                Ok(control) => *app.state::<Shell>().control.lock().unwrap_or_else(|p| p.into_inner()) = Some(control),
                Err(err) => tracing::warn!("a second launch cannot hand its files over: {err}"),
            }
            match AppState::start(&data_dir, lock).await {
                Ok(state) => {
                    let state = Arc::new(state);
                    forward_job_events(app.clone(), state.engine.subscribe());
                    let _ = ready.send(Backend::Ready(state.clone()));
                    let _ = app.emit("app-ready", app.state::<Shell>().status());
                    if !files.is_empty() {
                        intake(&app, &state, files).await;
                    }
                }
                Err(problem) => {
                    tracing::error!("cannot start: {}", problem.message_with_detail());
                    let _ = ready.send(Backend::Failed(problem));
                    let _ = app.emit("app-ready", app.state::<Shell>().status());
                }
            }
        });
    }

    /// The backend, once started (waits while it starts).
    pub async fn app(&self) -> Result<Arc<AppState>, String> {
        let mut backend = self.backend.clone();
        let started = backend
            .wait_for(|b| !matches!(b, Backend::Starting))
            .await
            .map_err(|_| "Streamdrop is shutting down.".to_string())?;
        match &*started {
            Backend::Ready(state) => Ok(state.clone()),
            Backend::Failed(problem) => Err(problem.message()),
            Backend::Starting => unreachable!("waited until started"),
        }
    }

    /// The backend if it has started, without waiting.
    fn ready(&self) -> Option<Arc<AppState>> {
        match &*self.backend.borrow() {
            Backend::Ready(state) => Some(state.clone()),
            _ => None,
        }
    }

    pub fn status(&self) -> AppStatus {
        let data_dir = self.data_dir.path().display().to_string();
        let mut status = AppStatus {
            phase: "starting",
            mode: "local",
            connection: String::new(),
            s3_endpoint: String::new(),
            data_dir,
            notices: Vec::new(),
            error: None,
        };
        match &*self.backend.borrow() {
            Backend::Starting => {}
            Backend::Failed(problem) => {
                status.phase = "failed";
                status.error = Some(problem.view());
            }
            Backend::Ready(state) => {
                status.phase = "ready";
                status.mode = if state.is_local { "local" } else { "aws" };
                status.connection = state.connection.clone();
                status.s3_endpoint = state.engine.storage().endpoint_url.clone().unwrap_or_default();
                status.notices = state.notices.iter().map(Problem::view).collect();
            }
        }
        status
    }

    /// Whether closing the window should first be confirmed: jobs are still
    /// running, and the person has not said to quit anyway.
    pub fn quit_needs_asking(&self) -> Option<QuitRequest> {
        if self.quitting.load(Ordering::SeqCst) {
            return None;
        }
        let running = self.ready()?.running_jobs();
        (running > 0).then_some(QuitRequest { running })
    }

    pub fn confirm_quit(&self) {
        self.quitting.store(true, Ordering::SeqCst);
    }

    /// Stops the stack so in-flight requests end cleanly before exit.
    pub async fn shutdown(&self) {
        drop(self.control.lock().unwrap_or_else(|p| p.into_inner()).take());
        if let Some(state) = self.ready() {
            state.shutdown().await;
        }
    }
}

impl AppState {
    async fn start(data_dir: &DataDir, lock: EngineLock) -> Result<Self, Problem> {
        let internal = |detail: String| Problem::new(ProblemCode::Internal).detail(detail);
        let stack =
            Stack::open_active(data_dir, LocalStackOptions::with_os_keychain(), AwsStackOptions::with_os_keychain())
                .await
                .map_err(|e| internal(e.to_string()))?;
        let engine =
            stack.start_engine_locked(lock, data_dir, EngineOptions::default()).map_err(|e| internal(e.to_string()))?;
        let linker = stack.linker(data_dir).await.map_err(|e| e.to_string());
        let mut notices = stack.notices();
        if let Err(why) = &linker {
            tracing::warn!("links cannot be made: {why}");
            notices.push(Problem::new(ProblemCode::LinksUnavailable).detail(why));
        }
        Ok(Self {
            engine,
            linker,
            connection: stack.connection().to_string(),
            is_local: matches!(stack, Stack::Local(_)),
            notices,
            stack: Mutex::new(Some(stack)),
        })
    }

    pub fn linker(&self) -> Result<&Linker, String> {
        self.linker.as_ref().map_err(Clone::clone)
    }

    /// Jobs of this connection that still have work to do.
    fn running_jobs(&self) -> usize {
        let jobs = self.engine.jobs().unwrap_or_default();
        jobs.iter().filter(|j| j.connection == self.connection && is_unfinished(&j.state)).count()
    }

    async fn shutdown(&self) {
        if let Some(stack) = self.stack.lock().await.take() {
            stack.shutdown().await;
        }
    }
}

fn is_unfinished(state: &StateName) -> bool {
    matches!(state, StateName::Queued | StateName::Uploading | StateName::Copying | StateName::Transcoding)
}

/// Files become jobs; the window hears the outcome as `intake`.
pub async fn intake(app: &AppHandle, state: &AppState, paths: Vec<PathBuf>) -> IntakeReport {
    let report = state.engine.add_paths(paths).await;
    let _ = app.emit("intake", &report);
    report
}

/// Brings the main window forward: shown, not minimised, focused.
fn focus_main_window(app: &AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

/// What a second launch asks of this one.
struct Activation(AppHandle);

impl control::Handler for Activation {
    fn handle(&self, request: Request) -> futures_util::future::BoxFuture<'static, Reply> {
        let app = self.0.clone();
        Box::pin(async move {
            let Request::Activate { paths } = request;
            focus_main_window(&app);
            if paths.is_empty() {
                return Reply::Done {
                    by: "app".into(),
                    message: "Streamdrop is already open: its window was brought forward.".into(),
                };
            }
            let state = match app.state::<Shell>().app().await {
                Ok(state) => state,
                Err(why) => return Reply::Refused { message: why },
            };
            let report = intake(&app, &state, paths).await;
            let (added, refused) = (report.accepted.len(), report.rejected.len());
            Reply::Done {
                by: "app".into(),
                message: format!("Added {added} file(s) to the open Streamdrop ({refused} refused)."),
            }
        })
    }
}

/// Relays every engine event to the window as `job-updated`.
fn forward_job_events(app: AppHandle, mut events: broadcast::Receiver<JobView>) {
    tauri::async_runtime::spawn(async move {
        loop {
            match events.recv().await {
                Ok(view) => {
                    let _ = app.emit("job-updated", view);
                }
                // Missed progress is harmless: the next event carries the full state.
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => break,
            }
        }
    });
}
