#!/usr/bin/env python3
"""The train step (runs on Valohai): pretends to train for --epochs and
prints its result as Valohai metadata (a JSON line), which the retrain
trigger's report reads as actions.train.metadata.accuracy and .loss."""
import argparse
import json
import os


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--learning_rate", type=float, default=0.01)
    args = ap.parse_args()
    loss = 1.0
    for epoch in range(1, args.epochs + 1):
        loss *= 1 - min(0.5, args.learning_rate * 20)
        print(json.dumps({"epoch": epoch, "loss": round(loss, 4)}))
    outputs = os.environ.get("VH_OUTPUTS_DIR", "/valohai/outputs")
    with open(os.path.join(outputs, "model.json"), "w") as f:
        json.dump({"epochs": args.epochs, "learning_rate": args.learning_rate}, f)
    print(json.dumps({"accuracy": round(1 - loss / 2, 4), "loss": round(loss, 4)}))


if __name__ == "__main__":
    main()
