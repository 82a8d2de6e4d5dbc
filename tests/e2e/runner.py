#!/usr/bin/env python3
"""Dumps and restores a real test program with criu, and checks it.

  runner.py --criu CRIU --workdir DIR --mode restore|leave-running PROGRAM [ARG...]

The program follows the contract of programs/e2e.h: it sets up a state,
writes its pid to --pidfile, waits for SIGTERM, checks its state and writes
PASS or FAIL to --outfile.  The runner starts it, dumps it, then either
kills it and restores it (restore) or lets it run on (leave-running), sends
SIGTERM and reads the verdict.  A program may have children: the runner
dumps the tree from the program's pid, and SIGTERM goes to that pid only
(the program ends its children and checks their verdicts).  Around the
dump it also compares what can be seen from outside of every process of
the tree, told apart by pid: the pids of the tree, each one's parent,
process group, session and whether it is a zombie, its memory map
(neighbouring VMAs that agree on everything joined), its descriptors,
signal masks and capabilities, and each thread's tid, name, signal mask
and blocked pending signals; any difference fails the test.  Pipes are
compared by which descriptors share one, not by inode number.

With --vdso-elsewhere, criu restore runs without address randomization, so
that the vDSO of the restoring criu is not where the program had its own.
With --sigchld-busy, the program blocks and unblocks SIGCHLD all the time
(bash does, around its bookkeeping of jobs, even in a loop of builtins):
that bit of the signal masks (and of blocked pending signals) is the
moment's, and is left out of the comparison.
With --children-churn, the program's children come and go all the time:
only the program itself is compared (its children are killed and reaped
after a dump all the same).
With --threads-churn, the program's threads come and go all the time, with
their stacks: its threads and memory map are not compared (the program
checks itself).

The runner makes itself a child subreaper: a restored process (whose
parent, criu restore -d, exits) becomes its child, and is reaped here
rather than left a zombie holding its pid.
"""
import argparse
import ctypes
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
STATUS_KEYS = ("Uid", "Gid", "Groups", "SigPnd", "ShdPnd", "SigBlk", "SigIgn", "SigCgt",
               "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp")
THREAD_KEYS = ("Name", "SigPnd", "SigBlk")


class Failure(Exception):
    pass


def read(path):
    with open(path, errors="replace") as f:
        return f.read()


def blocked_only(status):
    """A pending signal that is not blocked is on its way in: only blocked
    ones are state that must survive."""
    blocked = int(status["SigBlk"], 16)
    for key in ("SigPnd", "ShdPnd"):
        if key in status:
            status[key] = f"{int(status[key], 16) & blocked:016x} (blocked ones)"
    return status


def status_of(path, keys):
    return blocked_only(dict(l.split(":\t", 1) for l in read(path).splitlines() if l.split(":")[0] in keys))


def ids(pid):
    """Parent, process group, session, controlling terminal (its device),
    and whether it is a zombie."""
    stat = read(f"/proc/{pid}/stat")
    f = stat[stat.rindex(")") + 2:].split()
    return {"ppid": int(f[1]), "pgid": int(f[2]), "sid": int(f[3]), "tty": int(f[4]), "zombie": f[0] == "Z"}


def tree_of(root):
    """The pids of root and of all its descendants, parents first."""
    pids = [root]
    for pid in pids:
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except FileNotFoundError:
            continue
        for tid in tasks:
            try:
                pids += [int(c) for c in read(f"/proc/{pid}/task/{tid}/children").split()]
            except (FileNotFoundError, ProcessLookupError):
                continue  # the thread has ended meanwhile
    return pids


def outside_tree(root, sigchld_busy=False, children=True):
    """What can be seen of every process of the tree under root (or of root
    alone), by pid."""
    tree = {pid: outside(pid) for pid in (tree_of(root) if children else [root])}
    for seen in tree.values() if sigchld_busy else ():
        for status in [seen.get("status", {})] + list(seen.get("threads", {}).values()):
            for key in ("SigBlk", "SigPnd", "ShdPnd"):
                if key in status:
                    value, rest = status[key].split(" ", 1) if " " in status[key] else (status[key], "")
                    status[key] = f"{int(value, 16) & ~(1 << (signal.SIGCHLD - 1)):016x} {rest}".strip()
    return tree


