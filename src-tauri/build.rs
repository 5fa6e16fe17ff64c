use tauri_build::{AppManifest, Attributes};

fn main() {
    // generate_context! embeds ui/dist; fail early with the fix instead of a macro error.
    if !std::path::Path::new("ui/dist/index.html").exists() {
        panic!("ui/dist is missing: run `npm ci && npm run build` at the repository root first");
    }
    let attributes = Attributes::new()
        // The app's sources live in src-tauri/ while tauri.conf.json sits at the root.
        .capabilities_path_pattern("./src-tauri/capabilities/**/*")
        .app_manifest(AppManifest::new().commands(&[
            "list_jobs",
            "clear_finished",
            "pick_files",
            "pick_folders",
            "add_skipped",
            "app_status",
            "pause_job",
            "resume_job",
            "cancel_job",
            "retry_job",
            "add_again_job",
            "preview_url",
            "poster_url",
            "create_link",
            "list_links",
            "revoke_link",
            "copy_text",
            "show_log_file",
            "list_connections",
            "add_connection",
            "check_connection",
            "use_connection",
            "remove_connection",
            "plan_setup",
            "apply_setup",
            "get_preferences",
            "set_preferences",
            "confirm_quit",
            "e2e_drop_paths",
        ]));
    tauri_build::try_build(attributes).expect("tauri-build failed");
}
