"""unittest base class for tests that run the binary: a per-test destination directory, runs
with bounded time, and assertions that print the tool's stderr when they fail."""

import os
import re
import shutil
import tempfile
import unittest
from pathlib import Path

import servers

SUMMARY_RE = re.compile(r"summary: files=(\d+) bytes=(\d+) seconds=([0-9.]+) MB/s=([0-9.]+) "
                        r"retries=(\d+) skipped=(\d+)\s*$")


class ToolTestCase(unittest.TestCase):
    """Subclasses may set `tmp` (a Path) at class level; otherwise one is made per class."""

    tmp = None
    _own_tmp = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        servers.tool_path()  # fail early and clearly when the binary is missing
        if cls.tmp is None:
            cls._own_tmp = Path(tempfile.mkdtemp(prefix="mrsi-it-"))
            cls.tmp = cls._own_tmp

    @classmethod
    def tearDownClass(cls):
        if cls._own_tmp is not None:
            shutil.rmtree(cls._own_tmp, ignore_errors=True)
            cls.tmp = cls._own_tmp = None
        super().tearDownClass()

    def new_dest(self, name=None):
        """A fresh, empty directory (not created on disk: the tool must create DEST)."""
        base = Path(self.tmp) / "dest"
        base.mkdir(parents=True, exist_ok=True)
        d = Path(tempfile.mkdtemp(prefix=(name or self._testMethodName) + "-", dir=base))
        d.rmdir()
        self.addCleanup(shutil.rmtree, d, True)
        return d

    def run_tool(self, args, env=None, timeout=180, **kw):
        return servers.run_tool(args, env=env, timeout=timeout, **kw)

    def assert_ok(self, res, files=None, nbytes=None):
        """Exit 0 and a well-formed final summary line; returns its fields as a dict of numbers."""
        self.assertEqual(res.rc, 0, res.describe())
        m = SUMMARY_RE.search(res.last_line)
        self.assertIsNotNone(m, "the last stderr line is not the summary line\n" + res.describe())
        fields = dict(zip(("files", "bytes", "seconds", "mbps", "retries", "skipped"),
                          (int(m[1]), int(m[2]), float(m[3]), float(m[4]), int(m[5]),
                           int(m[6]))))
        if files is not None:
            self.assertEqual(fields["files"], files, res.describe())
        if nbytes is not None:
            self.assertEqual(fields["bytes"], nbytes, res.describe())
        return fields

    def assert_fails(self, res, rc, *words):
        """Exit code `rc` (an int or a tuple of allowed codes) and a last stderr line containing
        each of `words` (case-insensitive)."""
        allowed = rc if isinstance(rc, tuple) else (rc,)
        self.assertIn(res.rc, allowed, res.describe())
        last = res.last_line.lower()
        for w in words:
            self.assertIn(w.lower(), last, f"last stderr line lacks {w!r}\n" + res.describe())

    def assert_same_file(self, path, sha, res=None):
        self.assertTrue(Path(path).is_file(), f"{path} missing\n" + (res.describe() if res else ""))
        self.assertEqual(servers.sha256_file(path), sha, f"{path} differs from the source")

    def user_files(self, dest):
        """Files under dest, relative, excluding the tool's own state directory."""
        dest = Path(dest)
        out = []
        for p in dest.rglob("*"):
            rel = p.relative_to(dest)
            if rel.parts and rel.parts[0] == ".mr-storage-initializer":
                continue
            if p.is_file():
                out.append(str(rel))
        return sorted(out)
