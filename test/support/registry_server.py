#!/usr/bin/env python3
"""A small, stateful Kubeflow Model Registry for tests and the demo (Python 3 standard library).

Serves the v1alpha3 REST endpoints the storage initializer uses (REFERENCE.md section 2) from a JSON
fixture, shaped like the real server (v0.3.8) so that Prism can check every response against
../shared/model-registry/openapi-v0.3.8.yaml: ids and timestamps are strings, lists are
{"items", "nextPageToken", "pageSize", "size"}, errors are {"code", "message"}. Pagination follows
the database-backed server: rows are ordered by orderBy (CREATE_TIME, LAST_UPDATE_TIME, ID; default
ID) and sortOrder (default ASC) with the id as tie-break; with pageSize the page holds that many rows
and nextPageToken is base64("ID:VALUE") of its last row while more rows exist; without pageSize
everything comes back with "pageSize": 0.

Fixture (JSON): {"registered_models": [{"name", optional "id", "state", "createTimeSinceEpoch",
"owner", "description", ..., "versions": [{"name", optional "id", "state", "author",
"createTimeSinceEpoch", ..., "artifacts": [{"artifactType", "name", "uri", "modelFormatName",
"modelFormatVersion", "state", "createTimeSinceEpoch", ...}]}]}]}. Missing ids are assigned in
order; missing timestamps increase in fixture order (later entries are newer). "${NAME}" inside
any string is replaced by --set NAME=VALUE.

Modes: --token T answers 401 unless "Authorization: Bearer T"; --reject-artifact-type answers 400
to artifactType= like servers older than v0.3.0.

Test control endpoints (outside the API prefix, never authenticated, not in the spec, so call
them on this server directly rather than through Prism):
  GET    /_test/requests   the API requests seen: [{"method", "path", "query", "authorization"}]
  DELETE /_test/requests   forget them
  PUT    /_test/faults     JSON list of faults, replacing the current ones; each fault is
                           {"match": substring of "PATH?QUERY", "times": N (default: always),
                            "delay": seconds before answering, "drop": true (close, no answer),
                            "status": S, "body": "raw text", "content_type": "...",
                            "transform": "ids_as_numbers" (the normal answer, ids as numbers)}
  DELETE /_test/faults     remove all faults

Usage: registry_server.py --fixture FILE [--port 0] [--host 127.0.0.1] [--token T]
       [--reject-artifact-type] [--set NAME=VALUE ...] [--verbose]
The first line on stdout is the port, printed once the server listens.
"""

import argparse
import base64
import copy
import http.server
import json
import re
import sys
import threading
import time
import urllib.parse

API = "/api/model_registry/v1alpha3"
BASE_TIME_MS = 1700000000000
ORDER_FIELDS = {"CREATE_TIME": "createTimeSinceEpoch",
                "LAST_UPDATE_TIME": "lastUpdateTimeSinceEpoch",
                "ID": "id"}
ARTIFACT_TYPES = ("model-artifact", "doc-artifact", "dataset-artifact", "metric", "parameter")
MODEL_STATES = ("LIVE", "ARCHIVED")
ARTIFACT_STATES = ("UNKNOWN", "PENDING", "LIVE", "MARKED_FOR_DELETION", "DELETED", "ABANDONED",
                   "REFERENCE")


class ApiError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def not_found(message):
    return ApiError(404, "Not Found", message)


def bad_request(message):
    return ApiError(400, "Bad Request", message)


def substitute(value, variables):
    """Replaces ${NAME} in every string of a JSON value."""
    if isinstance(value, str):
        return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}",
                      lambda m: variables.get(m.group(1), m.group(0)), value)
    if isinstance(value, list):
        return [substitute(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, variables) for k, v in value.items()}
    return value


