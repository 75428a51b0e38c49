#!/usr/bin/env python3
"""Recompute the expected outputs of the planner's golden cases with DeepSeek's eplb.py.

Usage (by hand, where PyTorch is installed; the tests themselves never need it):

    pip install torch
    python3 scripts/golden/regenerate.py --eplb PATH/TO/EPLB/eplb.py          # check
    python3 scripts/golden/regenerate.py --eplb PATH/TO/EPLB/eplb.py --write  # rewrite

`eplb.py` is DeepSeek's public reference (github.com/deepseek-ai/EPLB, MIT licence); it is not
copied into this repository. The `seed` algorithm is the same module with `replicate_experts`
replaced by the version in `Tests/Fixtures/seed/replicate_tail_ab_tiebreak.txt` (the REPLACE
half of that document's SEARCH/REPLACE block), exactly as the cases were first produced.

Each case in `Tests/Fixtures/golden/*.json` keeps its input; this script recomputes `expected`
from that input for both algorithms and, by default, reports every case whose stored
expectation differs (exit 1). With `--write` it rewrites the `expected` objects instead.
The kinds and keys are described in `Tests/Fixtures/golden/README.md`.
"""
import argparse
import copy
import glob
import importlib.util
import json
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GOLDEN = os.path.join(REPO, "Tests", "Fixtures", "golden")
SEED_DOC = os.path.join(REPO, "Tests", "Fixtures", "seed", "replicate_tail_ab_tiebreak.txt")


def load_module(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def seed_module(eplb_path):
    """eplb.py with `replicate_experts` replaced by the seed document's REPLACE block."""
    module = load_module(eplb_path, "eplb_seed")
    with open(SEED_DOC) as f:
        text = f.read()
    start = text.index("=======\n") + len("=======\n")
    end = text.index(">>>>>>> REPLACE")
    exec(compile(text[start:end], SEED_DOC, "exec"), module.__dict__)
    return module


def placement_stats(torch, weight, phy2log, logcnt, gpus):
    """Per-layer GPU loads, peak, mean and balancedness (mean / peak), in float64."""
    layers = []
    slots = phy2log.shape[1] // gpus
    for row in range(weight.shape[0]):
        w = weight[row].double()
        per_slot = w[phy2log[row]] / logcnt[row][phy2log[row]].double()
        gpu_load = per_slot.view(gpus, slots).sum(-1)
        peak = float(gpu_load.max())
        mean = float(w.sum()) / gpus
        layers.append({"gpu_load": gpu_load.tolist(), "peak": peak, "mean": mean,
                       "balancedness": mean / peak if peak > 0 else 1.0})
    return layers


def expected_for(torch, module, case):
    kind, inp = case["kind"], case["input"]
    if kind == "balanced_packing":
        weight = torch.tensor(inp["weight"], dtype=torch.float32)
        pack_index, rank_in_pack = module.balanced_packing(weight, inp["num_packs"])
        return {"pack_index": pack_index.tolist(), "rank_in_pack": rank_in_pack.tolist()}
    if kind == "replicate_experts":
        dtype = torch.float64 if inp.get("dtype", "float64") == "float64" else torch.float32
        weight = torch.tensor(inp["weight"], dtype=dtype)
        phy2log, rank, logcnt = module.replicate_experts(weight, inp["num_phy"])
        return {"phy2log": phy2log.tolist(), "rank": rank.tolist(), "logcnt": logcnt.tolist()}
    if kind == "rebalance_experts":
        weight = torch.tensor(inp["weight"], dtype=torch.float64)
        replicas, groups, nodes, gpus = inp["replicas"], inp["groups"], inp["nodes"], inp["gpus"]
        # eplb.py casts to float32 inside rebalance_experts.
        phy2log, _, logcnt = module.rebalance_experts(weight, replicas, groups, nodes, gpus)
        # The same steps in float64, to list the layers whose placement depends on the cast.
        if groups % nodes == 0:
            phy64, _, _ = module.rebalance_experts_hierarchical(weight, replicas, groups, nodes, gpus)
        else:
            phy64, _, _ = module.rebalance_experts_hierarchical(weight, replicas, 1, 1, gpus)
        sensitive = [row for row in range(weight.shape[0]) if not torch.equal(phy2log[row], phy64[row])]
        return {"phy2log": phy2log.tolist(), "logcnt": logcnt.tolist(),
                "layers": placement_stats(torch, weight, phy2log, logcnt, gpus),
                "float32_sensitive_layers": sensitive}
    raise SystemExit(f"unknown kind {kind!r}")


def same(a, b, tol=1e-9):
    """Equal structures; floats within a relative `tol` (the loads' sums are summed in another order)."""
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, (int, float)) and isinstance(b, (int, float)) and abs(a - b) <= tol * max(1.0, abs(a), abs(b))
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y, tol) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k], tol) for k in a)
    return a == b


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eplb", required=True, help="path to DeepSeek's eplb.py")
    parser.add_argument("--write", action="store_true", help="rewrite the expected outputs")
    args = parser.parse_args()
    import torch

    algorithms = {"deepseek": load_module(args.eplb, "eplb_deepseek"), "seed": seed_module(args.eplb)}
    differing = []
    for path in sorted(glob.glob(os.path.join(GOLDEN, "*.json"))):
        with open(path) as f:
            case = json.load(f)
        if case["kind"] == "balanced_packing":
            expected = expected_for(torch, algorithms["deepseek"], case)
        else:
            expected = {name: expected_for(torch, module, case) for name, module in algorithms.items()}
        name = os.path.basename(path)
        if same(expected, case["expected"]):
            print(f"same      {name}")
            continue
        differing.append(name)
        print(f"differs   {name}")
        if args.write:
            updated = copy.deepcopy(case)
            updated["expected"] = expected
            with open(path, "w") as f:
                json.dump(updated, f)
    if differing and not args.write:
        print(f"{len(differing)} case(s) differ; rerun with --write to update them", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
