#!/usr/bin/env bash
# Runs a command the way the headless suites need: a virtual display (Xvfb), a
# private D-Bus session with an unlocked gnome-keyring, and HOME in a temp dir,
# so tests never touch the real keychain, settings or ~/.aws of whoever runs them.
#   scripts/in-test-session.sh cargo test --workspace -- --include-ignored
set -euo pipefail
# Cargo and rustup live under the real HOME; pin them before HOME moves.
export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}" RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
# So is pyenv's python, where moto's server may be installed.
if [ -z "${PYENV_ROOT:-}" ] && [ -d "$HOME/.pyenv" ]; then export PYENV_ROOT="$HOME/.pyenv"; fi
session_home=$(mktemp -d)
trap 'rm -rf "$session_home"' EXIT
export HOME="$session_home" XDG_DATA_HOME="$session_home/.local/share" XDG_CONFIG_HOME="$session_home/.config" \
  XDG_CACHE_HOME="$session_home/.cache" NO_AT_BRIDGE=1
exec xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- sh -c '
  # The daemon prints its environment; a fixed password unlocks the login keyring it creates.
  eval "$(printf %s streamdrop-test | gnome-keyring-daemon --unlock --components=secrets)"
  export GNOME_KEYRING_CONTROL
  exec "$@"' sh "$@"
