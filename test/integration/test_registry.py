"""model-registry:// resolution end to end: the binary against the project's test registry
(test/support/registry_server.py) running behind Prism, which validates every request the binary
sends and every response the registry returns against the real Model Registry OpenAPI spec
(../shared/model-registry/openapi-v0.3.8-prism.yaml). Faults that the spec forbids (malformed
JSON, wrong field types) are served by the registry directly, since Prism would turn them into
HTTP 500. Exits 77 when ../shared/model-registry is absent."""

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
import servers  # noqa: E402
from tool_case import ToolTestCase  # noqa: E402

ROOT = servers.source_root()
SPEC = ROOT.parent / "shared" / "model-registry" / "openapi-v0.3.8-prism.yaml"
PRISM = ROOT / "test" / "node_modules" / ".bin" / "prism"
REGISTRY_SERVER = ROOT / "test" / "support" / "registry_server.py"
FIXTURE = ROOT / "test" / "support" / "registry" / "fixture.json"
API = "/api/model_registry/v1alpha3"
TOKEN = "s3cret-token"

if not SPEC.is_file():
    print(f"SKIP: Model Registry spec not found at {SPEC} (the ../shared folder is absent)", file=sys.stderr)
    sys.exit(servers.SKIP)
if not os.access(PRISM, os.X_OK):
    print(f"FAIL: {PRISM} missing: run scripts/setup.sh (npm install in test/)", file=sys.stderr)
    sys.exit(1)
servers.require_programs("nginx")

ctx = {}


# ---- servers ----------------------------------------------------------------------------------

class RegistryServer:
    """registry_server.py as a subprocess; `port` once started."""

    def __init__(self, fixture_path, *extra, variables=None):
        self.args = [sys.executable, str(REGISTRY_SERVER), "--fixture", str(fixture_path), "--port", "0",
                     *extra]
        for k, v in (variables or {}).items():
            self.args += ["--set", f"{k}={v}"]

    def __enter__(self):
        # stderr goes to a file: an unread pipe could fill up and stall the server.
        self.log = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=self.log, text=True,
                                     start_new_session=True)
        line = self.proc.stdout.readline()
        if not line.strip().isdigit():
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.log.seek(0)
            raise RuntimeError(f"registry server did not start: {line!r} {self.log.read()[-2000:]}")
        self.port = int(line)
        servers.wait_for_port(self.port, proc=self.proc)
        return self

    def __exit__(self, *exc):
        servers._stop_process(self.proc)
        self.proc.stdout.close()
        self.log.close()

    @property
    def base(self):
        return f"127.0.0.1:{self.port}"

    def control(self, method, path, payload=None):
        data = None if payload is None else json.dumps(payload).encode()
        req = urllib.request.Request(f"http://{self.base}/_test/{path}", data=data, method=method)
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read() or b"null")

    def requests(self):
        return self.control("GET", "requests")

    def clear_requests(self):
        self.control("DELETE", "requests")

    def set_faults(self, faults):
        self.control("PUT", "faults", faults)

    def clear_faults(self):
        self.control("DELETE", "faults")


