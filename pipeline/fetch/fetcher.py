"""Cached, conditional, robots-aware fetching: the only way stages get bytes.

A URL already in the cache is asked for with If-None-Match / If-Modified-Since, so a rerun
re-downloads nothing unchanged; what comes back is written into the cache atomically.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

from ..errors import FetchError, NotFoundError
from .cache import CacheEntry, RawCache
from .client import CHUNK, PoliteClient

log = logging.getLogger(__name__)

# robots.txt lines whose value urllib.robotparser turns into an int: only ASCII digits it can read are let through
_NUMERIC_RULE = re.compile(r"\s*(crawl-delay|request-rate)\s*:(.*)", re.IGNORECASE)
_SANE_VALUE = {"crawl-delay": re.compile(r"\s*[0-9]{1,9}\s*(#.*)?", re.ASCII),
               "request-rate": re.compile(r"\s*[0-9]{1,9}\s*/\s*[0-9]{1,9}\s*(#.*)?", re.ASCII)}

DOWNLOADED = "downloaded"
UNCHANGED = "unchanged"  # fetched again (the server ignored our validators) but the same bytes
NOT_MODIFIED = "not_modified"


@dataclass(frozen=True)
class Fetched:
    entry: CacheEntry
    state: str
    """DOWNLOADED (new or changed bytes), UNCHANGED or NOT_MODIFIED."""

    @property
    def path(self) -> Path:
        return self.entry.path

    @property
    def changed(self) -> bool:
        return self.state == DOWNLOADED

    def read_bytes(self) -> bytes:
        return self.entry.path.read_bytes()


class Fetcher:
    def __init__(self, client: PoliteClient, cache: RawCache, *, respect_robots: bool = True):
        self.client = client
        self.cache = cache
        self.respect_robots = respect_robots
        self._robots: dict[str, RobotFileParser | None] = {}
        self._robots_lock = threading.Lock()

    def fetch(self, url: str) -> Fetched:
        """The bytes of ``url``, from the cache when the server says they have not changed.

        A URL off the configured hosts or the site's known paths is refused before anything is
        requested or written."""
        self.client.check(url)
        self._check_robots(url)
        return self._fetch(url)

    def _fetch(self, url: str) -> Fetched:
        entry = self._trusted_entry(url)
        headers = {}
        if entry is not None:
            if entry.etag:
                headers["If-None-Match"] = entry.etag
            if entry.last_modified:
                headers["If-Modified-Since"] = entry.last_modified
        temp = self.cache.temp_path(url)
        try:
            result = self.client.get_to_file(url, temp, headers)
            if result.status == 304:
                if entry is None:
                    raise FetchError(f"{url}: the server answered 304 to an unconditional request", url=url)
                self.cache.touch(url, result.etag)
                return Fetched(entry, NOT_MODIFIED)
            fresh = self.cache.commit(url, temp, etag=result.etag, last_modified=result.last_modified,
                                      size=result.size, sha256=result.sha256 or "")
        finally:
            temp.unlink(missing_ok=True)
        same = entry is not None and entry.sha256 == fresh.sha256
        return Fetched(fresh, UNCHANGED if same else DOWNLOADED)

    def fetch_local(self, path: Path) -> Fetched:
        """Copy a file of a local mirror into the cache, unless its size and mtime are as last time."""
        path = Path(path).resolve()
        url = path.as_uri()
        try:
            stat = path.stat()
        except FileNotFoundError:
            raise NotFoundError(f"no file {path}", url=url) from None
        if not path.is_file():
            raise NotFoundError(f"{path} is not a file", url=url)
        version = f"{stat.st_mtime_ns}-{stat.st_size}"
        entry = self._trusted_entry(url)
        if entry is not None and entry.etag == version:
            self.cache.touch(url)
            return Fetched(entry, NOT_MODIFIED)
        cap = self.client.http.max_file_size
        if stat.st_size > cap:
            raise FetchError(f"{path}: {stat.st_size} bytes is over the size cap of {cap} bytes (--max-file-size)",
                             url=url)
        temp = self.cache.temp_path(url)
        digest = hashlib.sha256()
        size = 0
        try:
            with open(path, "rb") as src, open(temp, "wb") as out:
                for block in iter(lambda: src.read(CHUNK), b""):
                    digest.update(block)
                    out.write(block)
                    size += len(block)
            fresh = self.cache.commit(url, temp, etag=version, last_modified=None, size=size,
                                      sha256=digest.hexdigest())
        except OSError as exc:  # reading the mirror or writing the cache (a full disk)
            raise FetchError(f"cannot copy {path} into the cache: {exc.strerror or exc}", url=url) from None
        finally:
            temp.unlink(missing_ok=True)
        same = entry is not None and entry.sha256 == fresh.sha256
        return Fetched(fresh, UNCHANGED if same else DOWNLOADED)

    def cached(self, location: str, *, local: bool = False) -> Fetched | None:
        """The intact cached copy of a URL (or a local mirror file), without asking anyone; None if none."""
        url = Path(location).resolve().as_uri() if local else location
        entry = self.cache.lookup(url)
        if entry is None or not self.cache.is_intact(entry):
            return None
        return Fetched(entry, NOT_MODIFIED)

    def _trusted_entry(self, url: str) -> CacheEntry | None:
        entry = self.cache.lookup(url)
        if entry is not None and not self.cache.is_intact(entry):
            log.warning("cached copy of %s is missing, partial or corrupt; fetching it again", url)
            self.cache.forget(url)
            return None
        return entry

    def _check_robots(self, url: str) -> None:
        if not self.respect_robots:
            return
        robots = self._robots_for(url)
        if robots is not None and not robots.can_fetch(self.client.user_agent, url):
            raise FetchError(f"{url} is disallowed by the host's robots.txt", url=url)

    def _robots_for(self, url: str) -> RobotFileParser | None:
        parts = urlsplit(url)
        host = parts.netloc.lower()
        with self._robots_lock:
            if host in self._robots:
                return self._robots[host]
            robots_url = f"{parts.scheme}://{parts.netloc}/robots.txt"
            try:
                text = self._fetch(robots_url).read_bytes().decode("utf-8", "replace")
            except NotFoundError:
                text = ""
            except FetchError as exc:
                if exc.status is None:  # the host cannot be reached at all: let the real request say so
                    raise
                log.warning("could not read %s (%s); going on as if it allowed everything", robots_url, exc)
                text = ""
            robots = None
            if text.strip():
                robots = RobotFileParser(robots_url)
                robots.parse(sane_robots_lines(text, host))
                crawl_delay = robots.crawl_delay(self.client.user_agent)
                if crawl_delay:
                    self.client.gate(host).slow_down(self._capped(float(crawl_delay), host))
            self._robots[host] = robots
            return robots

    def _capped(self, crawl_delay: float, host: str) -> float:
        cap = self.client.http.max_crawl_delay
        if crawl_delay <= cap:
            return crawl_delay
        log.warning("%s asks in its robots.txt for %g s between requests (Crawl-delay); waiting %g s instead, "
                    "the most this tool waits", host, crawl_delay, cap)
        return cap


def sane_robots_lines(text: str, host: str) -> list[str]:
    """robots.txt's lines, less any Crawl-delay or Request-rate whose value is not plain ASCII digits
    (``²``, 5,000 digits): urllib.robotparser would crash on them. Each one left out is logged."""
    lines = []
    for line in text.splitlines():
        rule = _NUMERIC_RULE.fullmatch(line)
        if rule and not _SANE_VALUE[rule.group(1).lower()].fullmatch(rule.group(2)):
            log.warning("%s: ignored %s in its robots.txt: not a number of seconds", host, ascii(line.strip())[:80])
            continue
        lines.append(line)
    return lines
