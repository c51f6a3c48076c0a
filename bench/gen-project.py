#!/usr/bin/env python3
"""gen-project.py — write a synthetic trig project for the benchmarks, as .trig and as YAML.

    bench/gen-project.py [--kind mix|idle] [--triggers N] [--seed S] [--now EPOCH] OUT

writes OUT.trig and OUT.yaml: the same project in both forms (bench/run.sh
checks that their canonical YAML, `trigc fmt --to yaml`, is the same).  The
output depends only on the arguments (and, for --kind idle without --now, on
today's date), so a run can be repeated exactly.

--kind mix (default, 1,000 triggers): what a large real project holds.
    24 steps with 2-6 typed parameters, inputs and environment variables;
    6 pipelines; triggers: 45 % schedules (cron in many forms -- lists,
    ranges, steps, names, @-macros, both day fields -- in ten time zones,
    and the every/daily/weekdays/monthly sugar, some with catch-up and
    overlap), 40 % webhooks (hmac presets and custom hmac, token, jwt,
    timestamp, replay, ip-allow, filters of every operator, any/all/not
    groups, rate limits with and without a key; actions with templates,
    fetch-repository, http call-backs, respond), 15 % notifications
    (filters on event data, run/copy pipeline).
--kind idle (default 10,000 triggers): schedules only, none of which
    fires within half a day of --now (default: the current time), so that
    a server can be watched idling: cron with a fixed month six months
    away, weekly cron on a day that is not yesterday, today or tomorrow,
    monthly sugar on a day of the month that is not yesterday, today or the next two days (all
    in UTC, so at least half a day away in every zone), and every 7d to 30d,
    over ten time zones.
"""
import argparse
import datetime
import json
import random
import re
import sys

ZONES = ["UTC", "Europe/Helsinki", "America/New_York", "Asia/Tokyo", "Europe/London",
         "Australia/Sydney", "America/Los_Angeles", "Asia/Kolkata", "America/Sao_Paulo",
         "Europe/Berlin"]
DOW = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
PARAMS = [("epochs", "integer"), ("learning-rate", "float"), ("batch-size", "integer"),
          ("seed", "integer"), ("model", "string"), ("region", "string"), ("dropout", "float"),
          ("verbose", "flag")]
STEP_KINDS = ["train", "evaluate", "preprocess", "export", "benchmark", "report",
              "tune", "distill"]
EVENTS = ["dataset_version_created", "model_version_created", "execution_completed",
          "execution_failed", "pipeline_completed", "model_latest_approved_version_changed",
          "datum_alias_updated", "custom.data.ready"]


class Tmpl(str):
    """A "{{ PATH }}" value: written as the bare PATH in .trig."""

    def __new__(cls, path):
        s = super().__new__(cls, "{{ %s }}" % path)
        s.path = path
        return s


class Secret:
    def __init__(self, kind, ref):
        self.kind, self.ref = kind, ref


class Regex(str):
    """The value of a `matches` filter: /.../ in .trig."""


# ---------------------------------------------------------------- the model

def make_steps(rng, n):
    steps = []
    for i in range(n):
        kind = STEP_KINDS[i % len(STEP_KINDS)]
        name = "%s-%d" % (kind, i)
        params = []
        for pname, t in sorted(rng.sample(PARAMS, rng.randint(2, 6)), key=PARAMS.index):
            p = {"name": pname, "type": t}
            if t == "integer":
                p["default"] = rng.choice([1, 3, 10, 32, 64, 128, 42, 1234])
            elif t == "float":
                p["default"] = rng.choice(["0.001", "0.01", "0.1", "0.5", "3e-4"])
            elif t == "string":
                p["default"] = rng.choice(["resnet50", "global", "emea", "small", "v2"])
            else:
                p["optional"] = True
            if rng.random() < 0.3:
                p["description"] = "%s of %s" % (pname, name)
            params.append(p)
        step = {"name": name}
        if rng.random() < 0.5:
            step["image"] = rng.choice(["python:3.12", "pytorch/pytorch:2.3.0-cuda12.1-cudnn8-runtime",
                                        "tensorflow/tensorflow:2.16.1-gpu"])
        if rng.random() < 0.2:
            step["command"] = ["pip install -r requirements.txt",
                               "python3 %s.py {parameters}" % kind]
        else:
            step["command"] = "python3 %s.py {parameters}" % kind
        step["parameters"] = params
        inputs = []
        for j in range(rng.randint(0, 2)):
            inputs.append({"name": ["dataset", "checkpoint"][j],
                           "default": "s3://bench-bucket/%s/%s-%d.npz" % (kind, ["data", "ckpt"][j], i)})
        if inputs:
            step["inputs"] = inputs
        if rng.random() < 0.4:
            step["environment-variables"] = [{"name": "LOG_LEVEL", "default": "info"}]
        steps.append(step)
    return steps


