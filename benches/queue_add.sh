#!/usr/bin/env bash
# `fsq add` of many files in one call, next to a plain `cp` + `sync` of the same files.
#   usage: benches/queue_add.sh [FILES]      (builds the release binary first)
set -euo pipefail
files=${1:-2000}
cd "$(dirname "$0")/.."
cargo build --release --quiet
fsq=$PWD/target/release/fsq
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/src" "$work/plain"
( cd "$work/src" && seq -f 'file-%06g.txt' 1 "$files" | while read -r f; do echo "$f" > "$f"; done )
"$fsq" init "$work/q" >/dev/null
sync   # start both from a clean page cache: neither pays for flushing the sources
ms() { date +%s%N; }
t0=$(ms); "$fsq" add "$work/q" "$work/src"/*; t1=$(ms)
sync
t1=$(ms); cp "$work/src"/* "$work/plain/"; sync; t2=$(ms)
test "$("$fsq" ls "$work/q" | wc -l)" -eq "$files"
echo "$files files, $(nproc) cores"
printf '%-34s %6d ms\n' "fsq add (atomic, flushed)" $(( (t1 - t0) / 1000000 ))
printf '%-34s %6d ms\n' "cp + sync" $(( (t2 - t1) / 1000000 ))
