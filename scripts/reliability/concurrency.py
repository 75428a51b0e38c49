#!/usr/bin/env python3
"""Concurrency: 4 ingesters and 2 planners on one database for a bounded time.

Two series, each row (step, layer) of every input summing to ROW_TOTAL:
  - `explicit`: ingesters 0 and 1 write vLLM JSON, CSV and JSON-lines files with explicit,
    disjoint step numbers;
  - `appended`: ingesters 2 and 3 write SGLang JSON and .npy files without step numbers, each
    appended after the series' last step by whichever commits first.
Planners loop on `epbctl plan --series S --layer all --dry-run --json`, alternating the series.

Checked:
  - every command exits 0 and none says "database is locked" (or any other error);
  - afterwards, every step an ingester reported stored (`first_step..last_step` of its `--json`
    output) is in the database exactly once: `steps × layers` rows, each summing to ROW_TOTAL,
    belonging to that ingest; and the database holds nothing else;
  - each plan read a consistent window. On SQLite, which serialises writers, that is a prefix of
    the series' commits (in commit order, the `ingest` table's ids). On PostgreSQL, where ingests
    of disjoint steps commit in parallel and ids need not follow commit order, it is a snapshot:
    every ingest finished before the plan started, none started after it ended, and some subset
    of those that ran meanwhile. Either way its per-layer GPU loads sum to `N × ROW_TOTAL` on
    every layer, with N the step count of that set, and its window is the set's first..last
    step. (GPU loads carry float rounding of ~1e-16 relative; a torn read is off by a whole
    row, so sums are compared to within 1e-9 relative.)

With `--db postgres://…` (an empty database; an epbctl built with `--traits Postgres`) the same
run goes against PostgreSQL, read back through psql; `--ingesters 8` runs two recorders in each
of the four roles above.

Usage: scripts/reliability/concurrency.py [--seconds 60] [--epbctl PATH] [--seed N] [--db URL] [--ingesters 4]
Prints one summary line starting with `concurrency:`; exits non-zero on any violation.
"""

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import default_epbctl, query, run, write_input  # noqa: E402

LAYERS, EXPERTS, ROW_TOTAL = 8, 64, 10_000
TOPOLOGY = ["--replicas", "80", "--gpus", "8", "--nodes", "2", "--groups", "4"]
failures = []
lock = threading.Lock()


def record_failure(message):
    with lock:
        failures.append(message)
    print(f"concurrency: FAIL: {message}", file=sys.stderr, flush=True)


def ingester(index, epbctl, db, work, deadline, seed, log):
    rng = random.Random(seed * 10 + index)
    role = index % 4
    formats = ["vllm", "csv", "jsonl"] if role < 2 else (["sglang"] if role == 2 else ["npy"])
    series = "explicit" if role < 2 else "appended"
    j = 0
    while time.monotonic() < deadline and not failures:
        fmt = formats[j % len(formats)]
        steps = rng.randint(1, 12)
        first = index * 10_000_000 + j * 100
        path = os.path.join(work, f"i{index}-{j}.{ {'sglang': 'json', 'vllm': 'json'}.get(fmt, fmt) }")
        inp = write_input(path, fmt, rng, steps, LAYERS, EXPERTS, ROW_TOTAL, first_step=first)
        t0 = time.monotonic()
        rc, out, err = run(epbctl, ["ingest", path, "--series", series, "--format", fmt, "--json"], db)
        t1 = time.monotonic()
        if rc != 0 or "locked" in err:
            record_failure(f"ingester {index}: {path}: exit {rc}: {err.strip()}")
            return
        file = json.loads(out)["files"][0]
        if file["status"] != "ingested" or file["steps"] != steps:
            record_failure(f"ingester {index}: {path}: unexpected result {file}")
            return
        with lock:
            log.append({"series": series, "input": inp, "start": t0, "end": t1,
                        "first": file["first_step"], "last": file["last_step"], "steps": steps})
        os.remove(path)
        j += 1


def planner(index, epbctl, db, deadline, log):
    k = 0
    while time.monotonic() < deadline and not failures:
        series = ["explicit", "appended"][(k + index) % 2]
        t0 = time.monotonic()
        rc, out, err = run(epbctl, ["plan", "--series", series, "--layer", "all", "--dry-run", "--json"] + TOPOLOGY, db)
        t1 = time.monotonic()
        if rc != 0 or "locked" in err:
            record_failure(f"planner {index}: exit {rc}: {err.strip()}")
            return
        plan = json.loads(out)
        sums = [sum(layer["gpu_load"]) for layer in plan["layers"]]
        with lock:
            log.append({"series": series, "start": t0, "end": t1, "window": plan["window"], "sums": sums,
                        "layers": [layer["layer"] for layer in plan["layers"]]})
        k += 1