def make_pipelines(rng, steps, n):
    pipes = []
    for i in range(n):
        a, b = rng.sample([s for s in steps if s.get("inputs")], 2)
        pipes.append({
            "name": "pipeline-%d" % i,
            "nodes": [{"name": "prep", "step": a["name"]}, {"name": "main", "step": b["name"]}],
            "edges": [["prep.output.*.npz", "main.input.%s" % b["inputs"][0]["name"]]],
        })
    return pipes


def param_value(rng, p, scope):
    """A value for parameter P: a constant, or a template of SCOPE's fields."""
    if p["type"] == "flag":
        return rng.choice(["true", "false"])
    if scope and rng.random() < 0.4:
        return Tmpl(rng.choice(scope))
    if p["type"] == "integer":
        return rng.randint(1, 1000)
    if p["type"] == "float":
        return "%.3g" % rng.uniform(0.001, 1)
    return rng.choice(["eu", "us", "apac", "nightly", "canary"])


def run_execution(rng, steps, scope, extra=None):
    s = rng.choice(steps)
    a = {"step": s["name"]}
    if extra:
        a.update(extra)
    ps = rng.sample(s["parameters"], rng.randint(1, len(s["parameters"])))
    a["parameters"] = {p["name"]: param_value(rng, p, scope) for p in ps}
    if s.get("inputs") and rng.random() < 0.5:
        a["inputs"] = {s["inputs"][0]["name"]: "s3://bench-bucket/override/%d.npz" % rng.randint(0, 99)}
    if rng.random() < 0.2:
        a["environment"] = {"MODE": rng.choice(["fast", "full"])}
    return {"run-execution": a}


def run_pipeline(rng, pipes, steps, scope, extra=None):
    pl = rng.choice(pipes)
    a = {"pipeline": pl["name"]}
    if extra:
        a.update(extra)
    main = next(s for s in steps if s["name"] == pl["nodes"][1]["step"])
    p = rng.choice(main["parameters"])
    a["parameters"] = {"main.%s" % p["name"]: param_value(rng, p, scope)}
    prep = next(s for s in steps if s["name"] == pl["nodes"][0]["step"])
    if prep.get("inputs") and scope and rng.random() < 0.5:
        a["inputs"] = {"prep.%s" % prep["inputs"][0]["name"]: Tmpl(rng.choice(scope))}
    return {"run-pipeline": a}


def cron_expr(rng):
    m, h = rng.randint(0, 59), rng.randint(0, 23)
    forms = [
        lambda: "%d %d * * *" % (m, h),
        lambda: "*/%d * * * *" % rng.choice([5, 10, 15, 20, 30]),
        lambda: "%d 9-17 * * 1-5" % m,
        lambda: "%d %d * * mon-fri" % (m, h),
        lambda: "0 %d 1,15 * *" % h,
        lambda: "%d %d * jan,apr,jul,oct *" % (m, h),
        lambda: "0 12 1 * mon",
        lambda: "%d 4 * * %s" % (m, rng.choice(DOW)),
        lambda: "0 */%d * * *" % rng.choice([2, 3, 4, 6, 8, 12]),
        lambda: "%d,%d %d-%d * * *" % (m % 30, m % 30 + 30, h % 12, h % 12 + 8),
        lambda: "%d %d 28-31 * *" % (m, h),
        lambda: rng.choice(["@hourly", "@daily", "@weekly", "@monthly", "@yearly", "@annually"]),
    ]
    return rng.choice(forms)()


