#!/usr/bin/env python3
"""The evaluate step of the nightly-pipeline example: scores the model in
$VH_INPUTS_DIR/model/ (from train) on $VH_INPUTS_DIR/dataset/test.csv (from
preprocess), and prints the accuracy as Valohai metadata, a JSON line."""
import csv
import hashlib
import json
import os


def main():
    inputs = os.environ.get("VH_INPUTS_DIR", "inputs")
    path = os.path.join(inputs, "model", "model.json")
    with open(path, "rb") as f:
        raw = f.read()
    w = json.loads(raw)["weights"]
    print("model sha256 %s" % hashlib.sha256(raw).hexdigest())
    with open(os.path.join(inputs, "dataset", "test.csv")) as f:
        rows = [(float(r["x1"]), float(r["x2"]), int(r["label"])) for r in csv.DictReader(f)]
    right = sum(1 for x1, x2, y in rows if (w[0] + w[1] * x1 + w[2] * x2 >= 0.5) == (y == 1))
    accuracy = round(right / len(rows), 4)
    result = {"accuracy": accuracy, "test_rows": len(rows)}
    with open(os.path.join(os.environ.get("VH_OUTPUTS_DIR", "."), "evaluation.json"), "w") as f:
        json.dump(result, f)
    print(json.dumps(result))          # Valohai metadata


if __name__ == "__main__":
    main()
