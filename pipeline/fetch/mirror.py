"""Gutenberg's rsync mirror layout: book 12345's files sit in ``1/2/3/4/12345/``.

Each digit but the last names a folder, then a folder named for the id; one-digit ids sit under
``0/`` (book 5 is in ``0/5/``). Text files are ``N-0.txt`` (UTF-8), ``N-8.txt`` (8-bit) and
``N.txt`` (ASCII), best first.
"""

from __future__ import annotations

from pathlib import Path


def book_dir(book_id: int) -> str:
    digits = str(book_id)
    parents = list(digits[:-1]) or ["0"]
    return "/".join([*parents, digits])


def text_paths(book_id: int) -> list[str]:
    folder = book_dir(book_id)
    return [f"{folder}/{book_id}-0.txt", f"{folder}/{book_id}-8.txt", f"{folder}/{book_id}.txt"]


def text_locations(mirror: str, book_id: int, *, is_url: bool) -> list[str]:
    """Candidate URLs (for a mirror URL) or file paths (for a mirror directory), best first."""
    if is_url:
        return [mirror.rstrip("/") + "/" + p for p in text_paths(book_id)]
    return [str(Path(mirror) / p) for p in text_paths(book_id)]
