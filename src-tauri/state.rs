//! What the shell holds while the app runs: the engine and, in local mode, the
//! embedded stack it talks to.

use std::ffi::OsString;
use std::path::PathBuf;

use streamdrop_core::engine::EngineOptions;
use streamdrop_core::links::Linker;
use streamdrop_core::local::LocalStackOptions;
use streamdrop_core::{DataDir, Engine, JobView, LocalStack};
use tauri::{AppHandle, Emitter};
use tokio::sync::{broadcast, Mutex};

pub struct AppState {
    pub engine: Engine,
    pub linker: Linker,
    pub data_dir: DataDir,
    local: Mutex<Option<LocalStack>>,
}

impl AppState {
    pub async fn start(data_dir_flag: Option<PathBuf>) -> Result<Self, Box<dyn std::error::Error>> {
        let data_dir = DataDir::resolve(data_dir_flag)?;
        let local = LocalStack::start(&data_dir, LocalStackOptions::with_os_keychain()).await?;
        let engine = local.start_engine(&data_dir, EngineOptions::default())?;
        let linker = local.linker(&data_dir)?;
        Ok(Self { engine, linker, data_dir, local: Mutex::new(Some(local)) })
    }

    /// Stops the local stack so in-flight requests end cleanly before exit.
    pub async fn shutdown(&self) {
        if let Some(local) = self.local.lock().await.take() {
            local.shutdown().await;
        }
    }
}

/// `--data-dir PATH` or `--data-dir=PATH` from the app's arguments.
pub fn data_dir_flag(args: impl IntoIterator<Item = OsString>) -> Option<PathBuf> {
    let mut args = args.into_iter().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--data-dir" {
            return args.next().map(PathBuf::from);
        }
        if let Some(value) = arg.to_str().and_then(|a| a.strip_prefix("--data-dir=")) {
            return Some(PathBuf::from(value));
        }
    }
    None
}

/// Relays every engine event to the window as `job-updated`.
pub fn forward_job_events(app: AppHandle, mut events: broadcast::Receiver<JobView>) {
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