def outside(pid):
    """What can be seen of process pid without tracing it."""
    proc = f"/proc/{pid}"
    if ids(pid)["zombie"]:
        # Nothing of it is saved but its ids, exit status and name.
        return {"ids": ids(pid), "name": status_of(f"{proc}/status", ("Name", "SigBlk"))["Name"]}
    fds = {}
    pipes = {}
    for fd in sorted(os.listdir(f"{proc}/fd"), key=int):
        try:
            target = os.readlink(f"{proc}/fd/{fd}")
            # A restored pipe or socket is another inode: which descriptors
            # share one is what must be the same.
            if target.startswith(("pipe:[", "socket:[")):
                kind = target.split(":")[0]
                target = "%s:[#%d]" % (kind, pipes.setdefault(target, len(pipes) + 1))
            # A deleted file whose name another file has taken since comes
            # back beside it, by design (docs/criu.md).
            target = re.sub(r"\.criu-ghost-\d+ \(deleted\)$", " (deleted)", target)
            info = [l for l in read(f"{proc}/fdinfo/{fd}").splitlines()
                    if l.startswith(("pos:", "flags:", "lock:"))]
        except FileNotFoundError:
            continue
        fds[fd] = (target, tuple(info))
    threads = {}
    for tid in os.listdir(f"{proc}/task"):
        try:
            threads[int(tid)] = status_of(f"{proc}/task/{tid}/status", THREAD_KEYS)
        except (FileNotFoundError, ProcessLookupError):
            continue  # it has ended meanwhile
    return {"maps": merged_maps(read(f"{proc}/maps")), "fds": fds, "status": status_of(f"{proc}/status", STATUS_KEYS),
            "threads": threads, "ids": ids(pid)}


def merged_maps(maps):
    """/proc/PID/maps with neighbours that agree on everything joined: where
    the kernel splits two such VMAs depends on its own bookkeeping (their
    anon_vma), not on anything a process can set or see.  Shared anonymous
    memory is another object after a restore, and so is a deleted file,
    made again: which mappings share one is what must be the same."""
    out = []
    shmem = {}
    for line in maps.splitlines():
        f = line.split(maxsplit=5)
        if len(f) > 5 and f[5].endswith(" (deleted)"):
            f[4] = "#%d" % shmem.setdefault(f[4], len(shmem) + 1)
        start, end = (int(x, 16) for x in f[0].split("-"))
        off, name = int(f[2], 16), f[5] if len(f) > 5 else ""
        if out:
            p = out[-1]
            if p["end"] == start and (p["perms"], p["dev"], p["inode"], p["name"]) == (f[1], f[3], f[4], name) \
                    and (f[4] == "0" or p["off"] + (p["end"] - p["start"]) == off):
                p["end"] = end
                continue
        out.append({"start": start, "end": end, "perms": f[1], "off": off, "dev": f[3], "inode": f[4], "name": name})
    return "".join(f"{m['start']:x}-{m['end']:x} {m['perms']} {m['off']:08x} {m['dev']} {m['inode']} {m['name']}\n"
                   for m in out)


def compare(before, after, churn=False):
    """With churn, threads (and their stacks) come and go: not compared."""
    problems = []
    if "name" in before or "name" in after:
        if before != after:
            raise Failure(f"the zombie was {before}, is {after}")
        return
    if not churn and before["maps"] != after["maps"]:
        problems.append("the memory map differs:\n--- before\n" + before["maps"] + "--- after\n" + after["maps"])
    for fd in sorted(set(before["fds"]) | set(after["fds"]), key=int):
        b, a = before["fds"].get(fd), after["fds"].get(fd)
        if a != b:
            problems.append(f"fd {fd} was {b}, is {a}")
    for key, b in before["status"].items():
        if after["status"].get(key) != b:
            problems.append(f"{key} was '{b}', is '{after['status'].get(key)}'")
    if not churn and sorted(before["threads"]) != sorted(after["threads"]):
        problems.append(f"the threads were {sorted(before['threads'])}, are {sorted(after['threads'])}")
    for tid in sorted(set(before["threads"]) & set(after["threads"]) if not churn else ()):
        for key, b in before["threads"][tid].items():
            if after["threads"][tid].get(key) != b:
                problems.append(f"thread {tid}: {key} was '{b}', is '{after['threads'][tid].get(key)}'")
    if before["ids"] != after["ids"]:
        problems.append(f"the ids were {before['ids']}, are {after['ids']}")
    if problems:
        raise Failure("\n".join(problems))


