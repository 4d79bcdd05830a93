"""Servers and helpers for the integration tests: free ports, a throwaway CA, nginx (HTTP + HTTPS
with Range-ignoring, redirect, status and chunked locations), a chunked streaming upstream,
tinyproxy, and running the binary under test with a bounded time.

Python 3.11 standard library only; every server binds 127.0.0.1 on ports picked at run time and is
stopped when its context manager exits. Nothing here waits without a timeout.
"""

import hashlib
import http.server
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

SKIP = 77  # Meson's exit code for a skipped test

# Variables the machine exports that would make a TLS test pass or fail for the wrong reason.
TLS_ENV_VARS = ("AWS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR",
                "REQUESTS_CA_BUNDLE")
PROXY_ENV_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY",
                  "http_proxy", "https_proxy", "all_proxy", "no_proxy")


# ---- small utilities --------------------------------------------------------------------------

def require_programs(*names):
    """Exits the test process with 77 (skip) naming the first program not on PATH."""
    for name in names:
        if shutil.which(name) is None and not os.access(name, os.X_OK):
            print(f"SKIP: required program '{name}' not found", file=sys.stderr)
            sys.exit(SKIP)


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_ports(n):
    """n distinct free ports (all sockets held open while picking, so they differ)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def wait_for_port(port, timeout=10.0, proc=None, host="127.0.0.1"):
    """Waits until host:port accepts a TCP connection; raises if proc exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout} s")


def sha256_file(path, bufsize=4 << 20):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(bufsize):
            h.update(chunk)
    return h.hexdigest()


def write_random_file(path, size, chunk=16 << 20):
    """Writes `size` random bytes to path and returns their sha256 (hex)."""
    h = hashlib.sha256()
    left = size
    with open(path, "wb") as f:
        while left > 0:
            block = os.urandom(min(chunk, left))
            h.update(block)
            f.write(block)
            left -= len(block)
    return h.hexdigest()


def _stop_process(proc, sig=signal.SIGTERM, timeout=10.0):
    if proc is None or proc.poll() is not None:
        return
    try:
        proc.send_signal(sig)
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout)


# ---- TLS ----------------------------------------------------------------------------------

@dataclass
class CaFiles:
    ca_cert: str        # PEM of the CA that signed server_cert
    ca_key: str
    server_cert: str    # leaf for 127.0.0.1 and localhost, signed by ca_cert
    server_key: str
    other_ca_cert: str  # an unrelated CA: trusting only this must fail verification
    wrong_name_cert: str  # signed by ca_cert but only for DNS:wrong.invalid (name mismatch)
    wrong_name_key: str


def _openssl(*args, cwd):
    r = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed: {r.stderr.strip()}")


