#!/usr/bin/env python3
"""criu's command line, as a CRIU user drives it.

  cli.py --criu CRIU --workdir DIR --bin DIR_OF_TEST_PROGRAMS

--version and --help; unknown options; check and check --feature; where
the log goes; config files (~/.criu/default.conf, --config, and what
overrides what); dump and restore with --leave-stopped; restore waiting
for the process and returning its exit status; --pidfile; session and
process group leaders; a shell job on a terminal (--shell-job).
"""
import argparse
import ctypes
import os
import pty
import shutil
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from runner import Failure, Programs, reap, read, wait_for  # noqa: E402


class Cli:
    def __init__(self, args):
        self.args = args
        self.failures = []
        self.programs = Programs(args.bin)

    def criu(self, *argv, env=None, check=False, **kw):
        kw.setdefault("stdin", subprocess.DEVNULL)
        kw.setdefault("stdout", subprocess.PIPE)
        kw.setdefault("stderr", subprocess.PIPE)
        res = subprocess.run([self.args.criu, *argv], text=True, env=env, **kw)
        if check and res.returncode != 0:
            raise Failure(f"criu {' '.join(argv)} failed: {res.stderr}")
        return res

    def expect(self, what, ok, detail=""):
        if ok:
            print(f"ok: {what}")
        else:
            self.failures.append(f"{what}{': ' + detail if detail else ''}")

    def start(self, work, name="counter", **popen):
        return self.programs.start(work, name, **popen)

    def verdict(self, work, pid, what):
        os.kill(pid, signal.SIGTERM)
        reap(pid)
        self.expect(f"{what}: the program passes", read(os.path.join(work, "out")).strip() == "PASS",
                    read(os.path.join(work, "out")))


def state(pid):
    return read(f"/proc/{pid}/stat").rsplit(")", 1)[1].split()[0]


def basics(c):
    v = c.criu("--version")
    c.expect("--version", v.returncode == 0 and v.stdout.startswith("criu "), v.stdout + v.stderr)
    h = c.criu("--help")
    c.expect("--help", h.returncode == 0 and "usage: criu" in h.stdout and "--leave-running" in h.stdout)
    u = c.criu("dump", "--bogus")
    c.expect("an unknown option", u.returncode != 0 and "unknown option" in u.stderr and "--bogus" in u.stderr,
             u.stderr)
    chk = c.criu("check")
    c.expect("check", chk.returncode == 0 and "Looks good." in chk.stdout, chk.stdout + chk.stderr)
    one = c.criu("check", "--feature", "clone3-set-tid")
    c.expect("check --feature", one.returncode == 0 and one.stdout.startswith("clone3-set-tid") and
             "Looks good" not in one.stdout, one.stdout + one.stderr)
    bad = c.criu("check", "--feature", "nosuch")
    c.expect("check of an unknown feature", bad.returncode != 0 and "known: ptrace" in bad.stderr, bad.stderr)


def logs_and_config(c, work):
    # A relative log file goes into the images directory; an absolute one where it says.
    prog, pid = c.start(f"{work}/log")
    c.criu("dump", "-t", str(pid), "-D", f"{work}/log/images", "-o", "d.log", "-R", check=True)
    c.expect("-o relative: the log is in the images directory", os.path.exists(f"{work}/log/images/d.log"))
    c.criu("dump", "-t", str(pid), "-D", f"{work}/log/images2", "-o", f"{work}/log/abs.log", "-R", check=True)
    c.expect("-o absolute: the log is where it says", os.path.exists(f"{work}/log/abs.log"))
    prog.kill()
    prog.wait()

    # ~/.criu/default.conf: leave-running and verbosity 4; the command line overrides the images dir.
    home = f"{work}/home"
    os.makedirs(f"{home}/.criu", exist_ok=True)
    with open(f"{home}/.criu/default.conf", "w") as f:
        f.write("# what every criu of this user does\nleave-running\nverbosity 4   # debug\n"
                f"images-dir {work}/cfg/not-here\n")
    env = dict(os.environ, HOME=home)
    prog, pid = c.start(f"{work}/cfg")
    c.criu("dump", "-t", str(pid), "-D", f"{work}/cfg/images", "-o", "dump.log", env=env, check=True)
    c.expect("~/.criu/default.conf: leave-running", prog.poll() is None and state(pid) != "T")
    c.expect("~/.criu/default.conf: verbosity 4", "Debug:" in read(f"{work}/cfg/images/dump.log"))
    c.expect("the command line overrides a config file", not os.path.exists(f"{work}/cfg/not-here"))
    c.criu("dump", "-t", str(pid), "-D", f"{work}/cfg/images2", "--no-default-config", env=env, check=True)
    prog.wait(timeout=10)
    c.expect("--no-default-config: the dump kills the process again", prog.returncode == -signal.SIGKILL)

    # --config FILE, read after the default files.
    with open(f"{work}/given.conf", "w") as f:
        f.write(f"images-dir {work}/given\n")
    prog, pid = c.start(f"{work}/cfg2")
    c.criu("dump", "-t", str(pid), "--config", f"{work}/given.conf", env=env, check=True)
    c.expect("--config: its images-dir is used", os.path.exists(f"{work}/given/inventory.img"))
    prog.kill()
    prog.wait()
    with open(f"{work}/bad.conf", "w") as f:
        f.write("tree 1\nbogus-option\n")
    bad = c.criu("dump", "--config", f"{work}/bad.conf")
    c.expect("a config file with an unknown option", bad.returncode != 0 and "config file" in bad.stderr and
             "--bogus-option" in bad.stderr, bad.stderr)
    missing = c.criu("dump", "--config", f"{work}/none.conf")
    c.expect("a missing --config file", missing.returncode != 0 and f"{work}/none.conf" in missing.stderr,
             missing.stderr)


