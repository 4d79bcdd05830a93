"""s3:// downloads against a real S3 implementation (@20minutes/s3rver 4.0.4, which verifies
SigV4) seeded with Debian's awscli: single objects, folders, pagination past 1000 keys, special
characters, zero-byte objects and folder markers, sibling prefixes, a 1 GiB object, wrong
secrets, anonymous access, missing buckets and prefixes, TLS with a generated CA, STORAGE_CONFIG,
allow/ignore patterns, IRSA through a local STS, faults through the fault proxy and a hostile
listing. Every success is checked by hashing the files on disk against the source."""

import http.server
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
import servers  # noqa: E402
from fault_proxy import FaultProxy  # noqa: E402
from tool_case import ToolTestCase  # noqa: E402

servers.require_programs("node", "openssl")
AWS = "/usr/bin/aws" if os.access("/usr/bin/aws", os.X_OK) else shutil.which("aws")
if not AWS:
    print("SKIP: awscli (Debian package awscli) not installed", file=sys.stderr)
    sys.exit(servers.SKIP)
S3RVER_DIR = servers.source_root() / "test" / "node_modules" / "@20minutes" / "s3rver"
if not S3RVER_DIR.is_dir():
    print("SKIP: @20minutes/s3rver not installed under test/node_modules (scripts/setup.sh)",
          file=sys.stderr)
    sys.exit(servers.SKIP)



def _binary_supports_s3():
    """False while the CLI does not dispatch s3:// URIs yet (then the suite is skipped)."""
    probe = tempfile.mkdtemp(prefix="mrsi-s3-probe-")
    try:
        r = servers.run_tool(["--retries", "1", "s3://probe/x", Path(probe) / "d"], timeout=60,
                             env={"AWS_ENDPOINT_URL": "http://127.0.0.1:9",
                                  "awsAnonymousCredential": "true"})
        return 'unsupported scheme "s3"' not in r.stderr
    finally:
        shutil.rmtree(probe, ignore_errors=True)


if not _binary_supports_s3():
    print("SKIP: this build of the binary does not dispatch s3:// URIs yet", file=sys.stderr)
    sys.exit(servers.SKIP)

MiB = 1 << 20
GiB = 1 << 30
KEY_ID = "S3RVER"
SECRET = "S3RVER"
STS_KEY_ID = "ASIASTSTESTKEY"
STS_SECRET = "sts/secret+key"
STS_TOKEN = "FwoGZXIvYXdzEXAMPLE//session+token="
ctx = {}


class S3rver:
    """s3rver on 127.0.0.1 (HTTP, or HTTPS with `tls` = servers.CaFiles) in its own process."""

    def __init__(self, directory, buckets, tls=None, extra_keys=()):
        self.directory = Path(directory)
        self.buckets = buckets
        self.tls = tls
        self.extra_keys = extra_keys
        self.proc = None
        self.port = None

    def __enter__(self):
        self.directory.mkdir(parents=True, exist_ok=True)
        args = ["node", "--openssl-legacy-provider",
                str(servers.source_root() / "test" / "support" / "s3_server.js"),
                "--dir", str(self.directory)]
        for b in self.buckets:
            args += ["--bucket", b]
        if self.tls:
            args += ["--key", self.tls.server_key, "--cert", self.tls.server_cert]
        for k, s in self.extra_keys:
            args += ["--access-key", k, "--secret-key", s]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL, text=True, start_new_session=True)
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("s3rver did not start: " + self.proc.stderr.read())
        self.port = json.loads(line)["port"]
        self.scheme = "https" if self.tls else "http"
        servers.wait_for_port(self.port, proc=self.proc)
        return self

    @property
    def endpoint(self):
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def __exit__(self, *exc):
        servers._stop_process(self.proc)


