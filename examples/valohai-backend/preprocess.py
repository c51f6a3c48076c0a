#!/usr/bin/env python3
"""The preprocess step (runs on Valohai): splits the images input into
train.npz and validation.npz in the outputs.  A stand-in: it writes the
file names it would split, so the pipeline's edges have files to match."""
import argparse
import json
import os


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--validation-split", type=float, default=0.1)
    args = ap.parse_args()
    inputs = os.environ.get("VH_INPUTS_DIR", "/valohai/inputs")
    outputs = os.environ.get("VH_OUTPUTS_DIR", "/valohai/outputs")
    files = sorted(os.listdir(os.path.join(inputs, "images"))) if os.path.isdir(
        os.path.join(inputs, "images")) else []
    for name in ("train.npz", "validation.npz"):
        with open(os.path.join(outputs, name), "w") as f:
            json.dump({"from": files, "validation_split": args.validation_split}, f)
    print(json.dumps({"files": len(files), "validation_split": args.validation_split}))


if __name__ == "__main__":
    main()
