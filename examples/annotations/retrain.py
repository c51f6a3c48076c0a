#!/usr/bin/env python3
"""The retraining step of the annotations example."""
import argparse
import os


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--project", default="images")
    ap.add_argument("--task", type=int, default=0)
    args = ap.parse_args()
    print(f"retraining on project {args.project} after task {args.task}")
    out = os.environ.get("VH_OUTPUTS_DIR", ".")
    with open(os.path.join(out, "retrained.txt"), "w") as f:
        f.write(f"{args.project} {args.task}\n")


if __name__ == "__main__":
    main()