class Store:
    """Registered models, versions and artifacts, as the API returns them (all under one lock)."""

    def __init__(self, fixture):
        self.lock = threading.Lock()
        self.models = {}     # id -> RegisteredModel
        self.versions = {}   # id -> ModelVersion
        self.artifacts = {}  # id -> Artifact
        self.version_artifacts = {}  # version id -> [artifact id]
        self.clock = BASE_TIME_MS
        used = [0]

        def scan(entity):
            if "id" in entity:
                used[0] = max(used[0], int(entity["id"]))

        for m in fixture.get("registered_models", []):
            scan(m)
            for v in m.get("versions", []):
                scan(v)
                for a in v.get("artifacts", []):
                    scan(a)
        self.next_id = used[0] + 1
        for m in fixture.get("registered_models", []):
            versions = m.get("versions", [])
            model = self.add_model({k: v for k, v in m.items() if k != "versions"})
            for v in versions:
                artifacts = v.get("artifacts", [])
                version = self.add_version(model["id"], {k: x for k, x in v.items() if k != "artifacts"})
                for a in artifacts:
                    self.add_artifact(version["id"], a)

    # ---- creation (fixture and POST) ----------------------------------------------------------

    def _stamp(self, entity):
        if "id" in entity:
            entity["id"] = str(entity["id"])
        else:
            entity["id"] = str(self.next_id)
            self.next_id += 1
        if "createTimeSinceEpoch" not in entity:
            self.clock += 1000
            entity["createTimeSinceEpoch"] = str(self.clock)
        entity["createTimeSinceEpoch"] = str(entity["createTimeSinceEpoch"])
        # Whatever is created next is newer than everything so far.
        self.clock = max(self.clock, int(entity["createTimeSinceEpoch"]))
        entity.setdefault("lastUpdateTimeSinceEpoch", entity["createTimeSinceEpoch"])
        entity["lastUpdateTimeSinceEpoch"] = str(entity["lastUpdateTimeSinceEpoch"])
        entity.setdefault("customProperties", {})
        return entity

    def add_model(self, body):
        if not isinstance(body.get("name"), str) or not body["name"]:
            raise bad_request("registered model name is required")
        if any(m["name"] == body["name"] for m in self.models.values()):
            raise ApiError(409, "Conflict", f"registered model with name {body['name']} already exists")
        model = self._stamp(dict(body))
        model.setdefault("state", "LIVE")
        if model["state"] not in MODEL_STATES:
            raise bad_request(f"invalid state {model['state']}")
        self.models[model["id"]] = model
        return model

    def add_version(self, model_id, body):
        if model_id not in self.models:
            raise not_found(f"registered model not found for id={model_id}")
        if not isinstance(body.get("name"), str) or not body["name"]:
            raise bad_request("model version name is required")
        if any(v["registeredModelId"] == model_id and v["name"] == body["name"]
               for v in self.versions.values()):
            raise ApiError(409, "Conflict", f"model version {body['name']} already exists")
        version = dict(body)
        version["registeredModelId"] = model_id
        version = self._stamp(version)
        version.setdefault("state", "LIVE")
        if version["state"] not in MODEL_STATES:
            raise bad_request(f"invalid state {version['state']}")
        self.versions[version["id"]] = version
        self.version_artifacts[version["id"]] = []
        return version

    def add_artifact(self, version_id, body):
        if version_id not in self.versions:
            raise not_found(f"model version not found for id={version_id}")
        artifact = dict(body)
        artifact.setdefault("artifactType", "model-artifact")
        if artifact["artifactType"] not in ARTIFACT_TYPES:
            raise bad_request(f"invalid artifactType {artifact['artifactType']}")
        artifact = self._stamp(artifact)
        artifact.setdefault("state", "LIVE")
        if artifact["state"] not in ARTIFACT_STATES:
            raise bad_request(f"invalid state {artifact['state']}")
        self.artifacts[artifact["id"]] = artifact
        self.version_artifacts[version_id].append(artifact["id"])
        return artifact


