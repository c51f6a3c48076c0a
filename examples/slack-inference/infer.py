#!/usr/bin/env python3
"""The inference step of the slack-inference example: a toy sentiment
classifier.  It reads --text, prints a line for people and then its result
as Valohai metadata (a JSON object on one line of standard output), which
the trigger posts back to Slack.  Text with nothing to classify (only
blanks) is an error: exit status 1, and no metadata."""
import argparse
import json
import re
import sys

POSITIVE = {"good", "great", "love", "excellent", "happy", "nice", "fast", "works", "thanks"}
NEGATIVE = {"bad", "awful", "hate", "terrible", "sad", "slow", "broken", "fails", "bug"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--text", required=True)
    args = ap.parse_args()
    if not args.text.strip():
        print("nothing to classify", file=sys.stderr)
        return 1
    words = re.findall(r"[a-z']+", args.text.lower())
    pos = sum(w in POSITIVE for w in words)
    neg = sum(w in NEGATIVE for w in words)
    label = "positive" if pos > neg else "negative" if neg > pos else "neutral"
    score = round(0.5 + 0.45 * (abs(pos - neg) / (pos + neg)), 2) if pos + neg else 0.5
    print(f"classified {len(words)} word(s): {label}")
    # The metadata line; "text" is the text as received, one argument.
    print(json.dumps({"label": label, "score": score, "text": args.text}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
