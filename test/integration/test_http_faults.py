"""Downloads through the fault proxy (test/support/fault_proxy.py) in front of nginx: connection
resets mid-part, stalls longer than --read-timeout, a slow link, a file replaced on the server
mid-download, kill -9 and resume, a deadline. Output is always hash-compared with the source."""

import json
import os
import signal
import sys
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
import servers  # noqa: E402
from fault_proxy import FaultProxy  # noqa: E402
from tool_case import ToolTestCase  # noqa: E402

servers.require_programs("nginx", "openssl")

MiB = 1 << 20
SIZE = 48 * MiB + 4321
ctx = {}


def setUpModule():
    tmp, root = servers.module_tmp(ctx, "mrsi-faults-")
    ctx["root"] = root
    ctx["sha"] = servers.write_random_file(root / "model.bin", SIZE)
    ctx["nginx"] = servers.Nginx(root).__enter__()


def tearDownModule():
    servers.stop_module(ctx, "nginx")


def wait_until(predicate, timeout, what):
    """Polls predicate every 20 ms; raises AssertionError naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class Faults(ToolTestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = ctx["tmp"]
        super().setUpClass()
        cls.ng = ctx["nginx"]

    def proxy(self, **faults):
        fp = FaultProxy("127.0.0.1", self.ng.port, **faults).start()
        self.addCleanup(fp.stop)
        return fp

    def url(self, fp, name="model.bin"):
        return f"http://127.0.0.1:{fp.port}/{name}"

    def test_reset_mid_part_on_every_other_connection(self):
        fp = self.proxy(reset_after=3 * MiB // 2, reset_every=2)
        dest = self.new_dest()
        res = self.run_tool(["--part-size", "4M", "-c", "4", "--retries", "10",
                             self.url(fp), dest], timeout=180)
        summary = self.assert_ok(res, files=1, nbytes=SIZE)
        self.assert_same_file(dest / "model.bin", ctx["sha"], res)
        self.assertGreater(fp.resets, 0, "the proxy never reset a connection")
        self.assertGreater(summary["retries"], 0, res.describe())

    def test_reset_on_every_connection_still_finishes(self):
        # Every connection dies after 3 MiB, so no 16 MiB part ever arrives in one piece: each
        # retry must continue from the bytes already written (part 0 included), and attempts that
        # moved megabytes must not use up --retries.
        fp = self.proxy(reset_after=3 * MiB, reset_every=1)
        dest = self.new_dest()
        res = self.run_tool(["--part-size", "16M", "-c", "4", "--retries", "3",
                             self.url(fp), dest], timeout=180)
        summary = self.assert_ok(res, files=1, nbytes=SIZE)
        self.assert_same_file(dest / "model.bin", ctx["sha"], res)
        self.assertGreaterEqual(summary["retries"], SIZE // (3 * MiB) - 4, res.describe())

    def test_stall_longer_than_read_timeout(self):
        fp = self.proxy(stall_after=MiB, stall_every=3)
        dest = self.new_dest()
        t0 = time.monotonic()
        res = self.run_tool(["--part-size", "4M", "-c", "4", "--retries", "10",
                             "--read-timeout", "2", self.url(fp), dest], timeout=240)
        summary = self.assert_ok(res, files=1, nbytes=SIZE)
        self.assert_same_file(dest / "model.bin", ctx["sha"], res)
        self.assertGreater(fp.stalls, 0, "the proxy never stalled")
        self.assertGreater(summary["retries"], 0, res.describe())
        self.assertLess(time.monotonic() - t0, 200)

    def test_stall_on_every_connection_gives_up(self):
        fp = self.proxy(stall_after=64 * 1024)
        res = self.run_tool(["--retries", "2", "--read-timeout", "1", self.url(fp),
                             self.new_dest()], timeout=120)
        self.assert_fails(res, 4)
        self.assertRegex(res.last_line.lower(), r"time.?out|timed out|idle|no data|stall")

    def test_slow_link_with_latency(self):
        fp = self.proxy(rate=16 * MiB, latency_ms=100)
        dest = self.new_dest()
        res = self.run_tool(["-c", "4", "--part-size", "8M", self.url(fp), dest], timeout=180)
        self.assert_ok(res, files=1, nbytes=SIZE)
        self.assert_same_file(dest / "model.bin", ctx["sha"], res)

    def test_file_replaced_mid_download(self):
        # The server's file is replaced (same size, new content and mtime, so a new ETag) while
        # the download runs through a slow link. Acceptable outcomes: exit 6 (integrity), or
        # exit 0 with exactly one version; never a mix of both.
        root = ctx["root"]
        name = "changing.bin"
        old_sha = servers.write_random_file(root / name, SIZE)
        st = os.stat(root / name)
        os.utime(root / name, (st.st_atime - 100, st.st_mtime - 100))
        staged = root / ".changing.new"
        new_sha = servers.write_random_file(staged, SIZE)
        self.addCleanup(lambda: (root / name).unlink(missing_ok=True))
        self.addCleanup(lambda: staged.unlink(missing_ok=True))

        fp = self.proxy(rate=12 * MiB)
        dest = self.new_dest()
        proc = servers.start_tool(["--part-size", "4M", "-c", "4", "--retries", "5",
                                   self.url(fp, name), dest])
        try:
            wait_until(lambda: fp.bytes_down >= 8 * MiB or proc.poll() is not None, 60,
                       "8 MiB through the proxy")
            self.assertIsNone(proc.poll(), "finished before the file could be replaced")
            os.replace(staged, root / name)
            fp.rate = None
            out, err = proc.communicate(timeout=180)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate(timeout=30)
        res = servers.ToolResult(proc.returncode, out, err, 0.0)
        print(f"\n  file replaced mid-download: exit {res.rc}: {res.last_line}", file=sys.stderr)
        self.assertIn(res.rc, (0, 6), res.describe())
        target = dest / name
        if res.rc == 0:
            self.assert_ok(res, files=1, nbytes=SIZE)
            self.assertTrue(target.is_file(), res.describe())
        if target.exists():
            got = servers.sha256_file(target)
            self.assertIn(got, (old_sha, new_sha),
                          f"output mixes the old and new versions (exit {res.rc})")
        if res.rc == 6:
            self.assertRegex(res.last_line.lower(), r"chang|modif|etag|mismatch|integrity")

    def test_resume_after_kill_9(self):
        # A rate-limited first run is killed with SIGKILL after ~60% of the bytes went through;
        # the second run must finish and download clearly less than the whole file.
        fp = self.proxy(rate=12 * MiB)
        dest = self.new_dest()
        stats = Path(self.tmp) / "resume-stats.json"
        args = ["--part-size", "2M", "-c", "2", self.url(fp), dest]
        proc = servers.start_tool(args)
        try:
            wait_until(lambda: fp.bytes_down >= SIZE * 6 // 10 or proc.poll() is not None, 60,
                       "60% of the file through the proxy")
            self.assertIsNone(proc.poll(), "first run finished before it could be killed")
            os.killpg(proc.pid, signal.SIGKILL)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, -signal.SIGKILL)
        fp.rate = None
        before = fp.bytes_down
        res = self.run_tool(["--stats-json", stats, *args], timeout=180)
        self.assert_ok(res, files=1, nbytes=SIZE)
        self.assert_same_file(dest / "model.bin", ctx["sha"], res)
        data = json.loads(stats.read_text())
        print(f"\n  resume: second run downloaded {data['bytes_downloaded']} of {SIZE} bytes",
              file=sys.stderr)
        self.assertLess(data["bytes_downloaded"], SIZE * 7 // 10,
                        f"resume downloaded {data['bytes_downloaded']} of {SIZE} bytes: {data}")
        # The proxy agrees: the second run moved well under the file size.
        self.assertLess(fp.bytes_down - before, SIZE * 7 // 10)

    def test_deadline_stops_a_slow_download(self):
        fp = self.proxy(rate=2 * MiB)
        t0 = time.monotonic()
        res = self.run_tool(["--deadline", "3", self.url(fp), self.new_dest()], timeout=60)
        took = time.monotonic() - t0
        self.assertNotIn(res.rc, (0, 1), res.describe())
        self.assertEqual(res.rc, 4, res.describe())
        self.assertIn("deadline", res.last_line.lower(), res.describe())
        self.assertLess(took, 30, "the deadline was not enforced promptly")


if __name__ == "__main__":
    unittest.main(verbosity=2)
