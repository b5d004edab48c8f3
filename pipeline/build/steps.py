"""The steps a Book flows through, in order; each returns keep, or drop with a reason.

    metadata → text only → download        (threads in the main process: polite, concurrent requests)
    clean → binary filter → language → language filter → profile → length filter
                                            (worker processes: the CPU work)

A step is a function ``(book, context) -> Outcome``. A new filter is one such function and one line
in ``CPU_STEPS`` (or ``IO_STEPS`` when it needs the network). The runner times every step and
counts every drop by the step that made it; a book dropped by one step goes no further. A step that
leaves the book skipped or failed itself (a download that fails, a text that cleans to nothing)
keeps that status; otherwise a drop before the text is fetched is a skip, and after it a filter's drop.

Everything a CPU step needs travels with the book or lives in ``CpuServices`` (the caches and the
corpus config), which each worker process builds once: a worker holds one book's text at a time.
What a step reads back from a cache is verified first (cleaned.py, analysis.py); the folders the
cache writes renamed files into go back with the book, so the main process flushes them, once
each, before anything is published.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..book import FAILED, PENDING, Book, Outcome
from ..clean.cache import CacheDamagedError, CleanCache
from ..config import CorpusConfig
from ..corpus.analysis import AnalysisCache, BookAnalysis
from ..corpus.filters import binary_filter, language_filter, length_filter
from ..discover.metadata import add_metadata, text_only
from ..errors import Interrupted
from ..fetch.download import TextSource, download_text
from ..fetch.fetcher import Fetcher
from ..fetch.site import GutenbergSite
from ..files import FolderSyncs

log = logging.getLogger(__name__)


@dataclass
class IoServices:
    """What the network steps use; lives in the main process."""

    fetcher: Fetcher
    site: GutenbergSite
    text_source: TextSource


@dataclass
class CpuServices:
    """What the CPU steps use; picklable, so a worker process can build its own."""

    cache_dir: Path
    corpus: CorpusConfig

    def __post_init__(self) -> None:
        # folders holding renames not yet flushed: the main process flushes them when the steps end
        self.folders = FolderSyncs()
        self.clean_cache = CleanCache(self.cache_dir, folders=self.folders)
        self.analysis_cache = AnalysisCache(self.cache_dir, folders=self.folders)

    def __getstate__(self) -> dict:
        return {"cache_dir": self.cache_dir, "corpus": self.corpus}

    def __setstate__(self, state: dict) -> None:
        self.__init__(**state)


@dataclass
class BookContext:
    """One book's passage through the steps: the services, what the steps learned, and the bookkeeping."""

    services: IoServices | CpuServices | None = None
    note: str | None = None
    """Why the RDF could not be read (not fatal)."""
    from_clean_cache: bool = False
    seconds: Counter = field(default_factory=Counter)
    """Seconds per step."""
    dropped_by: str = ""
    """The step that dropped the book, if one did."""
    unsynced_folders: list[Path] = field(default_factory=list)
    """Cache folders a worker process renamed files into and did not flush (the main process does)."""
    _analysis: BookAnalysis | None = None

    def analysis(self, book: Book) -> BookAnalysis:
        if self._analysis is None:
            services = self.services
            self._analysis = BookAnalysis(book, services.analysis_cache, services.clean_cache.read_text)
        return self._analysis

    def finish(self) -> None:
        """Write back what the analysis computed (also for a book a filter dropped: a rerun need not redo it)."""
        if self._analysis is not None:
            self._analysis.save()
            self._analysis = None


# -- network steps --------------------------------------------------------------------------------------

def metadata_step(book: Book, ctx: BookContext) -> Outcome:
    """The RDF, unless the listing (the catalog) already gave its type and languages: at Gutenberg's two
    seconds a request, 60,000 RDF requests would take 33 hours for what pg_catalog.csv says in one."""
    if book.media_type is not None and book.languages:
        return Outcome.kept()
    ctx.note = add_metadata(book, ctx.services.fetcher, ctx.services.site)
    if book.status == FAILED:  # its RDF could not be fetched: not published with guessed metadata
        return Outcome.dropped(book.reason)
    return Outcome.kept()


