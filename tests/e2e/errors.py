#!/usr/bin/env python3
"""What criu says, and what it leaves, when it cannot do its job.

  errors.py --criu CRIU --workdir DIR --bin DIR_OF_TEST_PROGRAMS

Dump: a pid that does not exist, a kernel thread, a tree that holds criu itself, a
process whose main thread has ended while another runs, a process with a TCP socket (it must go on
unchanged, with nothing of criu left in it).
Restore: truncated, corrupted and wrong-version images, a missing pages
image, an image that is a FIFO, a changed executable, a file gone since the dump, a pid in use,
a pipe of a size no pipe has, a FIFO gone since the dump;
of a multi-threaded process, a thread's core image missing, a thread's tid in use and
a thread that fails in the restorer.
Of a process tree: a dump that fails after some images are written and one that
refuses a pipe two processes share (every process must go on unchanged), a child's pid
in use, and a child that fails in the restorer
(the whole tree must go).
Each must fail with a message that names what is wrong, leave no process
behind, and leave the images as they were.
"""
import argparse
import ctypes
import fcntl
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from runner import Failure, Programs, outside, outside_tree, compare, compare_tree, reap, read, tree_of  # noqa: E402


class Case:
    def __init__(self, args):
        self.args = args
        self.failures = []
        self.programs = Programs(args.bin)

    def criu(self, *argv, cwd=None):
        return subprocess.run([self.args.criu, *argv], cwd=cwd, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True)

    def expect_failure(self, what, res, *texts):
        if res.returncode == 0:
            self.failures.append(f"{what}: criu succeeded")
            return
        for t in texts:
            if t not in res.stderr:
                self.failures.append(f"{what}: the message lacks '{t}':\n{res.stderr}")
                return
        print(f"ok: {what}: {res.stderr.strip().splitlines()[-1]}")

    def start(self, name, work, exe=None):
        return self.programs.start(work, name, exe, fresh=False)

    def finish(self, prog, pid, work):
        os.kill(pid, signal.SIGTERM)
        prog.wait(timeout=10)
        verdict = read(os.path.join(work, "out")).strip()
        if verdict != "PASS":
            self.failures.append(f"the victim says: {verdict}")


def digest(directory):
    h = hashlib.sha256()
    for name in sorted(os.listdir(directory)):
        if name.endswith(".img"):
            h.update(name.encode())
            if not os.path.isfile(os.path.join(directory, name)):
                continue  # a FIFO: opening it would wait for a writer
            with open(os.path.join(directory, name), "rb") as f:
                h.update(f.read())
    return h.hexdigest()


