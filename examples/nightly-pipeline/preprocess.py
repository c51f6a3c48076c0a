#!/usr/bin/env python3
"""The preprocess step of the nightly-pipeline example: makes a small
two-feature classification data set and writes its splits as CSV to
$VH_OUTPUTS_DIR (train.csv, test.csv), with a summary (stats.json) and a
preview (preview.txt) that the pipeline's *.csv edges do not pass on."""
import argparse
import json
import os
import random


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    rows = []
    for _ in range(args.rows):
        x1, x2 = rng.random(), rng.random()
        label = 1 if x1 + x2 > 1 else 0
        if rng.random() < 0.05:         # a few wrong labels, as real data has
            label = 1 - label
        rows.append((round(x1, 4), round(x2, 4), label))
    cut = len(rows) * 4 // 5
    out = os.environ.get("VH_OUTPUTS_DIR", ".")
    for name, part in (("train.csv", rows[:cut]), ("test.csv", rows[cut:])):
        with open(os.path.join(out, name), "w") as f:
            f.write("x1,x2,label\n")
            for r in part:
                f.write("%s,%s,%d\n" % r)
    stats = {"rows": len(rows), "train": cut, "test": len(rows) - cut,
             "positive": sum(r[2] for r in rows)}
    with open(os.path.join(out, "stats.json"), "w") as f:
        json.dump(stats, f)
    with open(os.path.join(out, "preview.txt"), "w") as f:
        f.writelines("%s %s %d\n" % r for r in rows[:5])
    print("preprocessed %d rows (seed %d)" % (len(rows), args.seed))
    print(json.dumps(stats))           # Valohai metadata


if __name__ == "__main__":
    main()
