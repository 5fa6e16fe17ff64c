//! The Streamdrop desktop app: a thin Tauri shell. It starts the local stack
//! and the engine from `streamdrop-core`, maps a few commands onto them, and
//! forwards engine events to the window. No product logic lives here.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod state;

use tauri::{DragDropEvent, Manager, RunEvent, WindowEvent};

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("STREAMDROP_LOG").unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();

    let data_dir_flag = state::data_dir_flag(std::env::args_os());

    let app = tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .setup(move |app| {
            let state = tauri::async_runtime::block_on(state::AppState::start(data_dir_flag.clone()))?;
            state::forward_job_events(app.handle().clone(), state.engine.subscribe());
            app.manage(state);
            #[cfg(feature = "e2e")]
            app.add_capability(include_str!("e2e/capability.json"))?;
            Ok(())
        })
        .on_window_event(|window, event| {
            if let WindowEvent::DragDrop(DragDropEvent::Drop { paths, .. }) = event {
                commands::receive_drop(window.app_handle(), paths.clone());
            }
        })
        .invoke_handler(commands::handler())
        .build(tauri::generate_context!())
        .unwrap_or_else(|err| {
            eprintln!("streamdrop: cannot start: {err}");
            std::process::exit(1);
        });

    app.run(|app, event| {
        if let RunEvent::Exit = event {
            if let Some(state) = app.try_state::<state::AppState>() {
                tauri::async_runtime::block_on(state.shutdown());
            }
        }
    });
}
