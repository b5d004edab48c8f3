"""Per-book metadata from the RDF file at ``/cache/epub/N/pgN.rdf``."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from ..book import Book, Outcome
from ..errors import FetchError, NotFoundError
from ..fetch.fetcher import Fetcher
from ..fetch.site import GutenbergSite

NS = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dcterms": "http://purl.org/dc/terms/",
    "pgterms": "http://www.gutenberg.org/2009/pgterms/",
}
TEXT_TYPE = "Text"


@dataclass
class Metadata:
    title: str = ""
    authors: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    bookshelves: list[str] = field(default_factory=list)
    media_type: str | None = None


class MetadataError(ValueError):
    pass


def _values(node: ET.Element, path: str) -> list[str]:
    return [" ".join((el.text or "").split()) for el in node.findall(path, NS) if (el.text or "").strip()]


def parse_rdf(data: bytes) -> Metadata:
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise MetadataError(f"RDF does not parse ({exc})") from None
    ebook = root.find("pgterms:ebook", NS)
    if ebook is None:
        raise MetadataError("RDF holds no pgterms:ebook")
    title = _values(ebook, "dcterms:title")
    types = _values(ebook, "dcterms:type/rdf:Description/rdf:value")
    return Metadata(
        title=title[0] if title else "",
        authors=_values(ebook, "dcterms:creator/pgterms:agent/pgterms:name"),
        languages=_values(ebook, "dcterms:language/rdf:Description/rdf:value"),
        bookshelves=_values(ebook, "pgterms:bookshelf/rdf:Description/rdf:value"),
        media_type=types[0] if types else None,
    )


def add_metadata(book: Book, fetcher: Fetcher, site: GutenbergSite) -> str | None:
    """Fill ``book`` from its RDF. A missing (404) or unparsable RDF is not fatal: returns why, and the
    book keeps what the listing gave.

    An RDF that could not be fetched (5xx after every retry, a timeout, a full disk) is another
    matter: the book is not published with the listing's guesses instead. Its last good RDF from
    the cache is used and the book marked stale; with none, the book fails for this run.
    """
    url = site.rdf_url(book.id)
    try:
        fetched = fetcher.fetch(url)
    except NotFoundError:
        return "no RDF metadata (404)"
    except FetchError as exc:
        last_good = fetcher.cached(url)
        if last_good is None:
            book.fail(f"RDF metadata could not be fetched: {exc}")
            return None
        book.stale = "; ".join(filter(None, [book.stale, f"RDF: {exc}"]))
        fetched = last_good
    try:
        meta = parse_rdf(fetched.read_bytes())
    except MetadataError as exc:
        return f"no RDF metadata ({exc})"
    book.has_metadata = True
    book.title = meta.title or book.title
    book.author = "; ".join(meta.authors) or book.author
    book.languages = meta.languages or book.languages
    book.bookshelves = meta.bookshelves or book.bookshelves
    book.media_type = meta.media_type or book.media_type
    return None


def text_only(book: Book) -> Outcome:
    """Keep books whose type is Text, or unknown; drop audio books, images, datasets..."""
    if book.media_type is None or book.media_type == TEXT_TYPE:
        return Outcome.kept()
    return Outcome.dropped(f"not text: {book.media_type}")
