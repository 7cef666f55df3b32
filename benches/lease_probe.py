#!/usr/bin/env python3
# How reliable the read-lease probe is that fsq uses to tell whether a file in the queue root is
# still open for writing (src/worker/intake.rs; FORMAT.md, "Files written in place"). For each
# folder given: 10,000 probes while another process holds the file open for writing (all must
# say busy), 10,000 after it closed (all must say free), and 20,000 while another process opens
# and closes it for writing in a tight loop (the probe must never be killed by the lease-break
# signal, routed to SIGURG). The probe is the same system calls as fsq's, from Python.
#   usage: benches/lease_probe.py DIR...     e.g. benches/lease_probe.py /tmp /dev/shm
import fcntl, os, signal, sys, time, subprocess
def probe(p):
    fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    try:
        fcntl.fcntl(fd, 10, signal.SIGURG)
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_RDLCK)
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_UNLCK)
        return "free"
    except OSError as e:
        return "busy" if e.errno == 11 else os.strerror(e.errno)
    finally:
        os.close(fd)
for d in sys.argv[1:]:
    p = f"{d}/leasetest"
    open(p, "w").write("x")
    counts = {}
    w = subprocess.Popen(["python3", "-c", f"import time; f=open('{p}','ab'); time.sleep(30)"])
    time.sleep(0.3)
    t = time.perf_counter()
    for _ in range(10000):
        r = probe(p); counts[("open", r)] = counts.get(("open", r), 0) + 1
    w.kill(); w.wait()
    for _ in range(10000):
        r = probe(p); counts[("closed", r)] = counts.get(("closed", r), 0) + 1
    el = time.perf_counter() - t
    # a writer that opens and closes in a tight loop: the probe must never kill us (SIGURG)
    w = subprocess.Popen(["python3", "-c", f"\nwhile True:\n  open('{p}','ab').close()"])
    mixed = {}
    for _ in range(20000):
        r = probe(p); mixed[r] = mixed.get(r, 0) + 1
    w.kill(); w.wait()
    print(d, counts, f"{el / 20000 * 1e6:.1f} us/probe (python)", "racing opener:", mixed)
    os.unlink(p)