def schedule_mix(rng):
    r = rng.random()
    s = {}
    if r < 0.6:
        s["cron"] = cron_expr(rng)
    elif r < 0.7:
        s["every"] = rng.choice(["30s", "5m", "15m", "1h", "90m", "6h", "1d"])
        return s
    elif r < 0.8:
        s["daily"] = "%02d:%02d" % (rng.randint(0, 23), rng.choice([0, 15, 30, 45]))
    elif r < 0.9:
        s["weekdays"] = "%02d:%02d" % (rng.randint(6, 20), rng.choice([0, 30]))
    else:
        s["monthly"] = {"day": rng.randint(1, 28), "at": "%02d:00" % rng.randint(0, 23)}
    if rng.random() < 0.7:
        s["timezone"] = rng.choice(ZONES)
    if rng.random() < 0.2:
        s["catch-up"] = rng.choice(["none", "once"])
    if rng.random() < 0.2:
        s["overlap"] = rng.choice(["allow", "skip"])
    return s


PAYLOAD_FIELDS = ["payload.ref", "payload.after", "payload.repository.full_name",
                  "payload.pusher.name", "payload.head_commit.id", "payload.sender.login",
                  "payload.action", "payload.pull_request.number", "payload.commits[0].id"]

# (field, operator, values to pick from)
WEBHOOK_FILTERS = [
    ("header.X-GitHub-Event", "equals", ["push", "release", "pull_request"]),
    ("header.X-GitHub-Event", "in", [["push", "release"], ["pull_request", "pull_request_review"]]),
    ("payload.ref", "equals", ["refs/heads/main", "refs/heads/develop"]),
    ("payload.ref", "in", [["refs/heads/main", "refs/heads/release"]]),
    ("payload.ref", "not-in", [["refs/heads/wip", "refs/heads/tmp"]]),
    ("payload.ref", "glob", ["refs/tags/v*", "refs/heads/release-*"]),
    ("payload.ref", "matches", [Regex("^refs/heads/release-[0-9]+$"), Regex("^refs/tags/v[0-9]+\\.[0-9]+")]),
    ("payload.head_commit.message", "matches", [Regex("^release: "), Regex("\\[retrain\\]")]),
    ("payload.head_commit.message", "contains", ["[train]", "retrain"]),
    ("payload.action", "equals", ["opened", "labeled", "published"]),
    ("payload.action", "not-equals", ["closed", "deleted"]),
    ("payload.pull_request.number", "greater-than", [0, 100]),
    ("payload.size", "less-than", [100, 1000]),
    ("payload.pull_request.labels", "contains", ["train", "ml"]),
    ("payload.deleted", "exists", [False]),
    ("payload.pusher.name", "exists", [True]),
    ("payload.repository.full_name", "equals", ["acme/models", "acme/vision"]),
    ("query.ref", "not-equals", ["wip"]),
]
EVENT_FILTERS = [
    ("event.data.dataset.name", "matches", [Regex("^images(-.*)?$"), Regex("^speech-[a-z]+$")]),
    ("event.data.dataset.name", "equals", ["images", "reviews"]),
    ("event.data.model_version.status", "equals", ["approved"]),
    ('event.data["valohai.execution-step"]', "equals", ["train", "evaluate"]),
    ('event.data["valohai.execution-step"]', "not-equals", ["export"]),
    ("event.data.version.uri", "glob", ["dataset://images/*", "dataset://reviews/*"]),
    ("event.data.model", "exists", [True]),
    ("event.title", "contains", ["nightly", "approved"]),
    ("event.data.model_version.counter", "greater-than", [1, 10]),
]


def filters(rng, table):
    out = []
    for field, op, values in rng.sample(table, rng.randint(1, 3)):
        out.append({"filter": {"field": field, op: rng.choice(values)}})
    return out


