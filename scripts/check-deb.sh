#!/usr/bin/env bash
# Checks a built package the way a person installs and opens it, without
# changing this machine: its entries and dependencies, that apt could install
# it here, and that the unpacked app starts (local mode, under Xvfb) and the
# CLI runs.
#   scripts/check-deb.sh "$(scripts/package-deb.sh)"
set -euo pipefail
deb="${1:?usage: scripts/check-deb.sh PATH.deb}"
deb="$(realpath "$deb")"
work="$(mktemp -d)"
app_pid=""
cleanup() { [ -n "$app_pid" ] && kill -- "-$app_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "check-deb: $*" >&2; exit 1; }

contents="$(dpkg-deb -c "$deb")"
for path in ./usr/bin/streamdrop-desktop ./usr/bin/streamdrop ./usr/share/applications/Streamdrop.desktop; do
  grep -q " $path\$" <<<"$contents" || fail "the package lacks $path"
done
grep -q "./usr/share/icons/hicolor/.*/apps/streamdrop-desktop.png" <<<"$contents" || fail "the package has no icon"
depends="$(dpkg-deb -f "$deb" Depends)"
for needed in libwebkit2gtk-4.1-0 libgtk-3-0 ffmpeg gstreamer1.0-libav; do
  grep -q "$needed" <<<"$depends" || fail "Depends lacks $needed: $depends"
done

dpkg-deb -x "$deb" "$work/root"
entry="$work/root/usr/share/applications/Streamdrop.desktop"
grep -q '^Exec=streamdrop-desktop %F$' "$entry" || fail "the desktop entry does not pass files: $(grep ^Exec "$entry")"
grep -q '^MimeType=.*video/mp4;.*video/quicktime;' "$entry" || fail "the desktop entry names no video types"
command -v desktop-file-validate >/dev/null && desktop-file-validate "$entry"

# apt would install it here, dependencies and all (a simulation: nothing changes).
apt-get install --simulate --no-install-recommends "$deb" >"$work/apt.log" 2>&1 ||
  fail "apt cannot install it here: $(tail -n 5 "$work/apt.log")"

"$work/root/usr/bin/streamdrop" --version >/dev/null || fail "the CLI does not run"

# The app itself, as installed, on a fresh data dir: it starts the local stack and stays up.
mkdir -p "$work/home" "$work/data"
# Its own process group, so the display, the bus and the app all stop together.
HOME="$work/home" STREAMDROP_DATA_DIR="$work/data" NO_AT_BRIDGE=1 \
  setsid xvfb-run -a dbus-run-session -- "$work/root/usr/bin/streamdrop-desktop" >"$work/app.log" 2>&1 &
app_pid=$!
for _ in $(seq 1 60); do
  grep -q "local S3 server is running" "$work/data/logs/streamdrop.log" 2>/dev/null && break
  kill -0 "$app_pid" 2>/dev/null || fail "the app exited: $(tail -n 20 "$work/app.log")"
  sleep 1
done
grep -q "local S3 server is running" "$work/data/logs/streamdrop.log" || fail "the app did not start its local stack"
echo "check-deb: $(basename "$deb") installs here, its app starts in local mode and its CLI runs"
