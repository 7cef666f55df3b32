#!/usr/bin/env bash
# Several hosts working one queue over sshfs (or GlusterFS), on one machine: a server network
# namespace runs a key-only sshd exporting a folder (or glusterd serving a one-brick volume); 3
# client "hosts" (own network, mount and UTS namespaces) mount it and run `fsq work`. Scenarios: 2,000 items over 3 hosts (one with its clock an hour
# ahead) with no item run twice or lost; kill -9 of a worker, recovered within 2x the heartbeat
# timeout; a client whose connection is cut stops claiming, loses nothing, and resumes once
# remounted; a job on one host frozen, thawed and cancelled from another (timed: the cancel's
# latency over the mount). `--bench` measures claims per second for 1-3 hosts against the local
# disk. MULTIHOST_SCENARIOS="4" runs only the scenarios listed (default: 0 1 2 3 4).
#
# Run as root (CI does): bash tests/multihost.sh [--gluster] [--bench]. Installs openssh-server,
# sshfs and faketime (with --gluster: glusterfs-server, glusterfs-client) if missing. With
# --gluster, glusterd runs in the server's own network and mount namespaces with every folder it
# writes (working directory, run directory, logs) in the temp folder, listening on the server's
# namespace address only; clients mount the volume with the FUSE `glusterfs` client, and a cut
# connection is the client process killed (a dead FUSE mount: ENOTCONN, not an empty folder). Addresses are 10.77.0.0/24 on veths that exist only inside the
# namespaces; nothing leaves the machine. Everything is torn down on exit, even on failure.
set -eu   # no pipefail: counting pipelines over folders that may be missing read as 0

MODE=test
FS=sshfs
for arg in "$@"; do
    case $arg in
        --bench) MODE=bench ;;
        --gluster) FS=glusterfs ;;
        *) echo "usage: $0 [--gluster] [--bench]" >&2; exit 2 ;;
    esac
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
P=fsqmh                      # prefix of everything this script creates
STATE=/run/$P.state          # what the last run left, for cleaning up after a hard kill
NET=10.77.0
PORT=2222
VOL=fsq                      # the GlusterFS volume
HB=500ms HB_TIMEOUT=3         # heartbeat and heartbeat timeout (seconds) for the test queue
DEADLINE=$((SECONDS + ${MULTIHOST_TIMEOUT:-900}))
FAILS=0
GLUSTER=()
SUMMARY=()

say() { printf '[multihost %3ds] %s\n' "$SECONDS" "$*"; }
pass() { SUMMARY+=("PASS  $*"); say "PASS: $*"; }
fail() { SUMMARY+=("FAIL  $*"); say "FAIL: $*"; FAILS=$((FAILS + 1)); }
die() { say "ERROR: $*"; exit 1; }

[[ $EUID -eq 0 ]] || die "needs root (network and mount namespaces)"

