#!/usr/bin/env python3
"""criu dump and restore speed, on a process of N MiB, or on a tree.

  criu-bench.py --criu CRIU --memhog MEMHOG --workdir DIR [--sizes 64,512,2048]
                [--tree PROCS [--cow]] [--runs 5] [--baseline FILE] [--save FILE]

For each size, --runs times: start memhog (half random, half written
zeros), dump it (killing it), restore it, and check that it finds its
memory intact.  Prints the medians of the wall time of `criu dump` and
`criu restore`, the time the process was frozen (stats-dump.img), the
bytes of the images, and MiB/s (the process's size over the time).

On these VMs the page cache for the images costs far more when it comes
from memory that was not page cache a moment before, which the numbers
at 2 GiB show (docs/testing.md, "Benchmarks").

With --tree PROCS, memhog is a tree of PROCS processes, each of --sizes
MiB (one size, 4 by default): the numbers are for the whole tree, against
the goal of half a second each way for 100 processes of 4 MiB.  With
--cow, the root fills its memory before it forks and the others share it
copy-on-write: the MiB are the root's (the images hold them once).

Regressions get noticed: --baseline compares with a saved result (from
--save) and marks every median more than 15% slower.  A benchmark
measures, it does not fail: only a broken dump or restore makes it exit
non-zero.
"""
import argparse
import ctypes
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time

GOAL_GIB_S = 2.5       # dump and restore at 2 GiB, on the 2-core CI machine
GOAL_FROZEN_S = 1.0    # frozen at 2 GiB
GOAL_TREE_S = 0.5      # dump, and restore, of a tree of 100 processes of 4 MiB


def wait_for(predicate, what, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.005)
    sys.exit(f"criu-bench: timed out waiting for {what}")


def read(path):
    with open(path) as f:
        return f.read()


def stats(criu, images, name):
    out = subprocess.run([criu, "show", os.path.join(images, name)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)["entries"][0]


def timed(cmd, cwd):
    start = time.monotonic()
    res = subprocess.run(cmd, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    took = time.monotonic() - start
    if res.returncode != 0:
        sys.exit(f"criu-bench: {' '.join(cmd)} failed:\n{res.stderr}")
    return took


def reap_orphans():
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def one_run(args, mib):
    work = os.path.join(args.workdir, f"{mib}")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    pidfile, outfile, images = (os.path.join(work, n) for n in ("pid", "out", "images"))
    prog = subprocess.Popen([args.memhog, "--mib", str(mib), "--procs", str(args.tree or 1), "--pidfile", pidfile,
                             "--outfile", outfile] + (["--cow"] if args.cow else []),
                            cwd=work, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, close_fds=True)
    wait_for(lambda: os.path.exists(pidfile), f"memhog to fill {mib} MiB")
    pid = int(read(pidfile))
    dump_s = timed([args.criu, "dump", "-t", str(pid), "-D", images, "-o", "dump.log"], work)
    prog.wait()
    reap_orphans()  # a tree's children, killed by the dump
    image_bytes = sum(os.path.getsize(os.path.join(images, n)) for n in os.listdir(images) if n.endswith(".img"))
    restore_s = timed([args.criu, "restore", "-D", images, "-d", "-o", "restore.log"], work)
    os.kill(pid, signal.SIGTERM)
    os.waitpid(pid, 0)  # a child of ours: we are its subreaper
    verdict = read(outfile).strip()
    if verdict != "PASS":
        sys.exit(f"criu-bench: the restored {mib} MiB process says: {verdict}")
    frozen_s = stats(args.criu, images, "stats-dump.img")["dump"]["frozen_time"] / 1e6
    shutil.rmtree(work)
    return {"dump_s": dump_s, "restore_s": restore_s, "frozen_s": frozen_s, "image_bytes": image_bytes}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--criu", required=True)
    p.add_argument("--memhog", required=True)
    p.add_argument("--workdir", required=True)
    p.add_argument("--sizes", help="MiB of each process (default: 64,512,2048; 4 with --tree)")
    p.add_argument("--tree", type=int, help="a tree of this many processes")
    p.add_argument("--cow", action="store_true", help="with --tree: the processes share the root's memory")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--baseline", help="a --save file to compare with")
    p.add_argument("--save", help="write the medians here (JSON)")
    args = p.parse_args()
    args.sizes = args.sizes or ("4" if args.tree else "64,512,2048")
    args.criu, args.memhog, args.workdir = map(os.path.abspath, (args.criu, args.memhog, args.workdir))
    if ctypes.CDLL(None).prctl(36, 1, 0, 0, 0) != 0:  # PR_SET_CHILD_SUBREAPER: restored processes are ours
        sys.exit("criu-bench: cannot become a child subreaper")
    baseline = json.loads(read(args.baseline)) if args.baseline and os.path.exists(args.baseline) else {}

    if args.cow and not args.tree:
        sys.exit("criu-bench: --cow is for a tree (--tree PROCS)")
    what = f"a tree of {args.tree} processes" if args.tree else "a process"
    what += " sharing the root's memory copy-on-write" if args.cow else ""
    print(f"criu dump/restore, medians of {args.runs} runs ({what}, half random, half zero pages)")
    print(f"{'MiB':>6} {'dump s':>8} {'MiB/s':>7} {'restore s':>9} {'MiB/s':>7} {'frozen s':>8} {'image MiB':>9}")
    results = {}
    for mib in (int(s) for s in args.sizes.split(",")):
        runs = [one_run(args, mib) for _ in range(args.runs)]
        m = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        key = (f"{args.tree}x{mib}" + ("cow" if args.cow else "")) if args.tree else str(mib)
        results[key] = m
        slower = [k for k in ("dump_s", "restore_s", "frozen_s")
                  if key in baseline and m[k] > baseline[key][k] * 1.15]
        total = mib * (1 if args.cow else args.tree or 1)
        print(f"{total:6} {m['dump_s']:8.3f} {total / m['dump_s']:7.0f} {m['restore_s']:9.3f} {total / m['restore_s']:7.0f} "
              f"{m['frozen_s']:8.3f} {m['image_bytes'] / 2**20:9.1f}"
              + (f"   SLOWER than the baseline: {', '.join(slower)}" if slower else ""))
    if "100x4" in results:
        r = results["100x4"]
        print(f"100 processes of 4 MiB: dump {r['dump_s']:.3f} s, restore {r['restore_s']:.3f} s "
              f"(goal < {GOAL_TREE_S} s each)")
    if "2048" in results:
        r = results["2048"]
        print(f"at 2 GiB: dump {2 / r['dump_s']:.2f} GiB/s, restore {2 / r['restore_s']:.2f} GiB/s "
              f"(goal >= {GOAL_GIB_S}), frozen {r['frozen_s']:.3f} s (goal < {GOAL_FROZEN_S})")
    if args.save:
        with open(args.save, "w") as f:
            json.dump(results, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