def webhook_conditions(rng, name):
    conds = []
    r = rng.random()
    if r < 0.35:
        preset = rng.choice(["github", "gitlab", "slack", "stripe", "standard-webhooks", "shopify"])
        conds.append({"hmac": {"preset": preset,
                               "secret": Secret("env", "HMAC_%s" % name.upper().replace("-", "_"))}})
        if preset == "github":
            conds.append({"replay": {"id": Tmpl("header.X-GitHub-Delivery"), "window": "1h"}})
        if preset == "slack":
            conds.append({"timestamp": {"header": "X-Slack-Request-Timestamp", "format": "unix",
                                        "tolerance": "5m"}})
        if preset == "stripe":
            conds.append({"timestamp": {"from": "signature", "tolerance": "5m"}})
    elif r < 0.5:
        alg = rng.choice(["sha1", "sha256", "sha512"])
        conds.append({"hmac": {"algorithm": alg,
                               "secret": Secret("file", "/run/secrets/%s" % name),
                               "header": "X-Signature", "prefix": alg + "=",
                               "encoding": rng.choice(["hex", "base64"]),
                               "message": "{{ header.X-Timestamp }}.{{ body }}"}})
    elif r < 0.8:
        t = rng.choice(["header", "query", "bearer"])
        c = {"secret": Secret("env", "TOKEN_%d" % rng.randint(0, 9))}
        c.update({"header": {"header": "X-Token"}, "query": {"query": "token"},
                  "bearer": {"bearer": True}}[t])
        conds.append({"token": c})
    else:
        conds.append({"jwt": {"algorithms": ["RS256", "ES256"],
                              "key": Secret("jwks-url", "https://id.example.com/.well-known/jwks.json"),
                              "issuer": "https://id.example.com", "audience": "api",
                              "leeway": "30s"}})
        if rng.random() < 0.5:
            conds.append({"filter": {"field": "claim.sub", "in": ["ci-bot", "alice"]}})
    if rng.random() < 0.15:
        conds.append({"ip-allow": ["10.0.0.0/8", "192.168.0.0/16", "2001:db8::/32"]})
    conds += filters(rng, WEBHOOK_FILTERS)
    if rng.random() < 0.25:
        conds.append({"any": [
            {"filter": {"field": "payload.action", "equals": "opened"}},
            {"all": [{"filter": {"field": "payload.action", "equals": "labeled"}},
                     {"filter": {"field": "payload.label.name", "equals": "train"}}]},
        ]})
    if rng.random() < 0.15:
        conds.append({"not": [{"filter": {"field": "payload.sender.type", "equals": "Bot"}}]})
    if rng.random() < 0.5:
        rl = {"max": rng.choice([1, 5, 10, 60]), "per": rng.choice(["1m", "1h", "1d"])}
        if rng.random() < 0.4:
            rl["key"] = Tmpl("payload.sender.login")
        conds.append({"rate-limit": rl})
    return conds


def trigger_mix(rng, i, steps, pipes):
    r = rng.random()
    t = {}
    if r < 0.45:
        name = "sched-%d" % i
        t["name"] = name
        if rng.random() < 0.3:
            t["description"] = "Scheduled run %d" % i
        if rng.random() < 0.03:
            t["enabled"] = False
        t["schedule"] = schedule_mix(rng)
        scope = ["trigger.name", "now", "launch.id"]
        t["actions"] = [run_execution(rng, steps, scope, {"title": "%s {{ now }}" % name})
                        if rng.random() < 0.7 else run_pipeline(rng, pipes, steps, scope)]
    elif r < 0.85:
        name = "hook-%d" % i
        t["name"] = name
        w = {"path": "/hooks/%s" % name}
        if rng.random() < 0.15:
            w["methods"] = ["GET", "POST"]
        else:
            w["methods"] = ["POST"]
        if rng.random() < 0.2:
            w["max-body"] = rng.choice(["64KiB", "1MiB", "4MiB"])
        t["webhook"] = w
        t["conditions"] = webhook_conditions(rng, name)
        scope = PAYLOAD_FIELDS + ["header.X-Request-Id", "query.ref"]
        acts = []
        if rng.random() < 0.3:
            acts.append({"fetch-repository": {}})
        if rng.random() < 0.75:
            acts.append(run_execution(rng, steps, scope, {
                "commit": Tmpl("payload.after"),
                "title": "push by {{ payload.pusher.name }} on {{ payload.ref }}"}))
        else:
            acts.append(run_pipeline(rng, pipes, steps, scope))
        if rng.random() < 0.2:
            acts.append({"http": {"method": "POST", "url": Tmpl("payload.response_url"),
                                  "headers": {"Content-Type": "application/json"},
                                  "body": "{\"text\": \"started {{ launch.id }} for {{ payload.ref }}\"}",
                                  "expect": 200}})
        if rng.random() < 0.4:
            acts.append({"respond": {"status": 202, "body": "started {{ launch.id }}"}})
        t["actions"] = acts
    else:
        name = "event-%d" % i
        t["name"] = name
        t["notification"] = {"event": rng.choice(EVENTS)}
        t["conditions"] = filters(rng, EVENT_FILTERS)
        if t["notification"]["event"].startswith(("execution_", "pipeline_")):
            # Events the runtime emits for its own launches: only those from
            # outside (a real Valohai), else the trigger could re-trigger
            # itself ([event-loop]).
            t["conditions"].append({"filter": {"field": 'event.data["trig.trigger"]',
                                               "exists": False}})
        scope = ["event.data.version.uri", "event.data.model_version.uri", "event.title"]
        if rng.random() < 0.2:
            t["actions"] = [{"copy-pipeline": {"pipeline": rng.choice(pipes)["name"],
                                               "source": "latest"}}]
        else:
            t["actions"] = [run_pipeline(rng, pipes, steps, scope)]
    return t