def dump_errors(c, work):
    os.makedirs(work)
    free = os.fork()
    if free == 0:
        os._exit(0)
    os.waitpid(free, 0)
    c.expect_failure("dump of a missing pid", c.criu("dump", "-t", str(free), "-D", f"{work}/none"),
                     f"pid {free} does not exist")
    c.expect_failure("dump of a kernel thread", c.criu("dump", "-t", "2", "-D", f"{work}/none"),
                     "pid 2 is a kernel thread")

    res = subprocess.run(["bash", "-c", '"$0" dump -t $$ -D "$1"; exit $?', c.args.criu, f"{work}/self"],
                         stdin=subprocess.DEVNULL, capture_output=True, text=True)
    c.expect_failure("dump of a tree that holds criu itself", res, "is this criu, which cannot dump itself")

    lwork = f"{work}/leaderless"
    prog, pid = c.start("leaderless", lwork)
    c.expect_failure("dump of a process whose main thread has ended",
                     c.criu("dump", "-t", str(pid), "-D", f"{lwork}/images"), "has ended its main thread",
                     "1 other threads run")
    c.finish(prog, pid, lwork)

    refused_dump(c, work, "tcp", "a TCP socket", "is a TCP socket", "not supported yet")
    # The test's own listener: the program connects to it and waits there.
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(f"\0e2e-unixout-{os.getpid()}")
        listener.listen(1)
        refused_dump(c, work, "unixout", "a unix socket connected outside", "fd 3 is a unix socket connected to a "
                     "listener outside the dumped tree", "not supported yet")
    refused_dump(c, work, "unixsendsock", "a UDP socket in flight", "a descriptor in flight in a unix socket is a socket",
                 "sending it is not supported yet")
    for case, what, texts in (
            ("relsock", "a unix socket bound to a relative path",
             ("fd 3 is a unix socket bound to the relative path relative.sock: not supported yet",)),
            ("relsender", "a datagram queued from a socket bound to a relative path",
             ("fd 3 is a unix socket with a datagram queued from the relative path relsender.sock: not "
              "supported yet",)),
            ("namedsender", "a datagram from a named socket outside the tree queued",
             ("fd 3 is a unix socket with a datagram queued from @e2e-refused-b-",
              "a socket outside the dumped tree with that abstract name: not supported yet")),
            ("ptyunread", "a pty holding a line nobody read",
             ("fd 3 is /dev/ptmx with", "bytes not read yet, and no process of the tree holds its slave: "
              "not supported yet")),
            ("selfsend", "a socket sent through itself",
             ("is in flight in what it, its peer or its listener has received",
              "restoring it is not supported yet")),
            ("epollflying", "an epoll watching a file only in flight",
             ("fd 3 is an epoll that watches a file (added as fd 4) no process of the tree has open: not "
              "supported",)),
            ("iouring", "an io_uring instance",
             ("fd 3 is an io_uring instance (anon_inode:[io_uring]): not supported yet",)),
            ("memfdsealed", "a memfd mapped writable and shared, sealed against writes since",
             ("the mapping at 0x", "maps the memfd sealed writable and shared, and it is sealed against writes "
              "since: not supported yet")),
            ("netlinkqueue", "a netlink socket with the kernel's answer not read",
             ("fd 3 is a netlink socket (protocol 0) with messages from the kernel not read yet: not supported yet",)),
            ("epollstdin", "an epoll criu must make watching stdin from the outside",
             ("fd 0, shared with the outside, is the target of an epoll that processes share or whose targets "
              "moved: not supported yet",))):
        os.environ["E2E_REFUSE"] = case
        refused_dump(c, work, "refused", what, *texts, work_name=f"refused-{case}")
    # The test holds the master: the program has only the slave.
    master, slave = os.openpty()
    try:
        os.environ["E2E_REFUSE"], os.environ["E2E_PTY"] = "ptyoutside", os.ttyname(slave)
        refused_dump(c, work, "refused", "a pty whose master is elsewhere", "fd 3 is the terminal /dev/pts/",
                     "whose master is outside the tree: not supported yet", work_name="refused-ptyoutside")
        os.environ["E2E_REFUSE"] = "cttyoutside"
        refused_dump(c, work, "refused", "a session's terminal whose master is elsewhere",
                     "leads a session whose controlling terminal (device 136:", "is no pty of the dumped tree's, or "
                     "one whose slave is open outside it: not supported yet", work_name="refused-cttyoutside")
    finally:
        os.close(master)
        os.close(slave)
        del os.environ["E2E_REFUSE"], os.environ["E2E_PTY"]


def refused_dump(c, work, name, what, *texts, work_name=None):
    """A dump criu refuses leaves the process as it was, and no images."""
    vwork = f"{work}/{work_name or name}"
    prog, pid = c.start(name, vwork)
    before = outside(pid)
    c.expect_failure(f"dump of a process with {what}", c.criu("dump", "-t", str(pid), "-D", f"{vwork}/images"),
                     *texts)
    try:
        compare(before, outside(pid))
    except Failure as e:
        c.failures.append(f"a failed dump changed the process: {e}")
    if [n for n in os.listdir(f"{vwork}/images") if n.endswith(".img")]:
        c.failures.append("a failed dump left image files behind")
    c.finish(prog, pid, vwork)


def good_dump(c, work, name="counter", exe=None):
    """A fresh dump of a program, killed by the dump; returns (pid, images)."""
    shutil.rmtree(work, ignore_errors=True)
    prog, pid = c.start(name, work, exe)
    res = c.criu("dump", "-t", str(pid), "-D", "images", cwd=work)
    if res.returncode != 0:
        raise Failure(f"the dump to restore from failed: {res.stderr}")
    prog.wait(timeout=10)
    return pid, os.path.join(work, "images")


