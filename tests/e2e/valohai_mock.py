#!/usr/bin/env python3
"""valohai_mock.py - a stand-in for Valohai's API v0, for trig's tests.

Python 3 standard library only.  Implements what runtime/valohai.c calls:

    POST /api/v0/executions/                 create an execution
    GET  /api/v0/executions/ID/              its status
    POST /api/v0/pipelines/                  create a pipeline run
    GET  /api/v0/pipelines/?project=&title=  list (newest counter first)
    GET  /api/v0/pipelines/ID/               a pipeline run, with its nodes and edges
    POST /api/v0/projects/ID/fetch/          fetch the repository
    POST /api/v0/data/make_upload/           start an upload: {"id", "url"} (+ "fields"
                                             with --upload-style form)
    PUT  /_mock/upload/ID  (or form POST)    the "storage" the upload URL points at;
                                             no token needed, and a token sent here is
                                             refused (400: it must not leak to storage)
    POST /api/v0/data/ID/finalize/           the datum exists: {"id", "uri": "datum://ID"}
    GET  /api/v0/data/ID/                    a datum: name, size, and "content" (text)

Every /api/ call needs "Authorization: Token TOKEN" (401 otherwise).

Options:
    --port N            port to listen on (127.0.0.1); 0: any free port.  The bound
                        port is printed alone on stdout's first line, then flushed.
    --host H            address to listen on (default 127.0.0.1)
    --token T           the accepted API token (default: $VALOHAI_MOCK_TOKEN or
                        "test-token")
    --project ID        the only project accepted (404 for others); default: any
    --record FILE       append one JSON line per request (not the /_mock/ control
                        calls; the storage uploads are), written before it is answered: {"time", "method", "path",
                        "query", "headers" (lower-case names; Authorization left out),
                        "auth_ok", "idempotency_key", "body" (parsed JSON, or null),
                        "raw" (the body as text when it is not JSON, and always for
                        the storage uploads), "raw_len", "status", and "injected",
                        "replayed", "form_fields" where they apply}
    --fail-first N      answer 503 to the first N creating calls (POST under /api/)
    --tick SECONDS      how long an execution stays queued, then started (default 0.2)
    --upload-style S    put (default) or form (an S3-style presigned POST with fields)

Behaviour:
    - A creating call with an Idempotency-Key already answered 2xx gets the same
      answer again (same status and body), and nothing is created twice.  Failed
      answers (injected or 4xx) are not remembered.
    - Executions go queued -> started -> complete, each stage lasting --tick; a step
      whose name starts with "fail" ends in "error" with exit_code 1.  A completed
      execution has "metadata": {"step": STEP} merged with the JSON object given in
      the parameter "mock-metadata" (if any).  Pipelines follow their nodes: complete
      when all are, error if any node's step starts with "fail".
    - Failures on demand:
        header "X-Mock-Fail: 400"            that request is answered 400
        POST /_mock/fail {"status": 503, "count": 2, "retry_after": 1, "delay": 0.5,
                          "path": "/api/v0/executions/"}
                                             the next COUNT requests (creating calls
                                             only unless "any": true; only under PATH
                                             when given) get STATUS (0: no answer, the
                                             connection is closed), after DELAY
                                             seconds, with Retry-After when given
        POST /_mock/tick {"seconds": 60}     change --tick from now on
        POST /_mock/reset                    forget everything (and truncate --record)
        GET  /_mock/requests                 the recorded requests, as a JSON array
    - Validation errors answer 400 with Django REST framework's shape:
      {"step": ["This field is required."]}.
"""

import argparse
import json
import os
import sys
import threading
import time
import uuid
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

LOCK = threading.Lock()
CREATE_LOCK = threading.Lock()     # creating calls that carry an Idempotency-Key


class State:
    def __init__(self, args):
        self.args = args
        self.reset()

    def reset(self):
        if not hasattr(self, "tick0"):
            self.tick0 = self.args.tick
        self.args.tick = self.tick0
        self.executions = {}
        self.pipelines = {}
        self.data = {}
        self.idem = {}
        self.requests = []
        self.fail_rules = []
        self.fail_first = self.args.fail_first
        self.counter = 0
        if self.args.record:
            open(self.args.record, "w").close()


