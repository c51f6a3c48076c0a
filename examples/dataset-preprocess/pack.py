#!/usr/bin/env python3
"""The pack step of the dataset-preprocess example: puts the normalized
images ($VH_INPUTS_DIR/images/) and the manifest into one tar archive,
$VH_OUTPUTS_DIR/VERSION.tar."""
import argparse
import json
import os
import re
import tarfile


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--version", default="latest")
    args = ap.parse_args()
    inputs = os.environ.get("VH_INPUTS_DIR", "inputs")
    out = os.environ.get("VH_OUTPUTS_DIR", ".")
    name = re.sub(r"[^A-Za-z0-9._-]", "_", args.version) + ".tar"
    images = sorted(os.listdir(os.path.join(inputs, "images")))
    with tarfile.open(os.path.join(out, name), "w") as tar:
        tar.add(os.path.join(inputs, "manifest", "manifest.json"), arcname="manifest.json")
        for image in images:
            tar.add(os.path.join(inputs, "images", image), arcname="images/" + image)
    print(json.dumps({"archive": name, "images": len(images)}))


if __name__ == "__main__":
    main()
