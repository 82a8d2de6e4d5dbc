"""A python3 program that keeps computing across a dump and restore, and
checks its result: the e2e contract of e2e.h, in Python."""
import signal
import sys

args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
stop = False


def on_term(sig, frame):
    global stop
    stop = True


signal.signal(signal.SIGTERM, on_term)
total, n = 0, 0
with open(args["--pidfile"] + ".tmp", "w") as f:
    import os
    f.write(f"{os.getpid()}\n")
os.rename(args["--pidfile"] + ".tmp", args["--pidfile"])
while not stop:
    n += 1
    total += n * n
expected = n * (n + 1) * (2 * n + 1) // 6
verdict = "PASS\n" if total == expected else f"FAIL: sum of squares to {n} is {total}, not {expected}\n"
with open(args["--outfile"] + ".tmp", "w") as f:
    f.write(verdict)
os.rename(args["--outfile"] + ".tmp", args["--outfile"])
