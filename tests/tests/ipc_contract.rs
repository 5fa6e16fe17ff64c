//! The IPC contract (`streamdrop_core::api::ipc`) against its two sides: the
//! TypeScript the UI imports must be what the Rust types generate, and the
//! shell must implement exactly its commands and emit exactly its events.

use std::collections::BTreeSet;
use std::path::PathBuf;

use streamdrop_core::api::ipc;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn shell_source(file: &str) -> String {
    std::fs::read_to_string(repo_root().join("src-tauri").join(file)).unwrap()
}

#[test]
fn the_ui_imports_the_typescript_the_rust_types_generate() {
    let path = repo_root().join(ipc::TYPESCRIPT_FILE);
    let generated = ipc::typescript();
    if std::env::var_os("UPDATE_IPC_TYPES").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is not what the Rust types generate: run `UPDATE_IPC_TYPES=1 cargo test -p streamdrop-e2e --test e2e \
         ipc_contract` and commit the result",
        ipc::TYPESCRIPT_FILE
    );
}

/// `pause_job(shell: State<'_, Shell>, id: JobId)` → ("pause_job", ["id"]): the
/// arguments the webview passes, as it names them (Tauri's camelCase).
fn commands_in_shell() -> BTreeSet<(String, Vec<String>)> {
    let source = shell_source("commands.rs");
    let mut found = BTreeSet::new();
    for chunk in source.split("#[tauri::command]").skip(1) {
        let signature = &chunk[chunk.find("fn ").unwrap() + 3..chunk.find(')').unwrap()];
        let (name, params) = signature.split_once('(').unwrap();
        if name.starts_with("e2e_") {
            continue; // test-only, granted in e2e builds alone
        }
        let args = params
            .split(',')
            .filter_map(|param| param.split_once(':'))
            .filter(|(_, ty)| !ty.contains("State<") && !ty.contains("AppHandle"))
            .map(|(arg, _)| camel_case(arg.trim()))
            .collect();
        found.insert((name.trim().to_owned(), args));
    }
    found
}

fn camel_case(snake: &str) -> String {
    let mut parts = snake.split('_');
    let mut out = parts.next().unwrap_or_default().to_owned();
    for part in parts {
        let mut chars = part.chars();
        out.extend(chars.next().map(|c| c.to_ascii_uppercase()));
        out.push_str(chars.as_str());
    }
    out
}

#[test]
fn the_shell_implements_exactly_the_contracts_commands() {
    let contract: BTreeSet<(String, Vec<String>)> = ipc::commands()
        .into_iter()
        .map(|c| (c.name.to_owned(), c.args.iter().map(|(arg, _)| arg.to_string()).collect()))
        .collect();
    assert_eq!(commands_in_shell(), contract);
    let handler = shell_source("commands.rs");
    for (name, _) in &contract {
        assert!(handler.matches(&format!("        {name},\n")).count() >= 1, "{name} is not in the handler");
    }
}

#[test]
fn the_shell_emits_exactly_the_contracts_events() {
    let mut emitted = BTreeSet::new();
    for file in ["main.rs", "state.rs", "commands.rs"] {
        let source = shell_source(file);
        for chunk in source.split(".emit(\"").skip(1) {
            emitted.insert(chunk[..chunk.find('"').unwrap()].to_owned());
        }
    }
    let contract: BTreeSet<String> = ipc::events().into_iter().map(|e| e.name.to_owned()).collect();
    assert_eq!(emitted, contract);
}

/// The window may call each command of the contract, and nothing else: the
/// app manifest (`build.rs`) declares it and the main capability allows it.
#[test]
fn the_window_is_allowed_exactly_the_contracts_commands() {
    let contract: BTreeSet<String> = ipc::commands().into_iter().map(|c| c.name.to_owned()).collect();
    let capability: serde_json::Value = serde_json::from_str(&shell_source("capabilities/main.json")).unwrap();
    let allowed: BTreeSet<String> = capability["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p.as_str()?.strip_prefix("allow-"))
        .map(|p| p.replace('-', "_"))
        .collect();
    assert_eq!(allowed, contract, "src-tauri/capabilities/main.json");
    let build = shell_source("build.rs");
    let manifest = &build[build.find(".commands(&[").unwrap()..];
    let declared: BTreeSet<String> = manifest[..manifest.find("])").unwrap()]
        .split('"')
        .skip(1)
        .step_by(2)
        .filter(|name| !name.starts_with("e2e_"))
        .map(str::to_owned)
        .collect();
    assert_eq!(declared, contract, "src-tauri/build.rs");
}
