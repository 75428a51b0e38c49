#!/usr/bin/env python3
"""Limits: hostile inputs are refused early with a clear message, in bounded memory.

Runs `epbctl ingest` on each hostile input and measures the child's peak RSS (ru_maxrss from
wait4). Each must exit 1 (no signal), name its file (or `-`) and the limit on stderr, store
nothing, and stay under its memory bound.

Usage: scripts/reliability/limits.py [--epbctl PATH]
Prints one line per input and a summary starting with `limits:`; exits non-zero on a violation.
"""

import argparse
import os
import shutil
import struct
import signal
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import default_epbctl, query  # noqa: E402

GB = 1 << 30


def npy_header(shape, descr="<i4"):
    h = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape)
    h += " " * ((64 - (10 + len(h) + 1) % 64) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode()


def run_measured(epbctl, args, db, stdin_writer=None):
    """Runs epbctl under GNU time; returns (exit status or -signal, stderr, peak RSS in MiB).

    `/usr/bin/time -f %M` reports the maximum resident set of its child, forked from the small
    `time` process (ru_maxrss from Python's own wait4 would include this Python's pages).
    """
    env = {k: v for k, v in os.environ.items() if k != "EPBCTL_DB"}
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        p = subprocess.Popen(["/usr/bin/time", "-q", "-f", "%M %x", "-o", rss.name, epbctl] + args + ["--db", db],
                             stdin=subprocess.PIPE if stdin_writer else subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        feeder = None
        if stdin_writer:
            feeder = threading.Thread(target=stdin_writer, args=(p.stdin,))
            feeder.start()
        err = p.stderr.read().decode(errors="replace")
        p.wait()
        if feeder:
            feeder.join()
        fields = rss.read().split()
    # time prints "Command terminated by signal N" before the numbers when the child is killed.
    peak_kib, status = int(fields[-2]), int(fields[-1])
    if "signal" in " ".join(fields):
        status = -int(fields[fields.index("signal") + 1])
    return status, err.strip(), peak_kib / 1024


def stream(prefix, filler, total):
    """A stdin writer: `prefix`, then `filler` repeated up to `total` bytes (stops on a closed pipe)."""
    def write(pipe):
        chunk = filler * (1 << 20 // len(filler) or 1)
        try:
            pipe.write(prefix)
            sent = len(prefix)
            while sent < total:
                pipe.write(chunk)
                sent += len(chunk)
            pipe.close()
        except (BrokenPipeError, OSError):
            pass
    return write


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epbctl", default=default_epbctl())
    args = parser.parse_args()
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    work = tempfile.mkdtemp(prefix="epbctl-limits-")
    db = os.path.join(work, "epb.sqlite")
    seed = os.path.join(work, "seed.json")
    with open(seed, "w") as f:
        f.write('{"logical_count": [[1, 2], [3, 4]]}')
    subprocess.run([args.epbctl, "ingest", seed, "--db", db], check=True, capture_output=True)

    def write(name, data):
        path = os.path.join(work, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    sparse = os.path.join(work, "line2g.jsonl")
    with open(sparse, "wb") as f:  # a 2 GB line (sparse: no disk used)
        f.truncate(2 * GB)
    big_line_csv = os.path.join(work, "line2g.csv")
    with open(big_line_csv, "wb") as f:
        f.write(b"step,layer,expert,load\n0,0,0,")
        f.truncate(2 * GB)
    cases = [
        # (label, arguments, stdin writer, expected text on stderr, memory bound MiB)
        ("npy header claiming 10^9 loads", [write("claims.npy", npy_header("(1000, 1000, 1000)") + b"\0" * 16)],
         None, "holds 1000000000 loads; epbctl accepts at most", 64),
        ("npy header claiming 2^62 loads", [write("overflow.npy", npy_header("(2147483648, 2147483648, 2)"))],
         None, "holds more loads than epbctl accepts", 64),
        ("2 GB line in a .jsonl file", [sparse, "--format", "jsonl"], None, "is 2.0 GiB; epbctl reads inputs of at most 1.0 GiB",
         64),
        ("2 GB line in a .csv file", [big_line_csv, "--format", "csv"], None, "is 2.0 GiB; epbctl reads inputs", 64),
        ("2 GB line on stdin, jsonl stream", ["-", "--format", "jsonl"],
         stream(b'{"step": 0, "loads": [[', b"1,", 2 * GB), "line is longer than that; epbctl accepts JSON lines of at most 64.0 MiB", 256),
        ("2 GB line on stdin, csv", ["-", "--format", "csv"],
         stream(b"step,layer,expert,load\n0,0,0,", b"1", 2 * GB), "-: line 2 is longer than 64.0 KiB",
         64),  # refused while reading, once the line passes the CSV line limit
        ("JSON nested 10^7 deep (in a skipped key)", [write("deep1.json", b'{"x": ' + b"[" * 10_000_000 + b"]}"), "--format", "sglang"],
         None, "JSON nested more than 512 levels deep", 128),
        ("JSON nested 10^7 deep (the loads)", [write("deep2.json", b'{"logical_count": ' + b"[" * 10_000_000 + b"]}"),
         "--format", "sglang"], None, "logical_count has 10000000 dimensions", 128),
        ("CSV layer id 2^53", [write("layer.csv", b"step,layer,expert,load\n0,9007199254740992,0,1\n")], None,
         "layer 9007199254740992 is too large; epbctl accepts layer ids below 4096", 64),
        ("SGLang step of 10^6 layers", [write("layers.json", b'{"logical_count": [' + b",".join([b"[1]"] * 1_000_000) + b"]}")],
         None, "step has more than 4096 layers", 128),
        ("npy of 10^6 layers", [write("layers.npy", npy_header("(1, 1000000, 1)", "|u1") + b"\1" * 1_000_000)], None,
         "has more than 4096 layers or 65536 experts", 64),
        ("JSON lines layer id 10^15", [write("layer.jsonl", b'{"step":0,"layer":1000000000000000,"loads":[1]}\n')], None,
         "layer 1000000000000000 is too large", 64),
    ]
    failures = 0
    peaks = []
    for label, arguments, writer, expected, bound in cases:
        status, err, peak = run_measured(args.epbctl, ["ingest"] + arguments, db, writer)
        name = os.path.basename(arguments[0])
        ok = status == 1 and expected in err and name in err and peak <= bound
        failures += not ok
        peaks.append(peak)
        first = err.splitlines()[0] if err else ""
        print(f"limits: {'ok  ' if ok else 'FAIL'} {label}: exit {status}, peak RSS {peak:.0f} MiB "
              f"(bound {bound}): {first[:160]}", flush=True)
    stored = query(db, "SELECT COUNT(*) FROM ingest")[0][0]
    if stored != 1:
        print(f"limits: FAIL: {stored - 1} hostile input(s) were stored")
        failures += 1
    shutil.rmtree(work)
    print(f"limits: {len(cases) - failures}/{len(cases)} hostile inputs refused with a clear message; "
          f"peak RSS at most {max(peaks):.0f} MiB", flush=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