def stopped_and_waiting(c, work):
    # dump -s: the process stays, stopped; it goes on when continued.
    w = f"{work}/stop"
    prog, pid = c.start(w)
    c.criu("dump", "-t", str(pid), "-D", f"{w}/images", "-s", check=True)
    wait_for(lambda: state(pid) == "T", "the process to be stopped")
    c.expect("dump -s: the process is left stopped", state(pid) == "T")
    os.kill(pid, signal.SIGCONT)
    os.kill(pid, signal.SIGKILL)
    prog.wait()

    # restore -s: the restored process waits, stopped, for a SIGCONT.
    c.criu("restore", "-D", f"{w}/images", "-d", "-s", "--pidfile", f"{w}/restored.pid", check=True)
    c.expect("restore --pidfile", read(f"{w}/restored.pid").strip() == str(pid))
    wait_for(lambda: state(pid) == "T", "the restored process to stop")
    c.expect("restore -s: the process is stopped", state(pid) == "T", state(pid))
    os.kill(pid, signal.SIGCONT)
    c.verdict(w, pid, "restore -s, then SIGCONT")

    # restore without -d waits for the process and returns its exit status.
    w = f"{work}/wait"
    prog, pid = c.start(w)
    c.criu("dump", "-t", str(pid), "-D", f"{w}/images", check=True)
    prog.wait()
    restore = subprocess.Popen([c.args.criu, "restore", "-D", f"{w}/images"], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: os.path.exists(f"/proc/{pid}") and read(f"/proc/{pid}/status").find("PPid:\t"
             f"{restore.pid}\n") >= 0 and "criu" not in read(f"/proc/{pid}/comm"), "the restored process")
    os.kill(pid, signal.SIGTERM)
    c.expect("restore waits and returns the exit status (0)", restore.wait(timeout=10) == 0, str(restore.returncode))

    c.criu("restore", "-D", f"{w}/images", "-d", check=True)
    prog_status = subprocess.Popen([c.args.criu, "restore", "-D", f"{w}/images"], stdin=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, text=True)
    err = prog_status.communicate(timeout=10)[1]
    c.expect("a second restore while the first runs fails on the pid", prog_status.returncode != 0 and
             "in use" in err, err)
    os.kill(pid, signal.SIGKILL)
    reap(pid)


def sessions(c, work):
    w = f"{work}/session"
    prog, pid = c.start(w, start_new_session=True)
    c.criu("dump", "-t", str(pid), "-D", f"{w}/images", check=True)
    prog.wait()
    c.criu("restore", "-D", f"{w}/images", "-d", check=True)
    c.expect("a session leader leads a session again", os.getsid(pid) == pid and os.getpgid(pid) == pid)
    c.verdict(w, pid, "session leader")

    w = f"{work}/group"
    prog, pid = c.start(w, process_group=0)
    c.criu("dump", "-t", str(pid), "-D", f"{w}/images", check=True)
    prog.wait()
    c.criu("restore", "-D", f"{w}/images", "-d", check=True)
    c.expect("a process group leader leads a group again, in criu's session",
             os.getpgid(pid) == pid and os.getsid(pid) == os.getsid(0))
    c.verdict(w, pid, "group leader")


def shell_job(c, work):
    w = f"{work}/tty"
    master, slave = pty.openpty()
    tty = os.ttyname(slave)
    prog, pid = c.start(w, stdin=slave, stdout=slave, stderr=slave)
    refused = c.criu("dump", "-t", str(pid), "-D", f"{w}/images")
    c.expect("a process on a terminal needs --shell-job", refused.returncode != 0 and "--shell-job" in refused.stderr
             and tty in refused.stderr, refused.stderr)
    c.criu("dump", "-t", str(pid), "-D", f"{w}/images", "-j", check=True)
    prog.wait()
    c.criu("restore", "-D", f"{w}/images", "-d", "-j", stdin=slave, stdout=slave, stderr=slave, check=True)
    c.expect("restore -j: the process is on the terminal again",
             all(os.readlink(f"/proc/{pid}/fd/{fd}") == tty for fd in range(3)))
    c.verdict(w, pid, "shell job")
    os.close(master)
    os.close(slave)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--criu", required=True)
    p.add_argument("--workdir", required=True)
    p.add_argument("--bin", required=True)
    args = p.parse_args()
    ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    shutil.rmtree(args.workdir, ignore_errors=True)
    c = Cli(args)
    for part in (basics, logs_and_config, stopped_and_waiting, sessions, shell_job):
        try:
            part(c, args.workdir) if part is not basics else part(c)
        except (Failure, subprocess.TimeoutExpired, OSError, ValueError) as e:
            c.failures.append(f"{part.__name__}: {e}")
    c.programs.cleanup()
    for f in c.failures:
        print(f"FAIL: {f}")
    if c.failures:
        sys.exit(1)
    print("PASS")


if __name__ == "__main__":
    main()
