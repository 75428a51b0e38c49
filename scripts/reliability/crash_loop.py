#!/usr/bin/env python3
"""Crash loop: SIGKILL `epbctl ingest` at random points, and check the database after each kill.

Each round ingests a new input (vLLM JSON, CSV, JSON lines, SGLang JSON or .npy, about
160,000 loads) and kills the child with SIGKILL: most rounds after a random delay drawn over
the measured length of a whole ingest (so kills land in start-up, reading, parsing, storing and
commit), some while it sleeps inside its open transaction (EPBCTL_TEST_PAUSE_BEFORE_COMMIT).
After each kill:
  - `PRAGMA integrity_check` is `ok`;
  - the database holds exactly the inputs that completed (by content hash), each with all its
    rows and its exact total, and nothing of the killed one, unless the kill came after its
    commit (then all of it; counted apart);
  - ingesting the killed input again succeeds (`ingested`, or `already-ingested` when its commit
    had landed).
Rounds where the ingest finished before the kill do not count as kills.

With `--db postgres://…` (an empty database; an epbctl built with `--traits Postgres`) the kills
go against PostgreSQL: a killed client's open transaction is rolled back by the server.

Usage: scripts/reliability/crash_loop.py [--kills 100] [--epbctl PATH] [--seed N] [--db URL]
Prints one summary line starting with `crash-loop:`; exits non-zero on the first violation.
"""

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import default_epbctl, query, run, write_input  # noqa: E402

FORMATS = ["vllm", "csv", "jsonl", "sglang", "npy"]
LAYERS, EXPERTS, ROW_TOTAL = 61, 256, 100_000