def make_ca(directory):
    """Generates a CA, a server certificate it signs (SAN IP:127.0.0.1, DNS:localhost) and an
    unrelated second CA in `directory` with the openssl CLI. Returns CaFiles (absolute paths)."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    ca_ext = ["-addext", "basicConstraints=critical,CA:TRUE",
              "-addext", "keyUsage=critical,keyCertSign,cRLSign"]
    _openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
             "-subj", "/CN=mr-storage-initializer test CA", *ca_ext, cwd=d)
    _openssl("req", "-x509", *ec, "-keyout", "other-ca.key", "-out", "other-ca.pem", "-days", "2",
             "-subj", "/CN=mr-storage-initializer unrelated CA", *ca_ext, cwd=d)
    _openssl("req", "-new", *ec, "-keyout", "server.key", "-out", "server.csr",
             "-subj", "/CN=127.0.0.1", cwd=d)
    (d / "server.ext").write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
        "basicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-set_serial", str(int.from_bytes(os.urandom(8), "big")), "-days", "2",
             "-out", "server.pem", "-extfile", "server.ext", cwd=d)
    _openssl("req", "-new", *ec, "-keyout", "wrong-name.key", "-out", "wrong-name.csr",
             "-subj", "/CN=wrong.invalid", cwd=d)
    (d / "wrong-name.ext").write_text(
        "subjectAltName=DNS:wrong.invalid\nbasicConstraints=CA:FALSE\n"
        "extendedKeyUsage=serverAuth\n")
    _openssl("x509", "-req", "-in", "wrong-name.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-set_serial", str(int.from_bytes(os.urandom(8), "big")), "-days", "2",
             "-out", "wrong-name.pem", "-extfile", "wrong-name.ext", cwd=d)
    return CaFiles(ca_cert=str(d / "ca.pem"), ca_key=str(d / "ca.key"),
                   server_cert=str(d / "server.pem"), server_key=str(d / "server.key"),
                   other_ca_cert=str(d / "other-ca.pem"),
                   wrong_name_cert=str(d / "wrong-name.pem"),
                   wrong_name_key=str(d / "wrong-name.key"))


# ---- chunked streaming upstream -----------------------------------------------------------

class _StreamHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _file(self):
        path = urllib.parse.urlsplit(self.path).path
        rel = urllib.parse.unquote(path).lstrip("/")
        for prefix in ("chunked/", "eof/"):
            if rel.startswith(prefix):
                rel = rel[len(prefix):]
        full = (Path(self.server.root) / rel).resolve()
        if Path(self.server.root).resolve() not in full.parents or not full.is_file():
            return None
        return full

    def _mode(self):
        path = urllib.parse.urlsplit(self.path).path
        return "eof" if path.startswith("/eof/") else "chunked"

    def do_HEAD(self):
        self._serve(body=False)

    def do_GET(self):
        self._serve(body=True)

    def _serve(self, body):
        self.server.requests.append((self.command, self.path, self.headers.get("Range")))
        payload = self.server.any_path_payload
        if payload is not None:
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if body:
                self.wfile.write(payload)
            return
        f = self._file()
        if f is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        mode = self._mode()
        # Range is deliberately ignored: the length is unknown up front, as with a generated body.
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if mode == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if not body:
            if mode == "chunked":
                self.wfile.write(b"0\r\n\r\n")
            return
        sizes = (1, 1000, 4096, 65536, 77777)
        i = 0
        with open(f, "rb") as src:
            while True:
                data = src.read(sizes[i % len(sizes)])
                i += 1
                if not data:
                    break
                if mode == "chunked":
                    self.wfile.write(b"%x\r\n" % len(data) + data + b"\r\n")
                else:
                    self.wfile.write(data)
        if mode == "chunked":
            self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


class StreamServer:
    """HTTP/1.1 server on 127.0.0.1 that serves files under `root` with no Content-Length:
    /chunked/NAME (or /NAME) as Transfer-Encoding: chunked with odd chunk sizes,
    /eof/NAME delimited by closing the connection. Ignores Range. `requests` records
    (method, path, range header) of each request. With `any_path_payload` (bytes), every path,
    however odd (../, %2F), is answered 200 with that body and a Content-Length instead."""

    def __init__(self, root, port=0, any_path_payload=None):
        self.root = str(root)
        self.port = port
        self.any_path_payload = any_path_payload
        self._httpd = None
        self._thread = None

    def __enter__(self):
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), _StreamHandler)
        self._httpd.daemon_threads = True
        self._httpd.root = self.root
        self._httpd.any_path_payload = self.any_path_payload
        self._httpd.requests = []
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True,
                                        kwargs={"poll_interval": 0.1})
        self._thread.start()
        return self

    @property
    def requests(self):
        return self._httpd.requests

    def url(self, path):
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    def __exit__(self, *exc):
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(10)


# ---- nginx ---------------------------------------------------------------------------------

REDIRECT_HOPS = 20  # /hop/N/NAME redirects N times before landing on /NAME, for N <= this


class Nginx:
    """nginx serving `root` over HTTP (self.port) and, with `tls` (CaFiles), HTTPS (self.tls_port).

    Locations available on both servers (NAME is a path under root):
      /NAME                    the file, with Range, ETag, Last-Modified
      /norange/NAME            the same file, Range ignored (always 200 with the whole body)
      /r3/NAME                 301 -> /r2/NAME, 302 -> /r1/NAME, 307 -> /NAME (absolute Locations)
      /hop/N/NAME              N redirects (302) then /NAME, for 0 <= N <= REDIRECT_HOPS
      /rel/NAME                302 with a relative Location: /NAME
      /loop/NAME               302 to itself forever
      /status/CODE/NAME        returns CODE (401, 403, 404, 410, 416, 429, 500, 502, 503)
      /chunked/NAME, /eof/NAME proxied to `stream_port` when given (see StreamServer); nginx
                               forwards them chunked, without Content-Length
    HTTP only: /to-https/NAME  302 -> https://127.0.0.1:TLS_PORT/NAME (cross-origin)
    HTTPS only: /to-http/NAME  302 -> http://127.0.0.1:PORT/NAME (a TLS downgrade)
    `extra_locations` is inserted into both server blocks, `extra_http` into the http block.
    `cert` = (cert, key) overrides the TLS server certificate (default tls.server_cert/key).
    The access log (access_log_lines()) records request line, status, bytes, Range header,
    connection number, User-Agent and the X-Mrsi-Test request header.
    """

    STATUSES = (401, 403, 404, 410, 416, 429, 500, 502, 503)

    def __init__(self, root, tls=None, stream_port=None, extra_locations="", extra_http="",
                 workdir=None, cert=None):
        self.root = str(Path(root).resolve())
        self.tls = tls
        self.cert = cert or ((tls.server_cert, tls.server_key) if tls else None)
        self.stream_port = stream_port
        self.extra_locations = extra_locations
        self.extra_http = extra_http
        self._own_workdir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="mrsi-nginx-"))
        self.port = None
        self.tls_port = None
        self.proc = None

    def url(self, path, host="127.0.0.1"):
        return f"http://{host}:{self.port}/{path.lstrip('/')}"

    def tls_url(self, path, host="127.0.0.1"):
        return f"https://{host}:{self.tls_port}/{path.lstrip('/')}"

    def _locations(self, scheme):
        w = []
        w.append("location / { }")
        w.append(f"location ^~ /norange/ {{ alias {self.root}/; max_ranges 0; }}")
        w.append("location ~ ^/r3/(.*)$ { return 301 /r2/$1; }")
        w.append("location ~ ^/r2/(.*)$ { return 302 /r1/$1; }")
        w.append("location ~ ^/r1/(.*)$ { return 307 /$1; }")
        w.append("location ~ ^/rel/(.*)$ { absolute_redirect off; return 302 /$1; }")
        w.append("location ~ ^/loop/(.*)$ { return 302 /loop/$1; }")
        w.append("location ~ ^/hop/0/(.*)$ { return 302 /$1; }")
        for n in range(1, REDIRECT_HOPS + 1):
            w.append(f"location ~ ^/hop/{n}/(.*)$ {{ return 302 /hop/{n - 1}/$1; }}")
        for code in self.STATUSES:
            w.append(f"location ^~ /status/{code}/ {{ return {code}; }}")
        if self.stream_port:
            for p in ("chunked", "eof"):
                w.append(f"location ^~ /{p}/ {{ proxy_pass http://127.0.0.1:{self.stream_port}; "
                         "proxy_http_version 1.1; proxy_buffering off; }")
        if scheme == "http" and self.tls:
            w.append(f"location ~ ^/to-https/(.*)$ {{ return 302 "
                     f"https://127.0.0.1:{self.tls_port}/$1; }}")
        if scheme == "https":
            w.append(f"location ~ ^/to-http/(.*)$ {{ return 302 http://127.0.0.1:{self.port}/$1; }}")
        if self.extra_locations:
            w.append(self.extra_locations)
        return "\n    ".join(w)

    def _config(self):
        wd = self.workdir
        user = "user root root;" if os.geteuid() == 0 else ""
        tls_server = ""
        if self.tls:
            tls_server = f"""
  server {{
    listen 127.0.0.1:{self.tls_port} ssl;
    server_name localhost;
    root {self.root};
    ssl_certificate {self.cert[0]};
    ssl_certificate_key {self.cert[1]};
    ssl_protocols TLSv1.2 TLSv1.3;
    {self._locations("https")}
  }}"""
        return f"""{user}
