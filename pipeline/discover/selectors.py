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

import re
from dataclasses import dataclass, field
from pathlib import Path

from .authors import books_by_author, read_author, resolve_author_id
from .book import Book
from .catalog import books_on_shelf, parse_catalog
from .errors import ConfigError, EmptySelectionError, FetchError, NotFoundError, SelectorNotFoundError, SourceError
from .fetcher import Fetcher
from .shelves import Shelf, fetch_shelf_index, read_shelf, resolve_shelf, slugify
from .site import MAX_BOOK_ID, GutenbergSite, parse_book_id
from .subjects import books_on_subject, texts_in_language
from .top import PERIODS, parse_top_authors, read_top, top_url

KINDS = ("shelf", "author", "top", "ids", "ids-file", "subject", "language")
CATALOG_ONLY = ("subject", "language")
MAX_TOP = 100
MAX_IDS_IN_NAME = 5
FOLDER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


@dataclass(frozen=True)
class Selector:
    """One selector as the user gave it."""

    kind: str
    """One of KINDS."""
    value: str
    """The shelf, author, count, comma-separated ids, file path, subject or language code, as given."""
    period: int = 1
    """For ``top``: days the Top 100 list counts downloads over (1, 7 or 30)."""

    @property
    def label(self) -> str:
        """How books.csv names the selector: ``shelf:science-fiction``, ``author:wells-h-g``, ``top:100``."""
        if self.kind == "top":
            return f"top:{int(self.value)}" + (f":last{self.period}" if self.period != 1 else "")
        if self.kind == "ids":
            return "ids"
        if self.kind == "ids-file":
            return f"ids-file:{Path(self.value).name}"
        if self.kind == "language":
            return f"language:{self.value.strip().lower().replace(' ', '')}"
        return f"{self.kind}:{slugify(self.value)}"

    def validate(self) -> None:
        value = self.value.strip() if isinstance(self.value, str) else ""
        option = f"--{self.kind}"
        if self.kind not in KINDS:
            raise ConfigError(f"unknown selector {self.kind!r}; use one of {', '.join('--' + k for k in KINDS)}")
        if not value:
            what = "a shelf slug, name or id (list them with `python -m pipeline shelves`)" \
                if self.kind == "shelf" else "a value (see --help)"
            raise ConfigError(f"{option} is empty: give {what}")
        if self.kind == "top":
            if not (value.isascii() and value.isdigit()) or len(value) > 3 or not 1 <= int(value) <= MAX_TOP:
                shown = value if len(value) <= 20 else _shown(value)
                raise ConfigError(f"--top {shown}: give a count from 1 to {MAX_TOP}")
            if self.period not in PERIODS:
                raise ConfigError(f"--top-period {self.period}: give 1, 7 or 30 (days)")
        elif self.kind in ("ids", "ids-file"):
            self.ids()
        elif self.kind == "author" and author_id(value) is None and value.isdigit():
            raise ConfigError(f"--author {_shown(value)}: an author id is ASCII digits from 1 to {MAX_BOOK_ID:,} "
                              f"(the N of /ebooks/author/N); or give the author's name")

    def ids(self) -> list[int]:
        if self.kind == "ids":
            return parse_ids(self.value)
        return read_ids_file(Path(self.value))

    def slug(self) -> str:
        """The folder a corpus of this selector alone is published under (shelves: the shelf's own slug)."""
        if self.kind == "top":
            return f"top-{int(self.value)}" + (f"-last{self.period}" if self.period != 1 else "")
        if self.kind == "ids":
            ids = self.ids()
            if len(ids) > MAX_IDS_IN_NAME:
                raise ConfigError(f"--ids lists {len(ids)} books: name the corpus folder with --name NAME")
            return "ids-" + "-".join(str(i) for i in ids)
        if self.kind == "ids-file":
            return "ids-" + slugify(Path(self.value).stem)
        if self.kind == "author" and author_id(self.value) is not None:
            return f"author-{author_id(self.value)}"
        return f"{self.kind}-{slugify(self.value)}"


def author_id(value: str) -> int | None:
    """The author id an ``--author`` value gives (ASCII digits, 1 to MAX_BOOK_ID), or None for a name."""
    return parse_book_id(value)


def _shown(text: str) -> str:
    """A value for an error line, shortened when absurdly long."""
    return repr(text) if len(text) <= 20 else f"{text[:12]!r}... ({len(text)} characters)"


def parse_ids(text: str) -> list[int]:
    ids = []
    for part in re.split(r"[,\s]+", text.strip()):
        if not part:
            continue
        book_id = parse_book_id(part)
        if book_id is None:
            raise ConfigError(f"--ids: {_shown(part)} is not a book id (ASCII digits, 1 to {MAX_BOOK_ID:,}); "
                              f"give numbers like 84,1342,2701")
        ids.append(book_id)
    if not ids:
        raise ConfigError("--ids is empty: give book ids like 84,1342,2701")
    return list(dict.fromkeys(ids))


def read_ids_file(path: Path) -> list[int]:
    """One book id a line; ``#`` starts a comment; blank lines are ignored."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(f"--ids-file {path}: {reason}; give a text file with one book id a line") from None
    ids = []
    for number, line in enumerate(lines, 1):
        item = line.split("#", 1)[0].strip()
        if not item:
            continue
        book_id = parse_book_id(item)
        if book_id is None:
            raise ConfigError(f"--ids-file {path} line {number}: {_shown(item)} is not a book id (ASCII digits, "
                              f"1 to {MAX_BOOK_ID:,}); write one number a line ('#' starts a comment)")
        ids.append(book_id)
    if not ids:
        raise ConfigError(f"--ids-file {path} holds no book id; write one number a line")
    return list(dict.fromkeys(ids))


def validate_selection(selectors: list[Selector], name: str | None, source: str) -> None:
    """The whole selection, before any request: each selector, the catalog-only ones, the folder name."""
    if not selectors:
        raise ConfigError("give at least one selector: --shelf, --author, --top, --ids, --ids-file, --subject, "
                          "or --language with --source catalog")
    for selector in selectors:
        selector.validate()
        if selector.kind in CATALOG_ONLY and source != "catalog":
            raise ConfigError(f"--{selector.kind} reads the offline catalog: add --source catalog")
    if name is not None and not FOLDER_NAME.match(name):
        raise ConfigError(f"--name {name!r}: use letters, digits, '.', '_' and '-' (not first), "
                          f"like scifi-and-wells")
    if name is None and len(selectors) > 1:
        raise ConfigError(f"{len(selectors)} selectors given: name the corpus folder with --name NAME")
    if name is None and selectors[0].kind != "shelf":
        selectors[0].slug()


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

    def manifest_record(self) -> dict:
        return {"id": self.id, "name": self.name, "slug": self.slug, "selectors": self.labels}


def describe(selector: Selector) -> str:
    if selector.kind == "top":
        days = {1: "yesterday", 7: "last 7 days", 30: "last 30 days"}[selector.period]
        return f"Top {int(selector.value)} ({days})"
    if selector.kind == "ids":
        return f"ids {', '.join(str(i) for i in selector.ids())}"
    return f"{selector.kind} {selector.value.strip()}"


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