def restore_fails(c, what, pid, images, *texts, tree=()):
    before = digest(images)
    res = c.criu("restore", "-D", images, "-d")
    c.expect_failure(what, res, *texts)
    for p in tree or (pid,):
        if os.path.exists(f"/proc/{p}"):
            c.failures.append(f"{what}: pid {p} exists after the failed restore")
            os.kill(p, signal.SIGKILL)
            reap(p)
    if digest(images) != before:
        c.failures.append(f"{what}: the images changed")


def patched(images, name, fn):
    path = os.path.join(images, name)
    with open(path, "rb") as f:
        data = f.read()
    with open(path, "wb") as f:
        f.write(fn(data))


def varint(value):
    out = b""
    while True:
        out += bytes([value & 0x7F | (0x80 if value > 0x7F else 0)])
        value >>= 7
        if not value:
            return out


def pb_fields(data):
    """The fields of one protobuf message: [(number, wire type, raw bytes of the value)]."""
    fields, i = [], 0

    def read_varint():
        nonlocal i
        start = i
        while data[i] & 0x80:
            i += 1
        i += 1
        return data[start:i]

    def value(raw):
        return sum((b & 0x7F) << (7 * k) for k, b in enumerate(raw))

    while i < len(data):
        key = value(read_varint())
        number, wire = key >> 3, key & 7
        if wire == 0:
            fields.append((number, wire, read_varint()))
        elif wire == 2:
            n = value(read_varint())
            fields.append((number, wire, data[i:i + n]))
            i += n
        else:
            size = 8 if wire == 1 else 4
            fields.append((number, wire, data[i:i + size]))
            i += size
    return fields


def pb_encode(fields):
    out = b""
    for number, wire, value in fields:
        out += varint(number << 3 | wire) + (varint(len(value)) if wire == 2 else b"") + value
    return out


def set_thread_field(image, number, value):
    """A core image with field `number` of its thread_core_entry (a varint) set to value."""
    header, length = image[:12], int.from_bytes(image[12:16], "little")
    core = pb_fields(image[16:16 + length])
    core = [(n, w, pb_encode([(f, fw, varint(value) if f == number else v) for f, fw, v in pb_fields(val)]))
            if n == 5 else (n, w, val) for n, w, val in core]
    body = pb_encode(core)
    return header + len(body).to_bytes(4, "little") + body


def take_pid(pid):
    """A child sleeping as pid, made through ns_last_pid (tries again if
    another process got there first)."""
    for _ in range(20):
        with open("/proc/sys/kernel/ns_last_pid", "w") as f:
            f.write(str(pid - 1))
        child = subprocess.Popen(["sleep", "1000"])
        if child.pid == pid:
            return child
        child.kill()
        child.wait()
    raise Failure(f"could not make a process with pid {pid}")


def thread_errors(c, work):
    pid, images = good_dump(c, f"{work}/threads", name="threads")
    tid = max(int(n[5:-4]) for n in os.listdir(images) if n.startswith("core-"))
    if tid == pid:
        raise Failure("the dump of the threads program has one core image")
    core = os.path.join(images, f"core-{tid}.img")
    os.rename(core, f"{core}.away")
    restore_fails(c, "a thread's core image is missing", pid, images, f"core-{tid}.img")
    os.rename(f"{core}.away", core)
    # robust_list_len (field 6) must be the kernel's struct size: the thread
    # fails in the restorer, and the whole process must go.
    pristine = f"{core}.pristine"
    shutil.copy(core, pristine)
    patched(images, f"core-{tid}.img", lambda d: set_thread_field(d, 6, 25))
    restore_fails(c, "a thread that fails in the restorer", pid, images, f"pid {pid}: thread {tid}:",
                  "the restorer failed at step")
    for t in (int(n[5:-4]) for n in os.listdir(images) if n.startswith("core-") and n.endswith(".img")):
        if os.path.exists(f"/proc/{t}"):
            c.failures.append(f"thread {t} exists after the failed restore")
    os.replace(pristine, core)
    holder = take_pid(tid)
    try:
        restore_fails(c, "a restore onto a thread's tid in use", pid, images, f"tid {tid} is in use (by sleep)")
    finally:
        holder.kill()
        holder.wait()


