//! The IPC surface: exactly the commands the UI needs, each a short mapping
//! onto the session (`streamdrop_core::api`). Drops arrive natively (Rust gets real paths), so the
//! webview never gets a command that accepts arbitrary paths. Commands wait
//! while the backend starts.

use std::path::PathBuf;

use streamdrop_core::api::{
    AddedConnection, CheckView, ConnectionForm, ConnectionView, ConnectionsView, RemovedConnection, SetupRequest,
    SetupView, StatusView,
};
use streamdrop_core::model::{LinkKind, LinkView, Preferences, ProblemView};
use streamdrop_core::provisioning::Mode;
use streamdrop_core::{IntakeReport, JobId, JobView, Problem, ProblemCode};
use tauri::{AppHandle, Manager, State};
use tauri_plugin_clipboard_manager::ClipboardExt;
use tauri_plugin_dialog::DialogExt;

use crate::state::{self, Shell};

pub fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
    #[cfg(not(feature = "e2e"))]
    return tauri::generate_handler![
        list_jobs,
        clear_finished,
        pick_files,
        pick_folders,
        add_skipped,
        app_status,
        pause_job,
        resume_job,
        cancel_job,
        retry_job,
        add_again_job,
        preview_url,
        poster_url,
        create_link,
        list_links,
        revoke_link,
        copy_text,
        show_log_file,
        list_connections,
        add_connection,
        check_connection,
        use_connection,
        remove_connection,
        plan_setup,
        apply_setup,
        get_preferences,
        set_preferences,
        confirm_quit
    ];
    #[cfg(feature = "e2e")]
    return tauri::generate_handler![
        list_jobs,
        clear_finished,
        pick_files,
        pick_folders,
        add_skipped,
        app_status,
        pause_job,
        resume_job,
        cancel_job,
        retry_job,
        add_again_job,
        preview_url,
        poster_url,
        create_link,
        list_links,
        revoke_link,
        copy_text,
        show_log_file,
        list_connections,
        add_connection,
        check_connection,
        use_connection,
        remove_connection,
        plan_setup,
        apply_setup,
        get_preferences,
        set_preferences,
        confirm_quit,
        e2e_drop_paths
    ];
}

/// Files dropped on the window become jobs; the UI hears the outcome as `intake`.
pub fn receive_drop(app: &AppHandle, paths: Vec<PathBuf>) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move { state::intake(&app, paths).await });
}

/// What a command answers: its view, or the problem (code, sentence, parameters, detail).
type Answer<T> = Result<T, ProblemView>;

#[tauri::command]
fn list_jobs(shell: State<'_, Shell>) -> Answer<Vec<JobView>> {
    shell.session()?.jobs().map_err(|p| p.view())
}

/// Takes ready and cancelled jobs off the list; nothing stored is deleted.
#[tauri::command]
fn clear_finished(shell: State<'_, Shell>) -> Answer<Vec<JobId>> {
    shell.session()?.clear_finished().map_err(|p| p.view())
}

/// Opens the native file dialog; the chosen files become jobs.
#[tauri::command]
async fn pick_files(app: AppHandle) -> Answer<IntakeReport> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog().file().set_title("Choose camera files").pick_files(move |picked| {
        let _ = tx.send(picked);
    });
    add_picked(&app, rx.await.unwrap_or_default()).await
}

/// Opens the native folder dialog (a file dialog picks files or folders,
/// not both); the clips in the chosen folders or cards become jobs.
#[tauri::command]
async fn pick_folders(app: AppHandle) -> Answer<IntakeReport> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog().file().set_title("Choose camera cards or folders").pick_folders(move |picked| {
        let _ = tx.send(picked);
    });
    add_picked(&app, rx.await.unwrap_or_default()).await
}

/// What a dialog gave becomes jobs, as a drop does.
async fn add_picked(app: &AppHandle, picked: Option<Vec<tauri_plugin_dialog::FilePath>>) -> Answer<IntakeReport> {
    let paths = picked.unwrap_or_default().into_iter().filter_map(|p| p.into_path().ok()).collect::<Vec<_>>();
    let session = app.state::<Shell>().session()?.clone();
    session.add(paths).await.map_err(|p| p.view())
}

/// Files of a drop that were left out as already uploaded, added as new jobs
/// after all (the person chose "Upload again"); only those paths are taken.
#[tauri::command]
async fn add_skipped(shell: State<'_, Shell>, paths: Vec<PathBuf>) -> Answer<IntakeReport> {
    shell.session()?.add_skipped(paths).await.map_err(|p| p.view())
}

#[tauri::command]
async fn pause_job(shell: State<'_, Shell>, id: JobId) -> Answer<JobView> {
    shell.session()?.pause(id).await.map_err(|p| p.view())
}

#[tauri::command]
async fn resume_job(shell: State<'_, Shell>, id: JobId) -> Answer<JobView> {
    shell.session()?.resume(id).await.map_err(|p| p.view())
}

#[tauri::command]
async fn cancel_job(shell: State<'_, Shell>, id: JobId) -> Answer<JobView> {
    shell.session()?.cancel(id).await.map_err(|p| p.view())
}

#[tauri::command]
async fn retry_job(shell: State<'_, Shell>, id: JobId) -> Answer<JobView> {
    shell.session()?.retry(id).await.map_err(|p| p.view())
}

#[tauri::command]
async fn add_again_job(shell: State<'_, Shell>, id: JobId) -> Answer<JobView> {
    shell.session()?.add_again(id).await.map_err(|p| p.view())
}

