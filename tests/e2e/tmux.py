#!/usr/bin/env python3
"""tmux, dumped and restored: a terminal multiplexer's server and the shell
it runs in a pty.

  tmux.py --criu CRIU --workdir DIR

Starts a tmux server on its own socket in DIR with a session that runs
bash, types a command into it, dumps the tree (the server, which holds the
pty's master, and bash, which leads a session on its slave, its stdin,
stdout and stderr), which kills it, and restores it: what is seen from
outside of both must be the same, the pane must still show what it showed,
and a command typed after the restore must run in the same shell (its
variables kept) and show its output.  Then again with a dump with
--leave-running, after which the old tree is killed and the images
restored all the same.  Prints PASS at the end.
"""
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from realprogram import dump, end_all, main, restore  # noqa: E402
from runner import Failure, agrees, outside_tree, steady, tree_of, wait_for  # noqa: E402


def tmux(args, *argv):
    res = subprocess.run(["tmux", "-S", os.path.join(args.workdir, "tmux.sock"), *argv], stdin=subprocess.DEVNULL,
                         capture_output=True, text=True, timeout=30)
    if res.returncode != 0:
        raise Failure(f"tmux {' '.join(argv)} failed: {res.stderr.strip()}")
    return res.stdout


def pane(args):
    return tmux(args, "capture-pane", "-p", "-t", "e2e").rstrip("\n").splitlines()


def typed(args, command, shows):
    """Types command into the pane; waits until a line of it shows shows."""
    tmux(args, "send-keys", "-t", "e2e", command, "Enter")
    wait_for(lambda: shows in pane(args), f"the pane to show {shows!r}")


def one_round(args, leave_running):
    if not shutil.which("tmux"):
        raise Failure("tmux is not installed (scripts/install-deps installs it)")
    tmux(args, "-f", "/dev/null", "new-session", "-d", "-s", "e2e", "-x", "100", "-y", "30",
         "env -i PS1='$ ' TERM=screen bash --norc --noprofile")
    server = int(tmux(args, "display-message", "-p", "#{pid}"))
    try:
        wait_for(lambda: len(tree_of(server)) == 2, "the server and its shell")
        typed(args, "answer=$((6 * 7)); echo before-$answer", "before-42")
        shown = pane(args)
        wait_for(lambda: pane(args) == shown and time.sleep(0.1) is None and pane(args) == shown,
                 "the pane to settle")
        tree = tree_of(server)
        before = steady(lambda: outside_tree(server), "the tmux server to close its clients' connections")
        images = dump(args, server, leave_running)
        if leave_running and pane(args) != shown:
            raise Failure("after a dump with --leave-running, the pane shows something else")
        end_all(tree, "the dumped tree to end")  # with --leave-running, killed here
        restore(args, images)
        agrees(before, lambda: outside_tree(server), False)
        if pane(args) != shown:
            raise Failure(f"the restored pane shows {pane(args)!r}, not {shown!r}")
        typed(args, "echo after-$answer", "after-42")
        print(f"ok: tmux {'(--leave-running) ' if leave_running else ''}restored as server {server} with its shell "
              f"{tree[1]}: the pane as it was, and the shell answers")
    finally:
        end_all(tree_of(server), "tmux to end")


if __name__ == "__main__":
    main(__doc__, one_round)
