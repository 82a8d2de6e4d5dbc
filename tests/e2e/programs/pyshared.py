"""A python3 program whose multiprocessing workers share memory: a
Value with its lock and an Array (multiprocessing's heap: a deleted file
in /dev/shm that every process maps and holds open), a Queue (a pipe, a
semaphore, and a feeder thread in each worker) and a stop flag.  Each
worker adds to the shared counter under its lock, and to its own slot of
the array, until the parent raises the flag after its SIGTERM; then it
says over the queue how often it added.  The parent checks that the
counter and the array agree with what the workers say: the e2e contract
of e2e.h."""
import multiprocessing
import os
import signal
import sys

args = dict(zip(sys.argv[1::2], sys.argv[2::2]))


def worker(k, counter, slots, stop, queue):
    queue.put((k, "ready"))
    added = 0
    while not stop.value:
        with counter.get_lock():
            counter.value += 1
        slots[k] += 1
        added += 1
    queue.put((k, added))


if __name__ == "__main__":
    multiprocessing.set_start_method("fork")
    counter = multiprocessing.Value("q", 0)
    slots = multiprocessing.Array("q", 3, lock=False)
    stop = multiprocessing.Value("b", 0, lock=False)
    queue = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=worker, args=(k, counter, slots, stop, queue)) for k in range(3)]
    for p in workers:
        p.start()
    if sorted(queue.get(timeout=10) for _ in workers) != [(k, "ready") for k in range(3)]:
        sys.exit("the workers are not ready")
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    with open(args["--pidfile"] + ".tmp", "w") as f:
        f.write(f"{os.getpid()}\n")
    os.rename(args["--pidfile"] + ".tmp", args["--pidfile"])
    signal.sigwait({signal.SIGTERM})
    stop.value = 1
    said = dict(queue.get(timeout=10) for _ in workers)
    bad = []
    for p in workers:
        p.join(10)
        if p.exitcode != 0:
            bad.append(f"worker {p.pid} ended with {p.exitcode}")
    for k in range(3):
        if said.get(k) != slots[k]:
            bad.append(f"worker {k} says it added {said.get(k)}, its slot has {slots[k]}")
    if counter.value != sum(said.values()):
        bad.append(f"the counter is {counter.value}, the workers added {sum(said.values())}")
    if min(said.values()) == 0:
        bad.append(f"a worker never added: {said}")
    verdict = "PASS\n" if not bad else "FAIL: " + "; ".join(bad) + "\n"
    with open(args["--outfile"] + ".tmp", "w") as f:
        f.write(verdict)
    os.rename(args["--outfile"] + ".tmp", args["--outfile"])
