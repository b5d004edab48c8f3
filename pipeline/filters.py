"""The per-book filters of the corpus stage: each returns keep, or drop with a reason."""

from __future__ import annotations

from .book import Book, Outcome
from .config import CorpusConfig


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