def far_day_of_month(rng, now):
    """A day 1-28 that is not yesterday, today or the next two days (UTC), so
    that in every zone its next occurrence is at least half a day after NOW."""
    near = {(now + datetime.timedelta(days=k)).day for k in range(-1, 3)}
    return rng.choice([d for d in range(1, 29) if d not in near])


def trigger_idle(rng, i, steps, now):
    t = {"name": "idle-%d" % i}
    r = rng.random()
    s = {}
    far_month = (now.month - 1 + 6) % 12            # 0-based, six months away
    if r < 0.55:
        m, h, d = rng.randint(0, 59), rng.randint(0, 23), rng.randint(1, 28)
        mon = rng.choice([str(far_month + 1), MONTHS[far_month]])
        s["cron"] = "%d %d %d %s *" % (m, h, d, mon)
    elif r < 0.7:
        # weekly, on a day that is not yesterday, today or tomorrow (UTC)
        today = (now.weekday() + 1) % 7              # cron: 0 = sunday
        dow = rng.choice([x for x in range(7) if (x - today) % 7 not in (6, 0, 1)])
        s["cron"] = "%d %d * * %s" % (rng.randint(0, 59), rng.randint(0, 23), DOW[dow])
    elif r < 0.9:
        s["monthly"] = {"day": far_day_of_month(rng, now), "at": "%02d:%02d" % (rng.randint(0, 23),
                                                                           rng.choice([0, 30]))}
    else:
        s["every"] = rng.choice(["7d", "14d", "30d"])
    if "every" not in s:
        s["timezone"] = rng.choice(ZONES)
    t["schedule"] = s
    t["actions"] = [run_execution(rng, steps, ["trigger.name", "now"])]
    return t


def make_project(kind, n, seed, now):
    rng = random.Random(seed)
    steps = make_steps(rng, 24)
    pipes = make_pipelines(rng, steps, 6)
    proj = {"project": "bench-%s" % kind, "backend": {"kind": "local", "max-parallel": 4},
            "steps": steps}
    if kind == "mix":
        proj["pipelines"] = pipes
        proj["triggers"] = [trigger_mix(rng, i, steps, pipes) for i in range(n)]
    else:
        proj["triggers"] = [trigger_idle(rng, i, steps, now) for i in range(n)]
    return proj


# ---------------------------------------------------------------- YAML

YAML_PLAIN = re.compile(r"[A-Za-z0-9_/][A-Za-z0-9_./@+=-]*( +[A-Za-z0-9_./@+={}-]+)*")


