"""http(s):// downloads against nginx on 127.0.0.1: small, empty, 1 GiB and 200 files, servers
that ignore Range or send no length, redirects, HTTP errors, TLS trust and proxies. Every
success is checked by hashing the file on disk against the source."""

import json
import os
import random
import shutil
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
import servers  # noqa: E402
from tool_case import ToolTestCase  # noqa: E402

servers.require_programs("nginx", "openssl")

GiB = 1 << 30
MiB = 1 << 20
ctx = {}


def setUpModule():
    tmp, root = servers.module_tmp(ctx, "mrsi-http-")
    rng = random.Random(20240601)
    files = {}

    def add(name, size):
        files[name] = (size, servers.write_random_file(root / name, size))

    add("small.bin", 1234)
    add("empty.bin", 0)
    add("one.bin", 1)
    add("medium.bin", 24 * MiB + 12345)
    (root / "many").mkdir()
    for i in range(200):
        add(f"many/f{i:03d}.bin", rng.choice((0, 1, 4095, 4096, 65537)) if i < 10
            else rng.randrange(1, 300_000))
    ctx["files"] = files
    ctx["root"] = root
    servers.start_tls_nginx(ctx, tmp, root)


def tearDownModule():
    servers.stop_module(ctx, "nginx", "stream")


