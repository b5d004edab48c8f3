"""Which books a corpus holds: the union of one or more selectors, and the corpus folder's name.

    --shelf SHELF            a bookshelf (pages, or the catalog's Bookshelves column)
    --author NAME|ID         an author's books (/ebooks/author/ID, or the catalog's Authors column)
    --top N                  the Top 100 page's N most downloaded books (yesterday, 7 or 30 days)
    --ids 1,2 / --ids-file   hand-picked book ids
    --subject HEADING        a catalog subject heading (--source catalog)
    --language CODE          every text in the language (--source catalog, when no other selector is given)

Each book is listed once, with every selector that brought it in (``Book.selected_by``, written to
books.csv). One selector names the folder itself (``top-100``, ``author-wells-h-g``); several need
``--name``. Resolving names (an author, a subject, a shelf) happens before the corpus lock, so a
typo is one line and nothing else; listing the books happens under it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..book import Book
from ..errors import ConfigError, EmptySelectionError, FetchError, NotFoundError, SelectorNotFoundError, SourceError
from ..fetch.fetcher import Fetcher
from ..fetch.site import GutenbergSite
from ..selection import Selector, author_id, describe
from .authors import books_by_author, read_author, resolve_author_id
from .catalog import books_on_shelf, parse_catalog
from .shelves import Shelf, fetch_shelf_index, read_shelf, resolve_shelf
from .subjects import books_on_subject, texts_in_language
from .top import parse_top_authors, read_top, top_url


@dataclass
class Selection:
    """The resolved selection: what the summary and the manifest call the corpus, and its folder."""

    name: str
    """For people: the shelf's name, "author Wells, H. G.", "Top 100 (yesterday)"..."""
    slug: str
    """The corpus folder under OUT."""
    id: int | None = None
    """The shelf's id, for a corpus of one shelf (as before selectors); else None."""
    selectors: list[Selector] = field(default_factory=list)
    resolved: list = field(default_factory=list)
    """Per selector: the Shelf, or the author's id, or None (nothing to resolve)."""

    @property
    def labels(self) -> list[str]:
        return [s.label for s in self.selectors]

    @property
    def described(self) -> str:
        """For messages: ``shelf 'Science Fiction'``, ``ids 35, 36``, ``Top 20 (yesterday)``, a ``--name``."""
        return f"shelf {self.name!r}" if self.id is not None else self.name

    def manifest_record(self) -> dict:
        return {"id": self.id, "name": self.name, "slug": self.slug, "selectors": self.labels}


class Discovery:
    """Resolves selectors against one site (and its catalog) and lists their books."""

    def __init__(self, fetcher: Fetcher, site: GutenbergSite, source: str = "shelf"):
        self.fetcher, self.site, self.source = fetcher, site, source
        self._catalog: list[Book] | None = None
        self._shelves: list[Shelf] | None = None

    def catalog(self) -> list[Book]:
        if self._catalog is None:
            url = self.site.catalog_url
            self._catalog = parse_catalog(self._read(url, "the catalog"), url)
        return self._catalog

    def shelves(self) -> list[Shelf]:
        if self._shelves is None:
            try:
                self._shelves = fetch_shelf_index(self.fetcher, self.site)
            except FetchError as exc:
                raise SourceError(f"cannot read the shelf index at {self.site.shelf_index_url}: {exc}; "
                                  f"check --base-url and the connection") from None
        return self._shelves

    def _read(self, url: str, what: str) -> bytes:
        try:
            return self.fetcher.fetch(url).read_bytes()
        except FetchError as exc:
            raise SourceError(f"cannot read {what} at {url}: {exc}; check --base-url and the connection") from None

    def resolve(self, selectors: list[Selector], name: str | None = None) -> Selection:
        """Names to ids (one line naming the closest matches when one is unknown) and the corpus folder."""
        resolved = [self._resolve_one(s) for s in selectors]
        if len(selectors) == 1 and selectors[0].kind == "shelf" and name is None:
            shelf = resolved[0]
            return Selection(shelf.name, shelf.slug, shelf.id, list(selectors), resolved)
        if name is None:
            selector = selectors[0]
            slug = resolved[0].slug if selector.kind == "shelf" else selector.slug()
            return Selection(describe(selector), slug, None, list(selectors), resolved)
        return Selection(name, name, None, list(selectors), resolved)

    def _resolve_one(self, selector: Selector):
        value = selector.value.strip()
        if selector.kind == "shelf":
            return resolve_shelf(self.shelves(), value)
        if selector.kind == "author" and author_id(value) is None:
            if self.source == "catalog":
                books_by_author(self.catalog(), value)  # fails now, naming the closest, if nobody matches
                return None
            page = self._read(top_url(self.site), "the Top 100 page").decode("utf-8", "replace")
            return resolve_author_id(parse_top_authors(page, top_url(self.site)), value).id
        if selector.kind == "subject":
            books_on_subject(self.catalog(), value)
        return None

    def list_books(self, selection: Selection) -> list[Book]:
        """The union of every selector's books, in the order first met, each listing who selected it."""
        union: dict[int, Book] = {}
        for selector, resolved in zip(selection.selectors, selection.resolved):
            books = self._list_one(selector, resolved)
            for book in books:
                kept = union.setdefault(book.id, book)
                if selector.label not in kept.selected_by:
                    kept.selected_by.append(selector.label)
        if not union:
            what = " + ".join(describe(s) for s in selection.selectors)
            raise EmptySelectionError(f"{what} lists no books; nothing was built")
        return list(union.values())

    def _list_one(self, selector: Selector, resolved) -> list[Book]:
        value = selector.value.strip()
        try:
            if selector.kind == "shelf":
                if self.source == "catalog":
                    return _copies(books_on_shelf(self.catalog(), resolved))
                return read_shelf(self.fetcher, self.site, resolved)
            if selector.kind == "author":
                number = author_id(value)
                if number is not None:
                    try:
                        return read_author(self.fetcher, self.site, number)
                    except NotFoundError:
                        raise SelectorNotFoundError(
                            f"no author has id {number} (/ebooks/author/{number} is not found); "
                            f"give the N of an author's page /ebooks/author/N, or the author's name") from None
                if resolved is not None:
                    return read_author(self.fetcher, self.site, resolved)
                return _copies(books_by_author(self.catalog(), value))
            if selector.kind == "top":
                return read_top(self.fetcher, self.site, int(value), selector.period)
            if selector.kind in ("ids", "ids-file"):
                return [Book(id=i) for i in selector.ids()]
            if selector.kind == "subject":
                return _copies(books_on_subject(self.catalog(), value))
            if selector.kind == "language":
                return _copies(texts_in_language(self.catalog(), value))
        except FetchError as exc:
            raise SourceError(f"cannot list the books of {describe(selector)}: {exc}") from None
        raise ConfigError(f"unknown selector {selector.kind!r}")


def _copies(books: list[Book]) -> list[Book]:
    """Fresh Book records, so two selectors sharing the cached catalog never share a book's state."""
    return [Book(id=b.id, title=b.title, author=b.author, languages=list(b.languages),
                 bookshelves=list(b.bookshelves), subjects=list(b.subjects), media_type=b.media_type)
            for b in books]
