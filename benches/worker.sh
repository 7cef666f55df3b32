#!/usr/bin/env bash
# The worker's "must show" figures, in one run on one machine:
#   1. 10,000 `true` jobs on 2 slots: fsq work --drain vs xargs -P2, GNU parallel -j2, task-spooler
#      (and the peak RSS of fsq);
#   2. drop-to-start latency on an idle worker, p50/p99 over 200 drops renamed from new/;
#   3. chaos: 2,000 items, 4 workers, a random one kill -9'd every 200 ms and restarted, 60 s,
#      then drained: lost items, items in two places, items not done, items that ran twice.
#   usage: benches/worker.sh [JOBS] [DROPS] [CHAOS_SECS]   (builds the release binary first)
set -euo pipefail
jobs=${1:-10000}
drops=${2:-200}
chaos_secs=${3:-60}
cd "$(dirname "$0")/.."

need() { # command, Debian package
  command -v "$1" >/dev/null && return
  echo "installing $2" >&2
  { apt-get update -qq && apt-get install -y -qq "$2"; } >/dev/null 2>&1 \
    || sudo apt-get install -y -qq "$2" >/dev/null
}
need parallel parallel
need tsp task-spooler
need python3 python3
[ -x /usr/bin/time ] || need /usr/bin/time time