def aws(*args, endpoint, ca=None):
    """Runs awscli against the server with the test credentials; returns stdout."""
    env = dict(os.environ, AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET,
               AWS_DEFAULT_REGION="us-east-1", HOME=str(ctx["tmp"]), AWS_CONFIG_FILE="/dev/null",
               AWS_SHARED_CREDENTIALS_FILE="/dev/null", AWS_PAGER="")
    for k in servers.TLS_ENV_VARS + servers.PROXY_ENV_VARS:
        env.pop(k, None)
    if ca:
        env["AWS_CA_BUNDLE"] = ca
    r = subprocess.run([AWS, "--endpoint-url", endpoint, *args], env=env, capture_output=True,
                       text=True, timeout=900)
    if r.returncode != 0:
        raise RuntimeError(f"aws {' '.join(args)} failed: {r.stderr.strip()}")
    return r.stdout


def put_tree(local_dir, s3_uri, endpoint, ca=None):
    aws("s3", "cp", "--recursive", "--only-show-errors", str(local_dir), s3_uri,
        endpoint=endpoint, ca=ca)


def put_object(key, local_file=None, bucket="models", endpoint=None):
    args = ["s3api", "put-object", "--bucket", bucket, "--key", key]
    if local_file is not None:
        args += ["--body", str(local_file)]
    aws(*args, endpoint=endpoint or ctx["s3"].endpoint)


def tree_hashes(root):
    root = Path(root)
    return {str(p.relative_to(root)): servers.sha256_file(p) for p in root.rglob("*") if p.is_file()}


def setUpModule():
    tmp = Path(tempfile.mkdtemp(prefix="mrsi-s3-"))
    ctx["tmp"] = tmp
    rng = random.Random(20240607)
    src = tmp / "src"

    # model/: nested folders, special characters, zero-byte files.
    model = src / "model"
    files = {
        "config.json": 321,
        "weights/part-0001.bin": 3 * MiB + 17,
        "weights/deep/er/leaf.bin": 70_000,
        "empty.txt": 0,
        "tokenizer/empty.json": 0,
        "sp a ce/plus+equals=percent%tilde~.bin": 4097,
        "caf\u00e9/\u6a21\u578b.bin": 1234,
        "README.md": 99,
    }
    for rel, size in files.items():
        p = model / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        servers.write_random_file(p, size)
    # A sibling prefix that must never be fetched for s3://models/model.
    sibling = src / "model-v2"
    sibling.mkdir(parents=True)
    servers.write_random_file(sibling / "other.bin", 1000)
    # 2500 keys: three ListObjectsV2 pages.
    many = src / "many"
    many.mkdir()
    for i in range(2500):
        servers.write_random_file(many / f"f{i:04d}.bin", rng.randrange(0, 64))
    ctx["src"] = src

    ctx["s3"] = S3rver(tmp / "s3data", ["models", "other"],
                       extra_keys=[(STS_KEY_ID, STS_SECRET)]).__enter__()
    ep = ctx["s3"].endpoint
    put_tree(src, "s3://models/", ep)
    # Folder markers, as consoles create them.
    put_object("model/weights/")
    put_object("model/emptydir/")
    single = tmp / "single.bin"
    ctx["single_sha"] = servers.write_random_file(single, 5 * MiB + 3)
    put_object("single/model.gguf", single)


def tearDownModule():
    servers.stop_module(ctx, "s3")


class S3Case(ToolTestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = ctx["tmp"]
        super().setUpClass()

    def env(self, endpoint=None, **extra):
        e = {"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET,
             "AWS_ENDPOINT_URL": endpoint or ctx["s3"].endpoint, "AWS_REGION": "us-east-1",
             "HOME": str(ctx["tmp"])}
        # Variables of the machine that would change which credentials or endpoint are used.
        for k in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
                  "S3_ENDPOINT", "AWS_ENDPOINT_URL_S3", "STORAGE_CONFIG", "STORAGE_OVERRIDE_CONFIG",
                  "STORAGE_ALLOW_PATTERNS", "STORAGE_IGNORE_PATTERNS", "awsAnonymousCredential",
                  "S3_VERIFY_SSL", "CA_BUNDLE_CONFIGMAP_NAME"):
            e[k] = None
        e.update(extra)
        return e

    def expected(self, prefix):
        return tree_hashes(ctx["src"] / prefix)


