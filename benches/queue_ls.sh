#!/usr/bin/env bash
# fsq ls on 100,000 pending items, next to `ls -1 | sort` on the same folder, in one run.
# Reports the median wall time of 5 runs and the peak RSS of each.
#   usage: benches/queue_ls.sh [ITEMS]      (builds the release binary first)
set -euo pipefail
items=${1:-100000}
cd "$(dirname "$0")/.."
cargo build --release --quiet
fsq=$PWD/target/release/fsq
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$fsq" init "$work/q" >/dev/null
( cd "$work/q" && seq -f 'item-%06g.txt' 1 "$items" | xargs touch )
# Some reordered items, so the listing includes sort prefixes.
for i in 17 4242 99999; do "$fsq" order "$work/q" "item-$(printf %06d "$i").txt" --first 2>/dev/null || true; done

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
measure() { # label, command...
  local label=$1; shift
  local times=() rss=0
  for _ in 1 2 3 4 5; do
    local out
    out=$( { /usr/bin/time -f '%e %M' "$@" >/dev/null; } 2>&1 | tail -1)
    times+=("${out% *}"); rss=${out#* }
  done
  printf '%-28s %8s s %8s KiB\n' "$label" "$(printf '%s\n' "${times[@]}" | median)" "$rss"
}
echo "$items pending items, $(nproc) cores, $(uname -sr)"
printf '%-28s %10s %12s\n' command "median" "peak RSS"
measure "fsq ls" "$fsq" ls "$work/q"
measure "fsq ls --json" "$fsq" ls "$work/q" --json
measure "ls -1 | sort (LC_ALL=C)" env LC_ALL=C sh -c "ls -1 '$work/q' | sort"
measure "ls -1 -f (no sort)" ls -1 -f "$work/q"
# Correctness: same count as the folder holds.
test "$("$fsq" ls "$work/q" | wc -l)" -eq "$items"