def compare_tree(before, after, churn=False):
    """Every process of the tree, told apart by pid; the root's parent is
    whoever started it, not part of the tree."""
    if sorted(before) != sorted(after):
        raise Failure(f"the tree's processes were {sorted(before)}, are {sorted(after)}")
    root = next(iter(before))
    after[root]["ids"]["ppid"] = before[root]["ids"]["ppid"]
    problems = []
    for pid in before:
        try:
            compare(before[pid], after[pid], churn)
        except Failure as e:
            problems.append(f"pid {pid}: {e}")
    if problems:
        raise Failure("\n".join(problems))


def settled(take, churn):
    """A look at the tree that a second one, a moment later, agrees with: a
    program that has just written its pid file may not have put back yet
    what it used for that (bash restores its stdout after the redirection)."""
    seen = take()
    for _ in range(100):
        time.sleep(0.01)
        again = take()
        try:
            compare_tree(seen, again, churn)
            return again
        except Failure:
            seen = again
    raise Failure("what the program shows does not settle after it wrote its pid file")


def agrees(before, take, churn):
    """What a look at the tree (take) finds, once it agrees with before: a
    restored thread goes back into the call it was dumped in a moment after
    it runs again, and until then shows its own signal mask, not the one a
    sigsuspend() or ppoll() sets while it waits."""
    for _ in range(100):
        try:
            compare_tree(before, take(), churn)
            return
        except Failure:
            time.sleep(0.01)
    compare_tree(before, take(), churn)


def steady(take, what):
    """What take() finds once two looks 0.1 s apart agree: a server closes
    the connections of clients that have just gone a moment later."""
    seen = [take()]

    def same_twice():
        time.sleep(0.1)
        seen.append(take())
        return seen[-1] == seen[-2]
    wait_for(same_twice, what)
    return seen[-1]


def wait_for(predicate, what, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.01)
    raise Failure(f"timed out waiting for {what}")


def reap(pid):
    """Waits until pid has exited and is reaped (it is a child of ours)."""
    def gone():
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return not os.path.exists(f"/proc/{pid}")
        return done == pid
    wait_for(gone, f"pid {pid} to end")


class Programs:
    """Starts test programs in their work directories, and kills at the end
    whatever of them still runs (a restored one keeps its pid)."""

    def __init__(self, bin_dir):
        self.bin = bin_dir
        self.pids = []

    def start(self, work, name="counter", exe=None, fresh=True, **popen):
        if fresh:
            shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work, exist_ok=True)
        pidfile, outfile = os.path.join(work, "pid"), os.path.join(work, "out")
        for f in (pidfile, outfile):
            if os.path.exists(f):
                os.unlink(f)
        for stream in ("stdin", "stdout", "stderr"):
            popen.setdefault(stream, subprocess.DEVNULL)
        prog = subprocess.Popen([exe or os.path.join(self.bin, name), "--pidfile", pidfile, "--outfile", outfile],
                                cwd=work, close_fds=True, **popen)
        wait_for(lambda: os.path.exists(pidfile) and read(pidfile).endswith("\n"), f"{name} to be ready")
        self.pids.append(int(read(pidfile)))
        return prog, self.pids[-1]

    def cleanup(self):
        for pid in self.pids:
            try:
                os.kill(pid, signal.SIGKILL)
                reap(pid)
            except (ProcessLookupError, Failure):
                pass


def vdso_of(maps):
    return next((l.split()[0] for l in maps.splitlines() if l.endswith("[vdso]")), None)


def dumped_pids(args, workdir):
    """The pids of the processes the dump holds, from its pstree.img."""
    res = subprocess.run([args.criu, "show", os.path.join(workdir, "images", "pstree.img")], capture_output=True,
                         text=True, check=True)
    return [e["pid"]["levels"][0] for e in json.loads(res.stdout)["entries"]]


