"""The record that flows through the stages, and the counts a run keeps of what became of each."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

MAX_BOOK_ID = 9_999_999
"""Gutenberg's ids are under 100,000; anything past seven digits is not a book id but a hostile page."""
_ASCII_ID = re.compile(r"[0-9]{1,7}")


def parse_book_id(text: str) -> int | None:
    """A book id from text: ASCII digits only (``١٢٣`` is not 123), from 1 to MAX_BOOK_ID; else None."""
    text = text.strip()
    if not _ASCII_ID.fullmatch(text):
        return None
    number = int(text)
    return number if 1 <= number <= MAX_BOOK_ID else None


# A book's status after acquisition.
PENDING = "pending"
DOWNLOADED = "downloaded"
NOT_MODIFIED = "not_modified"
SKIPPED = "skipped"
FAILED = "failed"
DROPPED = "dropped"
"""Fetched and cleaned, then left out of the corpus by a filter (language, length, duplicate)."""


@dataclass
class Book:
    id: int
    title: str = ""
    author: str = ""
    languages: list[str] = field(default_factory=list)
    """Language codes from the RDF (or the catalog); empty when unknown."""
    bookshelves: list[str] = field(default_factory=list)
    subjects: list[str] = field(default_factory=list)
    """Subject headings from the catalog ("Science fiction", "Time travel -- Fiction"); empty when unknown."""
    selected_by: list[str] = field(default_factory=list)
    """The selectors that brought the book into the corpus (``shelf:science-fiction``, ``top:100``...)."""
    media_type: str | None = None
    """The RDF's dcterms:type (``Text``, ``Sound``...); None when there is no metadata."""
    has_metadata: bool = False
    status: str = PENDING
    fetched: str = ""
    """DOWNLOADED or NOT_MODIFIED once the text is in the cache; kept when a filter later drops the book."""
    reason: str = ""
    """Why the book was skipped or failed."""
    dropped_by: str = ""
    """The step that skipped, failed or dropped the book (``duplicates`` for a duplicate edition), for the
    dataset card's drops by step; empty for a kept book."""
    text_url: str | None = None
    stale: str = ""
    """Why this run could not refresh the text; the last good copy from the cache was used."""
    raw_path: Path | None = None
    raw_sha256: str | None = None
    raw_size: int = 0
    clean_path: Path | None = None
    """The cleaned UTF-8 text (in the clean cache)."""
    clean_chars: int = 0
    clean_sha256: str = ""
    """sha256 of the cleaned text (UTF-8) as the clean cache recorded it; every read is checked against it."""
    control_chars: int = 0
    """Control characters (NUL included) in the cleaned text: many of them mean the file was binary."""
    nul_chars: int = 0
    encoding: str | None = None
    """The encoding the raw bytes were decoded with."""
    clean_audit: dict | None = None
    """What the cleaner cut, line by line, and why; and any flags it raised."""
    clean_key: str = ""
    """Identifies the cleaned text (raw sha256, cleaner version, options): the key of its analysis."""
    language_detected: str = ""
    language_share: float = 0.0
    """The share of the book's sample chunks in a wanted language."""
    language_disagrees: bool = False
    """The metadata names other languages than the one detected."""
    passages_removed: list = field(default_factory=list)
    """(start, end, language) of the foreign passages the passage filter cut from the cleaned text."""
    chars: int = 0
    """Characters of the text that goes into the corpus."""
    words: int = 0
    sha256: str = ""
    """sha256 of the text that goes into the corpus (UTF-8)."""
    fingerprint: str = ""
    """sha256 of the normalised text, equal for exact duplicates."""
    signature: object = None
    """MinHash signature (numpy uint64 array), for near-duplicate detection."""
    kept_id: int | None = None
    """For a dropped duplicate, the id of the copy kept."""
    split: str = ""
    split_key: int | None = None
    """The id the split is derived from: the book's own, or its work's first kept edition's."""

    def skip(self, reason: str) -> None:
        self.status, self.reason = SKIPPED, reason

    def fail(self, reason: str) -> None:
        self.status, self.reason = FAILED, reason

    def drop(self, reason: str) -> None:
        self.status, self.reason = DROPPED, reason

    @property
    def usable(self) -> bool:
        """Fetched and cleaned, and no filter has dropped it (yet)."""
        return self.status in (DOWNLOADED, NOT_MODIFIED)


def reason_kind(reason: str) -> str:
    """The category of a drop reason, for counting: "language: fr (0.98)" → "language"."""
    head = reason.split(":", 1)[0] if ":" in reason else reason
    return head.split("(", 1)[0].strip() or "unknown"


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
    """What became of the books of one run: fetched or not, skipped by reason, dropped by reason."""

    found: int = 0
    by_status: Counter = field(default_factory=Counter)
    """DOWNLOADED, NOT_MODIFIED (fetch states), SKIPPED, FAILED."""
    skip_reasons: Counter = field(default_factory=Counter)
    drop_reasons: Counter = field(default_factory=Counter)
    """Every book left out of the corpus (skipped, failed, filtered), by reason kind."""
    bytes_downloaded: int = 0

    def add(self, book: Book) -> None:
        if book.fetched:
            self.by_status[book.fetched] += 1
        if book.status in (SKIPPED, FAILED):
            self.by_status[book.status] += 1
        if book.status == SKIPPED:
            self.skip_reasons[book.reason] += 1
        if book.fetched == DOWNLOADED:
            self.bytes_downloaded += book.raw_size
