#!/usr/bin/env bash
# Window benchmark (#11): cold start to the painted list, PSS of all the app's
# processes and scroll frame times with 0 and 10,000 jobs, and the intake of a
# big folder. Builds the release app and CLI (SKIP_BUILD=1 reuses the last
# build), then runs tests/examples/window_bench.rs in a headless display
# session (scripts/in-test-session.sh: Xvfb 1280x800, D-Bus, gnome-keyring).
#   bench/window.sh                      # prints the figures
#   bench/window.sh --write-readme       # and puts them in bench/README.md
#   bench/window.sh --runs 2 --cold 0 --jobs 10000 --intake-runs 0   # a quick look
# Every other option goes to the example (--help lists them).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
target="${CARGO_TARGET_DIR:-$root/target}"

write_readme=0
args=()
for arg in "$@"; do
  if [ "$arg" = --write-readme ]; then write_readme=1; else args+=("$arg"); fi
done

if [ ! -x /usr/bin/time ]; then apt-get update -qq && apt-get install -y -qq time; fi

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  # The app embeds ui/dist, so the page is built first; measuring a debug build would say nothing.
  npm run build
  cargo build --release --locked -p streamdrop-desktop -p streamdrop-cli
  # The bench program itself only waits and reads pixels: its dev build shares the suites' artifacts.
  cargo build --locked -p streamdrop-e2e --example window_bench
fi

work="${WORK:-/var/tmp/streamdrop-bench/window}"
mkdir -p "$work"
section="$work/section.md"
started=$(date -u '+%Y-%m-%d %H:%M UTC')
# Higher priority than other work on the machine when root, as the other benches do.
nice_cmd=()
if [ "$(id -u)" = 0 ]; then nice_cmd=(nice -n -19); fi
"${nice_cmd[@]}" scripts/in-test-session.sh "$target/debug/examples/window_bench" \
  --app "$target/release/streamdrop-desktop" --cli "$target/release/streamdrop" \
  --work "$work" --markdown "$section" "${args[@]}"

commit=$(git rev-parse --short HEAD)
# The README itself is left out: --write-readme is about to change it.
dirty=$(git status --porcelain --untracked-files=no -- . ':!bench/README.md' | grep -q . && echo " (with uncommitted changes)" || true)
machine="cpus (nproc): $(nproc); cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo); kernel: $(uname -r); os: $(. /etc/os-release && echo "$PRETTY_NAME"); WebKitGTK: $(dpkg-query -W -f '${Version}' libwebkit2gtk-4.1-0 2>/dev/null || echo '?')"
{
  echo "Measured $started with \`bench/window.sh${args[*]:+ ${args[*]}}\`: release build of \`$commit\`$dirty."
  echo
  cat "$section"
  echo
  echo "Machine: $machine."
} > "$work/results.md"
cat "$work/results.md"

if [ "$write_readme" = 1 ]; then
  python3 - "$work/results.md" bench/README.md <<'PY'
import sys
results, readme = sys.argv[1], sys.argv[2]
body = open(results).read().rstrip("\n")
text = open(readme).read()
start, end = "<!-- window:start -->", "<!-- window:end -->"
if start not in text:
    sys.exit(f"{readme} has no {start} ... {end} section")
head, rest = text.split(start, 1)
_, tail = rest.split(end, 1)
open(readme, "w").write(f"{head}{start}\n{body}\n{end}{tail}")
PY
  echo "bench/README.md: window section rewritten"
fi
