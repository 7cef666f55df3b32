#!/usr/bin/env bash
# Chaos with faults, beyond kill -9: 4 workers on a queue on a small tmpfs, for SECS seconds
#   - a random worker is killed with SIGKILL every 200 ms and restarted;
#   - every 4 s the filesystem is filled to the last block for 1.5 s (disk-full phases);
#   - every 300 ms an attacker swaps a claimed file for a symlink to a secret file (the real
#     file is put aside, so every item stays accounted for);
# then the queue is drained. Counted: items lost, items in two places, items that ran twice at
# the same time (each run holds an flock on its item's name, which dies with the process), runs
# that read the secret through a symlink, and symlinks that reached a state folder.
#
#   benches/chaos_faults.sh [SECS] [ITEMS]     (as root: it mounts a tmpfs; builds the release binary)
set -euo pipefail
secs=${1:-60}
items=${2:-1000}
cd "$(dirname "$0")/.."
cargo build --release --quiet
fsq=$PWD/target/release/fsq
work=$(mktemp -d)
mnt=$work/fs
mkdir -p "$mnt" "$work/locks"
mount -t tmpfs -o size=64m tmpfs "$mnt"
cleanup() {
  jobs -p | xargs -r kill -9 2>/dev/null || true
  pkill -9 -f "$mnt/q" 2>/dev/null || true
  sleep 0.2
  umount -l "$mnt" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

q=$mnt/q
"$fsq" init "$q" >/dev/null
echo "SECRET: only root may read this" > "$work/secret"
chmod 600 "$work/secret"
mkdir -p "$mnt/aside"
# The job: take the item's lock without waiting (a second run at the same time fails to), read
# the first line of the item, note both, and take a while.
cat > "$q/_meta/config.toml" <<TOML
[worker]
workers = 2
max_attempts = 50
heartbeat = "1s"
heartbeat_timeout = "5s"
retry_delay = "100ms"
retry_delay_max = "1s"
command = ["sh", "-c", "flock -n \"$work/locks/\$1\" sh -c 'echo \"run \$1 \$(head -n1 \"\$2\")\" >> $work/ran; sleep 0.2' sh \"\$1\" \"\$2\" || echo \"overlap \$1\" >> $work/ran", "sh", "{name}", "{input}"]
TOML
chmod 600 "$q/_meta/config.toml"
( cd "$q" && for i in $(seq -f '%04g' 1 "$items"); do echo "payload $i" > "item-$i"; done
  touch -d '1 hour ago' item-* )

start_worker() { "$fsq" work "$q" >/dev/null 2>&1 & echo $!; }
pids=()
for i in 0 1 2 3; do pids[i]=$(start_worker); done
kills=0 fills=0 swaps=0
end=$((SECONDS + secs))
next_fill=$((SECONDS + 4))
tick=0
while [ "$SECONDS" -lt "$end" ]; do
  sleep 0.1
  tick=$((tick + 1))
  if [ $((tick % 2)) -eq 0 ]; then
    i=$((RANDOM % 4))
    kill -9 "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
    kills=$((kills + 1))
    pids[i]=$(start_worker)
  fi
  if [ $((tick % 3)) -eq 0 ]; then
    victim=$(find "$q/process" -mindepth 2 -maxdepth 2 -type f 2>/dev/null | shuf -n1 || true)
    if [ -n "$victim" ] && mv "$victim" "$mnt/aside/" 2>/dev/null; then
      ln -s "$work/secret" "$victim" 2>/dev/null || true
      swaps=$((swaps + 1))
    fi
  fi
  if [ "$SECONDS" -ge "$next_fill" ]; then
    dd if=/dev/zero of="$mnt/filler" bs=1M status=none 2>/dev/null || true
    sleep 1.5
    rm -f "$mnt/filler"
    fills=$((fills + 1))
    next_fill=$((SECONDS + 4))
  fi
done
for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
timeout 600 "$fsq" work "$q" --drain >/dev/null 2>&1 || echo "drain did not finish"

python3 - "$q" "$mnt/aside" "$work/ran" "$items" "$secs" "$kills" "$fills" "$swaps" <<'PY'
import collections, os, re, sys
q, aside, ran, items, secs, kills, fills, swaps = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), *sys.argv[5:]
tag = re.compile(r"^.*?\+[0-9a-v]{15}[+=]")
where = collections.defaultdict(list)
links_in_states = links_in_process = 0
for folder in ["", "new", "success", "failed", "delayed", "paused", "process"]:
    base = os.path.join(q, folder)
    for dirpath, dirnames, files in os.walk(base):
        if folder == "":
            dirnames[:] = []
        for f in files + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            if f.startswith("."):
                continue
            path = os.path.join(dirpath, f)
            if os.path.islink(path):
                if folder == "process":
                    links_in_process += 1
                else:
                    links_in_states += 1
                continue
            where[tag.sub("", f, count=1)].append(folder or "pending")
for f in os.listdir(aside):
    where[tag.sub("", f, count=1)].append("aside")
expected = {f"item-{i:04d}" for i in range(1, items + 1)}
lost = len(expected - set(where))
twice = sum(1 for n in expected if len(where.get(n, [])) > 1)
not_done = sum(1 for n in expected if where.get(n) and where[n][0] not in ("success", "failed", "aside"))
lines = open(ran).read().splitlines() if os.path.exists(ran) else []
overlaps = sum(1 for l in lines if l.startswith("overlap "))
secret_reads = sum(1 for l in lines if "SECRET" in l)
runs = sum(1 for l in lines if l.startswith("run "))
print(f"### Chaos with faults: {items} items, 4 workers x 2 slots, {secs} s: {kills} kill -9s, {fills} disk-full phases, {swaps} symlink swaps, then drained")
print()
print("| lost | in two places | not done | ran twice at once | reads through a symlink | symlinks moved into a state | attacker's symlinks left in process/ | runs | items the attacker put aside |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
print(f"| {lost} | {twice} | {not_done} | {overlaps} | {secret_reads} | {links_in_states} | {links_in_process} | {runs} | {sum(1 for n in where.values() if 'aside' in n)} |")
sys.exit(1 if lost or twice or not_done or overlaps or secret_reads or links_in_states else 0)
PY
