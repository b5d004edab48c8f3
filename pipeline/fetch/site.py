"""The URL layout of www.gutenberg.org (and of any host that copies it), and which URLs a build may ask for.

Every URL the pipeline requests is either built here from an id, or (a redirect, a link read off a
page) checked here against the site's known paths before anything is requested or written.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

_BLANK_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f]")
_KNOWN_PATHS = [re.compile(p, re.ASCII) for p in (
    r"/robots\.txt",
    r"/ebooks/bookshelf/",
    r"/ebooks/bookshelf/(?P<n>[0-9]{1,7})/?",
    r"/ebooks/author/(?P<n>[0-9]{1,7})/?",
    r"/browse/scores/top",
    r"/cache/epub/feeds/pg_catalog\.csv",
    r"/cache/epub/(?P<n>[0-9]{1,7})/pg(?P=n)\.(?:txt|rdf)",
    r"/files/(?P<n>[0-9]{1,7})/(?P=n)(?:-0|-8)?\.txt",
)]
_PAGED_PATH = re.compile(r"/ebooks/(?:bookshelf|author)/[0-9]{1,7}/?", re.ASCII)
_PAGE_QUERY = re.compile(r"start_index=[0-9]{1,7}", re.ASCII)
_MIRROR_PATH = re.compile(r"/(?:[0-9]/)+(?P<n>[0-9]{1,7})/(?P=n)(?:-0|-8)?\.txt", re.ASCII)
# what no known path needs, and what path tricks are made of
_SUSPECT = re.compile(r"%|\\|//|(?:^|/)\.\.?(?:/|$)")


@dataclass(frozen=True)
class GutenbergSite:
    base_url: str

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path

    @property
    def shelf_index_url(self) -> str:
        return self.url("/ebooks/bookshelf/")

    def shelf_url(self, shelf_id: int, start_index: int = 1) -> str:
        if start_index <= 1:
            return self.url(f"/ebooks/bookshelf/{shelf_id}")
        return self.url(f"/ebooks/bookshelf/{shelf_id}?start_index={start_index}")

    @property
    def catalog_url(self) -> str:
        return self.url("/cache/epub/feeds/pg_catalog.csv")

    def rdf_url(self, book_id: int) -> str:
        return self.url(f"/cache/epub/{book_id}/pg{book_id}.rdf")

    def text_urls(self, book_id: int) -> list[str]:
        """Where a book's plain text may be, best first: the generated UTF-8 file, then the old uploads."""
        n = book_id
        return [self.url(f"/cache/epub/{n}/pg{n}.txt"), self.url(f"/files/{n}/{n}-0.txt"),
                self.url(f"/files/{n}/{n}-8.txt"), self.url(f"/files/{n}/{n}.txt")]


@dataclass(frozen=True)
class UrlPolicy:
    """The URLs a build may request: the site's known paths under ``base_url`` and, with a mirror URL,
    the mirror's text files; nothing with path tricks (``..``, percent escapes, backslashes, non-ASCII)."""

    base_url: str
    mirror_url: str | None = None

    def __post_init__(self) -> None:
        roots = []
        for root, known in ((self.base_url, self._site_path), (self.mirror_url, self._mirror_path)):
            if root is not None:
                base = urlsplit(root)
                roots.append((base.scheme, base.netloc.lower(), base.path.rstrip("/"), known))
        object.__setattr__(self, "_roots", tuple(roots))

    def refusal(self, url: str) -> str | None:
        """Why ``url`` may not be requested, or None when it may."""
        return _refusal(self, url)

    def _check(self, url: str) -> str | None:
        if not url.isascii() or _BLANK_OR_CONTROL.search(url):
            return "it holds non-ASCII, blank or control characters"
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - a port that is not a number raises here
        except ValueError:
            return "it does not parse as a URL"
        if parts.scheme not in ("http", "https") or parts.fragment or parts.username or parts.password:
            return "it is not a plain http(s) URL"
        if _SUSPECT.search(parts.path) or "%" in parts.query or "\\" in parts.query:
            return "its path holds '..', '.', '//', a backslash or a percent escape"
        netloc = parts.netloc.lower()
        for scheme, host, prefix, known in self._roots:
            if (parts.scheme, netloc) == (scheme, host) and parts.path.startswith(prefix + "/") and known(
                    parts.path[len(prefix):], parts.query):
                return None
        return "it is not one of the site's known paths on a configured host"

    @staticmethod
    def _site_path(path: str, query: str) -> bool:
        if not any(p.fullmatch(path) for p in _KNOWN_PATHS):
            return False
        return not query or (_PAGED_PATH.fullmatch(path) is not None and _PAGE_QUERY.fullmatch(query) is not None)

    @staticmethod
    def _mirror_path(path: str, query: str) -> bool:
        return not query and _MIRROR_PATH.fullmatch(path) is not None


@functools.lru_cache(maxsize=4096)
def _refusal(policy: UrlPolicy, url: str) -> str | None:
    # each URL is checked before robots.txt and the cache see it, then again by the client with its redirects
    return policy._check(url)
