"""``python -m pipeline build``: the stages in order, and what became of every book.

Per book, in parallel: metadata (RDF) → type filter → download text → clean → binary filter →
language filter → profile (foreign passages cut, size, MinHash) → length filter.
Then across the shelf: duplicates → splits → publish a version (or nothing, when nothing changed).
The whole run after resolving the shelf holds the corpus's lock.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from tqdm import tqdm

from .analysis import AnalysisCache, BookAnalysis, corpus_text
from .book import FAILED, Book, RunCounts, reason_kind
from .cache import RawCache
from .catalog import books_on_shelf, parse_catalog
from .cleaned import CacheDamagedError, CleanCache
from .config import SPLIT_NAMES, BuildConfig, HttpConfig, default_delay
from .dedup import DedupInput, find_duplicates
from .download import TextSource, download_text
from .errors import FetchError, Interrupted, PipelineError, SourceError
from .fetcher import Fetcher
from .files import FolderSyncs
from .filters import binary_filter, language_filter, length_filter
from .http_client import PoliteClient
from .lock import CorpusLock
from .metadata import add_metadata, text_only
from .publish import PublishPlan, books_csv, content_key, publish
from .shelves import Shelf, fetch_shelf_index, read_shelf, resolve_shelf
from .site import GutenbergSite, UrlPolicy
from .splits import SplitKeyRegistry, SplitSettings, resolve_split_settings, split_keys, split_of
from .versions import CURRENT, CorpusDir, PublishedVersion

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
    version: Path | None = None
    """The version ``current`` names after the run: the new one, or the old one when nothing changed."""
    published: bool = False
    """A new version was published (False for a no-op refresh and a dry run)."""
    previous_version: str | None = None
    changes: dict = field(default_factory=dict)
    """Per split: books added, removed, changed, moved in and moved out (moves: only with --reshuffle)."""
    pruned: list[str] = field(default_factory=list)
    repaired: str | None = None
    """What was wrong with the ``current`` link when the run started, and what it names now."""
    stage_seconds: Counter = field(default_factory=Counter)
    """Seconds spent in each stage, summed over the worker threads for the per-book stages."""

    @property
    def kept(self) -> list[Book]:
        return [b for b in self.books if b.usable]

    def split_counts(self) -> dict[str, int]:
        return {split: sum(1 for b in self.kept if b.split == split) for split in SPLIT_NAMES}

    @property
    def stale(self) -> list[Book]:
        """Books whose refresh failed; their last good copy was used."""
        return [b for b in self.books if b.stale]

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
        return 1 if self.failed or self.stale else 0

    @property
    def eventful(self) -> bool:
        """Anything a quiet run must report: a new version, a repair, a deletion, a failure."""
        return bool(self.published or self.repaired or self.pruned or self.exit_code)


class NothingKeptError(PipelineError):
    """No book of the shelf was kept, so nothing was published; ``result`` says what became of each."""

    def __init__(self, message: str, result: BuildResult):
        super().__init__(message)
        self.result = result


def open_fetcher(base_url: str, cache_dir: Path, http: HttpConfig, *, hosts: set[str] | None = None,
                 delays: dict[str, float] | None = None, stop: threading.Event | None = None,
                 mirror_url: str | None = None) -> Fetcher:
    host = urlsplit(base_url).netloc.lower()
    if delays is None:
        delays = {host: http.delay if http.delay is not None else default_delay(base_url)}
    client = PoliteClient(http, allowed_hosts=hosts or {host}, delays=delays, stop=stop,
                          policy=UrlPolicy(base_url, mirror_url))
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
                                    hosts=config.hosts(), delays=config.delays(), stop=self.stop,
                                    mirror_url=config.mirror if config.mirror_is_url else None)
        self.text_source = TextSource(self.site, config.mirror, mirror_is_url=config.mirror_is_url)
        # the cache folders written by the per-book stages are flushed once, when those stages end
        self.cache_folders = FolderSyncs()
        self.clean_cache = CleanCache(config.resolved_cache_dir, folders=self.cache_folders)
        self.analysis_cache = AnalysisCache(config.resolved_cache_dir, folders=self.cache_folders)
        self._timing_lock = threading.Lock()
        self._stage_seconds: Counter = Counter()

    @contextmanager
    def timed(self, stage: str):
        started = time.perf_counter()
        try:
            yield
        finally:
            with self._timing_lock:
                self._stage_seconds[stage] += time.perf_counter() - started

    def run(self) -> BuildResult:
        self.fetcher.cache.remove_stale_parts()
        with self.timed("discover"):
            shelf = self.resolve()
        corpus = CorpusDir(self.config.out / shelf.slug)
        corpus.check()
        if self.config.dry_run:
            self.settle_splits(corpus, corpus.read_current(), SplitKeyRegistry(corpus.root))
            with self.timed("discover"):
                books = self.list_books(shelf)
            result = BuildResult(shelf=shelf, books=books, source=self.describe_source(), corpus_dir=corpus.root,
                                 dry_run=True, version=corpus.current())
            result.counts.found = len(books)
            return result
        with CorpusLock(corpus.root):
            corpus.remove_leftovers()
            previous = corpus.read_current()
            registry = SplitKeyRegistry(corpus.root)
            settings = self.settle_splits(corpus, previous, registry)
            with self.timed("discover"):
                books = self.list_books(shelf)
            result = BuildResult(shelf=shelf, books=books, source=self.describe_source(), corpus_dir=corpus.root)
            result.counts.found = len(books)
            self.acquire(result)
            with self.timed("duplicates"):
                self.drop_duplicates(result.books, previous)
            with self.timed("splits"):
                self.assign_splits(result.books, previous, registry, settings)
            with self.timed("publish"):
                self.publish(result, corpus, previous)
                self.cache_folders.flush()  # texts cleaned again while publishing
        result.stage_seconds = self._stage_seconds
        return result

    def settle_splits(self, corpus: CorpusDir, previous: PublishedVersion | None,
                      registry: SplitKeyRegistry) -> SplitSettings:
        """The salt and shares this build splits with: the corpus's own; others only with ``reshuffle``."""
        recorded = registry.settings()
        if recorded is None and previous is not None:  # a corpus from before the registry recorded them
            recorded = SplitSettings.from_record(previous.manifest.get("config", {}).get("corpus", {}))
        settings = resolve_split_settings(self.config.corpus, recorded, corpus.root)
        corpus_config = replace(self.config.corpus, split_ratios=settings.ratios, split_salt=settings.salt)
        self.config = replace(self.config, corpus=corpus_config)
        return settings

    def describe_source(self) -> str:
        listing = "catalog" if self.config.source == "catalog" else "shelf pages"
        texts = f", texts from mirror {self.config.mirror}" if self.config.mirror else ""
        return f"{listing} of {self.config.base_url}{texts}"

    def resolve(self) -> Shelf:
        return resolve_shelf(list_shelves(self.fetcher, self.config.base_url), self.config.shelf)

    def list_books(self, shelf: Shelf) -> list[Book]:
        try:
            if self.config.source == "catalog":
                url = self.site.catalog_url
                return books_on_shelf(parse_catalog(self.fetcher.fetch(url).read_bytes(), url), shelf)
            return read_shelf(self.fetcher, self.site, shelf)
        except FetchError as exc:
            raise SourceError(f"cannot list the books of shelf {shelf.name!r}: {exc}") from None

    # -- per book ---------------------------------------------------------------------------------

    def acquire_one(self, book: Book) -> tuple[str | None, bool]:
        """Metadata, type filter, text, cleaning, analysis, book filters. Returns a note when the RDF
        was missing, and whether the cleaned text came from the cache."""
        with self.timed("metadata"):
            note = add_metadata(book, self.fetcher, self.site)
        if book.status == FAILED:  # its RDF could not be fetched: not published with guessed metadata
            return note, False
        outcome = text_only(book)
        if not outcome.keep:
            book.skip(outcome.reason)
            return note, False
        try:
            with self.timed("download"):
                download_text(book, self.fetcher, self.text_source)
            if not book.usable:
                return note, False
            with self.timed("clean"):
                from_cache = self.clean_cache.clean_book(book)
            if book.clean_chars == 0:
                book.skip("empty after cleaning")
                return note, from_cache
            outcome = binary_filter(book, self.config.corpus)
            if not outcome.keep:
                book.drop(outcome.reason)
                return note, from_cache
            analysis = BookAnalysis(book, self.analysis_cache, self.clean_cache.read_text)
            with self.timed("language"):
                analysis.language(self.config.corpus)
            outcome = language_filter(book, self.config.corpus)
            if outcome.keep:
                with self.timed("profile"):
                    analysis.profile(self.config.corpus)
                outcome = length_filter(book, self.config.corpus)
            analysis.save()
        except OSError as exc:  # a full disk or a permission problem, reported on the book
            book.fail(f"cannot write the cache: {exc}")
            return note, False
        except CacheDamagedError as exc:
            book.fail(str(exc))
            return note, False
        except (Interrupted, KeyboardInterrupt):
            raise
        except Exception as exc:  # one odd book must not stop a nightly run: it fails alone, with the cause
            log.debug("book %s", book.id, exc_info=True)
            book.fail(f"unexpected {type(exc).__name__}: {exc} (rerun with -v for the traceback)")
            return note, False
        if not outcome.keep:
            book.drop(outcome.reason)
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
            self.cache_folders.flush()

    # -- across the shelf ---------------------------------------------------------------------------

    def drop_duplicates(self, books: list[Book], previous: PublishedVersion | None) -> None:
        kept_before = set(previous.kept) if previous else set()
        candidates = [b for b in books if b.usable]
        by_id = {b.id: b for b in candidates}
        items = [DedupInput(b.id, b.fingerprint, b.signature, prefer=b.id in kept_before) for b in candidates]
        for duplicate in find_duplicates(items, self.config.corpus.near_duplicate_threshold):
            book = by_id[duplicate.id]
            book.kept_id = duplicate.kept_id
            book.drop(duplicate.reason)

    def assign_splits(self, books: list[Book], previous: PublishedVersion | None, registry: SplitKeyRegistry,
                      settings: SplitSettings) -> None:
        # the registry wins: it also remembers books missing from the last version
        known = {**(previous.split_keys if previous else {}), **registry.load()}
        kept = [b.id for b in books if b.usable]
        duplicates = {b.id: b.kept_id for b in books if b.kept_id is not None}
        keys = split_keys(kept, duplicates, known)
        for book in books:
            if book.id in keys:
                book.split_key = keys[book.id]
                book.split = split_of(keys[book.id], settings.salt, settings.ratios)
            elif book.id in known:
                book.split_key = known[book.id]  # dropped this time; shown so the row explains itself
        added = {book: key for book, key in keys.items() if book not in known}
        if added or registry.settings() != settings:
            registry.save({**known, **added}, settings)

    def publish(self, result: BuildResult, corpus: CorpusDir, previous: PublishedVersion | None) -> None:
        books = result.books
        result.counts.drop_reasons = dropped_by_kind(books)
        table = books_csv(books)
        key = content_key(table, self.config.corpus)
        result.previous_version = previous.path.name if previous else None
        result.changes = compare(previous, books)
        broken = corpus.current() is None and (corpus.current_problem() or "was missing")
        if previous is not None and previous.manifest.get("content_key") == key:
            result.version = previous.path
            if broken:
                corpus.switch_current(previous.path.name)
                result.repaired = f"{CURRENT} {broken}; it now names {previous.path.name}"
            result.pruned = corpus.prune(self.config.corpus.keep_versions)
            return
        if not result.kept:
            detail = ", ".join(f"{n} {kind}" for kind, n in result.counts.drop_reasons.most_common())
            detail = detail or "the shelf is empty"
            kept_note = f"; {previous.path.name} stays current" if previous and not broken else ""
            result.version = previous.path if previous and not broken else None
            raise NothingKeptError(f"no book of shelf {result.shelf.name!r} was kept ({detail}); "
                                   f"nothing was published{kept_note}", result)
        plan = PublishPlan(
            shelf={"id": result.shelf.id, "name": result.shelf.name, "slug": result.shelf.slug},
            source={"base_url": self.config.base_url, "listing": self.config.source, "mirror": self.config.mirror},
            counts=manifest_counts(result), content_key=key, changes=result.changes,
            previous_version=result.previous_version)
        bar = tqdm(total=len(result.kept), unit="book", desc=f"publishing {result.shelf.slug}",
                   disable=not self.progress, dynamic_ncols=True)
        try:
            result.version = publish(corpus, books, table, plan, self.config, self.corpus_text, progress=bar)
        finally:
            bar.close()
        result.published = True
        if broken and previous is not None:
            result.repaired = f"{CURRENT} {broken}; it now names {result.version.name}"
        result.pruned = corpus.prune(self.config.corpus.keep_versions)

    def corpus_text(self, book: Book) -> str:
        """What a kept book contributes to the corpus: its cleaned text (checked against its sha256) less
        any foreign passages."""
        return corpus_text(book, self.clean_cache.read_text(book))


