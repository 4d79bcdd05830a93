#!/usr/bin/env python3
"""Side-by-side download benchmark: mr-storage-initializer against curl, aria2c, wget, rclone,
aws s3 cp/sync and s3cmd, on servers this script starts on 127.0.0.1 (nginx plain and TLS,
s3rver, fault and latency proxies, a tbf-shaped link in a private network namespace).

    python3 test/bench/run.py [--quick] [--scenarios 1,1d,2,...] [--repeats N]
                              [--tools ours,curl,...] [--out docs/benchmarks.md] [--check]

Every tool runs in alternation (round 1: ours, each peer; round 2: ...). Each run is measured with
wait4() on the child (wall, user+sys CPU, peak RSS), its bytes are checked by sha256 against what
was generated, and the destination is removed before the next run. The report (Markdown) and the
gnuplot charts (PNG, in a `bench/` folder next to the report) are written at the end.

`--check` (for CI, with `--quick`): exit 1 when a run exited 0 but left wrong or missing bytes, or
when any run failed outside the faulty-link scenario. Timings are never asserted.
Python 3.11 standard library only; see docs/benchmarks.md.
"""

import argparse
import datetime
import hashlib
import json
import os
import platform
import random
import re
import resource
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field, asdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "test" / "support"))

import servers  # noqa: E402  (test/support)
import fault_proxy  # noqa: E402

KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30
SKIP = 77
S3_KEY, S3_SECRET, S3_BUCKET, S3_REGION = "S3RVER", "S3RVER", "models", "us-east-1"
STATE_DIR = ".mr-storage-initializer"  # our tool's hidden state folder in DEST (not a data file)

# ---- settings ---------------------------------------------------------------------------------

FULL = dict(
    big_size=2 * GiB,            # scenarios 1, 1d, 2
    s3_count=8, s3_size=256 * MiB,  # scenario 3
    small_count=2000, small_size=16 * KiB,  # scenarios 4, 5
    latency_ms=20,               # scenario 5, added to every request (and to every new connection)
    shaped_size=128 * MiB, shaped_rate="200mbit",  # scenario 6
    fault_size=128 * MiB, fault_min=4 * MiB, fault_max=12 * MiB,  # scenario 7
    curl_retries=20,             # curl restarts from byte 0 on every retry: it cannot finish s7
    repeats=3,
    timeout=240,                 # seconds per run before it is killed and recorded as failed
    slow_after=15,               # a tool whose first run of a scenario took longer runs once
    scenarios="1,1d,2,3,4,5,6,7",
    tools="ours,curl,aria2c,wget,rclone,aws-cp,aws-sync,s3cmd",
)
QUICK = dict(
    big_size=48 * MiB,
    s3_count=4, s3_size=8 * MiB,
    small_count=60, small_size=16 * KiB,
    latency_ms=20,
    shaped_size=8 * MiB, shaped_rate="200mbit",
    fault_size=24 * MiB, fault_min=4 * MiB, fault_max=12 * MiB,
    curl_retries=3,
    repeats=1,
    timeout=60,
    slow_after=25,
    scenarios="1,2,3,4,5,6,7",
    tools="ours,curl,aria2c,rclone",
)

SCENARIOS = {
    "1": "one {big} file over HTTP (nginx), to /dev/shm",
    "1d": "one {big} file over HTTP (nginx), to disk ({diskfs} on {diskdev})",
    "2": "one {big} file over HTTPS (nginx, TLS 1.3, test CA), to /dev/shm",
    "3": "{s3_count} x {s3_size} from S3 (s3rver), to /dev/shm",
    "4": "{small_count} x {small_size} from S3 (s3rver), to /dev/shm",
    "5": "scenario 4 with {latency_ms} ms added to every request by a latency proxy",
    "6": "one {shaped} file over HTTP through a {rate} tbf-shaped link (private network namespace)",
    "7": "one {fault} file over HTTP through a faulty link (each connection reset after "
         "{fmin}-{fmax})",
}
HTTP_SCENARIOS = {"1", "1d", "2", "6", "7"}
S3_SCENARIOS = {"3", "4", "5"}
# Peers left out of a scenario by default to keep the full run under 20 minutes (--tools
# overrides): the disk variant runs the reference pair only, aws s3 sync only where per-file cost
# is the question.
DEFAULT_SCENARIO_TOOLS = {
    "1d": ["ours", "curl", "aria2c"],
    "3": ["ours", "rclone", "aws-cp", "s3cmd"],
    "5": ["ours", "rclone", "aws-cp", "s3cmd"],
}
FAULT_SCENARIOS = {"7"}  # failures are an expected outcome here, not a harness error

HTTP_TOOLS = ["ours", "curl", "aria2c", "wget", "rclone"]
S3_TOOLS = ["ours", "rclone", "aws-cp", "aws-sync", "s3cmd"]
FLAT_TOOLS = {"s3cmd"}  # lands S3 objects flat in DEST (see s3_command)
PEER_PROGRAM = {"curl": "curl", "aria2c": "aria2c", "wget": "wget", "rclone": "rclone",
                "aws-cp": "/usr/bin/aws", "aws-sync": "/usr/bin/aws", "s3cmd": "s3cmd"}


def human(n):
    for unit, size in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    for unit, size in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


def parse_size(text):
    m = re.fullmatch(r"(\d+)([KMG]?)", text.strip().upper())
    if not m:
        raise argparse.ArgumentTypeError(f"bad size {text!r} (use e.g. 512M, 2G)")
    return int(m.group(1)) * {"": 1, "K": KiB, "M": MiB, "G": GiB}[m.group(2)]


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---- data -------------------------------------------------------------------------------------

