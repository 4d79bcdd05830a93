"""Checks the integration-test support code itself (test/support: nginx locations, the CA, the
chunked upstream, tinyproxy, the fault proxy) with curl and raw sockets, so that a failing
download test points at the binary, not at its harness."""

import os
import shutil
import socket
import subprocess
import sys
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
import servers  # noqa: E402
from fault_proxy import FaultProxy  # noqa: E402

servers.require_programs("nginx", "openssl", "curl")

SIZE = 6 << 20
ctx = {}


def setUpModule():
    tmp, root = servers.module_tmp(ctx, "mrsi-harness-")
    ctx["sha"] = servers.write_random_file(root / "f.bin", SIZE)
    servers.start_tls_nginx(ctx, tmp, root)


def tearDownModule():
    servers.stop_module(ctx, "nginx", "stream")


def curl(*args, timeout=60):
    """Runs curl with a clean TLS/proxy environment; returns (rc, stdout, stderr)."""
    r = subprocess.run(["curl", "-sS", "--max-time", "30", *args], capture_output=True, text=True,
                       timeout=timeout, env=servers.tool_env())
    return r.returncode, r.stdout, r.stderr


class NginxLocations(unittest.TestCase):
    def setUp(self):
        self.ng = ctx["nginx"]
        self.ca = ctx["ca"]
        self.out = ctx["tmp"] / f"out-{self.id().rsplit('.', 1)[-1]}"

    def fetch(self, url, *extra):
        rc, out, err = curl("-o", str(self.out), "-w", "%{http_code} %{size_download} "
                            "%{num_redirects}", *extra, url)
        return rc, out.split(), err

    def test_whole_file_and_range(self):
        rc, (code, size, _), err = self.fetch(self.ng.url("f.bin"))
        self.assertEqual((rc, code, int(size)), (0, "200", SIZE), err)
        self.assertEqual(servers.sha256_file(self.out), ctx["sha"])
        rc, (code, size, _), err = self.fetch(self.ng.url("f.bin"), "-r", "100-199")
        self.assertEqual((rc, code, int(size)), (0, "206", 100), err)

    def test_norange_ignores_range(self):
        rc, (code, size, _), err = self.fetch(self.ng.url("norange/f.bin"), "-r", "100-199")
        self.assertEqual((rc, code, int(size)), (0, "200", SIZE), err)

    def test_redirect_chain_and_loop(self):
        rc, (code, _, hops), err = self.fetch(self.ng.url("r3/f.bin"), "-L")
        self.assertEqual((rc, code, hops), (0, "200", "3"), err)
        rc, (code, _, hops), err = self.fetch(self.ng.url("hop/12/f.bin"), "-L")
        self.assertEqual((rc, code, hops), (0, "200", "13"), err)
        rc, (code, _, hops), err = self.fetch(self.ng.url("rel/f.bin"), "-L")
        self.assertEqual((rc, code, hops), (0, "200", "1"), err)
        rc, _, err = self.fetch(self.ng.url("loop/f.bin"), "-L", "--max-redirs", "30")
        self.assertEqual(rc, 47, err)  # too many redirects

    def test_cross_scheme_redirects(self):
        rc, (code, size, hops), err = self.fetch(self.ng.url("to-https/f.bin"), "-L",
                                                 "--cacert", self.ca.ca_cert)
        self.assertEqual((rc, code, int(size), hops), (0, "200", SIZE, "1"), err)
        rc, out, err = curl("-o", "/dev/null", "-w", "%{redirect_url}", "--cacert",
                            self.ca.ca_cert, self.ng.tls_url("to-http/f.bin"))
        self.assertEqual((rc, out), (0, self.ng.url("f.bin")), err)

    def test_statuses(self):
        for code in ("401", "403", "404"):
            rc, (got, _, _), err = self.fetch(self.ng.url(f"status/{code}/f.bin"))
            self.assertEqual((rc, got), (0, code), err)
        rc, (got, _, _), err = self.fetch(self.ng.url("missing.bin"))
        self.assertEqual(got, "404")

    def test_tls_trust(self):
        rc, (code, size, _), err = self.fetch(self.ng.tls_url("f.bin"), "--cacert",
                                              self.ca.ca_cert)
        self.assertEqual((rc, code, int(size)), (0, "200", SIZE), err)
        rc, (code, _, _), err = self.fetch(self.ng.tls_url("f.bin", host="localhost"),
                                           "--cacert", self.ca.ca_cert)
        self.assertEqual((rc, code), (0, "200"), err)
        rc, _, err = self.fetch(self.ng.tls_url("f.bin"), "--cacert", self.ca.other_ca_cert)
        self.assertEqual(rc, 60, err)  # peer certificate cannot be authenticated
        rc, _, err = self.fetch(self.ng.tls_url("f.bin"))  # system trust only
        self.assertEqual(rc, 60, err)

    def test_wrong_name_certificate(self):
        with servers.Nginx(ctx["tmp"] / "root", tls=self.ca,
                           cert=(self.ca.wrong_name_cert, self.ca.wrong_name_key)) as ng:
            rc, _, err = self.fetch(ng.tls_url("f.bin"), "--cacert", self.ca.ca_cert)
            self.assertEqual(rc, 60, err)
            self.assertIn("certificate", err.lower())

    def test_chunked_through_nginx(self):
        rc, out, err = curl("-D", "-", "-o", str(self.out), "--cacert", self.ca.ca_cert,
                            self.ng.tls_url("chunked/f.bin"))
        self.assertEqual(rc, 0, err)
        headers = out.lower()
        self.assertIn("transfer-encoding: chunked", headers)
        self.assertNotIn("content-length", headers)
        self.assertEqual(servers.sha256_file(self.out), ctx["sha"])

    def test_eof_delimited_stream(self):
        rc, out, err = curl("-D", "-", "-o", str(self.out), ctx["stream"].url("eof/f.bin"))
        self.assertEqual(rc, 0, err)
        self.assertNotIn("content-length", out.lower())
        self.assertNotIn("transfer-encoding", out.lower())
        self.assertEqual(servers.sha256_file(self.out), ctx["sha"])

    def test_access_log_records_ranges(self):
        self.fetch(self.ng.url("f.bin"), "-r", "0-9", "-H", "User-Agent: harness-range")
        lines = [l for l in self.ng.access_log_lines() if "harness-range" in l]
        self.assertTrue(lines and '"bytes=0-9"' in lines[-1] and " 206 " in lines[-1], lines)


