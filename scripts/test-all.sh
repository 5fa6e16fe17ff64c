#!/usr/bin/env bash
# Runs every test suite headless: UI (Vitest), Rust (engine against the real
# embedded S3 server, CLI as real processes) and the real app window under Xvfb.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-debian.sh test

step() { printf '\n==> %s\n' "$*"; }

step "UI: type check and component tests"
npm run check
npm run test:ui

step "Build: UI bundle, CLI and desktop app"
npm run build
cargo build --workspace --locked

step "Rust: engine, CLI and harness tests"
cargo test --workspace --locked

step "Window: the real app under Xvfb through tauri-driver"
cargo build -p streamdrop-desktop --features e2e --locked
xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- \
  env NO_AT_BRIDGE=1 cargo test -p streamdrop-e2e --locked --test app_window -- --include-ignored
