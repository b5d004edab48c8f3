"""Discovery from the "Top 100" page, ``/browse/scores/top``.

The page has six ranked lists, each an ``<ol>`` after a heading: ``h2#books-last1``, ``#books-last7``,
``#books-last30`` (books downloaded most yesterday, in the last 7 and 30 days: ``li > a[href=/ebooks/N]``
reading "Title by Author (downloads)") and the same three for authors (``a[href=/ebooks/author/ID]``
reading "Name (downloads)").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bs4 import BeautifulSoup

from ..book import Book, parse_book_id
from ..errors import LayoutChangedError
from ..fetch.fetcher import Fetcher
from ..fetch.site import GutenbergSite
from ..selection import PERIODS

TOP_PATH = "/browse/scores/top"
"""Days a Top 100 list counts downloads over."""
# \d matches any script's digits here (١٢٣ too), so such links are seen, then refused by parse_book_id
BOOK_HREF = re.compile(r"^(?:https?://[^/]+)?/ebooks/(\d+)/?$")
AUTHOR_HREF = re.compile(r"^(?:https?://[^/]+)?/ebooks/author/(\d+)/?$")
DOWNLOADS = re.compile(r"\s*\((\d[\d,]*)\)\s*$")


@dataclass(frozen=True)
class RankedAuthor:
    id: int
    name: str
    """As the page writes it: "Wells, H. G. (Herbert George)"."""


def top_url(site: GutenbergSite) -> str:
    return site.url(TOP_PATH)


def _section(soup: BeautifulSoup, anchor: str, url: str):
    heading = soup.find(id=anchor)
    listing = heading.find_next("ol") if heading is not None else None
    if listing is None:
        raise LayoutChangedError(f"{url} has no list under #{anchor}: the Top 100 page's layout may have changed; "
                                 f"please report it")
    return listing


def parse_top_books(html: str | bytes, url: str, period: int = 1) -> list[Book]:
    """The ranked books of one period's list, most downloaded first, each id once."""
    soup = BeautifulSoup(html, "html.parser")
    books: dict[int, Book] = {}
    for link in _section(soup, f"books-last{period}", url).select("li > a[href]"):
        match = BOOK_HREF.match(link["href"])
        book_id = parse_book_id(match.group(1)) if match else None
        if book_id is None:
            continue
        label = DOWNLOADS.sub("", link.get_text(" ", strip=True))
        title, _, author = label.rpartition(" by ")
        books.setdefault(book_id, Book(id=book_id, title=title or label, author=author))
    return list(books.values())


def parse_top_authors(html: str | bytes, url: str) -> list[RankedAuthor]:
    """Every author named in the three authors' lists, each id once."""
    soup = BeautifulSoup(html, "html.parser")
    authors: dict[int, RankedAuthor] = {}
    for period in PERIODS:
        heading = soup.find(id=f"authors-last{period}")
        listing = heading.find_next("ol") if heading is not None else None
        for link in listing.select("li > a[href]") if listing is not None else []:
            match = AUTHOR_HREF.match(link["href"])
            number = parse_book_id(match.group(1)) if match else None  # author ids follow the book ids' rule
            if number is not None:
                name = DOWNLOADS.sub("", link.get_text(" ", strip=True))
                authors.setdefault(number, RankedAuthor(number, name))
    return list(authors.values())


def read_top_page(fetcher: Fetcher, site: GutenbergSite) -> str:
    return fetcher.fetch(top_url(site)).read_bytes().decode("utf-8", "replace")


def read_top(fetcher: Fetcher, site: GutenbergSite, count: int, period: int = 1) -> list[Book]:
    """The ``count`` most downloaded books of the period (fewer when the list is shorter)."""
    url = top_url(site)
    return parse_top_books(read_top_page(fetcher, site), url, period)[:count]
