#!/usr/bin/env python3
"""The train step of the train-validate example: logistic regression by
stochastic gradient descent on the toy problem of data.py; writes
$VH_OUTPUTS_DIR/model.json and prints the training error per epoch as
Valohai metadata."""
import argparse
import json
import math
import os

from data import examples, predict


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rows = examples(500, args.seed)
    w = [0.0, 0.0, 0.0]
    for epoch in range(1, args.epochs + 1):
        for x1, x2, y in rows:
            z = max(-30.0, min(30.0, w[0] + w[1] * x1 + w[2] * x2))
            d = y - 1 / (1 + math.exp(-z))
            w = [w[0] + 0.5 * d, w[1] + 0.5 * d * x1, w[2] + 0.5 * d * x2]
        errors = sum(1 for x1, x2, y in rows if predict(w, x1, x2) != y)
        print(json.dumps({"epoch": epoch, "train_error": round(errors / len(rows), 4)}))
    with open(os.path.join(os.environ.get("VH_OUTPUTS_DIR", "."), "model.json"), "w") as f:
        json.dump({"weights": w, "epochs": args.epochs, "seed": args.seed}, f)


if __name__ == "__main__":
    main()