def criu(args, workdir, log, wrapper=()):
    cmd = [*wrapper, args.criu] + log + ["-v4"]
    res = subprocess.run(cmd, cwd=workdir, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if res.returncode != 0:
        logfile = os.path.join(workdir, "images", log[log.index("-o") + 1])
        tail = read(logfile)[-3000:] if os.path.exists(logfile) else ""
        raise Failure(f"{' '.join(cmd)} failed ({res.returncode}):\n{res.stderr}{tail}")


def run(args):
    work = args.workdir
    os.makedirs(work, exist_ok=True)
    images = os.path.join(work, "images")
    shutil.rmtree(images, ignore_errors=True)  # no core image of an earlier run's threads
    pidfile, outfile = os.path.join(work, "pid"), os.path.join(work, "out")
    for f in (pidfile, outfile):
        if os.path.exists(f):
            os.unlink(f)
    with open(os.path.join(work, "program.log"), "w") as log:
        prog = subprocess.Popen(args.program + ["--pidfile", pidfile, "--outfile", outfile],
                                cwd=work, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                close_fds=True)
    tree = []
    try:
        # A complete line: a shell writes the file in two steps (create, write).
        wait_for(lambda: os.path.exists(pidfile) and read(pidfile).endswith("\n"), "the program to be ready")
        pid = int(read(pidfile))
        before = settled(lambda: outside_tree(pid, args.sigchld_busy, not args.children_churn), args.threads_churn)
        dump = ["dump", "-t", str(pid), "-D", "images", "-o", "dump.log"]
        if args.mode == "leave-running":
            dump.append("-R")
        criu(args, work, dump)
        tree = dumped_pids(args, work)
        if args.mode == "restore":
            prog.wait(timeout=10)  # criu dump killed it, and all of its tree
            for p in tree[1:]:
                reap(p)  # orphaned: ours now
            wrapper = ()
            if args.vdso_elsewhere:
                # Without address randomization the restoring criu has its
                # vDSO at a fixed place, not where the program had its own.
                wrapper = ("setarch", "-R")
                fixed = vdso_of(subprocess.run([*wrapper, "cat", "/proc/self/maps"], capture_output=True,
                                               text=True, check=True).stdout)
                if fixed == vdso_of(before[pid]["maps"]):
                    raise Failure(f"the program's vDSO is at {fixed}, where criu's will be: start it again")
            criu(args, work, ["restore", "-D", "images", "-d", "-o", "restore.log"], wrapper)
        agrees(before, lambda: outside_tree(pid, args.sigchld_busy, not args.children_churn), args.threads_churn)
        os.kill(pid, signal.SIGTERM)
        if args.mode == "restore":
            reap(pid)
        else:
            prog.wait(timeout=10)
        wait_for(lambda: os.path.exists(outfile), "the program's verdict")
        verdict = read(outfile).strip()
        if verdict != "PASS":
            raise Failure(f"the program says: {verdict}")
        tree = []  # all ended, and reaped by their parents: the pids are no longer theirs
    finally:
        # A program that failed a check must not run on, nor any process of
        # its tree (the one it has, if it never got to be dumped).
        if prog.poll() is None:
            tree = tree or tree_of(prog.pid)[1:]
            prog.kill()
            prog.wait()
        for p in tree:
            if os.path.exists(f"/proc/{p}"):
                os.kill(p, signal.SIGKILL)
                reap(p)
        # Orphans of the program's that have ended (ours: a subreaper).
        try:
            while os.waitpid(-1, os.WNOHANG)[0] > 0:
                pass
        except ChildProcessError:
            pass


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--criu", required=True)
    p.add_argument("--workdir", required=True)
    p.add_argument("--mode", choices=("restore", "leave-running"), required=True)
    p.add_argument("--vdso-elsewhere", action="store_true",
                   help="restore from a criu whose vDSO is surely elsewhere than the program's")
    p.add_argument("--sigchld-busy", action="store_true",
                   help="the program blocks and unblocks SIGCHLD all the time: leave that bit out")
    p.add_argument("--children-churn", action="store_true",
                   help="the program's children come and go: compare the program alone")
    p.add_argument("--threads-churn", action="store_true",
                   help="the program's threads come and go: do not compare them or the memory map")
    p.add_argument("program", nargs=argparse.REMAINDER)
    args = p.parse_args()
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.exit("runner: cannot become a child subreaper")
    name = os.path.basename(args.program[0])
    try:
        run(args)
    except (Failure, subprocess.TimeoutExpired) as e:
        print(f"FAIL {name} ({args.mode}): {e}")
        sys.exit(1)
    print(f"PASS {name} ({args.mode})")


if __name__ == "__main__":
    main()
