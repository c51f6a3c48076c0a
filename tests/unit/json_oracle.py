#!/usr/bin/env python3
"""json_oracle.py — Python's json module as an independent oracle for test_json.

test_json.c runs it in three ways (few runs: starting Python is slow):

  json_oracle.py paths SEED DOC:N...
      N random paths into each JSON file DOC, one a line: the document's
      number (0, 1... in argument order), a tab, the path as text (trigger
      syntax: a.b[0], a\\.b, a["k"]), a tab, the segments as a JSON array
      (strings are keys, integers indexes).  Most paths exist; some do not
      (unknown key, index out of range, key into an array...).

  json_oracle.py check RESULTS DOC...
      RESULTS holds one JSON object a line, written by the C test:
      {"doc" (number), "text", "segs" (as given), "parsed" (what
      trig_json_path_parse made of text), "type", "offset", "raw",
      "decoded"}.  Checks each against json.loads(DOC): the parsed segments,
      the type, that raw is the document's bytes at offset and parses to the
      value found by walking the segments, and that decoded is the string's
      value (or raw for non-strings).  Prints the mismatches; exit status 1
      if any, or if some document got no result.

  json_oracle.py synth SEED COUNT PREFIX
      Writes COUNT random JSON documents to PREFIX.1.json ... : awkward keys
      (dots, brackets, backslashes, quotes, empty, non-ASCII), every escape
      form, duplicate keys (the last one wins, as in json.loads), nesting.
"""
import json
import random
import sys

MISSING = object()


def lookup(doc, segs):
    v = doc
    for s in segs:
        if isinstance(s, int):
            if not isinstance(v, list) or s >= len(v):
                return MISSING
            v = v[s]
        else:
            if not isinstance(v, dict) or s not in v:
                return MISSING
            v = v[s]
    return v