class Downloads(S3Case):
    def test_folder_with_nested_special_and_empty_files(self):
        dest = self.new_dest()
        res = self.run_tool(["s3://models/model", dest], env=self.env())
        want = self.expected("model")
        self.assert_ok(res, files=len(want))
        self.assertEqual(tree_hashes_user(self, dest), want)
        self.assertEqual((dest / "empty.txt").stat().st_size, 0)
        # Folder markers are not files, and the sibling prefix model-v2/ was not fetched.
        self.assertFalse((dest / "emptydir").is_file())
        self.assertFalse((dest / "-v2").exists())
        self.assertFalse((dest / "other.bin").exists())

    def test_trailing_slash_is_the_same_folder(self):
        dest = self.new_dest()
        res = self.run_tool(["s3://models/model/", dest], env=self.env())
        self.assert_ok(res, files=len(self.expected("model")))
        self.assertEqual(tree_hashes_user(self, dest), self.expected("model"))

    def test_single_object_saved_as_basename(self):
        dest = self.new_dest()
        res = self.run_tool(["s3://models/single/model.gguf", dest], env=self.env())
        self.assert_ok(res, files=1, nbytes=5 * MiB + 3)
        self.assertEqual(self.user_files(dest), ["model.gguf"])
        self.assert_same_file(dest / "model.gguf", ctx["single_sha"], res)

    def test_single_object_with_special_characters(self):
        dest = self.new_dest()
        key = "model/sp a ce/plus+equals=percent%tilde~.bin"
        res = self.run_tool([f"s3://models/{key}", dest], env=self.env())
        self.assert_ok(res, files=1)
        self.assertEqual(self.user_files(dest), ["plus+equals=percent%tilde~.bin"])
        self.assertEqual(servers.sha256_file(dest / "plus+equals=percent%tilde~.bin"),
                         self.expected("model")["sp a ce/plus+equals=percent%tilde~.bin"])

    def test_pagination_2500_keys(self):
        dest = self.new_dest()
        res = self.run_tool(["s3://models/many", dest], env=self.env(), timeout=600)
        self.assert_ok(res, files=2500)
        self.assertEqual(tree_hashes_user(self, dest), self.expected("many"))

    def test_whole_bucket(self):
        # "other" holds a few keys only; a bucket alone means every key in it.
        ep = ctx["s3"].endpoint
        put_object("a.txt", ctx["src"] / "model" / "config.json", bucket="other", endpoint=ep)
        put_object("d/b.txt", ctx["src"] / "model" / "README.md", bucket="other", endpoint=ep)
        dest = self.new_dest()
        res = self.run_tool(["s3://other", dest], env=self.env())
        self.assert_ok(res, files=2)
        self.assertEqual(self.user_files(dest), ["a.txt", "d/b.txt"])

    def test_anonymous(self):
        # s3rver serves unsigned requests; the point is that no Authorization is needed or sent.
        dest = self.new_dest()
        res = self.run_tool(["s3://models/single/model.gguf", dest],
                            env=self.env(awsAnonymousCredential="true", AWS_ACCESS_KEY_ID=None,
                                         AWS_SECRET_ACCESS_KEY=None))
        self.assert_ok(res, files=1)
        self.assert_same_file(dest / "model.gguf", ctx["single_sha"], res)

    def test_storage_config_json(self):
        cfg = {"type": "s3", "access_key_id": KEY_ID, "secret_access_key": SECRET,
               "endpoint_url": ctx["s3"].endpoint, "region": "us-east-1", "bucket": "models"}
        dest = self.new_dest()
        env = self.env(AWS_ACCESS_KEY_ID="wrong", AWS_SECRET_ACCESS_KEY="wrong",
                       AWS_ENDPOINT_URL="http://127.0.0.1:9", STORAGE_CONFIG=json.dumps(cfg))
        res = self.run_tool(["s3://models/single/model.gguf", dest], env=env)
        self.assert_ok(res, files=1)
        self.assert_same_file(dest / "model.gguf", ctx["single_sha"], res)

    def test_storage_override_config_wins(self):
        cfg = {"type": "s3", "access_key_id": KEY_ID, "secret_access_key": "wrong",
               "endpoint_url": ctx["s3"].endpoint}
        env = self.env(STORAGE_CONFIG=json.dumps(cfg),
                       STORAGE_OVERRIDE_CONFIG=json.dumps({"secret_access_key": SECRET}))
        dest = self.new_dest()
        res = self.run_tool(["s3://models/single/model.gguf", dest], env=env)
        self.assert_ok(res, files=1)

    def test_allow_then_ignore_patterns(self):
        dest = self.new_dest()
        env = self.env(STORAGE_ALLOW_PATTERNS='["*.json", "weights/*"]',
                       STORAGE_IGNORE_PATTERNS="*/leaf.bin, tokenizer/*")
        res = self.run_tool(["s3://models/model", dest], env=env)
        self.assert_ok(res, files=2)
        self.assertEqual(self.user_files(dest), ["config.json", "weights/part-0001.bin"])

    def test_patterns_that_leave_nothing(self):
        res = self.run_tool(["s3://models/model", self.new_dest()],
                            env=self.env(STORAGE_ALLOW_PATTERNS="*.onnx"))
        self.assert_fails(res, 3, "STORAGE_ALLOW_PATTERNS")

    def test_irsa_through_sts(self):
        sts = StsStub().start()
        self.addCleanup(sts.stop)
        token = Path(self.tmp) / "irsa-token"
        token.write_text("eyJhbGciOiJSUzI1NiJ9.test-web-identity.sig\n")
        env = self.env(AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None,
                       AWS_ROLE_ARN="arn:aws:iam::123456789012:role/model-reader",
                       AWS_WEB_IDENTITY_TOKEN_FILE=str(token),
                       AWS_ENDPOINT_URL_STS=f"http://127.0.0.1:{sts.port}")
        dest = self.new_dest()
        res = self.run_tool(["s3://models/single/model.gguf", dest], env=env)
        self.assert_ok(res, files=1)
        self.assert_same_file(dest / "model.gguf", ctx["single_sha"], res)
        self.assertEqual(len(sts.calls), 1)
        form = sts.calls[0]
        self.assertEqual(form.get("Action"), ["AssumeRoleWithWebIdentity"])
        self.assertEqual(form.get("RoleArn"), ["arn:aws:iam::123456789012:role/model-reader"])
        self.assertEqual(form.get("WebIdentityToken"), ["eyJhbGciOiJSUzI1NiJ9.test-web-identity.sig"])

    def test_irsa_refused_by_sts(self):
        sts = StsStub(refuse=True).start()
        self.addCleanup(sts.stop)
        token = Path(self.tmp) / "irsa-token-bad"
        token.write_text("not-a-jwt")
        env = self.env(AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None,
                       AWS_ROLE_ARN="arn:aws:iam::123456789012:role/model-reader",
                       AWS_WEB_IDENTITY_TOKEN_FILE=str(token),
                       AWS_ENDPOINT_URL_STS=f"http://127.0.0.1:{sts.port}")
        res = self.run_tool(["s3://models/single/model.gguf", self.new_dest()], env=env)
        self.assert_fails(res, 3, "InvalidIdentityToken")


