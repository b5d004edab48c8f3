"""Discovery: find a bookshelf in the reading-list index, then read every page of it."""

from __future__ import annotations

import difflib
import logging
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urljoin, urlsplit

from bs4 import BeautifulSoup

from ..book import Book, parse_book_id
from ..errors import EmptyShelfError, LayoutChangedError, ShelfNotFoundError, SourceError
from ..fetch.fetcher import Fetcher
from ..fetch.site import GutenbergSite
from ..selection import slugify

log = logging.getLogger(__name__)

# \d matches any script's digits here (١٢٣ too), so such links are seen, then refused by parse_book_id
SHELF_HREF = re.compile(r"^(?:https?://[^/]+)?/ebooks/bookshelf/(\d+)/?$")
BOOK_HREF = re.compile(r"^(?:https?://[^/]+)?/ebooks/(\d+)/?$")
NEXT_QUERY = re.compile(r"start_index=([0-9]{1,7})", re.ASCII)
EMPTY_SHELF = "No books on this shelf"
MAX_PAGES = 2_000
"""Pages read of one listing whatever it claims: Gutenberg's largest shelves fill a few hundred."""
PAGE_MARGIN = 2
"""Pages read beyond what the listing's result count implies (a count that lags the pages)."""


@dataclass(frozen=True)
class Shelf:
    id: int
    name: str

    @property
    def slug(self) -> str:
        return slugify(self.name)


def normalise(text: str) -> str:
    """What shelf matching compares: case, punctuation and spacing ignored."""
    return re.sub(r"[\W_]+", "", text.casefold())


def parse_shelf_index(html: str | bytes) -> list[Shelf]:
    """Every shelf linked from the reading-list index, by id."""
    soup = BeautifulSoup(html, "html.parser")
    shelves: dict[int, Shelf] = {}
    for link in soup.find_all("a", href=True):
        match = SHELF_HREF.match(link["href"])
        if not match:
            continue
        name = " ".join((link.get("title") or link.get_text(" ", strip=True)).split())
        shelf_id = parse_book_id(match.group(1))  # shelf ids follow the same rule as book ids
        if name and shelf_id is not None and shelf_id not in shelves:
            shelves[shelf_id] = Shelf(shelf_id, name)
    return sorted(shelves.values(), key=lambda s: s.name.casefold())


def resolve_shelf(shelves: list[Shelf], query: str) -> Shelf:
    """The one shelf a slug, name or id names; ShelfNotFoundError naming the closest otherwise."""
    query = query.strip()
    if query.isascii() and query.isdigit():
        wanted = parse_book_id(query)  # None for 5,000 digits: no shelf has such an id
        for shelf in shelves:
            if shelf.id == wanted:
                return shelf
        shown = query if len(query) <= 12 else f"{query[:12]}... ({len(query)} digits)"
        raise ShelfNotFoundError(f"no shelf has id {shown}; list the shelves with `python -m pipeline shelves`")
    key = normalise(query)
    matches = [s for s in shelves if normalise(s.name) == key]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        named = ", ".join(f"{s.name!r} (id {s.id})" for s in matches)
        raise ShelfNotFoundError(f"shelf {query!r} is ambiguous: it matches {named}; pass the id instead")
    closest = closest_shelves(shelves, query)
    hint = f"; closest: {', '.join(f'{s.name!r} (id {s.id})' for s in closest)}" if closest else ""
    raise ShelfNotFoundError(
        f"no shelf matches {query!r}{hint}; list them with `python -m pipeline shelves --search WORD`")


def closest_shelves(shelves: list[Shelf], query: str, limit: int = 5) -> list[Shelf]:
    key = normalise(query)
    by_key = {normalise(s.name): s for s in shelves}
    near = [by_key[k] for k in difflib.get_close_matches(key, list(by_key), n=limit, cutoff=0.6)]
    containing = [s for s in shelves if key and (key in normalise(s.name) or normalise(s.name) in key)]
    seen: dict[int, Shelf] = {}
    for shelf in near + sorted(containing, key=lambda s: len(s.name)):
        seen.setdefault(shelf.id, shelf)
    return list(seen.values())[:limit]


def search_shelves(shelves: list[Shelf], word: str | None) -> list[Shelf]:
    if not word:
        return shelves
    key = normalise(word)
    return [s for s in shelves if key in normalise(s.name)]


@dataclass
class ShelfPage:
    books: list[Book]
    next_url: str | None
    total: int | None
    empty: bool = False
    """The page says the shelf holds no books ("No books on this shelf.")."""


