#!/usr/bin/env python3
"""Regenerates Tests/Fixtures/peers/*.json: the peers' own outputs on small cases.

Runs the peers' unmodified Python from checkouts given on the command line (nothing of their
code is kept in this repository):

    python3 scripts/golden/peers.py --vllm-ascend PATH --sglang PATH [--out Tests/Fixtures/peers]

  --vllm-ascend: a checkout of vllm-project/vllm-ascend (reads
                 vllm_ascend/eplb/core/policy/policy_flashlb.py and policy_swift_balancer.py)
  --sglang:      a checkout of sgl-project/sglang (reads
                 python/sglang/srt/eplb/eplb_algorithms/deepseek_vec.py)

Needs numpy, scipy, numba and torch (CPU). vLLM, vLLM-Ascend's runtime and torch_npu are not
needed: the few names the policy modules import from them are stubbed (`vllm_ascend_stubs.py`
beside this script: a logger, a process-group getter that raises as it does before
initialisation; and below, torch.npu.device_count, which SwiftBalancer uses as the GPUs per
node).

Inputs are drawn from a seeded generator, so a rerun writes the same files. Cases:
  flashlb.json        FlashTree(X, replicas, devices, z, depth, width).optimize_balanceness() with
                      FlashLBConfig's values (z = norm.ppf(0.75), depth 4, width 8), as FlashLB
                      calls it: counts, deployment, score.
  deepseek_vec.json   deepseek_vec.rebalance_experts(tokens [T,1,n] float32, ...): phy2log, logcnt.
  swift_balancer.json SwiftBalanceEplb().rebalance_experts(table [1,ranks,per], workload, node
                      mode): the new table.
"""

import argparse
import importlib
import json
import os
import sys
import types

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vllm_ascend_stubs  # noqa: E402


def stub_modules(vllm_ascend_root, ranks_per_node):
    """Registers the runtime stubs (`vllm_ascend_stubs`) and torch.npu.device_count, which
    SwiftBalancer uses as the GPUs per node."""
    vllm_ascend_stubs.register(vllm_ascend_root)
    torch.npu = types.SimpleNamespace(device_count=lambda: ranks_per_node[0])


def loads(rng, steps, experts, skew=1.2):
    """[steps][experts] integer loads: a heavy-tailed mean per expert times per-step noise."""
    base = 1000.0 / rng.uniform(0.03, 1.0, size=experts) ** skew
    noise = rng.gamma(4.0, 0.25, size=(steps, experts))
    return np.rint(base[None, :] * noise).astype(np.int64)


def flashlb_cases(mod, rng):
    out = []
    for name, n, t, replicas, devices in [
        ("n16-t8-r24-d8", 16, 8, 24, 8),
        ("n32-t16-r40-d8", 32, 16, 40, 8),
        ("n64-t64-r80-d16", 64, 64, 80, 16),
        ("n12-t1-r16-d4", 12, 1, 16, 4),
        ("n48-t32-r64-d8", 48, 32, 64, 8),
    ]:
        x = loads(rng, t, n).astype(np.float64)
        config = mod.FlashLBConfig()  # what FlashLB hands FlashTree (its own default z is 0.674)
        tree = mod.FlashTree(x, replicas, devices, config.z_score, config.depth, config.width)
        deployment, replicas_out, score = tree.optimize_balanceness()
        out.append(
            {
                "name": name,
                "input": {"samples": x.astype(int).tolist(), "replicas": replicas, "gpus": devices},
                "expected": {
                    "logcnt": [int(v) for v in replicas_out],
                    "phy2log": [int(v) for v in np.asarray(deployment).reshape(-1)],
                    "score": float(score),
                },
            }
        )
    return out


