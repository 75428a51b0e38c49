#!/usr/bin/env python3
"""Times the peers' own code (vLLM-Ascend's FlashLB, SGLang's deepseek_vec) on the shapes of
`EPBBench peers`, for comparison with epbctl's reimplementations.

    pip install numpy scipy numba [torch]
    python3 Benchmarks/peers_original_speed.py --vllm-ascend PATH [--sglang PATH] [--reps 5]

PATH are checkouts of vllm-project/vllm-ascend and sgl-project/sglang; `policy_flashlb.py` and
`deepseek_vec.py` are run unmodified from them (nothing of their code is kept here). vLLM and
torch_npu are not needed (`scripts/golden/vllm_ascend_stubs.py`); torch is needed only for
deepseek_vec (`--sglang`), as FlashTree uses numpy and numba only.

The input is `EPBBench peers`'s: `epbctl simulate --steps 1000 --layers 58 --experts 256 --seed 3`
(the defaults of `simulate` otherwise), summed into 64 near-equal consecutive blocks (step `t` of
`T` into block `t * 64 // T`, as the store's `blocks` does). Timed, per shape, all 58 layers:
  - FlashLB: per layer, `FlashTree(X, replicas, devices, norm.ppf(0.75), 4, 8).optimize_balanceness()`
    as `FlashLB.rebalance_experts` calls it: global R288, X `[64][256]`, 288 slots, 32 devices;
    hierarchical R288, 4 nodes, four calls of X `[64][64]`, 72 slots, 8 devices (experts split in
    four contiguous quarters: the nodes' members after EPLB's group packing differ, their sizes
    do not, and the timing depends on the sizes); hierarchical R320, 8 nodes, eight calls of X
    `[64][32]`, 40 slots, 8 devices.
  - deepseek_vec: one `rebalance_experts(tokens [64][58][256] float32, replicas, replicas // gpus,
    8 groups, nodes, hierarchical)` for all layers, as SGLang calls it (torch on the CPU).
numba compiles (and torch warms up) on a first call that is not timed. Prints the median over
`--reps`, on one thread (the BLAS, numba and torch thread counts are set to 1).
"""
import argparse
import os

# One core, as `EPBBench peers` (numpy's matrix product would use every core otherwise).
for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(name, "1")
import statistics
import subprocess
import sys
import tempfile
import time
import types

import numpy as np


def load_flashtree(root):
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts", "golden"))
    import vllm_ascend_stubs

    try:
        import torch  # noqa: F401  (policy_flashlb imports it; FlashTree does not use it)
    except ImportError:
        torch = types.ModuleType("torch")
        torch.Tensor = object
        sys.modules["torch"] = torch
    vllm_ascend_stubs.register(root)
    import importlib

    mod = importlib.import_module("vllm_ascend.eplb.core.policy.policy_flashlb")
    return mod.FlashTree, mod.FlashLBConfig


def simulated_blocks(epbctl, blocks=64):
    with tempfile.TemporaryDirectory() as work:
        path = os.path.join(work, "trace.npy")
        subprocess.run(
            [epbctl, "simulate", "--output", path, "--format", "npy", "--steps", "1000", "--layers", "58",
             "--experts", "256", "--seed", "3"],
            check=True,
        )
        steps = np.load(path).astype(np.float64)  # [T][L][E]
    t = steps.shape[0]
    out = np.zeros((blocks,) + steps.shape[1:])
    for s in range(t):
        out[s * blocks // t] += steps[s]
    return out  # [blocks][L][E]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--vllm-ascend", required=True)
    p.add_argument("--sglang")
    p.add_argument("--epbctl", default=".build/release/epbctl")
    p.add_argument("--reps", type=int, default=5)
    a = p.parse_args()
    FlashTree, config = load_flashtree(a.vllm_ascend)
    x = simulated_blocks(a.epbctl)
    z, depth, width = config.z_score, config.depth, config.width
    FlashTree(x[:, 0, :64], 72, 8, z, depth, width).optimize_balanceness()  # numba compiles
    vec = None
    if a.sglang:
        import torch

        torch.set_num_threads(1)
        sys.path.insert(0, os.path.join(a.sglang, "python", "sglang", "srt", "eplb", "eplb_algorithms"))
        import deepseek_vec

        tokens = torch.tensor(x, dtype=torch.float32)
        vec = lambda replicas, gpus, nodes: deepseek_vec.rebalance_experts(  # noqa: E731
            tokens, replicas, replicas // gpus, 8, nodes, nodes > 1
        )
        vec(288, 32, 4)
    shapes = [
        ("hierarchical R288 32 GPUs 4 nodes", 4, 288, 32),
        ("hierarchical R320 64 GPUs 8 nodes", 8, 320, 64),
        ("global R288 32 GPUs", 1, 288, 32),
    ]
    print(f"vllm-ascend {a.vllm_ascend}" + (f", sglang {a.sglang}" if a.sglang else "")
          + f"; 58 layers, {x.shape[0]} samples, {a.reps} repetitions, medians; one thread of {os.cpu_count()} CPUs")

    def median_ms(run):
        times = []
        for _ in range(a.reps):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
        return statistics.median(times) * 1000

    for name, nodes, replicas, gpus in shapes:
        per = 256 // nodes

        def flashlb():
            for layer in range(x.shape[1]):
                for node in range(nodes):
                    sample = np.ascontiguousarray(x[:, layer, node * per:(node + 1) * per])
                    FlashTree(sample, replicas // nodes, gpus // nodes, z, depth, width).optimize_balanceness()

        line = f"{name:36s} flashlb {median_ms(flashlb):8.1f} ms"
        if vec is not None:
            line += f"   deepseek_vec {median_ms(lambda: vec(replicas, gpus, nodes)):8.1f} ms"
        print(line)


if __name__ == "__main__":
    main()