class Prism:
    """`prism proxy --errors` in front of an upstream; ready once a listing passes through."""

    def __init__(self, upstream_port, workdir):
        self.upstream_port = upstream_port
        self.log_path = Path(workdir) / "prism.log"

    def __enter__(self):
        self.port = servers.free_port()
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [str(PRISM), "proxy", "--errors", "-h", "127.0.0.1", "-p", str(self.port), str(SPEC),
             f"http://127.0.0.1:{self.upstream_port}"],
            cwd=ROOT / "test", stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 90
        url = f"http://127.0.0.1:{self.port}{API}/registered_models?pageSize=1"
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"prism exited with {self.proc.returncode}:\n{self.log_text()}")
            try:
                req = urllib.request.Request(url, headers={"Authorization": f"Bearer {TOKEN}"})
                with urllib.request.urlopen(req, timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.__exit__()
                raise TimeoutError(f"prism not ready after 90 s:\n{self.log_text()}")
            time.sleep(0.25)

    def __exit__(self, *exc):
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.log.close()

    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    @property
    def base(self):
        return f"127.0.0.1:{self.port}"


# ---- fixture ----------------------------------------------------------------------------------

PAGED_VERSIONS = 250  # more than two pages of the client's 100
PAGED_ARTIFACTS = 230


def build_fixture(path):
    """The committed fixture plus generated models: 'paged' (many versions and artifacts, with
    the answers deep in later pages) and 'odd-scheme' (an artifact URI no provider handles)."""
    fixture = json.loads(FIXTURE.read_text())
    t0 = 1710000000000
    versions = []
    for i in range(PAGED_VERSIONS):
        # The 10 newest versions are ARCHIVED: the newest LIVE one is #239, on the 1st page
        # only if the server's order were trusted blindly; the client must still read all pages.
        state = "ARCHIVED" if i >= PAGED_VERSIONS - 10 else "LIVE"
        versions.append({"name": f"r{i:03d}", "state": state, "createTimeSinceEpoch": str(t0 + i * 1000)})
    arts = []
    for i in range(PAGED_ARTIFACTS):
        # Model artifacts are old: every newer one is a doc artifact, so the chosen model artifact
        # (#19, newest model-artifact) sits on the 3rd page when listed unfiltered.
        kind = "model-artifact" if i < 20 else "doc-artifact"
        arts.append({"artifactType": kind, "name": f"a{i:03d}", "uri": f"s3://paged/{kind}/{i:03d}",
                     "createTimeSinceEpoch": str(t0 + 10_000_000 + i * 1000)})
    versions[PAGED_VERSIONS - 11]["artifacts"] = arts
    fixture["registered_models"].append({"name": "paged", "versions": versions})
    fixture["registered_models"].append({"name": "odd-scheme", "versions": [
        {"name": "v1", "artifacts": [{"artifactType": "model-artifact", "uri": "ftp://example.com/model.bin"}]}]})
    path.write_text(json.dumps(fixture, indent=1))


def setUpModule():
    tmp = Path(tempfile.mkdtemp(prefix="mrsi-registry-"))
    ctx["tmp"] = tmp
    try:
        root = tmp / "storage"
        (root / "iris" / "v2").mkdir(parents=True)
        (root / "my model").mkdir(parents=True)
        ctx["iris_v2_sha"] = servers.write_random_file(root / "iris" / "v2" / "model.onnx", 3 * 1024 * 1024 + 17)
        ctx["spaced_sha"] = servers.write_random_file(root / "my model" / "model.bin", 4096)
        ctx["nginx"] = servers.Nginx(root).__enter__()
        storage = ctx["nginx"].url("").rstrip("/")
        fixture = tmp / "fixture.json"
        build_fixture(fixture)
        ctx["storage"] = storage
        ctx["registry"] = RegistryServer(fixture, "--token", TOKEN, variables={"STORAGE": storage}).__enter__()
        ctx["old_registry"] = RegistryServer(fixture, "--reject-artifact-type",
                                             variables={"STORAGE": storage}).__enter__()
        ctx["prism"] = Prism(ctx["registry"].port, tmp).__enter__()
    except BaseException:
        tearDownModule()
        raise


def tearDownModule():
    for key in ("prism", "old_registry", "registry", "nginx"):
        if key in ctx:
            try:
                ctx.pop(key).__exit__(None, None, None)
            except Exception as e:  # keep stopping the others
                print(f"stopping {key}: {e}", file=sys.stderr)
    if "tmp" in ctx:
        shutil.rmtree(ctx.pop("tmp"), ignore_errors=True)


def closed_port():
    """A port on 127.0.0.1 where nothing listens (connection refused)."""
    return servers.free_port()


# ---- tests ------------------------------------------------------------------------------------

class RegistryCase(ToolTestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = ctx["tmp"]
        super().setUpClass()
        cls.reg = ctx["registry"]
        cls.prism = ctx["prism"]

    def setUp(self):
        self.reg.clear_faults()
        self.reg.clear_requests()

    def env(self, **extra):
        """Tool environment pointing at the registry through Prism, with the token; keyword
        arguments override (None removes)."""
        env = {k: None for k in os.environ if k.startswith("MODEL_REGISTRY_")}
        env.update({"MODEL_REGISTRY_BASE_URL": self.prism.base, "MODEL_REGISTRY_TOKEN": TOKEN})
        env.update(extra)
        return servers.tool_env(env)

    def resolve(self, uri, env=None, *extra):
        """Runs --resolve-only; returns (result, parsed JSON or None)."""
        res = self.run_tool(["--resolve-only", *extra, uri], env=env or self.env(), timeout=120)
        doc = None
        if res.rc == 0:
            lines = res.stdout.strip().splitlines()
            self.assertEqual(len(lines), 1, res.describe())
            doc = json.loads(lines[0])
        return res, doc

    def resolve_ok(self, uri, env=None, *extra):
        res, doc = self.resolve(uri, env, *extra)
        self.assertEqual(res.rc, 0, res.describe() + "\n--- prism log tail ---\n" + self.prism.log_text()[-1500:])
        return doc

    def api_requests(self, path_suffix):
        return [r for r in self.reg.requests() if r["path"].endswith(path_suffix)]


class Resolution(RegistryCase):
    def test_latest_is_newest_live_version_and_newest_model_artifact(self):
        doc = self.resolve_ok("model-registry://iris")
        self.assertEqual(doc["registryUrl"], f"http://{self.prism.base}")
        self.assertEqual(doc["registeredModel"]["name"], "iris")
        # v3 is newer but ARCHIVED; v2's doc artifact and metric are newer than its model artifact.
        self.assertEqual(doc["modelVersion"]["name"], "v2")
        self.assertEqual(doc["modelVersion"]["state"], "LIVE")
        self.assertEqual(doc["modelArtifact"]["name"], "iris-v2")
        self.assertEqual(doc["uri"], ctx["storage"] + "/iris/v2/model.onnx")
        self.assertEqual(doc["modelArtifact"]["uri"], doc["uri"])
        self.assertEqual(doc["modelArtifact"]["modelFormatName"], "onnx")
        self.assertEqual(doc["modelArtifact"]["modelFormatVersion"], "1")
        for key in ("id",):
            self.assertTrue(doc["registeredModel"][key] and doc["modelVersion"][key] and doc["modelArtifact"][key])
        self.assertEqual(doc["warnings"], [])
        # The request contract: every call carried the token and asked for model artifacts only.
        reqs = self.reg.requests()
        self.assertTrue(reqs and all(r["authorization"] for r in reqs), reqs)
        arts = [r for r in reqs if r["path"].endswith("/artifacts")]
        self.assertTrue(arts and all(r["query"].get("artifactType") == "model-artifact" for r in arts), arts)
        vers = [r for r in reqs if r["path"].endswith("/versions")]
        self.assertTrue(vers and all(r["query"].get("orderBy") == "CREATE_TIME" for r in vers), vers)

    def test_named_version(self):
        doc = self.resolve_ok("model-registry://iris/v1")
        self.assertEqual(doc["modelVersion"]["name"], "v1")
        self.assertEqual(doc["uri"], ctx["storage"] + "/iris/v1/model.onnx")
        self.assertEqual(doc["warnings"], [])

    def test_named_archived_version_is_allowed_with_a_warning(self):
        res, doc = self.resolve("model-registry://iris/v3")
        self.assertEqual(res.rc, 0, res.describe())
        self.assertEqual(doc["modelVersion"]["state"], "ARCHIVED")
        self.assertEqual(doc["uri"], ctx["storage"] + "/iris/v3/model.onnx")
        self.assertEqual(len(doc["warnings"]), 1, doc)
        self.assertIn("ARCHIVED", doc["warnings"][0])
        self.assertIn("ARCHIVED", res.stderr)  # also logged

    def test_host_in_the_uri_wins_over_the_environment(self):
        env = self.env(MODEL_REGISTRY_BASE_URL=f"127.0.0.1:{closed_port()}")
        for uri, version in ((f"model-registry://{self.prism.base}/iris", "v2"),
                             (f"model-registry://{self.prism.base}/iris/v1", "v1"),
                             (f"model-registry://localhost:{self.prism.port}/iris/v2", "v2")):
            with self.subTest(uri=uri):
                doc = self.resolve_ok(uri, env)
                self.assertEqual(doc["modelVersion"]["name"], version)
                self.assertIn(str(self.prism.port), doc["registryUrl"])

    def test_namespace_targets_service_namespace_domain(self):
        # SERVICE.NS.DOMAIN:PORT = 127.0.0.1:PORT, port taken from MODEL_REGISTRY_BASE_URL.
        env = self.env(MODEL_REGISTRY_SERVICE_NAME="127", MODEL_REGISTRY_CLUSTER_DOMAIN="0.1",
                       MODEL_REGISTRY_BASE_URL=f"nowhere.invalid:{self.prism.port}")
        doc = self.resolve_ok("model-registry://iris/v1?namespace=0", env)
        self.assertEqual(doc["registryUrl"], f"http://127.0.0.1:{self.prism.port}")
        self.assertEqual(doc["modelVersion"]["name"], "v1")

    def test_full_base_url_and_scheme(self):
        doc = self.resolve_ok("model-registry://iris", self.env(MODEL_REGISTRY_BASE_URL=f"http://{self.prism.base}/"))
        self.assertEqual(doc["registryUrl"], f"http://{self.prism.base}")

    def test_names_with_spaces_colons_and_slashes(self):
        cases = [
            ("model-registry://my%20model/1.0%20final", "my model", "1.0 final", ctx["storage"] + "/my%20model/model.bin"),
            ("model-registry://my model/1.0 final", "my model", "1.0 final", ctx["storage"] + "/my%20model/model.bin"),
            ("model-registry://org%2Fmodel%3A7b/rev%2F2%3Abeta", "org/model:7b", "rev/2:beta", "s3://models/org/model-7b/rev2"),
            (f"model-registry://{self.prism.base}/org%2Fmodel%3A7b/rev%2F2%3Abeta", "org/model:7b", "rev/2:beta",
             "s3://models/org/model-7b/rev2"),
            # A dotted model name would read as a host in the two-segment form; %2E keeps it a name.
            ("model-registry://llama-3%2E1/8b", "llama-3.1", "8b", "hf://meta-llama/Llama-3.1-8B"),
        ]
        for uri, model, version, artifact_uri in cases:
            with self.subTest(uri=uri):
                doc = self.resolve_ok(uri)
                self.assertEqual(doc["registeredModel"]["name"], model)
                self.assertEqual(doc["modelVersion"]["name"], version)
                self.assertEqual(doc["uri"], artifact_uri)
        doc = self.resolve_ok("model-registry://org%2Fmodel%3A7b/rev%2F2%3Abeta")
        self.assertEqual(doc["modelArtifact"]["storageKey"], "aws-connection-models")
        self.assertEqual(doc["modelArtifact"]["storagePath"], "org/model-7b/rev2")

    def test_more_versions_and_artifacts_than_one_page(self):
        doc = self.resolve_ok("model-registry://paged")
        self.assertEqual(doc["modelVersion"]["name"], f"r{PAGED_VERSIONS - 11:03d}")
        self.assertEqual(doc["uri"], "s3://paged/model-artifact/019")
        pages = self.api_requests("/versions")
        self.assertEqual(len(pages), 3, pages)  # 250 rows in pages of 100
        self.assertTrue(all(p["query"].get("nextPageToken") for p in pages[1:]), pages)

    def test_more_artifacts_than_one_page_without_the_filter(self):
        old = ctx["old_registry"]
        env = self.env(MODEL_REGISTRY_BASE_URL=old.base, MODEL_REGISTRY_TOKEN=None)
        old.clear_requests()
        res, doc = self.resolve(f"model-registry://paged/r{PAGED_VERSIONS - 11:03d}", env)
        self.assertEqual(res.rc, 0, res.describe())
        self.assertEqual(doc["uri"], "s3://paged/model-artifact/019")
        arts = [r for r in old.requests() if r["path"].endswith("/artifacts")]
        # one rejected filtered call, then 3 unfiltered pages (230 rows)
        self.assertEqual([("artifactType" in r["query"]) for r in arts], [True, False, False, False], arts)

    def test_old_server_rejecting_artifact_type_falls_back(self):
        old = ctx["old_registry"]
        env = self.env(MODEL_REGISTRY_BASE_URL=old.base, MODEL_REGISTRY_TOKEN=None)
        res, doc = self.resolve("model-registry://iris", env)
        self.assertEqual(res.rc, 0, res.describe())
        self.assertEqual(doc["modelArtifact"]["name"], "iris-v2")  # doc artifact and metric skipped
        self.assertTrue(any("artifactType" in w for w in doc["warnings"]), doc)
        self.assertIn("unsupported query parameter: artifactType", " ".join(doc["warnings"]))

    def test_transient_registry_error_is_retried(self):
        self.reg.set_faults([{"match": "/versions", "times": 1, "status": 503,
                              "body": json.dumps({"code": "Service Unavailable", "message": "warming up"})}])
        doc = self.resolve_ok("model-registry://iris")
        self.assertEqual(doc["modelVersion"]["name"], "v2")
        self.assertEqual(len(self.api_requests("/versions")), 2)


class Failures(RegistryCase):
    def test_missing_model(self):
        res, _ = self.resolve("model-registry://no-such-model")
        self.assert_fails(res, 3, 'registered model "no-such-model" not found in registry',
                          f"http://{self.prism.base}", "no registered models found for name=no-such-model")

    def test_missing_model_read_from_an_ambiguous_uri_says_how_it_was_read(self):
        res, _ = self.resolve("model-registry://no-such-model/v1")
        self.assert_fails(res, 3, 'registered model "no-such-model" not found', "was read as a model name")

    def test_missing_version(self):
        res, _ = self.resolve("model-registry://iris/v9")
        self.assert_fails(res, 3, 'version "v9" of registered model "iris" not found in registry',
                          f"http://{self.prism.base}", "no model versions found")

    def test_no_live_version(self):
        res, _ = self.resolve("model-registry://all-archived")
        self.assert_fails(res, 3, 'registered model "all-archived" has no live version', "1 archived")
        res, _ = self.resolve("model-registry://no-versions")
        self.assert_fails(res, 3, "has no live version", "it has no versions")

    def test_missing_model_artifact(self):
        # The server filters by artifactType, so a doc-only version has no model artifacts.
        for version, why in (("docs-only", "it has no model artifacts"),
                             ("empty-uri", "with an empty uri"),
                             ("nothing", "it has no model artifacts")):
            with self.subTest(version=version):
                res, _ = self.resolve(f"model-registry://no-model-artifact/{version}")
                self.assert_fails(res, 3, f'version "{version}" of "no-model-artifact" has no model artifact with a uri',
                                  f"http://{self.prism.base}", why)

    def test_bad_token(self):
        res, _ = self.resolve("model-registry://iris", self.env(MODEL_REGISTRY_TOKEN="Wr0ng-t0ken-4711"))
        self.assert_fails(res, 3, "refused the credentials", "http 401", "was rejected")
        self.assertNotIn("Wr0ng-t0ken-4711", res.stderr)  # the token is never printed

    def test_no_token(self):
        res, _ = self.resolve("model-registry://iris", self.env(MODEL_REGISTRY_TOKEN=None))
        self.assert_fails(res, 3, "refused the credentials", "no token was sent", "MODEL_REGISTRY_TOKEN")

    def test_token_file(self):
        tok = Path(self.tmp) / "sa-token"
        tok.write_text(TOKEN + "\n")
        doc = self.resolve_ok("model-registry://iris/v1",
                              self.env(MODEL_REGISTRY_TOKEN=None, MODEL_REGISTRY_TOKEN_FILE=str(tok)))
        self.assertEqual(doc["modelVersion"]["name"], "v1")
        res, _ = self.resolve("model-registry://iris", self.env(MODEL_REGISTRY_TOKEN=None,
                                                               MODEL_REGISTRY_TOKEN_FILE=str(tok) + ".missing"))
        self.assert_fails(res, 2, "cannot read MODEL_REGISTRY_TOKEN_FILE")

    def test_registry_refuses_connections(self):
        port = closed_port()
        t0 = time.monotonic()
        res, _ = self.resolve("model-registry://iris", self.env(MODEL_REGISTRY_BASE_URL=f"127.0.0.1:{port}"),
                              "--retries", "2")
        self.assert_fails(res, 4, f"cannot reach the model registry at http://127.0.0.1:{port}")
        self.assertLess(time.monotonic() - t0, 60)

    def test_registry_times_out(self):
        # Accepts connections (kernel backlog) and never answers.
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen(16)
            port = s.getsockname()[1]
            t0 = time.monotonic()
            res, _ = self.resolve("model-registry://iris", self.env(MODEL_REGISTRY_BASE_URL=f"127.0.0.1:{port}"),
                                  "--retries", "2", "--read-timeout", "1", "--connect-timeout", "2")
            elapsed = time.monotonic() - t0
        self.assert_fails(res, 4, f"cannot reach the model registry at http://127.0.0.1:{port}")
        self.assertLess(elapsed, 60, res.describe())

    def test_host_looking_segment_is_never_reread_as_a_model(self):
        port = closed_port()
        res, _ = self.resolve(f"model-registry://127.0.0.1:{port}/iris", None, "--retries", "1")
        self.assert_fails(res, 4, f"http://127.0.0.1:{port}")

    def test_malformed_json(self):
        # Served directly: through Prism the contract violation would become an HTTP 500.
        self.reg.set_faults([{"match": "/versions", "status": 200, "body": '{"items": [{"id": "1", '}])
        res, _ = self.resolve("model-registry://iris", self.env(MODEL_REGISTRY_BASE_URL=self.reg.base))
        self.assert_fails(res, 3, "sent a malformed response", 'the versions of "iris"', "not valid json")

    def test_html_instead_of_json(self):
        self.reg.set_faults([{"match": "/registered_model", "status": 200, "content_type": "text/html",
                              "body": "<html><body>Welcome to the proxy</body></html>"}])
        res, _ = self.resolve("model-registry://iris", self.env(MODEL_REGISTRY_BASE_URL=self.reg.base))
        self.assert_fails(res, 3, "malformed response", "not valid json", "welcome to the proxy")

    def test_wrong_field_types(self):
        for match, words in (("/registered_model", ("registered model \"iris\"", "id is a number")),
                             ("/artifacts", ("the artifacts of", "items[0].id is a number"))):
            with self.subTest(match=match):
                self.reg.set_faults([{"match": match, "transform": "ids_as_numbers"}])
                res, _ = self.resolve("model-registry://iris/v1", self.env(MODEL_REGISTRY_BASE_URL=self.reg.base))
                self.assert_fails(res, 3, "malformed response", *words)

    def test_items_of_the_wrong_type(self):
        self.reg.set_faults([{"match": "/artifacts", "status": 200,
                              "body": json.dumps({"items": {"uri": "s3://x"}, "nextPageToken": "", "size": 1,
                                                  "pageSize": 0})}])
        res, _ = self.resolve("model-registry://iris/v1", self.env(MODEL_REGISTRY_BASE_URL=self.reg.base))
        self.assert_fails(res, 3, "malformed response", "items is an object, expected an array")

    def test_contract_check_is_live(self):
        # The same wrong types through Prism: the spec violation becomes a 500, so the check works.
        self.reg.set_faults([{"match": "/registered_model", "transform": "ids_as_numbers"}])
        res, _ = self.resolve("model-registry://iris", None, "--retries", "1")
        # Prism's own words reach the last line: the response was rejected by the contract check
        # (its log may have scrolled on by the time we read it, so it is not asserted on).
        self.assert_fails(res, 4, "http 500", "request/response not valid")

    def test_usage_errors(self):
        for uri, words in (("model-registry://", ("no model name",)),
                           ("model-registry://a.b/c/d/e", ("4 path segments",)),
                           ("model-registry://iris%zz", ("bad percent-escape",)),
                           ("model-registry://iris?version=2", ('unknown query parameter "version"',)),
                           (f"model-registry://{self.prism.base}/iris?namespace=ns", ("cannot be combined",))):
            with self.subTest(uri=uri):
                res, _ = self.resolve(uri)
                self.assert_fails(res, 2, *words)
        res, _ = self.resolve("model-registry://iris", self.env(MODEL_REGISTRY_SCHEME="ftp"))
        self.assert_fails(res, 2, "MODEL_REGISTRY_SCHEME")


class Download(RegistryCase):
    def test_download_resolved_artifact(self):
        dest = self.new_dest()
        res = self.run_tool(["model-registry://iris/v2", str(dest)], env=self.env(), timeout=180)
        self.assert_ok(res, files=1)
        self.assert_same_file(dest / "model.onnx", ctx["iris_v2_sha"], res)
        self.assertIn(ctx["storage"] + "/iris/v2/model.onnx", res.stderr)  # the resolution is logged

    def test_download_latest_with_encoded_names(self):
        dest = self.new_dest()
        res = self.run_tool([f"model-registry://{self.prism.base}/my%20model", str(dest)], env=self.env(),
                            timeout=180)
        self.assert_ok(res, files=1)
        self.assert_same_file(dest / "model.bin", ctx["spaced_sha"], res)

    def test_unsupported_artifact_scheme_is_named(self):
        dest = self.new_dest()
        res = self.run_tool(["model-registry://odd-scheme/v1", str(dest)], env=self.env(), timeout=120)
        self.assert_fails(res, 2, "ftp")


if __name__ == "__main__":
    unittest.main(verbosity=2)
