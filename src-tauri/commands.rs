//! The IPC surface: exactly the commands the UI needs, each a short mapping
//! onto the engine. Drops arrive natively (Rust gets real paths), so the
//! webview never gets a command that accepts arbitrary paths. Commands wait
//! while the backend starts.

use std::path::PathBuf;

use streamdrop_core::model::{LinkKind, LinkView};
use streamdrop_core::{IntakeReport, JobId, JobView};
use tauri::{AppHandle, Manager, State};
use tauri_plugin_clipboard_manager::ClipboardExt;
use tauri_plugin_dialog::DialogExt;

use crate::state::{self, AppStatus, Shell};

pub fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
    #[cfg(not(feature = "e2e"))]
    return tauri::generate_handler![
        list_jobs,
        pick_files,
        app_status,
        pause_job,
        resume_job,
        cancel_job,
        retry_job,
        add_again_job,
        preview_url,
        create_link,
        list_links,
        copy_text,
        confirm_quit
    ];
    #[cfg(feature = "e2e")]
    return tauri::generate_handler![
        list_jobs,
        pick_files,
        app_status,
        pause_job,
        resume_job,
        cancel_job,
        retry_job,
        add_again_job,
        preview_url,
        create_link,
        list_links,
        copy_text,
        confirm_quit,
        e2e_drop_paths
    ];
}

/// Files dropped on the window become jobs; the UI hears the outcome as `intake`.
pub fn receive_drop(app: &AppHandle, paths: Vec<PathBuf>) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move { drop_paths(&app, paths).await });
}

async fn drop_paths(app: &AppHandle, paths: Vec<PathBuf>) -> Result<IntakeReport, String> {
    let state = app.state::<Shell>().app().await?;
    Ok(state::intake(app, &state, paths).await)
}

#[tauri::command]
async fn list_jobs(shell: State<'_, Shell>) -> Result<Vec<JobView>, String> {
    shell.app().await?.engine.jobs().map_err(|e| e.to_string())
}

/// Opens the native file dialog; the chosen files become jobs.
#[tauri::command]
async fn pick_files(app: AppHandle) -> Result<IntakeReport, String> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog().file().set_title("Choose camera files").pick_files(move |picked| {
        let _ = tx.send(picked);
    });
    let picked = rx.await.map_err(|_| "The file dialog closed unexpectedly. Try again.".to_string())?;
    let paths = picked.unwrap_or_default().into_iter().filter_map(|p| p.into_path().ok()).collect::<Vec<_>>();
    let state = app.state::<Shell>().app().await?;
    Ok(state.engine.add_paths(paths).await)
}

fn parse_id(id: &str) -> Result<JobId, String> {
    id.parse().map_err(|_| format!("{id:?} is not a job id"))
}

#[tauri::command]
async fn pause_job(shell: State<'_, Shell>, id: String) -> Result<JobView, String> {
    shell.app().await?.engine.pause(parse_id(&id)?).map_err(|e| e.to_string())
}

#[tauri::command]
async fn resume_job(shell: State<'_, Shell>, id: String) -> Result<JobView, String> {
    shell.app().await?.engine.resume(parse_id(&id)?).map_err(|e| e.to_string())
}

#[tauri::command]
async fn cancel_job(shell: State<'_, Shell>, id: String) -> Result<JobView, String> {
    shell.app().await?.engine.cancel(parse_id(&id)?).map_err(|e| e.to_string())
}

#[tauri::command]
async fn retry_job(shell: State<'_, Shell>, id: String) -> Result<JobView, String> {
    shell.app().await?.engine.retry(parse_id(&id)?).map_err(|e| e.to_string())
}

#[tauri::command]
async fn add_again_job(shell: State<'_, Shell>, id: String) -> Result<JobView, String> {
    shell.app().await?.engine.add_again(parse_id(&id)?).await.map_err(|e| e.to_string())
}

/// A signed stream URL for the app's own player.
#[tauri::command]
async fn preview_url(shell: State<'_, Shell>, job_id: String) -> Result<String, String> {
    let state = shell.app().await?;
    let link = state.linker()?.preview_job(parse_id(&job_id)?).await.map_err(|e| e.to_string())?;
    Ok(link.url)
}

#[tauri::command]
async fn create_link(
    shell: State<'_, Shell>,
    job_id: String,
    kind: String,
    expires_in_seconds: u64,
) -> Result<LinkView, String> {
    let kind: LinkKind = kind.parse().map_err(|e: streamdrop_core::model::UnknownName| e.to_string())?;
    if kind == LinkKind::Preview {
        return Err("preview links are made by the player".into());
    }
    let state = shell.app().await?;
    state.linker()?.link_job(parse_id(&job_id)?, kind, expires_in_seconds).await.map_err(|e| e.to_string())
}

#[tauri::command]
async fn list_links(shell: State<'_, Shell>, job_id: String) -> Result<Vec<LinkView>, String> {
    let state = shell.app().await?;
    state.linker()?.list(parse_id(&job_id)?).map_err(|e| e.to_string())
}

/// Puts text on the system clipboard from Rust: WebKitGTK refuses the page's
/// own clipboard API once a click's handler has awaited anything.
#[tauri::command]
fn copy_text(app: AppHandle, text: String) -> Result<(), String> {
    app.clipboard()
        .write_text(text)
        .map_err(|e| format!("The clipboard could not be written ({e}). Copy the text by hand."))
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
fn app_status(shell: State<'_, Shell>) -> AppStatus {
    shell.status()
}

/// Test-only: a drop injected through WebDriver, which cannot send native drops.
/// It runs the very code path of a real drop.
#[cfg(feature = "e2e")]
#[tauri::command]
async fn e2e_drop_paths(app: AppHandle, paths: Vec<PathBuf>) -> Result<IntakeReport, String> {
    drop_paths(&app, paths).await
}
