#!/usr/bin/env python3
"""A second synthetic expert-load trace, shaped unlike `epbctl simulate`'s (docs/simulate.md).

    python3 Benchmarks/phase_trace.py --output phase.npy --steps 2000 --layers 12 --experts 256 --seed 1

Writes a NumPy `.npy` int64 array `[steps, layers, experts]` of tokens routed to each expert, for
`epbctl ingest`. Needs numpy only; the same arguments give the same bytes (numpy's PCG64 seeded
with --seed).

Where `simulate` is one stationary AR(1) walk of every expert's log-popularity around zero plus
rare single-expert bursts, this model has:

1. Workloads. --workloads W profiles per layer, each a log-popularity `mu[w][l][e]` =
   `skew * N(0,1)` per expert plus `group_skew * N(0,1)` shared by the expert's group (--groups
   consecutive experts), so whole groups are hot or cold together (what the hierarchical policy
   feels).
2. Phase changes. The serving mix is a workload at a time; a phase lasts a geometric number of
   steps with mean --phase-length, then a different workload takes over (uniformly among the
   others). The target moves in one step; the routing follows it slowly (3).
3. Mean reversion. Each step `x <- x + theta * (mu[phase] - x) + drift * N(0,1)` per expert: an
   Ornstein-Uhlenbeck pull towards the current workload's profile (half-way in
   ln 2 / theta steps), with its own random walk noise.
4. Multiplicative noise. The expected tokens of expert e are `tokens * top_k * softmax(x)[e] *
   exp(noise * N(0,1) - noise^2 / 2)` (a log-normal factor with mean 1, drawn afresh each step),
   and the batch size itself varies by a log-normal factor `exp(batch_noise * N(0,1))`.
5. Counts. Tokens are Poisson draws of those expectations (routing of independent tokens).
"""

import argparse
import sys

import numpy as np


def generate(steps, layers, experts, groups, workloads, tokens, top_k, skew, group_skew, theta, drift,
             noise, batch_noise, phase_length, seed):
    rng = np.random.Generator(np.random.PCG64(seed))
    per_group = experts // groups
    mu = skew * rng.standard_normal((workloads, layers, experts))
    mu += group_skew * np.repeat(rng.standard_normal((workloads, layers, groups)), per_group, axis=2)
    phase = int(rng.integers(workloads))
    x = mu[phase].copy()
    out = np.empty((steps, layers, experts), dtype=np.int64)
    for t in range(steps):
        if t > 0:
            if workloads > 1 and rng.random() < 1.0 / phase_length:
                phase = (phase + 1 + int(rng.integers(workloads - 1))) % workloads
            x += theta * (mu[phase] - x) + drift * rng.standard_normal((layers, experts))
        share = np.exp(x - x.max(axis=1, keepdims=True))
        share /= share.sum(axis=1, keepdims=True)
        factor = np.exp(noise * rng.standard_normal((layers, experts)) - noise * noise / 2)
        batch = tokens * np.exp(batch_noise * rng.standard_normal())
        out[t] = rng.poisson(batch * top_k * share * factor)
    return out


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--output", required=True, help="the .npy file to write")
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--layers", type=int, default=12)
    p.add_argument("--experts", type=int, default=256)
    p.add_argument("--groups", type=int, default=8, help="expert groups (consecutive experts), for group skew")
    p.add_argument("--workloads", type=int, default=3, help="workload profiles the phases switch between")
    p.add_argument("--tokens", type=float, default=4096, help="mean tokens per step")
    p.add_argument("--top-k", type=int, default=8)
    p.add_argument("--skew", type=float, default=0.6, help="per-expert spread of log-popularity")
    p.add_argument("--group-skew", type=float, default=0.25, help="per-group spread of log-popularity")
    p.add_argument("--theta", type=float, default=0.02, help="mean-reversion rate per step")
    p.add_argument("--drift", type=float, default=0.03, help="random-walk noise of log-popularity per step")
    p.add_argument("--noise", type=float, default=0.35, help="sd of the per-step multiplicative noise (log)")
    p.add_argument("--batch-noise", type=float, default=0.2, help="sd of the per-step batch size (log)")
    p.add_argument("--phase-length", type=float, default=400, help="mean steps per workload phase")
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args(argv)
    for name in ("steps", "layers", "experts", "groups", "workloads", "top_k"):
        if getattr(a, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1, got {getattr(a, name)}")
    if a.experts % a.groups:
        p.error(f"--groups {a.groups} must divide --experts {a.experts}")
    if a.steps * a.layers * a.experts > 1 << 27:
        p.error("steps x layers x experts must be at most 2^27")
    if not (0 < a.theta <= 1) or a.phase_length < 1 or min(a.tokens, a.skew, a.group_skew, a.drift, a.noise,
                                                              a.batch_noise) < 0:
        p.error("--theta must be in (0, 1], --phase-length at least 1, the others non-negative")
    trace = generate(a.steps, a.layers, a.experts, a.groups, a.workloads, a.tokens, a.top_k, a.skew, a.group_skew,
                     a.theta, a.drift, a.noise, a.batch_noise, a.phase_length, a.seed)
    np.save(a.output, trace)


if __name__ == "__main__":
    main(sys.argv[1:])