def tree_errors(c, work):
    # A dump that fails once the root's images are written: a directory
    # where a child's core image must go.
    twork = f"{work}/dump"
    shutil.rmtree(twork, ignore_errors=True)
    prog, pid = c.start("tree", twork)
    tree = tree_of(pid)
    os.makedirs(f"{twork}/images/core-{tree[-1]}.img/in-the-way")
    before = outside_tree(pid)
    c.expect_failure("a tree's dump that fails half way",
                     c.criu("dump", "-t", str(pid), "-D", f"{twork}/images"), f"core-{tree[-1]}.img")
    try:
        compare_tree(before, outside_tree(pid))
    except Failure as e:
        c.failures.append(f"a failed dump changed the tree: {e}")
    left = [n for n in os.listdir(f"{twork}/images") if os.path.isfile(f"{twork}/images/{n}")]
    if left:
        c.failures.append(f"a failed dump of a tree left files behind: {left}")
    c.finish(prog, pid, twork)

    shutil.rmtree(f"{work}/restore", ignore_errors=True)
    prog, pid = c.start("tree", f"{work}/restore")
    tree = tree_of(pid)
    last_tid = max(int(t) for p in tree for t in os.listdir(f"/proc/{p}/task"))
    res = c.criu("dump", "-t", str(pid), "-D", "images", cwd=f"{work}/restore")
    if res.returncode != 0:
        raise Failure(f"the dump of the tree failed: {res.stderr}")
    prog.wait(timeout=10)
    for p in tree[1:]:
        reap(p)
    images = f"{work}/restore/images"
    child = tree[-1]
    holder = take_pid(child)
    with open("/proc/sys/kernel/ns_last_pid", "w") as f:
        f.write(str(last_tid))  # criu's own pid must not be one of the tree's
    try:
        restore_fails(c, "a restore onto a child's pid in use", pid, images, f"pid {child} is in use (by sleep)",
                      tree=[p for p in tree if p != child])
    finally:
        holder.kill()
        holder.wait()
    patched(images, f"core-{child}.img", lambda d: set_thread_field(d, 6, 25))
    restore_fails(c, "a child that fails in the restorer", pid, images, f"pid {child}: thread {child}:",
                  "the restorer failed at step", tree=tree)