class Errors(S3Case):
    def test_wrong_secret_names_signature_mismatch(self):
        res = self.run_tool(["s3://models/model", self.new_dest()],
                            env=self.env(AWS_SECRET_ACCESS_KEY="not-the-secret"))
        self.assert_fails(res, 3, "SignatureDoesNotMatch")

    def test_unknown_access_key(self):
        res = self.run_tool(["s3://models/model", self.new_dest()],
                            env=self.env(AWS_ACCESS_KEY_ID="AKIANOBODY"))
        self.assert_fails(res, 3, "InvalidAccessKeyId")

    def test_missing_bucket(self):
        res = self.run_tool(["s3://no-such-bucket/model", self.new_dest()], env=self.env())
        self.assert_fails(res, 3, "no-such-bucket", "does not exist")

    def test_missing_prefix_names_bucket_and_prefix(self):
        res = self.run_tool(["s3://models/no/such/prefix", self.new_dest()], env=self.env())
        self.assert_fails(res, 3, "models", "no/such/prefix/")

    def test_prefix_is_not_a_substring_match(self):
        # "mod" is neither an object nor a folder, though "model/" and "model-v2/" start with it.
        res = self.run_tool(["s3://models/mod", self.new_dest()], env=self.env())
        self.assert_fails(res, 3, "mod/")

    def test_unreachable_endpoint(self):
        port = servers.free_port()
        res = self.run_tool(["--retries", "1", "s3://models/model", self.new_dest()],
                            env=self.env(endpoint=f"http://127.0.0.1:{port}"), timeout=120)
        self.assert_fails(res, 4)

    def test_bad_storage_config(self):
        res = self.run_tool(["s3://models/model", self.new_dest()],
                            env=self.env(STORAGE_CONFIG="{not json"))
        self.assert_fails(res, 2, "STORAGE_CONFIG")


