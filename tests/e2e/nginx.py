#!/usr/bin/env python3
"""nginx, dumped and restored: a real tree of processes that share a
listening unix socket, talk over socketpairs and share memory.

  nginx.py --criu CRIU --workdir DIR

Starts Debian's nginx (nginx-light) in the foreground with a master and two
workers (unprivileged, as nobody) serving HTTP on a unix socket only, with
files and paths in DIR; both workers answer.  Dumps the tree (which kills
it), restores it, and checks that what is seen from outside of each process
is the same (memory maps, descriptors, ids, credentials, threads); that
requests are answered again, by the restored workers; that a reload
(SIGHUP) works, which the master does by starting new workers and telling
the old ones to go over their socketpairs; and that a graceful stop
(SIGQUIT) ends it with status 0.  Then again with a dump with
--leave-running, after which the old tree is killed and the images
restored all the same.  Prints PASS at the end.
"""
import os
import shutil
import signal
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from realprogram import dump, end_all, main, restore  # noqa: E402
from runner import Failure, agrees, outside_tree, reap, tree_of, wait_for  # noqa: E402

WORKERS = 2

CONFIG = """daemon off;
master_process on;
worker_processes {workers};
user nobody nogroup;
pid {dir}/nginx.pid;
error_log {dir}/error.log notice; # not the info that epoll_wait() was interrupted (by the dump)
events {{ worker_connections 64; }}
http {{
	access_log {dir}/access.log;
	client_body_temp_path {dir}/tmp/body;
	proxy_temp_path {dir}/tmp/proxy;
	fastcgi_temp_path {dir}/tmp/fastcgi;
	uwsgi_temp_path {dir}/tmp/uwsgi;
	scgi_temp_path {dir}/tmp/scgi;
	server {{
		listen unix:{dir}/nginx.sock;
		location / {{ return 200 "worker $pid\\n"; }}
	}}
}}
"""


def get(sock_path):
    """The pid of the worker that answers GET /."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(sock_path)
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        reply = b""
        while chunk := s.recv(4096):
            reply += chunk
    head, _, body = reply.decode().partition("\r\n\r\n")
    if not head.startswith("HTTP/1.1 200") or not body.startswith("worker "):
        raise Failure(f"nginx answered {reply!r}")
    return int(body.split()[1])


def workers_answering(sock_path, workers):
    """Requests until each of workers (pids) has answered one."""
    seen = set()
    for _ in range(2000):
        pid = get(sock_path)
        if pid not in workers:
            raise Failure(f"worker {pid} answered, not one of {sorted(workers)}")
        seen.add(pid)
        if seen == set(workers):
            return
    raise Failure(f"only workers {sorted(seen)} of {sorted(workers)} answered")


def start(args, sock_path):
    if not shutil.which("nginx"):
        raise Failure("nginx is not installed (scripts/install-deps installs nginx-light)")
    conf = os.path.join(args.workdir, "nginx.conf")
    os.makedirs(os.path.join(args.workdir, "tmp"), exist_ok=True)
    with open(conf, "w") as f:
        f.write(CONFIG.format(dir=args.workdir, workers=WORKERS))
    if os.path.exists(sock_path):
        os.unlink(sock_path)
    master = subprocess.Popen(["nginx", "-c", conf, "-p", args.workdir], stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, close_fds=True)
    try:
        wait_for(lambda: os.path.exists(sock_path) and len(tree_of(master.pid)) == 1 + WORKERS,
                 "nginx to listen with its workers")
    except Failure:
        master.kill()
        master.wait()
        raise
    return master


def one_round(args, leave_running):
    sock_path = os.path.join(args.workdir, "nginx.sock")
    master = start(args, sock_path)
    pid = master.pid
    workers = tree_of(pid)[1:]
    try:
        workers_answering(sock_path, workers)
        before = outside_tree(pid)
        images = dump(args, pid, leave_running)
        if leave_running:
            workers_answering(sock_path, workers)
            for p in [pid] + workers:
                os.kill(p, signal.SIGKILL)
        master.wait()
        for w in workers:
            reap(w)  # our orphans
        restore(args, images)
        agrees(before, lambda: outside_tree(pid), False)
        workers_answering(sock_path, workers)
        # A reload: new workers, started by the master, and the old ones
        # told to go over their channels.
        os.kill(pid, signal.SIGHUP)
        wait_for(lambda: len(tree_of(pid)) == 1 + WORKERS and not set(tree_of(pid)) & set(workers),
                 "the reload's new workers, and the old ones gone")
        fresh = tree_of(pid)[1:]
        workers_answering(sock_path, fresh)
        os.kill(pid, signal.SIGQUIT)
        wait_for(lambda: os.waitpid(pid, os.WNOHANG)[0] == pid, "nginx to stop")
        print(f"ok: nginx {'(--leave-running) ' if leave_running else ''}restored as master {pid} with workers "
              f"{workers}: both answer, a reload starts {fresh}, SIGQUIT stops it")
    finally:
        end_all(set(tree_of(pid) + workers), "nginx to end")  # the workers too, should the master be gone


if __name__ == "__main__":
    main(__doc__, one_round)
