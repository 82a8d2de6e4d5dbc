#!/usr/bin/env python3
"""dbus-daemon, dumped and restored: a message bus with an epoll, inotify,
a listening unix socket and a netlink audit socket.

  dbus.py --criu CRIU --workdir DIR

Starts Debian's dbus-daemon on a unix socket in DIR, with a configuration
of its own there, and asks it for its id (GetId, a random one of each
daemon) and for the names on the bus.  Dumps it (which kills it), restores
it, and checks that what is seen from outside is the same, that it
answers with the same id and lists the names on the bus.  Then again with a dump with --leave-running, after which
the old daemon is killed and the images restored all the same.  Prints
PASS at the end.
"""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from realprogram import dump, end_all, main, restore  # noqa: E402
from runner import Failure, agrees, outside, steady, wait_for  # noqa: E402

CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={dir}/bus.sock</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


def call(address, method, *args):
    """The reply of the bus to method, as dbus-send prints it."""
    res = subprocess.run(["dbus-send", f"--bus={address}", "--print-reply", "--dest=org.freedesktop.DBus",
                          "/org/freedesktop/DBus", f"org.freedesktop.DBus.{method}", *args],
                         stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    if res.returncode != 0:
        raise Failure(f"dbus-send {method} failed: {res.stderr.strip()}")
    return res.stdout


def bus_id(address):
    reply = call(address, "GetId").split()
    return reply[reply.index("string") + 1].strip('"')


def start(args):
    for tool in ("dbus-daemon", "dbus-send"):
        if not shutil.which(tool):
            raise Failure(f"{tool} is not installed (scripts/install-deps installs dbus-daemon and dbus-bin)")
    conf = os.path.join(args.workdir, "bus.conf")
    with open(conf, "w") as f:
        f.write(CONFIG.format(dir=args.workdir))
    sock_path = os.path.join(args.workdir, "bus.sock")
    if os.path.exists(sock_path):
        os.unlink(sock_path)
    daemon = subprocess.Popen(["dbus-daemon", f"--config-file={conf}", "--nofork", "--nopidfile"],
                              stdin=subprocess.DEVNULL, stdout=open(os.path.join(args.workdir, "bus.log"), "a"),
                              stderr=subprocess.STDOUT, close_fds=True)
    try:
        wait_for(lambda: os.path.exists(sock_path), "dbus-daemon to listen")
    except Failure:
        daemon.kill()
        daemon.wait()
        raise
    return daemon, f"unix:path={sock_path}"


def one_round(args, leave_running):
    daemon, address = start(args)
    pid = daemon.pid
    try:
        ident = bus_id(address)
        before = steady(lambda: outside(pid), "dbus-daemon to close the connections of the calls")
        images = dump(args, pid, leave_running)
        if leave_running and bus_id(address) != ident:
            raise Failure("after a dump with --leave-running, the bus has another id")
        end_all([pid], "the dumped dbus-daemon to end")  # with --leave-running, killed here
        restore(args, images)
        agrees({pid: before}, lambda: {pid: outside(pid)}, False)
        if bus_id(address) != ident:
            raise Failure("the restored bus has another id")
        if "org.freedesktop.DBus" not in call(address, "ListNames"):
            raise Failure("the restored bus does not list itself")
        print(f"ok: dbus-daemon {'(--leave-running) ' if leave_running else ''}restored as {pid}: the same bus "
              f"{ident}, answering")
    finally:
        end_all([pid], "dbus-daemon to end")


if __name__ == "__main__":
    main(__doc__, one_round)
