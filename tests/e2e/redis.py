#!/usr/bin/env python3
"""redis-server, dumped and restored: a real program with threads, epoll,
pipes and a listening unix socket.

  redis.py --criu CRIU --workdir DIR

Starts redis-server (Debian's) on a unix socket only (--port 0) with 5
threads or more (2 I/O threads, its 3 background ones, jemalloc's), stores a value, dumps
it (which kills it), restores it, and asks it for the value: GET must
give what was stored before the dump and INCR must go on from it.  The
memory map, descriptors, ids and threads seen from outside must be the
same before and after, as for every e2e program; and again after a dump
with --leave-running.  Prints PASS at the end.
"""
import os
import shutil
import signal
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from realprogram import dump, main, restore  # noqa: E402
from runner import Failure, compare, outside, reap, steady, wait_for  # noqa: E402

THREADS = 5  # at least: the main one, 1 more for I/O, 3 background ones (and jemalloc's, if it starts one)


def command(sock_path, *words):
    """One redis command in RESP, its reply's first line."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(sock_path)
        s.sendall(f"*{len(words)}\r\n".encode() + b"".join(f"${len(w)}\r\n{w}\r\n".encode() for w in words))
        reply = b""
        while not reply.endswith(b"\r\n") or (reply.startswith(b"$") and reply.count(b"\r\n") < 2):
            chunk = s.recv(4096)
            if not chunk:
                break
            reply += chunk
    lines = reply.decode().split("\r\n")
    return lines[1] if lines[0].startswith("$") else lines[0].lstrip("+:")


def start(args, sock_path):
    if not shutil.which("redis-server"):
        raise Failure("redis-server is not installed (scripts/install-deps installs it)")
    if os.path.exists(sock_path):
        os.unlink(sock_path)
    server = subprocess.Popen(
        ["redis-server", "--port", "0", "--unixsocket", sock_path, "--io-threads", "2", "--io-threads-do-reads",
         "yes", "--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", args.workdir],
        stdin=subprocess.DEVNULL, stdout=open(os.path.join(args.workdir, "redis.log"), "a"),
        stderr=subprocess.STDOUT, close_fds=True)
    try:
        wait_for(lambda: os.path.exists(sock_path), "redis-server to listen")
        wait_for(lambda: len(os.listdir(f"/proc/{server.pid}/task")) >= THREADS, f"redis-server's {THREADS} threads")
    except Failure:
        server.kill()
        server.wait()
        raise
    return server


def one_round(args, leave_running):
    sock_path = os.path.join(args.workdir, "redis.sock")
    server = start(args, sock_path)
    pid = server.pid
    try:
        if command(sock_path, "SET", "counter", "41") != "OK":
            raise Failure("SET did not answer OK")
        # A SET can start a thread (jemalloc's): the threads are those of a
        # moment later, when no more come.
        threads = []
        wait_for(lambda: threads.append(len(os.listdir(f"/proc/{pid}/task"))) or threads[-5:] == [threads[-1]] * 5,
                 "redis-server's threads to settle")
        # The SET's connection goes when redis-server reads its end.
        before = steady(lambda: outside(pid), "redis-server to close the SET's connection")
        images = dump(args, pid, leave_running)
        if leave_running:
            if command(sock_path, "GET", "counter") != "41":
                raise Failure("after a dump with --leave-running, redis-server lost the value")
            os.kill(pid, signal.SIGKILL)
        reap(pid)
        restore(args, images)
        compare(before, outside(pid))
        got = command(sock_path, "GET", "counter")
        if got != "41":
            raise Failure(f"the restored redis-server says GET counter is {got!r}, not '41'")
        got = command(sock_path, "INCR", "counter")
        if got != "42":
            raise Failure(f"the restored redis-server says INCR counter is {got!r}, not 42")
        print(f"ok: redis-server {'(--leave-running) ' if leave_running else ''}restored as pid {pid} "
              f"with {len(os.listdir(f'/proc/{pid}/task'))} threads: GET 41, INCR 42")
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
            reap(pid)
        except ProcessLookupError:
            pass


if __name__ == "__main__":
    main(__doc__, one_round)
