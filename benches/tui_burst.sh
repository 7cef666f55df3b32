#!/usr/bin/env bash
# What a burst of renames into a big queue costs the commander, against the same burst into a
# small one: the cost must follow the burst, not the folder.
#
# usage: benches/tui_burst.sh [FSQ_BINARY] [BIG] [SMALL]
#   FSQ_BINARY  default target/release/fsq (build it with `cargo build --release`)
#   BIG, SMALL  pending items before the burst: default 1000000 and 10000
# env: BURST (default 10000), COLS/ROWS (default 120x40)
#
# For each size: fsq runs in tmux (--no-worker) on the pending items, showing the pending pane.
# Once the first screen is up and idle, its peak-RSS mark is reset (`echo 5 > clear_refs`), then
# one perl process renames BURST files from a folder beside the queue into its root, spread
# through the order. Measured until the header shows them all: fsq's CPU (utime+stime from
# /proc/PID/stat) and its peak RSS above the RSS it had before (VmHWM - VmRSS).
# Needs tmux and perl.
set -euo pipefail

FSQ=${1:-target/release/fsq}
BIG=${2:-1000000}
SMALL=${3:-10000}
BURST=${BURST:-10000}
COLS=${COLS:-120}
ROWS=${ROWS:-40}
SOCKET=fsq-burst-$$

command -v tmux >/dev/null || { echo "tmux is missing: apt-get install tmux" >&2; exit 1; }
[ -x "$FSQ" ] || { echo "$FSQ is missing: cargo build --release" >&2; exit 1; }
FSQ=$(realpath "$FSQ")
work=$(mktemp -d)
cleanup() { tmux -L "$SOCKET" kill-server 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

now_ns() { date +%s%N; }
screen() { tmux -L "$SOCKET" capture-pane -p -t bench 2>/dev/null; }
pending_shown() { screen | grep -o -m1 'pending [0-9]*' | head -1 || true; }
wait_for() { # text, deadline in seconds
    local deadline=$(( $(date +%s) + $2 ))
    until [ "$(pending_shown)" = "$1" ]; do
        if [ "$(date +%s)" -gt "$deadline" ]; then
            echo "timed out waiting for '$1'; the screen:" >&2
            screen >&2
            exit 1
        fi
        sleep 0.005
    done
}
ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
kib() { awk -v key="$2:" '$1 == key { print $2 }' "/proc/$1/status"; }

echo "$(nproc) cores, $(uname -sr), load $(cut -d' ' -f1-3 /proc/loadavg); fsq $FSQ"
for items in "$BIG" "$SMALL"; do
    queue=$work/q$items
    outside=$work/outside$items
    "$FSQ" init "$queue" >/dev/null
    mkdir -p "$outside" "$work/home"
    (cd "$queue" && seq -f 'item-%07g.txt' 1 "$items" | xargs touch)
    # Burst names fall between the existing ones, all through the order.
    (cd "$outside" && seq -f 'item-%07g.5.txt' 1 $(( items / BURST > 0 ? items / BURST : 1 )) "$items" \
        | head -n "$BURST" | xargs touch)
    burst=$(ls "$outside" | wc -l)
    tmux -L "$SOCKET" new-session -d -x "$COLS" -y "$ROWS" -s bench \
        "cd '$queue' && exec env HOME='$work/home' TERM=xterm-256color '$FSQ' . --no-worker"
    wait_for "pending $items" 300
    pid=$(tmux -L "$SOCKET" list-panes -t bench -F '#{pane_pid}')
    sleep 3 # the first screen's details and highlights settle
    echo 5 > "/proc/$pid/clear_refs"
    rss=$(kib "$pid" VmRSS)
    before=$(ticks "$pid")
    start=$(now_ns)
    perl -e 'opendir(my $d, $ARGV[0]) or die; for my $n (sort grep { !/^\./ } readdir $d) {
        rename("$ARGV[0]/$n", "$ARGV[1]/$n") or die "$n: $!" }' "$outside" "$queue"
    wait_for "pending $(( items + burst ))" 120
    ms=$(( ($(now_ns) - start) / 1000000 ))
    sleep 1
    after=$(ticks "$pid")
    peak=$(kib "$pid" VmHWM)
    printf '%8d items + burst of %d renames: shown after %5d ms, fsq CPU %.2f s, peak RSS +%d MiB (RSS before %d MiB)\n' \
        "$items" "$burst" "$ms" "$(bc -l <<<"($after - $before) / $(getconf CLK_TCK)")" \
        $(( (peak - rss) / 1024 )) $(( rss / 1024 ))
    tmux -L "$SOCKET" kill-server 2>/dev/null || true
    rm -rf "$queue" "$outside"
done
