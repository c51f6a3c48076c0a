#!/usr/bin/env python3
"""The train step of the nightly-pipeline example: fits a linear classifier
to $VH_INPUTS_DIR/dataset/train.csv by gradient descent on the squared
error, prints the loss per epoch as Valohai metadata and writes
$VH_OUTPUTS_DIR/model.json (and loss.csv).  A learning rate too large for
the data makes the loss diverge: the step then fails (exit code 1)."""
import argparse
import csv
import glob
import json
import math
import os
import sys


def load(path):
    with open(path) as f:
        return [(float(r["x1"]), float(r["x2"]), int(r["label"])) for r in csv.DictReader(f)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--learning_rate", type=float, default=0.1)
    args = ap.parse_args()
    inputs = os.environ.get("VH_INPUTS_DIR", "inputs")
    files = sorted(glob.glob(os.path.join(inputs, "dataset", "*.csv")))
    print("dataset files: %s" % " ".join(os.path.basename(p) for p in files))
    train = os.path.join(inputs, "dataset", "train.csv")
    rows = load(train)
    w = [0.0, 0.0, 0.0]                 # bias, x1, x2
    first = None
    losses = []
    for epoch in range(1, args.epochs + 1):
        grad = [0.0, 0.0, 0.0]
        loss = 0.0
        for x1, x2, y in rows:
            err = w[0] + w[1] * x1 + w[2] * x2 - y
            loss += err * err
            grad[0] += err
            grad[1] += err * x1
            grad[2] += err * x2
        loss /= len(rows)
        first = loss if first is None else first
        if not math.isfinite(loss) or loss > 100 * first:
            print("training diverged at epoch %d (loss %g): lower the learning rate" % (epoch, loss),
                  file=sys.stderr)
            sys.exit(1)
        w = [wi - args.learning_rate * 2 * gi / len(rows) for wi, gi in zip(w, grad)]
        losses.append(loss)
        print(json.dumps({"epoch": epoch, "loss": round(loss, 6)}))
    out = os.environ.get("VH_OUTPUTS_DIR", ".")
    with open(os.path.join(out, "model.json"), "w") as f:
        json.dump({"weights": w, "epochs": args.epochs, "learning_rate": args.learning_rate}, f)
    with open(os.path.join(out, "loss.csv"), "w") as f:
        f.write("epoch,loss\n")
        f.writelines("%d,%.6f\n" % (i + 1, l) for i, l in enumerate(losses))


if __name__ == "__main__":
    main()
