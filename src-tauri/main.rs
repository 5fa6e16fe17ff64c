//! The Streamdrop desktop app: a thin Tauri shell. It claims the data dir (or
//! hands its files to the Streamdrop already running there), starts the
//! backend from `streamdrop-core` in the background, maps commands onto it,
//! and forwards engine events to the window. No product logic lives here.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod csp;
mod launch;
mod reveal;
mod state;

use streamdrop_core::DataDir;
use tauri::{DragDropEvent, Emitter, Manager, RunEvent, WindowEvent};
use tauri_plugin_window_state::StateFlags;

fn main() {
    let args = launch::Args::parse(std::env::args_os());
    let data_dir = DataDir::resolve(args.data_dir.clone()).unwrap_or_else(|err| {
        eprintln!("streamdrop: cannot start: {err}");
        std::process::exit(1);
    });
    // One app per data dir: a second launch hands its files over and leaves, touching nothing.
    let lock = match launch::claim(&data_dir, &args.files) {
        Ok(lock) => lock,
        Err(Ok(handed_over)) => {
            println!("{handed_over}");
            return;
        }
        Err(Err(why)) => {
            eprintln!("streamdrop: cannot start: {why}");
            std::process::exit(1);
        }
    };
    // Only the process that runs the engine writes the log: a second launch has left above.
    streamdrop_core::logging::init("info", Some(&data_dir));

    let app = tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_clipboard_manager::init())
        .plugin(tauri_plugin_notification::init())
        .plugin(
            tauri_plugin_window_state::Builder::default()
                .with_state_flags(StateFlags::SIZE | StateFlags::POSITION | StateFlags::MAXIMIZED)
                .build(),
        )
        .setup(move |app| {
            state::Shell::start(app.handle(), data_dir, lock, args.files);
            // Made here, not from tauri.conf.json, to serve its pages with the media origin of the moment.
            let media = app.state::<state::Shell>().media_origin().clone();
            let config = app.config().app.windows.iter().find(|w| w.label == "main").cloned();
            let config = config.ok_or("tauri.conf.json has no \"main\" window")?;
            tauri::WebviewWindowBuilder::from_config(app.handle(), &config)?
                .on_web_resource_request(move |_request, response| media.apply(response))
                // The page's title ("Streamdrop — 42% · 3 uploading") is the window's, for the taskbar.
                .on_document_title_changed(|window, title| {
                    let _ = window.set_title(&title);
                })
                .build()?;
            #[cfg(feature = "e2e")]
            app.add_capability(include_str!("e2e/capability.json"))?;
            Ok(())
        })
        .on_window_event(|window, event| match event {
            WindowEvent::DragDrop(DragDropEvent::Drop { paths, .. }) => {
                commands::receive_drop(window.app_handle(), paths.clone());
            }
            // Work resumes on the next start, but people should know before they quit.
            WindowEvent::CloseRequested { api, .. } => {
                if let Some(request) = window.state::<state::Shell>().quit_needs_asking() {
                    api.prevent_close();
                    let _ = window.emit("quit-requested", request);
                }
            }
            _ => {}
        })
        .invoke_handler(commands::handler())
        .build(tauri::generate_context!())
        .unwrap_or_else(|err| {
            eprintln!("streamdrop: cannot start: {err}");
            std::process::exit(1);
        });

    app.run(|app, event| {
        if let RunEvent::Exit = event {
            if let Some(shell) = app.try_state::<state::Shell>() {
                tauri::async_runtime::block_on(shell.shutdown());
            }
        }
    });
}
