//! The invariants ARCHITECTURE.md states, checked on the sources: the
//! engine's top-level modules form layers (no cycles), the bottom layer names
//! no other module, and the engine names neither the window toolkit nor the
//! CLI's.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without comments and its unit tests.
fn code_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    text.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n")
}

/// Each top-level module and the top-level modules its code names (`crate::x`).
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let root = src();
    let modules: BTreeSet<String> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().is_some_and(|n| n != "lib.rs"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    let mut graph = BTreeMap::new();
    for module in &modules {
        let mut files = Vec::new();
        let dir = root.join(module);
        if dir.is_dir() {
            rust_files(&dir, &mut files);
        } else {
            files.push(root.join(format!("{module}.rs")));
        }
        let mut names = BTreeSet::new();
        for file in files {
            let code = code_of(&file);
            for (at, _) in code.match_indices("crate::") {
                let rest = &code[at + "crate::".len()..];
                let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                if modules.contains(&name) && name != *module {
                    names.insert(name);
                }
            }
        }
        graph.insert(module.clone(), names);
    }
    graph
}

#[test]
fn the_engines_modules_form_layers_without_cycles() {
    let graph = module_graph();
    let mut placed: BTreeSet<String> = BTreeSet::new();
    let mut layers = Vec::new();
    while placed.len() < graph.len() {
        let layer: BTreeSet<String> = graph
            .iter()
            .filter(|(m, deps)| !placed.contains(*m) && deps.iter().all(|d| placed.contains(d)))
            .map(|(m, _)| m.clone())
            .collect();
        let stuck: Vec<_> = graph.keys().filter(|m| !placed.contains(*m)).collect();
        assert!(!layer.is_empty(), "these modules name each other in a cycle: {stuck:?}\n{graph:#?}");
        placed.extend(layer.iter().cloned());
        layers.push(layer);
    }
    // The bottom layer: everything may name it, it names nothing.
    for leaf in ["model", "clock", "data_dir"] {
        assert!(graph[leaf].is_empty(), "{leaf} names {:?}", graph[leaf]);
    }
    // Only the operations layer sits on top of everything.
    assert_eq!(layers.last().unwrap(), &BTreeSet::from(["api".to_owned()]), "{layers:?}");
}

#[test]
fn the_engine_names_neither_tauri_nor_the_clis_flags() {
    let manifest = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap();
    let dependencies = manifest.split("[dependencies]").nth(1).unwrap().split("\n[").next().unwrap();
    for forbidden in ["tauri", "clap"] {
        assert!(
            !dependencies.lines().any(|l| l.trim_start().starts_with(forbidden)),
            "streamdrop-core depends on {forbidden}"
        );
    }
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    for file in files {
        let code = code_of(&file);
        for forbidden in ["tauri::", "clap::"] {
            assert!(!code.contains(forbidden), "{} names {forbidden}", file.display());
        }
    }
}
