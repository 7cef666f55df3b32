#!/usr/bin/env bash
# Time from `fsq cancel` to the death of the job's whole process group, on the local disk, next
# to the floor: killpg(2) of the job's group from a process already running on the same host.
# Each round enqueues one item whose job (sh) starts a grandchild (sleep) and writes both pids;
# the clock starts when the command is started and stops when both processes are gone (or
# zombies), polled every 0.5 ms.
#   usage: benches/cancel.sh [ROUNDS]   (builds the release binary)
# Over sshfs the same is measured by tests/multihost.sh (scenario 4), across two hosts.
set -euo pipefail
rounds=${1:-30}
cd "$(dirname "$0")/.."
[[ -n ${FSQ_BUILT:-} ]] || cargo build --release --quiet
fsq=$PWD/target/release/fsq
work=$(mktemp -d)
cleanup() { jobs -p | xargs -r kill 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
echo "$(nproc) cores, $(uname -sr), load $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$fsq" "$rounds" "$work" <<'PY'
import os, signal, statistics, subprocess, sys, time

fsq, rounds, work = sys.argv[1], int(sys.argv[2]), sys.argv[3]
q = os.path.join(work, "q")
subprocess.run([fsq, "init", q], check=True, stdout=subprocess.DEVNULL)
pids_file = os.path.join(work, "pids")
job = f'sleep 300 & echo $! >> {pids_file}; echo $$ >> {pids_file}; wait'
worker = subprocess.Popen([fsq, "work", q, "--max-attempts", "1", "--", "sh", "-c", job],
                          stderr=subprocess.DEVNULL)

def dead(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True

def start_job(n):
    if os.path.exists(pids_file):
        os.remove(pids_file)
    name = f"item-{n:03}"
    with open(os.path.join(q, "new", name), "w") as f:
        f.write("x")
    os.rename(os.path.join(q, "new", name), os.path.join(q, name))
    while True:
        try:
            pids = [int(l) for l in open(pids_file).read().split()]
            if len(pids) == 2:
                return name, pids
        except FileNotFoundError:
            pass
        time.sleep(0.001)

def timed(command):
    start = time.perf_counter()
    proc = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    return start, proc

results = {"fsq cancel --fail ITEM": [], "killpg(PGID, SIGKILL) (floor)": []}
returned = []
for n in range(rounds):
    for label in results:
        name, pids = start_job(len(returned) + sum(map(len, results.values())))
        time.sleep(0.05)  # the job is past its start, as a job an operator cancels would be
        if label.startswith("fsq"):
            start, proc = timed([fsq, "cancel", q, name, "--fail"])
        else:
            # The floor: the kill(2) of the group itself, from a process already running.
            start, proc = time.perf_counter(), None
            os.killpg(pids[1], signal.SIGKILL)
        while not all(dead(p) for p in pids):
            time.sleep(0.0005)
        results[label].append(time.perf_counter() - start)
        if proc:
            proc.wait()
        if label.startswith("fsq"):
            returned.append(time.perf_counter() - start)
worker.send_signal(signal.SIGTERM)
worker.wait()

def ms(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] * 1000

print(f"{rounds} rounds each")
print("| command | p50 | p90 | max |")
print("| --- | --- | --- | --- |")
for label, values in results.items():
    print(f"| `{label}` to the group's death | {ms(values, .5):.1f} ms | {ms(values, .9):.1f} ms | {max(values)*1000:.1f} ms |")
print(f"| `fsq cancel --fail` returns (item in failed/) | {ms(returned, .5):.1f} ms | {ms(returned, .9):.1f} ms | {max(returned)*1000:.1f} ms |")
PY
