#!/usr/bin/env bash
# Claim throughput while a backlog drains and files keep arriving: BACKLOG pending `true` jobs,
# 2 slots, and a producer renaming files from new/ into the root at 0, 50 and 100 per second
# (names spread through the backlog's order, so each must be merged into the middle). The arms
# take turns for ROUNDS rounds on one queue that is topped back up to BACKLOG before each arm;
# each arm counts the items finished in WINDOW seconds after a warm-up (2 s, or 1 s per 100,000
# items of backlog if longer: the first listing). Prints items/s per arm and round, and the
# median ratio of each rate against no arrivals.
#   usage: benches/arrivals.sh [BACKLOG] [ROUNDS] [WINDOW] [FSQ...]
# FSQ defaults to this tree's release build; give other binaries (an older build) to compare
# them in the same rounds.
set -euo pipefail
backlog=${1:-100000}
rounds=${2:-3}
window=${3:-10}
shift $(($# < 3 ? $# : 3))
cd "$(dirname "$0")/.."
cargo build --release --quiet
binaries=("$@")
[ ${#binaries[@]} -gt 0 ] || binaries=("$PWD/target/release/fsq")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "$(nproc) cores, $(uname -sr), load $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$backlog" "$rounds" "$window" "$work" "${binaries[@]}" <<'PY'
import os, random, signal, statistics, subprocess, sys, threading, time
backlog, rounds, window, work = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
binaries = sys.argv[5:]
rates = [0, 50, 100]
old = time.time() - 3600

def top_up(q):
    """Brings the root back to `backlog` items named job-NNNNNNN, all stable (an hour old)."""
    present = {e.name for e in os.scandir(q) if e.name.startswith("job-")}
    missing = "\n".join(n for n in (f"job-{i:07d}" for i in range(backlog)) if n not in present)
    # touch takes thousands of names per exec: a million files in seconds, not minutes.
    subprocess.run(["xargs", "touch", "-d", f"@{old:.0f}"], input=missing.encode(), cwd=q,
                   check=True)

def produce(q, rate, stop, made):
    """Renames a staged file into the root `rate` times a second, at random places in the order."""
    if rate == 0:
        return
    period, n, next_at = 1.0 / rate, 0, time.perf_counter()
    while not stop.is_set():
        name = f"job-{random.randrange(backlog):07d}-late-{os.getpid()}-{n}"
        staged = f"{q}/new/{name}"
        open(staged, "w").close()
        os.rename(staged, f"{q}/{name}")
        n += 1
        made[0] = n
        next_at += period
        delay = next_at - time.perf_counter()
        if delay > 0:
            stop.wait(delay)

def done(q):
    return sum(1 for _ in os.scandir(f"{q}/success"))

def arm(fsq, q, rate):
    top_up(q)
    subprocess.run(["rm", "-rf", f"{q}/success"], check=True)
    os.mkdir(f"{q}/success")
    worker = subprocess.Popen([fsq, "work", q, "--workers", "2", "--", "true"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    stop, made = threading.Event(), [0]
    producer = threading.Thread(target=produce, args=(q, rate, stop, made))
    producer.start()
    time.sleep(max(2, backlog / 100_000))  # warm-up: start, first listing, first claims
    start_count, start = done(q), time.perf_counter()
    time.sleep(window)
    count, wall = done(q) - start_count, time.perf_counter() - start
    stop.set()
    producer.join()
    worker.send_signal(signal.SIGTERM)
    worker.wait()
    return count / wall, made[0]

results = {}
for b, fsq in enumerate(binaries):
    print(f"[{b}] {fsq}")
for fsq in binaries:
    q = f"{work}/q-{binaries.index(fsq)}"
    subprocess.run([fsq, "init", q], stdout=subprocess.DEVNULL, check=True)
for r in range(rounds):
    for b, fsq in enumerate(binaries):
        q = f"{work}/q-{b}"
        for rate in rates:
            speed, made = arm(fsq, q, rate)
            results.setdefault((b, rate), []).append(speed)
            print(f"round {r + 1}  [{b}]  {rate:3d} arrivals/s: {speed:7.0f} items/s"
                  f"  ({made} arrived)", flush=True)
print(f"\nbacklog {backlog:,}, 2 slots, `true`, {window:.0f} s windows, medians of {rounds} rounds:")
for b, fsq in enumerate(binaries):
    base = statistics.median(results[(b, 0)])
    for rate in rates:
        med = statistics.median(results[(b, rate)])
        print(f"  [{b}] {rate:3d} arrivals/s  {med:7.0f} items/s  {med / base:5.2f}x")
PY
