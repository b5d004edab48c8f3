"""Discovery from the catalog's Subjects and Language columns: every book on a subject, every text in a language.

A subject matches a heading whole ("Science fiction") or as the main heading of a subdivided one
("Time travel" matches "Time travel -- Fiction"); case, punctuation and spacing are ignored.
"""

from __future__ import annotations

import difflib
from collections import Counter

from ..book import Book
from ..errors import SelectorNotFoundError
from .metadata import TEXT_TYPE
from .shelves import normalise


def heading_keys(heading: str) -> set[str]:
    return {normalise(heading), normalise(heading.split(" -- ", 1)[0])}


def books_on_subject(catalog: list[Book], subject: str) -> list[Book]:
    """The catalog's books filed under ``subject``; SelectorNotFoundError naming the closest headings."""
    key = normalise(subject)
    found = [b for b in catalog if any(key in heading_keys(h) for h in b.subjects)]
    if found:
        return found
    counts = Counter(h for b in catalog for h in b.subjects)
    by_key = {normalise(h): h for h, _ in counts.most_common()}
    near = [by_key[k] for k in difflib.get_close_matches(key, list(by_key), n=5, cutoff=0.6)]
    containing = sorted((h for k, h in by_key.items() if key and key in k), key=lambda h: -counts[h])
    closest = list(dict.fromkeys(near + containing))[:5]
    hint = f"; closest: {', '.join(repr(h) for h in closest)}" if closest else ""
    raise SelectorNotFoundError(f"no subject {subject!r} in the catalog{hint}")


def texts_in_language(catalog: list[Book], codes: str) -> list[Book]:
    """Every text of the catalog in one of ``codes`` ("en" or "en,fr"); audio books, images... left out."""
    wanted = {code.strip().lower() for code in codes.split(",") if code.strip()}
    return [b for b in catalog if wanted & {lang.lower() for lang in b.languages}
            and (b.media_type is None or b.media_type == TEXT_TYPE)]
