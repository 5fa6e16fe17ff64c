#!/usr/bin/env bash
# Runs every test suite headless: UI (Vitest), Rust (engine against the real
# embedded S3 server, moto, ffmpeg; CLI as real processes; the keychain) and
# the real app window under Xvfb.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-debian.sh test

step() { printf '\n==> %s\n' "$*"; }

step "UI: type check and component tests"
npm run check
npm run test:ui

step "Build: UI bundle (the desktop crate embeds it, so it comes before any cargo step)"
npm run build

step "Rust: formatting and lints (rustfmt.toml; every warning is an error)"
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked --features streamdrop-desktop/e2e -- -D warnings

step "Build: CLI, and the desktop app with its test-only drop command"
cargo build --workspace --locked --features streamdrop-desktop/e2e

step "Rust: every suite, inside a display + D-Bus + keychain session"
# --include-ignored: the suites that need the session (window, keychain) are
# ignored by a plain `cargo test` so they never pass vacuously elsewhere.
scripts/in-test-session.sh cargo test --workspace --locked -- --include-ignored
