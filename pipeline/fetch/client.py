"""The one polite HTTP client every request of the pipeline goes through.

Polite means, per host: a named User-Agent; a minimum delay between requests (and, when there is
a delay, one request at a time); retries with exponential backoff and jitter on connection errors,
timeouts, 5xx, 429 and truncated bodies, honouring Retry-After for the whole host; a size cap;
redirects followed only to the configured hosts and the site's known paths.

Safe against the server, too: every request has a total deadline, and a watchdog shuts the socket
of a request that passes it, or of every request once the stop flag is set, so neither a body that
drips a byte a second nor a server that never answers can hold a build (or its lock). Header values
the server controls (Content-Length, Retry-After, ETag) are parsed as ASCII within sane bounds;
anything else is a failed attempt with its reason, never a crash.
"""

from __future__ import annotations

import email.utils
import hashlib
import http.client
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
import urllib3

from .. import PROJECT_NAME, PROJECT_URL, __version__
from ..config import HttpConfig
from ..errors import CacheWriteError, FetchError, Interrupted, NotFoundError
from ..files import no_follow
from .site import UrlPolicy
from .watchdog import Attempt, Watchdog, WatchedAdapter

log = logging.getLogger(__name__)

DEFAULT_USER_AGENT = f"{PROJECT_NAME}/{__version__} (+{PROJECT_URL})"
MAX_REDIRECTS = 5
CHUNK = 1 << 16
MAX_VALIDATOR = 1024
"""Longer ETag or Last-Modified values are not stored, nor sent back."""
# what a misbehaving server or connection raises from inside requests, urllib3 or http.client
_TRANSPORT_ERRORS = (requests.RequestException, urllib3.exceptions.HTTPError, http.client.HTTPException,
                     ValueError, UnicodeError)


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
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), or None.

    Only ASCII digits count (``²`` is not 2); an absurdly long number is "a long time", which the
    caller caps; anything unreadable is None, so the usual backoff applies.
    """
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value) if len(value) <= 9 else float("inf")
    if not value.isascii() or len(value) > 64:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


def parse_content_length(value: str | None) -> int | None:
    """The body size a Content-Length header announces; None when there is none.

    Raises ValueError for anything but ASCII digits; a number too long to be real is returned as
    more than any size cap, without building a 5,000-digit integer.
    """
    if value is None:
        return None
    value = value.strip()
    if not (value.isascii() and value.isdigit()):
        raise ValueError(f"invalid Content-Length header {_shown(value)}")
    return int(value) if len(value) <= 18 else 10**18


def _validator(value: str | None) -> str | None:
    """An ETag or Last-Modified worth keeping: short, printable, sendable back as a header."""
    if not value or len(value) > MAX_VALIDATOR or not value.isprintable():
        return None
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return None
    return value


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
        policy: UrlPolicy | None = None,
    ):
        self.http = http or HttpConfig()
        self.allowed_hosts = {h.lower() for h in allowed_hosts}
        self.policy = policy
        """The URLs (redirect targets included) this client may request; None: any on the allowed hosts."""
        self.user_agent = self.http.user_agent or DEFAULT_USER_AGENT
        self.stop = stop or threading.Event()
        self._delays = {h.lower(): d for h, d in (delays or {}).items()}
        self._gates: dict[str, HostGate] = {}
        self._gates_lock = threading.Lock()
        self._local = threading.local()
        self._watchdog = Watchdog(self.stop)

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
            session.mount("http://", WatchedAdapter())
            session.mount("https://", WatchedAdapter())
            self._local.session = session
        return session

    def check(self, url: str) -> None:
        """Raise FetchError unless ``url`` is on a configured host (and, with a policy, a known path)."""
        host = _host(url)
        if host not in self.allowed_hosts:
            raise FetchError(
                f"{ascii(url)[1:-1][:300]}: host {ascii(host)[1:-1][:100]} is not one of the configured hosts "
                f"({', '.join(sorted(self.allowed_hosts))})", url=url)
        reason = self.policy.refusal(url) if self.policy is not None else None
        if reason:
            raise FetchError(f"refused {ascii(url)[1:-1][:300]}: {reason}", url=url)

    def _raise_if_aborted(self, attempt: Attempt, url: str) -> None:
        if self.stop.is_set():
            raise Interrupted("interrupted")
        if attempt.expired or time.monotonic() > attempt.deadline_at:
            deadline = self.http.request_deadline
            raise FetchError(f"{url}: not complete after {deadline:g} s, the deadline of one request "
                             f"(--request-deadline)", url=url)

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
                if self.stop.is_set():
                    raise Interrupted("interrupted") from None
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
            self.check(url)
            with self.gate(_host(url)).turn(self.stop):
                result = self._attempt(url, dest, headers)
            if isinstance(result, HttpResult):
                return result
            url = result
        raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects", url=url)

    def _attempt(self, url: str, dest: Path, headers: dict[str, str]) -> HttpResult | str:
        """One request, within the deadline. Returns the result, or the next URL of a redirect."""
        timeout = (self.http.connect_timeout, self.http.read_timeout)
        with self._watchdog.watched(self.http.request_deadline) as attempt:
            try:
                response = self._session().get(url, headers=headers, stream=True, allow_redirects=False,
                                               timeout=timeout)
            except requests.Timeout:
                self._raise_if_aborted(attempt, url)
                raise _Retryable("timed out") from None
            except _TRANSPORT_ERRORS as exc:
                self._raise_if_aborted(attempt, url)
                raise _Retryable(f"connection failed ({_short(exc)})") from None
            with response:
                return self._answer(url, response, dest, attempt)

    def _answer(self, url: str, response: requests.Response, dest: Path, attempt: Attempt) -> HttpResult | str:
        status = response.status_code
        if response.is_redirect and "Location" in response.headers:
            try:
                return urljoin(url, response.headers["Location"])
            except ValueError:
                raise FetchError(f"{url}: redirect to an unreadable Location "
                                 f"{_shown(response.headers['Location'])}", url=url) from None
        if status == 304:
            return HttpResult(url=url, status=304, etag=_validator(response.headers.get("ETag")),
                              last_modified=_validator(response.headers.get("Last-Modified")))
        if status == 200:
            return self._read_body(url, response, dest, attempt)
        if status == 429 or status >= 500:
            raise _Retryable(f"HTTP {status}", status=status,
                             retry_after=parse_retry_after(response.headers.get("Retry-After")))
        if status in (404, 410):
            raise NotFoundError(f"HTTP {status} for {url}", url=url, status=status)
        raise FetchError(f"HTTP {status} for {url}", url=url, status=status)

    def _read_body(self, url: str, response: requests.Response, dest: Path, attempt: Attempt) -> HttpResult:
        cap = self.http.max_file_size
        try:
            expected = parse_content_length(response.headers.get("Content-Length"))
        except ValueError as exc:
            raise _Retryable(str(exc)) from None
        if expected is not None and expected > cap:
            shown = f"{expected}" if expected < 10**18 else "a Content-Length of 19 digits or more"
            raise FetchError(f"{url}: {shown} bytes is over the size cap of {cap} bytes (--max-file-size)", url=url)
        digest = hashlib.sha256()
        size = 0
        try:
            out = open(dest, "wb", opener=no_follow)  # a retry writes the same temp file again
        except OSError as exc:
            raise CacheWriteError(f"cannot write {dest}: {exc.strerror or exc}", url=url) from None
        with out:
            chunks = response.iter_content(CHUNK)
            while True:
                try:
                    chunk = next(chunks, None)
                except _TRANSPORT_ERRORS as exc:
                    self._raise_if_aborted(attempt, url)
                    raise _Retryable(f"body cut short ({_short(exc)})") from None
                if self.stop.is_set() or attempt.aborted or time.monotonic() > attempt.deadline_at:
                    self._raise_if_aborted(attempt, url)
                if chunk is None:
                    break
                size += len(chunk)
                if size > cap:
                    raise FetchError(f"{url}: body is over the size cap of {cap} bytes (--max-file-size)", url=url)
                digest.update(chunk)
                try:
                    out.write(chunk)
                except OSError as exc:
                    raise CacheWriteError(f"cannot write {dest}: {exc.strerror or exc}", url=url) from None
        received = response.raw.tell()  # bytes off the wire, before any Content-Encoding is undone
        if expected is not None and received < expected:
            raise _Retryable(f"body cut short ({received} of {expected} bytes)")
        return HttpResult(url=url, status=200, etag=_validator(response.headers.get("ETag")),
                          last_modified=_validator(response.headers.get("Last-Modified")), size=size,
                          sha256=digest.hexdigest())


def _host(url: str) -> str:
    try:
        return urlsplit(url).netloc.lower()
    except ValueError:
        return ""


def _shown(value: str, limit: int = 40) -> str:
    """A server's header value, safe to print on one line."""
    text = ascii(value)
    return text if len(text) <= limit else text[:limit - 4] + "...'"


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