def yscalar(v, flow=False):
    """A scalar: plain where a person would write it so, else double-quoted
    (FLOW: an item of a [...] list, where braces need quotes)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    v = str(v)
    if (YAML_PLAIN.fullmatch(v) and v not in ("null", "Null", "NULL") and not isinstance(v, Regex)
            and not (flow and re.search(r"[{}]", v))):
        return v
    return json.dumps(v, ensure_ascii=False)


def yaml_value(v, ind, out):
    """Writes V (after a 'key:' already on the line) at indent IND."""
    pad = " " * ind
    if isinstance(v, Secret):
        out.append("\n%s%s: %s\n" % (pad, v.kind, yscalar(v.ref)))
    elif isinstance(v, dict):
        if not v:
            out.append(" {}\n")
            return
        out.append("\n")
        for k, x in v.items():
            out.append("%s%s:" % (pad, yscalar(k) if "." in k else k))
            yaml_value(x, ind + 2, out)
    elif isinstance(v, list):
        if all(not isinstance(x, (dict, list, Secret)) for x in v):
            out.append(" [%s]\n" % ", ".join(yscalar(x, True) for x in v))
            return
        out.append("\n")
        for x in v:
            if isinstance(x, dict):
                first = True
                for k, y in x.items():
                    out.append("%s%s%s:" % (pad, "- " if first else "  ", k))
                    yaml_value(y, ind + 4, out)
                    first = False
            else:
                out.append("%s- [%s]\n" % (pad, ", ".join(yscalar(z, True) for z in x)))
    else:
        out.append(" %s\n" % yscalar(v))


def to_yaml(proj):
    out = ["# Generated by bench/gen-project.py.\n"]
    for k, v in proj.items():
        out.append("%s:" % k)
        yaml_value(v, 2, out)
        out.append("\n")
    return "".join(out)


# ---------------------------------------------------------------- .trig

KEYWORDS = {"backend", "import", "step", "pipeline", "trigger", "parameter", "input",
            "environment", "header", "node", "edge", "webhook", "on", "http", "respond", "when",
            "any", "all", "not", "in", "matches", "glob", "contains", "exists", "env", "file",
            "jwks-file", "jwks-url", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}
BARE = re.compile(r"[A-Za-z_]([A-Za-z0-9_-]*[A-Za-z0-9_])?|-?[0-9]+(\.[0-9]+)?([A-Za-z][A-Za-z0-9]*)?")


def tv(v):
    """A .trig value."""
    if isinstance(v, Secret):
        return "%s %s" % (v.kind, v.ref if v.kind == "env" else json.dumps(v.ref))
    if isinstance(v, Tmpl) and "." in v.path:
        return v.path
    if isinstance(v, Regex):
        return "/%s/" % v.replace("/", "\\/")
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, list):
        return "[%s]" % ", ".join(tv(x) for x in v)
    if isinstance(v, dict):
        return "{ %s }" % ", ".join("%s %s" % (k, tv(x)) for k, x in v.items())
    if BARE.fullmatch(v) and v not in KEYWORDS:
        return v
    return json.dumps(v, ensure_ascii=False)


def pairs(d, skip=()):
    return " ".join("%s %s" % (k, tv(v)) for k, v in d.items() if k not in skip)


OPS = {"equals": "==", "not-equals": "!=", "in": "in", "not-in": "not in", "matches": "matches",
       "glob": "glob", "greater-than": ">", "less-than": "<", "contains": "contains"}


def trig_conds(conds, ind, out):
    pad = " " * ind
    for c in conds:
        (k, v), = c.items()
        if k == "filter":
            op = next(x for x in v if x != "field")
            if op == "exists":
                out.append("%swhen %s %s\n" % (pad, v["field"], "exists" if v[op] else "not exists"))
            else:
                out.append("%swhen %s %s %s\n" % (pad, v["field"], OPS[op], tv(v[op])))
        elif k in ("any", "all", "not"):
            out.append("%s%s {\n" % (pad, k))
            trig_conds(v, ind + 4, out)
            out.append("%s}\n" % pad)
        elif k == "rate-limit":
            out.append("%srate limit %d per %s%s\n" % (pad, v["max"], v["per"],
                                                       " key " + tv(v["key"]) if "key" in v else ""))
        elif k == "ip-allow":
            out.append("%sip-allow %s\n" % (pad, tv(v)))
        else:
            out.append("%s%s %s\n" % (pad, k, pairs(v)))


def trig_action(a, ind, out):
    pad = " " * ind
    (k, v), = a.items()
    if k == "fetch-repository":
        out.append("%sfetch repository\n" % pad)
        return
    if k == "respond":
        out.append("%srespond %d %s\n" % (pad, v["status"], tv(v["body"])))
        return
    if k == "http":
        out.append("%shttp %s %s {\n" % (pad, v["method"], tv(v["url"])))
        for h, x in v["headers"].items():
            out.append("%s    header %s = %s\n" % (pad, h, tv(x)))
        out.append("%s    body %s\n%s    expect %d\n%s}\n" % (pad, tv(v["body"]), pad, v["expect"], pad))
        return
    if k == "copy-pipeline":
        out.append("%scopy pipeline %s source %s\n" % (pad, v["pipeline"], v["source"]))
        return
    head = "run execution %s" % v["step"] if k == "run-execution" else "run pipeline %s" % v["pipeline"]
    out.append("%s%s {\n" % (pad, head))
    for f in ("commit", "title"):
        if f in v:
            out.append("%s    %s %s\n" % (pad, f, tv(v[f])))
    for m, word in (("parameters", "parameter"), ("inputs", "input"), ("environment", "environment")):
        for n, x in v.get(m, {}).items():
            out.append("%s    %s %s = %s\n" % (pad, word, n, tv(x)))
    out.append("%s}\n" % pad)


def to_trig(proj):
    out = ["# Generated by bench/gen-project.py.\n", "project %s\n\n" % proj["project"]]
    b = proj["backend"]
    out.append("backend %s {\n    max-parallel %d\n}\n\n" % (b["kind"], b["max-parallel"]))
    for s in proj["steps"]:
        out.append("step %s {\n" % s["name"])
        if "image" in s:
            out.append("    image %s\n" % tv(s["image"]))
        out.append("    command %s\n" % tv(s["command"]))
        for p in s["parameters"]:
            line = "    parameter %s: %s" % (p["name"], p["type"])
            if "default" in p:
                line += " = %s" % tv(p["default"])
            rest = pairs(p, ("name", "type", "default"))
            out.append(line + (" " + rest if rest else "") + "\n")
        for x in s.get("inputs", []):
            out.append("    input %s = %s\n" % (x["name"], tv(x["default"])))
        for x in s.get("environment-variables", []):
            out.append("    environment %s = %s\n" % (x["name"], tv(x["default"])))
        out.append("}\n\n")
    for pl in proj.get("pipelines", []):
        out.append("pipeline %s {\n" % pl["name"])
        for nd in pl["nodes"]:
            out.append("    node %s step %s\n" % (nd["name"], nd["step"]))
        for a, b2 in pl["edges"]:
            out.append("    edge %s -> %s\n" % (a, b2))
        out.append("}\n\n")
    for t in proj["triggers"]:
        out.append("trigger %s {\n" % t["name"])
        if "description" in t:
            out.append("    description %s\n" % tv(t["description"]))
        if "enabled" in t:
            out.append("    enabled %s\n" % tv(t["enabled"]))
        if "schedule" in t:
            out.append("    schedule %s\n" % pairs(t["schedule"]))
        if "webhook" in t:
            w = t["webhook"]
            out.append("    webhook %s %s%s\n" % (" ".join(w["methods"]), tv(w["path"]),
                                                  " " + pairs(w, ("methods", "path"))
                                                  if "max-body" in w else ""))
        if "notification" in t:
            ev = t["notification"]["event"]
            out.append("    on %s\n" % (json.dumps(ev) if "." in ev else ev))
        trig_conds(t.get("conditions", []), 4, out)
        for a in t["actions"]:
            trig_action(a, 4, out)
        out.append("}\n\n")
    return "".join(out).rstrip("\n") + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kind", choices=["mix", "idle"], default="mix")
    ap.add_argument("--triggers", type=int)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--now", type=int, help="seconds since the epoch (idle: default now)")
    ap.add_argument("out", help="writes OUT.trig and OUT.yaml")
    a = ap.parse_args()
    n = a.triggers if a.triggers is not None else (1000 if a.kind == "mix" else 10000)
    now = datetime.datetime.fromtimestamp(a.now if a.now is not None else
                                          datetime.datetime.now().timestamp(),
                                          datetime.timezone.utc)
    proj = make_project(a.kind, n, a.seed, now)
    with open(a.out + ".trig", "w", encoding="utf-8") as f:
        f.write(to_trig(proj))
    with open(a.out + ".yaml", "w", encoding="utf-8") as f:
        f.write(to_yaml(proj))
    return 0


if __name__ == "__main__":
    sys.exit(main())
