#!/usr/bin/env bash
# Live smoke test of the AWS path, for people with an AWS account. Never run by CI.
#
#   scripts/aws-smoke.sh --prefix streamdrop-smoke-yourname --region eu-west-1 [--profile NAME]
#
# Credentials: --profile NAME (from ~/.aws: keys, SSO, assume-role), else
# AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (/ AWS_SESSION_TOKEN) from the
# environment, stored for the run in the OS keychain. The identity needs the
# setup, daily and teardown policies that `streamdrop setup --permissions` prints.
#
# What it does, on a throwaway data dir: adds a connection, runs setup (and
# waits for CloudFront to deploy), makes a 10-second clip with ffmpeg, runs it
# through MediaConvert, plays the signed CloudFront link with ffprobe, revokes
# it (and checks a player can no longer start it), then
# tears everything down (buckets emptied and deleted, distribution disabled
# and deleted, policies, keys and the role deleted) and removes the connection
# with its keychain entries. The teardown also runs when a step fails;
# --keep skips it. Costs: one MediaConvert job of 10 s, a few S3 requests and
# CloudFront requests; the distribution and buckets exist for ~30-40 minutes.
#
# Against an emulator (how the tests run it): --endpoint-url URL sends S3,
# IAM, CloudFront and STS there, and --transcoder KIND picks the transcoder;
# the link is then not played, since no CloudFront edge answers for it.
set -euo pipefail

prefix="" region="" profile="" endpoint="" transcoder="mediaconvert" keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix="$2"; shift 2 ;;
    --region) region="$2"; shift 2 ;;
    --profile) profile="$2"; shift 2 ;;
    --endpoint-url) endpoint="$2"; shift 2 ;;
    --transcoder) transcoder="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "aws-smoke: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [ -z "$prefix" ] || [ -z "$region" ]; then
  echo "aws-smoke: give --prefix (e.g. streamdrop-smoke-yourname) and --region (e.g. eu-west-1)" >&2
  exit 2
fi

root="$(cd "$(dirname "$0")/.." && pwd)"
streamdrop="${STREAMDROP:-}"
if [ -z "$streamdrop" ]; then
  (cd "$root" && cargo build --quiet --release -p streamdrop-cli)
  streamdrop="$root/target/release/streamdrop"
fi
for tool in ffmpeg ffprobe; do
  command -v "$tool" >/dev/null || { echo "aws-smoke: $tool is needed (apt install ffmpeg)" >&2; exit 2; }
done

work="$(mktemp -d)"
export STREAMDROP_DATA_DIR="$work/data"
connection="aws-smoke-$prefix"
added=0 set_up=0

step() { printf '\n== %s\n' "$*" >&2; }
sd() { "$streamdrop" "$@"; }

finish() {
  status=$?
  if [ "$set_up" = 1 ] && [ "$keep" = 0 ]; then
    step "teardown (deletes everything setup made)"
    if ! sd setup --connection "$connection" --name-prefix "$prefix" --teardown --yes --wait-for-deployment; then
      echo "aws-smoke: the teardown did not finish; run it again with:" >&2
      echo "  STREAMDROP_DATA_DIR=$STREAMDROP_DATA_DIR $streamdrop setup --connection '$connection' --name-prefix $prefix --teardown --yes --wait-for-deployment" >&2
      echo "  (the data dir $work is kept for that)" >&2
      exit 1
    fi
    step "left behind (should be nothing)"
    sd setup --connection "$connection" --name-prefix "$prefix" --teardown
  fi
  if [ "$added" = 1 ] && [ "$keep" = 0 ]; then
    sd connection remove "$connection" >&2
  fi
  if [ "$keep" = 0 ]; then rm -rf "$work"; else echo "aws-smoke: kept $work (STREAMDROP_DATA_DIR)" >&2; fi
  if [ "$status" = 0 ]; then echo "aws-smoke: passed" >&2; else echo "aws-smoke: FAILED (exit $status)" >&2; fi
  exit "$status"
}
trap finish EXIT

step "connection $connection"
add=(connection add "$connection" --region "$region" --use)
[ -n "$endpoint" ] && add+=(--endpoint-url "$endpoint")
if [ -n "$profile" ]; then
  add+=(--profile "$profile")
else
  add+=(--keys --from-env)
fi
sd "${add[@]}"
added=1
sd connection check

step "setup plan"
sd setup --plan --name-prefix "$prefix" --transcoder "$transcoder"
step "setup apply (waits for CloudFront to deploy, usually 5-15 minutes)"
set_up=1
sd setup --apply --name-prefix "$prefix" --transcoder "$transcoder" --wait-for-deployment --json > "$work/setup.json" || true
python3 - "$work/setup.json" <<'EOF'
import json, sys
report = json.load(open(sys.argv[1]))
done = {"create": "created", "update": "updated"}
for s in report["steps"]:
    word = done.get(s["action"], s["action"]) if s["applied"] else s["action"]
    print(f'  {word:<8}{s["resource"]} {s["name"]}', file=sys.stderr)
if report["error"]:
    sys.exit(f'aws-smoke: setup stopped: {report["error"]["message"]}')
n = report["names"]
d = report["distribution"] or {}
print("cost-relevant resources touched:", file=sys.stderr)
print(f'  s3 buckets {n["uploadBucket"]}, {n["mediaBucket"]}', file=sys.stderr)
print(f'  cloudfront distribution {d.get("id", "?")} ({d.get("domain", "?")}), key group {n["keyGroup"]}', file=sys.stderr)
print(f'  iam role {n["mediaconvertRole"]}; one transcoding job of 10 s', file=sys.stderr)
EOF

step "a 10-second clip through the transcoder"
ffmpeg -v error -f lavfi -i testsrc2=size=1280x720:rate=25 -f lavfi -i sine=frequency=440 -t 10 \
  -c:v libx264 -pix_fmt yuv420p -c:a aac "$work/smoke clip #1.mp4"
sd submit "$work/smoke clip #1.mp4" --wait --json > "$work/submit.json"
job="$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1]))["accepted"][0]; print(j["id"]) if j["state"]=="ready" else sys.exit("aws-smoke: the job did not become ready: "+json.dumps(j))' "$work/submit.json")"
echo "job $job is ready" >&2

step "a signed link"
link="$(sd link "$job" --expires-in 1h)"
echo "$link" >&2
if [ -n "$endpoint" ]; then
  echo "not played: an emulator has no CloudFront edge for $link" >&2
else
  duration="$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$link")"
  python3 -c 'import sys; d=float(sys.argv[1]); sys.exit(0 if 9 <= d <= 11 else f"aws-smoke: the stream plays {d} s, not 10")' "$duration"
  echo "the link plays: $duration s" >&2
fi
step "revoke the link"
link_id="$(sd links "$job" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')"
sd revoke "$link_id"
sd links "$job" | grep -q $'\trevoked\t' || { echo "aws-smoke: the link is not listed as revoked" >&2; exit 1; }
if [ -z "$endpoint" ]; then
  # Its playlists are deleted and invalidated: a player starting it now fails.
  sleep 5
  if ffprobe -v error "$link" 2>/dev/null; then
    echo "aws-smoke: the revoked link still starts" >&2; exit 1
  fi
  echo "the revoked link no longer starts" >&2
fi
