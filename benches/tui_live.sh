#!/usr/bin/env bash
# How fast the commander shows a change made by another process, on a big pending folder; then
# what a burst of renames costs it.
#
# usage: benches/tui_live.sh [FSQ_BINARY] [ITEMS]
#   FSQ_BINARY  default target/release/fsq (build it with `cargo build --release`)
#   ITEMS       default 90000
# env: SAMPLES (default 20), BURST (default 10000), COLS/ROWS (default 120x40)
#
# Latency: fsq runs in tmux (--no-worker) on ITEMS pending items. Each sample, this script
# renames one file into the queue root (odd samples) or back out of it (even samples) with
# `mv`, then polls `tmux capture-pane` every 2 ms until the header's pending count changes.
# The figure includes up to one poll (a capture-pane costs a few ms on its own).
# Burst: BURST files renamed from the root into paused/ by one perl process; fsq's CPU time
# (utime+stime from /proc/PID/stat) from the first rename until the header shows them all.
# Needs tmux and perl.
set -euo pipefail

FSQ=${1:-target/release/fsq}
ITEMS=${2:-90000}
SAMPLES=${SAMPLES:-20}
BURST=${BURST:-10000}
COLS=${COLS:-120}
ROWS=${ROWS:-40}
SOCKET=fsq-live-$$

command -v tmux >/dev/null || { echo "tmux is missing: apt-get install tmux" >&2; exit 1; }
[ -x "$FSQ" ] || { echo "$FSQ is missing: cargo build --release" >&2; exit 1; }
FSQ=$(realpath "$FSQ")

work=$(mktemp -d)
cleanup() { tmux -L "$SOCKET" kill-server 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

queue=$work/q
mkdir -p "$work/outside" "$work/home"
"$FSQ" init "$queue" >/dev/null
(cd "$queue" && seq -f 'item-%06g.txt' 1 "$ITEMS" | xargs touch)
touch "$work/outside/moved-in.txt"

now_ns() { date +%s%N; }
screen() { tmux -L "$SOCKET" capture-pane -p -t bench 2>/dev/null; }
pending_shown() { screen | grep -o -m1 'pending [0-9]*' | head -1 || true; }
# Polls the screen until `pending N` shows (or 10 s pass); echoes the ms since $1 (in ns).
wait_for() {
    local want=$1 start=$2 deadline
    deadline=$(( start + 10000000000 ))
    until [ "$(pending_shown)" = "$want" ]; do
        if [ "$(now_ns)" -gt "$deadline" ]; then
            echo "timed out waiting for '$want'; the screen:" >&2
            screen >&2
            exit 1
        fi
        sleep 0.002
    done
    echo $(( ($(now_ns) - start) / 1000000 ))
}

tmux -L "$SOCKET" new-session -d -x "$COLS" -y "$ROWS" -s bench \
    "cd '$queue' && exec env HOME='$work/home' TERM=xterm-256color '$FSQ' . --no-worker"
wait_for "pending $ITEMS" "$(now_ns)" >/dev/null
pid=$(tmux -L "$SOCKET" list-panes -t bench -F '#{pane_pid}')
sleep 1
echo "queue: $ITEMS pending items; fsq $("$FSQ" --version | cut -d' ' -f2), pid $pid"

times=()
count=$ITEMS
for sample in $(seq 1 "$SAMPLES"); do
    start=$(now_ns)
    if [ $(( sample % 2 )) -eq 1 ]; then
        mv "$work/outside/moved-in.txt" "$queue/moved-in.txt"
        count=$(( count + 1 ))
    else
        mv "$queue/moved-in.txt" "$work/outside/moved-in.txt"
        count=$(( count - 1 ))
    fi
    ms=$(wait_for "pending $count" "$start")
    times+=("$ms")
    echo "sample $sample: ${ms} ms"
    sleep 0.3
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
median=$(awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }' <<<"$sorted")
echo "rename shown after: median ${median} ms, min $(head -1 <<<"$sorted") ms, max $(tail -1 <<<"$sorted") ms ($SAMPLES samples)"

ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
mkdir -p "$queue/paused"
sleep 2.5  # let the last arrival's highlight fade
before=$(ticks "$pid")
start=$(now_ns)
perl -e 'for my $i (1..$ARGV[1]) { my $n = sprintf("item-%06d.txt", $i);
    rename("$ARGV[0]/$n", "$ARGV[0]/paused/$n") or die "$n: $!" }' "$queue" "$BURST"
renamed=$(( ($(now_ns) - start) / 1000000 ))
ms=$(wait_for "pending $(( count - BURST ))" "$start")
sleep 1
after=$(ticks "$pid")
hz=$(getconf CLK_TCK)
printf 'burst of %d renames (%d ms of renames): all shown after %d ms; fsq CPU %.2f s\n' \
    "$BURST" "$renamed" "$ms" "$(bc -l <<<"($after - $before) / $hz")"
