#!/usr/bin/env python3
"""Writes a small report for the timezones example."""
import argparse
import datetime
import json
import os

ap = argparse.ArgumentParser()
ap.add_argument("--region", default="global")
ap.add_argument("--period", default="day")
args = ap.parse_args()
report = {
    "region": args.region,
    "period": args.period,
    "generated": datetime.datetime.now(datetime.timezone.utc).isoformat(),
}
print(json.dumps(report))
with open(os.path.join(os.environ.get("VH_OUTPUTS_DIR", "."), "report.json"), "w") as f:
    json.dump(report, f)
