"""The per-book filters of the corpus stage: each returns keep, or drop with a reason."""

from __future__ import annotations

from ..book import Book, Outcome
from ..config import CorpusConfig

MAX_NUL_SHARE = 0.001
"""More NUL characters than this share of a cleaned text: it was a binary file (no book holds NULs)."""
MAX_CONTROL_SHARE = 0.05
"""More control characters than this (tab, newlines and form feed are not counted): binary too."""


def binary_filter(book: Book, config: CorpusConfig) -> Outcome:
    """Drop a "text" that is really binary (an image, an archive, UTF-16 without its BOM...)."""
    size = max(1, book.clean_chars)
    if book.nul_chars / size > MAX_NUL_SHARE:
        return Outcome.dropped(f"binary: {book.nul_chars:,} NUL characters in {book.clean_chars:,}")
    if book.control_chars / size > MAX_CONTROL_SHARE:
        return Outcome.dropped(f"binary: {book.control_chars / size:.0%} control characters")
    return Outcome.kept()


def language_filter(book: Book, config: CorpusConfig) -> Outcome:
    if book.language_share >= config.min_language_share:
        return Outcome.kept()
    wanted = "+".join(config.languages)
    return Outcome.dropped(f"language: detected {book.language_detected}, {wanted} only "
                           f"{book.language_share:.0%} (needs {config.min_language_share:.0%})")


def length_filter(book: Book, config: CorpusConfig) -> Outcome:
    if book.words >= config.min_words:
        return Outcome.kept()
    return Outcome.dropped(f"too short: {book.words:,} words (needs {config.min_words:,})")
