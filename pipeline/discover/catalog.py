"""Discovery from the offline catalog ``/cache/epub/feeds/pg_catalog.csv``, as Gutenberg asks robots to prefer.

One request for the whole catalog instead of a page per 25 books; its Bookshelves column holds
the same shelf names as the reading-list index, separated by semicolons.
"""

from __future__ import annotations

import csv
import io

from ..book import Book, parse_book_id
from ..errors import LayoutChangedError
from .shelves import Shelf, normalise

REQUIRED_COLUMNS = ("Text#", "Type", "Title", "Language", "Authors", "Bookshelves")


def split_list(cell: str | None) -> list[str]:
    return [part.strip() for part in (cell or "").split(";") if part.strip()]


def parse_catalog(data: bytes | str, source: str = "pg_catalog.csv") -> list[Book]:
    """Every row of the catalog as a Book (metadata from the catalog's own columns)."""
    text = data.decode("utf-8-sig", "replace") if isinstance(data, bytes) else data
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise LayoutChangedError(
            f"{source} lacks the column(s) {', '.join(missing)}: the catalog format may have changed; "
            f"use --source shelf meanwhile")
    books = []
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise LayoutChangedError(f"{source} does not parse as CSV ({exc}); use --source shelf meanwhile") from None
    for row in rows:
        book_id = parse_book_id(row.get("Text#") or "")
        if book_id is None:  # a header repeated, a blank line, or an id that is not ASCII digits in range
            continue
        books.append(Book(
            id=book_id,
            title=" ".join((row.get("Title") or "").split()),
            author="; ".join(split_list(row.get("Authors"))),
            languages=split_list(row.get("Language")),
            bookshelves=split_list(row.get("Bookshelves")),
            subjects=split_list(row.get("Subjects")),
            media_type=(row.get("Type") or "").strip() or None,
        ))
    return books


def books_on_shelf(catalog: list[Book], shelf: Shelf) -> list[Book]:
    key = normalise(shelf.name)
    return [b for b in catalog if any(normalise(name) == key for name in b.bookshelves)]