class Stream:
    """Incompressible pseudo-random bytes from `openssl enc -aes-128-ctr` (about 0.8 GB/s, far
    faster than /dev/urandom here); os.urandom when openssl is missing."""

    def __init__(self, seed):
        key = hashlib.sha256(seed.encode()).hexdigest()
        self.proc = None
        if shutil.which("openssl"):
            self.proc = subprocess.Popen(
                ["openssl", "enc", "-aes-128-ctr", "-K", key[:32], "-iv", key[32:64],
                 "-in", "/dev/zero"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def read(self, n):
        if self.proc is None:
            return os.urandom(n)
        out = bytearray()
        while len(out) < n:
            chunk = self.proc.stdout.read(n - len(out))
            if not chunk:
                raise RuntimeError("openssl random stream ended")
            out += chunk
        return bytes(out)

    def close(self):
        if self.proc:
            self.proc.kill()
            self.proc.wait()


def write_stream_file(path, size, stream, md5=False):
    """Writes `size` bytes of `stream` to path; returns (sha256 hex, md5 hex or None)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sh = hashlib.sha256()
    mh = hashlib.md5() if md5 else None
    left = size
    with open(path, "wb") as f:
        while left:
            block = stream.read(min(left, 8 * MiB))
            sh.update(block)
            if mh:
                mh.update(block)
            f.write(block)
            left -= len(block)
    return sh.hexdigest(), (mh.hexdigest() if mh else None)


def put_s3rver_object(store, bucket, key, size, stream):
    """Writes an object straight into s3rver's filesystem store (its own layout:
    KEY._S3rver_object, .md5 and metadata.json), far faster than uploading 2000 objects."""
    base = store / bucket / key
    obj = base.parent / f"{base.name}._S3rver_object"
    sha, md5 = write_stream_file(obj, size, stream, md5=True)
    Path(f"{obj}.md5").write_text(md5)
    (base.parent / f"{base.name}._S3rver_metadata.json").write_text(
        json.dumps({"content-type": "application/octet-stream"}))
    return sha


def generate_data(data_dir, cfg, scenarios):
    """Generates what the chosen scenarios need under data_dir (reused when the manifest says it
    was generated with the same sizes). Returns the manifest: {set: {relpath: sha256}}."""
    want = {}
    if scenarios & {"1", "1d", "2"}:
        want["big"] = cfg["big_size"]
    if "6" in scenarios:
        want["shaped"] = cfg["shaped_size"]
    if "7" in scenarios:
        want["fault"] = cfg["fault_size"]
    if "3" in scenarios:
        want["large"] = [cfg["s3_count"], cfg["s3_size"]]
    if scenarios & {"4", "5"}:
        want["small"] = [cfg["small_count"], cfg["small_size"]]
    mpath = data_dir / "manifest.json"
    manifest = json.loads(mpath.read_text()) if mpath.exists() else {"sizes": {}, "sets": {}}
    t0 = time.monotonic()
    for name, spec in want.items():
        if manifest["sizes"].get(name) == spec and name in manifest["sets"]:
            continue
        log(f"generating data set '{name}' ({spec})")
        stream = Stream(f"mrsi-bench-{name}")
        try:
            if name in ("big", "shaped", "fault"):
                sha, _ = write_stream_file(data_dir / "http" / f"{name}.bin", spec, stream)
                manifest["sets"][name] = {f"{name}.bin": sha}
            else:
                count, size = spec
                prefix = data_dir / "s3" / S3_BUCKET / name
                shutil.rmtree(prefix, ignore_errors=True)
                files = {}
                for i in range(count):
                    # Sub-folders in the small set, as in a real model tree.
                    rel = f"part-{i:03d}.bin" if name == "large" else f"d{i % 10}/f{i:05d}.bin"
                    files[rel] = put_s3rver_object(data_dir / "s3", S3_BUCKET,
                                                   f"{name}/{rel}", size, stream)
                manifest["sets"][name] = files
        finally:
            stream.close()
        manifest["sizes"][name] = spec
        mpath.write_text(json.dumps(manifest))
    if time.monotonic() - t0 > 1:
        log(f"data ready in {time.monotonic() - t0:.1f} s")
    return manifest["sets"]


def warm_cache(paths):
    """Reads the source files once so every tool is served from the page cache."""
    for p in paths:
        with open(p, "rb") as f:
            while f.read(16 * MiB):
                pass


def verify_tree(dest, expected):
    """Checks that every expected file is under dest with its sha256. Returns (ok, note)."""
    missing, wrong = [], []
    for rel, sha in expected.items():
        p = dest / rel
        if not p.is_file():
            missing.append(rel)
        elif servers.sha256_file(p, 8 * MiB) != sha:
            wrong.append(rel)
    extra = []
    if dest.is_dir():
        for dirpath, dirnames, filenames in os.walk(dest):
            if STATE_DIR in dirnames:
                dirnames.remove(STATE_DIR)
            for fn in filenames:
                rel = os.path.relpath(os.path.join(dirpath, fn), dest)
                if rel not in expected:
                    extra.append(rel)
    notes = []
    if missing:
        notes.append(f"{len(missing)} file(s) missing (e.g. {missing[0]})")
    if wrong:
        notes.append(f"{len(wrong)} file(s) with wrong sha256 (e.g. {wrong[0]})")
    if extra:
        notes.append(f"{len(extra)} unexpected file(s) left (e.g. {extra[0]})")
    return not missing and not wrong, "; ".join(notes)


# ---- measuring one run ------------------------------------------------------------------------

def proc_tree_cpu(pid):
    """user+sys CPU seconds of pid and all its descendants (from /proc), 0 when gone."""
    tck = os.sysconf("SC_CLK_TCK")
    total, todo, seen = 0, [pid], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            stat = Path(f"/proc/{p}/stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()
            total += int(fields[11]) + int(fields[12])
            for task in Path(f"/proc/{p}/task").iterdir():
                kids = (task / "children").read_text().split()
                todo.extend(int(k) for k in kids)
        except (OSError, ValueError):
            continue
    return total / tck


@dataclass
class Run:
    scenario: str
    tool: str
    round: int
    ok: bool = False
    rc: int = -1
    wall: float = 0.0
    user: float = 0.0
    sys: float = 0.0
    maxrss_kib: int = 0
    bytes: int = 0
    verified: bool = False
    note: str = ""
    server_cpu: float = 0.0
    sync_seconds: float = 0.0
    load1: float = 0.0
    retries: int | None = None
    faults: int | None = None
    connections: int | None = None  # TCP connections the proxy saw (scenarios 5 and 7)
    stats: dict | None = None

    @property
    def cpu(self):
        return self.user + self.sys


TIME = "/usr/bin/time"


def measure(argv, env, timeout, log_dir, label, cwd=None):
    """Runs argv in its own process group and returns (rc, wall, user, sys, maxrss_kib,
    stderr tail, timed_out); the group is killed after `timeout` seconds.

    CPU comes from wait4() on the child. Peak RSS comes from GNU time (`%M`) wrapped around the
    tool: a child forked from this Python process would report our own RSS at fork time as its
    maximum (Linux carries the pre-exec high-water mark across exec), a child of the small
    `time` process does not."""
    out = open(log_dir / f"{label}.out", "wb")
    err_path = log_dir / f"{label}.err"
    err = open(err_path, "wb")
    rss_path = log_dir / f"{label}.rss"
    full = argv
    if os.access(TIME, os.X_OK):
        full = [TIME, "-f", "MRSI_MAXRSS_KIB %M", "-o", str(rss_path), *argv]
    timed_out = threading.Event()
    t0 = time.monotonic()
    try:
        proc = subprocess.Popen(full, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=err, start_new_session=True)
    except OSError as e:
        out.close()
        err.close()
        return 127, 0.0, 0.0, 0.0, 0, str(e), False

    def kill():
        timed_out.set()
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    timer = threading.Timer(timeout, kill)
    timer.start()
    try:
        while True:
            try:
                _, status, ru = os.wait4(proc.pid, 0)
                break
            except InterruptedError:
                continue
    finally:
        timer.cancel()
    wall = time.monotonic() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    out.close()
    err.close()
    try:  # anything the tool left running in its group
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    maxrss = ru.ru_maxrss
    try:
        m = re.search(r"MRSI_MAXRSS_KIB (\d+)", rss_path.read_text())
        if m:
            maxrss = int(m.group(1))
    except OSError:
        pass
    tail = ""
    try:
        lines = [l for l in err_path.read_text(errors="replace").splitlines() if l.strip()]
        if not lines:
            lines = [l for l in (log_dir / f"{label}.out").read_text(errors="replace")
                     .splitlines() if l.strip()]
        tail = lines[-1][:300] if lines else ""
    except OSError:
        pass
    return proc.returncode, wall, ru.ru_utime, ru.ru_stime, maxrss, tail, timed_out.is_set()


# ---- tools ------------------------------------------------------------------------------------

def clean_env(home):
    env = dict(os.environ)
    for k in list(env):
        if k.startswith(("AWS_", "RCLONE_", "S3_", "MRSI_", "STORAGE_")) or \
                k in servers.TLS_ENV_VARS or k in servers.PROXY_ENV_VARS:
            env.pop(k)
    env["HOME"] = str(home)
    env["LC_ALL"] = "C"
    return env


def tool_available(tool, bin_path):
    if tool == "ours":
        return os.access(bin_path, os.X_OK), f"binary not found: {bin_path}"
    prog = PEER_PROGRAM[tool]
    ok = shutil.which(prog) is not None or os.access(prog, os.X_OK)
    return ok, f"{prog} is not installed"


def http_command(tool, ctx, url, dest, name, fault, curl_retries=20):
    """argv and env for downloading url into dest/name with `tool`."""
    env = clean_env(ctx.home)
    ca = ctx.ca if url.startswith("https:") else None
    if tool == "ours":
        argv = [ctx.bin, "--progress", "off", "--stats-json", str(ctx.stats_path)]
        if ca:
            argv += ["--ca-bundle", ca]
        return argv + [url, str(dest)], env
    if tool == "curl":
        argv = ["curl", "-sS", "--fail", "-o", str(dest / name)]
        if ca:
            argv += ["--cacert", ca]
        if fault:
            argv += ["--retry", str(curl_retries), "--retry-all-errors", "--retry-delay", "1",
                     "-C", "-"]
        return argv + [url], env
    if tool == "aria2c":
        argv = ["aria2c", "-x16", "-s16", "-k8M", "--file-allocation=falloc", "-d", str(dest),
                "-o", name, "--console-log-level=warn", "--summary-interval=0",
                "--download-result=hide", "--allow-overwrite=true", "--auto-file-renaming=false"]
        if ca:
            argv += [f"--ca-certificate={ca}"]
        if fault:
            argv += ["--max-tries=100", "--retry-wait=1"]
        return argv + [url], env
    if tool == "wget":
        argv = ["wget", "-q", "-O", str(dest / name)]
        if ca:
            argv += [f"--ca-certificate={ca}"]
        if fault:
            argv += ["--tries=100", "--waitretry=1"]
        return argv + [url], env
    if tool == "rclone":
        base, _, file = url.rpartition("/")
        argv = ["rclone", "copy", "--config", str(ctx.rclone_conf), "-q", "--transfers", "16",
                "--checkers", "16", "--http-url", base + "/"]
        if ca:
            argv += ["--ca-cert", ca]
        if fault:
            argv += ["--low-level-retries", "100", "--retries", "10"]
        return argv + [f":http:{file}", str(dest)], env
    raise KeyError(tool)


def s3_command(tool, ctx, endpoint, prefix, dest, keys):
    """argv and env for copying s3://models/prefix/ (the whole tree, `keys` relative to prefix)
    into dest."""
    env = clean_env(ctx.home)
    creds = {"AWS_ACCESS_KEY_ID": S3_KEY, "AWS_SECRET_ACCESS_KEY": S3_SECRET}
    if tool == "ours":
        env.update(creds, AWS_ENDPOINT_URL=endpoint, AWS_REGION=S3_REGION)
        return [ctx.bin, "--progress", "off", "--stats-json", str(ctx.stats_path),
                f"s3://{S3_BUCKET}/{prefix}", str(dest)], env
    if tool in ("aws-cp", "aws-sync"):
        env.update(creds, AWS_DEFAULT_REGION=S3_REGION, AWS_CONFIG_FILE="/dev/null",
                   AWS_SHARED_CREDENTIALS_FILE="/dev/null", AWS_PAGER="")
        sub = ["cp", "--recursive"] if tool == "aws-cp" else ["sync"]
        return ["/usr/bin/aws", "--endpoint-url", endpoint, "s3", *sub, "--only-show-errors",
                f"s3://{S3_BUCKET}/{prefix}/", str(dest)], env
    if tool == "rclone":
        env.update({"RCLONE_CONFIG_BENCHS3_TYPE": "s3", "RCLONE_CONFIG_BENCHS3_PROVIDER": "Other",
                    "RCLONE_CONFIG_BENCHS3_ENV_AUTH": "false",
                    "RCLONE_CONFIG_BENCHS3_ACCESS_KEY_ID": S3_KEY,
                    "RCLONE_CONFIG_BENCHS3_SECRET_ACCESS_KEY": S3_SECRET,
                    "RCLONE_CONFIG_BENCHS3_ENDPOINT": endpoint,
                    "RCLONE_CONFIG_BENCHS3_REGION": S3_REGION,
                    "RCLONE_CONFIG_BENCHS3_FORCE_PATH_STYLE": "true"})
        return ["rclone", "copy", "--config", str(ctx.rclone_conf), "-q", "--transfers", "16",
                "--checkers", "16", f"benchs3:{S3_BUCKET}/{prefix}", str(dest)], env
    if tool == "s3cmd":
        host = endpoint.split("://", 1)[1]
        cfg = ctx.home / f"s3cmd-{host.replace(':', '_')}.cfg"
        cfg.write_text(f"[default]\naccess_key = {S3_KEY}\nsecret_key = {S3_SECRET}\n"
                       f"host_base = {host}\nhost_bucket = {host}\nbucket_location = {S3_REGION}\n"
                       "use_https = False\nsignature_v2 = False\nprogress_meter = False\n")
        # s3rver verifies the signature of bucket-level requests over "/models" while s3cmd
        # signs "/models/" (403 SignatureDoesNotMatch on every listing), so s3cmd is handed the
        # object URLs instead of `get --recursive` and lands them flat in dest.
        return ["s3cmd", "-c", str(cfg), "--no-progress", "--quiet", "get",
                *[f"s3://{S3_BUCKET}/{prefix}/{k}" for k in keys], str(dest) + "/"], env
    raise KeyError(tool)


# ---- servers and proxies ----------------------------------------------------------------------

class _QuietStop:
    """Cancels and awaits every task still on the proxy's private loop when it stops (else
    asyncio prints 'Task was destroyed but it is pending' for connections open at that time)."""

    async def _stop_async(self):
        import asyncio
        await super()._stop_async()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class RandomResetProxy(_QuietStop, fault_proxy.FaultProxy):
    """FaultProxy whose every connection is reset after a random number of bytes in
    [fault_min, fault_max] (seeded, so each run sees the same sequence)."""

    def __init__(self, *a, fault_min, fault_max, seed=1, **kw):
        super().__init__(*a, **kw)
        self.fault_min, self.fault_max = fault_min, fault_max
        self.rng = random.Random(seed)

    def reseed(self, seed):
        self.rng = random.Random(seed)
        self.connections = self.resets = self.stalls = self.bytes_down = self.bytes_up = 0

    def _plan(self, number):
        return self.rng.randint(self.fault_min, self.fault_max), None


class DelayProxy(_QuietStop, fault_proxy.FaultProxy):
    """FaultProxy that holds every chunk the client sends for `delay_ms` before forwarding it
    (a delay line: each request reaches the server delay_ms later, so every request, not only
    the first on a connection, pays it). FaultProxy's own latency_ms adds the same once per
    connection, like a TCP handshake over a WAN."""

    def __init__(self, *a, delay_ms, **kw):
        super().__init__(*a, **kw)
        self.delay = delay_ms / 1000

    async def _pump_up(self, client_reader, up_writer):
        import asyncio
        loop = asyncio.get_running_loop()
        queue = asyncio.Queue()

        async def sender():
            while True:
                due, data = await queue.get()
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if data is None:
                    if up_writer.can_write_eof():
                        up_writer.write_eof()
                    return
                up_writer.write(data)
                await up_writer.drain()

        task = asyncio.ensure_future(sender())
        try:
            while True:
                data = await client_reader.read(fault_proxy.CHUNK)
                queue.put_nowait((loop.time() + self.delay, data or None))
                if not data:
                    break
                self.bytes_up += len(data)
            await task
        except (OSError, asyncio.CancelledError):
            task.cancel()


class S3rver:
    """@20minutes/s3rver over the store in `directory` (see test/support/s3_server.js)."""

    def __init__(self, directory, workdir):
        self.directory = directory
        self.workdir = workdir
        self.proc = None
        self.port = None

    def __enter__(self):
        launcher = ROOT / "test" / "support" / "s3_server.js"
        errf = open(self.workdir / "s3rver.err", "wb")
        self.proc = subprocess.Popen(
            ["node", "--openssl-legacy-provider", str(launcher), "--dir", str(self.directory),
             "--bucket", S3_BUCKET], stdout=subprocess.PIPE, stderr=errf,
            stdin=subprocess.DEVNULL, start_new_session=True)
        line = b""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self.proc.poll() is None:
            line = self.proc.stdout.readline()
            if line.strip():
                break
        if not line.strip():
            raise RuntimeError("s3rver did not start: " +
                               (self.workdir / "s3rver.err").read_text(errors="replace")[-500:])
        self.port = json.loads(line)["port"]
        servers.wait_for_port(self.port, proc=self.proc)
        return self

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc):
        servers._stop_process(self.proc)


# ---- running a scenario -----------------------------------------------------------------------

@dataclass
class Ctx:
    bin: str
    home: Path
    logs: Path
    stats_path: Path
    rclone_conf: Path
    ca: str | None = None
    expected_bytes: int = 0


def read_stats(path):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def shm_free(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def run_scenario(key, tools, repeats, timeout, slow_after, ctx, dest_root, expected,
                 command_for, server_pids=(), proxy=None, disk=False):
    """Runs every tool `repeats` times in alternation. command_for(tool, dest) -> (argv, env).
    Returns the list of Run records."""
    runs = []
    slow = set()
    total_bytes = ctx.expected_bytes
    for rnd in range(1, repeats + 1):
        for tool in tools:
            if tool in slow:
                continue
            r = Run(scenario=key, tool=tool, round=rnd, bytes=total_bytes)
            dest = dest_root / f"s{key}-{tool}-{rnd}"
            shutil.rmtree(dest, ignore_errors=True)
            dest.mkdir(parents=True)
            free = shm_free(dest)
            if free < total_bytes + 256 * MiB:
                r.note = f"skipped: only {human(free)} free at {dest_root}"
                runs.append(r)
                continue
            if ctx.stats_path.exists():
                ctx.stats_path.unlink()
            if proxy is not None:
                if hasattr(proxy, "reseed"):
                    proxy.reseed(1000 + rnd)
                proxy.connections = 0
            if disk:
                os.sync()
            argv, env = command_for(tool, dest)
            r.load1 = os.getloadavg()[0]
            server0 = sum(proc_tree_cpu(p) for p in server_pids)
            self0 = resource.getrusage(resource.RUSAGE_SELF)
            label = f"s{key}-{tool}-{rnd}"
            (ctx.logs / f"{label}.cmd").write_text(shlex.join(argv) + "\n")
            rc, wall, user, sys_, rss, tail, killed = measure(argv, env, timeout, ctx.logs,
                                                              label)
            self1 = resource.getrusage(resource.RUSAGE_SELF)
            r.server_cpu = sum(proc_tree_cpu(p) for p in server_pids) - server0
            if proxy is not None:  # the proxies run on a thread of this process
                r.server_cpu += (self1.ru_utime - self0.ru_utime) + (self1.ru_stime - self0.ru_stime)
                r.connections = proxy.connections
                if isinstance(proxy, RandomResetProxy):
                    r.faults = proxy.resets
            r.rc, r.wall, r.user, r.sys, r.maxrss_kib = rc, wall, user, sys_, rss
            if disk and rc == 0:
                t0 = time.monotonic()
                subprocess.run(["sync", "-f", str(dest)], check=False)
                r.sync_seconds = time.monotonic() - t0
            exp = expected
            if tool in FLAT_TOOLS:
                exp = {os.path.basename(k): v for k, v in expected.items()}
            r.verified, vnote = verify_tree(dest, exp)
            r.ok = rc == 0 and r.verified
            notes = []
            if killed:
                notes.append(f"killed after {timeout} s")
            elif rc != 0:
                notes.append(f"exit {rc}: {tail}")
            if rc == 0 and vnote:
                notes.append(vnote)
            if rc == 0 and not r.verified:
                notes.insert(0, "EXIT 0 WITH WRONG OR MISSING BYTES")
            if tool == "ours":
                r.stats = read_stats(ctx.stats_path)
                if r.stats:
                    r.retries = r.stats.get("retries")
            r.note = "; ".join(notes)
            runs.append(r)
            status = "ok" if r.ok else "FAILED"
            log(f"  s{key} round {rnd} {tool:9s} {status:6s} wall {wall:7.2f} s  "
                f"{total_bytes / wall / 1e6 if wall else 0:8.1f} MB/s  cpu {r.cpu:6.2f} s  "
                f"rss {rss / 1024:6.1f} MiB  server cpu {r.server_cpu:5.2f} s"
                + (f"  faults {r.faults}" if r.faults is not None else "")
                + (f"  sync {r.sync_seconds:.2f} s" if disk else "")
                + (f"  [{r.note}]" if r.note else ""))
            shutil.rmtree(dest, ignore_errors=True)
            if rnd == 1 and wall > slow_after and repeats > 1:
                slow.add(tool)
                log(f"  {tool} took {wall:.0f} s (> {slow_after} s): one run only in s{key}")
    return runs


def filter_tools(wanted, candidates, bin_path, skipped):
    out = []
    for t in candidates:
        if t not in wanted:
            continue
        ok, why = tool_available(t, bin_path)
        if ok:
            out.append(t)
        else:
            skipped.append((t, why))
    return out


# ---- the namespace worker (scenario 6) --------------------------------------------------------

def netns_worker(spec_path):
    """Runs inside `unshare -n`: brings lo up, shapes it with tbf, serves the file with nginx and
    runs the tools. Writes the Run records as JSON next to the spec."""
    spec = json.loads(Path(spec_path).read_text())
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    subprocess.run(["tc", "qdisc", "add", "dev", "lo", "root", "tbf", "rate", spec["rate"],
                    "burst", "256kb", "latency", "100ms"], check=True)
    qdisc = subprocess.run(["tc", "qdisc", "show", "dev", "lo"], capture_output=True,
                           text=True).stdout.strip()
    ctx = Ctx(bin=spec["bin"], home=Path(spec["home"]), logs=Path(spec["logs"]),
              stats_path=Path(spec["stats"]), rclone_conf=Path(spec["rclone_conf"]))
    ctx.expected_bytes = spec["bytes"]
    expected = spec["expected"]
    with servers.Nginx(spec["root"], workdir=Path(spec["nginx_dir"])) as ng:
        url = ng.url(spec["name"])
        runs = run_scenario("6", spec["tools"], spec["repeats"], spec["timeout"],
                            spec["slow_after"], ctx, Path(spec["dest"]), expected,
                            lambda t, d: http_command(t, ctx, url, d, spec["name"], False),
                            server_pids=[ng.proc.pid])
    Path(spec["result"]).write_text(json.dumps({"qdisc": qdisc,
                                                "runs": [asdict(r) for r in runs]}))
    return 0


# ---- report -----------------------------------------------------------------------------------

def med(xs):
    return statistics.median(xs) if xs else None


@dataclass
class Summary:
    tool: str
    runs: int
    ok: int
    wall: float | None = None
    wall_min: float | None = None
    wall_max: float | None = None
    mbps: float | None = None
    mbps_min: float | None = None
    mbps_max: float | None = None
    cpu: float | None = None
    cpu_per_gib: float | None = None
    rss_mib: float | None = None
    rss_max_mib: float | None = None
    server_cpu: float | None = None
    sync: float | None = None
    retries: str = ""
    faults: str = ""
    connections: float | None = None
    notes: list = field(default_factory=list)


def summarize(runs, tools):
    out = {}
    for tool in tools:
        rs = [r for r in runs if r.tool == tool]
        if not rs:
            continue
        good = [r for r in rs if r.ok]
        s = Summary(tool=tool, runs=len(rs), ok=len(good))
        if good:
            walls = [r.wall for r in good]
            b = good[0].bytes
            s.wall, s.wall_min, s.wall_max = med(walls), min(walls), max(walls)
            s.mbps, s.mbps_min, s.mbps_max = b / s.wall / 1e6, b / s.wall_max / 1e6, \
                b / s.wall_min / 1e6
            s.cpu = med([r.cpu for r in good])
            s.cpu_per_gib = s.cpu / (b / GiB)
            s.rss_mib = med([r.maxrss_kib / 1024 for r in good])
            s.server_cpu = med([r.server_cpu for r in good])
            if any(r.sync_seconds for r in good):
                s.sync = med([r.sync_seconds for r in good])
        s.rss_max_mib = max(r.maxrss_kib / 1024 for r in rs)
        rets = [r.retries for r in rs if r.retries is not None]
        if rets:
            s.retries = "/".join(str(x) for x in rets)
        cs = [r.connections for r in (good or rs) if r.connections is not None]
        if cs:
            s.connections = med(cs)
        fl = [r.faults for r in rs if r.faults is not None]
        if fl:
            s.faults = "/".join(str(x) for x in fl)
        for r in rs:
            if r.note:
                s.notes.append(f"round {r.round}: {r.note}")
        st = [r.stats for r in good if r.stats]
        if st:
            def pct(kind, q):
                vals = [x[kind][q] for x in st if x.get(kind) and x[kind].get("count")]
                return med(vals)
            bits = []
            for kind, label in (("ttfb_ms", "time to first byte"), ("part_ms", "part latency")):
                p50, p99 = pct(kind, "p50"), pct(kind, "p99")
                if p50 is not None:
                    bits.append(f"{label} p50 {p50:.1f} ms, p99 {p99:.1f} ms")
            per_conn = [x.get("bytes_per_connection") or [] for x in st]
            used = med([sum(1 for b in pc if b) for pc in per_conn])
            if used is not None:
                bits.append(f"{used:.0f} connections carried data")
            if bits:
                s.notes.insert(0, "its own --stats-json (medians over runs): " + "; ".join(bits))
        out[tool] = s
    return out


def best_peer(summ):
    peers = [s for t, s in summ.items() if t != "ours" and s.mbps and s.ok == s.runs]
    if not peers:
        peers = [s for t, s in summ.items() if t != "ours" and s.mbps]
    return max(peers, key=lambda s: s.mbps) if peers else None


def fmt(x, nd=2):
    if x is None:
        return "-"
    if isinstance(x, float):
        if abs(x) >= 100:
            return f"{x:.0f}"
        if abs(x) >= 10:
            return f"{x:.1f}"
        return f"{x:.{nd}f}"
    return str(x)


def gnuplot_chart(png, title, rows, ylabel, hline=None, errorbars=True):
    """rows: [(label, median, low, high, is_ours)] -> a PNG bar chart with min-max error bars."""
    data = png.with_suffix(".dat")
    with open(data, "w") as f:
        for i, (label, y, lo, hi, ours) in enumerate(rows):
            f.write(f'{i} "{label}" {y} {lo} {hi} {1 if ours else 2}\n')
    top = max([hi for _, _, _, hi, _ in rows] + [hline or 0]) * 1.18 or 1
    extra = f"set arrow from graph 0, first {hline} to graph 1, first {hline} nohead " \
            f"dt 2 lc rgb '#555555'\n" if hline else ""
    digits = 0 if top > 20 else 2
    bars = "     '' using 1:3:4:5 with yerrorbars lc rgb 'black' pt -1 ps 0, \\\n" \
        if errorbars else ""
    script = f"""set terminal pngcairo size 820,440 font 'DejaVu Sans,10'