def type_name(v):
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def same(a, b):
    """Equality that does not confuse True with 1 or 1 with 1.0."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


def render(segs, rnd):
    """Writes segs in the trigger path syntax, choosing among spellings."""
    out = []
    for s in segs:
        if isinstance(s, int):
            out.append("[%d]" % s)
            continue
        plain_ok = s != "" and all(ord(c) >= 0x20 for c in s)
        style = rnd.random()
        if plain_ok and style < 0.7:
            text = s.replace("\\", "\\\\").replace(".", "\\.").replace("[", "\\[")
            out.append(("." if out else "") + text)
        else:
            out.append("[%s]" % json.dumps(s, ensure_ascii=rnd.random() < 0.5))
    return "".join(out)


def random_path(doc, rnd):
    segs = []
    v = doc
    while True:
        if not isinstance(v, (dict, list)) or not v or rnd.random() < 0.2:
            break
        if isinstance(v, dict):
            keys = [k for k in v if "\0" not in k]
            if not keys:
                break
            k = rnd.choice(keys)
        else:
            k = rnd.randrange(len(v))
        segs.append(k)
        v = v[k]
    r = rnd.random()
    if r < 0.08:
        segs.append("no-such-key")
    elif r < 0.14:
        segs.append(rnd.choice([len(v) if isinstance(v, list) else 0, 7, 100000]))
    elif r < 0.18 and isinstance(v, list):
        segs.append("0")        # a key never matches an array element
    elif r < 0.22 and isinstance(v, dict) and v:
        segs.append(0)          # an index never matches an object member
    return segs


def cmd_paths(seed, specs):
    rnd = random.Random(seed)
    for i, spec in enumerate(specs):
        doc_path, n = spec.rsplit(":", 1)
        with open(doc_path, "rb") as f:
            doc = json.loads(f.read().decode("utf-8"))
        for _ in range(int(n)):
            segs = random_path(doc, rnd)
            print("%d\t%s\t%s" % (i, render(segs, rnd), json.dumps(segs)))


def cmd_check(results_path, doc_paths):
    datas = []
    docs = []
    for p in doc_paths:
        with open(p, "rb") as f:
            datas.append(f.read())
        docs.append(json.loads(datas[-1].decode("utf-8")))
    bad = 0
    count = [0] * len(docs)
    with open(results_path, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            data, doc, doc_path = datas[r["doc"]], docs[r["doc"]], doc_paths[r["doc"]]
            count[r["doc"]] += 1
            segs = r["segs"]
            problems = []
            if r["parsed"] != segs or any(type(a) is not type(b)
                                          for a, b in zip(r["parsed"], segs)):
                problems.append("parsed %r" % (r["parsed"],))
            want = lookup(doc, segs)
            if want is MISSING:
                if r["type"] != "absent":
                    problems.append("should be absent, got %s" % r["type"])
            else:
                raw = r["raw"]
                off = r["offset"]
                rawb = raw.encode("utf-8")
                if r["type"] != type_name(want):
                    problems.append("type %s, want %s" % (r["type"], type_name(want)))
                if data[off:off + len(rawb)] != rawb:
                    problems.append("raw is not the document's text at %d" % off)
                try:
                    got = json.loads(raw)
                except ValueError as e:
                    got = MISSING
                    problems.append("raw does not parse: %s" % e)
                if got is not MISSING and not same(got, want):
                    problems.append("value %r, want %r" % (got, want))
                if isinstance(want, str):
                    if r["decoded"] != want:
                        problems.append("decoded %r, want %r" % (r["decoded"], want))
                elif r["decoded"] != raw:
                    problems.append("decoded %r, want the raw text" % r["decoded"])
            if problems:
                bad += 1
                if bad <= 20:
                    print("%s: path %r (%s): %s" % (doc_path, r["text"], json.dumps(segs),
                                                 "; ".join(problems)))
    print("json_oracle: %d paths in %d documents checked, %d wrong" %
          (sum(count), len(docs), bad))
    return 1 if bad or 0 in count else 0


KEYS = ["a", "b", "a.b", "a[0]", "x\\y", "q\"t", "", "sp ace", "\u00e9t\u00e9",
        "\U0001F600", "tab\tkey", "nl\nkey", "ctl\x01", "sl/ash", "0", "\u2028"]


def write_string(s, rnd):
    out = ['"']
    for c in s:
        o = ord(c)
        r = rnd.random()
        short = {'"': '\\"', '\\': '\\\\', '\b': '\\b', '\f': '\\f', '\n': '\\n',
                 '\r': '\\r', '\t': '\\t', '/': '\\/'}
        if c in short and (c in '"\\' or o < 0x20 or r < 0.5):
            out.append(short[c])
        elif o < 0x20 or r < 0.15:
            if o >= 0x10000:
                hi = 0xD800 + ((o - 0x10000) >> 10)
                lo = 0xDC00 + ((o - 0x10000) & 0x3FF)
                u = "\\u%04x\\u%04x" % (hi, lo)
            else:
                u = "\\u%04x" % o
            out.append(u.upper().replace("\\U", "\\u") if rnd.random() < 0.5 else u)
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def write_value(rnd, depth):
    r = rnd.random()
    if depth < 6 and r < 0.3:
        members = []
        for _ in range(rnd.randrange(0, 7)):
            k = rnd.choice(KEYS)
            members.append(write_string(k, rnd) + rnd.choice([":", " : ", ":\n "]) +
                           write_value(rnd, depth + 1))
        return "{" + ("," + rnd.choice(["", " ", "\n\t"])).join(members) + "}"
    if depth < 6 and r < 0.5:
        items = [write_value(rnd, depth + 1) for _ in range(rnd.randrange(0, 6))]
        return "[" + ", ".join(items) + "]"
    if r < 0.7:
        pool = "abc.[]\\\"/ \u00e9\U0001F600\u2028\x01\n\t"
        return write_string("".join(rnd.choice(pool) for _ in range(rnd.randrange(0, 12))), rnd)
    if r < 0.85:
        return rnd.choice(["0", "-0", "12", "-3.25", "1e10", "2.5E-3", "-0.0e+0",
                           "123456789012345678901234567890"])
    return rnd.choice(["true", "false", "null"])


def cmd_synth(seed, count, prefix):
    rnd = random.Random(seed)
    for i in range(1, count + 1):
        members = []
        for k in KEYS + KEYS[:5]:
            members.append(write_string(k, rnd) + ": " + write_value(rnd, 1))
        with open("%s.%d.json" % (prefix, i), "w", encoding="utf-8") as f:
            f.write("{\n  " + ",\n  ".join(members) + "\n}\n")
    return 0


def main(argv):
    if len(argv) >= 4 and argv[1] == "paths":
        cmd_paths(int(argv[2]), argv[3:])
        return 0
    if len(argv) >= 4 and argv[1] == "check":
        return cmd_check(argv[2], argv[3:])
    if len(argv) == 5 and argv[1] == "synth":
        return cmd_synth(int(argv[2]), int(argv[3]), argv[4])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
