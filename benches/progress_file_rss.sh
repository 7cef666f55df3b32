#!/usr/bin/env bash
# Peak RSS of a worker whose job writes a sparse 3 GB $FSQ_PROGRESS_FILE, for each fsq binary
# given (e.g. this tree's and an older build's), measured 2.5 s into the job.
#   usage: benches/progress_file_rss.sh [FSQ...]     (default: this tree's debug build)
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || { cargo build --quiet; set -- "$PWD/target/debug/fsq"; }
for fsq in "$@"; do
  d=$(mktemp -d)
  "$fsq" init "$d/q" >/dev/null
  echo x >"$d/q/job"
  touch -d '1 hour ago' "$d/q/job"
  "$fsq" work "$d/q" -- sh -c 'truncate -s 3G "$FSQ_PROGRESS_FILE"
    printf "0.5\n" >>"$FSQ_PROGRESS_FILE"; sleep 3' 2>/dev/null &
  pid=$!
  sleep 2.5
  printf '%-50s %s\n' "$fsq" "$(grep VmHWM /proc/$pid/status | tr -s ' \t' ' ')"
  kill $pid
  wait $pid 2>/dev/null || true
  rm -rf "$d"
done