class HostileListing(S3Case):
    """A server whose listing carries keys that would escape DEST. s3rver normalizes such keys
    on its disk, so this server is a small stand-in that answers HEAD/ListObjectsV2/GET."""

    def test_dotdot_key_refused_nothing_written(self):
        fake = FakeS3({"m/ok.txt": b"fine", "m/../x": b"evil", "m/sub/../../y": b"evil"}).start()
        self.addCleanup(fake.stop)
        base = Path(tempfile.mkdtemp(dir=self.tmp))
        dest = base / "dest"
        res = self.run_tool(["s3://models/m", dest],
                            env=self.env(endpoint=f"http://127.0.0.1:{fake.port}"))
        self.assert_fails(res, 3, "../x", "escape")
        self.assertEqual(sorted(p.name for p in base.iterdir() if p.name != "dest"), [])
        self.assertFalse((base / "x").exists())
        self.assertEqual(self.user_files(dest) if dest.exists() else [], [])
        self.assertEqual(fake.object_gets, 0, "an object was fetched before the listing was vetted")


class Tls(S3Case):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ca = servers.make_ca(Path(ctx["tmp"]) / "ca")
        cls.srv = S3rver(Path(ctx["tmp"]) / "s3tls", ["models"], tls=cls.ca).__enter__()
        small = Path(ctx["tmp"]) / "tls.bin"
        cls.sha = servers.write_random_file(small, 2 * MiB + 5)
        aws("s3", "cp", "--only-show-errors", str(small), "s3://models/tls/model.bin",
            endpoint=cls.srv.endpoint, ca=cls.ca.ca_cert)

    @classmethod
    def tearDownClass(cls):
        cls.srv.__exit__(None, None, None)
        super().tearDownClass()

    def test_ca_bundle(self):
        dest = self.new_dest()
        res = self.run_tool(["s3://models/tls", dest],
                            env=self.env(endpoint=self.srv.endpoint, AWS_CA_BUNDLE=self.ca.ca_cert))
        self.assert_ok(res, files=1)
        self.assert_same_file(dest / "model.bin", self.sha, res)

    def test_configmap_ca_bundle(self):
        mount = Path(self.tmp) / "cm"
        mount.mkdir(exist_ok=True)
        shutil.copy(self.ca.ca_cert, mount / "cabundle.crt")
        dest = self.new_dest()
        res = self.run_tool(["s3://models/tls/model.bin", dest],
                            env=self.env(endpoint=self.srv.endpoint,
                                         CA_BUNDLE_CONFIGMAP_NAME="odh-trusted-ca-bundle",
                                         CA_BUNDLE_VOLUME_MOUNT_POINT=str(mount)))
        self.assert_ok(res, files=1)

    def test_configmap_bundle_missing_is_an_error(self):
        res = self.run_tool(["s3://models/tls/model.bin", self.new_dest()],
                            env=self.env(endpoint=self.srv.endpoint,
                                         CA_BUNDLE_CONFIGMAP_NAME="odh-trusted-ca-bundle",
                                         CA_BUNDLE_VOLUME_MOUNT_POINT=str(Path(self.tmp) / "nope")))
        self.assert_fails(res, 2, "cabundle.crt")

    def test_untrusted_without_bundle(self):
        res = self.run_tool(["--retries", "1", "s3://models/tls", self.new_dest()],
                            env=self.env(endpoint=self.srv.endpoint))
        self.assert_fails(res, 4)
        self.assertRegex(res.last_line.lower(), r"certificate|tls|verify")

    def test_verify_off(self):
        dest = self.new_dest()
        res = self.run_tool(["s3://models/tls", dest],
                            env=self.env(endpoint=self.srv.endpoint, S3_VERIFY_SSL="0"))
        self.assert_ok(res, files=1)
        self.assert_same_file(dest / "model.bin", self.sha, res)


