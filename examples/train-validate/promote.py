#!/usr/bin/env python3
"""The promote step of the train-validate example: given the accuracy the
validation measured, copies the training's model to $VH_OUTPUTS_DIR as the
promoted model when it is good enough, and records the decision."""
import argparse
import json
import os
import shutil


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--training", required=True)
    ap.add_argument("--folder", required=True)
    ap.add_argument("--validation", required=True)
    ap.add_argument("--accuracy", type=float, required=True)
    ap.add_argument("--min-accuracy", type=float, default=0.85)
    args = ap.parse_args()
    out = os.environ.get("VH_OUTPUTS_DIR", ".")
    promoted = args.accuracy >= args.min_accuracy
    if promoted:
        shutil.copyfile(os.path.join(args.folder, "outputs", "model.json"),
                        os.path.join(out, "model.json"))
    decision = {"training": args.training, "validation": args.validation,
                "accuracy": args.accuracy, "min_accuracy": args.min_accuracy,
                "promoted": promoted}
    with open(os.path.join(out, "decision.json"), "w") as f:
        json.dump(decision, f)
    print("%s the model of %s (accuracy %s, validation %s)" % (
        "promoted" if promoted else "did not promote", args.training, args.accuracy,
        args.validation))


if __name__ == "__main__":
    main()
