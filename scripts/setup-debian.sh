#!/usr/bin/env bash
# Installs what Streamdrop needs on Debian 12, skipping what is already there.
#   scripts/setup-debian.sh app    # to build and run the desktop app
#   scripts/setup-debian.sh test   # also what the test suites need
set -euo pipefail
cd "$(dirname "$0")/.."
purpose="${1:-app}"

# Build: Tauri's WebKitGTK stack. Runtime: GStreamer decoders for the HLS preview
# (libwebkit2gtk only pulls plugins-base/good) and ffmpeg for local transcoding.
packages=(
  build-essential pkg-config curl file libssl-dev
  libwebkit2gtk-4.1-dev libxdo-dev libayatana-appindicator3-dev librsvg2-dev
  gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-libav gstreamer1.0-gl
  ffmpeg
)
if [ "$purpose" = test ]; then
  # A virtual display, the WebDriver for WebKitGTK, and a D-Bus session with a keychain.
  packages+=(xvfb xauth webkit2gtk-driver dbus dbus-x11 gnome-keyring libsecret-tools xclip)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

command -v cargo >/dev/null || { echo "setup: Rust (cargo) is required: https://rustup.rs" >&2; exit 1; }
command -v npm >/dev/null || { echo "setup: Node.js 20 with npm is required" >&2; exit 1; }

# npm ci only when the lock file changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || ! cmp -s package-lock.json node_modules/.streamdrop-lock; then
  npm ci --no-audit --no-fund
  cp package-lock.json node_modules/.streamdrop-lock
fi

if [ "$purpose" = test ]; then
  tauri_driver="${CARGO_HOME:-$HOME/.cargo}/bin/tauri-driver"
  if ! "$tauri_driver" --help >/dev/null 2>&1; then
    cargo install tauri-driver@2.1.0 --locked
  fi

  # moto's server: a second, independent S3 implementation for the transfer tests.
  # Debian 12's own python3 refuses pip installs without --break-system-packages.
  # 5.2.5 (the newest) labels ListParts replies ListPartsResponse, which aws-sdk-s3 cannot
  # parse, so resuming an upload against it fails; 5.1.22 answers as S3 does.
  # Without the crc32c package moto silently answers CRC32C checksums with CRC32.
  moto_version=5.1.22
  if ! command -v moto_server >/dev/null \
    || ! python3 -c "import crc32c, moto, importlib.metadata as m; assert m.version('moto') == '$moto_version'" 2>/dev/null; then
    if ! python3 -m pip --version >/dev/null 2>&1; then
      sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
      $sudo apt-get update -qq
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends python3-pip >/dev/null
    fi
    echo "setup: installing moto[server]==$moto_version"
    python3 -m pip install --quiet "moto[server]==$moto_version" crc32c 2>/dev/null \
      || python3 -m pip install --quiet --break-system-packages "moto[server]==$moto_version" crc32c
    # pyenv only makes a shim for a new executable on rehash.
    if command -v pyenv >/dev/null; then pyenv rehash; fi
  fi
fi
