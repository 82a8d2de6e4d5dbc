"""A python3 program with worker processes (os.fork: multiprocessing's
Process keeps a pipe to each worker, and a pipe that two processes share
is not restored yet).
Each worker keeps computing and checks its result; the parent reads their
verdicts, their exit statuses, after SIGTERM: the e2e contract of e2e.h."""
import os
import signal
import sys

args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
stop = False


def on_term(sig, frame):
    global stop
    stop = True


def work(k, data):
    """Sums k * n for n = 1, 2, ... until SIGTERM; True if the sum is right
    and data, a MiB of the process's own, is as it was made."""
    total, n = 0, 0
    while not stop:
        n += 1
        total += k * n
    return total == k * n * (n + 1) // 2 and data == bytearray(range(256)) * 4096


def worker(k):
    data = bytearray(range(256)) * 4096
    os.kill(os.getppid(), signal.SIGRTMIN)  # ready: queued, one per worker
    os._exit(0 if work(k, data) else 1)


signal.signal(signal.SIGTERM, on_term)
# Ready when every worker has made its memory, before the runner looks.
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGRTMIN})
workers = []
for k in (2, 3, 7):
    pid = os.fork()
    if pid == 0:
        worker(k)
    workers.append(pid)
data = bytearray(range(256)) * 4096
for _ in workers:
    if not signal.sigtimedwait({signal.SIGRTMIN}, 10):
        sys.exit("the workers are not ready")
with open(args["--pidfile"] + ".tmp", "w") as f:
    f.write(f"{os.getpid()}\n")
os.rename(args["--pidfile"] + ".tmp", args["--pidfile"])
mine = work(11, data)
bad = []
for pid in workers:
    os.kill(pid, signal.SIGTERM)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        bad.append(f"worker {pid} ended with status {status}")
if not mine:
    bad.append("the parent's sum is wrong")
verdict = "PASS\n" if not bad else "FAIL: " + "; ".join(bad) + "\n"
with open(args["--outfile"] + ".tmp", "w") as f:
    f.write(verdict)
os.rename(args["--outfile"] + ".tmp", args["--outfile"])