daemon off;
master_process on;
worker_processes 2;
pid {wd}/nginx.pid;
error_log {wd}/error.log info;
events {{ worker_connections 1024; }}
http {{
  log_format mrsi '$remote_addr "$request" $status $body_bytes_sent "$http_range" '
                  'conn=$connection "$http_user_agent" x-mrsi-test="$http_x_mrsi_test"';
  access_log {wd}/access.log mrsi;
  client_body_temp_path {wd}/client_body;
  proxy_temp_path {wd}/proxy;
  fastcgi_temp_path {wd}/fastcgi;
  uwsgi_temp_path {wd}/uwsgi;
  scgi_temp_path {wd}/scgi;
  types {{ application/json json; text/plain txt md; }}
  default_type application/octet-stream;
  sendfile on;
  tcp_nopush on;
  keepalive_timeout 65;
  keepalive_requests 100000;
  {self.extra_http}
  server {{
    listen 127.0.0.1:{self.port};
    server_name localhost;
    root {self.root};
    {self._locations("http")}
  }}{tls_server}
}}
"""

    def __enter__(self):
        self.workdir.mkdir(parents=True, exist_ok=True)
        last = None
        for _ in range(3):  # a picked port can be taken by someone else before nginx binds it
            self.port, self.tls_port = free_ports(2)
            conf = self.workdir / "nginx.conf"
            conf.write_text(self._config())
            with open(self.workdir / "stderr.log", "wb") as errf:
                self.proc = subprocess.Popen(
                    ["nginx", "-c", str(conf), "-p", str(self.workdir), "-e",
                     str(self.workdir / "error.log")],
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errf,
                    start_new_session=True)
            try:
                wait_for_port(self.port, proc=self.proc)
                if self.tls:
                    wait_for_port(self.tls_port, proc=self.proc)
                return self
            except (RuntimeError, TimeoutError) as e:
                last = e
                _stop_process(self.proc, signal.SIGTERM)
        raise RuntimeError(f"nginx did not start: {last}\n{self.error_log()}")

    def __exit__(self, *exc):
        _stop_process(self.proc, signal.SIGTERM)
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def error_log(self):
        out = []
        for name in ("stderr.log", "error.log"):
            p = self.workdir / name
            if p.exists():
                out.append(p.read_text(errors="replace"))
        return "".join(out)

    def access_log_lines(self):
        p = self.workdir / "access.log"
        return p.read_text(errors="replace").splitlines() if p.exists() else []


# ---- tinyproxy -------------------------------------------------------------------------------

class Tinyproxy:
    """tinyproxy on 127.0.0.1:self.port, logging at Info level (CONNECT requests appear in
    log_text()). `url` is http://127.0.0.1:PORT for HTTP_PROXY/HTTPS_PROXY."""

    def __init__(self, workdir=None):
        self._own_workdir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="mrsi-tinyproxy-"))
        self.port = None
        self.proc = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        self.workdir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            # tinyproxy drops root to User/Group; its log must stay writable after that.
            os.chmod(self.workdir, 0o777)
        last = None
        for _ in range(3):
            self.port = free_port()
            log = self.workdir / "tinyproxy.log"
            conf = self.workdir / "tinyproxy.conf"
            user = "User nobody\nGroup nogroup\n" if os.geteuid() == 0 else ""
            conf.write_text(f"""{user}Port {self.port}
Listen 127.0.0.1
Timeout 60
LogFile "{log}"
LogLevel Info
MaxClients 200
Allow 127.0.0.1
DisableViaHeader Yes
""")
            with open(self.workdir / "stderr.log", "wb") as errf:
                self.proc = subprocess.Popen(["tinyproxy", "-d", "-c", str(conf)],
                                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                             stderr=errf, start_new_session=True)
            try:
                wait_for_port(self.port, proc=self.proc)
                return self
            except (RuntimeError, TimeoutError) as e:
                last = e
                _stop_process(self.proc)
        raise RuntimeError(f"tinyproxy did not start: {last}\n{self.log_text()}")

    def __exit__(self, *exc):
        _stop_process(self.proc)
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def log_text(self):
        out = []
        for name in ("stderr.log", "tinyproxy.log"):
            p = self.workdir / name
            if p.exists():
                out.append(p.read_text(errors="replace"))
        return "".join(out)


