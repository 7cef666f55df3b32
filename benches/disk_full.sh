#!/usr/bin/env bash
# Runs per item while _meta/ is on a full disk: the queue sits on a 1 MiB tmpfs, every run of
# every item fails, and the first run fills the disk. The worker runs 15 s on the full disk,
# then the disk is freed under it and it drains the queue. Prints the runs per item in both phases; both must stay
# within max_attempts (3). Needs root (mount). Usage: benches/disk_full.sh [ITEMS] [FULL_SECS]
set -euo pipefail
items=${1:-20}
full_secs=${2:-15}
cd "$(dirname "$0")/.."
cargo build -q
fsq=$PWD/target/debug/fsq
work=$(mktemp -d)
trap 'umount "$work/disk" 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir "$work/disk"
mount -t tmpfs -o size=1m tmpfs "$work/disk"
q=$work/disk/q
"$fsq" init "$q" >/dev/null
printf '[worker]\nmax_attempts = 3\nretry_delay = "200ms"\nheartbeat = "200ms"\n' \
  >"$q/_meta/config.toml"
for i in $(seq -w 1 "$items"); do echo "$i" >"$q/item$i"; done
script="echo \"\$1\" >> '$work/runs'; [ -e '$work/filled' ] && exit 1; touch '$work/filled';
dd if=/dev/zero of='$work/disk/filler' bs=64k 2>/dev/null; exit 1"
"$fsq" work "$q" --drain -- sh -c "$script" sh '{name}' 2>"$work/worker.log" &
worker=$!
sleep "$full_secs"
per_item() { sort "$work/runs" | uniq -c | awk '{print $1}' | sort -n | tail -1; }
echo "full disk, ${full_secs}s: $(wc -l <"$work/runs") runs in all, at most $(per_item) per item"
rm -f "$work/disk/filler"
wait "$worker"
echo "after freeing it and draining: $(wc -l <"$work/runs") runs in all, at most $(per_item) per item;" \
  "$(ls "$q/failed" | wc -l) in failed/, $(find "$q/process" -type f | wc -l) left claimed"
