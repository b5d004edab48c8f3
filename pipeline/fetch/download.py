"""Acquisition of a book's plain text into the raw cache, from the site or a mirror."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from ..book import DOWNLOADED, NOT_MODIFIED, Book
from ..errors import FetchError, NotFoundError
from . import mirror as mirror_layout
from .fetcher import Fetched, Fetcher
from .site import GutenbergSite


class TextSource:
    """Where book texts come from: the site's URLs, or a mirror (a URL or a local directory)."""

    def __init__(self, site: GutenbergSite, mirror: str | None = None, *, mirror_is_url: bool = False):
        self.site = site
        self.mirror = mirror
        self.mirror_is_local = bool(mirror) and not mirror_is_url
        self.mirror_is_url = bool(mirror) and mirror_is_url
        self.name = f"mirror:{mirror}" if mirror else site.base_url
        """Identifies the source in the cache, which remembers per source where each book's text was found."""

    def candidates(self, book_id: int) -> list[str]:
        if self.mirror:
            return mirror_layout.text_locations(self.mirror, book_id, is_url=self.mirror_is_url)
        return self.site.text_urls(book_id)

    def fetch(self, fetcher: Fetcher, location: str) -> Fetched:
        if self.mirror_is_local:
            return fetcher.fetch_local(Path(location))
        return fetcher.fetch(location)


def download_text(book: Book, fetcher: Fetcher, source: TextSource) -> None:
    """Fetch ``book``'s text (conditionally, when cached) and record where and what it is on the book.

    Tries the location that worked last time first, then the others best first; a 404 moves on
    to the next, any other failure fails the book.
    """
    cache = fetcher.cache
    candidates = source.candidates(book.id)
    known = cache.text_url(source.name, book.id)
    if known in candidates:
        candidates.remove(known)
        candidates.insert(0, known)
    missing = []
    for location in candidates:
        try:
            fetched = source.fetch(fetcher, location)
        except NotFoundError:
            missing.append(location)
            continue
        except FetchError as exc:
            last_good = fetcher.cached(location, local=source.mirror_is_local) if location == known else None
            if last_good is None:
                book.fail(str(exc))
                return
            # a nightly refresh must not lose a book to a passing outage: keep the copy we have
            book.stale = "; ".join(filter(None, [book.stale, str(exc)]))
            fetched = last_good
        if fetched.entry.size == 0:
            book.fail(f"{location} is empty")
            return
        if location != known:
            cache.remember_text_url(source.name, book.id, location)
        book.text_url = location
        book.raw_path = fetched.path
        book.raw_sha256 = fetched.entry.sha256
        book.raw_size = fetched.entry.size
        book.status = book.fetched = DOWNLOADED if fetched.changed else NOT_MODIFIED
        return
    tried = ", ".join(_short(m) for m in missing)
    book.fail(f"no plain-text file (not found: {tried})")


def _short(location: str) -> str:
    parts = urlsplit(location)
    return parts.path if parts.scheme in ("http", "https") else location
