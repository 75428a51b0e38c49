#!/usr/bin/env python3
"""Compare DeepSeek's eplb.py with epbctl's planner on one SGLang load file.

Usage:
  python3 Benchmarks/compare_eplb.py --eplb PATH/eplb.py --input FILE.json [--reps N]
      [--bench PATH/EPBBench] [--replicas 288 --groups 8 --nodes 4 --gpus 32]

FILE.json holds `logical_count` shaped [layers][experts] (all-zero dense layers are dropped).
Times eplb.py's `rebalance_experts` on all MoE layers at once when torch can be imported
(otherwise says so and skips it), runs `EPBBench planner --input FILE --json` (built with
`swift build -c release --scratch-path .build-planner --product EPBBench` unless --bench is
given), and prints the ratio of medians. Standard library only, plus torch when present.
"""
import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_layers(path):
    with open(path) as f:
        rows = json.load(f)["logical_count"]
    return [r for r in rows if any(v != 0 for v in r)]


def time_eplb(eplb_path, layers, args):
    try:
        import torch  # noqa: F401
    except ImportError:
        print("eplb.py: skipped (torch is not importable)")
        return None
    spec = importlib.util.spec_from_file_location("eplb", eplb_path)
    eplb = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(eplb)
    import torch
    weight = torch.tensor(layers, dtype=torch.float64)
    times = []
    for i in range(args.reps + 1):
        start = time.perf_counter()
        eplb.rebalance_experts(weight, args.replicas, args.groups, args.nodes, args.gpus)
        if i > 0:
            times.append((time.perf_counter() - start) * 1e6)
    med = statistics.median(times)
    policy = "hierarchical" if args.groups % args.nodes == 0 else "global"
    print(f"eplb.py rebalance_experts ({policy}, R{args.replicas}, {args.gpus} GPUs): "
          f"median {med:.1f} µs per {len(layers)}-layer plan over {args.reps} runs")
    return med


def run_bench(args):
    bench = args.bench
    if bench is None:
        scratch = os.path.join(REPO, ".build-planner")
        subprocess.run(["swift", "build", "-c", "release", "--scratch-path", scratch, "--product", "EPBBench"],
                       cwd=REPO, check=True, stdout=subprocess.DEVNULL)
        bench = os.path.join(scratch, "release", "EPBBench")
    out = subprocess.run([bench, "planner", "--input", args.input, "--json", "--reps", str(args.reps)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--eplb", required=True, help="path to DeepSeek's eplb.py")
    p.add_argument("--input", required=True, help="SGLang JSON with logical_count [layers][experts]")
    p.add_argument("--reps", type=int, default=50)
    p.add_argument("--bench", help="path to a built EPBBench executable")
    p.add_argument("--replicas", type=int, default=288)
    p.add_argument("--groups", type=int, default=8)
    p.add_argument("--nodes", type=int, default=4)
    p.add_argument("--gpus", type=int, default=32)
    args = p.parse_args()

    layers = load_layers(args.input)
    print(f"input: {args.input}: {len(layers)} MoE layers x {len(layers[0]) if layers else 0} experts")
    python_us = time_eplb(args.eplb, layers, args)
    report = run_bench(args)
    print(f"epbctl planner on {report['machine']}:")
    policy = "hierarchical" if args.groups % args.nodes == 0 else "global"
    wanted = f"{policy} R{args.replicas} {args.gpus} GPUs"
    ours = None
    for r in report["results"]:
        print(f"  {r['configuration']:<36} {r['algorithm']:<9} plan {r['plan_median_us']:9.1f} µs  "
              f"placement {r['placement_median_us']:9.1f} µs  balancedness {r['balancedness_mean']:.4f}")
        if r["configuration"].startswith(wanted) and r["algorithm"] == "deepseek":
            ours = r["placement_median_us"]
    if python_us is not None and ours:
        print(f"ratio eplb.py / epbctl placement ({wanted}, deepseek): {python_us / ours:.1f}x")
    elif python_us is None:
        print("ratio: not available without torch")
    return 0


if __name__ == "__main__":
    sys.exit(main())
