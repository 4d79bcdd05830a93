#!/usr/bin/env python3
"""TCP fault proxy for integration tests: forwards 127.0.0.1 connections to an upstream and injects
faults on the upstream->client direction (reset after N bytes on every K-th connection, stall
without closing, latency before the first byte, a bandwidth cap shared by all connections).

Usable as a class (runs its own asyncio loop in a daemon thread; a context manager) or as a CLI:
    fault_proxy.py --upstream 127.0.0.1:8080 [--port 0] [--reset-after N --reset-every K]
                   [--stall-after N --stall-every K] [--latency-ms MS] [--rate BYTES_PER_S]
The CLI prints "listening on PORT" once ready. Python 3.11 standard library only.
"""

import argparse
import asyncio
import socket
import struct
import sys
import threading
import time

CHUNK = 64 * 1024


class _TokenBucket:
    """Bandwidth cap shared by all connections; `rate` may change while running (None = no cap)."""

    def __init__(self, owner):
        self._owner = owner
        self._next = time.monotonic()

    async def take(self, n):
        rate = self._owner.rate
        if not rate:
            return
        now = time.monotonic()
        start = max(now, self._next)
        # Allow a small burst so tiny chunks don't each pay a sleep.
        self._next = start + n / rate
        delay = self._next - now - 0.05
        if delay > 0:
            await asyncio.sleep(delay)