set output '{png}'
set title "{title}"
set ylabel "{ylabel}"
set style fill solid 0.85 border -1
set boxwidth 0.6
set grid ytics
set key off
set xtics rotate by -20 nomirror
set xrange [-0.6:{len(rows) - 0.4}]
set yrange [0:{top}]
set linetype 1 lc rgb '#d95f02'
set linetype 2 lc rgb '#7570b3'
{extra}plot '{data}' using 1:3:6:xtic(2) with boxes lc variable, \\
{bars}     '' using 1:5:(sprintf('%.{digits}f', $3)) with labels offset 0,0.8 notitle
"""
    sp = png.with_suffix(".gp")
    sp.write_text(script)
    r = subprocess.run(["gnuplot", str(sp)], capture_output=True, text=True, timeout=60)
    data.unlink(missing_ok=True)
    sp.unlink(missing_ok=True)
    if r.returncode != 0:
        raise RuntimeError(r.stderr.strip())


def machine_description(dest_root, disk_dir):
    def cmd(*a):
        try:
            return subprocess.run(a, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return ""
    lscpu = cmd("lscpu")
    model = re.search(r"Model name:\s*(.*)", lscpu)
    hyper = re.search(r"Hypervisor vendor:\s*(.*)", lscpu)
    mem = cmd("free", "-h").splitlines()
    mem_total = mem[1].split()[1] if len(mem) > 1 else "?"
    disk = cmd("df", "--output=source,fstype", str(disk_dir)).splitlines()
    return {
        "cpus": cmd("nproc"),
        "model": model.group(1) if model else platform.processor(),
        "hypervisor": hyper.group(1) if hyper else "none",
        "memory": mem_total,
        "kernel": platform.release(),
        "os": cmd("sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"),
        "disk": " ".join(disk[1].split()) if len(disk) > 1 else "?",
    }


def tool_versions(bin_path):
    def first(argv, stderr=False):
        try:
            r = subprocess.run(argv, capture_output=True, text=True, timeout=20)
            text = (r.stderr if stderr else r.stdout) or r.stdout or r.stderr
            return text.strip().splitlines()[0] if text.strip() else "?"
        except (OSError, subprocess.TimeoutExpired, IndexError):
            return "not installed"
    s3rver_pkg = ROOT / "test" / "node_modules" / "@20minutes" / "s3rver" / "package.json"
    try:
        s3v = json.loads(s3rver_pkg.read_text())["version"]
    except (OSError, ValueError, KeyError):
        s3v = "?"
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    return {
        "mr-storage-initializer": f"{first([bin_path, '--version'])} (source tree at {commit})",
        "curl": first(["curl", "--version"]),
        "aria2c": first(["aria2c", "--version"]),
        "wget": first(["wget", "--version"]),
        "rclone": first(["rclone", "version"]),
        "aws": first(["/usr/bin/aws", "--version"]),
        "s3cmd": first(["s3cmd", "--version"]),
        "nginx": first(["nginx", "-v"], stderr=True),
        "s3rver": f"@20minutes/s3rver {s3v} on node {first(['node', '--version'])}",
        "gnuplot": first(["gnuplot", "--version"]),
    }


PEER_OPTIONS = """\
| tool | command (HTTP) | command (S3) |
|---|---|---|
| ours | `mr-storage-initializer URL DEST` (defaults: 16 connections, 16 MiB parts; `--ca-bundle CA` for HTTPS) | `mr-storage-initializer s3://models/PREFIX DEST` (`AWS_ENDPOINT_URL`, keys in env) |
| curl | `curl -sS --fail -o FILE URL` (`--cacert CA`; scenario 7 adds `--retry 20 --retry-all-errors --retry-delay 1 -C -`; curl still restarts from byte 0 on each retry) | not applicable (no listing) |
| aria2c | `aria2c -x16 -s16 -k8M --file-allocation=falloc` (`--ca-certificate`; scenario 7 adds `--max-tries=100 --retry-wait=1`) | not applicable |
| wget | `wget -q -O FILE URL` (`--ca-certificate`; scenario 7 adds `--tries=100 --waitretry=1`) | not applicable |
| rclone | `env -u AWS_CA_BUNDLE rclone copy --transfers 16 --checkers 16 --http-url BASE :http:FILE DEST` (`--ca-cert`; scenario 7 adds `--low-level-retries 100 --retries 10`) | `rclone copy --transfers 16 --checkers 16 benchs3:models/PREFIX DEST` (s3 backend from `RCLONE_CONFIG_BENCHS3_*` env, provider Other, path style) |
| aws-cp | not applicable | `aws --endpoint-url EP s3 cp --recursive --only-show-errors s3://models/PREFIX/ DEST` (awscli defaults: 10 concurrent requests, 8 MiB parts) |
| aws-sync | not applicable | `aws --endpoint-url EP s3 sync --only-show-errors s3://models/PREFIX/ DEST` |
| s3cmd | not applicable | `s3cmd get s3://models/PREFIX/KEY1 ... DEST/` (one request at a time; given every object URL because s3rver rejects s3cmd's signature on listings: it verifies `/models` where s3cmd signs `/models/`; files land flat in DEST) |

Every tool runs with the machine's `AWS_*`, `*_CA_BUNDLE`, `SSL_CERT_*` and proxy variables
removed and `HOME` pointing at an empty folder, so no user configuration is read. aria2c gets
`--file-allocation=falloc` (its manual's advice for ext4/tmpfs; its default `prealloc` writes the
file twice), as ours sizes its file up front too."""


def write_report(out, state, results, skipped, charts_ok):
    cfg, machine, versions = state["cfg"], state["machine"], state["versions"]
    started = datetime.datetime.fromisoformat(state["started"])
    finished = datetime.datetime.fromisoformat(state["finished"])
    chart_dir = out.parent / "bench"
    rel_chart = os.path.relpath(chart_dir, out.parent)
    L = []
    w = L.append
    quick = " (quick variant: tiny sizes, not a benchmark)" if state["quick"] else ""
    w(f"# Benchmarks{quick}\n")
    w("Download throughput of mr-storage-initializer side by side with curl, aria2c, wget, rclone, "
      "`aws s3 cp`/`sync` and s3cmd, all against the same local servers in the same run. Generated "
      "by `test/bench/run.py`; do not edit by hand (the analysis at the end comes from "
      "`test/bench/analysis.md`).\n")
    w("## Reproduce\n")
    w("```\nbash scripts/setup.sh            # nginx, awscli, rclone, aria2, s3cmd, gnuplot-nox, "
      "s3rver...\nmeson setup build && ninja -C build\n"
      f"{state['command_line']}\n```\n")
    w(f"Run from {started:%Y-%m-%d %H:%M} to {finished:%H:%M} UTC "
      f"({(finished - started).total_seconds() / 60:.1f} min). "
      "`--quick` is the tiny variant that runs in CI (`meson test --suite bench`); "
      "`--scenarios`, `--tools`, `--repeats` pick a subset, `--out` another report path, "
      "`--keep` keeps every run's command line and output. `--raw FILE` saves the records; "
      "`--from-raw FILE` rewrites this page and the charts from them (this page's records are "
      "in `test/bench/last-full-run.json`).\n")
    w("## Machine\n")
    w(f"- {machine['cpus']} CPUs: {machine['model']} (hypervisor: {machine['hypervisor']}), "
      f"{machine['memory']} RAM, {machine['os']}, Linux {machine['kernel']}")
    w(f"- destination `/dev/shm` (tmpfs) unless labelled; disk variant on "
      f"`{' '.join(machine['disk'].split())}`")
    w("- client, servers and proxies share the same 2 cores: every number includes the server's "
      "CPU use, so the *server CPU* column matters; compare tools within one run, not across "
      "machines")
    loads = [r.load1 for rs in results.values() for r in rs["runs"]]
    if loads:
        w(f"- 1-minute load average at the start of the runs: median {med(loads):.2f}, "
          f"max {max(loads):.2f} (the benchmark's own client and server account for about 2; "
          "more means other work shared the machine)")
    w("")
    w("## Tools\n")
    w("| tool | version |\n|---|---|")
    for k, v in versions.items():
        w(f"| {k} | {v} |")
    w("")
    w(PEER_OPTIONS + "\n")
    if skipped:
        w("Skipped peers: " + "; ".join(f"{t} ({why})" for t, why in sorted(set(skipped))) + ".\n")
    w("## Settings\n")
    w(f"- repeats: {cfg['repeats']} per tool per scenario, in alternation (round 1: every tool, "
      "round 2: every tool, ...); a tool whose first run took more than "
      f"{cfg['slow_after']} s runs once in that scenario; a run is killed after "
      f"{cfg['timeout']} s")
    w("- each run: wall time and user+sys CPU and peak RSS of the tool's process from `wait4`; "
      "server CPU is nginx (master and workers) or s3rver plus the proxy thread, read from "
      "`/proc` around the run; then sha256 of every file against the generated data, then the "
      "destination is deleted")
    w("- throughput = bytes of the data set / wall time (MB = 10^6 bytes); medians over the "
      "successful runs, min-max in brackets; *vs best peer* = median throughput / the best "
      "peer's median throughput in that scenario")
    w("- the source files sit in the page cache (read once before each scenario)\n")
    w("## Summary\n")
    w("| scenario | ours MB/s | best peer | best peer MB/s | ours / best peer | ours peak RSS MiB |")
    w("|---|---|---|---|---|---|")
    ratio_rows = []
    for key, res in results.items():
        summ = res["summary"]
        o = summ.get("ours")
        bp = best_peer(summ)
        ratio = o.mbps / bp.mbps if (o and o.mbps and bp) else None
        w(f"| {key}: {res['title']} | {fmt(o.mbps) if o else '-'}"
          f"{'' if not o or o.ok == o.runs else f' ({o.ok}/{o.runs} ok)'} | "
          f"{bp.tool if bp else '-'} | {fmt(bp.mbps) if bp else '-'} | "
          f"{fmt(ratio) if ratio else '-'} | {fmt(o.rss_max_mib, 1) if o else '-'} |")
        if ratio:
            ratio_rows.append((f"s{key}", ratio, ratio, ratio, True))
    w("")
    if charts_ok and ratio_rows:
        w(f"![ours / best peer per scenario]({rel_chart}/summary.png)\n")
    w("## Goals\n")
    for line in goals(results):
        w(f"- {line}")
    w("")
    for key, res in results.items():
        summ = res["summary"]
        w(f"## Scenario {key}: {res['title']}\n")
        if res.get("about"):
            w(res["about"] + "\n")
        if res.get("skipped"):
            w(f"**Skipped:** {res['skipped']}\n")
            continue
        bp = best_peer(summ)
        has_sync = any(s.sync is not None for s in summ.values())
        has_faults = any(s.faults for s in summ.values())
        has_conns = any(s.connections is not None for s in summ.values())
        head = ["tool", "ok", "median MB/s [min-max]", "wall s [min-max]", "vs best peer",
                "CPU s", "CPU s/GiB", "peak RSS MiB", "server CPU s"]
        if has_sync:
            head.append("MB/s incl. sync")
        if has_conns:
            head.append("TCP connections")
        if has_faults:
            head += ["resets per run", "our retries"]
        w("| " + " | ".join(head) + " |")
        w("|" + "---|" * len(head))
        for tool, s in summ.items():
            name = f"**{tool}**" if tool == "ours" else tool
            row = [name, f"{s.ok}/{s.runs}",
                   f"{fmt(s.mbps)} [{fmt(s.mbps_min)}-{fmt(s.mbps_max)}]" if s.mbps else "-",
                   f"{fmt(s.wall)} [{fmt(s.wall_min)}-{fmt(s.wall_max)}]" if s.wall else "-",
                   fmt(s.mbps / bp.mbps) if (s.mbps and bp) else "-",
                   fmt(s.cpu), fmt(s.cpu_per_gib), fmt(s.rss_mib, 1), fmt(s.server_cpu)]
            if has_sync:
                row.append(fmt(res["bytes"] / (s.wall + s.sync) / 1e6) if s.wall else "-")
            if has_conns:
                row.append(str(round(s.connections)) if s.connections is not None else "-")
            if has_faults:
                row += [s.faults or "-", s.retries or "-"]
            w("| " + " | ".join(row) + " |")
        w("")
        if charts_ok and any(s.mbps for s in summ.values()):
            w(f"![scenario {key}]({rel_chart}/s{key}.png)\n")
        notes = list(res.get("notes", []))
        for tool, s in summ.items():
            for n in s.notes:
                notes.append(f"{tool}, {n}")
        if notes:
            w("Notes:\n")
            for n in notes:
                w(f"- {n}")
            w("")
    analysis = HERE / "analysis.md"
    if analysis.exists() and not state["quick"]:
        w(analysis.read_text().rstrip() + "\n")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(L).rstrip() + "\n")


def render(state, out):
    """Writes the report and charts from a run's state (also used by --from-raw)."""
    results = {}
    for key, v in state["results"].items():
        res = dict(v)
        res["runs"] = [Run(**r) for r in v["runs"]]
        order = [t for t in ["ours"] + list(PEER_PROGRAM) if any(
            r.tool == t for r in res["runs"])]
        res["summary"] = summarize(res["runs"], order)
        results[key] = res
    skipped = [tuple(x) for x in state["skipped"]]
    charts_ok = False
    chart_dir = out.parent / "bench"
    if shutil.which("gnuplot"):
        chart_dir.mkdir(parents=True, exist_ok=True)
        try:
            ratio_rows = []
            for key, res in results.items():
                summ = res.get("summary", {})
                rows = [(t, s.mbps, s.mbps_min, s.mbps_max, t == "ours")
                        for t, s in summ.items() if s.mbps]
                if rows:
                    gnuplot_chart(chart_dir / f"s{key}.png",
                                  f"Scenario {key}: {res['title']}"[:95],
                                  rows, "MB/s (median, min-max)")
                o, bp = summ.get("ours"), best_peer(summ)
                if o and o.mbps and bp:
                    r = o.mbps / bp.mbps
                    ratio_rows.append((f"s{key} vs {bp.tool}", r, r, r, True))
                elif o and bp:
                    ratio_rows.append((f"s{key}: ours failed", 0, 0, 0, True))
            if ratio_rows:
                gnuplot_chart(chart_dir / "summary.png",
                              "ours / best peer (median throughput; 1.0 = as fast)",
                              ratio_rows, "ratio", hline=1.0, errorbars=False)
            charts_ok = True
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            log(f"gnuplot failed: {e}")
    else:
        skipped.append(("charts", "gnuplot is not installed"))
    write_report(out, state, results, skipped, charts_ok)


def goals(results):
    lines = []
    fast, slow = [], []
    for key, res in results.items():
        summ = res["summary"]
        o, bp = summ.get("ours"), best_peer(summ)
        if o and o.mbps and bp:
            r = o.mbps / bp.mbps
            (fast if r >= 1 else slow).append(
                f"s{key} {r:.2f}x {bp.tool}" if r >= 1 else
                f"s{key}: {r:.2f}x of {bp.tool} ({(1 - r) * 100:.0f}% slower)")
        elif o and not o.mbps:
            slow.append(f"s{key}: ours failed every run")
    lines.append("**At least as fast as the best peer in every scenario:** "
                 + ("met" if not slow else "not met")
                 + (f". Met in {', '.join(fast)}" if fast else "")
                 + (f". Short in {'; '.join(slow)}" if slow else "") + ".")
    parts = []
    for key in ("4", "5"):
        if key not in results:
            continue
        summ = results[key]["summary"]
        o, a = summ.get("ours"), summ.get("aws-cp")
        if o and o.mbps and a and a.mbps:
            r = o.mbps / a.mbps
            parts.append(f"s{key} {r:.2f}x ({'met' if r >= 2 else 'not met'})")
    if parts:
        lines.append("**At least 2x `aws s3 cp` in scenarios 4 and 5:** " + ", ".join(parts) + ".")
    parts = []
    for key in ("1", "1d", "2", "6"):
        if key not in results:
            continue
        summ = results[key]["summary"]
        o, c = summ.get("ours"), summ.get("curl")
        if o and o.cpu_per_gib and c and c.cpu_per_gib:
            parts.append(f"s{key}: ours {o.cpu_per_gib:.2f} vs curl {c.cpu_per_gib:.2f} "
                         f"({'met' if o.cpu_per_gib <= c.cpu_per_gib else 'not met'})")
    if parts:
        lines.append("**CPU s/GiB no higher than curl's on HTTP:** " + "; ".join(parts) + ".")
    worst = [(s.rss_max_mib, k) for k, res in results.items()
             if (s := res["summary"].get("ours")) and s.rss_max_mib]
    if worst:
        m, k = max(worst)
        lines.append(f"**Peak RSS under 64 MiB in every scenario:** "
                     f"{'met' if m < 64 else 'not met'} (highest {m:.1f} MiB, in s{k}).")
    return lines


# ---- main -------------------------------------------------------------------------------------

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="tiny sizes, one repeat, few peers")
    p.add_argument("--scenarios", help="comma-separated: 1,1d,2,3,4,5,6,7")
    p.add_argument("--tools", help="comma-separated: ours,curl,aria2c,wget,rclone,aws-cp,"
                                   "aws-sync,s3cmd")
    p.add_argument("--repeats", type=int)
    p.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"),
                   help="report path; charts go to bench/ beside it")
    p.add_argument("--bin", default=os.environ.get("MRSI_BIN",
                                                   str(ROOT / "build" / "mr-storage-initializer")))
    p.add_argument("--dest", default="/dev/shm", help="where downloads land (default /dev/shm)")
    p.add_argument("--disk-dir", default="/var/tmp", help="disk destination for scenario 1d")
    p.add_argument("--work-dir", help="keep generated data here (reused across runs); default: "
                                      "a temporary folder under /var/tmp, removed at the end")
    p.add_argument("--big-size", type=parse_size, help="override the size for scenarios 1, 1d, 2")
    p.add_argument("--check", action="store_true",
                   help="exit 1 when bytes were wrong or a run failed outside scenario 7")
    p.add_argument("--raw", help="write every run's record (and our --stats-json) as JSON here")
    p.add_argument("--keep", action="store_true",
                   help="keep the work folder with the data and every run's command and output")
    p.add_argument("--from-raw", metavar="FILE",
                   help="only rewrite the report and charts from a --raw file of an earlier run")
    p.add_argument("--netns-worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.netns_worker:
        return netns_worker(args.netns_worker)
    if args.from_raw:
        render(json.loads(Path(args.from_raw).read_text()), Path(args.out).resolve())
        log(f"report written to {args.out}")
        return 0

    cfg = dict(QUICK if args.quick else FULL)
    if args.repeats:
        cfg["repeats"] = args.repeats
    if args.big_size:
        cfg["big_size"] = args.big_size
    scen_list = [s.strip() for s in (args.scenarios or cfg["scenarios"]).split(",") if s.strip()]
    for s in scen_list:
        if s not in SCENARIOS:
            p.error(f"unknown scenario {s!r}")
    wanted_tools = [t.strip() for t in (args.tools or cfg["tools"]).split(",") if t.strip()]
    for t in wanted_tools:
        if t != "ours" and t not in PEER_PROGRAM:
            p.error(f"unknown tool {t!r}")
    shown, skip_next = [], False
    for a in (argv if argv is not None else sys.argv[1:]):  # options that do not change results
        if skip_next:
            skip_next = False
        elif a in ("--raw", "--work-dir"):
            skip_next = True
        elif a != "--keep" and not a.startswith(("--raw=", "--work-dir=")):
            shown.append(a)
    args.command_line = "python3 test/bench/run.py" + "".join(f" {shlex.quote(a)}" for a in shown)
    out = Path(args.out).resolve()
    started = datetime.datetime.now(datetime.timezone.utc)
    t_start = time.monotonic()

    for prog in ("nginx", "openssl"):
        if shutil.which(prog) is None:
            print(f"SKIP: {prog} not installed", file=sys.stderr)
            return SKIP
    if any(s in S3_SCENARIOS for s in scen_list) and shutil.which("node") is None:
        log("node not found: S3 scenarios skipped")

    own_work = args.work_dir is None
    work = Path(args.work_dir or tempfile.mkdtemp(prefix="mrsi-bench-", dir="/var/tmp"))
    work.mkdir(parents=True, exist_ok=True)
    run_dir = Path(tempfile.mkdtemp(prefix="run-", dir=work))
    dest_root = Path(tempfile.mkdtemp(prefix="mrsi-bench-", dir=args.dest))
    disk_root = Path(tempfile.mkdtemp(prefix="mrsi-bench-dest-", dir=args.disk_dir))
    home = run_dir / "home"
    logs = run_dir / "logs"
    home.mkdir()
    logs.mkdir()
    rclone_conf = home / "rclone.conf"
    rclone_conf.write_text("")
    # Run a private copy: the binary in build/ may be rebuilt while the benchmark runs.
    bin_copy = run_dir / "mr-storage-initializer"
    if os.access(args.bin, os.X_OK):
        shutil.copy2(args.bin, bin_copy)
    else:
        bin_copy = Path(args.bin)
    ctx = Ctx(bin=str(bin_copy.resolve()), home=home, logs=logs,
              stats_path=run_dir / "stats.json", rclone_conf=rclone_conf)
    skipped = []
    results = {}
    violations = []
    versions = tool_versions(ctx.bin)
    try:
        built = datetime.datetime.fromtimestamp(os.path.getmtime(args.bin), datetime.timezone.utc)
        versions["mr-storage-initializer"] += f", binary built {built:%Y-%m-%d %H:%M} UTC"
    except OSError:
        pass
    names = dict(big=human(cfg["big_size"]), s3_count=cfg["s3_count"],
                 s3_size=human(cfg["s3_size"]), small_count=cfg["small_count"],
                 small_size=human(cfg["small_size"]), latency_ms=cfg["latency_ms"],
                 shaped=human(cfg["shaped_size"]), rate=cfg["shaped_rate"].replace("mbit",
                                                                                   " Mbit/s"),
                 fault=human(cfg["fault_size"]), fmin=human(cfg["fault_min"]),
                 fmax=human(cfg["fault_max"]))
    machine = machine_description(args.dest, args.disk_dir)
    names["diskdev"], names["diskfs"] = (machine["disk"].split() + ["?", "?"])[:2]
    log(f"work dir {work}; logs in {logs}; destination {dest_root}")
    if os.getloadavg()[0] > 1.5:
        log(f"load average is {os.getloadavg()[0]:.2f}: other work will disturb the numbers")

    try:
        data = work / "data"
        manifest = generate_data(data, cfg, set(scen_list))
        http_root = data / "http"
        nginx = s3 = None
        ca = None

        def scenario_tools(key, candidates):
            wanted = wanted_tools
            if not args.tools and key in DEFAULT_SCENARIO_TOOLS:
                wanted = [t for t in wanted if t in DEFAULT_SCENARIO_TOOLS[key]]
                left = [t for t in candidates if t in wanted_tools and t not in wanted]
                if left:
                    results[key]["notes"].append("left out by default to keep the run short "
                                                 "(`--tools` runs them): " + ", ".join(left))
            return filter_tools(wanted, candidates, ctx.bin, skipped)

        def http_scenario(key, name, dest_base, url_of, fault_proxy_obj=None, server_pids=()):
            tools = scenario_tools(key, HTTP_TOOLS)
            expected = manifest[name]
            ctx.expected_bytes = cfg[{"big": "big_size", "fault": "fault_size",
                                      "shaped": "shaped_size"}[name] ]
            warm_cache([http_root / f"{name}.bin"])
            fname = f"{name}.bin"
            return run_scenario(
                key, tools, cfg["repeats"], cfg["timeout"], cfg["slow_after"], ctx, dest_base,
                expected, lambda t, d: http_command(t, ctx, url_of(fname), d, fname,
                                                    key in FAULT_SCENARIOS,
                                                    cfg["curl_retries"]),
                server_pids=server_pids, proxy=fault_proxy_obj, disk=dest_base == disk_root)

        def s3_scenario(key, name, endpoint, proxy_obj=None):
            tools = scenario_tools(key, S3_TOOLS)
            expected = manifest[name]
            count, size = (cfg["s3_count"], cfg["s3_size"]) if name == "large" else \
                (cfg["small_count"], cfg["small_size"])
            ctx.expected_bytes = count * size
            warm_cache([data / "s3" / S3_BUCKET / name / f"{rel}._S3rver_object"
                        for rel in expected])
            return run_scenario(key, tools, cfg["repeats"], cfg["timeout"], cfg["slow_after"],
                                ctx, dest_root, expected,
                                lambda t, d: s3_command(t, ctx, endpoint, name, d, list(expected)),
                                server_pids=[s3.proc.pid], proxy=proxy_obj)

        from contextlib import ExitStack
        with ExitStack() as stack:
            for key in scen_list:
                title = SCENARIOS[key].format(**names)
                res = {"title": title, "runs": [], "notes": []}
                results[key] = res
                log(f"scenario {key}: {title}")
                t0 = time.monotonic()
                try:
                    if key in ("1", "1d", "2", "7") and nginx is None:
                        ca = servers.make_ca(run_dir / "tls")
                        ctx.ca = ca.ca_cert
                        nginx = stack.enter_context(
                            servers.Nginx(http_root, tls=ca, workdir=run_dir / "nginx"))
                    if key in S3_SCENARIOS and s3 is None:
                        if shutil.which("node") is None:
                            raise SkipScenario("node is not installed (s3rver needs it)")
                        if not (ROOT / "test" / "node_modules" / "@20minutes" / "s3rver").is_dir():
                            raise SkipScenario("s3rver is not installed in test/node_modules "
                                               "(bash scripts/setup.sh installs it)")
                        s3 = stack.enter_context(S3rver(data / "s3", run_dir))
                    if key == "1":
                        res["runs"] = http_scenario(key, "big", dest_root, nginx.url,
                                                    server_pids=[nginx.proc.pid])
                    elif key == "1d":
                        res["runs"] = http_scenario(key, "big", disk_root, nginx.url,
                                                    server_pids=[nginx.proc.pid])
                        res["about"] = (
                            "Same as scenario 1 but written to disk. The wall time ends when the "
                            "tool exits (data may still be in the page cache); *MB/s incl. sync* "
                            "adds the `sync -f` that follows each run, i.e. until the data is on "
                            "the disk.")
                    elif key == "2":
                        res["runs"] = http_scenario(key, "big", dest_root, nginx.tls_url,
                                                    server_pids=[nginx.proc.pid])
                        res["about"] = ("nginx with an ECDSA P-256 certificate from a CA made "
                                        "for the run; every tool trusts that CA explicitly.")
                    elif key == "3":
                        res["runs"] = s3_scenario(key, "large", s3.endpoint)
                    elif key == "4":
                        res["runs"] = s3_scenario(key, "small", s3.endpoint)
                        res["about"] = ("Per-request cost dominates: listing (1000 keys per "
                                        "page), signing, request round trips and file creation.")
                    elif key == "5":
                        proxy = DelayProxy("127.0.0.1", s3.port, delay_ms=cfg["latency_ms"],
                                           latency_ms=cfg["latency_ms"])
                        stack.enter_context(proxy)
                        res["runs"] = s3_scenario(key, "small", f"http://127.0.0.1:{proxy.port}",
                                                  proxy_obj=proxy)
                        res["about"] = (
                            f"A Python asyncio proxy between the tools and s3rver holds every "
                            f"request {cfg['latency_ms']} ms before passing it on, and delays the "
                            f"first response byte of each new connection by another "
                            f"{cfg['latency_ms']} ms (the handshake round trip of a WAN). "
                            "`fault_proxy.py`'s own latency mode alone delays only the first "
                            "response on a connection, which keep-alive would hide. The proxy "
                            "moves about 300 MB/s at most and its CPU is in *server CPU*; with "
                            "16 KiB objects it is not the limit.")
                    elif key == "6":
                        res.update(run_netns_scenario(cfg, manifest, http_root, ctx, dest_root,
                                                      wanted_tools, skipped, run_dir))
                    elif key == "7":
                        proxy = RandomResetProxy("127.0.0.1", nginx.port,
                                                 fault_min=cfg["fault_min"],
                                                 fault_max=cfg["fault_max"])
                        stack.enter_context(proxy)
                        res["runs"] = http_scenario(
                            key, "fault", dest_root, lambda f: f"http://127.0.0.1:{proxy.port}/{f}",
                            fault_proxy_obj=proxy, server_pids=[nginx.proc.pid])
                        res["about"] = (
                            f"A Python asyncio fault proxy in front of nginx resets (RST) every "
                            f"connection after a random {names['fmin']}-{names['fmax']} of "
                            "response bytes (same seeded sequence for every tool). Peers get "
                            "their retry options (see the table above); ours runs with its "
                            "defaults (6 attempts per part, backoff from 200 ms). Failures are "
                            "recorded as failures. The proxy caps throughput at roughly "
                            "300 MB/s and its CPU is in *server CPU*.")
                except SkipScenario as e:
                    res["skipped"] = str(e)
                    log(f"  skipped: {e}")
                except (OSError, RuntimeError, TimeoutError, subprocess.SubprocessError,
                        ValueError, KeyError) as e:
                    res["skipped"] = f"harness error: {type(e).__name__}: {e}"
                    violations.append(f"s{key}: {res['skipped']}")
                    log(f"  harness error, scenario abandoned: {e}")
                res["bytes"] = ctx.expected_bytes if res["runs"] else 0
                order = [t for t in ["ours"] + list(PEER_PROGRAM) if any(
                    r.tool == t for r in res["runs"])]
                res["summary"] = summarize(res["runs"], order)
                log(f"scenario {key} done in {time.monotonic() - t0:.0f} s")
                for r in res["runs"]:
                    if r.rc == 0 and not r.verified:
                        violations.append(f"s{key} {r.tool} round {r.round}: exit 0 but {r.note}")
                    elif not r.ok and key not in FAULT_SCENARIOS:
                        violations.append(f"s{key} {r.tool} round {r.round}: {r.note}")
    finally:
        shutil.rmtree(dest_root, ignore_errors=True)
        shutil.rmtree(disk_root, ignore_errors=True)

    for key, res in results.items():
        applicable = HTTP_TOOLS if key in HTTP_SCENARIOS else S3_TOOLS
        na = [t for t in wanted_tools if t not in applicable]
        if na and not res.get("skipped"):
            res["notes"].insert(0, "not applicable here: " + ", ".join(na))

    finished = datetime.datetime.now(datetime.timezone.utc)
    state = {
        "command_line": args.command_line, "quick": args.quick, "cfg": cfg,
        "skipped": sorted(set(map(tuple, skipped))), "machine": machine, "versions": versions,
        "started": started.isoformat(), "finished": finished.isoformat(),
        "results": {k: {kk: vv for kk, vv in v.items() if kk != "summary"} | {
            "runs": [asdict(r) for r in v["runs"]]} for k, v in results.items()},
    }
    raw = Path(args.raw) if args.raw else (out.with_suffix(".json") if args.quick else
                                           run_dir / "runs.json")
    raw.parent.mkdir(parents=True, exist_ok=True)
    raw.write_text(json.dumps(state, indent=1))
    render(state, out)
    if not args.raw and not args.quick:
        log(f"raw records in {raw} (kept only with --keep; `--raw FILE` to keep them elsewhere)")
    log(f"report written to {out} ({time.monotonic() - t_start:.0f} s in total)")
    if args.keep:
        log(f"kept {work} (logs of every run in {logs})")
    elif own_work:
        shutil.rmtree(work, ignore_errors=True)
    else:
        shutil.rmtree(run_dir, ignore_errors=True)
    if args.check:
        if not out.exists() or out.stat().st_size == 0:
            violations.append("report not written")
        if violations:
            print("bench check FAILED:\n  " + "\n  ".join(violations), file=sys.stderr)
            return 1
        n = sum(len(r["runs"]) for r in results.values())
        print(f"bench check: {n} runs, bytes verified by sha256, report at {out}",
              file=sys.stderr)
    return 0


class SkipScenario(Exception):
    pass


def run_netns_scenario(cfg, manifest, http_root, ctx, dest_root, wanted_tools, skipped, run_dir):
    """Scenario 6 in a private network namespace (`unshare -n`): the loopback there is shaped
    with tbf; the shared loopback is never touched."""
    for prog in ("unshare", "tc", "ip"):
        if shutil.which(prog) is None:
            raise SkipScenario(f"{prog} is not installed")
    probe = subprocess.run(["unshare", "-n", "sh", "-c",
                            "ip link set lo up && tc qdisc add dev lo root tbf rate 200mbit "
                            "burst 256kb latency 100ms"], capture_output=True, text=True)
    if probe.returncode != 0:
        raise SkipScenario("a private network namespace with tc is not permitted here: "
                           + (probe.stderr.strip().splitlines() or ["?"])[-1])
    tools = filter_tools(wanted_tools, HTTP_TOOLS, ctx.bin, skipped)
    ctx.expected_bytes = cfg["shaped_size"]
    warm_cache([http_root / "shaped.bin"])
    spec = {"rate": cfg["shaped_rate"], "bin": ctx.bin, "home": str(ctx.home),
            "logs": str(ctx.logs), "stats": str(ctx.stats_path),
            "rclone_conf": str(ctx.rclone_conf), "bytes": cfg["shaped_size"],
            "expected": manifest["shaped"], "root": str(http_root), "name": "shaped.bin",
            "nginx_dir": str(run_dir / "nginx-netns"), "tools": tools,
            "repeats": cfg["repeats"], "timeout": cfg["timeout"], "slow_after": cfg["slow_after"],
            "dest": str(dest_root), "result": str(run_dir / "netns-result.json")}
    spec_path = run_dir / "netns-spec.json"
    spec_path.write_text(json.dumps(spec))
    budget = cfg["timeout"] * cfg["repeats"] * max(1, len(tools)) + 60
    r = subprocess.run(["unshare", "-n", sys.executable, str(Path(__file__).resolve()),
                        "--netns-worker", str(spec_path)], timeout=budget)
    if r.returncode != 0:
        raise SkipScenario(f"the namespace worker failed with exit {r.returncode}")
    result = json.loads(Path(spec["result"]).read_text())
    runs = [Run(**d) for d in result["runs"]]
    rate_mbs = parse_rate(cfg["shaped_rate"]) / 8 / 1e6
    return {"runs": runs,
            "about": (f"Server and clients run in a private network namespace whose loopback is "
                      f"shaped with `tc qdisc add dev lo root tbf rate {cfg['shaped_rate']} burst "
                      f"256kb latency 100ms` (`{result['qdisc']}`). The link rate is "
                      f"{rate_mbs:.1f} MB/s; every good tool should get close to it.")}


def parse_rate(text):
    m = re.fullmatch(r"(\d+)(k|m|g)?bit", text.lower())
    return int(m.group(1)) * {None: 1, "k": 1e3, "m": 1e6, "g": 1e9}[m.group(2)]


if __name__ == "__main__":
    sys.exit(main())
