"""Per-book metadata from the RDF file at ``/cache/epub/N/pgN.rdf``."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from .book import Book, Outcome
from .errors import FetchError, NotFoundError
from .fetcher import Fetcher
from .site import GutenbergSite

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
    """Fill ``book`` from its RDF. A missing or broken RDF is not fatal: returns why, keeps what the listing gave."""
    url = site.rdf_url(book.id)
    try:
        meta = parse_rdf(fetcher.fetch(url).read_bytes())
    except NotFoundError:
        return "no RDF metadata (404)"
    except (FetchError, MetadataError) as exc:
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