class Faults(S3Case):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        big = Path(ctx["tmp"]) / "fault.bin"
        cls.size = 24 * MiB + 7
        cls.sha = servers.write_random_file(big, cls.size)
        put_object("fault/model.bin", big)

    def proxy(self, **faults):
        fp = FaultProxy("127.0.0.1", ctx["s3"].port, **faults).start()
        self.addCleanup(fp.stop)
        return fp

    def test_reset_mid_part(self):
        fp = self.proxy(reset_after=3 * MiB // 2, reset_every=2)
        dest = self.new_dest()
        res = self.run_tool(["--part-size", "4M", "-c", "4", "--retries", "10",
                             "s3://models/fault/model.bin", dest],
                            env=self.env(endpoint=f"http://127.0.0.1:{fp.port}"), timeout=300)
        summary = self.assert_ok(res, files=1, nbytes=self.size)
        self.assert_same_file(dest / "model.bin", self.sha, res)
        self.assertGreater(fp.resets, 0)
        self.assertGreater(summary["retries"], 0, res.describe())

    def test_stall(self):
        fp = self.proxy(stall_after=MiB, stall_every=3)
        dest = self.new_dest()
        res = self.run_tool(["--part-size", "4M", "-c", "4", "--retries", "10", "--read-timeout", "2",
                             "s3://models/fault/model.bin", dest],
                            env=self.env(endpoint=f"http://127.0.0.1:{fp.port}"), timeout=300)
        self.assert_ok(res, files=1, nbytes=self.size)
        self.assert_same_file(dest / "model.bin", self.sha, res)
        self.assertGreater(fp.stalls, 0)


class Large(S3Case):
    def test_one_gib_object(self):
        if os.environ.get("MRSI_SKIP_LARGE"):
            self.skipTest("MRSI_SKIP_LARGE is set")
        big = Path(ctx["tmp"]) / "big.bin"
        sha = servers.write_random_file(big, GiB)
        put_object("large/model.bin", big)
        big.unlink()
        dest = self.new_dest()
        res = self.run_tool(["s3://models/large/model.bin", dest], env=self.env(), timeout=600)
        self.assert_ok(res, files=1, nbytes=GiB)
        self.assert_same_file(dest / "model.bin", sha, res)


def tree_hashes_user(case, dest):
    dest = Path(dest)
    return {rel: servers.sha256_file(dest / rel) for rel in case.user_files(dest)}


# ---- local stand-ins ---------------------------------------------------------------------------

class _Quiet(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body=b"", ctype="application/xml", head=False, headers=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if not head:
            self.wfile.write(body)


class _Threaded:
    def __init__(self, handler):
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.owner = self
        self.port = self.httpd.server_address[1]

    def start(self):
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class StsStub(_Threaded):
    """AssumeRoleWithWebIdentity answering with real-shaped XML (credentials s3rver knows)."""

    def __init__(self, refuse=False):
        self.calls = []
        self.refuse = refuse

        class Handler(_Quiet):
            def do_POST(self):
                import urllib.parse
                n = int(self.headers.get("Content-Length") or 0)
                form = urllib.parse.parse_qs(self.rfile.read(n).decode())
                owner = self.server.owner
                owner.calls.append(form)
                if owner.refuse:
                    body = ("<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error>"
                            "<Type>Sender</Type><Code>InvalidIdentityToken</Code>"
                            "<Message>Couldn't retrieve verification key from your identity provider</Message>"
                            "</Error><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>")
                    self.reply(400, body.encode())
                    return
                body = f"""<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>system:serviceaccount:models:kserve</SubjectFromWebIdentityToken>
    <Audience>sts.amazonaws.com</Audience>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::123456789012:assumed-role/model-reader/mr-storage-initializer</Arn>
      <AssumedRoleId>AROAEXAMPLE:mr-storage-initializer</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <SessionToken>{STS_TOKEN}</SessionToken>
      <SecretAccessKey>{STS_SECRET}</SecretAccessKey>
      <Expiration>2099-01-01T00:00:00Z</Expiration>
      <AccessKeyId>{STS_KEY_ID}</AccessKeyId>
    </Credentials>
    <Provider>arn:aws:iam::123456789012:oidc-provider/oidc.eks.example</Provider>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>11111111-2222-3333-4444-555555555555</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>"""
                self.reply(200, body.encode())

        super().__init__(Handler)


class FakeS3(_Threaded):
    """Path-style HEAD/ListObjectsV2/GET over a dict of keys; no signature checks."""

    def __init__(self, objects):
        self.objects = objects
        self.object_gets = 0

        class Handler(_Quiet):
            def do_HEAD(self):
                self.handle_any(head=True)

            def do_GET(self):
                self.handle_any(head=False)

            def handle_any(self, head):
                import hashlib
                import urllib.parse
                from xml.sax.saxutils import escape
                owner = self.server.owner
                u = urllib.parse.urlsplit(self.path)
                q = urllib.parse.parse_qs(u.query)
                bucket, _, key = urllib.parse.unquote(u.path).lstrip("/").partition("/")
                if "list-type" in q:
                    prefix = q.get("prefix", [""])[0]
                    items = "".join(
                        f"<Contents><Key>{escape(k)}</Key><Size>{len(v)}</Size>"
                        f"<ETag>\"{hashlib.md5(v).hexdigest()}\"</ETag></Contents>"
                        for k, v in owner.objects.items() if k.startswith(prefix))
                    body = (f"<ListBucketResult><Name>{bucket}</Name><IsTruncated>false</IsTruncated>"
                            f"{items}</ListBucketResult>").encode()
                    self.reply(200, body, head=head)
                elif key in owner.objects:
                    if not head:
                        owner.object_gets += 1
                    self.reply(200, owner.objects[key], "application/octet-stream", head=head)
                else:
                    self.reply(404, b"<Error><Code>NoSuchKey</Code><Message>no</Message></Error>", head=head)

        super().__init__(Handler)


if __name__ == "__main__":
    unittest.main(verbosity=2)