def snapshot_problem(commits, plan, seen, window):
    """Why a plan's `seen` steps and `window` are no snapshot of `commits`, or None.

    A snapshot holds every ingest that had finished before the plan started, none that started
    after it ended, and some subset of the others (those running while it ran) whose steps make
    up the rest of `seen` and whose span keeps the window `lo..hi`: the running ingests outside
    it are out, those starting at `lo` or ending at `hi` are in (no two ingests of a series share
    a step), and the step counts of the rest must reach the remainder (a subset sum).
    """
    lo, hi = window
    done = [e for e in commits if e["end"] < plan["start"]]
    running = [e for e in commits if e["end"] >= plan["start"] and e["start"] < plan["end"]]
    summary = (f"{seen} steps over {lo}..{hi} is no snapshot: {len(done)} ingests had finished before the plan "
               f"started and {len(running)} ran while it ran")
    inside = [e for e in running if lo <= e["first"] and e["last"] <= hi]
    forced = [e for e in inside if e["first"] == lo or e["last"] == hi]
    chosen = done + forced
    if any(e["first"] < lo or e["last"] > hi for e in done) or not chosen:
        return summary
    if (min(e["first"] for e in chosen), max(e["last"] for e in chosen)) != (lo, hi):
        return summary
    remainder = seen - sum(e["steps"] for e in chosen)
    reachable = {0}
    for e in inside:
        if e not in forced:
            reachable |= {r + e["steps"] for r in reachable if r + e["steps"] <= remainder}
    return None if remainder in reachable else summary


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--epbctl", default=default_epbctl())
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--db", help="a postgres:// URL of an empty database (default: a new SQLite file)")
    parser.add_argument("--ingesters", type=int, default=4, choices=range(4, 33), metavar="4..32")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="epbctl-concurrency-")
    db = args.db or os.path.join(work, "epb.sqlite")
    rng = random.Random(args.seed)
    ingests, plans = [], []

    # One input in each series first, so that planners always find data.
    for series, fmt, first in [("explicit", "vllm", 90_000_000), ("appended", "npy", None)]:
        path = os.path.join(work, f"seed-{series}")
        inp = write_input(path, fmt, rng, 2, LAYERS, EXPERTS, ROW_TOTAL, first_step=first or 0)
        rc, out, err = run(args.epbctl, ["ingest", path, "--series", series, "--format", fmt, "--json"], db)
        if rc != 0:
            sys.exit(f"concurrency: seed ingest failed: {err}")
        f = json.loads(out)["files"][0]
        ingests.append({"series": series, "input": inp, "start": 0, "end": 0,
                        "first": f["first_step"], "last": f["last_step"], "steps": 2})

    deadline = time.monotonic() + args.seconds
    threads = [threading.Thread(target=ingester, args=(i, args.epbctl, db, work, deadline, args.seed, ingests))
               for i in range(args.ingesters)]
    threads += [threading.Thread(target=planner, args=(i, args.epbctl, db, deadline, plans)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        sys.exit(1)

    # Every reported step is stored exactly once, by the ingest that reported it.
    rows_by_ingest = {}
    for sha, series, first, last, steps, rows, count, total in query(db, """
            SELECT i.content_sha256, s.name, i.first_step, i.last_step, i.steps, i.rows,
                   (SELECT COUNT(*) FROM load l WHERE l.ingest_id = i.id),
                   (SELECT SUM(total) FROM load l WHERE l.ingest_id = i.id)
            FROM ingest i JOIN series s ON s.id = i.series_id"""):
        rows_by_ingest[sha] = (series, first, last, steps, rows, count, total)
    if len(rows_by_ingest) != len(ingests):
        record_failure(f"the database holds {len(rows_by_ingest)} ingests, ingesters reported {len(ingests)}")
    steps_checked = 0
    for entry in ingests:
        inp = entry["input"]
        stored = rows_by_ingest.get(inp.sha256)
        expected = (entry["series"], entry["first"], entry["last"], entry["steps"], inp.rows, inp.rows, inp.total)
        if stored != expected:
            record_failure(f"{inp.path}: stored {stored}, expected {expected}")
            continue
        if inp.first_step is not None and entry["first"] != inp.first_step:
            record_failure(f"{inp.path}: stored from step {entry['first']}, the file starts at {inp.first_step}")
        steps_checked += entry["steps"]
    for series in ["explicit", "appended"]:
        bad = query(db, """SELECT l.step, l.layer, COUNT(*), SUM(l.total) FROM load l JOIN series s ON s.id = l.series_id
                           WHERE s.name = ? GROUP BY l.step, l.layer HAVING COUNT(*) != 1 OR SUM(l.total) != ?""",
                    (series, ROW_TOTAL))
        if bad:
            record_failure(f"series {series}: rows stored more than once or with a wrong total: {bad[:3]}")
        per_step = query(db, """SELECT COUNT(*) FROM (SELECT l.step FROM load l JOIN series s ON s.id = l.series_id
                                WHERE s.name = ? GROUP BY l.step HAVING COUNT(*) != ?) AS partial""", (series, LAYERS))[0][0]
        if per_step:
            record_failure(f"series {series}: {per_step} steps lack some layer")
    appended = sorted((e for e in ingests if e["series"] == "appended"), key=lambda e: e["first"])
    expected_first = 0
    for e in appended:
        if e["first"] != expected_first or e["last"] != e["first"] + e["steps"] - 1:
            record_failure(f"series appended: ingest at {e['first']}..{e['last']} does not follow step {expected_first - 1}")
        expected_first = e["last"] + 1

    # Each plan saw a consistent set of commits. SQLite serialises writers, so commit order is
    # the ingest ids' order and the set is a prefix of it. PostgreSQL commits explicit-step
    # ingests of one series in parallel; an ingest that took its id first may commit last, so
    # there the set is every ingest finished before the plan started plus some of those still
    # running while it ran (a snapshot), and the id order says nothing.
    order = {sha: n for n, (sha,) in enumerate(query(db, "SELECT content_sha256 FROM ingest ORDER BY id"))}
    windows_checked = 0
    for series in ["explicit", "appended"]:
        commits = sorted((e for e in ingests if e["series"] == series), key=lambda e: order[e["input"].sha256])
        prefixes = {}
        steps = 0
        lo, hi = None, None
        for n, e in enumerate(commits):
            steps += e["steps"]
            lo = e["first"] if lo is None else min(lo, e["first"])
            hi = e["last"] if hi is None else max(hi, e["last"])
            prefixes[steps] = (n + 1, lo, hi)
        for p in (p for p in plans if p["series"] == series):
            # GPU loads split an expert's load over its replicas, so their sums carry rounding
            # errors of ~1e-16 relative; a torn read is off by at least one row, ROW_TOTAL.
            steps_seen = {round(total / ROW_TOTAL) for total in p["sums"]}
            inexact = [t for t in p["sums"] if abs(t - round(t / ROW_TOTAL) * ROW_TOTAL) > 1e-9 * max(t, 1)]
            if len(steps_seen) != 1 or inexact or p["layers"] != list(range(LAYERS)):
                record_failure(f"plan on {series}: layers disagree or are not whole steps, a torn read: {p['sums']}")
                continue
            seen = steps_seen.pop()
            window = (p["window"]["from"], p["window"]["to"])
            if args.db:
                problem = snapshot_problem(commits, p, seen, window)
                if problem:
                    record_failure(f"plan on {series}: {problem}")
                windows_checked += 1
                continue
            prefix = prefixes.get(seen)
            if prefix is None:
                record_failure(f"plan on {series}: {seen} steps is no prefix of the commits")
                continue
            n, lo, hi = prefix
            if window != (lo, hi):
                record_failure(f"plan on {series}: window {p['window']} but the prefix spans {lo}..{hi}")
            done_before = sum(1 for e in commits if e["end"] < p["start"])
            started_before = sum(1 for e in commits if e["start"] < p["end"])
            if not done_before <= n <= started_before:
                record_failure(f"plan on {series}: saw {n} commits; {done_before} had finished before it started "
                               f"and {started_before} had started before it ended")
            windows_checked += 1
    shutil.rmtree(work)
    if failures:
        sys.exit(1)
    backend = "PostgreSQL" if args.db else "SQLite"
    print(f"concurrency ({backend}): {len(ingests)} ingests by {args.ingesters} ingesters and {len(plans)} plans "
          f"by 2 planners in "
          f"{args.seconds:.0f} s; {steps_checked} reported steps ({steps_checked * LAYERS} rows) each stored "
          f"exactly once; {windows_checked} plan windows consistent; no 'database is locked'", flush=True)


if __name__ == "__main__":
    main()
