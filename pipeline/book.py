"""The record that flows through the stages, and the counts a run keeps of what became of each."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

# A book's status after acquisition.
PENDING = "pending"
DOWNLOADED = "downloaded"
NOT_MODIFIED = "not_modified"
SKIPPED = "skipped"
FAILED = "failed"


@dataclass
class Book:
    id: int
    title: str = ""
    author: str = ""
    languages: list[str] = field(default_factory=list)
    """Language codes from the RDF (or the catalog); empty when unknown."""
    bookshelves: list[str] = field(default_factory=list)
    media_type: str | None = None
    """The RDF's dcterms:type (``Text``, ``Sound``...); None when there is no metadata."""
    has_metadata: bool = False
    status: str = PENDING
    reason: str = ""
    """Why the book was skipped or failed."""
    text_url: str | None = None
    raw_path: Path | None = None
    raw_sha256: str | None = None
    raw_size: int = 0
    clean_path: Path | None = None
    """The cleaned UTF-8 text (in the clean cache)."""
    clean_chars: int = 0
    encoding: str | None = None
    """The encoding the raw bytes were decoded with."""
    clean_audit: dict | None = None
    """What the cleaner cut, line by line, and why; and any flags it raised."""

    def skip(self, reason: str) -> None:
        self.status, self.reason = SKIPPED, reason

    def fail(self, reason: str) -> None:
        self.status, self.reason = FAILED, reason


@dataclass(frozen=True)
class Outcome:
    """A filter's verdict on one book: keep it, or drop it with a reason."""

    keep: bool
    reason: str = ""

    @classmethod
    def kept(cls) -> Outcome:
        return cls(True)

    @classmethod
    def dropped(cls, reason: str) -> Outcome:
        return cls(False, reason)


@dataclass
class RunCounts:
    """What became of the books of one run, counted by status and by skip reason."""

    found: int = 0
    by_status: Counter = field(default_factory=Counter)
    skip_reasons: Counter = field(default_factory=Counter)
    bytes_downloaded: int = 0

    def add(self, book: Book) -> None:
        self.by_status[book.status] += 1
        if book.status == SKIPPED:
            self.skip_reasons[book.reason] += 1
        if book.status == DOWNLOADED:
            self.bytes_downloaded += book.raw_size
