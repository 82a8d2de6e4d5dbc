"""What the tests of real programs (redis.py, pipeline.py) share: criu run
in the test's directory, and a main() that runs a round with a plain dump
and one with --leave-running, as a child subreaper (the restored programs
are children of criu's, which goes: ours to reap)."""
import argparse
import ctypes
import os
import shutil
import subprocess
import sys

from runner import Failure

PR_SET_CHILD_SUBREAPER = 36


def criu(args, *argv):
    res = subprocess.run([args.criu, *argv], cwd=args.workdir, stdin=subprocess.DEVNULL, capture_output=True,
                         text=True)
    if res.returncode != 0:
        raise Failure(f"criu {' '.join(argv)} failed ({res.returncode}):\n{res.stderr}")


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