def page(rows, query):
    """One page of `rows` per the query's orderBy/sortOrder/pageSize/nextPageToken, as the
    database-backed server computes it."""
    order_by = query.get("orderBy", "ID")
    sort_order = query.get("sortOrder", "ASC")
    if order_by not in ORDER_FIELDS:
        raise bad_request(f"invalid orderBy {order_by!r}: must be one of CREATE_TIME, LAST_UPDATE_TIME, ID")
    if sort_order not in ("ASC", "DESC"):
        raise bad_request(f"invalid sortOrder {sort_order!r}: must be ASC or DESC")
    page_size = 0
    if "pageSize" in query:
        try:
            page_size = int(query["pageSize"])
        except ValueError:
            raise bad_request(f"invalid pageSize {query['pageSize']!r}") from None
        if page_size < 0:
            raise bad_request(f"invalid pageSize {query['pageSize']!r}")
    field = ORDER_FIELDS[order_by]
    desc = sort_order == "DESC"

    def key(r):
        return (int(r[field]), int(r["id"]))

    rows = sorted(rows, key=key, reverse=desc)
    token = query.get("nextPageToken", "")
    if token:
        # An undecodable token is ignored, as the real server does.
        try:
            cid, cvalue = base64.b64decode(token, validate=True).decode().split(":", 1)
            cursor = (int(cvalue), int(cid))
            rows = [r for r in rows if (key(r) < cursor if desc else key(r) > cursor)]
        except (ValueError, UnicodeDecodeError):
            pass
    next_token = ""
    if page_size > 0 and len(rows) > page_size:
        rows = rows[:page_size]
        last = rows[-1]
        next_token = base64.b64encode(f"{last['id']}:{last[field]}".encode()).decode()
    return {"items": rows, "nextPageToken": next_token, "pageSize": page_size, "size": len(rows)}


def ids_as_numbers(value):
    """The wrong-types fault: every "id" and "*TimeSinceEpoch" string becomes a number."""
    if isinstance(value, list):
        return [ids_as_numbers(v) for v in value]
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if (k == "id" or k.endswith("Id") or k.endswith("TimeSinceEpoch")) and isinstance(v, str) and v.isdigit():
                out[k] = int(v)
            else:
                out[k] = ids_as_numbers(v)
        return out
    return value


