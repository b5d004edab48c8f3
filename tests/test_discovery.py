"""Discovery: the shelf index, shelf resolution, every page of a shelf, the catalog and RDF metadata."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from conftest import fast_http

from pipeline.discover.catalog import books_on_shelf, parse_catalog
from pipeline.discover.metadata import MetadataError, add_metadata, parse_rdf, text_only
from pipeline.discover.shelves import (
    Shelf,
    fetch_shelf_index,
    parse_shelf_index,
    parse_shelf_page,
    read_shelf,
    resolve_shelf,
    search_shelves,
    slugify,
)
from pipeline.errors import LayoutChangedError, ShelfNotFoundError
from pipeline.fetch.cache import RawCache
from pipeline.fetch.client import PoliteClient
from pipeline.fetch.fetcher import Fetcher
from pipeline.fetch.site import GutenbergSite

SF_IDS = {101, 102, 103, 104, 105, 106, 107, 108}


@pytest.fixture
def fetcher(site, tmp_path):
    host = urlsplit(site.base_url).netloc
    return Fetcher(PoliteClient(fast_http(), allowed_hosts={host}, delays={host: 0.0}), RawCache(tmp_path))


@pytest.fixture
def shelves(site, fetcher):
    return fetch_shelf_index(fetcher, GutenbergSite(site.base_url))


def test_the_index_lists_numbered_shelves_only(shelves):
    assert {s.id: s.name for s in shelves} == {68: "Science Fiction", 69: "Science Fiction by Women",
                                               70: "Precursors of Science Fiction", 33: "Humor",
                                               90: "Sea Stories", 91: "Sea-Stories"}


@pytest.mark.parametrize("query", ["science-fiction", "Science Fiction", "68", "  SCIENCE   fiction!",
                                   "science_fiction"])
def test_a_shelf_resolves_by_slug_name_or_id(shelves, query):
    assert resolve_shelf(shelves, query) == Shelf(68, "Science Fiction")


def test_an_unknown_shelf_names_the_closest(shelves):
    with pytest.raises(ShelfNotFoundError) as caught:
        resolve_shelf(shelves, "science fictoin")
    message = str(caught.value)
    assert "'Science Fiction' (id 68)" in message and "\n" not in message
    assert "python -m pipeline shelves" in message


def test_a_partial_name_is_not_guessed_but_suggested(shelves):
    with pytest.raises(ShelfNotFoundError, match="Science Fiction by Women"):
        resolve_shelf(shelves, "women")


def test_an_ambiguous_shelf_asks_for_the_id(shelves):
    with pytest.raises(ShelfNotFoundError, match=r"ambiguous.*'Sea Stories' \(id 90\).*'Sea-Stories' \(id 91\)"):
        resolve_shelf(shelves, "sea stories")


def test_an_unknown_id_is_an_error(shelves):
    with pytest.raises(ShelfNotFoundError, match="no shelf has id 4242"):
        resolve_shelf(shelves, "4242")


def test_search_and_slugs():
    shelves = [Shelf(1, "Science Fiction"), Shelf(2, "Humor"), Shelf(3, "Children's Myths, Fairy Tales, etc.")]
    assert [s.id for s in search_shelves(shelves, "FICTION")] == [1]
    assert slugify("Children's Myths, Fairy Tales, etc.") == "children-s-myths-fairy-tales-etc"
    assert slugify("Science Fiction") == "science-fiction"


def test_every_page_of_a_shelf_is_read(site, fetcher):
    books = read_shelf(fetcher, GutenbergSite(site.base_url), Shelf(68, "Science Fiction"))
    assert {b.id for b in books} == SF_IDS
    assert site.requests_for("/ebooks/bookshelf/68?start_index=5")  # the second page
    first = next(b for b in books if b.id == 101)
    assert (first.title, first.author) == ("The Clockwork Comet", "Ada Vance")
    assert [b.id for b in books][:2] == [101, 102]  # the site's order, by downloads


def test_a_page_claiming_results_without_books_is_a_layout_error(site, fetcher):
    page = site.files["/ebooks/bookshelf/68?start_index=5"].decode()
    site.files["/ebooks/bookshelf/68?start_index=5"] = page.replace('class="booklink"', 'class="book-card"').encode()
    with pytest.raises(LayoutChangedError, match="claims 8 results but holds no book links.*layout may have changed"):
        read_shelf(fetcher, GutenbergSite(site.base_url), Shelf(68, "Science Fiction"))


def test_broken_markup_still_yields_its_books():
    html = ('<html><head><meta name="totalResults" content="2"><body><ul class="results">'
            '<li class="booklink"><a class="link" href="/ebooks/5"><span class="title">Unclosed <b>bold'
            '<li class="booklink"><a class="link" href="/ebooks/6"><span class="title">Second</span>'
            '<span class="subtitle">Someone</span></a></li>')
    page = parse_shelf_page(html, "http://h/ebooks/bookshelf/1")
    assert [b.id for b in page.books] == [5, 6]
    assert page.books[1].author == "Someone"
    assert page.next_url is None


def test_an_empty_shelf_is_empty_not_an_error():
    html = '<html><head><meta name="totalResults" content="0"></head><body><ul class="results"></ul></body></html>'
    assert parse_shelf_page(html, "http://h/ebooks/bookshelf/1").books == []


def test_a_page_without_books_or_count_is_a_layout_error():
    with pytest.raises(LayoutChangedError, match="has no result count"):
        parse_shelf_page("<html><body><p>Maintenance</p></body></html>", "http://h/ebooks/bookshelf/1")


def test_a_next_link_looping_back_stops_the_walk(site, fetcher):
    page2 = "/ebooks/bookshelf/68?start_index=5"
    site.files[page2] = site.files[page2].replace(b"</head>", b'<link rel="next" href="/ebooks/bookshelf/68"/></head>')
    books = read_shelf(fetcher, GutenbergSite(site.base_url), Shelf(68, "Science Fiction"))
    assert {b.id for b in books} == SF_IDS
    assert len(site.requests_for("/ebooks/bookshelf/68")) == 1


def test_the_shelf_index_parser_reads_names_from_titles_or_text():
    html = ('<a href="/ebooks/bookshelf/12" title="Sea &amp; Ships">x</a><a href="/ebooks/bookshelf/13">Humour</a>'
            '<a href="/ebooks/bookshelf/emmys">Picks</a><a href="https://www.gutenberg.org/ebooks/bookshelf/14/">Art</a>')
    assert parse_shelf_index(html) == [Shelf(14, "Art"), Shelf(13, "Humour"), Shelf(12, "Sea & Ships")]


def test_the_catalog_gives_the_same_books_as_the_shelf_pages(site, fetcher):
    catalog = parse_catalog(fetcher.fetch(site.base_url + "/cache/epub/feeds/pg_catalog.csv").read_bytes())
    on_shelf = books_on_shelf(catalog, Shelf(68, "Science Fiction"))
    assert {b.id for b in on_shelf} == SF_IDS
    sound = next(b for b in on_shelf if b.id == 105)
    assert sound.media_type == "Sound" and sound.languages == ["en"]


def test_a_catalog_without_its_columns_is_a_layout_error():
    with pytest.raises(LayoutChangedError, match="lacks the column"):
        parse_catalog(b"id,name\n1,x\n")


def test_catalog_cells_with_newlines_and_lists_parse():
    data = ('Text#,Type,Issued,Title,Language,Authors,Subjects,LoCC,Bookshelves\n'
            '7,Text,2000-01-01,"Two\nLines",en; fr,"A, B; C, D",S,P,"Science Fiction; Browsing: Fiction"\n')
    [book] = parse_catalog(data.encode())
    assert (book.title, book.languages, book.author) == ("Two Lines", ["en", "fr"], "A, B; C, D")
    assert book.bookshelves == ["Science Fiction", "Browsing: Fiction"]


def test_rdf_metadata_fills_the_book(site, fetcher):
    from pipeline.book import Book

    book = Book(102, title="listing title")
    assert add_metadata(book, fetcher, GutenbergSite(site.base_url)) is None
    assert (book.title, book.author, book.languages, book.media_type) == (
        "Voyage to the Ice Moon", "Marchetti, Hélène", ["en"], "Text")
    assert book.bookshelves == ["Science Fiction"]


def test_a_missing_rdf_is_a_note_not_a_failure(site, fetcher):
    from pipeline.book import Book

    book = Book(104, title="The Silent Orbit", author="James Okafor")
    assert add_metadata(book, fetcher, GutenbergSite(site.base_url)) == "no RDF metadata (404)"
    assert book.title == "The Silent Orbit" and not book.has_metadata
    assert text_only(book).keep


def test_non_text_types_are_dropped_with_a_reason(site, fetcher):
    from pipeline.book import Book

    book = Book(105)
    add_metadata(book, fetcher, GutenbergSite(site.base_url))
    outcome = text_only(book)
    assert not outcome.keep and outcome.reason == "not text: Sound"


def test_a_broken_rdf_is_reported():
    with pytest.raises(MetadataError, match="does not parse"):
        parse_rdf(b"<rdf:RDF")
