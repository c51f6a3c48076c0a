#!/usr/bin/env python3
"""A small, dependency-free "training" job for the nightly-training example.

It fits a logistic-regression classifier to a synthetic two-class data set
with plain gradient descent, prints the loss per epoch (stdout.log), and
writes the model and its metrics to $VH_OUTPUTS_DIR, as a Valohai step would.
"""
import argparse
import json
import math
import os
import random


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--learning_rate", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()

    rng = random.Random(args.seed)
    # Two Gaussian blobs in 8 dimensions.
    data = []
    for label in (0, 1):
        centre = [(-1.0 if label == 0 else 1.0) * (i % 3 + 1) / 3 for i in range(8)]
        for _ in range(200):
            data.append(([c + rng.gauss(0, 1) for c in centre], label))
    rng.shuffle(data)

    w = [0.0] * 8
    b = 0.0
    for epoch in range(1, args.epochs + 1):
        loss = 0.0
        gw = [0.0] * 8
        gb = 0.0
        for x, y in data:
            z = sum(wi * xi for wi, xi in zip(w, x)) + b
            p = 1 / (1 + math.exp(-z))
            loss -= y * math.log(p + 1e-12) + (1 - y) * math.log(1 - p + 1e-12)
            for i in range(8):
                gw[i] += (p - y) * x[i]
            gb += p - y
        n = len(data)
        w = [wi - args.learning_rate * g / n for wi, g in zip(w, gw)]
        b -= args.learning_rate * gb / n
        print(json.dumps({"epoch": epoch, "loss": round(loss / n, 6)}), flush=True)

    correct = sum(1 for x, y in data
                  if (sum(wi * xi for wi, xi in zip(w, x)) + b > 0) == (y == 1))
    accuracy = correct / len(data)
    print(json.dumps({"accuracy": accuracy}))

    out = os.environ.get("VH_OUTPUTS_DIR", ".")
    with open(os.path.join(out, "model.json"), "w") as f:
        json.dump({"weights": w, "bias": b}, f)
    with open(os.path.join(out, "metrics.json"), "w") as f:
        json.dump({"epochs": args.epochs, "accuracy": accuracy}, f)


if __name__ == "__main__":
    main()