# ---- module fixtures --------------------------------------------------------------------------
# For setUpModule/tearDownModule: the servers a test module starts live in a dict `ctx` of the
# module, under ctx["tmp"] (a temporary directory) and one key per server.

def module_tmp(ctx, prefix):
    """A new temporary directory, kept as ctx["tmp"], holding an empty folder "root" for the
    files a server serves; returns (tmp, root)."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    ctx["tmp"] = tmp
    root = tmp / "root"
    root.mkdir()
    return tmp, root


def start_tls_nginx(ctx, tmp, root):
    """A CA made in tmp/ca, a StreamServer over root and nginx serving root over HTTP and HTTPS
    (/chunked/ and /eof/ through that server), kept as ctx["ca"], ctx["stream"], ctx["nginx"]."""
    ctx["ca"] = make_ca(tmp / "ca")
    ctx["stream"] = StreamServer(root).__enter__()
    ctx["nginx"] = Nginx(root, tls=ctx["ca"], stream_port=ctx["stream"].port).__enter__()


def stop_module(ctx, *keys):
    """Stops the servers ctx[key] that were started, in the order given, then removes
    ctx["tmp"]."""
    for k in keys:
        if k in ctx:
            ctx[k].__exit__(None, None, None)
    shutil.rmtree(ctx["tmp"], ignore_errors=True)


# ---- the binary under test ----------------------------------------------------------------------

def source_root():
    return Path(os.environ.get("MRSI_SOURCE_ROOT") or Path(__file__).resolve().parents[2])


def tool_path():
    """$MRSI_BIN, else build/mr-storage-initializer in the source tree."""
    p = os.environ.get("MRSI_BIN") or str(source_root() / "build" / "mr-storage-initializer")
    if not os.access(p, os.X_OK):
        raise FileNotFoundError(f"binary under test not found or not executable: {p}")
    return p


def tool_env(extra=None, keep_tls_env=False, keep_proxy_env=False):
    """The environment for the binary: ours minus the machine's CA-bundle and proxy variables
    (unless kept), plus `extra` (a value of None removes a variable)."""
    env = dict(os.environ)
    if not keep_tls_env:
        for k in TLS_ENV_VARS:
            env.pop(k, None)
    if not keep_proxy_env:
        for k in PROXY_ENV_VARS:
            env.pop(k, None)
    for k, v in (extra or {}).items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


@dataclass
class ToolResult:
    rc: int
    stdout: str
    stderr: str
    seconds: float

    def __iter__(self):  # allows rc, out, err = run_tool(...)
        return iter((self.rc, self.stdout, self.stderr))

    @property
    def last_line(self):
        lines = [l for l in self.stderr.splitlines() if l.strip()]
        return lines[-1] if lines else ""

    def describe(self):
        tail = "\n".join(self.stderr.splitlines()[-25:])
        return f"exit {self.rc} after {self.seconds:.1f} s; stderr tail:\n{tail}\nstdout:\n{self.stdout[-2000:]}"


def start_tool(args, env=None, **kw):
    """Starts the binary with `args` in its own process group; returns the Popen."""
    return subprocess.Popen([tool_path(), *map(str, args)], env=tool_env(env, **kw),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, errors="replace",
                            start_new_session=True)


def run_tool(args, env=None, timeout=180, **kw):
    """Runs the binary to completion within `timeout` seconds; returns ToolResult
    (also unpackable as rc, stdout, stderr). On timeout the process group is killed and
    AssertionError raised with what it printed."""
    t0 = time.monotonic()
    proc = start_tool(args, env, **kw)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, err = proc.communicate(timeout=30)
        raise AssertionError(f"{' '.join(map(str, args))} did not finish within {timeout} s; "
                             f"stderr tail:\n" + "\n".join(err.splitlines()[-25:]))
    return ToolResult(proc.returncode, out, err, time.monotonic() - t0)


def parse_summary(stderr):
    """The key=value fields of the last 'summary:' line of stderr, or None."""
    for line in reversed(stderr.splitlines()):
        s = line.strip()
        idx = s.find("summary:")
        if idx == -1:
            continue
        fields = {}
        for tok in s[idx + len("summary:"):].split():
            k, sep, v = tok.partition("=")
            if sep:
                fields[k] = v
        return fields
    return None


# ---- command line: serve a directory for scripts (scripts/demo.sh) --------------------------

def main(argv=None):
    """`servers.py nginx --root DIR --tls-dir DIR [--max-seconds N]`: generates a CA into
    --tls-dir, serves --root over HTTP and HTTPS and prints one JSON line
    {"http_port", "https_port", "ca_cert", "http_url", "https_url"} once ready; runs until
    SIGTERM/SIGINT or --max-seconds, then stops nginx."""
    import argparse
    import json

    p = argparse.ArgumentParser(prog="servers.py")
    sub = p.add_subparsers(dest="cmd", required=True)
    n = sub.add_parser("nginx", help="serve a directory over HTTP and HTTPS")
    n.add_argument("--root", required=True)
    n.add_argument("--tls-dir", required=True)
    n.add_argument("--max-seconds", type=float, default=3600)
    a = p.parse_args(argv)

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda *_: stop.set())
    ca = make_ca(a.tls_dir)
    with Nginx(a.root, tls=ca, workdir=Path(a.tls_dir) / "nginx") as ng:
        print(json.dumps({"http_port": ng.port, "https_port": ng.tls_port,
                          "ca_cert": ca.ca_cert, "http_url": ng.url(""),
                          "https_url": ng.tls_url("")}), flush=True)
        stop.wait(a.max_seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