@unittest.skipUnless(shutil.which("tinyproxy"), "tinyproxy not installed")
class TinyproxyConnect(unittest.TestCase):
    def test_connect_is_logged(self):
        ng, ca = ctx["nginx"], ctx["ca"]
        with servers.Tinyproxy() as tp:
            rc, out, err = curl("-o", "/dev/null", "-w", "%{http_code}", "-x", tp.url,
                                "--cacert", ca.ca_cert, ng.tls_url("f.bin"))
            self.assertEqual((rc, out), (0, "200"), err)
            self.assertIn(f"CONNECT 127.0.0.1:{ng.tls_port}", tp.log_text())


class FaultProxyModes(unittest.TestCase):
    def setUp(self):
        self.ng = ctx["nginx"]

    def get(self, port, read_timeout=5.0):
        """One raw GET /f.bin; returns (body bytes received, how it ended)."""
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.settimeout(read_timeout)
        s.sendall(b"GET /f.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        n = 0
        try:
            while True:
                b = s.recv(1 << 16)
                if not b:
                    return n, "eof"
                n += len(b)
        except ConnectionResetError:
            return n, "reset"
        except socket.timeout:
            return n, "silent"
        finally:
            s.close()

    def test_passthrough_is_exact(self):
        with FaultProxy("127.0.0.1", self.ng.port) as fp:
            out = ctx["tmp"] / "fp.bin"
            rc, _, err = curl("-o", str(out), f"http://127.0.0.1:{fp.port}/f.bin")
            self.assertEqual(rc, 0, err)
            self.assertEqual(servers.sha256_file(out), ctx["sha"])
            self.assertEqual(fp.connections, 1)

    def test_reset_every_second_connection(self):
        with FaultProxy("127.0.0.1", self.ng.port, reset_after=1 << 20, reset_every=2) as fp:
            ends = [self.get(fp.port)[1] for _ in range(4)]
            self.assertEqual(ends, ["eof", "reset", "eof", "reset"])
            self.assertEqual((fp.connections, fp.resets), (4, 2))

    def test_stall_keeps_connection_silent(self):
        with FaultProxy("127.0.0.1", self.ng.port, stall_after=1 << 20) as fp:
            n, end = self.get(fp.port, read_timeout=1.0)
            self.assertEqual(end, "silent")
            self.assertLessEqual(n, 1 << 20)
            self.assertEqual(fp.stalls, 1)

    def test_latency_before_first_byte(self):
        with FaultProxy("127.0.0.1", self.ng.port, latency_ms=400) as fp:
            rc, out, err = curl("-o", "/dev/null", "-w", "%{time_starttransfer}",
                                f"http://127.0.0.1:{fp.port}/f.bin")
            self.assertEqual(rc, 0, err)
            self.assertGreaterEqual(float(out), 0.38)

    def test_rate_cap(self):
        with FaultProxy("127.0.0.1", self.ng.port, rate=4 << 20) as fp:
            t0 = time.monotonic()
            rc, _, err = curl("-o", "/dev/null", f"http://127.0.0.1:{fp.port}/f.bin")
            took = time.monotonic() - t0
            self.assertEqual(rc, 0, err)
            # 6 MiB at 4 MiB/s: about 1.5 s; a loose lower bound only (no timing upper bound).
            self.assertGreater(took, 1.2)

    def test_cli_mode(self):
        proc = subprocess.Popen([sys.executable, str(Path(servers.__file__).with_name(
            "fault_proxy.py")), "--upstream", f"127.0.0.1:{self.ng.port}"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            line = proc.stdout.readline()
            self.assertTrue(line.startswith("listening on "), line)
            port = int(line.split()[-1])
            out = ctx["tmp"] / "cli.bin"
            rc, _, err = curl("-o", str(out), f"http://127.0.0.1:{port}/f.bin")
            self.assertEqual(rc, 0, err)
            self.assertEqual(servers.sha256_file(out), ctx["sha"])
        finally:
            proc.terminate()
            proc.wait(10)
            proc.stdout.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
