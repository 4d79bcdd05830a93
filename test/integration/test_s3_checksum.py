"""S3 additional checksums (x-amz-checksum-crc32/-crc32c/-sha1/-sha256) against a small stand-in
S3 server (s3rver does not implement them): objects listed with <ChecksumAlgorithm> get a HEAD
with `x-amz-checksum-mode: ENABLED`, the full-object value is checked against the bytes on disk,
composite (multipart, "-N") values are skipped, and a mismatch exits 6 naming the algorithm and
the file with nothing left under its final name."""

import base64
import hashlib
import http.server
import os
import struct
import sys
import tempfile
import threading
import unittest
import urllib.parse
import zlib
from pathlib import Path
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
import servers  # noqa: E402
from tool_case import ToolTestCase  # noqa: E402


def crc32c(data):
    crc = 0xFFFFFFFF
    table = crc32c.table
    for b in data:
        crc = (crc >> 8) ^ table[(crc ^ b) & 0xFF]
    return crc ^ 0xFFFFFFFF


crc32c.table = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    crc32c.table.append(_c)


def b64(raw):
    return base64.b64encode(raw).decode()


def checksum(alg, data):
    if alg == "crc32":
        return b64(struct.pack(">I", zlib.crc32(data)))
    if alg == "crc32c":
        return b64(struct.pack(">I", crc32c(data)))
    return b64(hashlib.new(alg, data).digest())


class ChecksumS3:
    """Path-style HEAD / ranged GET / ListObjectsV2 over `objects` (key -> bytes); `algs` maps a
    key to its checksum algorithm (listed as <ChecksumAlgorithm>), `values` overrides the value a
    HEAD reports. ETags are multipart-shaped so only the additional checksum can catch a change."""

    def __init__(self, objects, algs, values=None):
        self.objects, self.algs, self.values = objects, algs, values or {}
        self.checksum_heads = []  # keys HEADed with x-amz-checksum-mode: ENABLED
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *args):
                pass

            def reply(self, status, body=b"", head=False, headers=()):
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                for k, v in headers:
                    self.send_header(k, v)
                self.end_headers()
                if not head:
                    self.wfile.write(body)

            def do_HEAD(self):
                self.handle_any(head=True)

            def do_GET(self):
                self.handle_any(head=False)

            def handle_any(self, head):
                u = urllib.parse.urlsplit(self.path)
                q = urllib.parse.parse_qs(u.query)
                bucket, _, key = urllib.parse.unquote(u.path).lstrip("/").partition("/")
                if "list-type" in q:
                    prefix = q.get("prefix", [""])[0]
                    items = ""
                    for k, v in owner.objects.items():
                        if not k.startswith(prefix):
                            continue
                        alg = owner.algs.get(k)
                        items += (f"<Contents><Key>{escape(k)}</Key><Size>{len(v)}</Size>"
                                  f"<ETag>\"{hashlib.md5(v).hexdigest()}-2\"</ETag>"
                                  + (f"<ChecksumAlgorithm>{alg.upper()}</ChecksumAlgorithm>"
                                     f"<ChecksumType>FULL_OBJECT</ChecksumType>" if alg else "")
                                  + "<StorageClass>STANDARD</StorageClass></Contents>")
                    body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult "
                            "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                            f"<Name>{bucket}</Name><Prefix>{escape(prefix)}</Prefix>"
                            f"<IsTruncated>false</IsTruncated>{items}</ListBucketResult>").encode()
                    self.reply(200, body, head, [("Content-Type", "application/xml")])
                    return
                if key not in owner.objects:
                    self.reply(404, b"<Error><Code>NoSuchKey</Code><Message>no</Message></Error>",
                               head, [("Content-Type", "application/xml")])
                    return
                data = owner.objects[key]
                headers = [("ETag", f"\"{hashlib.md5(data).hexdigest()}-2\""),
                           ("Content-Type", "application/octet-stream"),
                           ("Accept-Ranges", "bytes")]
                if head and self.headers.get("x-amz-checksum-mode", "").upper() == "ENABLED":
                    owner.checksum_heads.append(key)
                    alg = owner.algs.get(key)
                    if alg:
                        value = owner.values.get(key, checksum(alg, data))
                        headers.append((f"x-amz-checksum-{alg}", value))
                        headers.append(("x-amz-checksum-type",
                                        "COMPOSITE" if "-" in value else "FULL_OBJECT"))
                rng = self.headers.get("Range")
                if rng and rng.startswith("bytes=") and not head:
                    first, _, last = rng[6:].partition("-")
                    first = int(first)
                    last = min(int(last) if last else len(data) - 1, len(data) - 1)
                    headers.append(("Content-Range", f"bytes {first}-{last}/{len(data)}"))
                    self.reply(206, data[first:last + 1], False, headers)
                    return
                self.reply(200, data, head, headers)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]

    def __enter__(self):
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"