cargo build --release --quiet
fsq=$PWD/target/release/fsq
work=$(mktemp -d)
cleanup() { jobs -p | xargs -r kill -9 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
echo "$(nproc) cores, $(uname -sr), load $(cut -d' ' -f1-3 /proc/loadavg)"

# --- 1. throughput ---------------------------------------------------------------------------
seconds() { # command... -> wall seconds (3 decimals)
  local t0 t1
  t0=$(date +%s%N); "$@" >/dev/null 2>&1; t1=$(date +%s%N)
  echo "scale=3; ($t1 - $t0) / 1000000000" | bc
}
rate() { echo "scale=0; $jobs / $1" | bc; }
"$fsq" init "$work/q" >/dev/null
# A queue prepared earlier: items older than the quiet period are stable at once.
( cd "$work/q" && seq -f 'job-%05g' 1 "$jobs" | xargs touch -d '1 hour ago' )
/usr/bin/time -f '%e %M' -o "$work/time" "$fsq" work "$work/q" --drain --workers 2 -- true >/dev/null 2>&1
read -r fsq_s fsq_rss < "$work/time"
done_count=$(ls "$work/q/success" | wc -l)
[ "$done_count" -eq "$jobs" ] || { echo "fsq finished only $done_count of $jobs" >&2; exit 1; }
xargs_s=$(seconds sh -c "seq $jobs | xargs -P2 -n1 true")
parallel_s=$(seconds sh -c "seq $jobs | parallel -j2 true")
export TS_SOCKET=$work/ts.sock TS_MAXFINISHED=$((jobs + 10)) TMPDIR=$work
tsp -S 2 >/dev/null
tsp_s=$(seconds sh -c "for i in \$(seq $jobs); do tsp -n true; done; tsp -w")
tsp -K >/dev/null 2>&1 || true
unset TS_SOCKET TS_MAXFINISHED TMPDIR
echo
echo "### $jobs \`true\` jobs, 2 slots"
echo
echo "| runner | wall | jobs/s |"
echo "| --- | --- | --- |"
echo "| \`fsq work --drain --workers 2 -- true\` | ${fsq_s} s | $(rate "$fsq_s") |"
echo "| \`seq $jobs \| xargs -P2 -n1 true\` | ${xargs_s} s | $(rate "$xargs_s") |"
echo "| \`seq $jobs \| parallel -j2 true\` | ${parallel_s} s | $(rate "$parallel_s") |"
echo "| \`tsp -S 2\`, $jobs × \`tsp -n true\`, \`tsp -w\` | ${tsp_s} s | $(rate "$tsp_s") |"
echo
echo "Peak RSS of fsq: $((fsq_rss / 1024)) MiB ($fsq_rss KiB)."

# --- 2. drop-to-start latency ------------------------------------------------------------------
"$fsq" init "$work/lat" >/dev/null
# The job is `date +%s%N`: its output (the moment the command runs) lands in the item's log.
"$fsq" work "$work/lat" -- date +%s%N >/dev/null 2>&1 &
lat_worker=$!
python3 - "$work/lat" "$drops" <<'PY'
import os, random, sys, time
root, drops = sys.argv[1], int(sys.argv[2])
time.sleep(0.5)  # let the worker start and go idle
lat = []
for i in range(drops):
    name = f"drop-{i:04d}"
    with open(os.path.join(root, "new", name), "w") as f:
        f.write("x")
    t0 = time.time_ns()
    os.rename(os.path.join(root, "new", name), os.path.join(root, name))
    log = os.path.join(root, "_meta", "logs", name)
    deadline = time.time() + 10
    started = None
    while time.time() < deadline:
        try:
            lines = open(log).read().split("\n")
            if len(lines) < 3:  # header, the whole timestamp line, then the end
                raise ValueError
            started = int(lines[1])
            break
        except (OSError, ValueError, IndexError):
            time.sleep(0.0005)
    if started is None:
        sys.exit(f"{name} never started")
    lat.append((started - t0) / 1e6)
    time.sleep(random.uniform(0.02, 0.05))  # idle again before the next drop
lat.sort()
pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
print()
print(f"### Drop-to-start latency, idle worker, {drops} drops")
print()
print("| p50 | p90 | p99 | max |")
print("| --- | --- | --- | --- |")
print(f"| {pick(0.5):.2f} ms | {pick(0.9):.2f} ms | {pick(0.99):.2f} ms | {lat[-1]:.2f} ms |")
PY
kill -INT "$lat_worker"; wait "$lat_worker" || true

# --- 3. chaos ------------------------------------------------------------------------------------
items=2000
"$fsq" init "$work/c" >/dev/null
cat > "$work/c/_meta/config.toml" <<TOML
[worker]
workers = 2
max_attempts = 5
heartbeat = "1s"
command = ["sh", "-c", "echo \"\$1\" >> '$work/ran'; sleep 0.25", "sh", "{name}"]
TOML
( cd "$work/c" && seq -f 'item-%04g' 1 "$items" | xargs touch -d '1 hour ago' )
start_worker() { "$fsq" work "$work/c" >/dev/null 2>&1 & echo $!; }
pids=()
for i in 0 1 2 3; do pids[i]=$(start_worker); done
kills=0
end=$((SECONDS + chaos_secs))
while [ "$SECONDS" -lt "$end" ]; do
  sleep 0.2
  i=$((RANDOM % 4))
  kill -9 "${pids[i]}" 2>/dev/null || true
  wait "${pids[i]}" 2>/dev/null || true
  kills=$((kills + 1))
  pids[i]=$(start_worker)
done
for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
done_before=$(( $(ls "$work/c/success" | wc -l) + $(ls "$work/c/failed" | wc -l) ))
"$fsq" work "$work/c" --drain >/dev/null 2>&1
python3 - "$work/c" "$work/ran" "$items" "$kills" "$chaos_secs" "$done_before" <<'PY'
import collections, os, sys
root, ran_log, items, kills, secs, before = sys.argv[1], sys.argv[2], int(sys.argv[3]), *sys.argv[4:]
where = collections.defaultdict(list)
for folder in ["", "new", "success", "failed", "delayed", "paused", "process"]:
    base = os.path.join(root, folder)
    for dirpath, dirnames, files in os.walk(base):
        if folder == "":
            dirnames.clear()
        for f in files:
            if not f.startswith("."):
                where[f].append(folder or "pending")
expected = {f"item-{i:04d}" for i in range(1, items + 1)}
lost = len(expected - set(where))
twice = sum(1 for n in expected if len(where.get(n, [])) > 1)
not_done = sum(1 for n in expected if where.get(n) and where[n][0] not in ("success", "failed"))
runs = collections.Counter(open(ran_log).read().split())
ran_twice = sum(1 for n in expected if runs[n] > 1)
succeeded = sum(1 for n in expected if where.get(n) == ["success"])
failed = sum(1 for n in expected if where.get(n) == ["failed"])
print()
print(f"### Chaos: {items} items, 4 workers x 2 slots, kill -9 every 200 ms for {secs} s ({kills} kills), then drained")
print()
print("| lost | in two places | not in success/ or failed/ | success | failed (out of attempts) | ran more than once | done before the drain |")
print("| --- | --- | --- | --- | --- | --- | --- |")
print(f"| {lost} | {twice} | {not_done} | {succeeded} | {failed} | {ran_twice} | {before} |")
sys.exit(1 if lost or twice or not_done else 0)
PY