class HttpTestCase(ToolTestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = ctx["tmp"]
        super().setUpClass()
        cls.ng = ctx["nginx"]
        cls.ca = ctx["ca"]

    def size(self, name):
        return ctx["files"][name][0]

    def sha(self, name):
        return ctx["files"][name][1]

    def fetch_ok(self, url, name, *extra, dest=None, env=None, timeout=180):
        """Downloads url into a fresh DEST; asserts exit 0, one file `basename(name)` identical
        to the source file `name`, and the summary counts. Returns (dest, result)."""
        dest = dest or self.new_dest()
        res = self.run_tool([*extra, url, dest], env=env, timeout=timeout)
        self.assert_ok(res, files=1, nbytes=self.size(name))
        base = name.rsplit("/", 1)[-1]
        self.assert_same_file(dest / base, self.sha(name), res)
        self.assertEqual(self.user_files(dest), [base])
        return dest, res


class Basics(HttpTestCase):
    def test_single_small_file(self):
        self.fetch_ok(self.ng.url("small.bin"), "small.bin")

    def test_empty_and_one_byte_files(self):
        self.fetch_ok(self.ng.url("empty.bin"), "empty.bin")
        self.fetch_ok(self.ng.url("one.bin"), "one.bin")

    def test_medium_file_over_https_with_ca_bundle(self):
        self.fetch_ok(self.ng.tls_url("medium.bin"), "medium.bin", "--ca-bundle", self.ca.ca_cert,
                      "--part-size", "4M", "-c", "4")

    def test_query_string_is_not_part_of_the_file_name(self):
        # Presigned URLs carry their signature in the query; the file is named by the path.
        self.fetch_ok(self.ng.url("small.bin?X-Amz-Signature=abc&x=1"), "small.bin")

    def test_localhost_name_falls_back_to_ipv4(self):
        # nginx listens on 127.0.0.1 only; "localhost" may resolve to ::1 first.
        self.fetch_ok(self.ng.url("small.bin", host="localhost"), "small.bin")

    def test_rerun_into_filled_dest(self):
        # KServe never cleans DEST: a second run over a finished download must succeed and
        # leave the same bytes; an unrelated file in DEST stays untouched.
        dest, _ = self.fetch_ok(self.ng.url("medium.bin"), "medium.bin")
        (dest / "unrelated.txt").write_text("keep me")
        res = self.run_tool([self.ng.url("medium.bin"), dest])
        self.assert_ok(res, files=1)
        self.assert_same_file(dest / "medium.bin", self.sha("medium.bin"), res)
        self.assertEqual((dest / "unrelated.txt").read_text(), "keep me")

    def test_stale_file_in_dest_is_replaced(self):
        dest = self.new_dest()
        dest.mkdir()
        (dest / "medium.bin").write_bytes(b"stale content of another size")
        res = self.run_tool([self.ng.url("medium.bin"), dest])
        self.assert_ok(res, files=1)
        self.assert_same_file(dest / "medium.bin", self.sha("medium.bin"), res)

    def test_two_hundred_files_in_one_run(self):
        # 200 SRC DEST pairs: 20 destinations with 10 files each.
        names = sorted(n for n in ctx["files"] if n.startswith("many/"))
        dests = [self.new_dest(f"many{i:02d}") for i in range(20)]
        args = []
        for i, n in enumerate(names):
            args += [self.ng.url(n), dests[i % 20]]
        res = self.run_tool(args, timeout=300)
        total = sum(self.size(n) for n in names)
        self.assert_ok(res, files=200, nbytes=total)
        for i, n in enumerate(names):
            self.assert_same_file(dests[i % 20] / n.rsplit("/", 1)[-1], self.sha(n), res)
        for d in dests:
            self.assertEqual(len(self.user_files(d)), 10, sorted(self.user_files(d)))

    def test_request_headers_from_hostname_env(self):
        # <hostname>-headers adds request headers for that host.
        env = {"127.0.0.1-headers": json.dumps({"X-Mrsi-Test": "hello-headers"})}
        self.fetch_ok(self.ng.url("small.bin"), "small.bin", env=env)
        lines = [l for l in self.ng.access_log_lines() if "/small.bin" in l]
        self.assertTrue(any('x-mrsi-test="hello-headers"' in l for l in lines), lines[-3:])


class PathSafety(HttpTestCase):
    def test_url_path_cannot_escape_dest(self):
        # A hostile server path must never place a file outside DEST, whatever the tool decides
        # to call the file (or refuses to).
        payload = b"escaped?\n"
        with servers.StreamServer(ctx["root"], any_path_payload=payload) as srv:
            for path in ("..%2F..%2Fescape.bin", "sub/..%2F..%2F..%2Fescape.bin",
                         "%2E%2E", "..%5C..%5Cescape.bin", "a/%2e%2e/%2e%2e/escape.bin"):
                with self.subTest(path=path):
                    box = Path(tempfile.mkdtemp(prefix="box-", dir=self.tmp))
                    self.addCleanup(shutil.rmtree, box, True)
                    dest = box / "a" / "b" / "dest"
                    res = self.run_tool([f"http://127.0.0.1:{srv.port}/{path}", dest],
                                        timeout=60)
                    self.assertNotEqual(res.rc, 1, res.describe())
                    outside = [p for p in box.rglob("*")
                               if p.is_file() and dest not in p.parents]
                    self.assertEqual(outside, [], res.describe())
                    if res.rc == 0:
                        self.assertEqual(len(self.user_files(dest)), 1, res.describe())


class LargeFile(HttpTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        big = ctx["root"] / "big.bin"
        ctx["files"]["big.bin"] = (GiB, servers.write_random_file(big, GiB))

    @classmethod
    def tearDownClass(cls):
        (ctx["root"] / "big.bin").unlink(missing_ok=True)
        super().tearDownClass()

    def test_one_gib_file(self):
        dest, res = self.fetch_ok(self.ng.url("big.bin"), "big.bin", timeout=600)
        (dest / "big.bin").unlink()  # free the disk early


class ServerQuirks(HttpTestCase):
    def test_server_ignoring_range(self):
        # /norange/ answers every ranged GET with 200 and the whole body.
        self.fetch_ok(self.ng.url("norange/medium.bin"), "medium.bin", "--part-size", "4M",
                      "-c", "4")

    def test_chunked_response_of_unknown_length(self):
        self.fetch_ok(self.ng.url("chunked/medium.bin"), "medium.bin")
        self.fetch_ok(self.ng.tls_url("chunked/small.bin"), "small.bin",
                      "--ca-bundle", self.ca.ca_cert)

    def test_body_delimited_by_connection_close(self):
        self.fetch_ok(ctx["stream"].url("eof/medium.bin"), "medium.bin")


class Redirects(HttpTestCase):
    def test_follows_301_302_307_chain(self):
        self.fetch_ok(self.ng.url("r3/medium.bin"), "medium.bin", "--part-size", "4M")

    def test_follows_five_hops_and_relative_location(self):
        self.fetch_ok(self.ng.url("hop/5/small.bin"), "small.bin")
        self.fetch_ok(self.ng.url("rel/small.bin"), "small.bin")

    def test_cross_origin_redirect_to_https(self):
        self.fetch_ok(self.ng.url("to-https/medium.bin"), "medium.bin",
                      "--ca-bundle", self.ca.ca_cert)

    def test_redirect_loop_fails(self):
        dest = self.new_dest()
        res = self.run_tool(["--retries", "2", self.ng.url("loop/small.bin"), dest], timeout=60)
        self.assertNotIn(res.rc, (0, 1), res.describe())
        self.assert_fails(res, res.rc, "redirect")
        self.assertEqual(self.user_files(dest) if dest.exists() else [], [])

    def test_https_to_http_redirect_refused(self):
        dest = self.new_dest()
        res = self.run_tool(["--ca-bundle", self.ca.ca_cert, "--retries", "2",
                             self.ng.tls_url("to-http/small.bin"), dest], timeout=60)
        self.assertNotIn(res.rc, (0, 1), res.describe())
        self.assert_fails(res, res.rc, "redirect")
        self.assertEqual(self.user_files(dest) if dest.exists() else [], [])


class HttpErrors(HttpTestCase):
    def test_404_exits_3_naming_url(self):
        dest = self.new_dest()
        url = self.ng.url("does-not-exist.bin")
        res = self.run_tool([url, dest], timeout=60)
        self.assert_fails(res, 3, "404", url)
        self.assertEqual(self.user_files(dest) if dest.exists() else [], [])

    def test_401_and_403_exit_3(self):
        for code in ("401", "403"):
            with self.subTest(code=code):
                res = self.run_tool([self.ng.url(f"status/{code}/small.bin"), self.new_dest()],
                                    timeout=60)
                self.assert_fails(res, 3, code)

    def test_404_among_good_files_fails_the_run(self):
        res = self.run_tool([self.ng.url("small.bin"), self.new_dest(),
                             self.ng.url("missing/x.bin"), self.new_dest()], timeout=60)
        self.assert_fails(res, 3, "404", "missing/x.bin")

    def test_persistent_503_exhausts_retries(self):
        res = self.run_tool(["--retries", "2", self.ng.url("status/503/small.bin"),
                             self.new_dest()], timeout=90)
        self.assert_fails(res, 4, "503")

    def test_connection_refused_exits_4(self):
        port = servers.free_port()
        res = self.run_tool(["--retries", "2", f"http://127.0.0.1:{port}/x.bin",
                             self.new_dest()], timeout=90)
        self.assert_fails(res, 4)


class Tls(HttpTestCase):
    def test_system_trust_rejects_test_ca(self):
        res = self.run_tool(["--retries", "1", self.ng.tls_url("small.bin"), self.new_dest()],
                            timeout=60)
        self.assert_fails(res, 4, "certificate")

    def test_wrong_ca_bundle_fails(self):
        res = self.run_tool(["--retries", "1", "--ca-bundle", self.ca.other_ca_cert,
                             self.ng.tls_url("small.bin"), self.new_dest()], timeout=60)
        self.assert_fails(res, 4, "certificate")

    def test_right_ca_bundle_passes_for_ip_and_name(self):
        self.fetch_ok(self.ng.tls_url("small.bin"), "small.bin", "--ca-bundle", self.ca.ca_cert)
        self.fetch_ok(self.ng.tls_url("small.bin", host="localhost"), "small.bin",
                      "--ca-bundle", self.ca.ca_cert)

    def test_host_name_mismatch_fails(self):
        with servers.Nginx(ctx["root"], tls=self.ca,
                           cert=(self.ca.wrong_name_cert, self.ca.wrong_name_key)) as ng:
            res = self.run_tool(["--retries", "1", "--ca-bundle", self.ca.ca_cert,
                                 ng.tls_url("small.bin"), self.new_dest()], timeout=60)
            self.assert_fails(res, 4, "certificate")

    def test_insecure_skips_verification(self):
        self.fetch_ok(self.ng.tls_url("small.bin"), "small.bin", "--insecure")


@unittest.skipUnless(shutil.which("tinyproxy"), "tinyproxy not installed")
class Proxy(HttpTestCase):
    def test_https_through_connect_proxy(self):
        with servers.Tinyproxy() as tp:
            self.fetch_ok(self.ng.tls_url("medium.bin"), "medium.bin",
                          "--ca-bundle", self.ca.ca_cert, env={"HTTPS_PROXY": tp.url})
            self.assertIn(f"CONNECT 127.0.0.1:{self.ng.tls_port}", tp.log_text())

    def test_http_through_proxy(self):
        with servers.Tinyproxy() as tp:
            self.fetch_ok(self.ng.url("small.bin"), "small.bin", env={"HTTP_PROXY": tp.url})
            self.assertIn(f"GET http://127.0.0.1:{self.ng.port}/small.bin", tp.log_text())


if __name__ == "__main__":
    unittest.main(verbosity=2)
