#!/usr/bin/env python3
"""The validate step of the train-validate example: reads the model a
training execution wrote (FOLDER/outputs/model.json, FOLDER being that
execution's folder, from the execution_completed event), scores it on
fresh validation data, and prints the accuracy as Valohai metadata."""
import argparse
import hashlib
import json
import os
import sys

from data import examples, predict


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--training", required=True)
    ap.add_argument("--folder", required=True)
    ap.add_argument("--seed", type=int, default=99)
    args = ap.parse_args()
    if os.path.basename(os.path.normpath(args.folder)) != args.training:
        sys.exit("validate: %s is not the folder of execution %s" % (args.folder, args.training))
    if not os.path.isdir(args.folder):
        sys.exit("validate: the folder of execution %s, %s, is not on this machine"
                 % (args.training, args.folder))
    with open(os.path.join(args.folder, "outputs", "model.json"), "rb") as f:
        raw = f.read()
    w = json.loads(raw)["weights"]
    digest = hashlib.sha256(raw).hexdigest()
    print("validating the model of %s (sha256 %s)" % (args.training, digest))
    rows = examples(400, args.seed)
    right = sum(1 for x1, x2, y in rows if predict(w, x1, x2) == y)
    result = {"accuracy": round(right / len(rows), 4), "rows": len(rows),
              "training": args.training, "model_sha256": digest}
    with open(os.path.join(os.environ.get("VH_OUTPUTS_DIR", "."), "validation.json"), "w") as f:
        json.dump(result, f)
    print(json.dumps({"accuracy": result["accuracy"]}))


if __name__ == "__main__":
    main()
