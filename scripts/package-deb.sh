#!/usr/bin/env bash
# Builds the installable Debian package (release build, several minutes on two
# cores): the app, its desktop entry (video MIME types, "Open with"), its icon,
# and the `streamdrop` CLI on the PATH. Prints the .deb's path.
#   scripts/package-deb.sh && sudo apt install ./target/release/bundle/deb/Streamdrop_*_amd64.deb
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-debian.sh app
target="${CARGO_TARGET_DIR:-target}"
cargo build --release --locked -p streamdrop-cli
# tauri.conf.json's bundle.linux.deb.files takes the CLI from here, whatever the target dir.
mkdir -p target/bundle-cli
cp "$target/release/streamdrop" target/bundle-cli/streamdrop
npx tauri build --bundles deb >&2
ls -1t "$target"/release/bundle/deb/*.deb | head -n 1