class FaultProxy:
    """Fault-injecting TCP proxy. Settings are plain attributes and may be changed while running
    (they are read per chunk or per connection):

    reset_after: bytes sent to the client on a connection after which the connection is reset
                 (RST), applied to connections whose 1-based number is a multiple of reset_every.
    stall_after: bytes after which the proxy stops forwarding and reading (the connection stays
                 open and silent until the client gives up or the proxy stops), on every
                 stall_every-th connection.
    latency_ms:  delay before the first byte sent to the client on each connection.
    rate:        bytes per second for all connections together (None or 0 = unlimited).
    max_faults:  stop injecting resets/stalls after this many (None = no limit).

    Counters (read any time): connections, resets, stalls, bytes_down, bytes_up.
    """

    def __init__(self, upstream_host, upstream_port, port=0, host="127.0.0.1", *,
                 reset_after=None, reset_every=1, stall_after=None, stall_every=1,
                 latency_ms=0, rate=None, max_faults=None):
        self.upstream = (upstream_host, upstream_port)
        self.host = host
        self.port = port
        self.reset_after = reset_after
        self.reset_every = reset_every
        self.stall_after = stall_after
        self.stall_every = stall_every
        self.latency_ms = latency_ms
        self.rate = rate
        self.max_faults = max_faults
        self.connections = 0
        self.resets = 0
        self.stalls = 0
        self.bytes_down = 0
        self.bytes_up = 0
        self._bucket = _TokenBucket(self)
        self._server = None
        self._loop = None
        self._thread = None
        self._writers = set()
        self._stalled = set()

    # ---- faults -------------------------------------------------------------------------
    def _faults_left(self):
        return self.max_faults is None or self.resets + self.stalls < self.max_faults

    def _plan(self, number):
        reset_at = stall_at = None
        if self.reset_after is not None and number % max(1, self.reset_every) == 0:
            reset_at = self.reset_after
        if self.stall_after is not None and number % max(1, self.stall_every) == 0:
            stall_at = self.stall_after
        return reset_at, stall_at

    # ---- connection handling ------------------------------------------------------------
    async def _handle(self, client_reader, client_writer):
        self.connections += 1
        number = self.connections
        reset_at, stall_at = self._plan(number)
        self._writers.add(client_writer)
        try:
            up_reader, up_writer = await asyncio.wait_for(
                asyncio.open_connection(*self.upstream), timeout=10)
        except (OSError, asyncio.TimeoutError):
            self._abort(client_writer)
            self._writers.discard(client_writer)
            return
        self._writers.add(up_writer)
        up_task = asyncio.ensure_future(self._pump_up(client_reader, up_writer))
        try:
            await self._pump_down(up_reader, client_reader, client_writer, reset_at, stall_at,
                                  up_task)
        finally:
            up_task.cancel()
            for w in (client_writer, up_writer):
                self._writers.discard(w)
                if not w.is_closing():
                    w.close()

    async def _pump_up(self, client_reader, up_writer):
        try:
            while True:
                data = await client_reader.read(CHUNK)
                if not data:
                    if up_writer.can_write_eof():
                        up_writer.write_eof()
                    return
                self.bytes_up += len(data)
                up_writer.write(data)
                await up_writer.drain()
        except (OSError, asyncio.CancelledError):
            return

    async def _pump_down(self, up_reader, client_reader, client_writer, reset_at, stall_at,
                         up_task):
        sent = 0
        first = True
        try:
            while True:
                limit = CHUNK
                for at in (reset_at, stall_at):
                    if at is not None and at > sent:
                        limit = min(limit, at - sent)
                if reset_at is not None and sent >= reset_at and self._faults_left():
                    self.resets += 1
                    self._abort(client_writer)
                    return
                if stall_at is not None and sent >= stall_at and self._faults_left():
                    self.stalls += 1
                    await self._stall(client_reader, up_task)
                    return
                data = await up_reader.read(limit)
                if not data:
                    if client_writer.can_write_eof():
                        client_writer.write_eof()
                    # Keep the connection until the client is done sending (half-close).
                    await up_task
                    return
                if first and self.latency_ms:
                    await asyncio.sleep(self.latency_ms / 1000)
                first = False
                await self._bucket.take(len(data))
                client_writer.write(data)
                await client_writer.drain()
                sent += len(data)
                self.bytes_down += len(data)
        except (OSError, asyncio.CancelledError):
            return

    async def _stall(self, client_reader, up_task):
        # Silence: forward nothing more, keep the socket open until the client closes it or the
        # proxy stops. Whatever the client still sends is read and dropped (to notice its close).
        up_task.cancel()
        stop = asyncio.Event()
        self._stalled.add(stop)

        async def until_eof():
            try:
                while await client_reader.read(CHUNK):
                    pass
            except OSError:
                pass

        tasks = [asyncio.ensure_future(until_eof()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in tasks:
                t.cancel()
            self._stalled.discard(stop)

    @staticmethod
    def _abort(writer):
        sock = writer.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
        writer.transport.abort()

    # ---- lifecycle ----------------------------------------------------------------------
    async def _start_async(self):
        self._server = await asyncio.start_server(self._handle, self.host, self.port,
                                                  reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop_async(self):
        self._server.close()
        for e in list(self._stalled):
            e.set()
        for w in list(self._writers):
            w.transport.abort()
        await self._server.wait_closed()

    def start(self):
        """Starts the proxy on a daemon thread; returns once it listens (self.port is set)."""
        ready = threading.Event()
        failure = []

        def run():
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            try:
                self._loop.run_until_complete(self._start_async())
            except Exception as e:  # reported to the starting thread
                failure.append(e)
                ready.set()
                return
            ready.set()
            self._loop.run_forever()
            self._loop.close()

        self._thread = threading.Thread(target=run, name="fault-proxy", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fault proxy did not start within 10 s")
        if failure:
            raise failure[0]
        return self

    def stop(self):
        if self._loop is None:
            return
        fut = asyncio.run_coroutine_threadsafe(self._stop_async(), self._loop)
        try:
            fut.result(timeout=10)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def stats(self):
        return {"connections": self.connections, "resets": self.resets, "stalls": self.stalls,
                "bytes_down": self.bytes_down, "bytes_up": self.bytes_up}


def _parse_hostport(text):
    host, _, port = text.rpartition(":")
    return host or "127.0.0.1", int(port)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--upstream", required=True, help="HOST:PORT to forward to")
    p.add_argument("--port", type=int, default=0, help="listen port on 127.0.0.1 (0 = any)")
    p.add_argument("--reset-after", type=int)
    p.add_argument("--reset-every", type=int, default=1)
    p.add_argument("--stall-after", type=int)
    p.add_argument("--stall-every", type=int, default=1)
    p.add_argument("--latency-ms", type=int, default=0)
    p.add_argument("--rate", type=float, help="bytes per second, all connections together")
    p.add_argument("--max-faults", type=int)
    a = p.parse_args(argv)
    host, port = _parse_hostport(a.upstream)
    proxy = FaultProxy(host, port, a.port, reset_after=a.reset_after, reset_every=a.reset_every,
                       stall_after=a.stall_after, stall_every=a.stall_every,
                       latency_ms=a.latency_ms, rate=a.rate, max_faults=a.max_faults)

    async def run():
        await proxy._start_async()
        print(f"listening on {proxy.port}", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await proxy._stop_async()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass
    print(f"stats {proxy.stats()}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
