"""A single archive downloaded over http(s) is unpacked into DEST and removed (KServe parity):
tar.gz, zip and plain tar trees land byte for byte; an archive whose entries would escape DEST is
refused with nothing written outside it; a corrupt archive fails without a partial tree."""

import io
import os
import sys
import tarfile
import unittest
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
import servers  # noqa: E402
from tool_case import ToolTestCase  # noqa: E402

servers.require_programs("nginx", "openssl")

ctx = {}

TREE = {
    "config.json": b'{"model_type": "demo"}\n',
    "weights/part-0.bin": os.urandom(300_000),
    "weights/part-1.bin": os.urandom(70_001),
    "empty.txt": b"",
    "tokenizer/vocab.txt": "naïve café\n".encode(),
}


def setUpModule():
    tmp, root = servers.module_tmp(ctx, "mrsi-archive-")
    for mode, name in (("w:gz", "model.tar.gz"), ("w", "model.tar"), ("w:xz", "model.tar.xz")):
        with tarfile.open(root / name, mode) as t:
            for rel, data in TREE.items():
                info = tarfile.TarInfo(rel)
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
    with zipfile.ZipFile(root / "model.zip", "w", zipfile.ZIP_DEFLATED) as z:
        for rel, data in TREE.items():
            z.writestr(rel, data)
    with tarfile.open(root / "evil.tar.gz", "w:gz") as t:
        for rel, data in (("ok.txt", b"fine"), ("../escaped.txt", b"owned")):
            info = tarfile.TarInfo(rel)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    good = (root / "model.tar.gz").read_bytes()
    (root / "broken.tar.gz").write_bytes(good[: len(good) // 2])
    ctx["root"] = root
    ctx["nginx"] = servers.Nginx(root).__enter__()


def tearDownModule():
    servers.stop_module(ctx, "nginx")


class Archives(ToolTestCase):
    def assert_tree(self, dest, res):
        self.assertEqual(sorted(self.user_files(dest)), sorted(TREE), res.describe())
        for rel, data in TREE.items():
            self.assertEqual((Path(dest) / rel).read_bytes(), data, f"{rel} differs\n" + res.describe())

    def test_archives_are_unpacked_and_removed(self):
        for name in ("model.tar.gz", "model.tar", "model.tar.xz", "model.zip"):
            with self.subTest(name=name):
                dest = self.new_dest()
                res = self.run_tool([ctx["nginx"].url(name), str(dest)], timeout=60)
                self.assert_ok(res, files=1)
                self.assertFalse((dest / name).exists(), "the archive must be removed after extraction")
                self.assert_tree(dest, res)

    def test_entry_escaping_dest_is_refused(self):
        parent = self.new_dest()
        dest = parent / "inner"
        res = self.run_tool([ctx["nginx"].url("evil.tar.gz"), str(dest)], timeout=60)
        self.assert_fails(res, 3, "../escaped.txt")
        self.assertFalse((parent / "escaped.txt").exists(), "an entry was written outside DEST")
        self.assertFalse((dest / "ok.txt").exists(), "a refused archive must not leave a partial tree")

    def test_truncated_archive_fails_without_partial_tree(self):
        dest = self.new_dest()
        res = self.run_tool([ctx["nginx"].url("broken.tar.gz"), str(dest)], timeout=60)
        self.assert_fails(res, 6, "broken.tar.gz")
        self.assertEqual([f for f in self.user_files(dest) if f != "broken.tar.gz"], [], res.describe())


if __name__ == "__main__":
    unittest.main(verbosity=2)
