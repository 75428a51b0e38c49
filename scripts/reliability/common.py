"""Shared helpers for the reliability scripts: input generators with known totals, epbctl runs."""

import hashlib
import json
import os
import random
import sqlite3
import struct
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def default_epbctl():
    """The epbctl binary: $EPBCTL_BIN, else the debug build of `swift build`."""
    return os.environ.get("EPBCTL_BIN") or os.path.join(ROOT, ".build", "debug", "epbctl")


def row_loads(rng, experts, total):
    """`experts` non-negative integers summing to `total` (a random composition)."""
    cuts = sorted(rng.randrange(total + 1) for _ in range(experts - 1))
    return [b - a for a, b in zip([0] + cuts, cuts + [total])]


class Input:
    """One generated input file and what a correct ingest must store from it."""

    def __init__(self, path, fmt, steps, layers, experts, total, first_step=None):
        self.path = path
        self.format = fmt
        self.steps = steps
        self.layers = layers
        self.experts = experts
        self.total = total
        self.first_step = first_step  # None: relative steps
        with open(path, "rb") as f:
            self.sha256 = hashlib.sha256(f.read()).hexdigest()

    @property
    def rows(self):
        return self.steps * self.layers


def write_input(path, fmt, rng, steps, layers, experts, row_total, first_step=None):
    """Writes `steps` × `layers` rows, each summing to `row_total`, as `fmt`.

    `vllm`, `csv` and `jsonl` carry explicit steps from `first_step`; `sglang` and `npy` are relative.
    """
    cube = [[row_loads(rng, experts, row_total) for _ in range(layers)] for _ in range(steps)]
    if fmt == "sglang":
        with open(path, "w") as f:
            json.dump({"logical_count": cube}, f, separators=(",", ":"))
    elif fmt == "vllm":
        history = [{"step": first_step + t, "logical_expert_load": cube[t]} for t in range(steps)]
        with open(path, "w") as f:
            json.dump({"load_history": history}, f, separators=(",", ":"))
    elif fmt == "csv":
        with open(path, "w") as f:
            f.write("step,layer,expert,load\n")
            for t in range(steps):
                for layer in range(layers):
                    for e, v in enumerate(cube[t][layer]):
                        f.write(f"{first_step + t},{layer},{e},{v}\n")
    elif fmt == "jsonl":
        with open(path, "w") as f:
            for t in range(steps):
                f.write(json.dumps({"step": first_step + t, "loads": cube[t]}, separators=(",", ":")) + "\n")
    elif fmt == "npy":
        header = "{'descr': '<i8', 'fortran_order': False, 'shape': (%d, %d, %d), }" % (steps, layers, experts)
        header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
        with open(path, "wb") as f:
            f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
            flat = [v for step in cube for row in step for v in row]
            f.write(struct.pack("<%dq" % len(flat), *flat))
    else:
        raise ValueError(fmt)
    explicit = fmt in ("vllm", "csv", "jsonl")
    return Input(path, fmt, steps, layers, experts, steps * layers * row_total, first_step if explicit else None)


def run(epbctl, args, db, env=None, timeout=600):
    """Runs epbctl to completion; returns (returncode, stdout, stderr)."""
    full_env = dict(os.environ)
    full_env.pop("EPBCTL_DB", None)
    if env:
        full_env.update(env)
    p = subprocess.run([epbctl] + args + ["--db", db], capture_output=True, text=True, env=full_env, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def query(db, sql, args=()):
    """Rows of `sql` on `db`, read through Python's sqlite3 (never writes), or, for a
    `postgres://` URL, through `psql` (`?` placeholders become literals; numbers come back as
    int or float, NULL as None)."""
    if db.startswith("postgres://") or db.startswith("postgresql://"):
        return _psql(db, sql, args)
    con = sqlite3.connect(db, timeout=60)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def _psql(db, sql, args):
    parts = sql.split("?")
    assert len(parts) == len(args) + 1, "one argument per placeholder"
    literal = lambda v: "'" + v.replace("'", "''") + "'" if isinstance(v, str) else repr(v)
    text = parts[0] + "".join(literal(a) + rest for a, rest in zip(args, parts[1:]))
    p = subprocess.run(["psql", db, "-X", "-A", "-t", "-F", "\x1f", "-v", "ON_ERROR_STOP=1", "-c", text],
                       capture_output=True, text=True, check=True)

    def cell(c):
        if c == "":
            return None
        for kind in (int, float):
            try:
                return kind(c)
            except ValueError:
                pass
        return c
    return [tuple(cell(c) for c in line.split("\x1f")) for line in p.stdout.splitlines() if line]