def deepseek_vec_cases(mod, rng):
    out = []
    for name, n, t, replicas, gpus, groups, nodes, hierarchical in [
        ("global-n16-t6-r24-g8", 16, 6, 24, 8, 4, 1, False),
        ("global-n32-t20-r48-g16", 32, 20, 48, 16, 8, 1, False),
        ("global-n8-t5-r12-g12", 8, 5, 12, 12, 4, 1, False),
        ("hier-n32-t10-r48-g8-k8-n2", 32, 10, 48, 8, 8, 2, True),
        ("hier-n64-t64-r96-g16-k8-n4", 64, 64, 96, 16, 8, 4, True),
    ]:
        x = loads(rng, t, n)
        tokens = torch.tensor(x, dtype=torch.float32).unsqueeze(1)  # [T, 1, n]
        phy2log, _, logcnt = mod.rebalance_experts(tokens, replicas, replicas // gpus, groups, nodes, hierarchical)
        out.append(
            {
                "name": name,
                "input": {
                    "steps": x.tolist(), "replicas": replicas, "gpus": gpus, "groups": groups, "nodes": nodes,
                    "policy": "hierarchical" if hierarchical else "global",
                },
                "expected": {"phy2log": phy2log[0].tolist(), "logcnt": logcnt[0].tolist()},
            }
        )
    return out


def swift_cases(mod, rng, ranks_per_node):
    out = []
    for name, n, ranks, per, nodes, base_kind in [
        ("global-n16-r24-g8-trivial", 16, 8, 3, 1, "trivial"),
        ("global-n32-r40-g8-random", 32, 8, 5, 1, "random"),
        ("global-n64-r96-g16-random", 64, 16, 6, 1, "random"),
        ("node-n32-r40-g8-n2", 32, 8, 5, 2, "grouped"),
        ("global-n16-r32-g8-balanced", 16, 8, 4, 1, "balanced"),
    ]:
        replicas = ranks * per
        if base_kind == "balanced":
            load = np.full(n, 1200, dtype=np.int64)
            table = np.arange(replicas) % n
        else:
            load = loads(rng, 1, n)[0]
            if base_kind == "trivial":
                table = np.arange(replicas) % n
            elif base_kind == "random":
                table = np.concatenate([np.arange(n), rng.integers(0, n, replicas - n)])
                rng.shuffle(table)
            else:  # groups of 4 experts; node k holds experts k*16..k*16+15 and 4 copies of them
                rows = []
                per_node = n // nodes
                for k in range(nodes):
                    own = np.arange(k * per_node, (k + 1) * per_node)
                    extra = rng.choice(own, replicas // nodes - per_node, replace=False)
                    node_slots = np.concatenate([own, extra])
                    rng.shuffle(node_slots)
                    rows.append(node_slots)
                table = np.concatenate(rows)
        table = table.reshape(ranks, per)
        # The engine's per-slot load: each expert's whole load on its first slot.
        workload = np.zeros_like(table, dtype=np.int64)
        seen = set()
        for r in range(ranks):
            for k in range(per):
                e = int(table[r, k])
                if e not in seen:
                    workload[r, k] = load[e]
                    seen.add(e)
        ranks_per_node[0] = ranks // nodes
        policy = mod.SwiftBalanceEplb()
        _, _, new = policy.rebalance_experts(
            torch.tensor(table[None]), torch.tensor(workload[None]), is_node_redundant=nodes > 1
        )
        out.append(
            {
                "name": name,
                "input": {
                    "load": load.tolist(), "base": table.reshape(-1).tolist(), "replicas": replicas, "gpus": ranks,
                    "nodes": nodes, "groups": 8, "policy": "hierarchical" if nodes > 1 else "global",
                },
                "expected": {"phy2log": [int(v) for v in np.asarray(new[0]).reshape(-1)]},
            }
        )
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vllm-ascend", required=True, help="checkout of vllm-project/vllm-ascend")
    ap.add_argument("--sglang", required=True, help="checkout of sgl-project/sglang")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "Fixtures", "peers"))
    args = ap.parse_args()
    ranks_per_node = [1]
    stub_modules(args.vllm_ascend, ranks_per_node)
    flashlb = importlib.import_module("vllm_ascend.eplb.core.policy.policy_flashlb")
    swift = importlib.import_module("vllm_ascend.eplb.core.policy.policy_swift_balancer")
    sys.path.insert(0, os.path.join(args.sglang, "python", "sglang", "srt", "eplb", "eplb_algorithms"))
    deepseek_vec = importlib.import_module("deepseek_vec")
    os.makedirs(args.out, exist_ok=True)
    rng = np.random.default_rng(18)
    sources = {
        "flashlb": "vllm-project/vllm-ascend vllm_ascend/eplb/core/policy/policy_flashlb.py FlashTree.optimize_balanceness",
        "deepseek_vec": "sgl-project/sglang python/sglang/srt/eplb/eplb_algorithms/deepseek_vec.py rebalance_experts",
        "swift_balancer": "vllm-project/vllm-ascend vllm_ascend/eplb/core/policy/policy_swift_balancer.py "
        "SwiftBalanceEplb.rebalance_experts",
    }
    for name, cases in [
        ("flashlb", flashlb_cases(flashlb, rng)),
        ("deepseek_vec", deepseek_vec_cases(deepseek_vec, rng)),
        ("swift_balancer", swift_cases(swift, rng, ranks_per_node)),
    ]:
        doc = {"source": sources[name], "generator": "scripts/golden/peers.py", "cases": cases}
        with open(os.path.join(args.out, name + ".json"), "w") as f:
            json.dump(doc, f, separators=(",", ":"))
            f.write("\n")
        print(f"{name}: {len(cases)} cases")


if __name__ == "__main__":
    main()