def restore_errors(c, work):
    pid, images = good_dump(c, f"{work}/counter")
    pristine = f"{work}/pristine"
    shutil.copytree(images, pristine)

    def fresh():
        shutil.rmtree(images)
        shutil.copytree(pristine, images)

    patched(images, f"core-{pid}.img", lambda d: d[:len(d) // 2])
    restore_fails(c, "a truncated image", pid, images, f"core-{pid}.img", "truncated")
    fresh()
    patched(images, f"mm-{pid}.img", lambda d: d[:20] + bytes(b ^ 0x5a for b in d[20:60]) + d[60:])
    restore_fails(c, "a corrupted image", pid, images, f"mm-{pid}.img")
    fresh()
    patched(images, "inventory.img", lambda d: d[:8] + (99).to_bytes(4, "little") + d[12:])
    restore_fails(c, "an image of another format version", pid, images, "inventory.img",
                  "format version 99; this criu reads version 1")
    fresh()
    patched(images, "inventory.img", lambda d: b"NOTANIMAGE" + d[10:])
    restore_fails(c, "a file that is not an image", pid, images, "inventory.img", "is not an image of this tool")
    fresh()
    os.unlink(os.path.join(images, f"pages-{pid}.img"))
    restore_fails(c, "a missing pages image", pid, images, f"pages-{pid}.img", "is missing")
    fresh()
    os.unlink(os.path.join(images, f"core-{pid}.img"))
    os.mkfifo(os.path.join(images, f"core-{pid}.img"))
    restore_fails(c, "an image that is a FIFO", pid, images, f"core-{pid}.img", "not a regular file")
    fresh()

    # The executable changed since the dump.
    exe = f"{work}/changed-exe/counter"
    os.makedirs(os.path.dirname(exe), exist_ok=True)
    shutil.copy(os.path.join(c.args.bin, "counter"), exe)
    pid, images = good_dump(c, f"{work}/changed", exe=exe)
    with open(exe, "ab") as f:
        f.write(b"\0")
    restore_fails(c, "a changed executable", pid, images, exe, "changed since the dump")

    # A file the process had open is gone: the restoring process fails and
    # must not be left behind.
    pid, images = good_dump(c, f"{work}/keep", name="keepfile")
    os.unlink(f"{work}/keep/kept.txt")
    restore_fails(c, "a file gone since the dump", pid, images, f"pid {pid}", "cannot open", "kept.txt")

    file_errors(c, f"{work}/fifo")
    lock_taken(c, f"{work}/locks")

    # The pid is taken: dump with --leave-running, then restore.
    vwork = f"{work}/taken"
    shutil.rmtree(vwork, ignore_errors=True)
    prog, pid = c.start("counter", vwork)
    res = c.criu("dump", "-t", str(pid), "-D", "images", "-R", cwd=vwork)
    if res.returncode != 0:
        c.failures.append(f"dump -R failed: {res.stderr}")
    c.expect_failure("a restore onto a pid in use", c.criu("restore", "-D", f"{vwork}/images", "-d"),
                     f"pid {pid} is in use (by counter)")
    c.finish(prog, pid, vwork)


def lock_taken(c, work):
    """A lock the process held that somebody else took since the dump: the
    restore fails naming it, and leaves nothing behind."""
    pid, images = good_dump(c, work, name="locks")
    shown = json.loads(c.criu("show", os.path.join(images, "files.img")).stdout)
    paths = [e["reg"]["path"] for e in shown["entries"] if "reg" in e and os.path.basename(e["reg"]["path"]) == "a"]
    if not paths:
        c.failures.append("the locks program's file a is not in files.img")
        return
    with open(paths[0]) as taken:
        fcntl.flock(taken, fcntl.LOCK_EX | fcntl.LOCK_NB)
        restore_fails(c, "a lock taken since the dump", pid, images, f"pid {pid}",
                      "cannot take its exclusive flock() back")
    shutil.rmtree(os.path.dirname(paths[0]), ignore_errors=True)


def file_errors(c, work):
    """Files of the fdinfo engine: a value restore cannot give back is
    refused by field before anything starts; a FIFO gone since the dump
    fails the restoring process, which must not be left behind."""
    pid, images = good_dump(c, work, name="fifo")
    pristine = f"{work}/pristine"
    shutil.copytree(images, pristine)
    # pipe_entry.size (field 4) of 65536, as a varint: 65539 is no pipe size.
    size = b"\x20\x80\x80\x04"

    def bad_size(d):
        if size not in d:
            raise Failure("files.img of the fifo dump has no pipe size of 65536")
        return d.replace(size, b"\x20\x83\x80\x04", 1)

    patched(images, "files.img", bad_size)
    restore_fails(c, "a pipe of an impossible size", pid, images, "files.img", "pipe.size 65539")
    shutil.rmtree(images)
    shutil.copytree(pristine, images)
    os.unlink(f"{work}/fifo")
    restore_fails(c, "a FIFO gone since the dump", pid, images, f"pid {pid}", "FIFO", f"{work}/fifo",
                  "is not there any more")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--criu", required=True)
    p.add_argument("--workdir", required=True)
    p.add_argument("--bin", required=True)
    args = p.parse_args()
    ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    shutil.rmtree(args.workdir, ignore_errors=True)
    c = Case(args)
    try:
        dump_errors(c, f"{args.workdir}/dump")
        restore_errors(c, f"{args.workdir}/restore")
        thread_errors(c, f"{args.workdir}/threads")
        tree_errors(c, f"{args.workdir}/tree")
    except Failure as e:
        c.failures.append(str(e))
    c.programs.cleanup()
    for f in c.failures:
        print(f"FAIL: {f}")
    if c.failures:
        sys.exit(1)
    print("PASS")


if __name__ == "__main__":
    main()