def text_only_step(book: Book, ctx: BookContext) -> Outcome:
    return text_only(book)


def download_step(book: Book, ctx: BookContext) -> Outcome:
    download_text(book, ctx.services.fetcher, ctx.services.text_source)
    return Outcome.kept() if book.usable else Outcome.dropped(book.reason)


# -- CPU steps ----------------------------------------------------------------------------------------------

def clean_step(book: Book, ctx: BookContext) -> Outcome:
    """Decode and clean (or take both from the clean cache)."""
    ctx.from_clean_cache = ctx.services.clean_cache.clean_book(book)
    if book.clean_chars == 0:
        book.skip("empty after cleaning")
        return Outcome.dropped(book.reason)
    return Outcome.kept()


def binary_filter_step(book: Book, ctx: BookContext) -> Outcome:
    """A "text" that is really binary (NULs, control characters) goes no further."""
    return binary_filter(book, ctx.services.corpus)


def language_step(book: Book, ctx: BookContext) -> Outcome:
    ctx.analysis(book).language(ctx.services.corpus)
    return Outcome.kept()


def language_filter_step(book: Book, ctx: BookContext) -> Outcome:
    return language_filter(book, ctx.services.corpus)


def profile_step(book: Book, ctx: BookContext) -> Outcome:
    """Cut foreign passages (with --passage-filter), then size, hash and MinHash the final text."""
    ctx.analysis(book).profile(ctx.services.corpus)
    return Outcome.kept()


def length_filter_step(book: Book, ctx: BookContext) -> Outcome:
    return length_filter(book, ctx.services.corpus)


@dataclass(frozen=True)
class Step:
    name: str
    """Also the stage its time is counted under."""
    run: Callable[[Book, BookContext], Outcome]


IO_STEPS = (
    Step("metadata", metadata_step),
    Step("text only", text_only_step),
    Step("download", download_step),
)
CPU_STEPS = (
    Step("clean", clean_step),
    Step("binary filter", binary_filter_step),
    Step("language", language_step),
    Step("language filter", language_filter_step),
    Step("profile", profile_step),
    Step("length filter", length_filter_step),
)


def run_steps(book: Book, steps: tuple[Step, ...], ctx: BookContext) -> bool:
    """Run ``book`` through ``steps`` until one drops it; True when it came through all of them.

    An unexpected error fails the book alone (a nightly run must not stop for one odd book);
    a cache that cannot be written fails it with that cause.
    """
    try:
        for step in steps:
            started = time.perf_counter()
            try:
                outcome = step.run(book, ctx)
            finally:
                ctx.seconds[step.name] += time.perf_counter() - started
            if not outcome.keep:
                ctx.dropped_by = book.dropped_by = step.name
                if book.status == PENDING:
                    book.skip(outcome.reason)
                elif book.usable:
                    book.drop(outcome.reason)
                return False
        return True
    except (Interrupted, KeyboardInterrupt):
        raise
    except OSError as exc:  # a full disk or a permission problem, reported on the book
        book.fail(f"cannot write the cache: {exc}")
    except CacheDamagedError as exc:  # a cached file that does not verify and cannot be rebuilt
        book.fail(str(exc))
    except Exception as exc:
        log.debug("book %s", book.id, exc_info=True)
        book.fail(f"unexpected {type(exc).__name__}: {exc} (rerun with -v for the traceback)")
    ctx.dropped_by = book.dropped_by = "error"
    return False
    # finish() is the caller's: it runs after the last step of the book, wherever that ran


def run_cpu_steps(book: Book, services: CpuServices) -> tuple[Book, BookContext]:
    """The CPU steps for one book, in this process; returns the book and what the steps recorded."""
    ctx = BookContext(services)
    try:
        run_steps(book, CPU_STEPS, ctx)
    finally:
        try:
            ctx.finish()
        except OSError as exc:
            book.fail(f"cannot write the cache: {exc}")
    ctx.services = None  # not sent back
    return book, ctx
