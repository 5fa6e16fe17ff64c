//! The IPC surface: exactly the commands the UI needs, each a one-line mapping
//! onto the engine. Drops arrive natively (Rust gets real paths), so the
//! webview never gets a command that accepts arbitrary paths.

use std::path::PathBuf;

use serde::Serialize;
use streamdrop_core::links::{LinkKind, LinkView};
use streamdrop_core::{IntakeReport, JobId, JobView};
use tauri::{AppHandle, Emitter, Manager, State};
use tauri_plugin_dialog::DialogExt;

use crate::state::AppState;

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
        preview_url,
        create_link,
        list_links
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
        preview_url,
        create_link,
        list_links,
        e2e_drop_paths
    ];
}

/// Files dropped on the window become jobs; the UI hears the outcome as `intake`.
pub fn receive_drop(app: &AppHandle, paths: Vec<PathBuf>) -> IntakeReport {
    let report = app.state::<AppState>().engine.add_paths(paths);
    let _ = app.emit("intake", &report);
    report
}

#[tauri::command]
fn list_jobs(state: State<'_, AppState>) -> Result<Vec<JobView>, String> {
    state.engine.jobs().map_err(|e| e.to_string())
}

/// Opens the native file dialog; the chosen files become jobs.
#[tauri::command]
async fn pick_files(app: AppHandle) -> Result<IntakeReport, String> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog().file().set_title("Choose camera files").pick_files(move |picked| {
        let _ = tx.send(picked);
    });
    let picked = rx.await.map_err(|_| "the file dialog closed unexpectedly".to_string())?;
    let paths = picked
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| p.into_path().ok())
        .collect::<Vec<_>>();
    Ok(app.state::<AppState>().engine.add_paths(paths))
}

fn parse_id(id: &str) -> Result<JobId, String> {
    id.parse().map_err(|_| format!("{id:?} is not a job id"))
}

#[tauri::command]
fn pause_job(state: State<'_, AppState>, id: String) -> Result<JobView, String> {
    state.engine.pause(parse_id(&id)?).map_err(|e| e.to_string())
}

#[tauri::command]
fn resume_job(state: State<'_, AppState>, id: String) -> Result<JobView, String> {
    state.engine.resume(parse_id(&id)?).map_err(|e| e.to_string())
}

#[tauri::command]
fn cancel_job(state: State<'_, AppState>, id: String) -> Result<JobView, String> {
    state.engine.cancel(parse_id(&id)?).map_err(|e| e.to_string())
}

#[tauri::command]
fn retry_job(state: State<'_, AppState>, id: String) -> Result<JobView, String> {
    state.engine.retry(parse_id(&id)?).map_err(|e| e.to_string())
}

/// A signed stream URL for the app's own player.
#[tauri::command]
async fn preview_url(state: State<'_, AppState>, job_id: String) -> Result<String, String> {
    let link = state.linker()?.preview_job(parse_id(&job_id)?).await.map_err(|e| e.to_string())?;
    Ok(link.url)
}

#[tauri::command]
async fn create_link(state: State<'_, AppState>, job_id: String, kind: String, expires_in_seconds: u64) -> Result<LinkView, String> {
    let kind: LinkKind = kind.parse()?;
    if kind == LinkKind::Preview {
        return Err("preview links are made by the player".into());
    }
    state.linker()?.link_job(parse_id(&job_id)?, kind, expires_in_seconds).await.map_err(|e| e.to_string())
}

#[tauri::command]
fn list_links(state: State<'_, AppState>, job_id: String) -> Result<Vec<LinkView>, String> {
    state.linker()?.list(parse_id(&job_id)?).map_err(|e| e.to_string())
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AppStatus {
    mode: &'static str,
    connection: String,
    s3_endpoint: String,
    data_dir: String,
    notices: Vec<String>,
}

#[tauri::command]
fn app_status(state: State<'_, AppState>) -> AppStatus {
    let storage = state.engine.storage();
    AppStatus {
        mode: if state.is_local { "local" } else { "aws" },
        connection: state.connection.clone(),
        s3_endpoint: storage.endpoint_url.clone().unwrap_or_default(),
        data_dir: state.data_dir.path().display().to_string(),
        notices: state.notices.clone(),
    }
}

/// Test-only: a drop injected through WebDriver, which cannot send native drops.
/// It runs the very code path of a real drop.
#[cfg(feature = "e2e")]
#[tauri::command]
fn e2e_drop_paths(app: AppHandle, paths: Vec<PathBuf>) -> IntakeReport {
    receive_drop(&app, paths)
}
