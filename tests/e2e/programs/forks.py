"""A python3 program with worker processes (os.fork: multiprocessing's
Process keeps a pipe to each worker, and pipes are not restored yet).
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


def work(k):
    """Sums k * n for n = 1, 2, ... until SIGTERM; True if the sum is right."""
    total, n = 0, 0
    data = bytearray(range(256)) * 4096  # a MiB of its own to check
    while not stop:
        n += 1
        total += k * n
    return total == k * n * (n + 1) // 2 and data == bytearray(range(256)) * 4096


signal.signal(signal.SIGTERM, on_term)
workers = []
for k in (2, 3, 7):
    pid = os.fork()
    if pid == 0:
        os._exit(0 if work(k) else 1)
    workers.append(pid)
with open(args["--pidfile"] + ".tmp", "w") as f:
    f.write(f"{os.getpid()}\n")
os.rename(args["--pidfile"] + ".tmp", args["--pidfile"])
mine = work(11)
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