class Registry:
    def __init__(self, store, token=None, reject_artifact_type=False, verbose=False):
        self.store = store
        self.token = token
        self.reject_artifact_type = reject_artifact_type
        self.verbose = verbose
        self.requests = []
        self.faults = []

    # ---- routing ------------------------------------------------------------------------------

    def get(self, path, q):
        s = self.store
        if path == "/registered_model":
            return self.find_model(q)
        if path == "/registered_models":
            return page(list(s.models.values()), q)
        if m := re.fullmatch(r"/registered_models/([^/]+)", path):
            return self.model_by_id(m[1])
        if m := re.fullmatch(r"/registered_models/([^/]+)/versions", path):
            self.model_by_id(m[1])
            rows = [v for v in s.versions.values() if v["registeredModelId"] == m[1]]
            if "name" in q:
                rows = [v for v in rows if v["name"] == q["name"]]
            return page(rows, q)
        if path == "/model_version":
            return self.find_version(q)
        if path == "/model_versions":
            return page(list(s.versions.values()), q)
        if m := re.fullmatch(r"/model_versions/([^/]+)", path):
            return self.version_by_id(m[1])
        if m := re.fullmatch(r"/model_versions/([^/]+)/artifacts", path):
            self.version_by_id(m[1])
            return self.artifact_page([s.artifacts[i] for i in s.version_artifacts[m[1]]], q)
        if path == "/artifacts":
            return self.artifact_page(list(s.artifacts.values()), q)
        if m := re.fullmatch(r"/artifacts/([^/]+)", path):
            return self.artifact_by_id(m[1])
        if path == "/model_artifacts":
            return page([a for a in s.artifacts.values() if a["artifactType"] == "model-artifact"], q)
        if m := re.fullmatch(r"/model_artifacts/([^/]+)", path):
            a = self.artifact_by_id(m[1])
            if a["artifactType"] != "model-artifact":
                raise not_found(f"model artifact not found for id={m[1]}")
            return a
        raise not_found(f"no route for GET {API}{path}")

    def post(self, path, body):
        s = self.store
        if path == "/registered_models":
            return 201, s.add_model(body)
        if m := re.fullmatch(r"/registered_models/([^/]+)/versions", path):
            return 201, s.add_version(m[1], body)
        if path == "/model_versions":
            return 201, s.add_version(str(body.get("registeredModelId", "")), body)
        if m := re.fullmatch(r"/model_versions/([^/]+)/artifacts", path):
            return 201, s.add_artifact(m[1], body)
        raise not_found(f"no route for POST {API}{path}")

    # ---- lookups ------------------------------------------------------------------------------

    def find_model(self, q):
        name, ext = q.get("name", ""), q.get("externalId", "")
        if not name and not ext:
            raise bad_request("invalid parameters used to retrieve registered model")
        for m in self.store.models.values():
            if (not name or m["name"] == name) and (not ext or m.get("externalId") == ext):
                return m
        raise not_found(f"no registered models found for name={name}, externalId={ext}: not found")

    def find_version(self, q):
        name, parent, ext = q.get("name", ""), q.get("parentResourceId", ""), q.get("externalId", "")
        if not name and not ext:
            raise bad_request("invalid parameters used to retrieve model version")
        for v in self.store.versions.values():
            if ((not name or v["name"] == name) and (not parent or v["registeredModelId"] == parent)
                    and (not ext or v.get("externalId") == ext)):
                return v
        raise not_found(f"no model versions found for name={name}, parentResourceId={parent}, "
                        f"externalId={ext}: not found")

    def model_by_id(self, mid):
        if mid not in self.store.models:
            raise not_found(f"registered model not found for id={mid}")
        return self.store.models[mid]

    def version_by_id(self, vid):
        if vid not in self.store.versions:
            raise not_found(f"model version not found for id={vid}")
        return self.store.versions[vid]

    def artifact_by_id(self, aid):
        if aid not in self.store.artifacts:
            raise not_found(f"artifact not found for id={aid}")
        return self.store.artifacts[aid]

    def artifact_page(self, rows, q):
        if "artifactType" in q:
            if self.reject_artifact_type:
                raise bad_request("unsupported query parameter: artifactType")
            if q["artifactType"] not in ARTIFACT_TYPES:
                raise bad_request(f"invalid artifactType {q['artifactType']!r}")
            rows = [a for a in rows if a["artifactType"] == q["artifactType"]]
        return page(rows, q)

    # ---- faults -------------------------------------------------------------------------------

    def take_fault(self, target):
        with self.store.lock:
            for f in self.faults:
                if f.get("match", "") in target and f.get("times", 1) != 0:
                    if "times" in f:
                        f["times"] -= 1
                    return dict(f)
        return None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "test-model-registry/1"
    registry = None  # set by serve()

    def log_message(self, fmt, *args):
        if self.registry.verbose:
            sys.stderr.write("registry_server: " + (fmt % args) + "\n")

    def _send(self, status, payload=None, raw=None, content_type="application/json"):
        body = raw.encode() if raw is not None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _error(self, e):
        self._send(e.status, {"code": e.code, "message": e.message})

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _control(self, method):
        reg = self.registry
        path = urllib.parse.urlsplit(self.path).path
        body = self._body()
        with reg.store.lock:
            if path == "/_test/requests" and method == "GET":
                return self._send(200, reg.requests)
            if path == "/_test/requests" and method == "DELETE":
                reg.requests.clear()
                return self._send(200, {})
            if path == "/_test/faults" and method == "PUT":
                faults = json.loads(body or b"[]")
                reg.faults = faults if isinstance(faults, list) else [faults]
                return self._send(200, {})
            if path == "/_test/faults" and method == "DELETE":
                reg.faults = []
                return self._send(200, {})
        self._send(404, {"code": "Not Found", "message": f"no control route {method} {path}"})

    def _api(self, method):
        reg = self.registry
        split = urllib.parse.urlsplit(self.path)
        body = self._body()
        path = split.path[len(API):] or "/"
        query = dict(urllib.parse.parse_qsl(split.query, keep_blank_values=True))
        auth = self.headers.get("Authorization")
        with reg.store.lock:
            reg.requests.append({"method": method, "path": split.path, "query": query,
                                 "authorization": auth is not None})
        fault = reg.take_fault(split.path + ("?" + split.query if split.query else ""))
        if fault and fault.get("delay"):
            time.sleep(float(fault["delay"]))
        if fault and fault.get("drop"):
            self.close_connection = True
            return
        if fault and "status" in fault:
            return self._send(int(fault["status"]), raw=fault.get("body", ""),
                              content_type=fault.get("content_type", "application/json"))
        if reg.token is not None and auth != "Bearer " + reg.token:
            return self._error(ApiError(401, "Unauthorized",
                                        "missing or invalid bearer token" if auth else "missing bearer token"))
        try:
            with reg.store.lock:
                if method == "GET":
                    status, payload = 200, copy.deepcopy(reg.get(path, query))
                else:
                    try:
                        data = json.loads(body or b"{}")
                    except ValueError as e:
                        raise bad_request(f"invalid JSON body: {e}") from None
                    if not isinstance(data, dict):
                        raise bad_request("the body must be a JSON object")
                    status, payload = reg.post(path, data)
                    payload = copy.deepcopy(payload)
        except ApiError as e:
            return self._error(e)
        if fault and fault.get("transform") == "ids_as_numbers":
            payload = ids_as_numbers(payload)
        self._send(status, payload)

    def _dispatch(self, method):
        path = urllib.parse.urlsplit(self.path).path
        if path.startswith("/_test/"):
            return self._control(method)
        if path == API or path.startswith(API + "/"):
            if method not in ("GET", "POST"):
                self._body()
                return self._error(ApiError(405, "Method Not Allowed", f"{method} is not supported here"))
            return self._api(method)
        self._body()
        self._error(not_found(f"no route for {method} {path}"))

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_DELETE(self):
        self._dispatch("DELETE")