def fail(message):
    print(f"crash-loop: FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def series_of(inp):
    return "explicit" if inp.first_step is not None else "relative"


def check(db, completed, killed, round_no):
    """Checks the database against the completed inputs; returns whether `killed` is stored."""
    if not db.startswith("postgres"):
        ok = query(db, "PRAGMA integrity_check")
        if ok != [("ok",)]:
            fail(f"round {round_no}: integrity_check: {ok}")
    stored = {
        sha: (rows, total)
        for sha, rows, total in query(db, "SELECT content_sha256, rows, total_load FROM ingest")
    }
    expected = {inp.sha256 for inp in completed}
    extra = set(stored) - expected
    missing = expected - set(stored)
    if missing:
        fail(f"round {round_no}: {len(missing)} completed input(s) are missing from the database")
    landed = False
    if extra:
        if extra != {killed.sha256}:
            fail(f"round {round_no}: the database holds {len(extra)} input(s) that never completed")
        landed = True
    present = completed + ([killed] if landed else [])
    for inp in present:
        rows, total = stored[inp.sha256]
        if rows != inp.rows or total != inp.total:
            fail(f"round {round_no}: {inp.path}: stored {rows} rows / {total}, expected {inp.rows} / {inp.total}")
    # Whole-table sums: no row of a killed ingest survives.
    count, total = query(db, "SELECT COUNT(*), COALESCE(SUM(total), 0) FROM load")[0]
    if count != sum(i.rows for i in present) or total != sum(i.total for i in present):
        fail(f"round {round_no}: load table holds {count} rows / {total}, "
             f"expected {sum(i.rows for i in present)} / {sum(i.total for i in present)}")
    steps = query(db, "SELECT COUNT(*) FROM step")[0][0]
    if steps != sum(i.steps for i in present):
        fail(f"round {round_no}: step table holds {steps} steps, expected {sum(i.steps for i in present)}")
    return landed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--epbctl", default=default_epbctl())
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--steps", type=int, default=6, help="steps per input")
    parser.add_argument("--pause-share", type=float, default=0.2, help="share of kills inside the pause hook")
    parser.add_argument("--db", help="a postgres:// URL of an empty database (default: a new SQLite file); "
                        "the server then checks its own consistency, and this script the content")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    work = tempfile.mkdtemp(prefix="epbctl-crash-")
    db = args.db or os.path.join(work, "epb.sqlite")
    completed = []
    next_step = 0

    def new_input(i):
        nonlocal next_step
        fmt = FORMATS[i % len(FORMATS)]
        path = os.path.join(work, f"in{i}.{ {'sglang': 'json', 'vllm': 'json'}.get(fmt, fmt) }")
        inp = write_input(path, fmt, rng, args.steps, LAYERS, EXPERTS, ROW_TOTAL, first_step=next_step)
        next_step += args.steps
        return inp

    def ingest(inp):
        return run(args.epbctl, ["ingest", inp.path, "--series", series_of(inp), "--format", inp.format, "--json"], db)

    # Calibrate: one whole ingest of each format bounds the random kill delay for that format.
    horizon = {}
    for i, fmt in enumerate(FORMATS):
        inp = new_input(i)
        t0 = time.monotonic()
        rc, out, err = ingest(inp)
        horizon[fmt] = (time.monotonic() - t0) * 1.1
        if rc != 0:
            fail(f"calibration ingest failed: {err}")
        completed.append(inp)
    print(f"crash-loop: seed {args.seed}, kill delays drawn in 0..(1.1 × a whole ingest): "
          + ", ".join(f"{f} {h:.2f} s" for f, h in horizon.items()), flush=True)

    kills = paused_kills = finished_first = landed_after_commit = 0
    i = len(FORMATS)
    started = time.monotonic()
    while kills < args.kills:
        inp = new_input(i)
        i += 1
        paused = rng.random() < args.pause_share
        env = dict(os.environ)
        env.pop("EPBCTL_DB", None)
        if paused:
            env["EPBCTL_TEST_PAUSE_BEFORE_COMMIT"] = "60"
        child = subprocess.Popen(
            [args.epbctl, "ingest", inp.path, "--series", series_of(inp), "--format", inp.format, "--db", db],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        if paused:
            line = child.stderr.readline()
            if b"paused before commit" not in line:
                child.kill()
                fail(f"the pause hook did not report: {line!r}")
        else:
            time.sleep(rng.uniform(0, horizon[inp.format]))
        if child.poll() is None:
            # The child can still exit between poll() and the signal (send_signal then does
            # nothing); that round is a finished ingest, handled below like one.
            child.send_signal(signal.SIGKILL)
        child.wait()
        if child.returncode != -signal.SIGKILL:
            # Finished before the kill: it must have succeeded, and counts as completed.
            err = child.stderr.read().decode(errors="replace")
            child.stderr.close()
            if child.returncode != 0:
                fail(f"{inp.path}: ingest failed without a kill (exit {child.returncode}): {err.strip()}")
            completed.append(inp)
            finished_first += 1
            check(db, completed, inp, i)
            continue
        child.stderr.close()
        kills += 1
        paused_kills += paused
        landed = check(db, completed, inp, i)
        landed_after_commit += landed
        rc, out, err = ingest(inp)
        if rc != 0:
            fail(f"round {i}: ingesting {inp.path} again after the kill failed: {err.strip()}")
        expected = '"already-ingested"' if landed else '"ingested"'
        if expected not in out:
            fail(f"round {i}: ingesting {inp.path} again printed {out.strip()}, expected status {expected}")
        completed.append(inp)
        check(db, completed, inp, i)
        os.remove(inp.path)

    elapsed = time.monotonic() - started
    backend = "PostgreSQL" if args.db else "SQLite"
    print(f"crash-loop ({backend}): {kills} kills survived ({paused_kills} inside the open transaction via the pause hook, "
          f"{kills - paused_kills} at random times, {landed_after_commit} after the commit had landed); "
          f"{finished_first} ingests finished before their kill; {len(completed)} inputs stored, "
          f"{'content' if args.db else 'integrity and content'} ok after every kill; {elapsed:.0f} s", flush=True)
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
