#!/usr/bin/env python3
"""Writes Examples/vllm_trace.json, a small vLLM-style load history (stdlib only, seeded).

Model of MoE routing, per layer: each expert has a log-popularity drawn from N(0, 1.1^2)
(a skew like DeepSeek-V3's, max/mean 4-8); the log-popularities drift as a random walk
(sigma 0.03 per step); now and then (p = 0.01 per layer and step) one expert bursts to 4x
its popularity for 15 steps. Each step routes `tokens * top_k` token-slots; an expert's
count is its expected share times log-normal noise (sigma 0.05), rounded to an integer.

Usage: python3 Examples/make_vllm_trace.py [--steps 200] [--layers 6] [--experts 64] [--seed 7]
"""
import argparse
import json
import math
import random


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--experts", type=int, default=64)
    ap.add_argument("--tokens", type=int, default=2048, help="tokens per step")
    ap.add_argument("--top-k", type=int, default=8)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--start-time", type=float, default=1_790_000_000.0)
    ap.add_argument("--output", default="Examples/vllm_trace.json")
    args = ap.parse_args()

    rng = random.Random(args.seed)
    logpop = [[rng.gauss(0, 1.1) for _ in range(args.experts)] for _ in range(args.layers)]
    bursts = [dict() for _ in range(args.layers)]  # expert -> steps left
    history = []
    for step in range(args.steps):
        loads = []
        for layer in range(args.layers):
            pops = logpop[layer]
            for e in range(args.experts):
                pops[e] += rng.gauss(0, 0.03)
            if rng.random() < 0.01:
                bursts[layer][rng.randrange(args.experts)] = 15
            weights = [math.exp(p) * (4.0 if e in bursts[layer] else 1.0) for e, p in enumerate(pops)]
            for e in list(bursts[layer]):
                bursts[layer][e] -= 1
                if bursts[layer][e] == 0:
                    del bursts[layer][e]
            total = sum(weights)
            slots = args.tokens * args.top_k
            loads.append([round(slots * w / total * math.exp(rng.gauss(0, 0.05))) for w in weights])
        history.append({"step": step, "time": args.start_time + step, "logical_expert_load": loads})
    with open(args.output, "w") as f:
        json.dump({"model": "synthetic-moe-64e", "load_history": history}, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
