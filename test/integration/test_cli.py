"""The command-line contract: usage and exit codes for bad input, --help/--version, --stats-json,
--log-format json, unwritable destinations and a full disk (exit 5)."""

import json
import os
import re
import shutil
import subprocess
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
import servers  # noqa: E402
from tool_case import ToolTestCase  # noqa: E402

servers.require_programs("nginx")

MiB = 1 << 20
ctx = {}


def setUpModule():
    tmp, root = servers.module_tmp(ctx, "mrsi-cli-")
    ctx["small_sha"] = servers.write_random_file(root / "small.bin", 5000)
    ctx["big_sha"] = servers.write_random_file(root / "big.bin", 24 * MiB)
    ctx["nginx"] = servers.Nginx(root).__enter__()


def tearDownModule():
    servers.stop_module(ctx, "nginx")


def try_mount_tmpfs(path, options):
    """Mounts a tmpfs at path; returns False when this environment does not permit it."""
    if not shutil.which("mount") or os.geteuid() != 0:
        return False
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                       capture_output=True, timeout=30)
    return r.returncode == 0


def umount(path):
    subprocess.run(["umount", "-l", str(path)], capture_output=True, timeout=30)


class Cli(ToolTestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = ctx["tmp"]
        super().setUpClass()
        cls.ng = ctx["nginx"]

    # ---- usage ---------------------------------------------------------------------------
    def test_help_and_version(self):
        res = self.run_tool(["--help"], timeout=30)
        self.assertEqual(res.rc, 0, res.describe())
        text = res.stdout + res.stderr
        self.assertRegex(text.lower(), r"usage")
        for flag in ("--connections", "--part-size", "--read-timeout", "--retries", "--ca-bundle",
                     "--stats-json", "--log-format"):
            self.assertIn(flag, text)
        res = self.run_tool(["--version"], timeout=30)
        self.assertEqual(res.rc, 0, res.describe())
        self.assertRegex(res.stdout + res.stderr, r"\d+\.\d+\.\d+")

    def test_wrong_argument_count_prints_usage(self):
        dest = self.new_dest()
        for args in ([], [self.ng.url("small.bin")],
                     [self.ng.url("small.bin"), str(dest), self.ng.url("small.bin")]):
            with self.subTest(args=args):
                res = self.run_tool(args, timeout=30)
                self.assertEqual(res.rc, 2, res.describe())
                self.assertIn("usage", res.stderr.lower(), res.describe())
        self.assertFalse(dest.exists(), "a usage error must not touch DEST")

    def test_malformed_uri_exits_2(self):
        for uri in ("http://", "http://[::1/x.bin", "http://exa mple.com/x.bin",
                    "http://127.0.0.1:99999/x.bin"):
            with self.subTest(uri=uri):
                res = self.run_tool([uri, self.new_dest()], timeout=30)
                self.assert_fails(res, 2)

    def test_unsupported_scheme_exits_2_naming_it(self):
        for uri, scheme in (("ftp://127.0.0.1/x.bin", "ftp"), ("gopher://host/x", "gopher")):
            with self.subTest(uri=uri):
                res = self.run_tool([uri, self.new_dest()], timeout=30)
                self.assert_fails(res, 2, scheme)

    def test_bad_option_values_exit_2(self):
        url = self.ng.url("small.bin")
        for opts in (["--part-size", "lots"], ["--connections", "0"], ["--log-format", "xml"],
                     ["--progress", "sometimes"], ["--no-such-flag"]):
            with self.subTest(opts=opts):
                res = self.run_tool([*opts, url, self.new_dest()], timeout=30)
                self.assertEqual(res.rc, 2, res.describe())

    # ---- outputs -------------------------------------------------------------------------
    def test_stats_json(self):
        dest = self.new_dest()
        stats = Path(self.tmp) / "stats.json"
        res = self.run_tool(["--stats-json", stats, "--progress", "off",
                             self.ng.url("big.bin"), dest, self.ng.url("small.bin"), dest])
        self.assert_ok(res, files=2, nbytes=24 * MiB + 5000)
        data = json.loads(stats.read_text())
        self.assertEqual(data["files"], 2)
        self.assertEqual(data["bytes"], 24 * MiB + 5000)
        self.assertEqual(data["bytes_downloaded"], 24 * MiB + 5000)
        self.assertEqual(data["retries"], 0)
        self.assertGreater(data["wall_seconds"], 0)
        self.assert_same_file(dest / "big.bin", ctx["big_sha"])
        self.assert_same_file(dest / "small.bin", ctx["small_sha"])

    def test_progress_off_writes_no_carriage_returns(self):
        res = self.run_tool(["--progress", "off", self.ng.url("big.bin"), self.new_dest()])
        self.assert_ok(res, files=1)
        self.assertNotIn("\r", res.stderr)

    def test_log_format_json(self):
        # Every stderr line is a JSON object, the summary and the failure cause included.
        res = self.run_tool(["--log-format", "json", "--progress", "off",
                             self.ng.url("small.bin"), self.new_dest()])
        self.assertEqual(res.rc, 0, res.describe())
        lines = [l for l in res.stderr.splitlines() if l.strip()]
        self.assertTrue(lines, "no log lines")
        for l in lines:
            self.assertIsInstance(json.loads(l), dict, l)
        self.assertIn("summary", lines[-1])
        res = self.run_tool(["--log-format", "json", "--progress", "off",
                             self.ng.url("nope.bin"), self.new_dest()])
        self.assertEqual(res.rc, 3, res.describe())
        last = json.loads(res.last_line)
        self.assertIn("404", json.dumps(last))

    # ---- local I/O -------------------------------------------------------------------------
    def test_dest_below_a_regular_file_exits_5(self):
        blocker = Path(self.tmp) / "a-file"
        blocker.write_text("not a directory")
        res = self.run_tool([self.ng.url("small.bin"), blocker / "sub"], timeout=60)
        self.assert_fails(res, 5)

    def test_read_only_dest_exits_5(self):
        d = self.new_dest()
        d.mkdir()
        if os.geteuid() == 0:
            if not try_mount_tmpfs(d, "ro,size=1m"):
                self.skipTest("cannot mount a read-only tmpfs here")
            self.addCleanup(umount, d)
        else:
            d.chmod(0o555)
            self.addCleanup(d.chmod, 0o755)
        res = self.run_tool([self.ng.url("small.bin"), d], timeout=60)
        self.assert_fails(res, 5)

    def test_disk_full_exits_5(self):
        d = self.new_dest()
        d.mkdir()
        if not try_mount_tmpfs(d, "size=8m"):
            self.skipTest("cannot mount a small tmpfs here (needs root and mount permission)")
        self.addCleanup(umount, d)
        res = self.run_tool(["--retries", "2", self.ng.url("big.bin"), d], timeout=120)
        self.assert_fails(res, 5)
        self.assertRegex(res.last_line.lower(), r"no space|space left|disk full|enospc")


if __name__ == "__main__":
    unittest.main(verbosity=2)
