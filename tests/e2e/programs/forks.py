"""A python3 program with multiprocessing workers that talk to it over
pipes (multiprocessing.Pipe, and the pipe Process keeps to each worker).
Each worker keeps computing until SIGTERM, then sends its sum and n over
its pipe; the parent checks every answer and each worker's exit code after
its own SIGTERM: the e2e contract of e2e.h."""
import multiprocessing
import os
import signal
import sys

args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
stop = False


def on_term(sig, frame):
    global stop
    stop = True


def work(k):
    """Sums k * n for n = 1, 2, ... until SIGTERM."""
    total, n = 0, 0
    while not stop:
        n += 1
        total += k * n
    return total, n


def worker(k, conn):
    data = bytearray(range(256)) * 4096
    os.kill(os.getppid(), signal.SIGRTMIN)  # ready: queued, one per worker
    total, n = work(k)
    conn.send((total, n, data == bytearray(range(256)) * 4096))
    conn.close()


if __name__ == "__main__":
    multiprocessing.set_start_method("fork")
    signal.signal(signal.SIGTERM, on_term)
    # Ready when every worker has made its memory, before the runner looks.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGRTMIN})
    workers = []
    for k in (2, 3, 7):
        receive, send = multiprocessing.Pipe(duplex=False)
        p = multiprocessing.Process(target=worker, args=(k, send))
        p.start()
        send.close()
        workers.append((k, p, receive))
    for _ in workers:
        if not signal.sigtimedwait({signal.SIGRTMIN}, 10):
            sys.exit("the workers are not ready")
    with open(args["--pidfile"] + ".tmp", "w") as f:
        f.write(f"{os.getpid()}\n")
    os.rename(args["--pidfile"] + ".tmp", args["--pidfile"])
    mine, n = work(11)
    bad = [] if mine == 11 * n * (n + 1) // 2 else ["the parent's sum is wrong"]
    for k, p, receive in workers:
        os.kill(p.pid, signal.SIGTERM)
        total, n, data_ok = receive.recv()
        p.join()
        if total != k * n * (n + 1) // 2 or not data_ok:
            bad.append(f"worker {p.pid} says {total} for {n} terms of {k} (its memory {'is' if data_ok else 'is not'} intact)")
        if p.exitcode != 0:
            bad.append(f"worker {p.pid} ended with {p.exitcode}")
    verdict = "PASS\n" if not bad else "FAIL: " + "; ".join(bad) + "\n"
    with open(args["--outfile"] + ".tmp", "w") as f:
        f.write(verdict)
    os.rename(args["--outfile"] + ".tmp", args["--outfile"])