def parse_shelf_page(html: str | bytes, url: str) -> ShelfPage:
    """The books of one shelf page, its Next link and the result count it claims.

    The Next link is followed only to another page of the same shelf: its URL is rebuilt from
    ``url`` and the link's ``start_index``, so nothing else of what the page says is requested.
    """
    soup = BeautifulSoup(html, "html.parser")
    books: list[Book] = []
    bad_ids = 0
    for item in soup.select("li.booklink"):
        link = item.find("a", href=True)
        match = BOOK_HREF.match(link["href"]) if link else None
        if not match:
            continue
        book_id = parse_book_id(match.group(1))
        if book_id is None:
            bad_ids += 1
            continue
        title = item.select_one(".title")
        author = item.select_one(".subtitle")
        books.append(Book(id=book_id,
                          title=title.get_text(" ", strip=True) if title else "",
                          author=author.get_text(" ", strip=True) if author else ""))
    if bad_ids:
        log.warning("%s: ignored %d book link(s) whose id is not a book id (ASCII digits, 1 to 9,999,999)",
                    url, bad_ids)
    total_meta = soup.find("meta", attrs={"name": "totalResults"})
    total = None
    count = str(total_meta.get("content", "")).strip() if total_meta else ""
    if count.isascii() and count.isdigit() and len(count) <= 9:
        total = int(count)
    next_link = soup.find("link", rel="next", href=True) or soup.find(
        "a", href=True, string=lambda s: bool(s) and s.strip().lower() == "next")
    next_url = next_page_url(url, next_link["href"]) if next_link else None
    if not books and not bad_ids and EMPTY_SHELF.casefold() in soup.get_text(" ", strip=True).casefold():
        return ShelfPage([], None, 0, empty=True)
    if not books and (total or total is None):
        claim = f"claims {total} results" if total else "has no result count"
        raise LayoutChangedError(
            f"{url} {claim} but holds no book links (li.booklink a[href=/ebooks/N]): the page layout may "
            f"have changed; use --source catalog meanwhile, and please report it")
    return ShelfPage(books, next_url, total)


def next_page_url(url: str, href: str) -> str | None:
    """The URL of the shelf page a Next link names, rebuilt from ``url``; None (with a warning) when the
    link leads anywhere but another page of the same shelf."""
    try:
        target = urlsplit(urljoin(url, href))
    except ValueError:
        target = None
    here = urlsplit(url)
    query = NEXT_QUERY.fullmatch(target.query) if target is not None else None
    if (target is None or query is None or not href.isascii() or "\\" in href or "%" in href
            or (target.scheme, target.netloc.lower(), target.path.rstrip("/"))
            != (here.scheme, here.netloc.lower(), here.path.rstrip("/"))):
        log.warning("%s: ignored its Next link %s: it does not lead to another page of this shelf",
                    url, ascii(href)[:200])
        return None
    return f"{here.scheme}://{here.netloc}{here.path}?start_index={int(query.group(1))}"


def read_shelf(fetcher: Fetcher, site: GutenbergSite, shelf: Shelf) -> list[Book]:
    """Every book of every page of ``shelf``, in the site's order, each id once."""
    def empty() -> None:
        raise EmptyShelfError(f"shelf {shelf.name!r} (id {shelf.id}) is empty: its page says "
                              f"\"No books on this shelf.\"; nothing was built")

    books, total = read_listing(fetcher, site.shelf_url(shelf.id), "shelf page", on_empty=empty)
    if total is not None and len(books) < total:
        log.warning("shelf %r claims %d books but its pages list %d", shelf.name, total, len(books))
    return books


def read_listing(fetcher: Fetcher, url: str | None, what: str, on_empty=None) -> tuple[list[Book], int | None]:
    """Every book of a paged listing (a shelf's or an author's), each id once, and the count it claims.

    Next links are followed until one of these says stop, so a site whose every page links to another
    cannot keep a build reading for ever: a page already read; a page that adds no book not already
    listed; more pages than the claimed count needs (at the first page's size) plus a margin; and
    ``MAX_PAGES`` in any case. Each stop but the last page's is one warning.
    """
    books: dict[int, Book] = {}
    seen_pages: set[str] = set()
    total = per_page = None
    while url:
        if len(seen_pages) >= MAX_PAGES:
            log.warning("%s %s: read %d pages, the most any listing may take; stopping there", what, url, MAX_PAGES)
            break
        if total is not None and per_page and len(seen_pages) >= -(-total // per_page) + PAGE_MARGIN:
            log.warning("%s %s: the listing claims %d results, %d a page, and %d pages were read already; "
                        "stopping there", what, url, total, per_page, len(seen_pages))
            break
        page_key = _page_key(url)
        if page_key in seen_pages:
            log.warning("%s %s links back to a page already read; stopping there", what, url)
            break
        seen_pages.add(page_key)
        page = parse_shelf_page(_text(fetcher.fetch(url).read_bytes()), url)
        if page.empty and not books and on_empty is not None:
            on_empty()
        total = page.total if page.total is not None else total
        per_page = per_page or len(page.books)
        new = [book for book in page.books if book.id not in books]
        if page.books and not new and len(seen_pages) > 1:
            log.warning("%s %s lists only books of earlier pages; stopping there", what, url)
            break
        for book in new:
            books[book.id] = book
        url = page.next_url
    return list(books.values()), total


def fetch_shelf_index(fetcher: Fetcher, site: GutenbergSite) -> list[Shelf]:
    url = site.shelf_index_url
    shelves = parse_shelf_index(_text(fetcher.fetch(url).read_bytes()))
    if not shelves:
        raise SourceError(f"{url} lists no bookshelves: is --base-url a site with Gutenberg's layout?")
    return shelves


def _page_key(url: str) -> str:
    parts = urlsplit(url)
    start = parse_qs(parts.query).get("start_index", ["1"])[0]
    return f"{parts.path.rstrip('/')}?{start}"


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")
