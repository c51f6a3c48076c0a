#!/usr/bin/env python3
"""The training step of the github-push example: reports which commit of the
checkout it runs and who pushed it, and writes that to $VH_OUTPUTS_DIR."""
import argparse
import json
import os
import subprocess


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--commit", default="unknown")
    ap.add_argument("--pusher", default="unknown")
    args = ap.parse_args()
    head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    print(f"training commit {head} (pushed {args.commit} by {args.pusher})")
    out = os.environ.get("VH_OUTPUTS_DIR", ".")
    with open(os.path.join(out, "run.json"), "w") as f:
        json.dump({"head": head, "pushed": args.commit, "pusher": args.pusher}, f)


if __name__ == "__main__":
    main()
