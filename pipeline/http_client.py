"""The one polite HTTP client every request of the pipeline goes through.

Polite means, per host: a named User-Agent; a minimum delay between requests (and, when there is
a delay, one request at a time); retries with exponential backoff and jitter on connection errors,
timeouts, 5xx, 429 and truncated bodies, honouring Retry-After for the whole host; a size cap;
redirects followed only to the configured hosts.
"""

from __future__ import annotations

import email.utils
import hashlib
import logging
import random
import re
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator
from urllib.parse import urljoin, urlsplit

import requests

from . import PROJECT_NAME, PROJECT_URL, __version__
from .config import HttpConfig
from .errors import FetchError, Interrupted, NotFoundError

log = logging.getLogger(__name__)

DEFAULT_USER_AGENT = f"{PROJECT_NAME}/{__version__} (+{PROJECT_URL})"
MAX_REDIRECTS = 5
CHUNK = 1 << 16


@dataclass
class HttpResult:
    """What one successful GET returned: 200 with a body written to a file, or 304."""

    url: str
    status: int
    etag: str | None = None
    last_modified: str | None = None
    size: int = 0
    sha256: str | None = None


class _Retryable(Exception):
    def __init__(self, reason: str, *, status: int | None = None, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.retry_after = retry_after


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Exponential backoff with 'equal jitter': half fixed so waits grow, half random so clients spread."""
    step = min(cap, base * (2**attempt))
    return step / 2 + (rng or random).uniform(0, step / 2)


class HostGate:
    """Spaces the requests to one host at least ``delay`` seconds apart, and backs the host off."""

    def __init__(self, delay: float):
        self.delay = delay
        self._lock = threading.Lock()
        self._next_start = 0.0
        # With a delay, Gutenberg gets one request at a time; without one (loopback, mirrors) any number.
        self._slot = threading.Semaphore(1) if delay > 0 else None

    def slow_down(self, delay: float) -> None:
        """Raise the delay (a robots.txt Crawl-delay); a delayed host also gets one request at a time."""
        with self._lock:
            if delay > self.delay:
                self.delay = delay
                if self._slot is None:
                    self._slot = threading.Semaphore(1)

    def hold_off(self, seconds: float) -> None:
        with self._lock:
            self._next_start = max(self._next_start, time.monotonic() + seconds)

    @contextmanager
    def turn(self, stop: threading.Event) -> Iterator[None]:
        slot = self._slot
        if slot is not None:
            while not slot.acquire(timeout=0.2):
                if stop.is_set():
                    raise Interrupted("interrupted")
        try:
            with self._lock:
                now = time.monotonic()
                start = max(now, self._next_start)
                self._next_start = start + self.delay
            if start > now and stop.wait(start - now):
                raise Interrupted("interrupted")
            yield
        finally:
            if slot is not None:
                slot.release()


class PoliteClient:
    """GETs URLs into files, politely. Thread-safe: each thread gets its own connection pool."""

    def __init__(
        self,
        http: HttpConfig | None = None,
        *,
        allowed_hosts: set[str],
        delays: dict[str, float] | None = None,
        stop: threading.Event | None = None,
    ):
        self.http = http or HttpConfig()
        self.allowed_hosts = {h.lower() for h in allowed_hosts}
        self.user_agent = self.http.user_agent or DEFAULT_USER_AGENT
        self.stop = stop or threading.Event()
        self._delays = {h.lower(): d for h, d in (delays or {}).items()}
        self._gates: dict[str, HostGate] = {}
        self._gates_lock = threading.Lock()
        self._local = threading.local()

    def gate(self, host: str) -> HostGate:
        with self._gates_lock:
            if host not in self._gates:
                delay = self._delays.get(host, 0.0 if self.http.delay is None else self.http.delay)
                self._gates[host] = HostGate(delay)
            return self._gates[host]

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers["User-Agent"] = self.user_agent
            self._local.session = session
        return session

    def _sleep(self, seconds: float) -> None:
        if seconds > 0 and self.stop.wait(seconds):
            raise Interrupted("interrupted")

    def get_to_file(self, url: str, dest: Path, headers: dict[str, str] | None = None) -> HttpResult:
        """GET ``url``, writing a 200's body to ``dest`` (truncated at each attempt).

        Returns the result of the first attempt that gives 200 or 304. Raises NotFoundError on
        404/410, FetchError on another 4xx, on too large a body, on a redirect off the configured
        hosts, or when every retry failed; Interrupted when ``stop`` is set.
        """
        attempt = 0
        while True:
            if self.stop.is_set():
                raise Interrupted("interrupted")
            try:
                return self._follow_redirects(url, dest, headers or {})
            except _Retryable as exc:
                if attempt >= self.http.retries:
                    tries = "attempt" if attempt == 0 else "attempts"
                    raise FetchError(f"{exc.reason} after {attempt + 1} {tries}", url=url, status=exc.status) from None
                wait = exc.retry_after if exc.retry_after is not None else backoff_delay(
                    attempt, self.http.backoff, self.http.max_backoff)
                wait = min(wait, self.http.max_backoff)
                log.info("%s: %s; retrying in %.1f s", url, exc.reason, wait)
                if exc.status is not None:
                    # The server asked to slow down: every request to it waits, not just this one.
                    self.gate(_host(url)).hold_off(wait)
                else:
                    self._sleep(wait)
                attempt += 1

    def _follow_redirects(self, url: str, dest: Path, headers: dict[str, str]) -> HttpResult:
        for _ in range(MAX_REDIRECTS + 1):
            host = _host(url)
            if host not in self.allowed_hosts:
                raise FetchError(
                    f"{url}: host {host} is not one of the configured hosts ({', '.join(sorted(self.allowed_hosts))})",
                    url=url)
            with self.gate(host).turn(self.stop):
                result = self._attempt(url, dest, headers)
            if isinstance(result, HttpResult):
                return result
            url = result
        raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects", url=url)

    def _attempt(self, url: str, dest: Path, headers: dict[str, str]) -> HttpResult | str:
        """One request. Returns the result, or the next URL of a redirect."""
        timeout = (self.http.connect_timeout, self.http.read_timeout)
        try:
            response = self._session().get(url, headers=headers, stream=True, allow_redirects=False, timeout=timeout)
        except requests.Timeout:
            raise _Retryable("timed out") from None
        except requests.RequestException as exc:
            raise _Retryable(f"connection failed ({_short(exc)})") from None
        with response:
            status = response.status_code
            if response.is_redirect and "Location" in response.headers:
                return urljoin(url, response.headers["Location"])
            if status == 304:
                return HttpResult(url=url, status=304, etag=response.headers.get("ETag"),
                                  last_modified=response.headers.get("Last-Modified"))
            if status == 200:
                return self._read_body(url, response, dest)
            if status == 429 or status >= 500:
                raise _Retryable(f"HTTP {status}", status=status,
                                 retry_after=parse_retry_after(response.headers.get("Retry-After")))
            if status in (404, 410):
                raise NotFoundError(f"HTTP {status} for {url}", url=url, status=status)
            raise FetchError(f"HTTP {status} for {url}", url=url, status=status)

    def _read_body(self, url: str, response: requests.Response, dest: Path) -> HttpResult:
        cap = self.http.max_file_size
        length_header = response.headers.get("Content-Length", "")
        expected = int(length_header) if length_header.isdigit() else None
        if expected is not None and expected > cap:
            raise FetchError(f"{url}: {expected} bytes is over the size cap of {cap} bytes (--max-file-size)", url=url)
        digest = hashlib.sha256()
        size = 0
        with open(dest, "wb") as out:
            try:
                for chunk in response.iter_content(CHUNK):
                    if self.stop.is_set():
                        raise Interrupted("interrupted")
                    size += len(chunk)
                    if size > cap:
                        raise FetchError(f"{url}: body is over the size cap of {cap} bytes (--max-file-size)", url=url)
                    digest.update(chunk)
                    out.write(chunk)
            except requests.RequestException as exc:
                raise _Retryable(f"body cut short ({_short(exc)})") from None
        received = response.raw.tell()  # bytes off the wire, before any Content-Encoding is undone
        if expected is not None and received < expected:
            raise _Retryable(f"body cut short ({received} of {expected} bytes)")
        return HttpResult(url=url, status=200, etag=response.headers.get("ETag"),
                          last_modified=response.headers.get("Last-Modified"), size=size,
                          sha256=digest.hexdigest())


def _host(url: str) -> str:
    return urlsplit(url).netloc.lower()


def _short(exc: BaseException) -> str:
    incomplete = re.search(r"IncompleteRead\((\d+) bytes read, (\d+) more expected", str(exc))
    if incomplete:
        got, more = map(int, incomplete.groups())
        return f"{got} of {got + more} bytes"
    errno = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", str(exc))
    if errno:
        return errno.group(1).strip()
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."
