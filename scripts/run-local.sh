#!/usr/bin/env bash
# Builds and runs the Streamdrop desktop app in local mode (no AWS account needed).
# Extra arguments go to the app, e.g. --data-dir /tmp/streamdrop-demo.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-debian.sh app
npm run build
cargo run -p streamdrop-desktop -- "$@"
