#!/usr/bin/env python3
"""The training step of the slack-train example: pretends to train MODEL for
USER and writes a small report to $VH_OUTPUTS_DIR."""
import argparse
import json
import os


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="mnist")
    ap.add_argument("--user", default="someone")
    args = ap.parse_args()
    print(f"training {args.model} for {args.user}")
    out = os.environ.get("VH_OUTPUTS_DIR", ".")
    with open(os.path.join(out, "report.json"), "w") as f:
        json.dump({"model": args.model, "user": args.user, "accuracy": 0.97}, f)


if __name__ == "__main__":
    main()