# ---------------------------------------------------------------- teardown
cleanup_state() {
    [[ -f $STATE ]] || return 0
    local line
    # Processes first: a live brick process or FUSE client would keep writing into the folder.
    while read -r kind value; do
        [[ $kind == pid ]] && { kill -9 "$value" 2>/dev/null || true; }
    done < "$STATE"
    sleep 0.2
    while read -r kind value; do
        case $kind in
            work) umount -l "$value"/export 2>/dev/null || true   # gluster: the server's view
                  umount -l "$value"/ns/* 2>/dev/null || true
                  umount -l "$value"/ns 2>/dev/null || true
                  rm -rf --one-file-system "$value" 2>/dev/null || true ;;
        esac
    done < "$STATE"
    for line in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$P-" || true); do
        ip netns delete "$line" 2>/dev/null || true
    done
    rm -f "$STATE"
}

teardown() {
    local rc=$?
    set +e
    if [[ -n ${WORK:-} ]]; then
        for host in c1 c2 c3; do
            [[ -e $WORK/ns/mnt-$host ]] && in_host "$host" fusermount -u -z "$WORK/q" 2>/dev/null
        done
        [[ -f $WORK/ssh/sshd.pid ]] && kill "$(cat "$WORK/ssh/sshd.pid")" 2>/dev/null
        if [[ -f $WORK/gd/glusterd.pid ]]; then
            fusermount -u -z "$WORK/export" 2>/dev/null
            timeout 20 "${GLUSTER[@]}" volume stop "$VOL" >/dev/null 2>&1
            kill "$(cat "$WORK/gd/glusterd.pid")" 2>/dev/null
        fi
    fi
    cleanup_state
    exit "$rc"
}

cleanup_state
trap teardown EXIT
trap 'die "interrupted"' INT TERM

# ---------------------------------------------------------------- tools
need=()
if [[ $FS == sshfs ]]; then
    command -v sshd >/dev/null || [[ -x /usr/sbin/sshd ]] || need+=(openssh-server)
    command -v ssh >/dev/null || need+=(openssh-client)
    command -v sshfs >/dev/null || need+=(sshfs)
fi
command -v faketime >/dev/null || need+=(faketime)
command -v ip >/dev/null || need+=(iproute2)
command -v ss >/dev/null || need+=(iproute2)
if [[ $FS == glusterfs ]]; then
    command -v glusterd >/dev/null || [[ -x /usr/sbin/glusterd ]] || need+=(glusterfs-server)
    command -v glusterfs >/dev/null || [[ -x /usr/sbin/glusterfs ]] || need+=(glusterfs-client)
fi
if ((${#need[@]})); then
    say "installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null && apt-get install -y -q "${need[@]}" >/dev/null
fi
SSHD=$(command -v sshd || echo /usr/sbin/sshd)
FAKETIME_LIB=$(find /usr/lib /usr/lib64 -name libfaketime.so.1 2>/dev/null | head -n1)
[[ -n $FAKETIME_LIB ]] || die "libfaketime.so.1 not found"

if [[ -z ${FSQ:-} ]]; then
    if [[ $MODE == bench ]]; then
        (cd "$ROOT" && cargo build --locked --release -q)
        FSQ=$ROOT/target/release/fsq
    else
        (cd "$ROOT" && cargo build --locked -q)
        FSQ=$ROOT/target/debug/fsq
    fi
fi

# ---------------------------------------------------------------- hosts
WORK=$(mktemp -d "/tmp/$P.XXXXXX")
echo "work $WORK" >> "$STATE"
mkdir -p "$WORK"/{ns,ssh,export,q,logs,gd}
# Persistent namespace files must live on a mount that is not shared.
mount --bind "$WORK/ns" "$WORK/ns"
mount --make-private "$WORK/ns"

ns_of() { # the nsenter options that enter HOST's network, mount and UTS namespaces
    echo "--net=/run/netns/$P-$1 --mount=$WORK/ns/mnt-$1 --uts=$WORK/ns/uts-$1"
}
in_host() { # in_host HOST CMD...: run in that host's namespaces
    local host=$1; shift
    # shellcheck disable=SC2046
    nsenter $(ns_of "$host") "$@"
}

wait_for() { # wait_for SECONDS WHAT CMD...: poll until CMD succeeds
    local limit=$((SECONDS + $1)) what=$2; shift 2
    until "$@" 2>/dev/null; do
        ((SECONDS < limit && SECONDS < DEADLINE)) || { say "timed out waiting for $what"; return 1; }
        sleep 0.1
    done
}

ip netns add "$P-srv"
ip -n "$P-srv" link set lo up
ip -n "$P-srv" link add br0 type bridge
ip -n "$P-srv" addr add "$NET.1/24" dev br0
ip -n "$P-srv" link set br0 up
for i in 1 2 3; do
    host=c$i
    ip netns add "$P-$host"
    ip -n "$P-srv" link add "v$host" type veth peer name eth0 netns "$P-$host"
    ip -n "$P-srv" link set "v$host" master br0 up
    ip -n "$P-$host" link set lo up
    ip -n "$P-$host" addr add "$NET.1$i/24" dev eth0
    ip -n "$P-$host" link set eth0 up
    touch "$WORK/ns/mnt-$host" "$WORK/ns/uts-$host"
    unshare --mount="$WORK/ns/mnt-$host" --propagation private true
    unshare --uts="$WORK/ns/uts-$host" hostname "$P-$host"
done

if [[ $FS == sshfs ]]; then
    # Server: key-only sshd with its own config, exporting $WORK/export.
    ssh-keygen -q -t ed25519 -N '' -f "$WORK/ssh/host_key"
    ssh-keygen -q -t ed25519 -N '' -f "$WORK/ssh/id"
    cp "$WORK/ssh/id.pub" "$WORK/ssh/authorized_keys"
    cat > "$WORK/ssh/sshd_config" <<EOF
Port $PORT
ListenAddress $NET.1
HostKey $WORK/ssh/host_key
PidFile $WORK/ssh/sshd.pid
AuthorizedKeysFile $WORK/ssh/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
MaxStartups 100
Subsystem sftp internal-sftp
EOF
    mkdir -p /run/sshd
    ip netns exec "$P-srv" "$SSHD" -f "$WORK/ssh/sshd_config" -E "$WORK/logs/sshd.log"
    wait_for 10 "sshd" test -s "$WORK/ssh/sshd.pid" || die "sshd did not start"
    echo "pid $(cat "$WORK/ssh/sshd.pid")" >> "$STATE"
fi

# Server for --gluster: glusterd in the server's network namespace and in a mount namespace of its
# own, where the folders it writes whatever its configuration says (/var/lib/glusterd,
# /run/gluster, /var/log/glusterfs) are temp folders bound over them. One brick, force-created in
# the temp folder; the server sees the volume through its own FUSE mount at $WORK/export, which
# is where the script prepares and checks the queue (never in the brick).
start_gluster() {
    local gd=$WORK/gd
    # The gluster CLI, talking to our glusterd over its own socket in the server's namespaces.
    GLUSTER=(nsenter "--net=/run/netns/$P-srv" "--mount=$WORK/ns/mnt-srv" gluster --mode=script
             "--glusterd-sock=$gd/glusterd.socket" "--log-file=$WORK/logs/gluster-cli.log")
    mkdir -p "$gd"/{lib,run,log,brick}
    cp -a /var/lib/glusterd/. "$gd/lib/" 2>/dev/null || true
    touch "$WORK/ns/mnt-srv"
    unshare --mount="$WORK/ns/mnt-srv" --propagation private true
    mkdir -p /var/lib/glusterd /run/gluster /var/log/glusterfs
    nsenter --mount="$WORK/ns/mnt-srv" mount --bind "$gd/lib" /var/lib/glusterd
    nsenter --mount="$WORK/ns/mnt-srv" mount --bind "$gd/run" /run/gluster
    nsenter --mount="$WORK/ns/mnt-srv" mount --bind "$gd/log" /var/log/glusterfs
    cat > "$gd/glusterd.vol" <<EOF
volume management
    type mgmt/glusterd
    option working-directory $gd/lib
    option run-directory $gd/run
    option logging-directory $gd/log
    option glusterd-sockfile $gd/glusterd.socket
    option transport-type socket
    option transport.address-family inet
    option transport.socket.bind-address $NET.1
    option transport.socket.listen-port 24007
    option transport.socket.read-fail-log off
    option ping-timeout 0
    option event-threads 1
    option max-port 60999
end-volume
EOF
    nsenter --net="/run/netns/$P-srv" --mount="$WORK/ns/mnt-srv" \
        glusterd -f "$gd/glusterd.vol" -p "$gd/glusterd.pid" -l "$WORK/logs/glusterd.log" \
        || die "glusterd did not start"
    wait_for 20 "glusterd" test -s "$gd/glusterd.pid" || die "glusterd wrote no pid file"
    echo "pid $(cat "$gd/glusterd.pid")" >> "$STATE"
    wait_for 20 "glusterd to answer" "${GLUSTER[@]}" volume list || die "glusterd does not answer"
    "${GLUSTER[@]}" volume create "$VOL" "$NET.1:$gd/brick" force >/dev/null \
        || die "gluster volume create failed"
    # The client-side caching translators off: with them on, concurrent claims and moves on this
    # GlusterFS (10.x) now and then lost an item or gave one to two hosts (see docs/SCALE-OUT.md).
    local opt
    for opt in open-behind stat-prefetch quick-read io-cache read-ahead readdir-ahead write-behind; do
        "${GLUSTER[@]}" volume set "$VOL" "performance.$opt" off >/dev/null || die "gluster volume set $opt failed"
    done
    "${GLUSTER[@]}" volume start "$VOL" >/dev/null || die "gluster volume start failed"
    local brick_pid
    brick_pid=$(cat "$gd"/run/vols/"$VOL"/*.pid 2>/dev/null | head -n1)
    [[ -n $brick_pid ]] && echo "pid $brick_pid" >> "$STATE"
    local listening
    listening=$(ip netns exec "$P-srv" ss -ltnH | awk '{print $4}' | sort | tr '\n' ' ')
    say "glusterd and the brick listen on: $listening"
    if ip netns exec "$P-srv" ss -ltnH | awk '{print $4}' | grep -qvE "^$NET\.1:"; then
        die "something of gluster's listens beyond $NET.1: $listening"
    fi
    gluster_mount root "$WORK/export"
    wait_for 30 "the server's own mount" mountpoint -q "$WORK/export" || die "the server could not mount the volume"
}

gluster_mount() { # gluster_mount HOST|root MNT: the FUSE client, in the foreground (so $! is it)
    local host=$1 mnt=$2 ns
    if [[ $host == root ]]; then ns=(--net="/run/netns/$P-srv"); else read -ra ns <<< "$(ns_of "$host")"; fi
    # Kernel caches off: a name another host just renamed must not be served from a cache.
    nsenter "${ns[@]}" glusterfs -N --volfile-server="$NET.1" --volfile-id="$VOL" \
        --attribute-timeout=0 --entry-timeout=0 --negative-timeout=0 \
        --log-file="$WORK/logs/glusterfs-$host.log" "$mnt" &
    CLIENT[$host]=$!
    echo "pid $!" >> "$STATE"
}

declare -A CLIENT
if [[ $FS == glusterfs ]]; then
    start_gluster
fi

mount_client() { # mount_client HOST: mount the queue at $WORK/q in that host, no reconnect
    local host=$1
    # A dead FUSE mount (ENOTCONN) stays until unmounted: clear it first.
    in_host "$host" fusermount -u -z "$WORK/q" 2>/dev/null || true
    if [[ $FS == glusterfs ]]; then
        gluster_mount "$host" "$WORK/q"
        wait_for 30 "glusterfs on $host" in_host "$host" mountpoint -q "$WORK/q" || die "glusterfs did not mount on $host"
        return
    fi
    # nsenter straight from `&`, not through a function, so $! is the process itself.
    # shellcheck disable=SC2046
    nsenter $(ns_of "$host") sshfs "root@$NET.1:$WORK/export" "$WORK/q" -f -o "port=$PORT,IdentityFile=$WORK/ssh/id,BatchMode=yes,StrictHostKeyChecking=no,UserKnownHostsFile=/dev/null,LogLevel=ERROR,dir_cache=no,entry_timeout=0,attr_timeout=0,ServerAliveInterval=2,ServerAliveCountMax=2" \
        > "$WORK/logs/sshfs-$host.log" 2>&1 &
    echo "pid $!" >> "$STATE"
    wait_for 20 "sshfs on $host" in_host "$host" mountpoint -q "$WORK/q" || die "sshfs did not mount on $host"
}
for host in c1 c2 c3; do mount_client "$host"; done
say "3 hosts mount the queue over $FS ($(in_host c1 stat -f -c %T "$WORK/q"), $(in_host c1 awk -v m="$WORK/q" '$5 == m {print $(NF-2)}' /proc/self/mountinfo))"

# ---------------------------------------------------------------- helpers
Q=$WORK/q       # the queue, as every client sees it
E=$WORK/export  # the same folder on the server's disk, for checking

reset_queue() { # reset_queue N: a fresh queue with N items and short heartbeats
    rm -rf "${E:?}"/* "$E"/_meta "$WORK"/logs/job-*
    "$FSQ" init "$E" >/dev/null
    cat > "$E/_meta/config.toml" <<EOF
[worker]
workers = 2
heartbeat = "$HB"
heartbeat_timeout = "${HB_TIMEOUT}s"
max_attempts = 5
# sshfs reports no ctime of its own, so a file renamed in looks like one written in place and
# waits out the quiet period (60 s by default on network filesystems); these producers rename.
quiet_period = "2s"
EOF
    # Items are written straight into new/ and renamed into the root, as a producer does.
    (cd "$E/new" && seq -f "item-%05g" 1 "$1" | xargs touch)
    (cd "$E/new" && for f in item-*; do mv "$f" ../; done)
}

declare -A WORKER
start_worker() { # start_worker HOST [faketime OFFSET] -- the job appends "host item" to a local log
    local host=$1; shift
    local pre=()
    # libfaketime (what `faketime` preloads) straight away, so the pid is fsq's own.
    [[ ${1:-} == faketime ]] && pre=(env "LD_PRELOAD=$FAKETIME_LIB" "FAKETIME=$2")
    # shellcheck disable=SC2046
    nsenter $(ns_of "$host") "${pre[@]}" "$FSQ" work "$Q" -- sh -c "${JOB_SLEEP:+sleep $JOB_SLEEP; }"'echo "$0 $1" >> "$2"' \
        "$host" "{name}" "$WORK/logs/job-$host" > "$WORK/logs/work-$host.log" 2>&1 &
    WORKER[$host]=$!
    echo "pid $!" >> "$STATE"
}

stop_workers() {
    local host
    for host in "${!WORKER[@]}"; do kill -TERM "${WORKER[$host]}" 2>/dev/null || true; done
    for host in "${!WORKER[@]}"; do wait "${WORKER[$host]}" 2>/dev/null || true; done
    WORKER=()
}

count() { find "$E/$1" -type f ! -name '.*' 2>/dev/null | wc -l; }
done_all() { (( $(count success) >= $1 )); }

check_queue_clean() { # check_queue_clean N WHAT: N in success/, nothing anywhere else
    local n=$1 what=$2 s p pr f d
    s=$(count success); p=$(find "$E" -maxdepth 1 -type f ! -name '.*' | wc -l)
    pr=$(count process); f=$(count failed); d=$(count delayed)
    if ((s == n && p == 0 && pr == 0 && f == 0 && d == 0)); then
        pass "$what: all $n items in success/, none pending, in process/, failed/ or delayed/"
    else
        fail "$what: success=$s/$n pending=$p process=$pr failed=$f delayed=$d"
    fi
}

runs_by_host() { cat "$WORK"/logs/job-* 2>/dev/null | awk '{print $1}' | sort | uniq -c | tr '\n' ' '; }
twice() { cat "$WORK"/logs/job-* 2>/dev/null | awk '{print $2}' | sort | uniq -d | wc -l; }
distinct_runs() { cat "$WORK"/logs/job-* 2>/dev/null | awk '{print $2}' | sort -u | wc -l; }

all_alive_from() { # all_alive_from HOST [faketime OFF]: fsq status there says every worker is alive
    local host=$1; shift
    local pre=()
    [[ ${1:-} == faketime ]] && pre=(faketime -f "$2")
    in_host "$host" "${pre[@]}" "$FSQ" status "$Q" --json > "$WORK/logs/status-$host.json"
    python3 - "$WORK/logs/status-$host.json" <<'EOF'
import json, sys
workers = json.load(open(sys.argv[1]))["workers"]
down = [w["id"] for w in workers if w["health"] != "alive"]
sys.exit(1 if down or len(workers) < 3 else 0)
EOF
}

# ---------------------------------------------------------------- benchmark mode
if [[ $MODE == bench ]]; then
    N=${BENCH_ITEMS:-2000}
    rate() { python3 -c "print(f'{$1 / ($2):.0f}')"; }
    bench_local() {
        local d=$WORK/local t0 t1
        rm -rf "$d"; "$FSQ" init "$d" >/dev/null
        (cd "$d" && seq -f "item-%05g" 1 "$N" | xargs touch)
        t0=$(date +%s.%N); "$FSQ" work "$d" --drain --workers 2 -- true 2>/dev/null; t1=$(date +%s.%N)
        say "local disk, 1 worker x 2 slots: $N items in $(python3 -c "print(f'{$t1-$t0:.2f}')")s = $(rate "$N" "$t1-$t0") items/s"
    }
    bench_hosts() {
        local hosts=("$@") t0 t1 h pids=()
        reset_queue "$N"
        t0=$(date +%s.%N)
        for h in "${hosts[@]}"; do
            # shellcheck disable=SC2046
            nsenter $(ns_of "$h") "$FSQ" work "$Q" --drain --workers 2 -- true > "$WORK/logs/bench-$h.log" 2>&1 &
            pids+=($!)
            echo "pid $!" >> "$STATE"
        done
        wait_for 600 "bench drain" done_all "$N" || die "bench did not finish"
        t1=$(date +%s.%N)
        wait "${pids[@]}" || true
        say "$FS, ${#hosts[@]} host(s) x 2 slots: $N items in $(python3 -c "print(f'{$t1-$t0:.2f}')")s = $(rate "$N" "$t1-$t0") items/s"
    }
    bench_local
    bench_hosts c1
    bench_hosts c1 c2
    bench_hosts c1 c2 c3
    exit 0
fi

SCENARIOS=" ${MULTIHOST_SCENARIOS:-0 1 2 3 4} "
want() { [[ $SCENARIOS == *" $1 "* ]]; }

# ---------------------------------------------------------------- 0: fsq check over the mount
if want 0 && [[ $FS == sshfs ]]; then
    say "scenario 0: fsq check on the sshfs mount passes; on a host an hour ahead it names the skew"
    reset_queue 1
    in_host c1 "$FSQ" check "$Q" > "$WORK/logs/check-c1.log" 2>&1 \
        || die "fsq check on c1: $(cat "$WORK/logs/check-c1.log")"
    grep -q "fuse.sshfs" "$WORK/logs/check-c1.log" || die "fsq check did not see sshfs: $(cat "$WORK/logs/check-c1.log")"
    # It read sshfs's own options (dir_cache=no above), not just guessed.
    if grep -q "not visible" "$WORK/logs/check-c1.log"; then
        die "fsq check could not find the sshfs process: $(cat "$WORK/logs/check-c1.log")"
    fi
    if in_host c3 faketime -f +1h "$FSQ" check "$Q" > "$WORK/logs/check-c3.log" 2>&1; then
        die "fsq check on c3 (an hour ahead) passed: $(cat "$WORK/logs/check-c3.log")"
    fi
    grep -q "clock is 3600" "$WORK/logs/check-c3.log" || die "fsq check on c3: $(cat "$WORK/logs/check-c3.log")"
    pass "fsq check: healthy over sshfs with dir_cache=no; on c3, an hour ahead: $(grep -o "clock is [0-9.]*s behind" "$WORK/logs/check-c3.log")"
fi

if want 1; then
# ---------------------------------------------------------------- 1: 2,000 items, 3 hosts
N=2000
say "scenario 1: $N items, one worker on each of 3 hosts, c3's clock an hour ahead"
reset_queue "$N"
start_worker c1
start_worker c2
start_worker c3 faketime +1h
sleep 2
c3_id=$(basename "$(find "$E/_meta/workers" -name "$P-c3-*" | head -n1)")
c3_ahead=$(python3 -c "import time; print(int(${c3_id##*-} / 1000 - time.time()))")
say "c3's worker id $c3_id: its clock is ${c3_ahead}s ahead"
alive_ok=1
((c3_ahead > 3000)) || alive_ok=0
for probe in 1 2 3; do
    all_alive_from c1 || alive_ok=0
    all_alive_from c3 faketime +1h || alive_ok=0
    sleep 1
done
wait_for 300 "all $N items" done_all "$N" || true
stop_workers
check_queue_clean "$N" "3 hosts"
if (( $(twice) == 0 && $(distinct_runs) == N )); then
    pass "3 hosts: every item ran exactly once (runs per host: $(runs_by_host))"
else
    fail "3 hosts: $(twice) items ran twice, $(distinct_runs)/$N ran (runs per host: $(runs_by_host))"
fi
if ((alive_ok)) && ! grep -q "recovered" "$WORK"/logs/work-c*.log; then
    pass "clock skew: c3 an hour ahead saw the others alive and they saw it alive; nothing recovered"
else
    fail "clock skew: a worker was judged down or something was recovered (see $WORK/logs)"
fi

fi

if want 2; then
# ---------------------------------------------------------------- 2: kill -9 a worker
N=600
say "scenario 2: kill -9 the worker on c1 mid-run; c2 recovers its claims"
reset_queue "$N"
JOB_SLEEP=0.05
start_worker c1
start_worker c2
wait_for 60 "progress" bash -c "(( \$(find '$E/success' -type f | wc -l) >= 100 ))" || true
victim=${WORKER[c1]}
claims_dir=$(find "$E/process" -maxdepth 1 -name "$P-c1-$victim-*" | head -n1)
[[ -n $claims_dir ]] || claims_dir=$E/process/none
held=$(find "$claims_dir" -type f 2>/dev/null | wc -l || true)
((held > 0)) || fail "kill -9: c1 held no claims when killed (nothing to recover)"
kill -9 "$victim"
t_kill=$(date +%s.%N)
unset 'WORKER[c1]'
limit=$((2 * HB_TIMEOUT))
if wait_for $((limit + 5)) "recovery of c1's claims" bash -c "! find '$claims_dir' -type f 2>/dev/null | grep -q ."; then
    took=$(python3 -c "import time; print(f'{time.time() - $t_kill:.2f}')")
    if python3 -c "import sys; sys.exit(0 if $took <= $limit else 1)"; then
        pass "kill -9: c1's $held claim(s) recovered by c2 in ${took}s (limit 2 x ${HB_TIMEOUT}s = ${limit}s)"
    else
        fail "kill -9: recovery took ${took}s, over 2 x ${HB_TIMEOUT}s"
    fi
else
    fail "kill -9: c1's claims were not recovered"
fi
wait_for 120 "drain after kill" done_all "$N" || true
stop_workers
check_queue_clean "$N" "kill -9"
if (( $(distinct_runs) == N )); then
    pass "kill -9: every item ran (twice: $(twice), the jobs c1 had running)"
else
    fail "kill -9: only $(distinct_runs)/$N items ran"
fi
unset JOB_SLEEP
fi

if want 3; then
# ---------------------------------------------------------------- 3: cut a client's connection
N=900
say "scenario 3: cut c3's connection mid-run; it stops claiming, the others go on"
reset_queue "$N"
JOB_SLEEP=0.05
start_worker c1
start_worker c2
start_worker c3
wait_for 60 "progress" bash -c "(( \$(find '$E/success' -type f | wc -l) >= 100 ))" || true
if [[ $FS == glusterfs ]]; then
    # Kill c3's FUSE client: its mount stays, dead, and every call on it fails with ENOTCONN.
    kill -9 "${CLIENT[c3]}"
else
    # Kill c3's sshd session: sshfs (no reconnect) exits, leaving the empty folder underneath.
    for pid in $(ip netns exec "$P-srv" ss -tnpH state established dst "$NET.13" | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); do
        kill -9 "$pid" 2>/dev/null || true
    done
fi
if wait_for 20 "c3's mount to go" bash -c "! nsenter --net=/run/netns/$P-c3 --mount=$WORK/ns/mnt-c3 mountpoint -q $Q" \
    && wait_for 10 "c3's notice" grep -aq "MOUNT LOST" "$WORK/logs/work-c3.log"; then
    pass "cut: c3's worker says: $(grep -a -m1 -o 'MOUNT LOST: .*' "$WORK/logs/work-c3.log" | cut -c1-160)"
else
    fail "cut: c3's worker did not notice its mount was gone"
fi
before=$(grep -c . "$WORK/logs/job-c3" 2>/dev/null || echo 0)
wait_for 180 "the others to finish" done_all "$N" || true
after=$(grep -c . "$WORK/logs/job-c3" 2>/dev/null || echo 0)
if ((after - before <= 2)) && kill -0 "${WORKER[c3]}" 2>/dev/null; then
    pass "cut: c3 claimed nothing while its mount was gone, and its worker is still waiting"
else
    fail "cut: c3 ran $((after - before)) job(s) after the cut, or its worker died"
fi
check_queue_clean "$N" "cut (while c3 is cut off)"
if [[ ! -e $WORK/q/_meta ]] && ! find "$WORK/q" -mindepth 1 | grep -q .; then
    pass "cut: c3 wrote nothing into the empty local folder under its dead mount"
else
    fail "cut: files appeared in c3's local folder under the dead mount"
fi
say "remounting c3 and adding 100 items"
mount_client c3
(cd "$E/new" && seq -f "late-%05g" 1 100 | xargs touch && for f in late-*; do mv "$f" ../; done)
wait_for 30 "c3 to resume" grep -aq "mount is back" "$WORK/logs/work-c3.log" || true
wait_for 120 "the late items" done_all $((N + 100)) || true
late_c3=$(grep -c '^c3 late-' "$WORK/logs/job-c3" 2>/dev/null || echo 0)
stop_workers
if grep -aq "mount is back" "$WORK/logs/work-c3.log" && ((late_c3 > 0)); then
    pass "cut: after the remount c3 resumed and ran $late_c3 of the 100 new items"
else
    fail "cut: c3 did not resume after the remount (ran $late_c3 new items)"
fi
N=$((N + 100))
check_queue_clean "$N" "cut and remount"
if (( $(distinct_runs) == N )); then
    pass "cut: every item ran (twice: $(twice), the jobs c3 had running at the cut)"
else
    fail "cut: only $(distinct_runs)/$N items ran"
fi
unset JOB_SLEEP
fi

if want 4; then
# ---------------------------------------------------------------- 4: freeze and cancel across hosts
say "scenario 4: a job on c1 frozen, thawed and cancelled from c2"
proc_state() { awk '{print $3}' "/proc/$1/stat" 2>/dev/null; }
gone() { local st; st=$(proc_state "$1"); [[ -z $st || $st == Z ]]; }
is_state() { [[ $(proc_state "$1") == "$2" ]]; }
reset_queue 1
rm -f "$WORK/logs/ctl-pids"
# The job starts a grandchild and writes both pids (one pid namespace for all hosts).
# shellcheck disable=SC2046
nsenter $(ns_of c1) "$FSQ" work "$Q" -- sh -c 'sleep 300 & echo $! >> "$0"; echo $$ >> "$0"; wait' \
    "$WORK/logs/ctl-pids" > "$WORK/logs/work-c1.log" 2>&1 &
WORKER[c1]=$!
echo "pid $!" >> "$STATE"
if wait_for 30 "c1's job" bash -c "(( \$(wc -l < '$WORK/logs/ctl-pids') == 2 ))"; then
    read -r -d '' child job < "$WORK/logs/ctl-pids" || true
    if in_host c2 "$FSQ" freeze "$Q" item-00001 2>> "$WORK/logs/ctl.log" \
        && wait_for 5 "the freeze" is_state "$job" T && is_state "$child" T \
        && in_host c2 "$FSQ" status "$Q" | grep -q "(frozen)"; then
        pass "cross-host freeze: c2 froze c1's job, both processes of its group are stopped (T)"
    else
        fail "cross-host freeze: c1's job is $(proc_state "$job")/$(proc_state "$child")"
    fi
    if in_host c2 "$FSQ" thaw "$Q" 2>> "$WORK/logs/ctl.log" \
        && wait_for 5 "the thaw" is_state "$job" S && is_state "$child" S; then
        pass "cross-host thaw: c1's job runs again"
    else
        fail "cross-host thaw: c1's job is $(proc_state "$job")/$(proc_state "$child")"
    fi
    in_host c2 "$FSQ" pause-workers "$Q"
    t0=$(date +%s.%N)
    in_host c2 "$FSQ" cancel "$Q" item-00001 2>> "$WORK/logs/ctl.log" || true
    if wait_for 5 "the cancelled group" bash -c "$(declare -f proc_state gone); gone $job && gone $child"; then
        took=$(python3 -c "import time; print(f'{time.time() - $t0:.2f}')")
        if find "$E" -maxdepth 1 -type f -name '*item-00001' | grep -q . && python3 -c "import sys; sys.exit(0 if $took <= 1.0 else 1)"; then
            pass "cross-host cancel: c1's job group gone ${took}s after c2's fsq cancel, item back in pending"
        else
            fail "cross-host cancel: took ${took}s, or the item is not pending ($(ls "$E" | tr '\n' ' '))"
        fi
    else
        fail "cross-host cancel: c1's job is still there"
    fi
else
    fail "cross-host controls: c1's job did not start"
fi
stop_workers
fi

# ---------------------------------------------------------------- summary
echo
echo "multihost summary ($FS, 3 client hosts, heartbeat $HB, timeout ${HB_TIMEOUT}s):"
printf '  %s\n' "${SUMMARY[@]}"
if ((FAILS)); then
    echo "multihost: $FAILS check(s) FAILED; logs were in $WORK/logs"
    cp -r "$WORK/logs" "/tmp/$P-logs.$$" 2>/dev/null && echo "multihost: logs kept in /tmp/$P-logs.$$"
    exit 1
fi
echo "multihost: all checks passed"
