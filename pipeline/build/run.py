"""``python -m pipeline build``: the stages in order, and what became of every book.

Per book, the steps of steps.py: metadata (RDF) → type filter → download text, in download threads;
then clean → binary filter → language → language filter → profile (foreign passages cut, size,
MinHash) → length filter, in ``--jobs`` worker processes (workers.py). A book moves on as soon as it
is fetched.
Then across the corpus: duplicates → splits → publish a version (or nothing, when nothing changed).
The whole run after resolving the selectors holds the corpus's lock.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

from tqdm import tqdm

from ..book import Book
from ..config import BuildConfig, HttpConfig, default_delay
from ..corpus.analysis import corpus_text
from ..corpus.dedup import DedupInput, find_duplicates
from ..corpus.lock import CorpusLock
from ..corpus.publish import PublishPlan, books_csv, content_key, publish
from ..corpus.splits import (
    MIN_TRAINABLE_BOOKS,
    SplitKeyRegistry,
    SplitSettings,
    fill_empty_splits,
    placements_of,
    reconcile_keys,
    resolve_split_settings,
    split_keys,
    split_of,
)
from ..corpus.verify import check_published
from ..corpus.versions import CURRENT, CorpusDir, PublishedVersion
from ..discover.selectors import Discovery, Selection
from ..discover.shelves import Shelf, fetch_shelf_index
from ..errors import CacheWriteError, FetchError, Interrupted, PublishError, SourceError
from ..fetch.cache import RawCache, remove_stale_parts
from ..fetch.client import PoliteClient
from ..fetch.download import TextSource
from ..fetch.fetcher import Fetcher
from ..fetch.site import GutenbergSite, UrlPolicy
from .result import (
    BuildResult,
    NothingKeptError,
    TooFewBooksError,
    attach_result,
    compare,
    dropped_by_kind,
    manifest_counts,
)
from .steps import IO_STEPS, BookContext, CpuServices, IoServices, run_cpu_steps, run_steps
from .workers import CpuPool

log = logging.getLogger(__name__)


MIN_BOOKS_FOR_WORKERS = 16
LISTED_FROM = {"shelf": "shelf pages of {base}", "author": "author pages of {base}",
               "top": "the Top 100 page of {base}", "ids": "book ids given, texts from {base}",
               "ids-file": "book ids from a file, texts from {base}", "subject": "catalog of {base}",
               "language": "catalog of {base}"}
"""How the summary names the source of each selector's book list (``--source shelf``, the default)."""
"""Below this many books a build runs its CPU steps in the main process: starting workers costs seconds."""


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
        self.discovery = Discovery(self.fetcher, self.site, config.source)
        self.text_source = TextSource(self.site, config.mirror, mirror_is_url=config.mirror_is_url)
        self.io_services = IoServices(self.fetcher, self.site, self.text_source)
        self.cpu_services = CpuServices(config.resolved_cache_dir, config.corpus)
        # the cache folders the CPU steps write to are flushed once, when those steps end (workers send
        # theirs back with each book), and before anything is published
        self.cache_folders = self.cpu_services.folders
        self.clean_cache = self.cpu_services.clean_cache
        self._timing_lock = threading.Lock()
        self._stage_seconds: Counter = Counter()
        self._dropped_by_step: Counter = Counter()
        self.damage: tuple[str, list[str]] | None = None
        """The version ``current`` named when it was found damaged, and its problems."""

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
        for folder in (self.clean_cache.root, self.cpu_services.analysis_cache.root):  # a killed worker's
            remove_stale_parts(folder)
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
            result.cached_ids = {b.id for b in books if self.fetcher.cache.text_url(self.text_source.name, b.id)}
            return result
        with CorpusLock(corpus.root) as lock:
            corpus.remove_leftovers()
            previous = self.read_previous(corpus)
            registry = SplitKeyRegistry(corpus.root)
            settings = self.settle_splits(corpus, previous, registry)
            with self.timed("discover"):
                books = self.list_books(shelf)
            result = BuildResult(shelf=shelf, books=books, source=self.describe_source(), corpus_dir=corpus.root)
            result.counts.found = len(books)
            try:
                self.acquire(result)
                with self.timed("duplicates"):
                    self.drop_duplicates(result.books, previous)
                with self.timed("splits"):
                    self.assign_splits(result.books, previous, registry, settings)
                with self.timed("publish"):
                    self.publish(result, corpus, previous)
                    self.cache_folders.flush()  # texts cleaned again while publishing
            except (OSError, PublishError, CacheWriteError) as exc:  # a full disk: what became of every book is
                # printed before its one line
                attach_result(exc, result)
                raise
        result.lock_taken_over_from = lock.taken_over_from
        result.stage_seconds = self._stage_seconds
        result.dropped_by_step = self._dropped_by_step
        return result

    def read_previous(self, corpus: CorpusDir) -> PublishedVersion | None:
        """The version this build builds on, checked first as ``verify`` would (cheaply, or whole with
        ``--verify``). A damaged one is still compared against, but its split keys are not trusted and
        it is republished from the cache (``self.damage``)."""
        self.damage = None
        current = corpus.current()
        if current is None:
            return corpus.read_current()
        problems = check_published(corpus.root, current, full=self.config.verify)
        if not problems:
            return corpus.read_current()
        self.damage = (current.name, problems)
        log.warning("%s is damaged (%s%s); it will be republished from the cache", current,
                    problems[0], f"; and {len(problems) - 1} more" if len(problems) > 1 else "")
        try:
            return corpus.read_current()
        except PublishError:
            return None

    def settle_splits(self, corpus: CorpusDir, previous: PublishedVersion | None,
                      registry: SplitKeyRegistry) -> SplitSettings:
        """The salt and shares this build splits with: the corpus's own; others only with ``reshuffle``."""
        recorded = registry.settings()
        # a corpus from before the registry recorded them, or a registry that fails its checksum: the
        # settings the published version was split with
        if (recorded is None or registry.damaged) and previous is not None:
            recorded = SplitSettings.from_record(previous.manifest.get("config", {}).get("corpus", {})) or recorded
        settings = resolve_split_settings(self.config.corpus, recorded, corpus.root)
        corpus_config = replace(self.config.corpus, split_ratios=settings.ratios, split_salt=settings.salt)
        self.config = replace(self.config, corpus=corpus_config)
        return settings

    def describe_source(self) -> str:
        """Where the book list and the texts come from, as the summary's first line says it."""
        base = self.config.base_url
        if self.config.source == "catalog":
            listings = [f"catalog of {base}"]
        else:
            listings = list(dict.fromkeys(LISTED_FROM[s.kind].format(base=base) for s in self.config.all_selectors))
        texts = f", texts from mirror {self.config.mirror}" if self.config.mirror else ""
        return "; ".join(listings) + texts

    def resolve(self) -> Selection:
        return self.discovery.resolve(self.config.all_selectors, self.config.name)

    def list_books(self, selection: Selection) -> list[Book]:
        return self.discovery.list_books(selection)

    # -- per book ---------------------------------------------------------------------------------

    def acquire_one(self, book: Book) -> tuple[str | None, bool]:
        """Every step for one book, in this process. Returns a note when the RDF was missing, and
        whether the cleaned text came from the cache."""
        ctx = BookContext(self.io_services)
        if run_steps(book, IO_STEPS, ctx):
            returned, cpu = run_cpu_steps(book, self.cpu_services)
            ctx.from_clean_cache = cpu.from_clean_cache
            ctx.seconds.update(cpu.seconds)
            ctx.dropped_by = cpu.dropped_by
        self.count_steps(ctx)
        return ctx.note, ctx.from_clean_cache

    def fetch_one(self, book: Book) -> tuple[bool, BookContext]:
        """The network steps for one book (in a download thread); True when it goes on to the CPU steps."""
        ctx = BookContext(self.io_services)
        return run_steps(book, IO_STEPS, ctx), ctx

    def cached_analysis(self, book: Book) -> bool:
        """The book's cleaned text, audit and analysis are all in the cache: its CPU steps only read files."""
        text_path, audit_path = self.cpu_services.clean_cache.paths(book.raw_sha256)
        key = text_path.name.removesuffix(".txt")
        return audit_path.is_file() and text_path.is_file() and \
            self.cpu_services.analysis_cache.path(key).is_file()

    def count_steps(self, ctx: BookContext) -> None:
        with self._timing_lock:
            self._stage_seconds.update(ctx.seconds)
            if ctx.dropped_by:
                self._dropped_by_step[ctx.dropped_by] += 1

    def acquire(self, result: BuildResult) -> None:
        """Downloads in threads, CPU steps in worker processes, overlapping: a book moves on when fetched."""
        bar = tqdm(total=len(result.books), unit="book", desc=f"fetching {result.shelf.slug}",
                   disable=not self.progress, dynamic_ncols=True)
        # --jobs books are fetched at once; with a delay, requests to one host still go one at a time
        downloads = ThreadPoolExecutor(max_workers=self.config.jobs, thread_name_prefix="fetch")
        # Workers start with the first book that needs real CPU work. One job, a handful of books, or a
        # book whose cleaned text and analysis are cached (a refresh) run here: starting processes
        # would cost more than it saves.
        use_workers = self.config.jobs > 1 and len(result.books) >= MIN_BOOKS_FOR_WORKERS
        workers: CpuPool | None = None
        pending: dict[Future, tuple[str, Book]] = {}
        # completed futures arrive here: wait() over every pending future per completion would be O(books²)
        completed: queue.SimpleQueue = queue.SimpleQueue()
        interrupted = False

        def track(future: Future, stage: str, book: Book) -> None:
            pending[future] = (stage, book)
            future.add_done_callback(completed.put)

        def finished(book: Book, ctx: BookContext) -> None:
            self.count_steps(ctx)
            if book.clean_path is not None:
                result.cleaned += 1
                result.cleaned_from_cache += ctx.from_clean_cache
            result.counts.add(book)
            bar.update(1)
            bar.set_postfix_str(f"{result.counts.bytes_downloaded / 1e6:.1f} MB")

        try:
            for book in result.books:
                track(downloads.submit(self.fetch_one, book), "fetch", book)
            while pending:
                if self.stop.is_set():  # the stop flag, set by a caller's thread: the books in hand are left
                    raise Interrupted("stopped")
                try:
                    future = completed.get(timeout=0.5)
                except queue.Empty:
                    continue
                stage, book = pending.pop(future)
                if stage == "fetch":
                    passed, ctx = future.result()
                    if ctx.note:
                        result.metadata_notes[book.id] = ctx.note
                    if passed and use_workers and not self.cached_analysis(book):
                        self.count_steps(ctx)
                        workers = workers or CpuPool(self.config.jobs, self.cpu_services)
                        track(workers.submit(book), "cpu", book)
                        continue
                    if passed:
                        self.count_steps(ctx)
                        _, ctx = run_cpu_steps(book, self.cpu_services)
                    finished(book, ctx)
                    continue
                try:
                    returned, ctx = future.result()
                except BrokenProcessPool:
                    book.fail("a worker process died (out of memory?); rerun to carry on")
                    book.dropped_by = "error"
                    ctx = BookContext(dropped_by="error")
                else:
                    book.__dict__.update(returned.__dict__)
                    for folder in ctx.unsynced_folders:
                        self.cache_folders.add(folder)
                finished(book, ctx)
        except (KeyboardInterrupt, Interrupted):
            interrupted = True
            self.stop.set()
            for future in pending:
                future.cancel()
            raise Interrupted("interrupted: rerun the same command to carry on; nothing fetched so far "
                              "is fetched again") from None
        finally:
            downloads.shutdown(wait=True, cancel_futures=True)
            if workers is not None:
                workers.shutdown(kill=interrupted)  # an interrupt does not wait for the books in the workers
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
            book.dropped_by = "duplicates"

    def assign_splits(self, books: list[Book], previous: PublishedVersion | None, registry: SplitKeyRegistry,
                      settings: SplitSettings) -> None:
        # the published version wins where it has a key; the registry also remembers books missing from it
        registered = registry.load()
        published = previous.split_keys if previous and self.damage is None else {}
        known = reconcile_keys(registered, published, registry.damaged, registry.path)
        kept = [b.id for b in books if b.usable]
        duplicates = {b.id: b.kept_id for b in books if b.kept_id is not None}
        keys = split_keys(kept, duplicates, known)
        if self.config.corpus.reshuffle:  # every book is placed again, by hash and, where a split is empty, by hand
            placed, new_keys = {}, {keys[book] for book in kept}
        else:
            # as for keys, the published version's placements win; the registry keeps those of books not in it
            published_placements = placements_of(previous, settings) if self.damage is None else {}
            placed = {**registry.placements(), **published_placements}
            new_keys = {keys[book] for book in kept if book not in known and keys[book] not in set(known.values())}
        added_placements = fill_empty_splits([keys[b] for b in kept], new_keys, settings.salt, settings.ratios, placed)
        placed.update(added_placements)
        for book in books:
            if book.id in keys:
                book.split_key = keys[book.id]
                book.split = split_of(keys[book.id], settings.salt, settings.ratios, placed)
            elif book.id in known:
                book.split_key = known[book.id]  # dropped this time; shown so the row explains itself
        added = {book: key for book, key in keys.items() if book not in known}
        if (added or added_placements or known != registered or registry.damaged or registry.settings() != settings
                or registry.placements() != placed):
            registry.save({**known, **added}, settings, placed)

    def publish(self, result: BuildResult, corpus: CorpusDir, previous: PublishedVersion | None) -> None:
        books = result.books
        result.counts.drop_reasons = dropped_by_kind(books)
        table = books_csv(books)
        key = content_key(table, self.config.corpus)
        result.previous_version = previous.path.name if previous else None
        result.changes = compare(previous, books)
        broken = corpus.current() is None and (corpus.current_problem() or "was missing")
        if previous is not None and previous.manifest.get("content_key") == key and not self.damage:
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
            what = f"shelf {result.shelf.name!r}" if result.shelf.id is not None else repr(result.shelf.name)
            raise NothingKeptError(f"no book of {what} was kept ({detail}); "
                                   f"nothing was published{kept_note}", result)
        corpus_config = self.config.corpus
        if len(result.kept) < MIN_TRAINABLE_BOOKS and not corpus_config.allow_empty_splits:
            kept_note = f"; {previous.path.name} stays current" if previous and not broken else ""
            result.version = previous.path if previous and not broken else None
            raise TooFewBooksError(
                f"{result.shelf.described} gave {len(result.kept)} kept "
                f"book{'' if len(result.kept) == 1 else 's'}; a trainable corpus needs {MIN_TRAINABLE_BOOKS} (one "
                f"each for train, val and test): select more books, or add --allow-empty-splits to publish it "
                f"anyway{kept_note}", result)
        plan = PublishPlan(
            shelf=result.shelf.manifest_record(),
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
        if self.damage is not None:
            name, problems = self.damage
            more = f"; and {len(problems) - 1} more" if len(problems) > 1 else ""
            result.repaired = f"{name} was damaged ({problems[0]}{more}); republished it from the cache as " \
                              f"{result.version.name}"
        elif broken and previous is not None:
            result.repaired = f"{CURRENT} {broken}; it now names {result.version.name}"
        result.pruned = corpus.prune(self.config.corpus.keep_versions)

    def corpus_text(self, book: Book) -> str:
        """What a kept book contributes to the corpus: its cleaned text (checked against its sha256) less
        any foreign passages."""
        return corpus_text(book, self.clean_cache.read_text(book))
