"""How a stop or a deadline reaches a thread blocked reading a socket.

A read timeout bounds each ``recv``, not a request: a server that drips a byte a second, or never
answers, holds a worker (and the build, and its lock) for ever, and a stop flag checked between
chunks is not checked while ``recv`` waits. So each request attempt registers the sockets it uses
(through a urllib3 connection class mounted on the session), and a watchdog thread shuts them
down when the stop flag is set or the attempt passes its deadline: the blocked ``recv`` returns at
once and the worker sees why.
"""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from typing import Iterator

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

WATCH_INTERVAL = 0.1
"""Seconds between two looks of the watchdog at the attempts in flight: a stop is honoured this fast."""


class Attempt:
    """One request attempt the watchdog looks after: its socket, and the moment it must be over."""

    def __init__(self, deadline: float):
        self.deadline_at = time.monotonic() + deadline
        self.sockets: list[socket.socket] = []
        self.expired = False
        self.aborted = False

    def abort(self) -> None:
        self.aborted = True
        for sock in self.sockets:
            try:  # wakes the thread blocked reading it: its recv returns at once
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


_current = threading.local()
"""The attempt the current thread is making, for the connection to register its socket with."""


class _WatchedConnectionMixin:
    def connect(self):
        super().connect()
        self._register_socket()

    def getresponse(self, *args, **kwargs):
        self._register_socket()  # a kept-alive connection does not connect again
        return super().getresponse(*args, **kwargs)

    def _register_socket(self) -> None:
        attempt = getattr(_current, "attempt", None)
        sock = getattr(self, "sock", None)
        if attempt is not None and sock is not None and sock not in attempt.sockets:
            attempt.sockets.append(sock)
            if attempt.aborted:
                attempt.abort()


class _WatchedHTTPConnection(_WatchedConnectionMixin, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_WatchedConnectionMixin, HTTPSConnection):
    pass


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class WatchedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class Watchdog:
    """Shuts the sockets of attempts past their deadline, or of all of them once ``stop`` is set.

    Its thread runs only while attempts are in flight, so an idle client holds none."""

    def __init__(self, stop: threading.Event):
        self.stop = stop
        self._in_flight: set[Attempt] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @contextmanager
    def watched(self, deadline: float) -> Iterator[Attempt]:
        """An attempt the current thread's connections register their sockets with."""
        attempt = Attempt(deadline)
        with self._lock:
            self._in_flight.add(attempt)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="http-watchdog", daemon=True)
                self._thread.start()
        _current.attempt = attempt
        try:
            yield attempt
        finally:
            _current.attempt = None
            with self._lock:
                self._in_flight.discard(attempt)

    def _run(self) -> None:
        while True:
            stopping = self.stop.wait(WATCH_INTERVAL)
            now = time.monotonic()
            with self._lock:
                if not self._in_flight:
                    self._thread = None
                    return
                for attempt in self._in_flight:
                    if not attempt.aborted and (stopping or now > attempt.deadline_at):
                        attempt.expired = not stopping
                        attempt.abort()
            if stopping:  # the flag stays set: look again later instead of spinning
                time.sleep(WATCH_INTERVAL)