def now():
    return time.time()


def exec_status(e, tick):
    age = now() - e["_created"]
    if age < tick:
        return "queued"
    if age < 2 * tick:
        return "started"
    return "error" if e["step"].startswith("fail") else "complete"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "valohai-mock/1"

    def log_message(self, fmt, *args):  # quiet
        pass

    # ------------------------------------------------------------ plumbing
    def answer(self, status, obj, headers=None):
        body = json.dumps(obj).encode()
        self.rec["status"] = status
        self.flush_record()     # before answering: a client that has its answer sees it
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)
        return status, body

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def record(self, raw):
        st = self.server.state
        u = urlsplit(self.path)
        body = None
        try:
            body = json.loads(raw) if raw and not u.path.startswith("/_mock/upload/") else None
        except ValueError:
            body = None
        hdrs = {k.lower(): v for k, v in self.headers.items() if k.lower() != "authorization"}
        self.rec = {
            "time": now(),
            "method": self.command,
            "path": u.path,
            "query": u.query,
            "headers": hdrs,
            "auth_ok": self.headers.get("Authorization") == "Token " + st.args.token,
            "idempotency_key": self.headers.get("Idempotency-Key"),
            "body": body,
            "raw": None if body is not None else raw.decode("utf-8", "replace"),
            "raw_len": len(raw),
            "status": None,
        }

    def flush_record(self):
        if self.rec.get("_flushed"):
            return
        self.rec["_flushed"] = True
        if self.rec["path"].startswith("/_mock/") and \
                not self.rec["path"].startswith("/_mock/upload/"):
            return      # control calls are not recorded
        st = self.server.state
        rec = {k: v for k, v in self.rec.items() if k != "_flushed"}
        with LOCK:
            st.requests.append(rec)
            if st.args.record:
                with open(st.args.record, "a") as f:
                    f.write(json.dumps(rec) + "\n")

    def base(self):
        host = self.headers.get("Host") or "127.0.0.1"
        return "http://" + host

    # ------------------------------------------------------------ dispatch
    def do_GET(self):
        self.handle_any()

    def do_POST(self):
        self.handle_any()

    def do_PUT(self):
        self.handle_any()

    def handle_any(self):
        raw = self.read_body()
        self.record(raw)
        try:
            self.route(raw)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True    # the client gave up (a timeout)
        finally:
            self.flush_record()

    def injected(self, path, creating):
        """The failure rule that applies to this request, or None."""
        st = self.server.state
        with LOCK:
            if creating and st.fail_first > 0:
                st.fail_first -= 1
                return {"status": 503}
            for rule in st.fail_rules:
                if rule["count"] <= 0:
                    continue
                if rule.get("path") and not path.startswith(rule["path"]):
                    continue
                if not creating and not rule.get("any"):
                    continue
                rule["count"] -= 1
                return rule
        return None

    def route(self, raw):
        st = self.server.state
        u = urlsplit(self.path)
        path, q = u.path, parse_qs(u.query)
        m = self.command
        if path == "/_mock/reset" and m == "POST":
            with LOCK:
                st.reset()
            return self.answer(200, {"ok": True})
        if path == "/_mock/requests" and m == "GET":
            with LOCK:
                return self.answer(200, list(st.requests))
        if path == "/_mock/fail" and m == "POST":
            rule = json.loads(raw or b"{}")
            rule.setdefault("status", 503)
            rule.setdefault("count", 1)
            with LOCK:
                st.fail_rules.append(rule)
            return self.answer(200, {"ok": True})
        if path == "/_mock/tick" and m == "POST":
            st.args.tick = float(json.loads(raw or b"{}").get("seconds", 0.2))
            return self.answer(200, {"ok": True})
        if path.startswith("/_mock/upload/"):
            return self.storage(path[len("/_mock/upload/"):].strip("/"), raw)
        if not path.startswith("/api/"):
            return self.answer(404, {"detail": "Not found."})
        if not self.rec["auth_ok"]:
            return self.answer(401, {"detail": "Invalid token."})
        forced = self.headers.get("X-Mock-Fail")
        if forced:
            return self.answer(int(forced), {"detail": "failing on demand (X-Mock-Fail)"})
        creating = m == "POST"
        rule = self.injected(path, creating)
        if rule:
            self.rec["status"] = rule["status"]
            self.rec["injected"] = True
            self.flush_record()     # now: a test may be over when the delay is
            if rule.get("delay"):
                time.sleep(float(rule["delay"]))
            if rule["status"] == 0:
                self.close_connection = True
                return None
            hdr = {"Retry-After": str(rule["retry_after"])} if "retry_after" in rule else None
            return self.answer(rule["status"], {"detail": "failing on demand"}, hdr)
        key = self.headers.get("Idempotency-Key")
        if not (creating and key):
            return self.api(m, path, q, raw)
        # look up, create and remember as one step: a retry that overtakes the
        # first attempt's answer still finds it
        with CREATE_LOCK:
            with LOCK:
                seen = st.idem.get((path, key))
            if seen:
                status, body = seen
                self.rec["replayed"] = True
                return self.answer(status, json.loads(body))
            result = self.api(m, path, q, raw)
            if result and 200 <= result[0] < 300:
                with LOCK:
                    st.idem.setdefault((path, key), result)
            return result

    # ------------------------------------------------------------ the API
    def project_ok(self, project):
        want = self.server.state.args.project
        return not want or project == want

    def api(self, m, path, q, raw):
        st = self.server.state
        parts = [p for p in path.split("/") if p][2:]     # after api/v0
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            return self.answer(400, {"detail": "JSON parse error"})
        if m == "POST" and parts == ["executions"]:
            return self.create_execution(body)
        if m == "GET" and len(parts) == 2 and parts[0] == "executions":
            with LOCK:
                e = st.executions.get(parts[1])
            if not e:
                return self.answer(404, {"detail": "Not found."})
            return self.answer(200, self.execution_view(e))
        if m == "POST" and parts == ["pipelines"]:
            return self.create_pipeline(body)
        if m == "GET" and parts == ["pipelines"]:
            with LOCK:
                items = [self.pipeline_view(p) for p in st.pipelines.values()]
            if "project" in q:
                items = [p for p in items if p["project"] == q["project"][0]]
            if "title" in q:
                items = [p for p in items if p["title"] == q["title"][0]]
            items.sort(key=lambda p: -p["counter"])
            limit = int(q.get("limit", ["100"])[0])
            return self.answer(200, {"count": len(items), "next": None, "previous": None,
                                     "results": items[:limit]})
        if m == "GET" and len(parts) == 2 and parts[0] == "pipelines":
            with LOCK:
                p = st.pipelines.get(parts[1])
            if not p:
                return self.answer(404, {"detail": "Not found."})
            return self.answer(200, self.pipeline_view(p))
        if m == "POST" and len(parts) == 3 and parts[0] == "projects" and parts[2] == "fetch":
            if not self.project_ok(parts[1]):
                return self.answer(404, {"detail": "Not found."})
            return self.answer(200, {"commits": [{"ref": "main", "identifier": "0" * 40}],
                                     "errors": []})
        if m == "POST" and parts == ["data", "make_upload"]:
            return self.make_upload(body)
        if m == "POST" and len(parts) == 3 and parts[0] == "data" and parts[2] == "finalize":
            with LOCK:
                d = st.data.get(parts[1])
                if d and d["content"] is not None:
                    d["finalized"] = True
            if not d:
                return self.answer(404, {"detail": "Not found."})
            if d["content"] is None:
                return self.answer(400, {"detail": "nothing was uploaded"})
            return self.answer(200, {"id": d["id"], "uri": "datum://" + d["id"],
                                     "name": d["name"], "size": len(d["content"])})
        if m == "GET" and len(parts) == 2 and parts[0] == "data":
            with LOCK:
                d = st.data.get(parts[1])
            if not d:
                return self.answer(404, {"detail": "Not found."})
            c = d["content"] or b""
            return self.answer(200, {"id": d["id"], "name": d["name"], "size": len(c),
                                     "finalized": d["finalized"],
                                     "uri": "datum://" + d["id"],
                                     "content": c.decode("utf-8", "replace")})
        return self.answer(404, {"detail": "Not found."})

    def new_counter(self):
        with LOCK:
            self.server.state.counter += 1
            return self.server.state.counter

    def check_template(self, t, where):
        errors = {}
        if not isinstance(t.get("step"), str) or not t["step"]:
            errors[where + "step"] = ["This field is required."]
        for k in ("parameters", "inputs", "environment_variables"):
            if k in t and not isinstance(t[k], dict):
                errors[where + k] = ["Expected a dictionary of items."]
        for name, urls in (t.get("inputs") or {}).items():
            if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
                errors[where + "inputs"] = ["%s: expected a list of URLs." % name]
        for name, val in (t.get("environment_variables") or {}).items():
            if not isinstance(val, str):
                errors[where + "environment_variables"] = ["%s: not a string." % name]
        return errors

    def create_execution(self, b):
        errors = self.check_template(b, "")
        if not b.get("project"):
            errors["project"] = ["This field is required."]
        elif not self.project_ok(b["project"]):
            errors["project"] = ["Invalid pk \"%s\" - object does not exist." % b["project"]]
        if errors:
            return self.answer(400, errors)
        e = self.new_execution(b)
        return self.answer(201, self.execution_view(e))

    def new_execution(self, t, pipeline=None, node=None):
        eid = str(uuid.uuid4())
        counter = self.new_counter()
        e = {"id": eid, "counter": counter, "step": t["step"],
             "commit": t.get("commit"), "title": t.get("title") or "",
             "parameters": t.get("parameters") or {}, "inputs": t.get("inputs") or {},
             "environment_variables": t.get("environment_variables") or {},
             "project": t.get("project"), "pipeline": pipeline, "node": node,
             "_created": now(), "_base": self.base()}
        with LOCK:
            self.server.state.executions[eid] = e
        return e

    def execution_view(self, e):
        st = self.server.state
        status = exec_status(e, st.args.tick)
        v = {k: val for k, val in e.items() if not k.startswith("_")}
        v["status"] = status
        v["urls"] = {"display": "%s/p/mock/%s/execution/%s/" % (e["_base"], e["project"], e["id"])}
        if status in ("complete", "error"):
            v["exit_code"] = 1 if status == "error" else 0
            md = {"step": e["step"]}
            extra = e["parameters"].get("mock-metadata")
            if isinstance(extra, str):
                try:
                    extra = json.loads(extra)
                except ValueError:
                    extra = None
            if isinstance(extra, dict):
                md.update(extra)
            v["metadata"] = md
        return v

    def create_pipeline(self, b):
        errors = {}
        if not b.get("project"):
            errors["project"] = ["This field is required."]
        elif not self.project_ok(b["project"]):
            errors["project"] = ["Invalid pk \"%s\" - object does not exist." % b["project"]]
        if not isinstance(b.get("title"), str):
            errors["title"] = ["This field is required."]
        nodes, edges = b.get("nodes"), b.get("edges")
        if not isinstance(nodes, list) or not nodes:
            errors["nodes"] = ["This field is required."]
            nodes = []
        if not isinstance(edges, list):
            errors["edges"] = ["This field is required."]
            edges = []
        names = set()
        for i, n in enumerate(nodes):
            if not isinstance(n, dict) or not n.get("name") or n.get("type") != "execution" \
                    or not isinstance(n.get("template"), dict):
                errors["nodes[%d]" % i] = ["needs name, type \"execution\" and template"]
                continue
            names.add(n["name"])
            errors.update(self.check_template(n["template"], "nodes[%d].template." % i))
        keys = ("source_node", "source_key", "source_type", "target_node", "target_key",
                "target_type")
        for i, e in enumerate(edges):
            if not isinstance(e, dict) or any(not isinstance(e.get(k), str) for k in keys):
                errors["edges[%d]" % i] = ["needs %s" % ", ".join(keys)]
            elif e["source_node"] not in names or e["target_node"] not in names:
                errors["edges[%d]" % i] = ["unknown node"]
            elif e["source_type"] not in ("output", "parameter", "metadata") or \
                    e["target_type"] not in ("input", "parameter"):
                errors["edges[%d]" % i] = ["bad source_type or target_type"]
        if errors:
            return self.answer(400, errors)
        pid = str(uuid.uuid4())
        counter = self.new_counter()
        stored = []
        for n in nodes:
            t = dict(n["template"], project=b["project"])
            e = self.new_execution(t, pipeline=pid, node=n["name"])
            stored.append({"id": str(uuid.uuid4()), "name": n["name"], "type": n["type"],
                           "template": n["template"], "execution": e["id"]})
        p = {"id": pid, "counter": counter, "project": b["project"], "title": b["title"],
             "nodes": stored, "edges": edges, "_base": self.base()}
        with LOCK:
            self.server.state.pipelines[pid] = p
        return self.answer(201, self.pipeline_view(p))

    def pipeline_view(self, p):
        st = self.server.state
        statuses = []
        with_status = []
        for n in p["nodes"]:
            e = st.executions.get(n["execution"])
            s = exec_status(e, st.args.tick) if e else "error"
            statuses.append(s)
            with_status.append(dict(n, status=s))
        if "error" in statuses:
            status = "error"
        elif all(s == "complete" for s in statuses):
            status = "complete"
        else:
            status = "started"
        v = {k: val for k, val in p.items() if not k.startswith("_")}
        v["nodes"] = with_status
        v["status"] = status
        v["urls"] = {"display": "%s/p/mock/%s/pipeline/%s/" % (p["_base"], p["project"], p["id"])}
        return v

    def make_upload(self, b):
        errors = {}
        for k in ("project", "filename"):
            if not b.get(k):
                errors[k] = ["This field is required."]
        if errors:
            return self.answer(400, errors)
        did = str(uuid.uuid4())
        with LOCK:
            self.server.state.data[did] = {"id": did, "name": b["filename"], "content": None,
                                           "finalized": False,
                                           "content_length": b.get("content_length")}
        ans = {"id": did, "url": "%s/_mock/upload/%s" % (self.base(), did)}
        if self.server.state.args.upload_style == "form":
            ans["fields"] = {"key": "data/%s/%s" % (did, b["filename"]),
                             "policy": "bW9jaw==", "x-amz-signature": "0123abcd"}
        return self.answer(200, ans)

    def storage(self, did, raw):
        st = self.server.state
        if self.headers.get("Authorization"):
            return self.answer(400, {"detail": "an API token was sent to storage"})
        with LOCK:
            d = st.data.get(did)
        if not d:
            return self.answer(404, {"detail": "no such upload"})
        style = st.args.upload_style
        if self.command == "PUT" and style == "put":
            content = raw
        elif self.command == "POST" and style == "form":
            ctype = self.headers.get("Content-Type", "")
            msg = BytesParser(policy=HTTP).parsebytes(
                b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + raw)
            if not msg.is_multipart():
                return self.answer(400, {"detail": "not multipart/form-data"})
            fields, content = {}, None
            for part in msg.iter_parts():
                name = part.get_param("name", header="content-disposition")
                data = part.get_payload(decode=True) or b""
                if name == "file":
                    content = data
                else:
                    fields[name] = data.decode()
            if content is None or fields.get("key") != "data/%s/%s" % (did, d["name"]):
                return self.answer(400, {"detail": "form fields missing", "got": fields})
            self.rec["form_fields"] = fields
        else:
            return self.answer(405, {"detail": "use %s" % ("PUT" if style == "put" else "POST")})
        if d["content_length"] is not None and d["content_length"] != len(content):
            return self.answer(400, {"detail": "content_length does not match"})
        with LOCK:
            d["content"] = content
        return self.answer(200, {})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--token", default=os.environ.get("VALOHAI_MOCK_TOKEN", "test-token"))
    ap.add_argument("--project", default=None)
    ap.add_argument("--record", default=None)
    ap.add_argument("--fail-first", type=int, default=0)
    ap.add_argument("--tick", type=float, default=0.2)
    ap.add_argument("--upload-style", choices=("put", "form"), default="put")
    args = ap.parse_args()
    srv = ThreadingHTTPServer((args.host, args.port), Handler)
    srv.daemon_threads = True
    srv.state = State(args)
    print(srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
