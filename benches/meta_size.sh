#!/usr/bin/env bash
# `_meta/` after ITEMS items whose command prints a line, with the default log retention
# (log_keep = 10000) next to retention switched off (every log kept, as before retention).
#   usage: benches/meta_size.sh [ITEMS] [WORKERS]      (builds the release binary first)
set -euo pipefail
items=${1:-200000}
workers=${2:-2}
cd "$(dirname "$0")/.."
cargo build --release --quiet
fsq=$PWD/target/release/fsq
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

run() { # NAME EXTRA-CONFIG
  local q=$work/$1
  "$fsq" init "$q" >/dev/null
  printf '[worker]\ncommand = ["echo", "converted {name}"]\nquiet_period = "0s"\nworkers = %s\n%s\n' \
    "$workers" "$2" >"$q/_meta/config.toml"
  ( cd "$q" && seq -f 'item-%07g.txt' 1 "$items" | xargs touch )
  local t0 t1
  t0=$(date +%s)
  "$fsq" work "$q" --drain 2>/dev/null
  t1=$(date +%s)
  test "$(find "$q/success" -type f | wc -l)" -eq "$items"
  printf '%-28s %8d logs  %6s on disk (%s apparent)  %4ds\n' "$1" \
    "$(find "$q/_meta/logs" -type f | wc -l)" \
    "$(du -sh "$q/_meta" | cut -f1)" "$(du -sh --apparent-size "$q/_meta" | cut -f1)" \
    $((t1 - t0))
}

echo "$items items printing one line each, $workers slots, $(nproc) cores"
run "retention (defaults)" ""
run "retention off" $'log_keep = 0\nlog_retention = "0"'
