#!/usr/bin/env python3
"""A shell pipeline, dumped and restored: a tree whose processes share a
pipe.

  pipeline.py --criu CRIU --workdir DIR

Runs `bash -c 'while :; do date; sleep 0.2; done | cat > FILE'`, dumps the
whole tree (bash, the loop's subshell, cat, and the sleep of the moment),
which kills it, restores it, and checks that FILE keeps growing, by whole
lines, from where it was; then again with --leave-running.  Prints PASS at
the end.
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from realprogram import dump, end_all, main, restore  # noqa: E402
from runner import Failure, tree_of, wait_for  # noqa: E402


def lines(path):
    with open(path) as f:
        text = f.read()
    if text and not text.endswith("\n"):
        text = text[:text.rindex("\n") + 1] if "\n" in text else ""
    return text.splitlines()


def dumped_position(args, images, path):
    """Where the dumped tree was in the file at path (its offset)."""
    res = subprocess.run([args.criu, "show", os.path.join(images, "files.img")], capture_output=True, text=True,
                         check=True)
    positions = [e["reg"]["pos"] for e in json.loads(res.stdout)["entries"] if e.get("reg", {}).get("path") == path]
    if not positions:
        raise Failure(f"files.img has no file {path}")
    return max(positions)


def one_round(args, leave_running):
    out = os.path.join(args.workdir, "dates")
    if os.path.exists(out):
        os.unlink(out)
    shell = subprocess.Popen(["bash", "-c", f"while :; do date +%s.%N; sleep 0.2; done | cat > {out}"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             close_fds=True)
    pid = shell.pid
    try:
        wait_for(lambda: os.path.exists(out) and len(lines(out)) >= 3, "the pipeline to write 3 lines")
        procs = tree_of(pid)
        images = dump(args, pid, leave_running)
        end_all(procs, "the dumped pipeline to be gone")  # with --leave-running, killed here
        if leave_running:
            # What the pipeline wrote between the dump and the kill is not
            # the images': the restored cat writes from where it was then.
            os.truncate(out, dumped_position(args, images, out))
        before = lines(out)
        restore(args, images)
        wait_for(lambda: len(lines(out)) >= len(before) + 3, "the restored pipeline to write 3 more lines")
        after = lines(out)
        if after[:len(before)] != before:
            raise Failure("the restored pipeline changed what was written before the dump")
        stamps = [float(line) for line in after]
        if stamps != sorted(stamps):
            raise Failure("the lines are not in order")
        print(f"ok: the pipeline {'(--leave-running) ' if leave_running else ''}of {len(procs)} processes "
              f"wrote {len(after) - len(before)} lines after its restore, {len(before)} before")
    finally:
        end_all(tree_of(pid), "the pipeline to end")


if __name__ == "__main__":
    main(__doc__, one_round)
