#!/usr/bin/env python3
"""Times vLLM-Ascend's own FlashLB search on the shapes of `EPBBench peers`, for comparison.

    pip install numpy scipy numba
    python3 Benchmarks/flashlb_original_speed.py --vllm-ascend PATH [--reps 5]

PATH is a checkout of vllm-project/vllm-ascend; `policy_flashlb.py` is run unmodified from it
(nothing of its code is kept here). torch, vLLM and torch_npu are not needed: the few names the
module imports from them are stubbed, and `FlashTree` uses numpy and numba only.

The input is `EPBBench peers`'s: `epbctl simulate --steps 1000 --layers 58 --experts 256 --seed 3`
(the defaults of `simulate` otherwise), summed into 64 near-equal consecutive blocks (step `t` of
`T` into block `t * 64 // T`, as the store's `blocks` does). Per layer, `FlashTree(X, replicas,
devices, norm.ppf(0.75), 4, 8).optimize_balanceness()` as `FlashLB.rebalance_experts` calls it:
  - global R288: X `[64][256]`, 288 slots, 32 devices;
  - hierarchical R288, 4 nodes: four calls of X `[64][64]`, 72 slots, 8 devices (experts split in
    four contiguous quarters: the nodes' members after EPLB's group packing differ, their sizes
    do not, and the timing depends on the sizes);
  - hierarchical R320, 8 nodes: eight calls of X `[64][32]`, 40 slots, 8 devices.
numba compiles on a first call that is not timed. Prints the median over `--reps` of the time for
all 58 layers, per shape, on one thread (the BLAS and numba thread counts are set to 1).
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
    p.add_argument("--epbctl", default=".build/release/epbctl")
    p.add_argument("--reps", type=int, default=5)
    a = p.parse_args()
    FlashTree, config = load_flashtree(a.vllm_ascend)
    x = simulated_blocks(a.epbctl)
    z, depth, width = config.z_score, config.depth, config.width
    FlashTree(x[:, 0, :64], 72, 8, z, depth, width).optimize_balanceness()  # numba compiles
    shapes = [
        ("hierarchical R288 32 GPUs 4 nodes", 4, 288, 32),
        ("hierarchical R320 64 GPUs 8 nodes", 8, 320, 64),
        ("global R288 32 GPUs", 1, 288, 32),
    ]
    print(f"FlashTree.optimize_balanceness of vllm-ascend {a.vllm_ascend}, 58 layers, {x.shape[0]} samples, "
          f"{a.reps} repetitions, medians; {os.cpu_count()} CPUs")
    for name, nodes, replicas, gpus in shapes:
        per = 256 // nodes
        times = []
        for _ in range(a.reps):
            start = time.perf_counter()
            for layer in range(x.shape[1]):
                for node in range(nodes):
                    sample = np.ascontiguousarray(x[:, layer, node * per:(node + 1) * per])
                    FlashTree(sample, replicas // nodes, gpus // nodes, z, depth, width).optimize_balanceness()
            times.append(time.perf_counter() - start)
        print(f"{name:36s} {statistics.median(times) * 1000:9.1f} ms")


if __name__ == "__main__":
    main()
