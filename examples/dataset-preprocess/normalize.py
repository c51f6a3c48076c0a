#!/usr/bin/env python3
"""The normalize step of the dataset-preprocess example: stretches the
contrast of each PGM image of $VH_INPUTS_DIR/images/ to 0-255, writes the
results and a manifest.json to $VH_OUTPUTS_DIR, and records which
notification (inputs/event/payload.json) asked for it."""
import argparse
import hashlib
import json
import os


def read_pgm(path):
    words = []
    with open(path) as f:
        for line in f:
            words += line.split("#", 1)[0].split()
    if words[0] != "P2":
        raise SystemExit("%s: not an ASCII PGM image" % path)
    w, h, top = int(words[1]), int(words[2]), int(words[3])
    px = [int(v) for v in words[4:4 + w * h]]
    return w, h, top, px


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default="images")
    ap.add_argument("--version", default="latest")
    args = ap.parse_args()
    inputs = os.environ.get("VH_INPUTS_DIR", "inputs")
    out = os.environ.get("VH_OUTPUTS_DIR", ".")
    src = os.path.join(inputs, "images")
    event = {}
    payload = os.path.join(inputs, "event", "payload.json")
    if os.path.exists(payload):
        with open(payload) as f:
            event = json.load(f)
    files = []
    for name in sorted(os.listdir(src)):
        path = os.path.join(src, name)
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        entry = {"file": name, "sha256": digest}
        if name.endswith(".pgm"):
            w, h, _, px = read_pgm(path)
            lo, hi = min(px), max(px)
            scaled = [(v - lo) * 255 // max(hi - lo, 1) for v in px]
            with open(os.path.join(out, name), "w") as f:
                f.write("P2\n%d %d\n255\n" % (w, h))
                for y in range(h):
                    f.write(" ".join(str(v) for v in scaled[y * w:(y + 1) * w]) + "\n")
            entry.update({"width": w, "height": h, "min": lo, "max": hi})
        files.append(entry)
        print("%s %s" % (name, digest))
    manifest = {
        "dataset": args.dataset,
        "version": args.version,
        "version_id": event.get("data", {}).get("version", {}).get("id"),
        "files": files,
    }
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print(json.dumps({"files": len(files), "images": sum(1 for e in files if "width" in e)}))


if __name__ == "__main__":
    main()