WEIGHTS = os.urandom(5 << 20)
CONFIG = b'{"architectures": ["Demo"], "hidden_size": 64}\n'
README = b"no checksum on this one\n"
OBJECTS = {"m/weights.bin": WEIGHTS, "m/sub/config.json": CONFIG, "m/README.md": README,
           "m/tok.bin": b"tokenizer bytes" * 100, "m/legacy.bin": b"sha1 still exists" * 7}
ALGS = {"m/weights.bin": "sha256", "m/sub/config.json": "crc32c", "m/tok.bin": "crc32",
        "m/legacy.bin": "sha1"}


class Checksums(ToolTestCase):
    def env(self, endpoint, **extra):
        e = {"AWS_ENDPOINT_URL": endpoint, "awsAnonymousCredential": "true",
             "AWS_REGION": "us-east-1", "HOME": str(self.tmp)}
        for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                  "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "S3_ENDPOINT",
                  "AWS_ENDPOINT_URL_S3", "STORAGE_CONFIG", "STORAGE_OVERRIDE_CONFIG",
                  "STORAGE_ALLOW_PATTERNS", "STORAGE_IGNORE_PATTERNS", "S3_VERIFY_MD5"):
            e[k] = None
        e.update(extra)
        return e

    def assert_tree(self, dest, objects, prefix="m/"):
        expected = {k[len(prefix):]: hashlib.sha256(v).hexdigest() for k, v in objects.items()}
        got = {rel: servers.sha256_file(Path(dest) / rel) for rel in self.user_files(dest)}
        self.assertEqual(got, expected)

    def test_correct_checksums_pass(self):
        with ChecksumS3(OBJECTS, ALGS) as s3:
            dest = self.new_dest()
            res = self.run_tool(["s3://models/m", dest], env=self.env(s3.endpoint))
            self.assert_ok(res, files=len(OBJECTS))
            self.assert_tree(dest, OBJECTS)
            # One checksum HEAD per object listed with an algorithm, none for the others.
            self.assertEqual(sorted(s3.checksum_heads), sorted(ALGS))

    def test_wrong_sha256_fails_and_leaves_no_file(self):
        bad = {"m/weights.bin": checksum("sha256", b"something else")}
        with ChecksumS3(OBJECTS, ALGS, bad) as s3:
            dest = self.new_dest()
            res = self.run_tool(["s3://models/m", dest], env=self.env(s3.endpoint))
            self.assert_fails(res, 6, "sha256", "weights.bin", bad["m/weights.bin"])
            self.assertNotIn("weights.bin", self.user_files(dest) if dest.exists() else [])

    def test_wrong_crc32c_fails(self):
        bad = {"m/sub/config.json": checksum("crc32c", b"other")}
        with ChecksumS3(OBJECTS, ALGS, bad) as s3:
            dest = self.new_dest()
            res = self.run_tool(["s3://models/m", dest], env=self.env(s3.endpoint))
            self.assert_fails(res, 6, "crc32c", "config.json")
            self.assertNotIn("sub/config.json", self.user_files(dest) if dest.exists() else [])

    def test_single_object_checked_from_its_head(self):
        with ChecksumS3(OBJECTS, ALGS) as s3:
            dest = self.new_dest()
            res = self.run_tool(["s3://models/m/weights.bin", dest], env=self.env(s3.endpoint))
            self.assert_ok(res, files=1)
            self.assert_same_file(dest / "weights.bin", hashlib.sha256(WEIGHTS).hexdigest(), res)
            self.assertIn("m/weights.bin", s3.checksum_heads)
        bad = {"m/weights.bin": checksum("sha256", b"x")}
        with ChecksumS3(OBJECTS, ALGS, bad) as s3:
            dest = self.new_dest("single-bad")
            res = self.run_tool(["s3://models/m/weights.bin", dest], env=self.env(s3.endpoint))
            self.assert_fails(res, 6, "sha256", "weights.bin")
            self.assertEqual(self.user_files(dest) if dest.exists() else [], [])

    def test_composite_checksum_is_skipped(self):
        # A multipart upload's checksum of part checksums cannot be checked against the bytes.
        composite = {"m/weights.bin": checksum("sha256", b"parts") + "-3"}
        with ChecksumS3(OBJECTS, ALGS, composite) as s3:
            dest = self.new_dest()
            res = self.run_tool(["s3://models/m", dest], env=self.env(s3.endpoint))
            self.assert_ok(res, files=len(OBJECTS))
            self.assert_tree(dest, OBJECTS)

    def test_verification_off(self):
        bad = {"m/weights.bin": checksum("sha256", b"something else")}
        with ChecksumS3(OBJECTS, ALGS, bad) as s3:
            dest = self.new_dest()
            res = self.run_tool(["s3://models/m", dest],
                                env=self.env(s3.endpoint, S3_VERIFY_MD5="false"))
            self.assert_ok(res, files=len(OBJECTS))
            self.assertEqual(s3.checksum_heads, [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
