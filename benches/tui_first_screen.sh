#!/usr/bin/env bash
# Time to first screen and memory of the commander on a 100,000-item queue, next to Midnight
# Commander on the same folder in the same run, both in tmux; then the CPU an idle fsq uses.
#
# usage: benches/tui_first_screen.sh [FSQ_BINARY] [ITEMS]
#   FSQ_BINARY  default target/release/fsq (build it with `cargo build --release`)
#   ITEMS       default 100000
# env: RUNS (default 5, median reported), IDLE_SECONDS (default 30), COLS/ROWS (default 200x50)
#
# First screen: from starting the tmux session until `tmux capture-pane` shows the first item's
# name (polled every few milliseconds, so the figure includes up to one poll of delay for both).
# RSS: VmRSS once the screen is up and the program has had a second to settle, and VmHWM (peak),
# from /proc/PID/status. mc runs with -u (no subshell: its best case) and an empty right panel,
# like fsq's empty process/ pane. Needs tmux and mc (apt-get install tmux mc).
set -euo pipefail

FSQ=${1:-target/release/fsq}
ITEMS=${2:-100000}
RUNS=${RUNS:-5}
IDLE_SECONDS=${IDLE_SECONDS:-30}
COLS=${COLS:-200}
ROWS=${ROWS:-50}
SOCKET_BASE=fsq-bench-$$
SOCKET=$SOCKET_BASE-0
sessions=0

for tool in tmux mc; do
    command -v "$tool" >/dev/null || { echo "$tool is missing: apt-get install $tool" >&2; exit 1; }
done
[ -x "$FSQ" ] || { echo "$FSQ is missing: cargo build --release" >&2; exit 1; }
FSQ=$(realpath "$FSQ")

work=$(mktemp -d)
cleanup() { tmux -L "$SOCKET" kill-server 2>/dev/null || true; rm -rf "$work"; }
# Each measurement gets its own tmux server: a server being killed cannot take a new session.
stop_session() { tmux -L "$SOCKET" kill-server 2>/dev/null || true; }
trap cleanup EXIT

queue=$work/q
mkdir -p "$work/home" "$work/empty"
"$FSQ" init "$queue" >/dev/null
(cd "$queue" && seq -f 'item-%06g.txt' 1 "$ITEMS" | xargs touch)
first=item-000001.txt
echo "queue: $ITEMS pending items in $queue; fsq $("$FSQ" --version | cut -d' ' -f2); $(mc --version | head -1)"

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# Runs COMMAND in a fresh tmux session; writes "first_screen_ms rss_kib hwm_kib pid" to
# $work/result (not stdout: a subshell would lose the session it started).
measure() {
    local command=$1 start end pid deadline
    stop_session
    sessions=$(( sessions + 1 ))
    SOCKET=$SOCKET_BASE-$sessions
    start=$(now_ms)
    tmux -L "$SOCKET" new-session -d -x "$COLS" -y "$ROWS" -s bench \
        "cd '$queue' && exec env HOME='$work/home' TERM=xterm-256color $command"
    deadline=$(( start + 60000 ))
    until tmux -L "$SOCKET" capture-pane -p -t bench 2>/dev/null | grep -qF "$first"; do
        if [ "$(now_ms)" -gt "$deadline" ]; then
            echo "timed out waiting for $first; the screen:" >&2
            tmux -L "$SOCKET" capture-pane -p -t bench >&2 || true
            exit 1
        fi
        sleep 0.002
    done
    end=$(now_ms)
    pid=$(tmux -L "$SOCKET" list-panes -t bench -F '#{pane_pid}')
    sleep 1
    local rss hwm
    rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
    hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
    echo "$(( end - start )) $rss $hwm $pid" >"$work/result"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

declare -A times rsss hwms
for run in $(seq 1 "$RUNS"); do
    for tool in fsq mc; do
        if [ "$tool" = fsq ]; then
            measure "'$FSQ' . --no-worker"
        else
            measure "mc -u '$queue' '$work/empty'"
        fi
        read -r ms rss hwm _pid <"$work/result"
        times[$tool]+="$ms "
        rsss[$tool]+="$rss "
        hwms[$tool]+="$hwm "
        stop_session
        echo "run $run $tool: first screen ${ms} ms, RSS ${rss} KiB, peak ${hwm} KiB"
    done
done

echo
echo "| $ITEMS items, median of $RUNS | first screen | RSS | peak RSS (VmHWM) |"
echo "|---|---|---|---|"
for tool in fsq mc; do
    t=$(tr ' ' '\n' <<<"${times[$tool]}" | grep . | median)
    r=$(tr ' ' '\n' <<<"${rsss[$tool]}" | grep . | median)
    h=$(tr ' ' '\n' <<<"${hwms[$tool]}" | grep . | median)
    printf '| %s | %d ms | %.1f MiB | %.1f MiB |\n' "$tool" "$t" "$(bc -l <<<"$r/1024")" "$(bc -l <<<"$h/1024")"
done

# Idle CPU: fsq with the queue on screen and nothing happening, over IDLE_SECONDS.
stop_session
measure "'$FSQ' . --no-worker"
read -r _ms _rss _hwm pid <"$work/result"
ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
before=$(ticks "$pid")
sleep "$IDLE_SECONDS"
after=$(ticks "$pid")
hz=$(getconf CLK_TCK)
echo
printf 'idle fsq over %s s: %d ticks of CPU (%s Hz) = %.3f%% of one core\n' \
    "$IDLE_SECONDS" "$(( after - before ))" "$hz" "$(bc -l <<<"($after - $before) / $hz / $IDLE_SECONDS * 100")"
