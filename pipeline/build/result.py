"""What a build did: the result every command reports from, and the manifest's counts and changes."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..book import FAILED, Book, RunCounts, reason_kind
from ..config import SPLIT_NAMES
from ..corpus.versions import PublishedVersion
from ..discover.selectors import Selection
from ..errors import PipelineError


@dataclass
class BuildResult:
    shelf: Selection
    """What the corpus holds: one shelf (as before selectors), or a union of selectors."""
    books: list[Book]
    source: str
    """Where the book list and texts came from, for the summary."""
    corpus_dir: Path
    dry_run: bool = False
    cached_ids: set[int] = field(default_factory=set)
    """In a dry run: the books whose text is already in the download cache (a build only revalidates them)."""
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
    lock_taken_over_from: int | None = None
    """The pid of a crashed run whose lock this run took over (told with the summary, not under -q alone)."""
    """What was wrong with the ``current`` link when the run started, and what it names now."""
    stage_seconds: Counter = field(default_factory=Counter)
    """Seconds spent in each stage; for the per-book steps, summed over the download threads and worker processes."""
    dropped_by_step: Counter = field(default_factory=Counter)
    """Books each per-book step dropped, skipped or failed (``error``: an unexpected error)."""

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


def attach_result(exc: BaseException, result: BuildResult) -> None:
    """Record on an error that stopped a build (a full disk) what the build did until then."""
    exc.build_result = result  # type: ignore[attr-defined]


def result_of(exc: BaseException) -> BuildResult | None:
    """What a build did before ``exc`` stopped it, where the build recorded it (``attach_result``)."""
    return getattr(exc, "build_result", None)


class NothingKeptError(PipelineError):
    """No selected book was kept, so nothing was published; ``result`` says what became of each."""

    def __init__(self, message: str, result: BuildResult):
        super().__init__(message)
        self.result = result


class TooFewBooksError(NothingKeptError):
    """Fewer books were kept than a trainable corpus needs (one each for train, val and test); nothing was
    published (``--allow-empty-splits`` publishes them anyway)."""


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
        "dropped_by_step": dropped_by_step(result.books),
        "splits": result.split_counts(),
    }


def dropped_by_step(books: list[Book]) -> dict[str, dict[str, int]]:
    """Books left out by the step that left them out and the kind of reason: ``{"length filter": {"too short": 4}}``.
    """
    table: dict[str, Counter] = {}
    for book in books:
        if not book.usable:
            kind = "failed" if book.status == FAILED else reason_kind(book.reason)
            table.setdefault(book.dropped_by or "other", Counter())[kind] += 1
    return {step: dict(sorted(kinds.items())) for step, kinds in sorted(table.items())}
