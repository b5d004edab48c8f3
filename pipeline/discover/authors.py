"""Discovery of one author's books: the author's pages ``/ebooks/author/ID``, or the catalog's Authors column.

Author pages use the shelf pages' markup (``li.booklink``, a Next link, 25 books a page). A name is
matched loosely, the way people write it: "Wells, H. G.", "H. G. Wells" and the catalog's
"Wells, H. G. (Herbert George), 1866-1946 [Illustrator]" are one author.
"""

from __future__ import annotations

import difflib
import logging
import re

from ..book import Book
from ..errors import SelectorNotFoundError
from ..fetch.fetcher import Fetcher
from ..fetch.site import GutenbergSite
from .shelves import normalise, read_listing
from .top import RankedAuthor

log = logging.getLogger(__name__)

_BRACKETS = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_DATES = re.compile(r"[,\s]*(?:\d{1,4}\??\s*(?:BCE?)?\s*-\s*(?:\d{1,4}\??\s*(?:BCE?)?)?|-\s*\d{1,4}\??)[\s,]*$")


def author_url(site: GutenbergSite, author_id: int, start_index: int = 1) -> str:
    if start_index <= 1:
        return site.url(f"/ebooks/author/{author_id}")
    return site.url(f"/ebooks/author/{author_id}?start_index={start_index}")


def author_keys(name: str) -> set[str]:
    """The forms a name is matched by: without full names in brackets, dates or roles, in either order."""
    base = _DATES.sub("", _BRACKETS.sub(" ", name)).strip(" ,")
    keys = {normalise(base)}
    if "," in base:
        last, first = base.split(",", 1)
        keys.add(normalise(first + last))
    keys.discard("")
    return keys


def same_author(query: str, name: str) -> bool:
    return bool(author_keys(query) & author_keys(name))


def closest_names(names: list[str], query: str, limit: int = 5) -> list[str]:
    """Names near ``query`` for a "did you mean" line: close spellings first, then names containing it."""
    by_key: dict[str, str] = {}
    for name in names:
        for key in author_keys(name):
            by_key.setdefault(key, name)
    wanted = max(author_keys(query) or {normalise(query)}, key=len)
    near = [by_key[k] for k in difflib.get_close_matches(wanted, list(by_key), n=limit * 2, cutoff=0.6)]
    containing = sorted({name for key, name in by_key.items() if wanted and wanted in key}, key=len)
    seen: dict[str, None] = {}
    for name in near + containing:
        seen.setdefault(name)
    return list(seen)[:limit]


def resolve_author_id(authors: list[RankedAuthor], query: str) -> RankedAuthor:
    """The one author the Top 100 authors' lists know by ``query``; SelectorNotFoundError naming the closest."""
    matches = [a for a in authors if same_author(query, a.name)]
    if len({a.id for a in matches}) == 1:
        return matches[0]
    if matches:
        named = ", ".join(f"{a.name!r} (id {a.id})" for a in matches)
        raise SelectorNotFoundError(f"author {query!r} is ambiguous: it matches {named}; pass the id instead")
    closest = closest_names([a.name for a in authors], query)
    hint = f"; closest: {', '.join(repr(n) for n in closest)}" if closest else ""
    raise SelectorNotFoundError(
        f"no author named {query!r} in the site's Top 100 authors{hint}; pass the author's id "
        f"(the N of /ebooks/author/N) or add --source catalog to search every author")


def read_author(fetcher: Fetcher, site: GutenbergSite, author_id: int) -> list[Book]:
    """Every book of every page of the author's listing, in the site's order, each id once."""
    books, total = read_listing(fetcher, author_url(site, author_id), "author page")
    if total is not None and len(books) < total:
        log.warning("author %d claims %d books but the pages list %d", author_id, total, len(books))
    return books


def catalog_authors(catalog: list[Book]) -> list[str]:
    return sorted({name.strip() for book in catalog for name in book.author.split(";") if name.strip()})


def books_by_author(catalog: list[Book], query: str) -> list[Book]:
    """The catalog's books with ``query`` among their authors; SelectorNotFoundError naming the closest."""
    found = [b for b in catalog if any(same_author(query, name) for name in b.author.split(";"))]
    if found:
        return found
    closest = closest_names(catalog_authors(catalog), query)
    hint = f"; closest: {', '.join(repr(n) for n in closest)}" if closest else ""
    raise SelectorNotFoundError(f"no author named {query!r} in the catalog{hint}")
