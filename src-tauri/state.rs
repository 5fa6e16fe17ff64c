//! What the shell holds while the app runs: the active connection's stack (in
//! local mode, the embedded one), its engine and its linker.

use std::ffi::OsString;
use std::path::PathBuf;

use streamdrop_core::engine::EngineOptions;
use streamdrop_core::links::Linker;
use streamdrop_core::local::LocalStackOptions;
use streamdrop_core::stack::AwsStackOptions;
use streamdrop_core::{DataDir, Engine, JobView, Stack};
use tauri::{AppHandle, Emitter};
use tokio::sync::{broadcast, Mutex};

pub struct AppState {
    pub engine: Engine,
    /// Why links cannot be made, when they cannot (an AWS connection whose
    /// signing key is not in this machine's keychain): jobs still run.
    linker: Result<Linker, String>,
    pub data_dir: DataDir,
    pub connection: String,
    pub is_local: bool,
    /// Shown to people when the window opens.
    pub notices: Vec<String>,
    stack: Mutex<Option<Stack>>,
}

impl AppState {
    pub async fn start(data_dir_flag: Option<PathBuf>) -> Result<Self, Box<dyn std::error::Error>> {
        let data_dir = DataDir::resolve(data_dir_flag)?;
        let stack = Stack::open_active(&data_dir, LocalStackOptions::with_os_keychain(), AwsStackOptions::with_os_keychain()).await?;
        let engine = stack.start_engine(&data_dir, EngineOptions::default())?;
        let linker = stack.linker(&data_dir).await.map_err(|e| e.to_string());
        let mut notices = stack.notices();
        if let Err(why) = &linker {
            tracing::warn!("links cannot be made: {why}");
            notices.push(format!("Links cannot be made: {why}"));
        }
        Ok(Self {
            engine,
            linker,
            data_dir,
            connection: stack.connection().to_string(),
            is_local: matches!(stack, Stack::Local(_)),
            notices,
            stack: Mutex::new(Some(stack)),
        })
    }

    pub fn linker(&self) -> Result<&Linker, String> {
        self.linker.as_ref().map_err(Clone::clone)
    }

    /// Stops the stack so in-flight requests end cleanly before exit.
    pub async fn shutdown(&self) {
        if let Some(stack) = self.stack.lock().await.take() {
            stack.shutdown().await;
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