def compare(previous: PublishedVersion | None, books: list[Book]) -> dict:
    """What a new version changes per split: ids added, removed, changed (new text), moved in and moved out."""
    before = previous.kept if previous else {}
    now = {b.id: b for b in books if b.usable}
    changes = {split: {"added": [], "removed": [], "changed": [], "moved_in": [], "moved_out": []}
               for split in SPLIT_NAMES}
    for book_id, book in now.items():
        old = before.get(book_id)
        if old is None:
            changes[book.split]["added"].append(book_id)
        elif old["split"] != book.split:
            changes[book.split]["moved_in"].append(book_id)
            if old["split"] in changes:
                changes[old["split"]]["moved_out"].append(book_id)
        elif old["sha256"] != book.sha256:
            changes[book.split]["changed"].append(book_id)
    for book_id, old in before.items():
        if book_id not in now and old["split"] in changes:
            changes[old["split"]]["removed"].append(book_id)
    for split in changes.values():
        for ids in split.values():
            ids.sort()
    return changes


def dropped_by_kind(books: list[Book]) -> Counter:
    """Every book left out of the corpus, by the kind of reason: skipped, failed or dropped by a filter."""
    return Counter("failed" if b.status == FAILED else reason_kind(b.reason) for b in books if not b.usable)


def manifest_counts(result: BuildResult) -> dict:
    counts = result.counts
    return {
        "found": counts.found,
        "fetch": {"downloaded": counts.by_status["downloaded"], "not_modified": counts.by_status["not_modified"],
                  "skipped": counts.by_status["skipped"], "failed": counts.by_status["failed"],
                  "stale": len(result.stale), "bytes_downloaded": counts.bytes_downloaded},
        "cleaned": result.cleaned,
        "kept": len(result.kept),
        "dropped": dict(sorted(counts.drop_reasons.items())),
        "splits": result.split_counts(),
    }
