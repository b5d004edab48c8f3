"""``python -m pipeline build``: the stages in order, and what became of every book.

discover (shelf pages or catalog) → metadata (RDF) → type filter → download text → clean.
Language filtering, splitting and publishing slot in after cleaning.
"""

from __future__ import annotations

import json
import logging
import threading
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from tqdm import tqdm

from .book import DOWNLOADED, FAILED, NOT_MODIFIED, Book, RunCounts
from .cache import RawCache
from .catalog import books_on_shelf, parse_catalog
from .cleaned import CleanCache
from .config import BuildConfig, HttpConfig, default_delay
from .download import TextSource, download_text
from .errors import FetchError, Interrupted, SourceError
from .fetcher import Fetcher
from .files import write_atomically
from .http_client import PoliteClient
from .metadata import add_metadata, text_only
from .shelves import Shelf, fetch_shelf_index, read_shelf, resolve_shelf
from .site import GutenbergSite

log = logging.getLogger(__name__)


@dataclass
class BuildResult:
    shelf: Shelf
    books: list[Book]
    source: str
    """Where the book list and texts came from, for the summary."""
    corpus_dir: Path
    dry_run: bool = False
    counts: RunCounts = field(default_factory=RunCounts)
    metadata_notes: dict[int, str] = field(default_factory=dict)
    """Books whose RDF could not be read, with why (not fatal)."""
    cleaned: int = 0
    cleaned_from_cache: int = 0
    audit_path: Path | None = None
    """The cleaning audit of every cleaned book, one JSON record a line."""

    @property
    def flagged(self) -> list[Book]:
        """Books the cleaner raised a flag on (empty or suspiciously small results)."""
        return [b for b in self.books if b.clean_audit and any(
            "removed" in f or "empty" in f for f in b.clean_audit["flags"])]

    @property
    def failed(self) -> list[Book]:
        return [b for b in self.books if b.status == FAILED]

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


def open_fetcher(base_url: str, cache_dir: Path, http: HttpConfig, *, hosts: set[str] | None = None,
                 delays: dict[str, float] | None = None, stop: threading.Event | None = None) -> Fetcher:
    host = urlsplit(base_url).netloc.lower()
    if delays is None:
        delays = {host: http.delay if http.delay is not None else default_delay(base_url)}
    client = PoliteClient(http, allowed_hosts=hosts or {host}, delays=delays, stop=stop)
    return Fetcher(client, RawCache(cache_dir), respect_robots=http.respect_robots)


def list_shelves(fetcher: Fetcher, base_url: str) -> list[Shelf]:
    site = GutenbergSite(base_url)
    try:
        return fetch_shelf_index(fetcher, site)
    except FetchError as exc:
        raise SourceError(f"cannot read the shelf index at {site.shelf_index_url}: {exc}; "
                          f"check --base-url and the connection") from None


class Build:
    def __init__(self, config: BuildConfig, *, progress: bool = True, stop: threading.Event | None = None):
        config.validate()
        self.config = config
        self.progress = progress
        self.stop = stop or threading.Event()
        self.site = GutenbergSite(config.base_url)
        self.fetcher = open_fetcher(config.base_url, config.resolved_cache_dir, config.http,
                                    hosts=config.hosts(), delays=config.delays(), stop=self.stop)
        self.text_source = TextSource(self.site, config.mirror, mirror_is_url=config.mirror_is_url)
        self.clean_cache = CleanCache(config.resolved_cache_dir)

    def run(self) -> BuildResult:
        self.fetcher.cache.remove_stale_parts()
        shelf, books = self.discover()
        result = BuildResult(shelf=shelf, books=books, source=self.describe_source(),
                             corpus_dir=self.config.out / shelf.slug, dry_run=self.config.dry_run)
        result.counts.found = len(books)
        if not self.config.dry_run:
            self.acquire(result)
            result.audit_path = write_audit(result.corpus_dir, result.books)
        return result

    def describe_source(self) -> str:
        listing = "catalog" if self.config.source == "catalog" else "shelf pages"
        texts = f", texts from mirror {self.config.mirror}" if self.config.mirror else ""
        return f"{listing} of {self.config.base_url}{texts}"

    def discover(self) -> tuple[Shelf, list[Book]]:
        shelf = resolve_shelf(list_shelves(self.fetcher, self.config.base_url), self.config.shelf)
        try:
            if self.config.source == "catalog":
                url = self.site.catalog_url
                books = books_on_shelf(parse_catalog(self.fetcher.fetch(url).read_bytes(), url), shelf)
            else:
                books = read_shelf(self.fetcher, self.site, shelf)
        except FetchError as exc:
            raise SourceError(f"cannot list the books of shelf {shelf.name!r}: {exc}") from None
        return shelf, books

    def acquire_one(self, book: Book) -> tuple[str | None, bool]:
        """Metadata, type filter, text, cleaning. Returns a note when the RDF was missing, and
        whether the cleaned text came from the cache."""
        note = add_metadata(book, self.fetcher, self.site)
        outcome = text_only(book)
        if not outcome.keep:
            book.skip(outcome.reason)
            return note, False
        try:
            download_text(book, self.fetcher, self.text_source)
            if book.status not in (DOWNLOADED, NOT_MODIFIED):
                return note, False
            from_cache = self.clean_cache.clean_book(book)
        except OSError as exc:  # a full disk or a permission problem, reported on the book
            book.fail(f"cannot write the cache: {exc}")
            return note, False
        except (Interrupted, KeyboardInterrupt):
            raise
        except Exception as exc:  # one odd book must not stop a nightly run: it fails alone, with the cause
            log.debug("book %s", book.id, exc_info=True)
            book.fail(f"unexpected {type(exc).__name__}: {exc} (rerun with -v for the traceback)")
            return note, False
        if book.clean_chars == 0:
            book.skip("empty after cleaning")
        return note, from_cache

    def acquire(self, result: BuildResult) -> None:
        bar = tqdm(total=len(result.books), unit="book", desc=f"fetching {result.shelf.slug}",
                   disable=not self.progress, dynamic_ncols=True)
        pool = ThreadPoolExecutor(max_workers=self.config.jobs, thread_name_prefix="fetch")
        pending: dict[Future, Book] = {}
        try:
            pending = {pool.submit(self.acquire_one, book): book for book in result.books}
            while pending:
                done, _ = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                for future in done:
                    book = pending.pop(future)
                    note, from_cache = future.result()
                    if note:
                        result.metadata_notes[book.id] = note
                    if book.clean_path is not None:
                        result.cleaned += 1
                        result.cleaned_from_cache += from_cache
                    result.counts.add(book)
                    bar.update(1)
                    bar.set_postfix_str(f"{result.counts.bytes_downloaded / 1e6:.1f} MB")
        except (KeyboardInterrupt, Interrupted):
            self.stop.set()
            for future in pending:
                future.cancel()
            raise Interrupted("interrupted: rerun the same command to carry on; nothing fetched so far "
                              "is fetched again") from None
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            bar.close()


def write_audit(corpus_dir: Path, books: list[Book]) -> Path:
    """``CORPUS/cleaning.jsonl``: what the cleaner cut from each book and why, written atomically."""
    corpus_dir.mkdir(parents=True, exist_ok=True)
    path = corpus_dir / "cleaning.jsonl"
    records = [{"id": book.id, "title": book.title, "text_url": book.text_url, "raw_sha256": book.raw_sha256,
                **book.clean_audit} for book in sorted(books, key=lambda b: b.id) if book.clean_audit is not None]
    write_atomically(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8"))
    return path
