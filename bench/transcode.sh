#!/usr/bin/env bash
# Transcode overhead benchmark: makes the test clips (once), builds the
# example crates/streamdrop-core/examples/transcode_overhead.rs in release,
# and runs it: the same ffmpeg commands by hand against the local pipeline.
# Example: bench/transcode.sh --write-readme
#
# Options (the rest go to the example: --runs N, --poll-ms MS, --quiet SECS):
#   --work DIR       clips and scratch data (default /var/tmp/streamdrop-bench/transcode)
#   --clips LIST     comma-separated SIZE:SECONDS clips, SIZE one of 1080p, 720p
#                    (default 1080p:40,720p:30)
#   --write-readme   put the report into bench/README.md (Transcode overhead section)
# SKIP_BUILD=1 reuses the last release build of the example.
set -euo pipefail
cd "$(dirname "$0")/.."

WORK=${BENCH_WORK:-/var/tmp/streamdrop-bench}/transcode
CLIPS=1080p:40,720p:30
WRITE_README=0
ARGS="$*"
PASS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --work) WORK=$2; shift 2 ;;
    --clips) CLIPS=$2; shift 2 ;;
    --write-readme) WRITE_README=1; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) PASS+=("$1"); shift ;;
  esac
done

command -v ffmpeg >/dev/null || { echo "ffmpeg is missing (scripts/setup-debian.sh installs it)" >&2; exit 1; }
mkdir -p "$WORK/clips"

# testsrc2 (moving, coloured) + a sine tone, H.264 ultrafast/AAC in MP4: about
# 16 Mbit/s at 1080p30, in the range of a camera's own files. Made once, kept
# outside git; the name holds everything that shapes the clip.
clip_files=()
for spec in ${CLIPS//,/ }; do
  size=${spec%%:*}
  secs=${spec##*:}
  case "$size" in
    1080p) dims=1920x1080 ;;
    720p) dims=1280x720 ;;
    *) echo "unknown clip size $size (use 1080p or 720p)" >&2; exit 2 ;;
  esac
  clip="$WORK/clips/testsrc2-$size-30fps-${secs}s.mp4"
  if [ ! -s "$clip" ]; then
    echo "making $clip" >&2
    ffmpeg -hide_banner -loglevel error -nostdin -y \
      -f lavfi -i "testsrc2=size=$dims:rate=30:duration=$secs" \
      -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=$secs" \
      -c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac -b:a 192k -shortest "$clip.part.mp4"
    mv "$clip.part.mp4" "$clip"
  fi
  clip_files+=("$clip")
done

# Measuring a debug build would say nothing.
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  cargo build --release --locked -p streamdrop-core --example transcode_overhead
fi
BIN=target/release/examples/transcode_overhead

# Root gets nice -19 (inherited by ffmpeg and the in-process S3 server alike),
# so other work on a shared box takes less from either side.
NICE=()
priority="normal priority (not root, so no nice -19)"
if [ "$(id -u)" = 0 ]; then
  NICE=(nice -n -19)
  priority="nice -19 (ffmpeg and the S3 server alike)"
fi

tables=$("${NICE[@]}" "$BIN" --work "$WORK" "${PASS[@]}" "${clip_files[@]}")

mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
os=$(. /etc/os-release && echo "$PRETTY_NAME")
commit="$(git rev-parse --abbrev-ref HEAD) at $(git rev-parse --short HEAD)"
git diff --quiet HEAD -- crates/streamdrop-core || commit="$commit with local changes"
report=$(cat <<EOF
Measured $(date -u '+%Y-%m-%d %H:%M UTC') with \`bench/transcode.sh${ARGS:+ $ARGS}\`, at $priority.

$tables

Machine: cpus (nproc): $(nproc); cpu: $cpu; memory: $mem; kernel: $(uname -r); os: $os.
ffmpeg: $(ffmpeg -version | head -n 1 | cut -d' ' -f3). streamdrop: release build of $commit.
EOF
)
echo "$report"

if [ "$WRITE_README" = 1 ]; then
  tmp=$(mktemp)
  printf '%s\n' "$report" >"$tmp"
  # Replaces what is between the markers, nothing else.
  awk -v report="$tmp" '
    /<!-- transcode:start -->/ { print; while ((getline line < report) > 0) print line; skip = 1; next }
    /<!-- transcode:end -->/ { skip = 0 }
    !skip { print }
  ' bench/README.md >"$tmp.readme"
  grep -q '<!-- transcode:start -->' "$tmp.readme" || { echo "bench/README.md has no transcode markers" >&2; exit 1; }
  cat "$tmp.readme" >bench/README.md  # keeps the file's mode
  rm -f "$tmp" "$tmp.readme"
  echo "wrote bench/README.md" >&2
fi
