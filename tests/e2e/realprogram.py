"""What the tests of real programs (redis.py, pipeline.py...) share: criu
run in the test's directory (a dump into DIR/images, its restore), ending
their processes, and a main() that
runs a round with a plain dump and one with --leave-running, as a child
subreaper (the restored programs are children of criu's, which goes: ours
to reap)."""
import argparse
import ctypes
import os
import shutil
import signal
import subprocess
import sys

from runner import Failure, wait_for

PR_SET_CHILD_SUBREAPER = 36


def criu(args, *argv):
    res = subprocess.run([args.criu, *argv], cwd=args.workdir, stdin=subprocess.DEVNULL, capture_output=True,
                         text=True)
    if res.returncode != 0:
        raise Failure(f"criu {' '.join(argv)} failed ({res.returncode}):\n{res.stderr}")


def dump(args, pid, leave_running):
    """criu dump of the tree under pid into a fresh DIR/images, with
    --leave-running or not; the images' directory."""
    images = os.path.join(args.workdir, "images")
    shutil.rmtree(images, ignore_errors=True)
    criu(args, "dump", "-t", str(pid), "-D", images, "-o", "dump.log", "-v4",
         *(["--leave-running"] if leave_running else []))
    return images


def restore(args, images):
    criu(args, "restore", "-D", images, "-d", "-o", "restore.log", "-v4")


def gone(pids):
    """Whether every one of pids has ended and been reaped; reaps what has
    ended (the programs' orphans are ours: main() makes us a subreaper)."""
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:
        pass
    return not any(os.path.exists(f"/proc/{p}") for p in pids)


def end_all(pids, what):
    """Kills those of pids still there and waits until all are gone."""
    for p in pids:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    wait_for(lambda: gone(pids), what)


def main(doc, one_round):
    p = argparse.ArgumentParser(description=doc.split("\n")[0])
    p.add_argument("--criu", required=True)
    p.add_argument("--workdir", required=True)
    args = p.parse_args()
    shutil.rmtree(args.workdir, ignore_errors=True)
    os.makedirs(args.workdir)
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    try:
        one_round(args, leave_running=False)
        one_round(args, leave_running=True)
    except Failure as e:
        print(f"FAIL: {e}")
        sys.exit(1)
    print("PASS")
