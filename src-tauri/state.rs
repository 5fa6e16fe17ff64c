//! What the shell holds while the app runs: the session (see
//! `streamdrop_core::api`), the control channel, and whether quitting was
//! confirmed. The window paints before the session has started: starting it
//! may wait on the OS keychain (the system's unlock prompt), so it starts in
//! the background and commands wait for it.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use streamdrop_core::api::{Announcement, Event, Phase, QuitRequest, Session, SessionOptions, StatusView};
use streamdrop_core::control::{self, ControlServer, Reply, Request};
use streamdrop_core::data_dir::EngineLock;
use streamdrop_core::model::ProblemView;
use streamdrop_core::{DataDir, IntakeReport, Problem};
use tauri::{AppHandle, Emitter, Manager};

use crate::csp::MediaOrigin;
use tokio::sync::broadcast;

pub struct Shell {
    /// `Err` when not even the job store could be opened: every command says why.
    session: Result<Session, Problem>,
    data_dir: DataDir,
    /// The person confirmed quitting while work runs: the next close goes through.
    quitting: AtomicBool,
    /// Where a second launch finds this one; removed at shutdown.
    control: std::sync::Mutex<Option<ControlServer>>,
    /// The one origin the window may load media from.
    media_origin: MediaOrigin,
}

impl Shell {
    /// Manages the shell on `app` and starts the session in the background:
    /// the control channel first (a second launch is then handed over even
    /// while this one starts), then the stack and engine; `files` given on the
    /// command line become the first jobs.
    pub fn start(app: &AppHandle, data_dir: DataDir, claim: EngineLock, files: Vec<PathBuf>) {
        let session = Session::open_hosting(data_dir.clone(), SessionOptions::with_os_keychain(), claim.clone());
        app.manage(Shell {
            session: session.clone(),
            data_dir: data_dir.clone(),
            quitting: AtomicBool::new(false),
            control: Default::default(),
            media_origin: MediaOrigin::new(session.as_ref().ok().and_then(Session::media_origin)),
        });
        let Ok(session) = session else {
            let _ = app.emit("app-ready", app.state::<Shell>().status());
            return;
        };
        relay_events(app.clone(), session.subscribe());
        let app = app.clone();
        tauri::async_runtime::spawn(async move {
            match ControlServer::start(&data_dir, &claim, Arc::new(Activation(app.clone()))) {
                Ok(control) => *app.state::<Shell>().control.lock().unwrap_or_else(|p| p.into_inner()) = Some(control),
                Err(err) => tracing::warn!("a second launch cannot hand its files over: {err}"),
            }
            if session.start().await.is_ok() && !files.is_empty() {
                intake(&app, files).await;
            }
        });
    }

    pub fn media_origin(&self) -> &MediaOrigin {
        &self.media_origin
    }

    /// Reloads the window when the media origin its page was served with is
    /// no longer the session's (the edge could not get its port back, or
    /// another connection is in use), so its policy names the right one.
    fn follow_media_origin(&self, app: &AppHandle) {
        let Ok(session) = &self.session else { return };
        let origin = session.media_origin();
        if self.media_origin.update(origin.clone()) {
            if let Some(window) = app.get_webview_window("main") {
                tracing::info!("media now comes from {origin:?}: reloading the window");
                let _ = window.reload();
            }
        }
    }

    /// The log this process writes (see `streamdrop_core::logging`).
    pub fn log_file(&self) -> PathBuf {
        self.data_dir.log_file()
    }

    pub fn session(&self) -> Result<&Session, ProblemView> {
        self.session.as_ref().map_err(Problem::view)
    }

    pub fn status(&self) -> StatusView {
        match &self.session {
            Ok(session) => session.status(),
            Err(problem) => StatusView::failed(&self.data_dir, problem),
        }
    }

    /// Whether closing the window should first be confirmed: jobs are still
    /// running, and the person has not said to quit anyway.
    pub fn quit_needs_asking(&self) -> Option<QuitRequest> {
        if self.quitting.load(Ordering::SeqCst) {
            return None;
        }
        let running = self.session.as_ref().ok()?.unfinished_jobs();
        (running > 0).then_some(QuitRequest { running })
    }

    pub fn confirm_quit(&self) {
        self.quitting.store(true, Ordering::SeqCst);
    }

    /// Stops the stack so in-flight requests end cleanly before exit.
    pub async fn shutdown(&self) {
        drop(self.control.lock().unwrap_or_else(|p| p.into_inner()).take());
        if let Ok(session) = &self.session {
            session.stop().await;
        }
    }
}

/// Files become jobs; the window hears the outcome as `intake` (when the
/// session cannot take them, each is refused with why).
pub async fn intake(app: &AppHandle, paths: Vec<PathBuf>) -> IntakeReport {
    let shell = app.state::<Shell>();
    let report = match shell.session.as_ref() {
        Ok(session) => session.add(paths.clone()).await,
        Err(problem) => Err(problem.clone()),
    };
    let report = report.unwrap_or_else(|problem| IntakeReport::refused(&paths, &problem));
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
            let paths = match request {
                Request::Activate { paths } => paths,
                // The CLI beside the app: its engine answers.
                other => {
                    let session = match app.state::<Shell>().session() {
                        Ok(session) => session.clone(),
                        Err(problem) => return Reply::Refused { message: problem.message },
                    };
                    return session.answer(other).await.expect("only Activate is the face's own");
                }
            };
            focus_main_window(&app);
            if paths.is_empty() {
                return Reply::Done {
                    by: "app".into(),
                    message: "Streamdrop is already open: its window was brought forward.".into(),
                };
            }
            let report = intake(&app, paths).await;
            let (added, refused) = (report.accepted.len(), report.rejected.len());
            Reply::Done {
                by: "app".into(),
                message: format!("Added {added} file(s) to the open Streamdrop ({refused} refused)."),
            }
        })
    }
}

/// Relays the session's events to the window: `job-updated`, `app-ready`
/// (once started, or failed) and `setup-step`; announcements become system notifications.
fn relay_events(app: AppHandle, mut events: broadcast::Receiver<Event>) {
    tauri::async_runtime::spawn(async move {
        loop {
            let emitted = match events.recv().await {
                Ok(Event::Job(view)) => app.emit("job-updated", view),
                Ok(Event::Status(status)) if status.phase != Phase::Starting => {
                    app.state::<Shell>().follow_media_origin(&app);
                    app.emit("app-ready", status)
                }
                Ok(Event::Status(_)) => Ok(()),
                Ok(Event::SetupStep(progress)) => app.emit("setup-step", progress),
                Ok(Event::Announce(announcement)) => {
                    notify(&app, announcement);
                    Ok(())
                }
                // Missed progress is harmless: the next event carries the full state.
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => break,
            };
            if let Err(err) = emitted {
                tracing::warn!("cannot tell the window: {err}");
            }
        }
    });
}

/// Shows `announcement` as a system notification, off the event loop (the
/// notification server may be slow or absent). The plugin offers no click
/// action on Linux, so the notification names the job rather than opening it.
fn notify(app: &AppHandle, announcement: Announcement) {
    use tauri_plugin_notification::NotificationExt;
    let app = app.clone();
    tauri::async_runtime::spawn_blocking(move || {
        let shown = app.notification().builder().title(&announcement.title).body(&announcement.body).show();
        if let Err(err) = shown {
            tracing::warn!("cannot show a notification: {err}");
        }
    });
}