/// A signed stream URL for the app's own player.
#[tauri::command]
async fn preview_url(shell: State<'_, Shell>, job_id: JobId) -> Answer<String> {
    Ok(shell.session()?.preview(job_id).await.map_err(|p| p.view())?.url)
}

/// A signed URL of a ready job's poster, for its row in the list.
#[tauri::command]
async fn poster_url(shell: State<'_, Shell>, job_id: JobId) -> Answer<String> {
    shell.session()?.poster_preview(job_id).await.map_err(|p| p.view())
}

#[tauri::command]
async fn create_link(
    shell: State<'_, Shell>,
    job_id: JobId,
    kind: LinkKind,
    expires_in_seconds: u64,
) -> Answer<LinkView> {
    shell.session()?.link(job_id, kind, expires_in_seconds).await.map_err(|p| p.view())
}

#[tauri::command]
fn list_links(shell: State<'_, Shell>, job_id: JobId) -> Answer<Vec<LinkView>> {
    shell.session()?.links(job_id).map_err(|p| p.view())
}

/// Revokes a share link: it opens nothing from now on.
#[tauri::command]
async fn revoke_link(shell: State<'_, Shell>, link_id: String) -> Answer<LinkView> {
    shell.session()?.revoke_link(&link_id).await.map_err(|p| p.view())
}

/// Puts text on the system clipboard from Rust: WebKitGTK refuses the page's
/// own clipboard API once a click's handler has awaited anything.
#[tauri::command]
fn copy_text(app: AppHandle, text: String) -> Answer<()> {
    app.clipboard().write_text(text).map_err(|e| Problem::new(ProblemCode::ClipboardFailed).detail(e).view())
}

/// Shows the app's log in the file manager (a failed job's Details offer it).
#[tauri::command]
fn show_log_file(shell: State<'_, Shell>) -> Answer<()> {
    let log = shell.log_file();
    crate::reveal::in_file_manager(&log).map_err(|err| {
        Problem::new(ProblemCode::CannotShowFile).with("file", log.display().to_string()).detail(err).view()
    })
}

#[tauri::command]
fn list_connections(shell: State<'_, Shell>) -> Answer<ConnectionsView> {
    shell.session()?.connections().map_err(|p| p.view())
}

/// Adds an AWS connection; its secret goes to the keychain and nowhere else.
#[tauri::command]
async fn add_connection(shell: State<'_, Shell>, connection: ConnectionForm) -> Answer<AddedConnection> {
    shell.session()?.add_connection(connection.into()).await.map_err(|p| p.view())
}

/// Who the connection's credentials are, and what they may not do.
#[tauri::command]
async fn check_connection(shell: State<'_, Shell>, name: String) -> Answer<CheckView> {
    shell.session()?.check_connection(Some(&name), None).await.map_err(|p| p.view())
}

/// Makes `name` the active connection: its jobs run from now on.
#[tauri::command]
async fn use_connection(shell: State<'_, Shell>, name: String) -> Answer<ConnectionView> {
    shell.session()?.use_connection(&name).await.map_err(|p| p.view())
}

/// Removes an AWS connection and its keys; its jobs stay listed.
#[tauri::command]
async fn remove_connection(shell: State<'_, Shell>, name: String) -> Answer<RemovedConnection> {
    shell.session()?.remove_connection(&name).await.map_err(|p| p.view())
}

/// What setup would create or adopt; changes nothing.
#[tauri::command]
async fn plan_setup(shell: State<'_, Shell>, request: SetupRequest) -> Answer<SetupView> {
    run_setup(&shell, request, Mode::Plan).await
}

/// Creates or adopts the connection's resources; each step is announced as `setup-step`.
#[tauri::command]
async fn apply_setup(shell: State<'_, Shell>, request: SetupRequest) -> Answer<SetupView> {
    run_setup(&shell, request, Mode::Apply).await
}

async fn run_setup(shell: &Shell, request: SetupRequest, mode: Mode) -> Answer<SetupView> {
    let report =
        shell.session()?.setup(Some(&request.connection), &request.options(), mode).await.map_err(|p| p.view())?;
    Ok(SetupView::of(&report))
}

/// Uploads at once, the bandwidth limit and its hours, links' default lifetime.
#[tauri::command]
fn get_preferences(shell: State<'_, Shell>) -> Answer<Preferences> {
    shell.session()?.preferences().map_err(|p| p.view())
}

/// Checks and saves the preferences; the running uploads follow them at once.
#[tauri::command]
async fn set_preferences(shell: State<'_, Shell>, preferences: Preferences) -> Answer<Preferences> {
    shell.session()?.set_preferences(preferences).await.map_err(|p| p.view())
}

/// The person confirmed quitting while jobs run: close for real.
#[tauri::command]
fn confirm_quit(app: AppHandle, shell: State<'_, Shell>) {
    shell.confirm_quit();
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.close();
    }
}

#[tauri::command]
fn app_status(shell: State<'_, Shell>) -> StatusView {
    shell.status()
}

/// Test-only: a drop injected through WebDriver, which cannot send native drops.
/// It runs the very code path of a real drop.
#[cfg(feature = "e2e")]
#[tauri::command]
async fn e2e_drop_paths(app: AppHandle, paths: Vec<PathBuf>) -> Answer<IntakeReport> {
    Ok(state::intake(&app, paths).await)
}