def serve(fixture, host="127.0.0.1", port=0, token=None, reject_artifact_type=False,
          variables=None, verbose=False):
    """Builds the server (not yet serving): returns the ThreadingHTTPServer; its
    `registry` attribute is the Registry (requests, faults, store)."""
    fixture = substitute(fixture, variables or {})
    registry = Registry(Store(fixture), token=token, reject_artifact_type=reject_artifact_type,
                        verbose=verbose)
    handler = type("BoundHandler", (Handler,), {"registry": registry})
    httpd = http.server.ThreadingHTTPServer((host, port), handler)
    httpd.daemon_threads = True
    httpd.registry = registry
    return httpd


def main(argv=None):
    p = argparse.ArgumentParser(prog="registry_server.py",
                                description="Test Kubeflow Model Registry (v1alpha3) from a JSON fixture")
    p.add_argument("--fixture", required=True, help="JSON fixture file")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port (printed first on stdout)")
    p.add_argument("--token", help="require Authorization: Bearer TOKEN (401 otherwise)")
    p.add_argument("--reject-artifact-type", action="store_true",
                   help="answer 400 to artifactType= like servers older than v0.3.0")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="replace ${NAME} in the fixture's strings")
    p.add_argument("--verbose", action="store_true", help="log requests to stderr")
    args = p.parse_args(argv)
    variables = {}
    for kv in args.set:
        name, sep, value = kv.partition("=")
        if not sep:
            p.error(f"--set expects NAME=VALUE, got {kv!r}")
        variables[name] = value
    with open(args.fixture, encoding="utf-8") as f:
        fixture = json.load(f)
    httpd = serve(fixture, args.host, args.port, args.token, args.reject_artifact_type, variables,
                  args.verbose)
    print(httpd.server_address[1], flush=True)
    try:
        httpd.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
