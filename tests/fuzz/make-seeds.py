#!/usr/bin/env python3
"""Packs dump directories into seeds for fuzz-images.

  make-seeds.py -o OUTDIR DUMPDIR...

Each DUMPDIR, the images of a dump (`criu dump -t PID -D DUMPDIR`) of one
process or a tree, with any number of threads, becomes OUTDIR/seed-NAME,
NAME being the directory's name, or its parent's if it is called "images".  The container format is described
at the top of fuzz_images.cpp: the dump's pid, then one record per file.

The images stay as they are, with the pid they name inside, and the
container carries that pid for the file names: no image is rewritten but
for the paths inside this checkout, which become /dataxxx... of the same
length (no seed names a directory of the machine that made it), so a seed
is a dump that restore would accept as long as the files it names
(executable, mappings) are there unchanged.  The root's files go into the slots
of the container's pid, every other process's into the slots by id.  A
pages image (pages-<pid>.img, or pages-1.img of older dumps) goes in as its
size only (a sparse file for the harness): restore checks nothing else of
it.
stats-dump.img goes in if there is one: restore does not read it, but criu
show does.  Ghost images (deleted files) are left out: the checks before a
restore do not read them.

To dump the e2e programs, start one from build/dev/tests/e2e/bin with
`--pidfile P --outfile O`, wait for P, and dump the pid it holds.
"""
import argparse
import os
import re
import struct
import sys

# The slots of fuzz_images.cpp, by file name with the pid left out.
SLOTS = {"inventory.img": 0, "pstree.img": 1, "core-{}.img": 2, "mm-{}.img": 3, "pagemap-{}.img": 4,
         "files.img": 5, "fdinfo-{}.img": 6, "fs-{}.img": 7}
SPARSE_PAGES = 9
OPTIONAL = {"stats-dump.img": 10}  # only for criu show
THREAD_CORE = 11  # core-<tid>.img of a thread but the root's leader, the tid first
BY_ID = {"mm-{}.img": 12, "pagemap-{}.img": 13, "fdinfo-{}.img": 14, "fs-{}.img": 15}
SPARSE_PAGES_BY_ID = 16


def varint(data, i):
    value, shift = 0, 0
    while True:
        value |= (data[i] & 0x7F) << shift
        shift += 7
        i += 1
        if not data[i - 1] & 0x80:
            return value, i


def dump_pid(images):
    """The root's pid: the first level of the first entry's pid in pstree.img
    (after the 12-byte header and the entry's length, field 1 is the pid
    message, whose field 1 is the packed levels)."""
    with open(os.path.join(images, "pstree.img"), "rb") as f:
        data = f.read()[16:]
    if data[0] != 0x0A:
        sys.exit(f"make-seeds: {images}/pstree.img: the first entry does not start with its pid")
    _, i = varint(data, 1)
    if data[i] != 0x0A:
        sys.exit(f"make-seeds: {images}/pstree.img: the root's pid has no levels")
    _, i = varint(data, i + 1)
    return varint(data, i)[0]


def other_pids(images, pid):
    pids = (re.fullmatch(r"mm-(\d+)\.img", n) for n in os.listdir(images))
    return sorted(int(m.group(1)) for m in pids if m and int(m.group(1)) != pid)


def thread_tids(images, pid):
    tids = (re.fullmatch(r"core-(\d+)\.img", n) for n in os.listdir(images))
    return sorted(int(m.group(1)) for m in tids if m and int(m.group(1)) != pid)


def pack(images):
    pid = dump_pid(images)
    out = struct.pack("<I", pid)
    for pattern, slot in SLOTS.items():
        path = os.path.join(images, pattern.format(pid))
        if not os.path.exists(path):
            sys.exit(f"make-seeds: {path} is missing")
        with open(path, "rb") as f:
            data = f.read()
        out += struct.pack("<BI", slot, len(data)) + data
    for tid in thread_tids(images, pid):
        with open(os.path.join(images, f"core-{tid}.img"), "rb") as f:
            data = struct.pack("<I", tid) + f.read()
        out += struct.pack("<BI", THREAD_CORE, len(data)) + data
    for other in other_pids(images, pid):
        for pattern, slot in BY_ID.items():
            with open(os.path.join(images, pattern.format(other)), "rb") as f:
                data = struct.pack("<I", other) + f.read()
            out += struct.pack("<BI", slot, len(data)) + data
    if os.path.exists(os.path.join(images, "pages-1.img")):
        out += struct.pack("<BIQ", SPARSE_PAGES, 8, os.path.getsize(os.path.join(images, "pages-1.img")))
    for owner in [pid] + other_pids(images, pid):
        path = os.path.join(images, f"pages-{owner}.img")
        if os.path.exists(path):
            out += struct.pack("<BIIQ", SPARSE_PAGES_BY_ID, 12, owner, os.path.getsize(path))
    for name, slot in OPTIONAL.items():
        path = os.path.join(images, name)
        if os.path.exists(path):
            with open(path, "rb") as f:
                data = f.read()
            out += struct.pack("<BI", slot, len(data)) + data
    return out


def scrub(seed, checkout):
    """The paths of this checkout (the dumped programs' executables, their
    files) become /data/... of the same length, so that no seed names this
    machine's directories and every length prefix in the images stays
    right."""
    old = checkout.encode()
    new = (b"/data" + b"x" * len(old))[:len(old)] if len(old) >= 5 else old
    seed = seed.replace(old + b"/", new + b"/")
    # Pieces of it that registers held (a string function's last 16
    # bytes): the directory above the checkout, of the same length too.
    top = b"/" + old.split(b"/")[1] + b"/"
    return seed.replace(top, (b"/data" + b"x" * len(top))[:len(top) - 1] + b"/") if len(top) >= 6 else seed


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("-o", dest="outdir", required=True)
    p.add_argument("dumps", nargs="+")
    args = p.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    for images in args.dumps:
        path = os.path.abspath(images)
        name = os.path.basename(path)
        if name == "images":
            name = os.path.basename(os.path.dirname(path))
        seed = scrub(pack(images), os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
        with open(os.path.join(args.outdir, f"seed-{name}"), "wb") as f:
            f.write(seed)
        print(f"seed-{name}: {len(seed)} bytes, pid {dump_pid(images)}")


if __name__ == "__main__":
    main()
